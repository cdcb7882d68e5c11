import * as fs from "node:fs";
import * as path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** node_modules/<package>, a repository file, or a V8/Node internal. */
function owner(url: string, repoRoot: string): string {
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith(repoRoot)) return url.slice(repoRoot.length + 1);
  if (url.startsWith("file://") && url.includes(repoRoot)) return url.slice(url.indexOf(repoRoot) + repoRoot.length + 1);
  return url || "(native)";
}

/** The profiler's own cost (stopping and serializing each chunk), not the provider's. */
const PROFILER = "node:inspector";

/** Self time by package or file over every chunk in `dir`, largest first; module compilation shows as the CJS loader. */
export function selfTimeByOwner(dir: string, repoRoot: string): { owner: string; ms: number }[] {
  const totals = new Map<string, number>();
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const node = byId.get(samples[i]!);
      if (!node) continue;
      const key = node.callFrame.url ? owner(node.callFrame.url, repoRoot) : `(${node.callFrame.functionName})`;
      totals.set(key, (totals.get(key) ?? 0) + (deltas[i] ?? 0) / 1000);
    }
  }
  totals.delete(PROFILER);
  return [...totals].map(([key, ms]) => ({ owner: key, ms: Math.round(ms) })).sort((a, b) => b.ms - a.ms);
}
