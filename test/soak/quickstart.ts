import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import * as tunnels from "pulumi-mcp-tunnels";
import type { TestEmulator } from "../harness/emulator";
import { createHermeticStack, type HermeticStack } from "../harness/stack";

/** What a test changes between runs of one quickstart stack. */
export interface QuickstartSettings {
  caRotation: number;
  tokenRotation: string;
}

export interface Quickstart extends HermeticStack {
  settings: QuickstartSettings;
}

export const TYPE = {
  tunnel: "pulumi-nodejs:dynamic/mcp-tunnels:Tunnel",
  tunnelCertificate: "pulumi-nodejs:dynamic/mcp-tunnels:TunnelCertificate",
  tunnelToken: "pulumi-nodejs:dynamic/mcp-tunnels:TunnelToken",
} as const;

/**
 * The quickstart on the real engine: a manual-mode TunnelDeployment (Tunnel, CertificateAuthority,
 * TunnelCertificate, ServerCertificate, TunnelToken), exporting what the checks compare with the
 * emulator.
 */
export async function quickstartStack(emulator: TestEmulator, displayName: string, config?: Record<string, { value: string }>): Promise<Quickstart> {
  const settings: QuickstartSettings = { caRotation: 1, tokenRotation: "1" };
  const hermetic = await createHermeticStack({
    env: await emulator.engineEnv(),
    ...(config ? { config } : {}),
    program: async () => {
      const deployment = new tunnels.TunnelDeployment("quickstart", {
        displayName,
        routes: { mcp: "http://10.0.0.5:8080" },
        ca: { rotation: settings.caRotation },
        token: { rotation: settings.tokenRotation },
      });
      return {
        tunnelId: deployment.tunnelId,
        token: deployment.tunnelToken!.token,
        registrationId: deployment.tunnelCertificate!.certificateId,
      };
    },
  });
  return Object.assign(hermetic, { settings });
}

export interface Inventory {
  /** Tunnels and CA registrations some resource in the state names (pending deletes included). */
  stateTunnels: string[];
  stateCertificates: string[];
  /** What the emulator holds active in the workspace. */
  activeTunnels: string[];
  activeCertificates: string[];
  /** Active in the emulator, named by no resource in the state. */
  orphans: string[];
  /** Named by the state, gone from the emulator. */
  missing: string[];
  pendingOperations: number;
}

type StateResource = { type: string; id?: string; outputs?: Record<string, unknown> };

/** Compares the stack's state with the emulator: the orphan count is the property under test. */
export async function inventory(emulator: TestEmulator, stack: Stack): Promise<Inventory> {
  const { deployment } = await stack.exportStack();
  const resources = (deployment.resources ?? []) as StateResource[];
  const ids = (type: string) => resources.filter((r) => r.type === type && r.id).map((r) => r.id!);
  const stateTunnels = ids(TYPE.tunnel);
  const stateCertificates = ids(TYPE.tunnelCertificate);
  const activeTunnels = (await emulator.tunnels()).map((t) => t.id);
  const activeCertificates: string[] = [];
  for (const tunnelId of activeTunnels) activeCertificates.push(...(await emulator.activeCertificates(tunnelId)).map((c) => c.id));
  const named = new Set([...stateTunnels, ...stateCertificates]);
  const active = [...activeTunnels, ...activeCertificates];
  return {
    stateTunnels,
    stateCertificates,
    activeTunnels,
    activeCertificates,
    orphans: active.filter((id) => !named.has(id)),
    missing: [...named].filter((id) => !active.includes(id)),
    pendingOperations: (deployment.pending_operations ?? []).length,
  };
}

/** The connector token in force, read as an observer would (the reveal is audited). */
export async function tokenInForce(emulator: TestEmulator, tunnelId: string): Promise<{ id: string; value: string }> {
  const token = await emulator.api<{ id: string; tunnel_token: string }>("POST", `/v1/tunnels/${tunnelId}/reveal_token`);
  return { id: token.id, value: token.tunnel_token };
}

/** The token id the state's TunnelToken records (its value is encrypted in an export). */
export async function recordedTokenId(stack: Stack): Promise<string | undefined> {
  const { deployment } = await stack.exportStack();
  const token = ((deployment.resources ?? []) as StateResource[]).find((r) => r.type === TYPE.tunnelToken);
  return token?.outputs?.tokenId as string | undefined;
}

/** The recovery Pulumi documents for an interrupted update, non-interactively. */
export async function recoverInterruptedUpdate(stack: Stack): Promise<void> {
  await stack.cancel(); // the killed CLI left its lock behind
  await stack.refresh({ clearPendingCreates: true });
  await stack.up();
}

export async function auditCount(emulator: TestEmulator, action: string): Promise<number> {
  return (await emulator.audit()).filter((entry) => entry.action === action).length;
}

/**
 * A kill -9 while the file backend rewrites the checkpoint can leave it unreadable ("failed to
 * load checkpoint"): the backend keeps the previous one as `<stack>.json.bak` and then writes the
 * new one in place (pulumi/pulumi#2801). Putting the backup back is Pulumi's own workaround; the
 * provider's journal is what then recovers anything the lost checkpoint had recorded. Returns
 * whether the checkpoint had to be restored.
 */
export async function restoreUnreadableCheckpoint(quickstart: Quickstart): Promise<boolean> {
  try {
    await quickstart.stack.exportStack();
    return false;
  } catch (error) {
    if (!/failed to load checkpoint/.test(String(error))) throw error;
  }
  const backend = quickstart.env.PULUMI_BACKEND_URL!.slice("file://".length);
  const { name: project } = await quickstart.stack.workspace.projectSettings();
  const checkpoint = path.join(backend, ".pulumi", "stacks", project, `${quickstart.stack.name}.json`);
  fs.copyFileSync(`${checkpoint}.bak`, checkpoint);
  return true;
}
