import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loopbackSubnet, NetworkNamespace, type ContainerContext, type Mount, type OutsideWorld, type RunningTwin, type TwinMain } from "./container";
import { LayeredContainerFs } from "./compose-container-fs";
import { ComposeError } from "./compose-error";
import { dependenciesOf, loadComposeModel, startOrder, type ComposeModel, type ServiceModel, type ShellEnv } from "./compose-file";
import { DOCUMENTED_IMAGES, resolveImageTwin, type ImageRegistry } from "./compose-images";

/**
 * Restart policies are honoured a bounded number of times, so a twin that fails at start ends
 * in `exited` instead of looping for the rest of the test run. Docker's own backoff starts at
 * 100 ms and doubles; so does this one.
 */
export const RESTART_LIMIT = 3;
const RESTART_BACKOFF_MS = 100;
const DEFAULT_WAIT_MS = 10_000;
const LOG_TAIL_LINES = 10;
/** What Docker reports for a container it had to SIGKILL after `stop_grace_period`. */
const KILLED_EXIT_CODE = 137;

export interface ComposeProjectOptions {
  /** The shell environment `docker compose` runs in (not `process.env` unless you pass it). */
  env?: ShellEnv;
  outside: OutsideWorld;
  /** Host names every container on the project network resolves besides the service names (the test's upstreams) → IPv4. */
  names?: Readonly<Record<string, string>>;
  /** Twins by image repository, over DOCUMENTED_IMAGES: a mirror, or a test's own twin in place of a documented one. */
  images?: ImageRegistry;
  /** The compose file in the project directory, as `-f` gives it. */
  file?: string;
  /** Every container log line as it is written, as `docker compose up` (attached) prints it. */
  onLog?: (service: string, line: string) => void;
}

export interface CommandOptions {
  /** This command's shell environment, in place of the project's (a new shell, an `export`). */
  env?: ShellEnv;
}

export type ContainerState = "created" | "running" | "restarting" | "exited";

export interface ContainerStatus {
  service: string;
  /** Changes when the container is recreated, not when it restarts. */
  containerId: number;
  state: ContainerState;
  exitCode?: number;
  /** Restarts made by the restart policy (not by `restart`). */
  restarts: number;
  /** Stopped by SIGKILL after `stop_grace_period`. */
  killed: boolean;
}

/** What `up` did, by service, in start order. */
export interface UpResult {
  created: string[];
  recreated: string[];
  /** Existing containers started again, with their recorded configuration. */
  started: string[];
  /** Running with an unchanged configuration: left alone. */
  unchanged: string[];
}

export interface RunResult {
  exitCode: number;
  logs: string[];
}

export interface WaitOptions {
  timeoutMs?: number;
}

export interface WaitForLogOptions extends WaitOptions {
  /** How many matching lines to wait for (cloudflared registers four connections). */
  count?: number;
  /** Ignore lines before this index, e.g. `logs(service).length` taken before a restart. */
  since?: number;
}

class Container {
  readonly logs: string[] = [];
  state: ContainerState = "created";
  exitCode: number | undefined;
  restarts = 0;
  killed = false;
  twin: RunningTwin | undefined;
  stopRequested = false;
  restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly service: ServiceModel,
    /** The configuration `up` compares to decide on recreation. */
    readonly hash: string,
    readonly main: TwinMain,
    readonly argv: string[],
    readonly fs: LayeredContainerFs,
    readonly net: NetworkNamespace,
    /** Host directories that live and die with this container (layer, tmpfs, anonymous volumes). */
    readonly scratch: string[],
    readonly oneOff: boolean,
  ) {}
}

/**
 * A Compose project run with twins in place of containers, the way `docker compose` would run
 * it: the file is read again by every command (so a rewritten `.env` or compose file takes
 * effect at the next `up`, and only there), interpolated as a whole, and each service's twin
 * gets the argv, environment, mounts, user and network namespace the file gives it.
 */
export class ComposeProject {
  /** Everything `docker compose` printed as warnings, command after command. */
  readonly warnings: string[] = [];
  private readonly containers = new Map<string, Container>();
  /** One-off containers run without --rm: kept, as Docker keeps them, until down. */
  private readonly keptOneOffs: Container[] = [];
  private readonly events = new EventEmitter();
  private readonly subnet = loopbackSubnet();
  private nextAddress = 0;
  private nextContainerId = 1;
  private readonly addresses = new Map<string, string>();
  private readonly namespaces = new Map<string, NetworkNamespace>();
  private readonly extraNames: ReadonlyMap<string, string>;
  /** Compose DNS on the project network: running services, then the extra names. */
  private readonly projectNames: Map<string, string>;
  private scratchRoot: string | undefined;
  private model: ComposeModel;

  private constructor(
    readonly dir: string,
    private readonly options: ComposeProjectOptions,
  ) {
    this.events.setMaxListeners(0);
    this.extraNames = new Map(Object.entries(options.names ?? {}).map(([name, address]) => [name.toLowerCase(), address]));
    this.projectNames = new Map(this.extraNames);
    this.model = this.resolve(undefined);
  }

  /** Reads and checks the project as `docker compose config` would; fails with the same errors. */
  static load(dir: string, options: ComposeProjectOptions): ComposeProject {
    return new ComposeProject(path.resolve(dir), options);
  }

  /** The resolved model (`docker compose config`), read afresh. */
  config(options: CommandOptions = {}): ComposeModel {
    return this.resolve(options.env);
  }

  /**
   * `docker compose up -d [services…]`: starts what is not running, recreates a running service
   * whose resolved configuration changed (image, entrypoint, command, environment after
   * interpolation, mounts, user…), and leaves the rest alone. A mounted file's content is not
   * part of the configuration, so editing `config.yaml` restarts nothing.
   */
  async up(services: readonly string[] = [], options: CommandOptions = {}): Promise<UpResult> {
    const model = this.resolve(options.env);
    for (const name of services) this.service(model, name);
    const targets = services.length > 0 ? [...services] : [...model.services.values()].filter((service) => isActive(service, model)).map((service) => service.name);
    return this.converge(model, startOrder(model.services, targets));
  }

  /**
   * `docker compose run [--rm] SERVICE [ARGS…]`: a one-off container of the service, after its
   * dependencies are up; ARGS replace `command` and keep `entrypoint`. Restart policies do not
   * apply. Resolves when the twin exits.
   */
  async run(serviceName: string, args: readonly string[] = [], options: CommandOptions & { rm?: boolean } = {}): Promise<RunResult> {
    const model = this.resolve(options.env);
    const service = this.service(model, serviceName);
    const dependencies = startOrder(model.services, dependenciesOf(service));
    if (dependencies.length > 0) await this.converge(model, dependencies);
    const oneOff: ServiceModel = { ...service, command: args.length > 0 ? [...args] : service.command };
    const container = this.create(oneOff, "", true);
    await this.launch(container);
    const exitCode = await this.untilSettled(container);
    if (options.rm) this.remove(container);
    else this.keptOneOffs.push(container);
    return { exitCode, logs: [...container.logs] };
  }

  /**
   * `docker compose restart SERVICE`: the same container stopped and started again, with the
   * configuration it was created with; a changed `.env` or compose file is not picked up (that
   * takes `up`), a changed mounted file is, since the process reads it again.
   */
  async restart(serviceName: string, options: CommandOptions = {}): Promise<void> {
    const model = this.resolve(options.env);
    this.service(model, serviceName);
    const container = this.containers.get(serviceName);
    if (!container) return;
    await this.stopContainer(container);
    await this.launch(container);
  }

  /** `docker compose stop SERVICE`: SIGTERM, then SIGKILL after `stop_grace_period`. */
  async stop(serviceName: string, options: CommandOptions = {}): Promise<void> {
    const model = this.resolve(options.env);
    this.service(model, serviceName);
    const container = this.containers.get(serviceName);
    if (container) await this.stopContainer(container);
  }

  /** `docker compose logs SERVICE` of the current container (all its runs; a recreated container starts empty). */
  logs(serviceName: string): string[] {
    this.service(this.model, serviceName);
    return [...(this.containers.get(serviceName)?.logs ?? [])];
  }

  /** `docker compose ps -a`. */
  ps(): ContainerStatus[] {
    return [...this.containers.values()].map((container) => ({
      service: container.service.name,
      containerId: container.id,
      state: container.state,
      ...(container.exitCode === undefined ? {} : { exitCode: container.exitCode }),
      restarts: container.restarts,
      killed: container.killed,
    }));
  }

  /**
   * Resolves with the matching line once the service has logged `pattern` (`count` times);
   * fails at once if the container exits for good first, and after `timeoutMs` otherwise, each
   * time with the last lines of its log.
   */
  waitForLog(serviceName: string, pattern: RegExp | string, options: WaitForLogOptions = {}): Promise<string> {
    const count = options.count ?? 1;
    const matches = (line: string) => (typeof pattern === "string" ? line.includes(pattern) : line.search(pattern) >= 0);
    return this.waitUntil<string>(
      () => {
        const container = this.containers.get(serviceName);
        if (!container) return undefined;
        const found = container.logs.slice(options.since ?? 0).filter(matches);
        if (found.length >= count) return { value: found[count - 1]! };
        if (container.state === "exited") return { error: this.waitError("CONTAINER_EXITED", `${serviceName} exited with code ${container.exitCode} before logging ${String(pattern)}`, container) };
        return undefined;
      },
      options.timeoutMs,
      () => this.waitError("WAIT_TIMEOUT", `timed out waiting for ${serviceName} to log ${String(pattern)}${count > 1 ? ` ${count} times` : ""}`, this.containers.get(serviceName)),
    );
  }

  /** Resolves with the exit code once the service's container has exited with no restart pending. */
  waitForExit(serviceName: string, options: WaitOptions = {}): Promise<number> {
    return this.waitUntil(
      () => {
        const container = this.containers.get(serviceName);
        return container?.state === "exited" ? { value: container.exitCode ?? 0 } : undefined;
      },
      options.timeoutMs,
      () => this.waitError("WAIT_TIMEOUT", `timed out waiting for ${serviceName} to exit`, this.containers.get(serviceName)),
    );
  }

  /** `docker compose down`: stops every container, dependents first, and removes them. */
  async down(): Promise<void> {
    const known = [...this.model.services.keys()].filter((name) => this.containers.has(name));
    const order = startOrder(this.model.services, known).reverse();
    for (const name of [...this.containers.keys()]) if (!order.includes(name)) order.push(name);
    for (const name of order) {
      const container = this.containers.get(name)!;
      await this.stopContainer(container);
      this.remove(container);
    }
    for (const container of this.keptOneOffs.splice(0)) this.remove(container);
    if (this.scratchRoot) fs.rmSync(this.scratchRoot, { recursive: true, force: true });
    this.scratchRoot = undefined;
  }

  private resolve(env: ShellEnv | undefined): ComposeModel {
    const model = loadComposeModel(this.dir, { env: env ?? this.options.env ?? {}, ...(this.options.file ? { file: this.options.file } : {}) });
    this.warnings.push(...model.warnings);
    this.model = model;
    return model;
  }

  private service(model: ComposeModel, name: string): ServiceModel {
    const service = model.services.get(name);
    if (!service) throw new ComposeError("SERVICE_UNKNOWN", `no such service: ${name}`);
    return service;
  }

  private async converge(model: ComposeModel, order: readonly string[]): Promise<UpResult> {
    const result: UpResult = { created: [], recreated: [], started: [], unchanged: [] };
    const failures: string[] = [];
    const failed = new Set<string>();
    for (const name of order) {
      const service = model.services.get(name)!;
      try {
        const blocked = dependenciesOf(service).find((dependency) => failed.has(dependency));
        if (blocked) throw new ComposeError("START_FAILED", `dependency ${blocked} failed to start`);
        await this.awaitConditions(service);
        result[await this.ensure(service)].push(name);
      } catch (error) {
        failed.add(name);
        failures.push(`${name}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) throw new ComposeError("UP_FAILED", `${failures.length} of ${order.length} services did not start:\n${failures.join("\n")}`, "see the failing service's error and logs");
    return result;
  }

  private async awaitConditions(service: ServiceModel): Promise<void> {
    for (const dependency of service.dependsOn) {
      if (dependency.condition !== "service_completed_successfully") continue;
      const container = this.containers.get(dependency.service);
      const code = container ? await this.untilSettled(container) : 0;
      if (code !== 0) throw new ComposeError("START_FAILED", `service "${dependency.service}" didn't complete successfully: exit ${code}`);
    }
  }

  private async ensure(service: ServiceModel): Promise<keyof UpResult> {
    const existing = this.containers.get(service.name);
    const hash = this.configurationHash(service);
    if (existing && existing.hash === hash) {
      if (existing.state === "running" || existing.state === "restarting") return "unchanged";
      await this.launch(existing);
      return "started";
    }
    const container = this.create(service, hash, false);
    if (existing) {
      await this.stopContainer(existing);
      this.remove(existing);
    }
    this.containers.set(service.name, container);
    await this.launch(container);
    return existing ? "recreated" : "created";
  }

  /**
   * The container's configuration as `up` compares it. For `network_mode: service:X` it takes
   * in X's current container, since a recreated X is a new namespace and Compose recreates the
   * services that joined the old one.
   */
  private configurationHash(service: ServiceModel): string {
    const owner = service.networkMode.kind === "service" ? this.containers.get(service.networkMode.service)?.id : undefined;
    return canonicalJson({ service, networkOwner: owner ?? null });
  }

  private create(service: ServiceModel, hash: string, oneOff: boolean): Container {
    const { main, argv } = resolveImageTwin([DOCUMENTED_IMAGES, this.options.images ?? {}], service.name, service.image, service.entrypoint, service.command ?? []);
    const id = this.nextContainerId++;
    const scratch: string[] = [];
    const scratchDir = (purpose: string, mode: number) => {
      const dir = fs.mkdtempSync(path.join(this.scratchDirectory(), `${service.name}-${id}-${purpose}-`));
      fs.chmodSync(dir, mode);
      scratch.push(dir);
      return dir;
    };
    const mounts: Mount[] = service.mounts.map((mount) => {
      if (!mount.target.startsWith("/")) throw new ComposeError("START_FAILED", `Error response from daemon: invalid mount config: invalid mount path: '${mount.target}' mount path must be absolute`);
      switch (mount.type) {
        case "bind":
          if (!fs.existsSync(mount.source)) {
            // Docker creates a missing short-syntax source as an empty root-owned directory, so a
            // file that was never written is mounted as a directory.
            if (!mount.createHostPath) throw new ComposeError("START_FAILED", `Error response from daemon: invalid mount config for type "bind": bind source path does not exist: ${mount.source}`);
            fs.mkdirSync(mount.source, { recursive: true, mode: 0o755 });
          }
          return { target: mount.target, source: mount.source, readOnly: mount.readOnly };
        case "volume": {
          if (mount.name === undefined) return { target: mount.target, source: scratchDir("anonymous", 0o755), readOnly: mount.readOnly };
          const source = path.join(this.scratchDirectory(), "volumes", mount.name);
          fs.mkdirSync(source, { recursive: true, mode: 0o755 });
          return { target: mount.target, source, readOnly: mount.readOnly };
        }
        case "tmpfs":
          return { target: mount.target, source: scratchDir("tmpfs", 0o1777), readOnly: false };
      }
    });
    let layer: string | undefined;
    if (!service.readOnly) {
      layer = scratchDir("layer", 0o755);
      fs.mkdirSync(path.join(layer, "tmp"), { mode: 0o1777 });
      fs.chmodSync(path.join(layer, "tmp"), 0o1777);
    }
    const containerFs = new LayeredContainerFs(mounts, service.user, layer);
    return new Container(id, service, hash, main, argv, containerFs, this.namespaceFor(service, oneOff), scratch, oneOff);
  }

  private scratchDirectory(): string {
    this.scratchRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), "compose-twin-"));
    return this.scratchRoot;
  }

  /** One address per service (kept across recreation); a one-off container gets its own. */
  private namespaceFor(service: ServiceModel, oneOff: boolean): NetworkNamespace {
    const mode = service.networkMode;
    if (mode.kind === "service") {
      const owner = this.model.services.get(mode.service);
      if (!owner) throw new ComposeError("SERVICE_UNKNOWN", `no such service: ${mode.service}`);
      return this.namespaceFor(owner, false);
    }
    const names = mode.kind === "project" ? this.projectNames : mode.kind === "bridge" ? this.extraNames : new Map<string, string>();
    if (oneOff) return new NetworkNamespace(this.subnet(this.nextAddress++), names);
    const key = `${service.name}/${mode.kind}`;
    let namespace = this.namespaces.get(key);
    if (!namespace) {
      let address = this.addresses.get(service.name);
      if (!address) {
        address = this.subnet(this.nextAddress++);
        this.addresses.set(service.name, address);
      }
      namespace = new NetworkNamespace(address, names);
      this.namespaces.set(key, namespace);
    }
    return namespace;
  }

  private async launch(container: Container): Promise<void> {
    container.stopRequested = false;
    const context: ContainerContext = {
      argv: [...container.argv],
      env: { ...container.service.environment },
      fs: container.fs,
      net: container.net,
      outside: this.options.outside,
      log: (line) => {
        container.logs.push(line);
        this.options.onLog?.(container.service.name, line);
        this.events.emit("change");
      },
    };
    let twin: RunningTwin;
    try {
      twin = await container.main(context);
    } catch (error) {
      // A process that dies before it is up is a container that exits 1 with the error in its log.
      context.log((error as Error).message);
      twin = { exited: Promise.resolve(1), stop: async () => undefined };
    }
    container.twin = twin;
    container.state = "running";
    container.exitCode = undefined;
    this.register(container);
    this.events.emit("change");
    twin.exited.then(
      (code) => this.onExit(container, twin, code),
      (error: unknown) => {
        context.log((error as Error).message);
        this.onExit(container, twin, 1);
      },
    );
  }

  private onExit(container: Container, twin: RunningTwin, code: number): void {
    if (container.twin !== twin) return;
    container.twin = undefined;
    container.exitCode = code;
    this.unregister(container);
    if (!container.stopRequested && this.restartsAfter(container, code)) {
      container.state = "restarting";
      container.restartTimer = setTimeout(() => {
        container.restartTimer = undefined;
        container.restarts += 1;
        void this.launch(container);
      }, RESTART_BACKOFF_MS * 2 ** container.restarts);
      container.restartTimer.unref();
    } else {
      container.state = "exited";
    }
    this.events.emit("change");
  }

  private restartsAfter(container: Container, code: number): boolean {
    if (container.oneOff || container.restarts >= RESTART_LIMIT) return false;
    const policy = container.service.restart;
    switch (policy.condition) {
      case "always":
      case "unless-stopped":
        return true;
      case "on-failure":
        return code !== 0 && (policy.maxRetries === undefined || container.restarts < policy.maxRetries);
      case "no":
        return false;
    }
  }

  private async stopContainer(container: Container): Promise<void> {
    container.stopRequested = true;
    if (container.restartTimer) clearTimeout(container.restartTimer);
    container.restartTimer = undefined;
    const twin = container.twin;
    if (!twin) {
      if (container.state !== "created") container.state = "exited";
      this.events.emit("change");
      return;
    }
    let graceTimer: NodeJS.Timeout | undefined;
    const killed = new Promise<"killed">((resolve) => {
      graceTimer = setTimeout(() => resolve("killed"), container.service.stopGracePeriodMs);
    });
    const stopped = twin
      .stop()
      .then(() => twin.exited)
      .catch(() => 1);
    const outcome = await Promise.race([stopped, killed]);
    clearTimeout(graceTimer);
    if (outcome === "killed" && container.twin === twin) {
      // The twin cannot be killed in-process: it is abandoned, and its late exit is ignored.
      container.twin = undefined;
      container.killed = true;
      container.exitCode = KILLED_EXIT_CODE;
      container.state = "exited";
      this.unregister(container);
      this.events.emit("change");
    }
  }

  private remove(container: Container): void {
    if (this.containers.get(container.service.name) === container) this.containers.delete(container.service.name);
    for (const dir of container.scratch) fs.rmSync(dir, { recursive: true, force: true });
  }

  private register(container: Container): void {
    if (container.oneOff || container.service.networkMode.kind !== "project") return;
    this.projectNames.set(container.service.name.toLowerCase(), container.net.address);
  }

  private unregister(container: Container): void {
    if (container.oneOff || container.service.networkMode.kind !== "project") return;
    const name = container.service.name.toLowerCase();
    const extra = this.extraNames.get(name);
    if (extra === undefined) this.projectNames.delete(name);
    else this.projectNames.set(name, extra);
  }

  private untilSettled(container: Container): Promise<number> {
    return this.waitUntil(() => (container.state === "exited" ? { value: container.exitCode ?? 0 } : undefined), Number.POSITIVE_INFINITY, () => this.waitError("WAIT_TIMEOUT", "never", container));
  }

  private waitUntil<T>(check: () => { value: T } | { error: Error } | undefined, timeoutMs: number | undefined, timeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (timer) clearTimeout(timer);
        this.events.off("change", evaluate);
      };
      const evaluate = () => {
        let outcome: ReturnType<typeof check>;
        try {
          outcome = check();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (!outcome) return;
        finish();
        if ("value" in outcome) resolve(outcome.value);
        else reject(outcome.error);
      };
      const limit = timeoutMs ?? DEFAULT_WAIT_MS;
      if (Number.isFinite(limit)) {
        timer = setTimeout(() => {
          finish();
          reject(timeout());
        }, limit);
      }
      this.events.on("change", evaluate);
      evaluate();
    });
  }

  private waitError(code: "WAIT_TIMEOUT" | "CONTAINER_EXITED", message: string, container: Container | undefined): ComposeError {
    const tail = container?.logs.slice(-LOG_TAIL_LINES) ?? [];
    return new ComposeError(code, `${message}; last log lines:\n${tail.length > 0 ? tail.map((line) => `  ${line}`).join("\n") : "  (none)"}`, "read logs(service) for the whole log");
  }
}

/** Without names on the command line, `up` starts the services with no profile or an active one. */
function isActive(service: ServiceModel, model: ComposeModel): boolean {
  if (service.profiles.length === 0) return true;
  const active = (model.environment.COMPOSE_PROFILES ?? "").split(",").map((profile) => profile.trim());
  return service.profiles.some((profile) => active.includes(profile));
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === "object" && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item,
  );
}
