import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { RETRY_BUDGET } from "./retry-budget";
import { FakeRetryClock } from "../../test/support/test-clock";
import { TunnelsClient } from "./tunnels-client";

const TUNNEL_ID = "tnl_1111111111111111111111AA";
const EMPTY_PAGE = { data: [], has_more: false, first_id: null, last_id: null };

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}

const servers: Server[] = [];
const clients: TunnelsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A stand-in API on port 0 that answers each request with `answer(n)`, n counting from 0. */
async function fakeApi(answer: (n: number, request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    seen.push({ method: request.method!, path: request.url!, headers: request.headers });
    request.resume();
    request.on("end", () => answer(seen.length - 1, request, response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

function apiError(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  json(response, status, { type: "error", error: { type: "api_error", message: `status ${status}` } }, headers);
}

function clientOf(url: string, clock: FakeRetryClock, retryBudget = {}): TunnelsClient {
  const client = new TunnelsClient({ baseUrl: url, env: { ANTHROPIC_AUTH_TOKEN: "bearer-for-a-fake-api" }, clock, retryBudget });
  clients.push(client);
  return client;
}

describe("a call safe to repeat", () => {
  it("is sent the budget's attempts, with the budget's backoff between them, and then fails with the last answer", async () => {
    const api = await fakeApi((_, __, response) => apiError(response, 503));
    const clock = new FakeRetryClock({ random: 0 });
    await expect(clientOf(api.url, clock).tunnels.retrieve(TUNNEL_ID)).rejects.toMatchObject({ code: "SERVER_ERROR", status: 503 });
    expect(api.seen).toHaveLength(RETRY_BUDGET.attempts);
    expect(clock.waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000]);
  });

  it("waits what retry-after asks, cut to what remains of the total cap, and starts nothing after it", async () => {
    const api = await fakeApi((_, __, response) => apiError(response, 429, { "retry-after": "100" }));
    const clock = new FakeRetryClock();
    await expect(clientOf(api.url, clock).tunnels.retrieve(TUNNEL_ID)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(clock.waits).toEqual([100_000, 20_000]);
    expect(api.seen).toHaveLength(3);
  });

  it("is retried after a lost connection and then succeeds", async () => {
    const api = await fakeApi((n, request, response) => (n === 0 ? request.socket.destroy() : json(response, 200, EMPTY_PAGE)));
    expect(await clientOf(api.url, new FakeRetryClock()).tunnels.list().toArray()).toEqual([]);
    expect(api.seen).toHaveLength(2);
  });

  it("is sent once with retries turned off", async () => {
    const api = await fakeApi((_, __, response) => apiError(response, 503));
    await expect(clientOf(api.url, new FakeRetryClock(), { attempts: 1 }).tunnels.retrieve(TUNNEL_ID)).rejects.toMatchObject({ code: "SERVER_ERROR" });
    expect(api.seen).toHaveLength(1);
  });

  it.each([400, 401, 403, 404, 409, 422])("is not repeated after a %i: the API answered", async (status) => {
    const api = await fakeApi((_, __, response) => apiError(response, status));
    const clock = new FakeRetryClock();
    await expect(clientOf(api.url, clock).tunnels.retrieve(TUNNEL_ID)).rejects.toMatchObject({ status });
    expect(api.seen).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });
});

describe("anthropic-version", () => {
  it("is what a plain client of the official SDK sends by default", async () => {
    const api = await fakeApi((_, __, response) => json(response, 200, EMPTY_PAGE));
    await clientOf(api.url, new FakeRetryClock()).tunnels.list().toArray();
    await new Anthropic({ baseURL: api.url, apiKey: "key-for-a-fake-api", maxRetries: 0 }).beta.tunnels.list();
    const [ours, official] = api.seen.map((request) => request.headers["anthropic-version"]);
    expect(official).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(ours).toBe(official);
  });
});

describe("target", () => {
  const env = {
    ANTHROPIC_AUTH_TOKEN: "bearer-for-a-fake-api",
    ANTHROPIC_ORGANIZATION_ID: "6f1c7a52-0000-4000-8000-00000000e001",
    ANTHROPIC_WORKSPACE_ID: "wrkspc_platform",
  };

  it("is the API the calls reach and the organization and workspace the settings name, before the first call and after", async () => {
    const api = await fakeApi((_, __, response) => json(response, 200, EMPTY_PAGE));
    const client = new TunnelsClient({ baseUrl: `${api.url}/`, env });
    clients.push(client);
    const target = { baseUrl: api.url, organizationId: env.ANTHROPIC_ORGANIZATION_ID, workspaceId: "wrkspc_platform" };
    expect(client.target()).toEqual(target);
    await client.tunnels.list().toArray();
    expect(api.seen).toHaveLength(1);
    expect(client.target()).toEqual(target);
  });

  it("refuses a base URL the calls would refuse, with the same error", async () => {
    const client = new TunnelsClient({ baseUrl: "http://api.example", env });
    clients.push(client);
    expect(() => client.target()).toThrow(expect.objectContaining({ code: "CONFIGURATION" }));
    await expect(client.tunnels.list().toArray()).rejects.toMatchObject({ code: "CONFIGURATION" });
  });
});
