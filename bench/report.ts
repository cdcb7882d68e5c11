import type { ClientMeasurement } from "./client-overhead";
import { OPERATIONS, type Operation } from "./engine-operations";
import type { LatencyMeasurement } from "./latency-hiding";
import type { CryptoMeasurement } from "./local-crypto";
import type { StackMeasurement } from "./provider-overhead";
import { STACK_LABELS, type StackKind } from "./stack-programs";
import { ratio, round, type Summary } from "./stats";
import { MAX_CONNECTIONS_PER_ORIGIN } from "../core/api/transport";

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; pulumi: string };
  loadAverage: { start: number[]; end: number[] };
  nativeFloor?: { available: true; dir: string } | { available: false; reason: string };
  sections: {
    overhead?: { repetitions: number; loadBefore: number[]; loadAfter: number[]; stacks: StackMeasurement[] };
    latency?: { loadBefore: number[]; loadAfter: number[]; measurements: LatencyMeasurement[] };
    crypto?: { loadBefore: number[]; loadAfter: number[]; measurements: CryptoMeasurement[] };
    client?: { loadBefore: number[]; loadAfter: number[]; measurements: ClientMeasurement[] };
  };
  targets?: TargetCheck[];
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | "n/a";
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(cells[0]!), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

function ms(summary: Summary | undefined): string {
  if (!summary) return "-";
  return `${Math.round(summary.median)} ±${Math.round((summary.spread * 100) / 2)}%`;
}

function find(stacks: StackMeasurement[], kind: StackKind, count: number): StackMeasurement | undefined {
  return stacks.find((s) => s.kind === kind && s.count === count);
}

function addedPerResource(ours: StackMeasurement | undefined, floor: StackMeasurement | undefined, op: Operation): string {
  if (!ours || !floor) return "-";
  return String(round((ours.ms[op].median - floor.ms[op].median) / ours.resources));
}

function overheadTable(stacks: StackMeasurement[]): string {
  const sizes = [...new Set(stacks.map((s) => s.count))];
  const rows: (string | number)[][] = [];
  for (const count of sizes) {
    const ours = find(stacks, "ours", count);
    const dynamic = find(stacks, "dynamicFloor", count);
    const native = find(stacks, "nativeFloor", count);
    for (const op of OPERATIONS) {
      rows.push([
        `N=${count} ${op}`,
        ours?.resources ?? "-",
        ms(dynamic?.ms[op]),
        ms(native?.ms[op]),
        ms(ours?.ms[op]),
        ratio(ours?.ms[op], dynamic?.ms[op]),
        native ? ratio(ours?.ms[op], native.ms[op]) : "-",
        addedPerResource(ours, dynamic, op),
        addedPerResource(ours, native, op),
      ]);
    }
  }
  return table(["operation", "resources", STACK_LABELS.dynamicFloor, STACK_LABELS.nativeFloor, STACK_LABELS.ours, "ours/dyn", "ours/native", "+ms/res dyn", "+ms/res native"], rows);
}

/** Least-squares line through (resources, ours − floor): what the provider adds once per operation, and per resource. */
function addedCostFit(stacks: StackMeasurement[], op: Operation, floorKind: StackKind): { fixedMs: number; perResourceMs: number } | undefined {
  const points = [...new Set(stacks.map((s) => s.count))].flatMap((count) => {
    const ours = find(stacks, "ours", count);
    const floor = find(stacks, floorKind, count);
    return ours && floor ? [{ x: ours.resources, y: ours.ms[op].median - floor.ms[op].median }] : [];
  });
  if (points.length < 2) return undefined;
  const meanX = points.reduce((a, p) => a + p.x, 0) / points.length;
  const meanY = points.reduce((a, p) => a + p.y, 0) / points.length;
  const sxx = points.reduce((a, p) => a + (p.x - meanX) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((a, p) => a + (p.x - meanX) * (p.y - meanY), 0) / sxx;
  return { fixedMs: Math.round(meanY - slope * meanX), perResourceMs: round(slope) };
}

function addedCostTable(stacks: StackMeasurement[]): string {
  const rows = OPERATIONS.map((op) => {
    const dynamic = addedCostFit(stacks, op, "dynamicFloor");
    const native = addedCostFit(stacks, op, "nativeFloor");
    return [op, dynamic?.fixedMs ?? "-", dynamic?.perResourceMs ?? "-", native?.fixedMs ?? "-", native?.perResourceMs ?? "-"];
  });
  return table(["operation", "vs dyn.: ms once", "vs dyn.: ms/resource", "vs native: ms once", "vs native: ms/resource"], rows);
}

function cpuTriple(stack: StackMeasurement | undefined, op: Operation): string {
  if (!stack) return "-";
  const c = stack.cpu[op];
  return `${Math.round(c.hostMs)} / ${Math.round(c.engineMs)} / ${Math.round(c.providerMs)}`;
}

function cpuDelta(ours: StackMeasurement | undefined, floor: StackMeasurement | undefined, op: Operation, key: "hostMs" | "engineMs" | "providerMs"): string {
  if (!ours || !floor) return "-";
  const delta = Math.round(ours.cpu[op][key] - floor.cpu[op][key]);
  return delta > 0 ? `+${delta}` : String(delta);
}

function cpuTable(stacks: StackMeasurement[]): string {
  const sizes = [...new Set(stacks.map((s) => s.count))];
  const rows: (string | number)[][] = [];
  for (const count of sizes) {
    const ours = find(stacks, "ours", count);
    const dynamic = find(stacks, "dynamicFloor", count);
    for (const op of OPERATIONS) {
      rows.push([
        `N=${count} ${op}`,
        cpuTriple(dynamic, op),
        cpuTriple(find(stacks, "nativeFloor", count), op),
        cpuTriple(ours, op),
        cpuDelta(ours, dynamic, op, "hostMs"),
        cpuDelta(ours, dynamic, op, "engineMs"),
        cpuDelta(ours, dynamic, op, "providerMs"),
      ]);
    }
  }
  return table(["operation", "dyn. floor h/e/p", "native floor h/e/p", "ours h/e/p", "Δ program host", "Δ engine", "Δ provider"], rows);
}

function stateTable(stacks: StackMeasurement[]): string {
  return table(
    ["stack", "resources", "state bytes", "bytes/resource", "__provider bytes (1 copy)", "__provider bytes in state per dyn. resource"],
    stacks.map((s) => [
      `N=${s.count} ${STACK_LABELS[s.kind]}`,
      s.resources,
      s.state.stateBytes,
      s.state.stateBytesPerResource,
      s.state.serializedProviderBytes || "-",
      s.state.serializedProviderBytesInStatePerResource || "-",
    ]),
  );
}

function latencyTable(measurements: LatencyMeasurement[]): string {
  return table(
    ["operation", "--parallel", "API calls", "serial sum ms", "latency × chain ms", "API span ms", "max in flight", "without latency", "with latency", "added ms", "added ÷ chain"],
    measurements.map((m) => [
      `N=${m.count} ${m.operation}`,
      m.parallel ?? "default (8)",
      m.requests,
      m.serialSumMs,
      m.criticalPathMs,
      m.apiSpanMs,
      m.maxInFlight,
      ms(m.withoutLatency),
      ms(m.withLatency),
      m.addedMs,
      round(m.addedMs / m.criticalPathMs, 2),
    ]),
  );
}

function cryptoTable(measurements: CryptoMeasurement[]): string {
  return table(
    ["key algorithm", "runs", "CA ms", "CA min–max", "server cert ms", "server min–max"],
    measurements.map((m) => [
      m.keyAlgorithm,
      m.repetitions,
      round(m.certificateAuthority.median),
      `${round(m.certificateAuthority.min)}–${round(m.certificateAuthority.max)}`,
      round(m.serverCertificate.median),
      `${round(m.serverCertificate.min)}–${round(m.serverCertificate.max)}`,
    ]),
  );
}

function clientTable(measurements: ClientMeasurement[]): string {
  const bare = measurements.find((m) => m.variant === "undici.request");
  return table(
    ["variant", "calls", "concurrency", "wall ms", "CPU ms (client process)", "calls/s", "wall ÷ undici.request", "CPU ÷ undici.request"],
    measurements.map((m) => [m.variant, m.calls, m.concurrency, ms(m.wallMs), ms(m.cpuMs), m.callsPerSecond, ratio(m.wallMs, bare?.wallMs), ratio(m.cpuMs, bare?.cpuMs)]),
  );
}

/** The targets, checked against the medians. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const stacks = results.sections.overhead?.stacks ?? [];
  const largest = Math.max(0, ...stacks.map((s) => s.count));
  const ours = find(stacks, "ours", largest);
  // The targets are set against the dynamic floor (same engine path); the native floor is shown for reference.
  for (const floorKind of ["dynamicFloor", "nativeFloor"] as const) {
    const floor = find(stacks, floorKind, largest);
    if (!ours || !floor) continue;
    const preview = ratio(ours.ms.preview, floor.ms.preview);
    const up = ratio(ours.ms.up, floor.ms.up);
    const judged = floorKind === "dynamicFloor";
    checks.push({ target: `no-change preview ≤ 1.2× ${STACK_LABELS[floorKind]} at N=${largest}`, measured: `${preview}×`, met: judged ? preview <= 1.2 : "n/a" });
    checks.push({ target: `up ≤ 1.5× ${STACK_LABELS[floorKind]} at N=${largest}`, measured: `${up}×`, met: judged ? up <= 1.5 : "n/a" });
  }
  if (ours) {
    const one = ours.state.serializedProviderBytes;
    const inState = ours.state.serializedProviderBytesInStatePerResource;
    checks.push({ target: "serialized provider ≤ 4 KB per resource (one copy)", measured: `${one} B`, met: one <= 4096 });
    checks.push({ target: "serialized provider ≤ 4 KB per resource (both copies the SDK keeps: inputs + outputs)", measured: `${inState} B`, met: inState <= 4096 });
  }
  for (const m of (results.sections.latency?.measurements ?? []).filter((m) => m.operation === "refresh")) {
    checks.push({
      target: `refresh with ${m.latencyMs} ms latency adds ≤ 1.5× latency × chain (N=${m.count}, --parallel ${m.parallel ?? "default"})`,
      measured: `${m.addedMs} ms wall = ${round(m.addedMs / m.criticalPathMs, 2)}× of ${m.criticalPathMs} ms; API span ${m.apiSpanMs} ms (serial sum ${m.serialSumMs} ms)`,
      met: m.addedMs <= 1.5 * m.criticalPathMs,
    });
  }
  const client = results.sections.client?.measurements;
  const bare = client?.find((m) => m.variant === "undici.request");
  const tunnelsClient = client?.find((m) => m.variant === "TunnelsClient");
  if (bare && tunnelsClient) {
    const wall = ratio(tunnelsClient.wallMs, bare.wallMs);
    checks.push({ target: "client ≤ 1.2× bare undici (wall)", measured: `${wall}× (CPU ${ratio(tunnelsClient.cpuMs, bare.cpuMs)}×)`, met: wall <= 1.2 });
  }
  return checks;
}

export function formatReport(results: BenchResults): string {
  const parts: string[] = [
    `make bench — ${results.startedAt}, ${results.machine.cpus} × ${results.machine.cpuModel}, node ${results.machine.node}, pulumi ${results.machine.pulumi}`,
    `load average (1, 5, 15 min): start ${results.loadAverage.start.join(" ")}, end ${results.loadAverage.end.join(" ")}`,
  ];
  if (results.nativeFloor && !results.nativeFloor.available) parts.push(`native floor skipped: ${results.nativeFloor.reason}`);
  const overhead = results.sections.overhead;
  if (overhead) {
    parts.push(
      `\n1. Provider overhead — wall ms per operation, median ±half-range of ${overhead.repetitions} runs; ratio of medians; +ms/res = (ours − floor) ÷ resources (load ${overhead.loadBefore.join(" ")} → ${overhead.loadAfter.join(" ")})`,
      overheadTable(overhead.stacks),
      `\n1a. Added wall time split into a fixed part per operation and a part per resource (least squares over the sizes)`,
      addedCostTable(overhead.stacks),
      `\n1b. Where the CPU went — median CPU ms: h = program host (the inline program, in the bench process, with the in-process emulator), e = pulumi CLI/engine and plugin launchers, p = dynamic-provider processes; Δ = ours − dynamic floor`,
      cpuTable(overhead.stacks),
      `\n2. State cost — \`pulumi stack export\` after up`,
      stateTable(overhead.stacks),
    );
    const unexpected = overhead.stacks.flatMap((s) => s.unexpectedChanges.map((c) => `N=${s.count} ${s.kind} ${c}`));
    if (unexpected.length) parts.push(`unexpected changes (a no-change preview or refresh planned something): ${unexpected.join("; ")}`);
  }
  const latency = results.sections.latency;
  if (latency) {
    parts.push(
      `\n3. Latency hiding — every API response delayed by ${latency.measurements[0]?.latencyMs ?? "?"} ms; chain = API calls on the longest dependent chain; API span = first request to last delayed answer (emulator log); added = median wall with − without (load ${latency.loadBefore.join(" ")} → ${latency.loadAfter.join(" ")})`,
      latencyTable(latency.measurements),
    );
  }
  const crypto = results.sections.crypto;
  if (crypto) parts.push(`\n4. Local crypto — compiled pki, one process (load ${crypto.loadBefore.join(" ")} → ${crypto.loadAfter.join(" ")})`, cryptoTable(crypto.measurements));
  const client = results.sections.client;
  if (client) {
    parts.push(
      `\n5. Client overhead — tunnels.retrieve against the emulator in its own process; same pool size (${MAX_CONNECTIONS_PER_ORIGIN} connections) for all (load ${client.loadBefore.join(" ")} → ${client.loadAfter.join(" ")})`,
      clientTable(client.measurements),
    );
  }
  const targets = results.targets ?? [];
  if (targets.length) {
    parts.push("\nTargets", table(["target", "measured", "met"], targets.map((t) => [t.target, t.measured, t.met === true ? "yes" : t.met === false ? "NO" : "reference"])));
  }
  return parts.join("\n");
}
