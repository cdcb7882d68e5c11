import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN_EXCHANGE_PATH, TUNNEL_ID_PATTERN } from "../../core/contract/tunnels-api";
import { Conformance } from "./conformance-client";

const REPO = resolve(__dirname, "../..");
const DOC_PATH = "docs/tunnels-api.md";
const START_HEADING = "### Start the emulator";
const SESSION_HEADING = "### The session";
const DOCUMENTED_PORT = 8787;
const DOCUMENTED_BASE_LINE = `BASE=http://127.0.0.1:${DOCUMENTED_PORT}`;

const execFileAsync = promisify(execFile);

/** The ```sh blocks of one section of the doc: from its heading to the next heading of any level. */
function shBlocks(markdown: string, heading: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`${DOC_PATH} has no "${heading}" heading`);
  const blocks: string[] = [];
  let block: string[] | undefined;
  for (const line of lines.slice(start + 1)) {
    if (block) {
      if (line === "```") {
        blocks.push(block.join("\n"));
        block = undefined;
      } else block.push(line);
    } else if (/^#{1,6} /.test(line)) break;
    else if (line === "```sh") block = [];
  }
  return blocks;
}

const doc = readFileSync(resolve(REPO, DOC_PATH), "utf8");
const sessionBlocks = shBlocks(doc, SESSION_HEADING);

let emu: Conformance;
beforeAll(async () => {
  emu = await Conformance.start();
});
afterAll(() => emu.close());

describe(`the first session in ${DOC_PATH}`, () => {
  it("starts the emulator on the port the session's BASE names, inside the repository and from the package", () => {
    expect(shBlocks(doc, START_HEADING)).toEqual(["make emulator", `npx --no --offline mcp-tunnels-emulator --port ${DOCUMENTED_PORT}`]);
    expect(readFileSync(resolve(REPO, "Makefile"), "utf8")).toContain(`--port $\${PORT:-${DOCUMENTED_PORT}}`);
    expect(sessionBlocks[0]?.split("\n")[0]).toBe(DOCUMENTED_BASE_LINE);
  });

  it("exchanges the identity token as the public WIF guides' cURL does, without anthropic-* headers", () => {
    const exchange = sessionBlocks.filter((block) => block.includes(TOKEN_EXCHANGE_PATH));
    expect(exchange).toHaveLength(1);
    expect(exchange[0]).toContain("-H 'content-type: application/json'");
    expect(exchange[0]).not.toMatch(/anthropic-/i);
  });

  it("runs as written against a fresh emulator and creates a tunnel that the emulator lists", async () => {
    const script = [`BASE=${emu.baseUrl}`, ...sessionBlocks.join("\n").split("\n").slice(1)].join("\n");
    // Only PATH, so nothing from the test's environment (a BASE, a token) leaks into the session.
    const { stdout } = await execFileAsync("/bin/bash", ["-euo", "pipefail", "-c", script], {
      cwd: REPO,
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    });

    const created = /^created (\S+)$/m.exec(stdout)?.[1];
    expect(created).toMatch(TUNNEL_ID_PATTERN);
    const printedList = JSON.parse(stdout.trim().split("\n").at(-1)!) as { data: { id: string }[] };
    expect(printedList.data.map((tunnel) => tunnel.id)).toEqual([created]);
    const listed = await emu.tunnels("GET", "/v1/tunnels");
    expect(listed.body.data).toEqual([expect.objectContaining({ id: created, display_name: "first-session" })]);
  });
});
