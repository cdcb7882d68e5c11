import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { ROOT_USER, type ContainerUser } from "./container";
import { splitCommandLine } from "./compose-command-line";
import { composeDuration } from "./compose-duration";
import { readEnvFile } from "./compose-env-file";
import { ComposeError } from "./compose-error";
import { interpolateDocument, type VariableLookup } from "./compose-interpolation";

/** The files `docker compose` looks for, in its order, when no `-f` is given. */
export const COMPOSE_FILE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"] as const;

/** The shell environment of one `docker compose` command; undefined = unset. */
export type ShellEnv = Readonly<Record<string, string | undefined>>;

export interface BindMount {
  type: "bind";
  /** Absolute host path. */
  source: string;
  target: string;
  readOnly: boolean;
  /** Short syntax: Docker creates a missing source as a directory; long syntax fails unless `bind.create_host_path`. */
  createHostPath: boolean;
}

export interface VolumeMount {
  type: "volume";
  /** A top-level `volumes:` name; undefined for an anonymous volume (`- /target`). */
  name?: string;
  target: string;
  readOnly: boolean;
}

export interface TmpfsMount {
  type: "tmpfs";
  target: string;
}

export type ServiceMount = BindMount | VolumeMount | TmpfsMount;

export type NetworkMode =
  /** The project's default network: own namespace, Compose DNS. */
  | { kind: "project" }
  /** `service:X`: X's namespace, so `localhost` is X's. */
  | { kind: "service"; service: string }
  /** `none`: own namespace, nothing resolves. */
  | { kind: "none" }
  /** `bridge`: Docker's default bridge, outside the project, so no service names resolve. */
  | { kind: "bridge" };

export interface RestartPolicy {
  condition: "no" | "always" | "unless-stopped" | "on-failure";
  /** `on-failure:N`. */
  maxRetries?: number;
}

export interface Dependency {
  service: string;
  condition: "service_started" | "service_healthy" | "service_completed_successfully";
}

export interface LoggingConfig {
  driver?: string;
  options: Record<string, string>;
}

/** One service after interpolation, with every path absolute and every default applied. */
export interface ServiceModel {
  name: string;
  image: string;
  /** Undefined keeps the image's entrypoint. */
  entrypoint?: string[];
  /** Undefined keeps the image's command (none, for the twins). */
  command?: string[];
  /** `env_file` entries, then `environment` over them. */
  environment: Record<string, string>;
  user: ContainerUser;
  readOnly: boolean;
  mounts: ServiceMount[];
  networkMode: NetworkMode;
  dependsOn: Dependency[];
  profiles: string[];
  restart: RestartPolicy;
  stopGracePeriodMs: number;
  logging?: LoggingConfig;
  securityOpt: string[];
  capAdd: string[];
  capDrop: string[];
  /** Keys Docker accepts that the runner keeps but does not act on (ports, labels, healthcheck…). */
  ignored: Record<string, unknown>;
}

export interface ComposeModel {
  /** The compose file's directory: relative paths and `.env` are taken from here. */
  projectDir: string;
  file: string;
  name: string;
  /** In file order. */
  services: ReadonlyMap<string, ServiceModel>;
  /** What `docker compose` prints before it acts (unset variables, obsolete keys). */
  warnings: string[];
  /** Shell environment over `.env`: what interpolation and pass-through variables read. */
  environment: Readonly<Record<string, string>>;
}

const DEFAULT_STOP_GRACE_MS = 10_000;

const TOP_LEVEL_KEYS = new Set(["version", "name", "services", "networks", "volumes", "configs", "secrets"]);

const MODELLED_KEYS = new Set([
  "image", "entrypoint", "command", "environment", "env_file", "user", "read_only", "volumes", "tmpfs", "network_mode",
  "depends_on", "profiles", "restart", "stop_grace_period", "logging", "security_opt", "cap_add", "cap_drop",
]);

/** Keys a Docker Compose file may carry that the twin keeps without acting on them. */
const IGNORED_KEYS = new Set([
  "annotations", "attach", "blkio_config", "cgroup", "cgroup_parent", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota",
  "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "deploy", "develop", "device_cgroup_rules", "devices", "dns", "dns_opt",
  "dns_search", "domainname", "expose", "external_links", "extra_hosts", "gpus", "group_add", "healthcheck", "hostname", "init", "ipc",
  "isolation", "labels", "links", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit", "networks",
  "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports", "privileged", "pull_policy", "runtime", "scale", "shm_size",
  "stdin_open", "stop_signal", "storage_opt", "sysctls", "tty", "ulimits", "userns_mode", "uts", "working_dir",
]);

/** Keys that change what the container sees in ways the twin cannot stand for: refused, not ignored. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  build: "the twin runs images, it does not build them",
  extends: "inline the extended service",
  secrets: "mount the file as a bind volume",
  configs: "mount the file as a bind volume",
  volumes_from: "declare the volumes on the service",
  credential_spec: "Windows only",
  label_file: "set labels inline",
  post_start: "lifecycle hooks are not modelled",
  pre_stop: "lifecycle hooks are not modelled",
};

export interface LoadOptions {
  env: ShellEnv;
  /** A file name in `projectDir`, as `-f` would give it; default: Compose's own search order. */
  file?: string;
}

/** Finds the compose file, reads `.env`, interpolates, and checks the file as `docker compose config` would. */
export function loadComposeModel(projectDir: string, options: LoadOptions): ComposeModel {
  const dir = path.resolve(projectDir);
  const file = locateComposeFile(dir, options.file);
  const shell = options.env;
  const shellLookup: VariableLookup = (name) => shell[name];
  const warnings: string[] = [];

  const dotEnvPath = path.join(dir, ".env");
  const dotEnv = fs.existsSync(dotEnvPath) ? readEnvFile(dotEnvPath, shellLookup) : undefined;
  if (dotEnv) warnings.push(...dotEnv.warnings);
  // Compose v2: the shell wins over .env, and both feed interpolation and pass-through names.
  const environment: Record<string, string> = {};
  for (const [name, value] of dotEnv?.values ?? []) environment[name] = value;
  for (const [name, value] of Object.entries(shell)) if (value !== undefined) environment[name] = value;
  const lookup: VariableLookup = (name) => (Object.hasOwn(environment, name) ? environment[name] : undefined);

  let parsed: unknown;
  try {
    parsed = parseYaml(fs.readFileSync(file, "utf8"), { merge: true, uniqueKeys: true });
  } catch (error) {
    throw new ComposeError("FILE_INVALID", `${path.basename(file)}: ${(error as Error).message}`, "fix the YAML");
  }
  if (!isMap(parsed)) throw new ComposeError("FILE_INVALID", `${path.basename(file)}: top-level object must be a mapping`);
  for (const key of Object.keys(parsed)) {
    if (key.startsWith("x-")) continue;
    if (key === "include") throw unsupported("include", "merge the included files into one");
    if (!TOP_LEVEL_KEYS.has(key)) throw invalid(`(root) additional properties '${key}' not allowed`);
  }
  const { document, warnings: interpolationWarnings } = interpolateDocument(parsed, lookup);
  warnings.push(...interpolationWarnings);
  const top = document as Record<string, unknown>;
  if (top.version !== undefined) warnings.push(`${path.basename(file)}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);

  const declaredVolumes = top.volumes === undefined || top.volumes === null ? {} : top.volumes;
  if (!isMap(declaredVolumes)) throw invalid("volumes must be a mapping");
  if (!isMap(top.services)) throw invalid(top.services === undefined ? "no service defined" : "services must be a mapping");

  const services = new Map<string, ServiceModel>();
  const context: ServiceContext = { dir, lookup, volumes: new Set(Object.keys(declaredVolumes)), home: environment.HOME };
  for (const [name, raw] of Object.entries(top.services)) {
    if (!/^[a-zA-Z0-9._-]+$/.test(name)) throw invalid(`services: invalid service name "${name}"`);
    services.set(name, readService(name, raw, context));
  }
  checkReferences(services);
  const projectName = typeof top.name === "string" ? top.name : path.basename(dir).toLowerCase().replace(/[^a-z0-9_-]/g, "");
  return { projectDir: dir, file, name: projectName, services, warnings, environment };
}

function locateComposeFile(dir: string, file: string | undefined): string {
  if (file !== undefined) {
    const candidate = path.resolve(dir, file);
    if (!fs.existsSync(candidate)) throw new ComposeError("FILE_NOT_FOUND", `open ${candidate}: no such file or directory`);
    return candidate;
  }
  for (const name of COMPOSE_FILE_NAMES) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new ComposeError("FILE_NOT_FOUND", `no configuration file provided: not found in ${dir}`, `write one of ${COMPOSE_FILE_NAMES.join(", ")}`);
}

interface ServiceContext {
  dir: string;
  lookup: VariableLookup;
  volumes: ReadonlySet<string>;
  home: string | undefined;
}

function readService(name: string, raw: unknown, context: ServiceContext): ServiceModel {
  const where = `services.${name}`;
  if (!isMap(raw)) throw invalid(`${where} must be a mapping`);
  const ignored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (MODELLED_KEYS.has(key) || key.startsWith("x-")) continue;
    if (Object.hasOwn(UNSUPPORTED_KEYS, key)) throw unsupported(`${where}.${key}`, UNSUPPORTED_KEYS[key]!);
    if (!IGNORED_KEYS.has(key)) throw invalid(`${where} additional properties '${key}' not allowed`);
    ignored[key] = value;
  }
  if (raw.network_mode !== undefined && raw.networks !== undefined) throw invalid(`service ${name} declares mutually exclusive \`network_mode\` and \`networks\``);

  const image = raw.image;
  if (typeof image !== "string" || image === "") throw invalid(`service "${name}" has neither an image nor a build context specified`);

  return {
    name,
    image,
    entrypoint: raw.entrypoint === undefined || raw.entrypoint === null ? undefined : commandWords(raw.entrypoint, `${where}.entrypoint`),
    command: raw.command === undefined || raw.command === null ? undefined : commandWords(raw.command, `${where}.command`),
    environment: readEnvironment(raw, where, context),
    user: raw.user === undefined ? ROOT_USER : readUser(raw.user, `${where}.user`),
    readOnly: raw.read_only === undefined ? false : readBoolean(raw.read_only, `${where}.read_only`),
    mounts: [...readVolumes(raw.volumes, where, context), ...readTmpfs(raw.tmpfs, `${where}.tmpfs`)],
    networkMode: readNetworkMode(raw.network_mode, `${where}.network_mode`),
    dependsOn: readDependsOn(raw.depends_on, `${where}.depends_on`),
    profiles: raw.profiles === undefined ? [] : stringList(raw.profiles, `${where}.profiles`),
    restart: raw.restart === undefined ? { condition: "no" } : readRestart(raw.restart, `${where}.restart`),
    stopGracePeriodMs: raw.stop_grace_period === undefined ? DEFAULT_STOP_GRACE_MS : readDuration(raw.stop_grace_period, `${where}.stop_grace_period`),
    logging: raw.logging === undefined ? undefined : readLogging(raw.logging, `${where}.logging`),
    securityOpt: raw.security_opt === undefined ? [] : stringList(raw.security_opt, `${where}.security_opt`),
    capAdd: raw.cap_add === undefined ? [] : stringList(raw.cap_add, `${where}.cap_add`),
    capDrop: raw.cap_drop === undefined ? [] : stringList(raw.cap_drop, `${where}.cap_drop`),
    ignored,
  };
}

function commandWords(value: unknown, where: string): string[] {
  if (typeof value === "string") return splitCommandLine(value, where);
  return stringList(value, where);
}

function readEnvironment(raw: Record<string, unknown>, where: string, context: ServiceContext): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const entry of readEnvFileEntries(raw.env_file, `${where}.env_file`)) {
    const hostPath = path.resolve(context.dir, expandHome(entry.path, context.home));
    const file = readEnvFile(hostPath, context.lookup, entry.required);
    for (const [name, value] of file?.values ?? []) environment[name] = value;
  }
  const declared = raw.environment;
  if (declared === undefined || declared === null) return environment;
  const passThrough = (name: string) => {
    const value = context.lookup(name);
    if (value === undefined) delete environment[name];
    else environment[name] = value;
  };
  if (Array.isArray(declared)) {
    for (const item of declared) {
      if (typeof item !== "string") throw invalid(`${where}.environment contains a non-string entry`);
      const equals = item.indexOf("=");
      if (equals < 0) passThrough(item);
      else environment[item.slice(0, equals)] = item.slice(equals + 1);
    }
    return environment;
  }
  if (!isMap(declared)) throw invalid(`${where}.environment must be a mapping or a list`);
  for (const [name, value] of Object.entries(declared)) {
    if (value === null) passThrough(name);
    else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") environment[name] = String(value);
    else throw invalid(`${where}.environment.${name} must be a string, number, boolean or null`);
  }
  return environment;
}

function readEnvFileEntries(value: unknown, where: string): { path: string; required: boolean }[] {
  if (value === undefined || value === null) return [];
  const items = typeof value === "string" ? [value] : Array.isArray(value) ? value : undefined;
  if (!items) throw invalid(`${where} must be a string or a list`);
  return items.map((item) => {
    if (typeof item === "string") return { path: item, required: true };
    if (isMap(item) && typeof item.path === "string") {
      return { path: item.path, required: item.required === undefined ? true : readBoolean(item.required, `${where}.required`) };
    }
    throw invalid(`${where} entries must be paths`);
  });
}

function readUser(value: unknown, where: string): ContainerUser {
  if (typeof value !== "string") throw invalid(`${where} must be a string`);
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) throw unsupported(where, "give the user as numeric uid:gid; names need the image's /etc/passwd");
  // A UID alone gets GID 0, as Docker does for a UID the image's /etc/passwd does not list.
  return { uid: Number(match[1]), gid: match[2] === undefined ? 0 : Number(match[2]) };
}

function readVolumes(value: unknown, where: string, context: ServiceContext): ServiceMount[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${where}.volumes must be a list`);
  return value.map((item) => (typeof item === "string" ? shortVolume(item, `${where}.volumes`, context) : longVolume(item, `${where}.volumes`, context)));
}

const VOLUME_MODES = new Set(["ro", "rw", "z", "Z", "cached", "delegated", "consistent", "nocopy", "rprivate", "private", "rshared", "shared", "rslave", "slave"]);

function shortVolume(spec: string, where: string, context: ServiceContext): ServiceMount {
  const parts = spec.split(":");
  if (parts.length === 1) return { type: "volume", target: normalizedTarget(parts[0]!), readOnly: false };
  if (parts.length > 3) throw invalid(`${where}: invalid volume specification (SOURCE:TARGET[:MODE])`);
  const [source, target, mode = ""] = parts as [string, string, string?];
  const modes = mode === "" ? [] : mode.split(",");
  for (const option of modes) if (!VOLUME_MODES.has(option)) throw invalid(`${where}: invalid volume mode (ro, rw, z, Z, nocopy, or a propagation mode)`);
  const readOnly = modes.includes("ro");
  if (isHostPath(source)) {
    return { type: "bind", source: path.resolve(context.dir, expandHome(source, context.home)), target: normalizedTarget(target), readOnly, createHostPath: true };
  }
  return { type: "volume", name: declaredVolume(source, where, context), target: normalizedTarget(target), readOnly };
}

function longVolume(item: unknown, where: string, context: ServiceContext): ServiceMount {
  if (!isMap(item)) throw invalid(`${where} entries must be strings or mappings`);
  for (const key of Object.keys(item)) {
    if (!["type", "source", "target", "read_only", "bind", "volume", "tmpfs", "consistency"].includes(key)) throw invalid(`${where} additional properties '${key}' not allowed`);
  }
  if (typeof item.target !== "string") throw invalid(`${where}: target is required`);
  const target = normalizedTarget(item.target);
  const readOnly = item.read_only === undefined ? false : readBoolean(item.read_only, `${where}.read_only`);
  switch (item.type) {
    case "bind": {
      if (typeof item.source !== "string") throw invalid(`${where}: a bind mount needs a source`);
      const bind = isMap(item.bind) ? item.bind : {};
      const createHostPath = bind.create_host_path === undefined ? false : readBoolean(bind.create_host_path, `${where}.bind.create_host_path`);
      return { type: "bind", source: path.resolve(context.dir, expandHome(item.source, context.home)), target, readOnly, createHostPath };
    }
    case "volume":
      return { type: "volume", name: typeof item.source === "string" ? declaredVolume(item.source, where, context) : undefined, target, readOnly };
    case "tmpfs":
      return { type: "tmpfs", target };
    default:
      throw unsupported(`${where}.type`, "use bind, volume or tmpfs");
  }
}

function readTmpfs(value: unknown, where: string): TmpfsMount[] {
  if (value === undefined || value === null) return [];
  const items = typeof value === "string" ? [value] : stringList(value, where);
  return items.map((item) => ({ type: "tmpfs", target: normalizedTarget(item.split(":")[0]!) }));
}

function isHostPath(source: string): boolean {
  return source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
}

function expandHome(hostPath: string, home: string | undefined): string {
  if (hostPath !== "~" && !hostPath.startsWith("~/")) return hostPath;
  if (home === undefined) throw invalid(`cannot expand ~ in ${hostPath}: HOME is not set`);
  return path.join(home, hostPath.slice(1));
}

/** A relative target passes `config` and is refused by the daemon at create, which the runner does too. */
function normalizedTarget(target: string): string {
  return target.startsWith("/") ? path.posix.normalize(target) : target;
}

function declaredVolume(name: string, where: string, context: ServiceContext): string {
  if (!context.volumes.has(name)) throw invalid(`${where}: service refers to undefined volume ${name}: invalid compose project`);
  return name;
}

function readNetworkMode(value: unknown, where: string): NetworkMode {
  if (value === undefined) return { kind: "project" };
  if (typeof value !== "string") throw invalid(`${where} must be a string`);
  if (value.startsWith("service:")) return { kind: "service", service: value.slice("service:".length) };
  if (value === "none") return { kind: "none" };
  if (value === "bridge") return { kind: "bridge" };
  if (value === "host" || value.startsWith("container:")) throw unsupported(where, "the twin has no host or foreign-container namespace; use service:<name>");
  throw invalid(`${where}: unknown network mode (bridge, none or service:<name>)`);
}

const DEPENDENCY_CONDITIONS = new Set(["service_started", "service_healthy", "service_completed_successfully"]);

function readDependsOn(value: unknown, where: string): Dependency[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return stringList(value, where).map((service) => ({ service, condition: "service_started" }));
  if (!isMap(value)) throw invalid(`${where} must be a list or a mapping`);
  return Object.entries(value).map(([service, spec]) => {
    const condition = isMap(spec) && spec.condition !== undefined ? spec.condition : "service_started";
    if (typeof condition !== "string" || !DEPENDENCY_CONDITIONS.has(condition)) throw invalid(`${where}.${service}.condition must be one of ${[...DEPENDENCY_CONDITIONS].join(", ")}`);
    return { service, condition: condition as Dependency["condition"] };
  });
}

function readRestart(value: unknown, where: string): RestartPolicy {
  if (typeof value !== "string") throw invalid(`${where} must be a string (quote "no")`);
  if (value === "no" || value === "always" || value === "unless-stopped" || value === "on-failure") return { condition: value };
  const match = /^on-failure:(\d+)$/.exec(value);
  if (match) return { condition: "on-failure", maxRetries: Number(match[1]) };
  throw invalid(`${where}: invalid restart policy (no, always, unless-stopped, on-failure[:N])`);
}

function readDuration(value: unknown, where: string): number {
  const ms = typeof value === "string" ? composeDuration(value) : undefined;
  if (ms === undefined) throw invalid(`${where} must be a duration such as 30s or 1m30s`);
  return ms;
}

function readLogging(value: unknown, where: string): LoggingConfig {
  if (!isMap(value)) throw invalid(`${where} must be a mapping`);
  const options: Record<string, string> = {};
  if (value.options !== undefined && value.options !== null) {
    if (!isMap(value.options)) throw invalid(`${where}.options must be a mapping`);
    for (const [key, option] of Object.entries(value.options)) options[key] = String(option);
  }
  if (value.driver !== undefined && typeof value.driver !== "string") throw invalid(`${where}.driver must be a string`);
  return { ...(typeof value.driver === "string" ? { driver: value.driver } : {}), options };
}

function readBoolean(value: unknown, where: string): boolean {
  if (typeof value === "boolean") return value;
  // Interpolated values arrive as strings; Compose casts them with these spellings.
  if (typeof value === "string") {
    const lowered = value.toLowerCase();
    if (["y", "yes", "true", "on"].includes(lowered)) return true;
    if (["n", "no", "false", "off"].includes(lowered)) return false;
  }
  throw invalid(`${where} must be a boolean`);
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) throw invalid(`${where} must be a list of strings`);
  return value;
}

/** Every service a service names must exist, and the start order must have no cycle. */
function checkReferences(services: ReadonlyMap<string, ServiceModel>): void {
  for (const service of services.values()) {
    if (service.networkMode.kind === "service" && !services.has(service.networkMode.service)) {
      throw new ComposeError("SERVICE_UNKNOWN", `service "${service.name}" depends on undefined service "${service.networkMode.service}" (network_mode): invalid compose project`);
    }
    if (service.networkMode.kind === "service" && service.networkMode.service === service.name) throw new ComposeError("DEPENDENCY_CYCLE", `service "${service.name}" cannot share its own network namespace`);
    for (const dependency of service.dependsOn) {
      if (!services.has(dependency.service)) throw new ComposeError("SERVICE_UNKNOWN", `service "${service.name}" depends on undefined service "${dependency.service}": invalid compose project`);
    }
  }
  startOrder(services, [...services.keys()]);
}

/** The services a service needs running first: its `network_mode: service:` owner and its `depends_on`. */
export function dependenciesOf(service: ServiceModel): string[] {
  const names = service.dependsOn.map((dependency) => dependency.service);
  if (service.networkMode.kind === "service") names.unshift(service.networkMode.service);
  return [...new Set(names)];
}

/** `names` and everything they need, dependencies first. */
export function startOrder(services: ReadonlyMap<string, ServiceModel>, names: readonly string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new ComposeError("DEPENDENCY_CYCLE", `dependency cycle detected: ${[...chain, name].join(" -> ")}`);
    const service = services.get(name);
    if (!service) throw new ComposeError("SERVICE_UNKNOWN", `no such service: ${name}`);
    state.set(name, "visiting");
    for (const dependency of dependenciesOf(service)) visit(dependency, [...chain, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of names) visit(name, []);
  return order;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function invalid(message: string): ComposeError {
  return new ComposeError("FILE_INVALID", message, "docker compose config would reject this file too");
}

function unsupported(where: string, hint: string): ComposeError {
  return new ComposeError("UNSUPPORTED", `${where} is not modelled by the compose runner`, hint);
}
