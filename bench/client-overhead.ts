import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { TunnelsClient } from "pulumi-mcp-tunnels/api";
import { Agent, fetch as undiciFetch, request } from "undici";
import { mintAccessToken } from "../test/support/emulator-credentials";
import { ANTHROPIC_VERSION, TUNNELS_BETA } from "../core/contract/tunnels-api";
import { KEEP_ALIVE_TIMEOUT_MS, MAX_CONNECTIONS_PER_ORIGIN } from "../core/api/transport";
import { REPO_ROOT } from "../test/harness/engine";
import { summarize, type Summary } from "./stats";

/**
 * Layers from the bottom up, so a gap can be pinned on one of them: bare undici.request; the
 * WHATWG fetch the SDK calls; the official SDK on that fetch; our TunnelsClient, which is the SDK
 * plus our transport, response validation and error translation.
 */
export type ClientVariant = "undici.request" | "undici.fetch" | "Anthropic SDK" | "TunnelsClient";

export interface ClientMeasurement {
  variant: ClientVariant;
  calls: number;
  concurrency: number;
  wallMs: Summary;
  /** CPU time of this process (user + system): the client's own work; the emulator runs in another process. */
  cpuMs: Summary;
  callsPerSecond: number;
}

interface ExternalEmulator {
  baseUrl: string;
  process: ChildProcess;
}

/** The compiled emulator in its own process, so its work does not land on the client's clock. */
async function startExternalEmulator(): Promise<ExternalEmulator> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "dist", "emulator", "cli.js"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${output}`)), 15_000);
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code}: ${output}`)));
    child.stdout!.on("data", (data: Buffer) => {
      output += data.toString();
      const match = /listening on (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return { baseUrl, process: child };
}

/** `calls` calls, at most `concurrency` in flight. */
async function drive(calls: number, concurrency: number, call: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        next++;
        await call();
      }
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

export async function measureClientOverhead(options: { calls: number; concurrency: number; repetitions: number }): Promise<ClientMeasurement[]> {
  const emulator = await startExternalEmulator();
  const agent = new Agent({ connections: MAX_CONNECTIONS_PER_ORIGIN, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
  let client: TunnelsClient | undefined;
  try {
    const bearer = await mintAccessToken(emulator.baseUrl);
    client = new TunnelsClient({ env: { ANTHROPIC_BASE_URL: emulator.baseUrl, ANTHROPIC_AUTH_TOKEN: bearer } });
    const tunnel = await client.tunnels.create({ displayName: "bench-client" });
    const url = `${emulator.baseUrl}/v1/tunnels/${tunnel.id}`;
    const headers = { authorization: `Bearer ${bearer}`, "anthropic-version": ANTHROPIC_VERSION, "anthropic-beta": TUNNELS_BETA };
    const tunnels = client.tunnels;
    const sdk = new Anthropic({ baseURL: emulator.baseUrl, apiKey: null, authToken: bearer, fetch: (input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response> });
    const variants: Record<ClientVariant, () => Promise<void>> = {
      "undici.request": async () => {
        const response = await request(url, { dispatcher: agent, headers });
        const body = (await response.body.json()) as { id?: string };
        if (response.statusCode !== 200 || body.id !== tunnel.id) throw new Error(`undici.request: ${response.statusCode}`);
      },
      "undici.fetch": async () => {
        const response = await undiciFetch(url, { dispatcher: agent, headers });
        const body = (await response.json()) as { id?: string };
        if (response.status !== 200 || body.id !== tunnel.id) throw new Error(`undici.fetch: ${response.status}`);
      },
      "Anthropic SDK": async () => {
        const retrieved = (await sdk.beta.tunnels.retrieve(tunnel.id)) as { id?: string };
        if (retrieved.id !== tunnel.id) throw new Error("Anthropic SDK: wrong tunnel");
      },
      TunnelsClient: async () => {
        const retrieved = await tunnels.retrieve(tunnel.id);
        if (retrieved.id !== tunnel.id) throw new Error("TunnelsClient: wrong tunnel");
      },
    };
    const names = Object.keys(variants) as ClientVariant[];
    const samples = new Map<ClientVariant, { wallMs: number; cpuMs: number }[]>(names.map((name) => [name, []]));
    // The emulator keeps the last 10,000 requests and pays for trimming once full: empty it before every run.
    const clearLog = async () => void (await fetch(`${emulator.baseUrl}/_emulator/requests`, { method: "DELETE" })).arrayBuffer();
    // Untimed: fills every pool and JITs every path.
    for (const name of names) {
      await clearLog();
      await drive(options.calls, options.concurrency, variants[name]);
    }
    for (let rep = 0; rep < options.repetitions; rep++) {
      const order = [...names.slice(rep % names.length), ...names.slice(0, rep % names.length)];
      for (const name of order) {
        await clearLog();
        samples.get(name)!.push(await drive(options.calls, options.concurrency, variants[name]));
      }
    }
    return names.map((variant) => {
      const runs = samples.get(variant)!;
      const wallMs = summarize(runs.map((r) => r.wallMs));
      return {
        variant,
        calls: options.calls,
        concurrency: options.concurrency,
        wallMs,
        cpuMs: summarize(runs.map((r) => r.cpuMs)),
        callsPerSecond: Math.round((options.calls / wallMs.median) * 1000),
      };
    });
  } finally {
    await client?.close();
    await agent.close();
    emulator.process.kill("SIGTERM");
  }
}
