import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exitedTwin, type ContainerContext, type TwinMain } from "./container";
import type { ShellEnv } from "./compose-file";
import type { ImageRegistry } from "./compose-images";
import { ComposeProject, RESTART_LIMIT, type ComposeProjectOptions } from "./compose-runner";
import { projectDir } from "./compose-project-dir.test-support";
import { expectDockerComposeAccepts } from "./docker-compose-check.test-support";

/** A twin that runs until stopped; `serve` does its work and may return an exit code to stop early. */
function longRunning(serve: (context: ContainerContext) => Promise<number | void> | number | void, onStop: () => Promise<void> | void = () => undefined): TwinMain {
  return async (context) => {
    let exit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const code = await serve(context);
    if (typeof code === "number") return exitedTwin(code);
    return {
      exited,
      stop: async () => {
        await onStop();
        exit(0);
      },
    };
  };
}

/** Serves `hello from <HELLO>` on the listen address in argv[0] (default `:8080`), as the proxy would listen. */
const listener: TwinMain = async (context) => {
  const listenAddr = context.argv[0] ?? ":8080";
  const bind = context.net.bindAddress(listenAddr)!;
  const server = http.createServer((_request, response) => response.end(`hello from ${context.env.HELLO ?? "listener"}`));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(bind.port, bind.host, resolve);
    });
  } catch (error) {
    context.log(`listen ${listenAddr}: ${(error as NodeJS.ErrnoException).code}`);
    return exitedTwin(1);
  }
  context.log(`listening on ${listenAddr}`);
  return longRunning(
    () => undefined,
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  )(context);
};

/** Dials the `--url` in argv once, as cloudflared forwards a request, and logs what came back. */
const dialer: TwinMain = async (context) => {
  const url = new URL(context.argv[context.argv.indexOf("--url") + 1]!);
  const address = context.net.resolve(url.hostname);
  if (!address) {
    context.log(`dial ${url.host}: lookup ${url.hostname}: no such host`);
    return exitedTwin(1);
  }
  const outcome = await new Promise<string>((resolve) => {
    http
      .get({ host: address, port: Number(url.port), path: url.pathname }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve(`reached: ${body}`));
      })
      .on("error", (error: NodeJS.ErrnoException) => resolve(`dial ${url.host}: ${error.code}`));
  });
  context.log(outcome);
  return exitedTwin(outcome.startsWith("reached") ? 0 : 1);
};

/** Logs what it was started with and runs until stopped. */
const printer: TwinMain = longRunning((context) => {
  context.log(`argv=${JSON.stringify(context.argv)}`);
  context.log(`env=${JSON.stringify(context.env)}`);
  context.log(`user=${context.fs.user.uid}:${context.fs.user.gid}`);
});

/** Logs its argv under a name and exits with EXIT_CODE (default 0), as a one-off command does. */
function oneShot(name: string): TwinMain {
  return async (context) => {
    context.log(`${name} argv=${JSON.stringify(context.argv)}`);
    return exitedTwin(Number(context.env.EXIT_CODE ?? 0));
  };
}

/** `write PATH…` / `read PATH…`: touches files as the container user and logs each outcome. */
const fileTool: TwinMain = async (context) => {
  const [verb, ...paths] = context.argv;
  let failures = 0;
  for (const target of paths) {
    try {
      if (verb === "write") {
        context.fs.writeFile(target, "written by the container\n", 0o644);
        context.log(`wrote ${target}`);
      } else {
        context.log(`read ${target}: ${context.fs.readFile(target).toString("utf8").trim()}`);
      }
    } catch (error) {
      failures += 1;
      context.log((error as Error).message);
    }
  }
  return exitedTwin(failures === 0 ? 0 : 1);
};

/** Reads the file in argv[0] once at start and serves from it until stopped, as the proxy treats config.yaml. */
const configReader: TwinMain = longRunning((context) => {
  try {
    context.log(`config: ${context.fs.readFile(context.argv[0]!).toString("utf8").trim()}`);
  } catch (error) {
    context.log((error as Error).message);
    return 1;
  }
});

const crasher: TwinMain = async (context) => {
  context.log("crashing");
  return exitedTwin(1);
};

/** Ignores SIGTERM: its stop never finishes. */
const stubborn: TwinMain = async () => ({ exited: new Promise<number>(() => undefined), stop: () => new Promise<void>(() => undefined) });

const TEST_IMAGES: ImageRegistry = {
  "test/listener": listener,
  "test/dialer": dialer,
  "test/printer": printer,
  "test/file-tool": fileTool,
  "test/config-reader": configReader,
  "test/crasher": crasher,
  "test/stubborn": stubborn,
  "test/with-setup": { main: oneShot("main"), entrypoints: { "/setup": oneShot("setup") } },
};

const OUTSIDE = { edgeUrl: "ws://127.0.0.1:1/edge", rewriteUrl: (url: string) => url };
const projects: ComposeProject[] = [];

afterEach(async () => {
  for (const project of projects.splice(0)) await project.down();
});

/** Writes the project, holds Docker Compose to accepting it, and loads it. */
function compose(document: Record<string, unknown>, files: Record<string, string> = {}, options: Partial<ComposeProjectOptions> & { env?: ShellEnv } = {}) {
  const dir = projectDir(document, files);
  expectDockerComposeAccepts(dir, options.env ?? {});
  const project = ComposeProject.load(dir, { outside: OUTSIDE, images: TEST_IMAGES, ...options });
  projects.push(project);
  return { dir, project };
}

describe("network namespaces", () => {
  it("lets cloudflared reach the proxy at localhost:8080 only when it shares the proxy's network namespace", async () => {
    const shared = compose({
      services: {
        "mcp-proxy": { image: "test/listener", environment: { HELLO: "proxy" } },
        cloudflared: { image: "test/dialer", command: "tunnel --no-autoupdate run --url http://localhost:8080", network_mode: "service:mcp-proxy" },
      },
    });
    await shared.project.up();
    expect(await shared.project.waitForExit("cloudflared")).toBe(0);
    expect(shared.project.logs("cloudflared")).toEqual(["reached: hello from proxy"]);

    const separate = compose({
      services: {
        "mcp-proxy": { image: "test/listener" },
        cloudflared: { image: "test/dialer", command: "tunnel --no-autoupdate run --url http://localhost:8080", depends_on: ["mcp-proxy"] },
      },
    });
    await separate.project.up();
    expect(await separate.project.waitForExit("cloudflared")).toBe(1);
    expect(separate.project.logs("cloudflared")).toEqual(["dial localhost:8080: ECONNREFUSED"]);
  });

  it("does not reach a proxy that listens on another port than the one cloudflared forwards to", async () => {
    const { project } = compose({
      services: {
        "mcp-proxy": { image: "test/listener", command: [":8443"] },
        cloudflared: { image: "test/dialer", command: ["--url", "http://localhost:8080"], network_mode: "service:mcp-proxy" },
      },
    });
    await project.up();
    await project.waitForLog("mcp-proxy", "listening on :8443");
    expect(await project.waitForExit("cloudflared")).toBe(1);
    expect(project.logs("cloudflared")).toEqual(["dial localhost:8080: ECONNREFUSED"]);
  });

  it("resolves service names on the project network and the extra names the runner was given", async () => {
    const upstream = http.createServer((_request, response) => response.end("upstream"));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    try {
      const port = (upstream.address() as AddressInfo).port;
      const { project } = compose(
        {
          services: {
            "hello-mcp": { image: "test/listener", command: [":9000"], environment: { HELLO: "hello-mcp" } },
            "by-service-name": { image: "test/dialer", command: ["--url", "http://hello-mcp:9000"], depends_on: ["hello-mcp"] },
            "by-extra-name": { image: "test/dialer", command: ["--url", `http://upstream.test:${port}`] },
            "no-network": { image: "test/dialer", command: ["--url", "http://hello-mcp:9000"], network_mode: "none" },
          },
        },
        {},
        { names: { "upstream.test": "127.0.0.1" } },
      );
      await project.up();
      expect(await project.waitForExit("by-service-name")).toBe(0);
      expect(await project.waitForExit("by-extra-name")).toBe(0);
      expect(await project.waitForExit("no-network")).toBe(1);
      expect(project.logs("by-service-name")).toEqual(["reached: hello from hello-mcp"]);
      expect(project.logs("by-extra-name")).toEqual(["reached: upstream"]);
      expect(project.logs("no-network")).toEqual(["dial hello-mcp:9000: lookup hello-mcp: no such host"]);
    } finally {
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});

describe("up", () => {
  const stack = {
    services: {
      "mcp-proxy": { image: "test/printer" },
      cloudflared: { image: "test/printer", environment: { TUNNEL_TOKEN: "${TUNNEL_TOKEN}" }, network_mode: "service:mcp-proxy" },
    },
  };

  it("recreates exactly the service whose environment changed after .env was rewritten", async () => {
    const { dir, project } = compose(stack, { ".env": "TUNNEL_TOKEN=first\n" });
    expect(await project.up()).toEqual({ created: ["mcp-proxy", "cloudflared"], recreated: [], started: [], unchanged: [] });
    const before = project.ps();

    fs.writeFileSync(path.join(dir, ".env"), "TUNNEL_TOKEN=second\n");
    expect(await project.up()).toEqual({ created: [], recreated: ["cloudflared"], started: [], unchanged: ["mcp-proxy"] });
    const after = project.ps();
    expect(after.find((c) => c.service === "mcp-proxy")!.containerId).toBe(before.find((c) => c.service === "mcp-proxy")!.containerId);
    expect(after.find((c) => c.service === "cloudflared")!.containerId).not.toBe(before.find((c) => c.service === "cloudflared")!.containerId);
    expect(project.logs("cloudflared")).toContain('env={"TUNNEL_TOKEN":"second"}');

    expect(await project.up()).toEqual({ created: [], recreated: [], started: [], unchanged: ["mcp-proxy", "cloudflared"] });
  });

  it("recreates cloudflared with an empty token when up runs from a shell without the exported token", async () => {
    const { project } = compose(stack, {}, { env: { TUNNEL_TOKEN: "exported" } });
    await project.up();
    expect((await project.up([], { env: {} })).recreated).toEqual(["cloudflared"]);
    expect(project.logs("cloudflared")).toContain('env={"TUNNEL_TOKEN":""}');
    expect(project.warnings).toContain('The "TUNNEL_TOKEN" variable is not set. Defaulting to a blank string.');
  });

  it("recreates the services that share a recreated service's namespace", async () => {
    const { dir, project } = compose({ services: { ...stack.services, "mcp-proxy": { image: "test/printer", environment: ["LEVEL=${LEVEL:-info}"] } } });
    await project.up();
    fs.writeFileSync(path.join(dir, ".env"), "LEVEL=debug\n");
    expect(await project.up()).toEqual({ created: [], recreated: ["mcp-proxy", "cloudflared"], started: [], unchanged: [] });
  });

  it("fails before starting anything when a required variable is unset, in any service", async () => {
    const { project } = compose(
      { services: { proxy: { image: "test/printer" }, setup: { image: "test/printer", profiles: ["setup"], environment: ["TUNNEL_ID=${TUNNEL_ID:?export TUNNEL_ID}"] } } },
      {},
      { env: { TUNNEL_ID: "tnl_1" } },
    );
    await expect(project.up(["proxy"], { env: {} })).rejects.toMatchObject({ code: "VARIABLE_REQUIRED", message: expect.stringContaining("export TUNNEL_ID") });
    expect(project.ps()).toEqual([]);
  });

  it("leaves a profiled service out unless it is named, and run starts it", async () => {
    const { project } = compose({
      services: {
        "mcp-proxy": { image: "test/printer" },
        setup: { image: "test/with-setup", entrypoint: ["/setup"], command: ["init"], profiles: ["setup"] },
      },
    });
    expect((await project.up()).created).toEqual(["mcp-proxy"]);
    expect((await project.run("setup", [], { rm: true })).logs).toEqual(['setup argv=["init"]']);
    expect((await project.up(["setup"])).created).toEqual(["setup"]);
  });

  it("starts a profiled service when COMPOSE_PROFILES names its profile", async () => {
    const { project } = compose({ services: { setup: { image: "test/printer", profiles: ["setup"] } } }, { ".env": "COMPOSE_PROFILES=setup\n" });
    expect((await project.up()).created).toEqual(["setup"]);
  });

  it("starts network_mode and depends_on targets first, even when only the dependent is named", async () => {
    const { project } = compose({
      services: {
        cloudflared: { image: "test/printer", network_mode: "service:mcp-proxy" },
        "mcp-proxy": { image: "test/printer", depends_on: ["hello-mcp"] },
        "hello-mcp": { image: "test/printer" },
      },
    });
    expect((await project.up(["cloudflared"])).created).toEqual(["hello-mcp", "mcp-proxy", "cloudflared"]);
  });

  it("names the service and the image it has no twin for, and starts it once a mirror is mapped", async () => {
    const document = { services: { cloudflared: { image: "mirror.example/cloudflare/cloudflared:2025.8.0" } } };
    const unknown = compose(document);
    await expect(unknown.project.up()).rejects.toThrow('cloudflared: service "cloudflared": no twin for image "mirror.example/cloudflare/cloudflared:2025.8.0"');

    const mirrored = compose(document, {}, { images: { ...TEST_IMAGES, "mirror.example/cloudflare/cloudflared": printer } });
    expect((await mirrored.project.up()).created).toEqual(["cloudflared"]);
  });

  it("refuses an entrypoint the image has no twin for", async () => {
    const { project } = compose({ services: { shell: { image: "test/with-setup", entrypoint: ["/bin/sh", "-c"] } } });
    await expect(project.up()).rejects.toThrow(/no twin for entrypoint \["\/bin\/sh","-c"\]/);
  });
});

describe("mounts and users", () => {
  it("refuses a write to a read-only mount and outside the mounts of a read_only container", async () => {
    const { project } = compose({
      services: {
        tool: { image: "test/file-tool", read_only: true, volumes: ["./data:/data:ro", "./out:/out"] },
      },
    });
    const result = await project.run("tool", ["write", "/data/tls.key", "/out/ok", "/tmp/scratch"], { rm: true });
    expect(result.logs).toEqual(["open /data/tls.key: read-only file system", "wrote /out/ok", "open /tmp/scratch: read-only file system"]);
    expect(result.exitCode).toBe(1);
  });

  it("lets a container without read_only write to its own layer, which the host never sees", async () => {
    const { dir, project } = compose({ services: { tool: { image: "test/file-tool" } } });
    const result = await project.run("tool", ["write", "/tmp/scratch"], { rm: true });
    expect(result.logs).toEqual(["wrote /tmp/scratch"]);
    expect(fs.readdirSync(dir)).toEqual(["docker-compose.yml"]);
  });

  it("opens files as the user: a root-owned 0600 key is refused to 65532, readable once chmod 644", async () => {
    const { dir, project } = compose({ services: { proxy: { image: "test/file-tool", user: "65532:65532", read_only: true, volumes: ["./data:/data:ro"] } } }, { "data/tls.key": "KEY" });
    fs.chmodSync(path.join(dir, "data/tls.key"), 0o600);
    expect((await project.run("proxy", ["read", "/data/tls.key"], { rm: true })).logs).toEqual(["open /data/tls.key: permission denied"]);
    fs.chmodSync(path.join(dir, "data/tls.key"), 0o644);
    expect((await project.run("proxy", ["read", "/data/tls.key"], { rm: true })).logs).toEqual(["read /data/tls.key: KEY"]);
  });

  it("runs as root when user is absent, and as the given uid:gid otherwise", async () => {
    const { project } = compose({ services: { root: { image: "test/printer" }, nonroot: { image: "test/printer", user: "65532:65532" } } });
    await project.up();
    expect(project.logs("root")).toContain("user=0:0");
    expect(project.logs("nonroot")).toContain("user=65532:65532");
  });

  it("creates a missing bind source as a directory, so a config file never written is mounted as one", async () => {
    const { dir, project } = compose({ services: { "mcp-proxy": { image: "test/config-reader", command: ["/etc/mcp-gateway/config.yaml"], volumes: ["./config/mcp-proxy.yaml:/etc/mcp-gateway/config.yaml:ro"] } } });
    await project.up();
    expect(await project.waitForExit("mcp-proxy")).toBe(1);
    expect(project.logs("mcp-proxy")).toEqual(["read /etc/mcp-gateway/config.yaml: is a directory"]);
    expect(fs.statSync(path.join(dir, "config/mcp-proxy.yaml")).isDirectory()).toBe(true);
  });

  it("fails a long-syntax bind whose source is missing, and a relative mount target, as the daemon does", async () => {
    const { project } = compose({
      services: {
        long: { image: "test/printer", volumes: [{ type: "bind", source: "./absent", target: "/absent" }] },
        relative: { image: "test/printer", volumes: ["./data:data"] },
      },
    });
    const failure = project.up();
    await expect(failure).rejects.toThrow(/long: Error response from daemon: invalid mount config for type "bind": bind source path does not exist: .*\/absent/);
    await expect(failure).rejects.toThrow(/relative: Error response from daemon: invalid mount config: invalid mount path: 'data' mount path must be absolute/);
  });

  it("does not restart the proxy when only a mounted file's content changed; restart picks it up", async () => {
    const { dir, project } = compose(
      { services: { "mcp-proxy": { image: "test/config-reader", command: ["/etc/mcp-gateway/config.yaml"], volumes: ["./config/mcp-proxy.yaml:/etc/mcp-gateway/config.yaml:ro"] } } },
      { "config/mcp-proxy.yaml": "routes: {echo: http://hello-mcp:9000}" },
    );
    await project.up();
    fs.writeFileSync(path.join(dir, "config/mcp-proxy.yaml"), "routes: {docs: http://docs:9000}");
    expect((await project.up()).unchanged).toEqual(["mcp-proxy"]);
    expect(project.logs("mcp-proxy")).toEqual(["config: routes: {echo: http://hello-mcp:9000}"]);

    await project.restart("mcp-proxy");
    expect(project.logs("mcp-proxy")).toEqual(["config: routes: {echo: http://hello-mcp:9000}", "config: routes: {docs: http://docs:9000}"]);
  });
});

describe("run", () => {
  const setupStack = {
    services: {
      setup: { image: "test/with-setup", entrypoint: ["/setup"], command: ["init", "--output=dir:/data", "--token-version=1"], profiles: ["setup"] },
      plain: { image: "test/with-setup", command: "serve --port 1" },
    },
  };

  it("replaces command with its args and keeps the entrypoint", async () => {
    const { project } = compose(setupStack);
    expect(await project.run("setup", ["renew-cert", "--output=dir:/data"], { rm: true })).toEqual({ exitCode: 0, logs: ['setup argv=["renew-cert","--output=dir:/data"]'] });
    expect((await project.run("setup", [], { rm: true })).logs).toEqual(['setup argv=["init","--output=dir:/data","--token-version=1"]']);
    expect((await project.run("plain", ["other"], { rm: true })).logs).toEqual(['main argv=["other"]']);
  });

  it("passes the entrypoint's own arguments before the command", async () => {
    const { project } = compose({ services: { setup: { image: "test/with-setup", entrypoint: "/setup --verbose", command: ["init"] } } });
    expect((await project.run("setup")).logs).toEqual(['setup argv=["--verbose","init"]']);
  });

  it("returns the one-off container's exit code and ignores the restart policy", async () => {
    const { project } = compose({ services: { job: { image: "test/with-setup", restart: "unless-stopped", environment: { EXIT_CODE: "3" } } } });
    expect((await project.run("job", [], { rm: true })).exitCode).toBe(3);
  });

  it("starts the service whose namespace the one-off container joins", async () => {
    const { project } = compose({
      services: {
        "mcp-proxy": { image: "test/listener" },
        probe: { image: "test/dialer", command: ["--url", "http://localhost:8080"], network_mode: "service:mcp-proxy", profiles: ["debug"] },
      },
    });
    expect((await project.run("probe", [], { rm: true })).logs).toEqual(["reached: hello from listener"]);
    expect(project.ps().map((c) => [c.service, c.state])).toEqual([["mcp-proxy", "running"]]);
  });
});

describe("restart policies and stopping", () => {
  it(`restarts a twin that keeps exiting under unless-stopped at most ${RESTART_LIMIT} times, and records each restart`, async () => {
    const { project } = compose({ services: { proxy: { image: "test/crasher", restart: "unless-stopped" }, once: { image: "test/crasher" } } });
    await project.up();
    expect(await project.waitForExit("proxy")).toBe(1);
    expect(await project.waitForExit("once")).toBe(1);
    expect(project.ps().map(({ service, restarts, state }) => ({ service, restarts, state }))).toEqual([
      { service: "proxy", restarts: RESTART_LIMIT, state: "exited" },
      { service: "once", restarts: 0, state: "exited" },
    ]);
    expect(project.logs("proxy")).toEqual(Array(RESTART_LIMIT + 1).fill("crashing"));
  });

  it("honours on-failure:N's own retry count", async () => {
    const { project } = compose({ services: { proxy: { image: "test/crasher", restart: "on-failure:1" } } });
    await project.up();
    await project.waitForExit("proxy");
    expect(project.ps()[0]!.restarts).toBe(1);
  });

  it("does not restart a twin stopped on purpose, and up starts it again as it was", async () => {
    const { project } = compose({ services: { proxy: { image: "test/printer", restart: "unless-stopped" } } });
    await project.up();
    await project.stop("proxy");
    expect(project.ps()[0]).toMatchObject({ state: "exited", restarts: 0 });
    expect(await project.up()).toMatchObject({ started: ["proxy"] });
    expect(project.ps()[0]).toMatchObject({ state: "running", containerId: 1 });
  });

  it("kills a twin that outlives stop_grace_period, with Docker's exit code 137", async () => {
    const { project } = compose({ services: { proxy: { image: "test/stubborn", stop_grace_period: "50ms" } } });
    await project.up();
    await project.stop("proxy");
    expect(project.ps()[0]).toMatchObject({ state: "exited", exitCode: 137, killed: true });
  });

  it("removes every container on down", async () => {
    const { project } = compose({ services: { "mcp-proxy": { image: "test/listener" }, cloudflared: { image: "test/printer", network_mode: "service:mcp-proxy" } } });
    await project.up();
    await project.down();
    expect(project.ps()).toEqual([]);
  });
});

describe("waiting on logs", () => {
  it("resolves with the line once it was logged the asked number of times", async () => {
    const { project } = compose({ services: { proxy: { image: "test/crasher", restart: "always" } } });
    await project.up();
    expect(await project.waitForLog("proxy", /crash/, { count: 2 })).toBe("crashing");
  });

  it("fails at once with the last lines when the container exits first", async () => {
    const { project } = compose({ services: { proxy: { image: "test/crasher" } } });
    await project.up();
    await expect(project.waitForLog("proxy", "route configured")).rejects.toMatchObject({
      code: "CONTAINER_EXITED",
      message: "proxy exited with code 1 before logging route configured; last log lines:\n  crashing",
    });
  });

  it("fails with the last lines when the bound runs out", async () => {
    const { project } = compose({ services: { proxy: { image: "test/printer" } } });
    await project.up();
    await expect(project.waitForLog("proxy", "never logged", { timeoutMs: 20 })).rejects.toMatchObject({ code: "WAIT_TIMEOUT", message: expect.stringContaining("  user=0:0") });
  });
});

describe("config", () => {
  it("returns the resolved model and rejects an unknown service name", async () => {
    const { project } = compose({ services: { proxy: { image: "test/printer", environment: ["A=${A:-default}"] } } });
    expect(project.config().services.get("proxy")!.environment).toEqual({ A: "default" });
    await expect(project.up(["nope"])).rejects.toMatchObject({ code: "SERVICE_UNKNOWN", message: "no such service: nope" });
  });
});
