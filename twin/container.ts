import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What a twin sees of the container it stands for: its arguments and environment as the compose
 * file (or the chart model) hands them over, a file system made of the declared mounts only,
 * checked with the container user's permissions, and a network namespace.
 *
 * The tests run as root, so the host's own permission checks would let every read through; the
 * checks here read the mode bits and owners as the container's UID would meet them.
 */
export interface ContainerContext {
  /** The command after the entrypoint, e.g. `["tunnel", "--no-autoupdate", "run", "--url", "http://localhost:8080"]`. */
  argv: string[];
  env: Record<string, string>;
  fs: ContainerFs;
  net: NetworkNamespace;
  /** Where the outside world is: the tunnel edge, and API base URLs the container dials. */
  outside: OutsideWorld;
  /** The container's log (what `docker compose logs <service>` shows). */
  log(line: string): void;
  /**
   * The Kubernetes API as the pod's service account reaches it, for a container that writes its
   * output into a Secret of its namespace; absent outside Kubernetes.
   */
  kubernetes?: {
    readSecret(name: string): Record<string, string> | undefined;
    /** Creates the Secret, or replaces its data as a `kubectl apply` of the whole object would. */
    writeSecret(name: string, data: Record<string, string>): void;
  };
}

export interface OutsideWorld {
  /** WebSocket URL of the emulator's tunnel edge (Cloudflare's role). */
  edgeUrl: string;
  /** A URL the container dials (e.g. `https://api.anthropic.com`) → where it is served here. */
  rewriteUrl(url: string): string;
}

/** A started twin. */
export interface RunningTwin {
  /** Resolves with the exit code when the twin stops by itself or is stopped. */
  readonly exited: Promise<number>;
  /** SIGTERM: finish in-flight work, then exit. */
  stop(): Promise<void>;
}

export type TwinMain = (context: ContainerContext) => Promise<RunningTwin>;

/** A twin that exits at start, as a container whose process fails to start does. */
export function exitedTwin(code: number): RunningTwin {
  return { exited: Promise.resolve(code), stop: async () => undefined };
}

export interface Mount {
  /** Absolute path inside the container. */
  target: string;
  /** Absolute host path (file or directory). */
  source: string;
  readOnly: boolean;
}

export interface ContainerUser {
  uid: number;
  gid: number;
}

export const ROOT_USER: ContainerUser = { uid: 0, gid: 0 };

/** The error text Go programs print for a failed open, which the documented troubleshooting quotes. */
export class ContainerFsError extends Error {
  override readonly name = "ContainerFsError";
  constructor(
    readonly code: "EACCES" | "ENOENT" | "EROFS" | "EISDIR",
    readonly op: string,
    readonly containerPath: string,
  ) {
    super(`${op} ${containerPath}: ${FS_ERROR_TEXT[code]}`);
  }
}

const FS_ERROR_TEXT = {
  EACCES: "permission denied",
  ENOENT: "no such file or directory",
  EROFS: "read-only file system",
  EISDIR: "is a directory",
} as const;

const READ = 4;
const WRITE = 2;
const EXECUTE = 1;

/**
 * The container's file system: only what is mounted exists (a read-only root with nothing of
 * interest in it), and every access is checked as `user` would be checked by the kernel.
 */
export class ContainerFs {
  private readonly mounts: Mount[];

  constructor(
    mounts: Mount[],
    readonly user: ContainerUser,
  ) {
    // Longest target first, so a file mounted inside a mounted directory wins.
    this.mounts = [...mounts].sort((a, b) => b.target.length - a.target.length);
  }

  /** The host path behind a container path, or undefined when nothing is mounted there. */
  resolve(containerPath: string): { hostPath: string; mount: Mount } | undefined {
    const normalized = path.posix.normalize(containerPath);
    for (const mount of this.mounts) {
      if (normalized === mount.target) return { hostPath: mount.source, mount };
      if (normalized.startsWith(`${mount.target}/`)) return { hostPath: path.join(mount.source, normalized.slice(mount.target.length + 1)), mount };
    }
    return undefined;
  }

  readFile(containerPath: string): Buffer {
    const hostPath = this.accessible(containerPath, READ, "open");
    if (fs.statSync(hostPath).isDirectory()) throw new ContainerFsError("EISDIR", "read", containerPath);
    return fs.readFileSync(hostPath);
  }

  /** Modification time and size, for pollers; undefined when the file does not exist. */
  stat(containerPath: string): fs.Stats | undefined {
    const found = this.resolve(containerPath);
    if (!found || !fs.existsSync(found.hostPath)) return undefined;
    return fs.statSync(found.hostPath);
  }

  exists(containerPath: string): boolean {
    return this.stat(containerPath) !== undefined;
  }

  /** Written as the container user (owner = its UID/GID), atomically: a temporary file renamed over the target. */
  writeFile(containerPath: string, data: string | Buffer, mode: number): void {
    const found = this.resolve(containerPath);
    if (!found) throw new ContainerFsError("EROFS", "open", containerPath);
    if (found.mount.readOnly) throw new ContainerFsError("EROFS", "open", containerPath);
    const parent = path.posix.dirname(containerPath);
    this.accessible(parent, WRITE | EXECUTE, "open", containerPath);
    const temporary = `${found.hostPath}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, data, { mode });
    fs.chmodSync(temporary, mode);
    fs.chownSync(temporary, this.user.uid, this.user.gid);
    fs.renameSync(temporary, found.hostPath);
  }

  mkdir(containerPath: string, mode: number): void {
    const found = this.resolve(containerPath);
    if (!found || found.mount.readOnly) throw new ContainerFsError("EROFS", "mkdir", containerPath);
    if (fs.existsSync(found.hostPath)) return;
    this.accessible(path.posix.dirname(containerPath), WRITE | EXECUTE, "mkdir", containerPath);
    fs.mkdirSync(found.hostPath, { mode });
    fs.chownSync(found.hostPath, this.user.uid, this.user.gid);
  }

  /**
   * Checks `want` (rwx bits) on the path and search (x) permission on every directory from the
   * mount's root down, as the kernel does; returns the host path.
   */
  private accessible(containerPath: string, want: number, op: string, reported = containerPath): string {
    const found = this.resolve(containerPath);
    if (!found) throw new ContainerFsError("ENOENT", op, reported);
    const { mount } = found;
    const relative = path.relative(mount.source, found.hostPath);
    const steps = relative === "" ? [] : relative.split(path.sep);
    let current = mount.source;
    for (const step of steps) {
      if (!fs.existsSync(current)) throw new ContainerFsError("ENOENT", op, reported);
      if (!this.allows(fs.statSync(current), EXECUTE)) throw new ContainerFsError("EACCES", op, reported);
      current = path.join(current, step);
    }
    if (!fs.existsSync(current)) throw new ContainerFsError("ENOENT", op, reported);
    if (!this.allows(fs.statSync(current), want)) throw new ContainerFsError("EACCES", op, reported);
    return current;
  }

  private allows(stats: fs.Stats, want: number): boolean {
    if (this.user.uid === 0) return true;
    const bits = stats.uid === this.user.uid ? (stats.mode >> 6) & 7 : stats.gid === this.user.gid ? (stats.mode >> 3) & 7 : stats.mode & 7;
    return (bits & want) === want;
  }
}

/**
 * A network namespace, stood in for by one loopback address: services that share a namespace
 * share the address (so `localhost:8080` reaches the proxy from cloudflared only when they share
 * it, as `network_mode: service:mcp-proxy` makes them), and `:8080` binds that address.
 */
export class NetworkNamespace {
  constructor(
    /** This namespace's own address, e.g. `127.83.17.2`. */
    readonly address: string,
    /** Names other containers resolve (compose service names, the test's hosts) → IPv4. */
    private readonly names: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** Resolves a host name as a process in this namespace would; IPv4 literals stand for themselves. */
  resolve(host: string): string | undefined {
    const name = host.toLowerCase();
    if (name === "localhost" || name === "127.0.0.1") return this.address;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return name;
    return this.names.get(name);
  }

  /** The host:port to bind for a Go-style listen address (`:8080`, `0.0.0.0:8080`, `127.0.0.1:8080`). */
  bindAddress(listenAddr: string): { host: string; port: number } | undefined {
    const match = /^(.*):(\d{1,5})$/.exec(listenAddr);
    if (!match) return undefined;
    const host = match[1] === "" || match[1] === "0.0.0.0" || match[1] === "localhost" || match[1] === "127.0.0.1" ? this.address : match[1]!;
    return { host, port: Number(match[2]) };
  }
}

/** A fresh loopback /24 for one project's namespaces, so parallel runs do not meet on port 8080. */
export function loopbackSubnet(): (index: number) => string {
  const a = 16 + Math.floor(Math.random() * 224);
  const b = Math.floor(Math.random() * 256);
  return (index) => `127.${a}.${b}.${index + 2}`;
}
