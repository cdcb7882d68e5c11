// One step of a deployment pipeline (preview, up or destroy), run as its own process the way
// Pulumi runs each provider: everything comes from process.env, nothing from the parent.
import { TunnelsApiError, TunnelsClient } from "../../../core/api/index";

async function step(client: TunnelsClient, name: string, tunnelId: string | undefined): Promise<unknown> {
  switch (name) {
    case "preview":
      return { tunnels: (await client.tunnels.list().toArray()).length };
    case "up":
      return { tunnelId: (await client.tunnels.create({ displayName: "pipeline" })).id };
    case "destroy":
      return { archivedAt: (await client.tunnels.archive(tunnelId ?? "")).archivedAt };
    default:
      throw new Error(`unknown step ${name}`);
  }
}

async function main(): Promise<void> {
  const [name = "", tunnelId] = process.argv.slice(2);
  const client = new TunnelsClient();
  try {
    process.stdout.write(JSON.stringify({ ok: true, ...(await step(client, name, tunnelId) as object) }));
  } catch (error) {
    const code = error instanceof TunnelsApiError ? error.code : "UNEXPECTED";
    process.stdout.write(JSON.stringify({ ok: false, code, message: (error as Error).message }));
    process.exitCode = 1;
  } finally {
    await client.close();
  }
}

void main();
