import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

export interface McpUpstream {
  host: string;
  port: number;
  /** Tool calls this upstream answered. */
  readonly calls: number;
  close(): Promise<void>;
}

/**
 * A real MCP server (the official SDK, streamable HTTP, stateless) with one tool, `echo`, that
 * answers with its own name and the text it was given: what a route's upstream is in the tests.
 */
export async function startMcpUpstream(name: string, host = "127.0.0.1", port = 0): Promise<McpUpstream> {
  let calls = 0;
  const server: Server = createServer(async (req, res) => {
    const mcp = new McpServer({ name, version: "1.0.0" });
    mcp.registerTool("echo", { description: "Echoes the text, signed by the upstream", inputSchema: { text: z.string() } }, async ({ text }) => {
      calls += 1;
      return { content: [{ type: "text", text: `${name}: ${text}` }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    host,
    port: address.port,
    get calls() {
      return calls;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A free loopback address (its own /32 on lo), so an upstream can listen on a documented port such as 9000. */
export function loopbackAddress(): string {
  return `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.${2 + Math.floor(Math.random() * 250)}`;
}
