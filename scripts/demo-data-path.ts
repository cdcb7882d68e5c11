import { parseArgs } from "node:util";
import { edgeUrlFor } from "../emulator/index";
import { ComposeProject } from "../twin/compose-runner";
import { startMcpUpstream } from "../twin/mcp-upstream";

/**
 * The last step of `make demo`: runs the Compose project `pulumi up` wrote with the twins
 * (cloudflared and mcp-proxy as the file wires them), a real MCP server as the routes' upstream,
 * and sends one MCP tool call per `mcpServerUrls` entry through the emulator's Claude-side call:
 * edge → connector → proxy (inner TLS with the stack's certificate) → upstream.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: "string" },
      emulator: { type: "string" },
      urls: { type: "string" },
      upstream: { type: "string", default: "demo-mcp" },
      "upstream-address": { type: "string", default: "127.77.0.9" },
      "upstream-port": { type: "string", default: "9000" },
    },
  });
  if (!values.dir || !values.emulator || !values.urls) throw new Error("usage: demo-data-path --dir DIR --emulator URL --urls JSON");
  const urls = JSON.parse(values.urls) as Record<string, string>;
  const upstream = await startMcpUpstream(values.upstream!, values["upstream-address"], Number(values["upstream-port"]));
  const project = ComposeProject.load(values.dir, {
    env: {},
    outside: { edgeUrl: edgeUrlFor(values.emulator), rewriteUrl: (url) => url },
    names: { [values.upstream!]: upstream.host },
  });
  let failed = 0;
  try {
    await project.up();
    await project.waitForLog("cloudflared", /Registered tunnel connection/, { count: 4 });
    console.log(`compose runner: mcp-proxy and cloudflared up from ${values.dir}/docker-compose.yml; cloudflared registered 4 connections`);
    for (const [route, url] of Object.entries(urls)) {
      const response = await fetch(`${values.emulator}/_emulator/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url, method: "tools/call", params: { name: "echo", arguments: { text: `hello from ${route}` } } }),
      });
      const call = (await response.json()) as { ok: boolean; result?: { content?: { text?: string }[] }; stage?: string; message?: string };
      if (call.ok) console.log(`${url} → tools/call echo → "${call.result?.content?.[0]?.text}"`);
      else {
        failed += 1;
        console.log(`${url} → failed at ${call.stage}: ${call.message}`);
      }
    }
  } finally {
    await project.down();
    await upstream.close();
  }
  if (failed > 0) throw new Error(`${failed} MCP request(s) did not come back through the tunnel`);
}

main().catch((error: unknown) => {
  console.error(`demo: ${(error as Error).message}`);
  process.exit(1);
});
