import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { TOKEN_EXCHANGE_PATH } from "../contract/tunnels-api";
import { RETRY_BUDGET, type RetryBudget } from "./retry-budget";
import { FakeRetryClock } from "../../test/support/test-clock";
import { Transport } from "./transport";

const servers: Server[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A stand-in token endpoint on port 0 answering request n (from 0) with `answer(n)`. */
async function endpoint(answer: (n: number, request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; count: () => number }> {
  let served = 0;
  const server = createServer((request, response) => {
    const n = served++;
    request.resume();
    request.on("end", () => answer(n, request, response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, count: () => served };
}

function transportWith(clock: FakeRetryClock, budget: RetryBudget = RETRY_BUDGET): Transport {
  const transport = new Transport({ timeoutMs: 5_000, budget, clock });
  transports.push(transport);
  return transport;
}

const exchange = (transport: Transport, url: string) => transport.fetch(`${url}${TOKEN_EXCHANGE_PATH}`, { method: "POST", body: "{}" });

describe("the token exchange", () => {
  it("is retried within the budget's attempts and returns the last refusal", async () => {
    const api = await endpoint((_, __, response) => response.writeHead(503).end());
    const clock = new FakeRetryClock({ random: 0 });
    expect((await exchange(transportWith(clock), api.url)).status).toBe(503);
    expect(api.count()).toBe(RETRY_BUDGET.attempts);
    expect(clock.waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000]);
  });

  it("honours retry-after, cut to what remains of the cap", async () => {
    const api = await endpoint((n, _, response) => (n < 2 ? response.writeHead(429, { "retry-after": "30" }).end() : response.writeHead(200).end("{}")));
    const clock = new FakeRetryClock();
    expect((await exchange(transportWith(clock, { ...RETRY_BUDGET, totalMs: 45_000 }), api.url)).status).toBe(200);
    expect(clock.waits).toEqual([30_000, 15_000]);
  });

  it("is retried after a lost connection", async () => {
    const api = await endpoint((n, request, response) => (n === 0 ? request.socket.destroy() : response.writeHead(200).end("{}")));
    expect((await exchange(transportWith(new FakeRetryClock()), api.url)).status).toBe(200);
    expect(api.count()).toBe(2);
  });

  it.each([400, 401, 403])("is not repeated after a %i: the identity token was read and refused", async (status) => {
    const api = await endpoint((_, __, response) => response.writeHead(status).end());
    expect((await exchange(transportWith(new FakeRetryClock()), api.url)).status).toBe(status);
    expect(api.count()).toBe(1);
  });
});

describe("other requests", () => {
  it("are sent once: the client's call loop, not the transport, retries them", async () => {
    const api = await endpoint((_, __, response) => response.writeHead(503).end());
    expect((await transportWith(new FakeRetryClock()).fetch(`${api.url}/v1/tunnels`, { method: "POST" })).status).toBe(503);
    expect(api.count()).toBe(1);
  });
});
