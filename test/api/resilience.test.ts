import { createServer, connect, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_CONNECTIONS_PER_ORIGIN } from "../../core/api/transport";
import { FakeRetryClock } from "../support/test-clock";
import { RETRY_BUDGET, TunnelsApiError, type ApiClientOptions, type TunnelsClient } from "../../core/api/index";
import { caCertificatePem, countCalls, startHarness, type Harness, type RequestLogEntry } from "./support";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());
beforeEach(async () => {
  await harness.control.reset();
  await harness.control.clearFaults();
});

/** A fresh client whose token is already minted, so the request log shows only the calls under test. */
async function readyClient(options: Pick<ApiClientOptions, "timeoutMs" | "retryBudget" | "clock" | "baseUrl"> = {}): Promise<TunnelsClient> {
  const client = await harness.tunnelsClient(options);
  await client.tunnels.list().toArray();
  await harness.control.clearRequests();
  return client;
}

function line(entry: RequestLogEntry): string {
  return `${entry.method} ${entry.path.replace(/tnl_\w+/, "tnl_*").replace(/tcrt_\w+/, "tcrt_*")} ${entry.status}`;
}

describe("calls safe to repeat", () => {
  it("are retried through a 429, a 503 and a connection reset: one extra call per failure", async () => {
    const clock = new FakeRetryClock({ random: 0 });
    const client = await readyClient({ clock });
    const tunnel = await client.tunnels.create({ displayName: "retried" });
    await harness.control.clearRequests();
    const get = { path_prefix: `/v1/tunnels/${tunnel.id}`, method: "GET", rate: 1, count: 1 };
    await harness.control.faults([
      { ...get, status: 429 },
      { ...get, status: 503 },
      { ...get, reset: true },
    ]);

    expect((await client.tunnels.retrieve(tunnel.id)).id).toBe(tunnel.id);
    const calls = await harness.control.requests();
    expect(calls.map(line)).toEqual(["GET /v1/tunnels/tnl_* 429", "GET /v1/tunnels/tnl_* 503", "GET /v1/tunnels/tnl_* 0", "GET /v1/tunnels/tnl_* 200"]);
    // The 429 said retry-after: 1, which the wait after it honoured; the others backed off.
    expect(clock.waits).toEqual([1_000, 1_000, 2_000]);
  });

  it("are retried after a timeout", async () => {
    const client = await readyClient({ timeoutMs: 300 });
    await harness.control.faults([{ path_prefix: "/v1/tunnels", method: "GET", latency_ms: 800, rate: 1, count: 1 }]);
    expect(await client.tunnels.list().toArray()).toEqual([]);
    // The abandoned attempt is logged only when the emulator finishes it, which may be after the retry.
    await vi.waitFor(async () => expect(countCalls(await harness.control.requests(), "GET", "/v1/tunnels")).toBe(2), { timeout: 3000 });
  });

  it("give up after the budget's attempts with the last failure's code", async () => {
    const client = await readyClient({ clock: new FakeRetryClock() });
    await harness.control.faults([{ path_prefix: "/v1/tunnels", method: "GET", status: 529, rate: 1 }]);
    const error = await client.tunnels.list().toArray().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "OVERLOADED", status: 529 });
    expect(countCalls(await harness.control.requests(), "GET", "/v1/tunnels")).toBe(RETRY_BUDGET.attempts);
  });

  it("include the token exchange", async () => {
    await harness.control.faults([{ path_prefix: "/v1/oauth/token", status: 503, rate: 1, count: 1 }]);
    const client = await harness.tunnelsClient();
    expect(await client.tunnels.list().toArray()).toEqual([]);
    expect((await harness.control.requests()).map(line)).toEqual(["POST /v1/oauth/token 503", "POST /v1/oauth/token 200", "GET /v1/tunnels 200"]);
  });

  it("but a conflict is an answer, not retried", async () => {
    const client = await readyClient();
    const tunnel = await client.tunnels.create();
    await client.tunnels.archive(tunnel.id);
    await harness.control.clearRequests();
    await expect(client.tunnels.rotateToken(tunnel.id)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await harness.control.requests()).toHaveLength(1);
  });
});

describe("creates never duplicate", () => {
  it.each([
    ["a 503 after commit", { status: 503, after_commit: true }],
    ["a reset after commit", { reset: true, after_commit: true }],
    ["a 529 after commit", { status: 529, after_commit: true }],
  ])("a tunnel create that failed with %s returns the tunnel it created", async (_, fault) => {
    const client = await readyClient();
    await harness.control.faults([{ path_prefix: "/v1/tunnels", method: "POST", rate: 1, count: 1, ...fault }]);
    const tunnel = await client.tunnels.create({ displayName: "exactly once" });
    const all = await client.tunnels.list().toArray();
    expect(all.map((t) => t.id)).toEqual([tunnel.id]);
    expect(countCalls(await harness.control.requests(), "POST", "/v1/tunnels")).toBe(1);
  });

  it("a tunnel create still in flight when it timed out is found, not repeated", async () => {
    // Times out at 300 ms, lands at 500 ms; the look-up waits at least the timeout again (>= 675 ms).
    const client = await readyClient({ timeoutMs: 300 });
    await harness.control.faults([{ path_prefix: "/v1/tunnels", method: "POST", latency_ms: 500, rate: 1, count: 1 }]);
    const tunnel = await client.tunnels.create({ displayName: "slow" });
    expect((await client.tunnels.list().toArray()).map((t) => t.id)).toEqual([tunnel.id]);
    expect(countCalls(await harness.control.requests(), "POST", "/v1/tunnels")).toBe(1);
  });

  it("a tunnel create refused before commit is retried and creates one tunnel", async () => {
    const client = await readyClient();
    await harness.control.faults([{ path_prefix: "/v1/tunnels", method: "POST", status: 503, rate: 1, count: 1 }]);
    const tunnel = await client.tunnels.create({ displayName: "second try" });
    expect((await client.tunnels.list().toArray()).map((t) => t.id)).toEqual([tunnel.id]);
    expect((await harness.control.requests()).map(line)).toEqual([
      "POST /v1/tunnels 503",
      "GET /v1/tunnels 200",
      "POST /v1/tunnels 200",
      "GET /v1/tunnels 200",
    ]);
  });

  it("a tunnel of the same name from before the attempt is not adopted", async () => {
    const client = await readyClient();
    await harness.control.clock(-10 * 60); // created by the API's clock ten minutes ago, outside the clock slack
    const older = await client.tunnels.create({ displayName: "same name" });
    await harness.control.clock(0);
    await harness.control.faults([{ path_prefix: "/v1/tunnels", method: "POST", status: 503, rate: 1, count: 1 }]);
    const created = await client.tunnels.create({ displayName: "same name" });
    expect(created.id).not.toBe(older.id);
  });

  it("a certificate create that failed after commit returns the registration it made", async () => {
    const client = await readyClient();
    const tunnel = await client.tunnels.create();
    const pem = await caCertificatePem();
    await harness.control.faults([{ path_prefix: `/v1/tunnels/${tunnel.id}/certificates`, method: "POST", status: 503, after_commit: true, rate: 1, count: 1 }]);
    const certificate = await client.certificates.create(tunnel.id, { caCertificatePem: pem });
    expect((await client.certificates.list(tunnel.id).toArray()).map((c) => c.id)).toEqual([certificate.id]);
  });
});

describe("connection pool", () => {
  let proxy: CountingProxy;
  beforeAll(async () => {
    proxy = await countingProxy(harness.emulator.port);
  });
  afterAll(() => proxy.close());

  it("serves 100 parallel retrieves over a handful of shared connections, without serializing them", async () => {
    const client = await harness.tunnelsClient({ baseUrl: proxy.url });
    const tunnel = await client.tunnels.create({ displayName: "pooled" });
    const results = await Promise.all(Array.from({ length: 100 }, () => client.tunnels.retrieve(tunnel.id)));
    expect(new Set(results.map((t) => t.id))).toEqual(new Set([tunnel.id]));
    expect(proxy.connections()).toBeGreaterThan(1);
    expect(proxy.connections()).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_ORIGIN);
    expect(proxy.peakOpen()).toBeGreaterThan(1);
  });
});

describe("measured: calls made per operation requested under mixed faults", () => {
  it("completes every operation without a duplicate", async () => {
    const client = await readyClient();
    const seed = await client.tunnels.create({ displayName: "seed" });
    const pem = await caCertificatePem();
    await harness.control.clearRequests();
    await harness.control.faults([
      { path_prefix: "/v1/tunnels", method: "POST", status: 503, after_commit: true, rate: 0.3, count: 4 },
      { path_prefix: "/v1/tunnels", status: 503, rate: 0.15, count: 12 },
      { path_prefix: "/v1/tunnels", status: 429, rate: 0.05, count: 3 },
      { path_prefix: "/v1/tunnels", reset: true, rate: 0.05, count: 3 },
    ]);

    const operations: Array<Promise<unknown>> = [
      ...Array.from({ length: 40 }, () => client.tunnels.retrieve(seed.id)),
      ...Array.from({ length: 5 }, () => client.tunnels.list().toArray()),
      ...Array.from({ length: 5 }, (_, i) => client.tunnels.create({ displayName: `measured ${i}` })),
      client.certificates.create(seed.id, { caCertificatePem: pem }),
    ];
    const outcomes = await Promise.allSettled(operations);
    const failures = outcomes.filter((o) => o.status === "rejected").map((o) => (o as PromiseRejectedResult).reason as TunnelsApiError);
    await harness.control.clearFaults();

    const calls = await harness.control.requests();
    const tunnels = await client.tunnels.list().toArray();
    const report = {
      operationsRequested: operations.length,
      apiCallsMade: calls.length,
      failedCalls: calls.filter((c) => c.status !== 200).length,
      creates: { requested: 5, posts: countCalls(calls, "POST", "/v1/tunnels") - countCalls(calls, "POST", `/v1/tunnels/${seed.id}`), tunnelsExisting: tunnels.length - 1 },
      operationsFailed: failures.map((f) => f.code),
    };
    console.info(`resilience measurement: ${JSON.stringify(report)}`);
    expect(failures).toEqual([]);
    expect(tunnels.filter((t) => t.displayName?.startsWith("measured"))).toHaveLength(5);
    expect((await client.certificates.list(seed.id).toArray())).toHaveLength(1);
  });
});

interface CountingProxy {
  url: string;
  connections(): number;
  peakOpen(): number;
  close(): Promise<void>;
}

/** A TCP relay in front of the emulator that counts the client's connections. */
async function countingProxy(targetPort: number): Promise<CountingProxy> {
  let accepted = 0;
  let open = 0;
  let peak = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    accepted++;
    peak = Math.max(peak, ++open);
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("close", () => {
      open--;
      upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    peakOpen: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
