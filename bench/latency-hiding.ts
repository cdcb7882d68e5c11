import { TOKEN_EXCHANGE_PATH } from "../sdk/api/contract";
import type { ServedRequest, TestEmulator } from "../test/harness/emulator";
import { benchStack } from "./bench-stack";
import { summarize, timed, type Summary } from "./stats";

/**
 * API calls on the longest chain of one operation, from the providers' code: `up` creates the
 * tunnel, then registers the CA and reveals the token (the server certificate is local);
 * `refresh` reads every resource independently, one call each. A token exchange, when the
 * operation needs one, comes before them all and adds one more.
 */
const CHAIN_CALLS = { up: 2, refresh: 1 } as const;

export interface LatencyMeasurement {
  operation: "up" | "refresh";
  count: number;
  /** The engine's --parallel; undefined = its default. */
  parallel: number | undefined;
  latencyMs: number;
  withLatency: Summary;
  withoutLatency: Summary;
  /** API requests the operation sent (all delayed). */
  requests: number;
  /** Of which token exchanges. */
  exchanges: number;
  /** requests × latency: what the latency would cost if every call waited for the previous one. */
  serialSumMs: number;
  /** Median wall time with latency − median without. */
  addedMs: number;
  /** latency × calls on the longest chain: what perfect overlap would cost. */
  criticalPathMs: number;
}

export interface LatencyOptions {
  emulator: TestEmulator;
  count: number;
  latencyMs: number;
  repetitions: number;
  parallelSettings: (number | undefined)[];
  log: (line: string) => void;
}

function apiRequests(requests: ServedRequest[]): { calls: number; exchanges: number } {
  const api = requests.filter((r) => r.path.startsWith("/v1/"));
  return { calls: api.length, exchanges: api.filter((r) => r.path === TOKEN_EXCHANGE_PATH).length };
}

/**
 * up and refresh of N TunnelDeployments with and without a fixed delay on every API response,
 * at each --parallel setting; the two run in alternation so both see the same machine.
 */
export async function measureLatencyHiding(options: LatencyOptions): Promise<LatencyMeasurement[]> {
  const { emulator, latencyMs } = options;
  const bench = await benchStack("ours", options.count, emulator, undefined);
  const results: LatencyMeasurement[] = [];
  for (const parallel of options.parallelSettings) {
    const engine = parallel === undefined ? {} : { parallel };
    const samples = { up: { on: [] as number[], off: [] as number[], requests: [] as number[], exchanges: [] as number[] }, refresh: { on: [] as number[], off: [] as number[], requests: [] as number[], exchanges: [] as number[] } };
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const delayed of [false, true]) {
        await bench.prepare();
        if (delayed) await emulator.control("POST", "/_emulator/faults", { rules: [{ path_prefix: "/v1/", rate: 1, latency_ms: latencyMs }] });
        await emulator.control("DELETE", "/_emulator/requests");
        const up = await timed(() => bench.stack.up(engine));
        const upRequests = apiRequests(await emulator.requests());
        await emulator.control("DELETE", "/_emulator/requests");
        const refresh = await timed(() => bench.stack.refresh(engine));
        const refreshRequests = apiRequests(await emulator.requests());
        await emulator.control("DELETE", "/_emulator/faults");
        await bench.stack.destroy(engine);
        samples.up[delayed ? "on" : "off"].push(up.ms);
        samples.refresh[delayed ? "on" : "off"].push(refresh.ms);
        if (delayed) {
          samples.up.requests.push(upRequests.calls);
          samples.up.exchanges.push(upRequests.exchanges);
          samples.refresh.requests.push(refreshRequests.calls);
          samples.refresh.exchanges.push(refreshRequests.exchanges);
        }
        options.log(`  rep ${rep + 1} N=${options.count} parallel=${parallel ?? "default"} latency=${delayed ? latencyMs : 0}: up ${Math.round(up.ms)} ms (${upRequests.calls} calls), refresh ${Math.round(refresh.ms)} ms (${refreshRequests.calls} calls)`);
      }
    }
    for (const operation of ["up", "refresh"] as const) {
      const s = samples[operation];
      const withLatency = summarize(s.on);
      const withoutLatency = summarize(s.off);
      const requests = Math.max(...s.requests);
      const exchanges = Math.max(...s.exchanges);
      results.push({
        operation,
        count: options.count,
        parallel,
        latencyMs,
        withLatency,
        withoutLatency,
        requests,
        exchanges,
        serialSumMs: requests * latencyMs,
        addedMs: Math.round(withLatency.median - withoutLatency.median),
        criticalPathMs: (CHAIN_CALLS[operation] + (exchanges > 0 ? 1 : 0)) * latencyMs,
      });
    }
  }
  return results;
}
