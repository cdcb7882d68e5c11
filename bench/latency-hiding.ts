import { TOKEN_EXCHANGE_PATH } from "../core/contract/tunnels-api";
import type { ServedRequest, TestEmulator } from "../test/harness/emulator";
import { benchStack } from "./bench-stack";
import { engineOptions } from "./engine-operations";
import { median, round, summarize, timed, type Summary } from "./stats";

/**
 * API calls on the longest dependent chain of one operation, from the providers' code: `up`
 * creates the tunnel, then registers the CA and reveals the token (the server certificate is
 * local); `refresh` reads every resource independently, one call each. A token exchange, when
 * the operation needs one, comes before them all and adds one.
 */
const CHAIN_CALLS = { up: 2, refresh: 1 } as const;

/** Delayed/plain refresh pairs per `up`: refreshes are cheap, and the difference is small beside the noise. */
const REFRESH_PAIRS = 2;

export interface LatencyMeasurement {
  operation: "up" | "refresh";
  count: number;
  /** The engine's --parallel; undefined = its default. */
  parallel: number | undefined;
  latencyMs: number;
  withLatency: Summary;
  withoutLatency: Summary;
  /** Median wall time with latency − median without. */
  addedMs: number;
  /** API requests the operation sent (every one delayed), of which token exchanges. */
  requests: number;
  exchanges: number;
  /** requests × latency: what the latency would cost if every call waited for the previous one. */
  serialSumMs: number;
  /** latency × calls on the longest chain: what perfect overlap would cost. */
  criticalPathMs: number;
  /** From the emulator's request log: first arrival to last delayed answer (median). */
  apiSpanMs: number;
  /** Most requests waiting out their latency at once (median over runs). */
  maxInFlight: number;
}

export interface LatencyOptions {
  emulator: TestEmulator;
  count: number;
  latencyMs: number;
  repetitions: number;
  /** --parallel settings the refresh is measured at; `up` runs at the engine default. */
  refreshParallel: (number | undefined)[];
  log: (line: string) => void;
}

interface ApiActivity {
  calls: number;
  exchanges: number;
  spanMs: number;
  maxInFlight: number;
}

function activity(requests: ServedRequest[], latencyMs: number): ApiActivity {
  const api = requests.filter((r) => r.path.startsWith("/v1/"));
  const starts = api.map((r) => Date.parse(r.at)).sort((a, b) => a - b);
  let maxInFlight = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[j]! + latencyMs <= starts[i]!) j++;
    maxInFlight = Math.max(maxInFlight, i - j + 1);
  }
  return {
    calls: api.length,
    exchanges: api.filter((r) => r.path === TOKEN_EXCHANGE_PATH).length,
    spanMs: starts.length ? starts.at(-1)! + latencyMs - starts[0]! : 0,
    maxInFlight,
  };
}

interface Samples {
  on: number[];
  off: number[];
  activity: ApiActivity[];
}

/**
 * Wall time of N TunnelDeployments' `up` and `refresh` with and without a fixed delay on every
 * API response. Refreshes come in pairs on the same state, one delayed and one not, in
 * alternating order, so the difference is not drowned by machine noise; the emulator's request
 * log shows how far the calls overlapped.
 */
export async function measureLatencyHiding(options: LatencyOptions): Promise<LatencyMeasurement[]> {
  const { emulator, latencyMs } = options;
  const delay = () => emulator.control("POST", "/_emulator/faults", { rules: [{ path_prefix: "/v1/", rate: 1, latency_ms: latencyMs }] });
  const undelay = () => emulator.control("DELETE", "/_emulator/faults");
  const bench = await benchStack("ours", options.count, emulator, undefined);
  const up: Samples = { on: [], off: [], activity: [] };
  const refresh = new Map<number | undefined, Samples>(options.refreshParallel.map((p) => [p, { on: [], off: [], activity: [] }]));

  const observe = async <T>(delayed: boolean, work: () => Promise<T>): Promise<{ ms: number; activity: ApiActivity }> => {
    if (delayed) await delay();
    await emulator.control("DELETE", "/_emulator/requests");
    const run = await timed(work);
    const seen = activity(await emulator.requests(), latencyMs);
    if (delayed) await undelay();
    return { ms: run.ms, activity: seen };
  };

  for (let rep = 0; rep < options.repetitions; rep++) {
    const delayedUp = rep % 2 === 0;
    await bench.prepare();
    const created = await observe(delayedUp, () => bench.stack.up(engineOptions()));
    up[delayedUp ? "on" : "off"].push(created.ms);
    if (delayedUp) up.activity.push(created.activity);
    const line = [`up ${Math.round(created.ms)} ms (${created.activity.calls} calls${delayedUp ? `, ${latencyMs} ms each` : ""})`];
    for (const [parallel, samples] of refresh) {
      for (let pair = 0; pair < REFRESH_PAIRS; pair++) {
        for (const delayed of (rep + pair) % 2 === 0 ? [false, true] : [true, false]) {
          const refreshed = await observe(delayed, () => bench.stack.refresh(engineOptions(parallel)));
          samples[delayed ? "on" : "off"].push(refreshed.ms);
          if (delayed) samples.activity.push(refreshed.activity);
          line.push(`refresh p=${parallel ?? "default"} ${delayed ? "delayed" : "plain"} ${Math.round(refreshed.ms)} ms`);
        }
      }
    }
    await bench.stack.destroy(engineOptions());
    options.log(`  rep ${rep + 1} N=${options.count}: ${line.join(", ")}`);
  }

  const measurement = (operation: "up" | "refresh", parallel: number | undefined, samples: Samples): LatencyMeasurement => {
    const withLatency = summarize(samples.on);
    const withoutLatency = summarize(samples.off);
    const requests = Math.max(...samples.activity.map((a) => a.calls));
    const exchanges = Math.max(...samples.activity.map((a) => a.exchanges));
    return {
      operation,
      count: options.count,
      parallel,
      latencyMs,
      withLatency,
      withoutLatency,
      addedMs: Math.round(withLatency.median - withoutLatency.median),
      requests,
      exchanges,
      serialSumMs: requests * latencyMs,
      criticalPathMs: (CHAIN_CALLS[operation] + (exchanges > 0 ? 1 : 0)) * latencyMs,
      apiSpanMs: round(median(samples.activity.map((a) => a.spanMs))),
      maxInFlight: median(samples.activity.map((a) => a.maxInFlight)),
    };
  };
  return [measurement("up", undefined, up), ...[...refresh].map(([parallel, samples]) => measurement("refresh", parallel, samples))];
}
