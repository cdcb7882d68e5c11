import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { DEFAULT_AUDIENCE, PRODUCTION_BASE_URL } from "../core/contract/tunnels-api";
import { ContainerFs, NetworkNamespace, type ContainerContext, type ContainerUser, type Mount, type OutsideWorld, type TwinMain } from "./container";
import { runSetup } from "./setup";

/**
 * The official Helm chart (2.0.x) as its public docs describe it, so "would these values deploy?"
 * is a test: which mode the values select, when the setup hook runs and with what, which values
 * have no effect, which Secret keys each container reads, the proxy config the chart renders, and
 * what each pod starts with. The chart's templates are not public; where the docs are silent, the
 * comment at the choice says what was chosen.
 */

export type ChartValues = Record<string, unknown>;

export interface KubernetesSecret {
  /** `Opaque` unless told otherwise, as `kubectl create secret generic` makes it. */
  type: string;
  data: Record<string, string>;
}

/** The release's namespace of a cluster: its Secrets, and the service-account tokens its pods get. */
export interface ModelCluster {
  secrets: Map<string, KubernetesSecret>;
  /** The projected service-account token Kubernetes mounts into a pod (`sub`, `aud` as given). */
  serviceAccountToken(subject: string, audience: string): Promise<string>;
}

export interface ChartModelOptions {
  release: string;
  namespace: string;
  cluster: ModelCluster;
  /** Where the API is, as the setup Job's pod reaches it. */
  outside: OutsideWorld;
  /** What the setup image's `/setup` entrypoint runs; the setup twin unless a test needs another key type. */
  setup?: TwinMain;
}

export type ChartMode = "managed" | "external";
export type ContainerName = "mcp-proxy" | "cloudflared";

export interface IgnoredValue {
  /** Dotted path in the values, e.g. `podAnnotations` or `gateway.config.listen_addr`. */
  key: string;
  reason: string;
}

export interface SecretRead {
  container: ContainerName;
  secret: string;
  key: string;
  /** How it reaches the container: `env TUNNEL_TOKEN`, `file /etc/mcp-gateway/tls/tls.crt`, `flag -tunnel-domain`. */
  as: string;
}

export interface CronJobSpec {
  name: string;
  schedule: string;
  renewBefore: string;
  argv: string[];
}

export type HookRun =
  | { ran: false; reason: string }
  | {
      ran: true;
      job: string;
      argv: string[];
      exitCode: number;
      log: string[];
      /** Keys of Secret `<release>` whose value the run changed (names only: the values are secrets). */
      changedKeys: string[];
    };

export type PodPhase = "Running" | "CreateContainerConfigError" | "ContainerCreating";

export interface PodStatus {
  name: string;
  /** The Deployment revision (pod-template generation) this pod was made from. */
  templateRevision: number;
  phase: PodPhase;
  /** Why the pod is not running, as `kubectl describe pod` shows it. */
  message?: string;
  /** Whether the token the pod started with is still the one in its Secret (false after a rotation without a restart). */
  tokenCurrent?: boolean;
  containers: { name: ContainerName; argv: string[]; env: string[] }[];
}

export interface NetworkPolicyModel {
  ingressDenied: boolean;
  egressRestricted: boolean;
  mcpServers: unknown[];
  cloudflaredEgressCIDRs: unknown[];
}

export interface ChartReport {
  operation: "install" | "upgrade";
  releaseRevision: number;
  mode: ChartMode;
  setupHook: HookRun;
  ignored: IgnoredValue[];
  warnings: string[];
  /** Managed mode only. */
  cronJob: CronJobSpec | undefined;
  secretReads: SecretRead[];
  /** The config.yaml the chart's ConfigMap holds. */
  proxyConfig: Record<string, unknown>;
  networkPolicy: NetworkPolicyModel;
  deploymentRevision: number;
  /** Whether this operation replaced the pod (its template changed). */
  podRestarted: boolean;
  pod: PodStatus;
  /** What an operator must do next, e.g. restart pods after a managed rotation the chart did not roll. */
  notes: string[];
}

export type ChartModelErrorCode =
  /** A value the chart needs in this mode is missing. */
  | "VALUE_REQUIRED"
  /** A value has a shape the chart's templates cannot render. */
  | "INVALID_VALUE"
  /** `helm install` of a release name still in use. */
  | "RELEASE_EXISTS"
  /** `helm upgrade` with no deployed release. */
  | "RELEASE_NOT_DEPLOYED"
  /** The setup hook Job failed; Helm keeps the Job for `kubectl logs`. */
  | "HOOK_FAILED"
  /** A failed setup Job from an earlier attempt is still there. */
  | "JOB_EXISTS"
  /** A pod was asked for its containers while it cannot start. */
  | "POD_NOT_RUNNING";

export class ChartModelError extends Error {
  override readonly name = "ChartModelError";
  constructor(
    readonly code: ChartModelErrorCode,
    message: string,
    readonly hint?: string,
    /** The setup Job's log for HOOK_FAILED; setup never logs secrets. */
    readonly log: string[] = [],
  ) {
    super(message);
  }
}

/** One container of a started pod, ready to hand to a twin as its ContainerContext. */
export interface MaterialisedContainer {
  argv: string[];
  env: Record<string, string>;
  mounts: Mount[];
  user: ContainerUser;
  /** A ContainerFs over `mounts` as `user`. */
  fs: ContainerFs;
}

export interface MaterialisedPod {
  pod: string;
  templateRevision: number;
  containers: Record<ContainerName, MaterialisedContainer>;
  /**
   * Rewrites the Secret volume files from the Secrets' current data, as the kubelet's periodic
   * sync does; env and flags keep what the pod started with.
   */
  syncSecretVolumes(): void;
}

/** The UID and GID every container of the chart runs as, like the Compose stack's `user:`. */
export const CHART_USER: ContainerUser = { uid: 65532, gid: 65532 };

export const CONFIG_PATH = "/etc/mcp-gateway/config.yaml";
/** Where the chart mounts the server certificate Secret (the docs only say the chart sets these paths). */
export const CHART_TLS_DIR = "/etc/mcp-gateway/tls";
/** Where the setup Job finds its projected service-account token (chart-internal, not documented). */
export const PROJECTED_TOKEN_PATH = "/var/run/secrets/anthropic.com/token";
export const LISTEN_ADDR = ":8080";

const CHART_NAME = "mcp-tunnel";
const DEFAULT_TOKEN_VERSION = "1";
const DEFAULT_CRON_SCHEDULE = "0 0 * * *";
/** The docs give the default as 30 days without a format; `--renew-before` takes a Go duration. */
const DEFAULT_RENEW_BEFORE = "720h";
const CLOUDFLARED_ARGS = ["tunnel", "--no-autoupdate", "run", "--url", "http://localhost:8080"];
const SECRET_FILE_MODE = 0o644;
const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";
/**
 * The docs apply config changes with `helm upgrade` and say config.yaml is not hot-reloaded, so
 * the chart must roll the pods when the config changes; a checksum annotation is the usual way.
 */
const CONFIG_CHECKSUM_ANNOTATION = "checksum/config";

const NOT_DOCUMENTED = "not a documented value of chart 2.0.x";

type Schema = "leaf" | "passthrough" | { [key: string]: Schema };

/** The documented value table: everything else has no effect the docs vouch for. */
const DOCUMENTED_VALUES: Schema = {
  setup: { enabled: "leaf", force: "leaf", extraVolumes: "leaf", extraVolumeMounts: "leaf" },
  tunnel: { id: "leaf", tokenVersion: "leaf" },
  api: { wif: { federationRuleId: "leaf", organizationId: "leaf", workspaceId: "leaf", audience: "leaf", tokenFile: "leaf" } },
  external: { tunnelTokenSecretName: "leaf", serverCertSecretName: "leaf" },
  gateway: { config: "passthrough" },
  serverCert: { cronSchedule: "leaf", renewBefore: "leaf" },
  networkPolicy: { ingress: { enabled: "leaf" }, egress: { enabled: "leaf", mcpServers: "leaf", cloudflaredEgressCIDRs: "leaf" } },
};

const SPECIAL_REASONS: Record<string, string> = {
  "api.wif.tunnelId": "chart 1.x only: moved to tunnel.id in 2.0.0",
};

interface Rendered {
  mode: ChartMode;
  force: boolean;
  tunnelId: string;
  tokenVersion: string;
  wif: { federationRuleId: string; organizationId: string; workspaceId: string | undefined; audience: string; tokenFile: string | undefined };
  extraVolumes: boolean;
  tokenSecret: string;
  certSecret: string;
  cronJob: CronJobSpec | undefined;
  proxyConfig: Record<string, unknown>;
  networkPolicy: NetworkPolicyModel;
  ignored: IgnoredValue[];
  warnings: string[];
}

interface EnvTemplate {
  name: string;
  value?: string;
  secretKeyRef?: { name: string; key: string };
}

interface ContainerTemplate {
  name: ContainerName;
  /** `$(NAME)` is expanded from the container's env at start, as the kubelet does. */
  args: string[];
  env: EnvTemplate[];
  /** Env the kubelet resolves for `$(NAME)` in args without the container seeing it; see the proxy's `-tunnel-domain`. */
  argEnv: EnvTemplate[];
  volumes: { mountPath: string; secret: string; keys: string[] }[];
  configMount: boolean;
}

interface PodTemplate {
  annotations: Record<string, string>;
  containers: ContainerTemplate[];
}

interface Pod {
  name: string;
  templateRevision: number;
  template: PodTemplate;
  started?: { env: Record<ContainerName, Record<string, string>>; argv: Record<ContainerName, string[]> };
  failure?: { phase: PodPhase; message: string };
}

interface Release {
  revision: number;
  deployed: boolean;
  rendered?: Rendered;
}

export class ChartModel {
  readonly fullname: string;
  private readonly setup: TwinMain;
  private release: Release | undefined;
  private deployment: { template: PodTemplate; hash: string; revision: number } | undefined;
  private pod: Pod | undefined;
  private failedJob = false;
  private podSerial = 0;
  private readonly userAnnotations: Record<string, string> = {};

  constructor(private readonly options: ChartModelOptions) {
    this.fullname = helmFullname(options.release);
    this.setup = options.setup ?? runSetup;
  }

  get setupJobName(): string {
    return `${this.fullname}-setup`;
  }

  /** The rule subject the setup Job's projected token carries. */
  get setupSubject(): string {
    return `system:serviceaccount:${this.options.namespace}:${this.setupJobName}`;
  }

  /** `helm install`: the pre-install setup hook (managed mode) blocks until it finishes. */
  async install(values: ChartValues): Promise<ChartReport> {
    if (this.release) {
      throw new ChartModelError("RELEASE_EXISTS", `cannot re-use a name that is still in use: ${this.options.release}`, `helm uninstall ${this.options.release} first`);
    }
    const rendered = this.render(values);
    this.release = { revision: 1, deployed: false };
    const hook = rendered.mode === "managed" ? await this.runSetupHook(rendered, "pre-install") : ({ ran: false, reason: "external mode has no setup Job" } as const);
    return this.apply("install", rendered, hook);
  }

  /**
   * `helm upgrade` with a complete values file (what `--reuse-values` would have kept is not
   * modelled). The setup hook re-runs only with `setup.force=true`.
   */
  async upgrade(values: ChartValues): Promise<ChartReport> {
    if (!this.release?.deployed) {
      throw new ChartModelError("RELEASE_NOT_DEPLOYED", `"${this.options.release}" has no deployed releases`, "helm install it (after helm uninstall, if an install failed)");
    }
    const rendered = this.render(values);
    this.release.revision += 1;
    let hook: HookRun;
    if (rendered.mode !== "managed") hook = { ran: false, reason: "external mode has no setup Job" };
    else if (!rendered.force) hook = { ran: false, reason: "setup.force is not true: the setup hook does not re-run on upgrade" };
    else hook = await this.runSetupHook(rendered, "pre-upgrade");
    return this.apply("upgrade", rendered, hook);
  }

  /** `helm uninstall`: Secret `<release>` is written by setup, not templated, so it stays; so does a failed setup Job. */
  uninstall(): void {
    this.release = undefined;
    this.deployment = undefined;
    this.pod = undefined;
  }

  /** `kubectl delete job <fullname>-setup`, which the docs require after a failed hook. */
  deleteSetupJob(): void {
    this.failedJob = false;
  }

  /** `kubectl rollout restart deploy/<fullname>`: a pod-template annotation, hence a new pod. */
  rolloutRestart(): PodStatus {
    return this.patchPodTemplateAnnotations({ [RESTARTED_AT_ANNOTATION]: `restart-${this.podSerial + 1}` });
  }

  /** A patch of `spec.template.metadata.annotations`; a changed value makes a new pod. */
  patchPodTemplateAnnotations(annotations: Record<string, string>): PodStatus {
    const deployment = this.requireDeployment();
    Object.assign(this.userAnnotations, annotations);
    this.updateDeployment({ ...deployment.template, annotations: { ...deployment.template.annotations, ...annotations } });
    return this.currentPod();
  }

  /** The pod is evicted or deleted; the Deployment makes a new one from the same template, which reads the Secrets now. */
  replacePod(): PodStatus {
    const deployment = this.requireDeployment();
    this.pod = this.createPod(deployment.template, deployment.revision);
    return this.currentPod();
  }

  /** The pod as it is now; a pod that could not start is retried, as the kubelet keeps retrying. */
  currentPod(): PodStatus {
    const pod = this.requirePod();
    if (!pod.started) this.tryStart(pod);
    return this.statusOf(pod);
  }

  /**
   * One run of CronJob `<fullname>-cert-renew`: `setup renew-cert` on Secret `<release>`. Its
   * service account has Kubernetes RBAC only, so any API call fails.
   */
  async runCertRenewal(): Promise<{ exitCode: number; log: string[] }> {
    const cronJob = this.release?.rendered?.cronJob;
    if (!cronJob) throw new ChartModelError("VALUE_REQUIRED", "there is no cert-renew CronJob: it exists in managed mode only", "set setup.enabled=true, or renew the Secret yourself");
    const log: string[] = [];
    const context = this.jobContext(cronJob.argv, {}, [], log, {
      edgeUrl: this.options.outside.edgeUrl,
      rewriteUrl: (url) => {
        throw new Error(`${cronJob.name} has no API access (dialled ${url})`);
      },
    });
    const exitCode = await (await this.setup(context)).exited;
    return { exitCode, log };
  }

  /**
   * Writes the running pod's mounts into `dir` (the ConfigMap and Secret volumes, files mode 0644
   * as Kubernetes makes them) and returns each container's argv, env and mounts.
   */
  materialisePod(dir: string): MaterialisedPod {
    const status = this.currentPod();
    const pod = this.requirePod();
    if (!pod.started) throw new ChartModelError("POD_NOT_RUNNING", `pod ${pod.name} is not running: ${status.message}`);
    const started = pod.started;
    const rendered = this.release!.rendered!;
    fs.mkdirSync(dir, { recursive: true });
    const configFile = path.join(dir, "configmap", "config.yaml");
    fs.mkdirSync(path.dirname(configFile), { recursive: true });
    writeAtomic(configFile, stringify(rendered.proxyConfig), SECRET_FILE_MODE);

    const volumeWriters: (() => void)[] = [];
    const containers = {} as Record<ContainerName, MaterialisedContainer>;
    for (const container of pod.template.containers) {
      const mounts: Mount[] = [];
      if (container.configMount) mounts.push({ target: CONFIG_PATH, source: configFile, readOnly: true });
      for (const volume of container.volumes) {
        const source = path.join(dir, `${container.name}-secret-${volume.secret}`);
        fs.mkdirSync(source, { recursive: true, mode: 0o755 });
        const write = () => {
          const data = this.options.cluster.secrets.get(volume.secret)?.data ?? {};
          for (const key of volume.keys) if (data[key] !== undefined) writeAtomic(path.join(source, key), data[key], SECRET_FILE_MODE);
        };
        write();
        volumeWriters.push(write);
        mounts.push({ target: volume.mountPath, source, readOnly: true });
      }
      containers[container.name] = {
        argv: [...started.argv[container.name]],
        env: { ...started.env[container.name] },
        mounts,
        user: CHART_USER,
        fs: new ContainerFs(mounts, CHART_USER),
      };
    }
    return { pod: pod.name, templateRevision: pod.templateRevision, containers, syncSecretVolumes: () => volumeWriters.forEach((write) => write()) };
  }

  private async apply(operation: ChartReport["operation"], rendered: Rendered, hook: HookRun): Promise<ChartReport> {
    const release = this.release!;
    release.rendered = rendered;
    release.deployed = true;
    const before = this.pod;
    this.updateDeployment(this.podTemplate(rendered));
    const pod = this.currentPod();
    const podRestarted = this.pod !== before;
    const warnings = [...rendered.warnings, ...this.secretWarnings(rendered)];
    const notes: string[] = [];
    if (hook.ran && hook.changedKeys.includes("tunnel-token") && pod.tokenCurrent === false) {
      notes.push(
        `the setup hook rotated the tunnel token, but the pod template did not change, so pod ${pod.name} still runs with the old token (read at pod start); run kubectl rollout restart deploy/${this.fullname}`,
      );
    }
    const storedTunnel = this.options.cluster.secrets.get(this.options.release)?.data["tunnel-id"];
    if (rendered.mode === "managed" && !hook.ran && rendered.tunnelId && storedTunnel && rendered.tunnelId !== storedTunnel) {
      warnings.push(`tunnel.id is ${rendered.tunnelId} but Secret ${this.options.release} holds ${storedTunnel}; without setup.force the hook does not run and the pods keep the stored tunnel`);
    }
    return {
      operation,
      releaseRevision: release.revision,
      mode: rendered.mode,
      setupHook: hook,
      ignored: rendered.ignored,
      warnings,
      cronJob: rendered.cronJob,
      secretReads: this.secretReads(rendered),
      proxyConfig: rendered.proxyConfig,
      networkPolicy: rendered.networkPolicy,
      deploymentRevision: this.deployment!.revision,
      podRestarted,
      pod,
      notes,
    };
  }

  private render(values: ChartValues): Rendered {
    const ignored: IgnoredValue[] = [];
    const warnings: string[] = [];
    walkValues(values, DOCUMENTED_VALUES, "", ignored);

    const setupEnabled = lookup(values, "setup.enabled");
    if (setupEnabled !== undefined && typeof setupEnabled !== "boolean") {
      warnings.push(`setup.enabled is ${JSON.stringify(setupEnabled)}, not a boolean; Helm templates treat it as ${goTruthy(setupEnabled)}`);
    }
    const mode: ChartMode = setupEnabled === undefined || goTruthy(setupEnabled) ? "managed" : "external";
    const force = goTruthy(lookup(values, "setup.force"));

    const modeIgnored = (key: string, reason: string) => {
      if (lookup(values, key) !== undefined) ignored.push({ key, reason });
    };
    if (mode === "external") {
      const reason = "external mode: there is no setup Job";
      for (const key of ["tunnel.id", "tunnel.tokenVersion", "setup.force", "setup.extraVolumes", "setup.extraVolumeMounts"]) modeIgnored(key, reason);
      for (const key of ["federationRuleId", "organizationId", "workspaceId", "audience", "tokenFile"]) modeIgnored(`api.wif.${key}`, reason);
      for (const key of ["cronSchedule", "renewBefore"]) modeIgnored(`serverCert.${key}`, "external mode: there is no cert-renew CronJob; renew the Secret yourself");
    } else {
      for (const key of ["tunnelTokenSecretName", "serverCertSecretName"]) modeIgnored(`external.${key}`, `managed mode: the pods read Secret ${this.options.release}`);
    }

    const gatewayConfig = lookup(values, "gateway.config");
    if (gatewayConfig !== undefined && !isMap(gatewayConfig)) throw new ChartModelError("INVALID_VALUE", "gateway.config must be a map", "pass the proxy config fields as a map");
    const proxyConfig: Record<string, unknown> = structuredClone((gatewayConfig as Record<string, unknown> | undefined) ?? {});
    for (const [key, value] of Object.entries(proxyConfig)) if (value === null) delete proxyConfig[key];
    if (proxyConfig["listen_addr"] !== undefined) ignored.push({ key: "gateway.config.listen_addr", reason: `the chart always sets listen_addr to "${LISTEN_ADDR}"` });
    if (proxyConfig["tls"] !== undefined) {
      const tls = proxyConfig["tls"];
      const keys = isMap(tls) ? Object.keys(tls) : [];
      for (const key of keys.length > 0 ? keys : [""]) ignored.push({ key: `gateway.config.tls${key ? `.${key}` : ""}`, reason: `the chart always sets tls to the mounted certificate under ${CHART_TLS_DIR}` });
    }
    proxyConfig["listen_addr"] = LISTEN_ADDR;
    proxyConfig["tls"] = { cert_file: `${CHART_TLS_DIR}/tls.crt`, key_file: `${CHART_TLS_DIR}/tls.key` };

    const text = (key: string): string | undefined => {
      const value = lookup(values, key);
      if (value === undefined || value === "") return undefined;
      if (typeof value === "string") return value;
      if (typeof value === "number") return String(value);
      throw new ChartModelError("INVALID_VALUE", `${key} must be a string`, `quote it in the values file`);
    };
    const required = (key: string, why: string): string => {
      const value = text(key);
      if (value === undefined) throw new ChartModelError("VALUE_REQUIRED", `${key} is required ${why}`, `set ${key} in the values file`);
      return value;
    };

    let tokenSecret = this.options.release;
    let certSecret = this.options.release;
    let cronJob: CronJobSpec | undefined;
    let wif: Rendered["wif"] = { federationRuleId: "", organizationId: "", workspaceId: undefined, audience: DEFAULT_AUDIENCE, tokenFile: undefined };
    if (mode === "external") {
      tokenSecret = required("external.tunnelTokenSecretName", "in external mode (setup.enabled=false)");
      certSecret = required("external.serverCertSecretName", "in external mode (setup.enabled=false)");
      if (typeof proxyConfig["tunnel_domain"] !== "string" || proxyConfig["tunnel_domain"] === "") {
        throw new ChartModelError("VALUE_REQUIRED", "gateway.config.tunnel_domain is required in external mode", "set it to the tunnel's domain");
      }
    } else {
      wif = {
        federationRuleId: required("api.wif.federationRuleId", "in managed mode (setup.enabled=true)"),
        organizationId: required("api.wif.organizationId", "in managed mode (setup.enabled=true)"),
        workspaceId: text("api.wif.workspaceId"),
        audience: text("api.wif.audience") ?? DEFAULT_AUDIENCE,
        tokenFile: text("api.wif.tokenFile"),
      };
      if (proxyConfig["tunnel_domain"] !== undefined) {
        warnings.push("gateway.config.tunnel_domain is set in managed mode, next to the -tunnel-domain flag the chart passes from the Secret; a stale value there breaks routing, so leave it unset");
      }
      const renewBefore = text("serverCert.renewBefore") ?? DEFAULT_RENEW_BEFORE;
      cronJob = {
        name: `${this.fullname}-cert-renew`,
        schedule: text("serverCert.cronSchedule") ?? DEFAULT_CRON_SCHEDULE,
        renewBefore,
        argv: ["renew-cert", `--output=k8s-secret:${this.options.release}`, `--renew-before=${renewBefore}`],
      };
    }

    const extraVolumes = lookup(values, "setup.extraVolumes");
    return {
      mode,
      force,
      tunnelId: text("tunnel.id") ?? "",
      tokenVersion: text("tunnel.tokenVersion") ?? DEFAULT_TOKEN_VERSION,
      wif,
      extraVolumes: Array.isArray(extraVolumes) && extraVolumes.length > 0,
      tokenSecret,
      certSecret,
      cronJob,
      proxyConfig,
      networkPolicy: {
        ingressDenied: lookup(values, "networkPolicy.ingress.enabled") === undefined || goTruthy(lookup(values, "networkPolicy.ingress.enabled")),
        egressRestricted: goTruthy(lookup(values, "networkPolicy.egress.enabled")),
        mcpServers: asList(lookup(values, "networkPolicy.egress.mcpServers")),
        cloudflaredEgressCIDRs: asList(lookup(values, "networkPolicy.egress.cloudflaredEgressCIDRs")),
      },
      ignored,
      warnings,
    };
  }

  /** A failure leaves the release failed (an install must be uninstalled) and the Job in place. */
  private async runSetupHook(rendered: Rendered, hook: "pre-install" | "pre-upgrade"): Promise<HookRun> {
    if (this.failedJob) {
      throw new ChartModelError("JOB_EXISTS", `jobs.batch "${this.setupJobName}" already exists`, `kubectl delete job ${this.setupJobName}, then retry`);
    }
    const argv = ["init", `--api-url=${PRODUCTION_BASE_URL}`, `--output=k8s-secret:${this.options.release}`, `--token-version=${rendered.tokenVersion}`];
    const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), "chart-sa-token-"));
    try {
      fs.writeFileSync(path.join(tokenDir, "token"), await this.options.cluster.serviceAccountToken(this.setupSubject, rendered.wif.audience), { mode: SECRET_FILE_MODE });
      const mounts: Mount[] = [{ target: PROJECTED_TOKEN_PATH, source: path.join(tokenDir, "token"), readOnly: true }];
      // api.wif.tokenFile names a token the user mounts with setup.extraVolumes; the model stands
      // the projected token in for what that volume would hold, and mounts nothing without it.
      if (rendered.wif.tokenFile && rendered.extraVolumes) mounts.push({ target: rendered.wif.tokenFile, source: path.join(tokenDir, "token"), readOnly: true });
      const env: Record<string, string> = {
        ANTHROPIC_FEDERATION_RULE_ID: rendered.wif.federationRuleId,
        ANTHROPIC_ORGANIZATION_ID: rendered.wif.organizationId,
        ANTHROPIC_IDENTITY_TOKEN_FILE: rendered.wif.tokenFile ?? PROJECTED_TOKEN_PATH,
        ...(rendered.wif.workspaceId ? { ANTHROPIC_WORKSPACE_ID: rendered.wif.workspaceId } : {}),
        ...(rendered.tunnelId ? { TUNNEL_ID: rendered.tunnelId } : {}),
      };
      const before = { ...(this.options.cluster.secrets.get(this.options.release)?.data ?? {}) };
      const log: string[] = [];
      const exitCode = await (await this.setup(this.jobContext(argv, env, mounts, log, this.options.outside))).exited;
      if (exitCode !== 0) {
        this.failedJob = true;
        throw new ChartModelError(
          "HOOK_FAILED",
          `${hook} hook failed: job ${this.setupJobName} exited ${exitCode}: ${log.filter((line) => line.startsWith("error:")).join("; ")}`,
          `kubectl logs job/${this.setupJobName}; then helm uninstall ${this.options.release} and kubectl delete job ${this.setupJobName} before retrying`,
          log,
        );
      }
      const after = this.options.cluster.secrets.get(this.options.release)?.data ?? {};
      const changedKeys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((key) => before[key] !== after[key]).sort();
      return { ran: true, job: this.setupJobName, argv, exitCode, log, changedKeys };
    } finally {
      fs.rmSync(tokenDir, { recursive: true, force: true });
    }
  }

  private jobContext(argv: string[], env: Record<string, string>, mounts: Mount[], log: string[], outside: OutsideWorld): ContainerContext {
    const secrets = this.options.cluster.secrets;
    return {
      argv,
      env,
      fs: new ContainerFs(mounts, CHART_USER),
      net: new NetworkNamespace("127.0.0.1"),
      outside,
      log: (line) => log.push(line),
      kubernetes: {
        readSecret: (name) => {
          const secret = secrets.get(name);
          return secret ? { ...secret.data } : undefined;
        },
        writeSecret: (name, data) => secrets.set(name, { type: secrets.get(name)?.type ?? "Opaque", data: { ...data } }),
      },
    };
  }

  private podTemplate(rendered: Rendered): PodTemplate {
    const proxy: ContainerTemplate = {
      name: "mcp-proxy",
      args: [],
      env: [],
      argEnv: [],
      volumes: [{ mountPath: CHART_TLS_DIR, secret: rendered.certSecret, keys: ["tls.crt", "tls.key"] }],
      configMount: true,
    };
    if (rendered.mode === "managed") {
      proxy.args = ["-tunnel-domain", "$(TUNNEL_DOMAIN)"];
      proxy.argEnv = [{ name: "TUNNEL_DOMAIN", secretKeyRef: { name: this.options.release, key: "tunnel-domain" } }];
    }
    const cloudflared: ContainerTemplate = {
      name: "cloudflared",
      args: [...CLOUDFLARED_ARGS],
      env: [{ name: "TUNNEL_TOKEN", secretKeyRef: { name: rendered.tokenSecret, key: "tunnel-token" } }],
      argEnv: [],
      volumes: [],
      configMount: false,
    };
    return {
      annotations: { [CONFIG_CHECKSUM_ANNOTATION]: sha256(stringify(rendered.proxyConfig)), ...this.userAnnotations },
      containers: [proxy, cloudflared],
    };
  }

  private updateDeployment(template: PodTemplate): void {
    const hash = sha256(JSON.stringify(template));
    if (this.deployment?.hash === hash) return;
    const revision = (this.deployment?.revision ?? 0) + 1;
    this.deployment = { template, hash, revision };
    this.pod = this.createPod(template, revision);
  }

  private createPod(template: PodTemplate, templateRevision: number): Pod {
    this.podSerial += 1;
    const pod: Pod = { name: `${this.fullname}-${sha256(JSON.stringify(template)).slice(0, 10)}-${this.podSerial}`, templateRevision, template };
    this.tryStart(pod);
    return pod;
  }

  /** What the kubelet does at container start: resolve env and `$(VAR)` in args from Secrets, mount Secret volumes. */
  private tryStart(pod: Pod): void {
    const secrets = this.options.cluster.secrets;
    const env = {} as Record<ContainerName, Record<string, string>>;
    const argv = {} as Record<ContainerName, string[]>;
    for (const container of pod.template.containers) {
      for (const volume of container.volumes) {
        const secret = secrets.get(volume.secret);
        if (!secret) return void (pod.failure = { phase: "ContainerCreating", message: `MountVolume.SetUp failed for volume "${volume.secret}": secret "${volume.secret}" not found` });
        const missing = volume.keys.find((key) => secret.data[key] === undefined);
        if (missing) return void (pod.failure = { phase: "ContainerCreating", message: `MountVolume.SetUp failed for volume "${volume.secret}": references non-existent secret key: ${missing}` });
      }
      const resolved: Record<string, string> = {};
      for (const entry of [...container.env, ...container.argEnv]) {
        if (entry.value !== undefined) resolved[entry.name] = entry.value;
        else if (entry.secretKeyRef) {
          const { name, key } = entry.secretKeyRef;
          const secret = secrets.get(name);
          if (!secret) return void (pod.failure = { phase: "CreateContainerConfigError", message: `secret "${name}" not found` });
          if (secret.data[key] === undefined) return void (pod.failure = { phase: "CreateContainerConfigError", message: `couldn't find key ${key} in Secret ${this.options.namespace}/${name}` });
          resolved[entry.name] = secret.data[key];
        }
      }
      argv[container.name] = container.args.map((arg) => arg.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (whole, name: string) => resolved[name] ?? whole));
      env[container.name] = Object.fromEntries(container.env.map((entry) => [entry.name, resolved[entry.name]!]));
    }
    pod.started = { env, argv };
    delete pod.failure;
  }

  private statusOf(pod: Pod): PodStatus {
    const tokenRef = pod.template.containers.find((c) => c.name === "cloudflared")?.env.find((e) => e.name === "TUNNEL_TOKEN")?.secretKeyRef;
    const current = tokenRef ? this.options.cluster.secrets.get(tokenRef.name)?.data[tokenRef.key] : undefined;
    return {
      name: pod.name,
      templateRevision: pod.templateRevision,
      phase: pod.started ? "Running" : (pod.failure?.phase ?? "ContainerCreating"),
      ...(pod.failure ? { message: pod.failure.message } : {}),
      ...(pod.started ? { tokenCurrent: pod.started.env.cloudflared["TUNNEL_TOKEN"] === current } : {}),
      containers: pod.template.containers.map((container) => ({
        name: container.name,
        argv: pod.started ? [...pod.started.argv[container.name]] : [...container.args],
        env: container.env.map((entry) => entry.name),
      })),
    };
  }

  private secretReads(rendered: Rendered): SecretRead[] {
    const reads: SecretRead[] = [];
    for (const container of this.podTemplate(rendered).containers) {
      for (const entry of container.env) if (entry.secretKeyRef) reads.push({ container: container.name, secret: entry.secretKeyRef.name, key: entry.secretKeyRef.key, as: `env ${entry.name}` });
      for (const entry of container.argEnv) if (entry.secretKeyRef) reads.push({ container: container.name, secret: entry.secretKeyRef.name, key: entry.secretKeyRef.key, as: "flag -tunnel-domain" });
      for (const volume of container.volumes) for (const key of volume.keys) reads.push({ container: container.name, secret: volume.secret, key, as: `file ${volume.mountPath}/${key}` });
    }
    return reads;
  }

  /**
   * The chart reads fixed keys, so a missing or renamed key stops the pod (the kubelet refuses
   * it). A `kubernetes.io/tls` type or extra keys work for Kubernetes but are not what the docs
   * create (`kubectl create secret generic` with exactly these keys), so they only warn.
   */
  private secretWarnings(rendered: Rendered): string[] {
    if (rendered.mode !== "external") return [];
    const warnings: string[] = [];
    const expected = new Map<string, string[]>([
      [rendered.tokenSecret, ["tunnel-token"]],
      [rendered.certSecret, ["tls.crt", "tls.key"]],
    ]);
    if (rendered.tokenSecret === rendered.certSecret) expected.set(rendered.tokenSecret, ["tunnel-token", "tls.crt", "tls.key"]);
    for (const [name, keys] of expected) {
      const secret = this.options.cluster.secrets.get(name);
      if (!secret) continue;
      if (secret.type !== "Opaque") warnings.push(`Secret ${name} has type ${secret.type}; the docs create it as Opaque (kubectl create secret generic), and another type is not documented for this chart`);
      const extra = Object.keys(secret.data).filter((key) => !keys.includes(key));
      if (extra.length > 0) warnings.push(`Secret ${name} has keys the chart does not read: ${extra.sort().join(", ")}; it reads only ${keys.join(", ")}`);
    }
    return warnings;
  }

  private requireDeployment() {
    if (!this.deployment) throw new ChartModelError("RELEASE_NOT_DEPLOYED", `deployment "${this.fullname}" not found`, "helm install the chart first");
    return this.deployment;
  }

  private requirePod(): Pod {
    this.requireDeployment();
    return this.pod!;
  }
}

/** Helm's conventional `<chart>.fullname`: the release name when it contains the chart name, else `<release>-<chart>`. */
export function helmFullname(release: string): string {
  const name = release.includes(CHART_NAME) ? release : `${release}-${CHART_NAME}`;
  return name.slice(0, 63).replace(/-+$/, "");
}

function walkValues(values: unknown, schema: Schema, prefix: string, ignored: IgnoredValue[]): void {
  if (schema === "leaf" || schema === "passthrough" || !isMap(values)) return;
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    const dotted = prefix ? `${prefix}.${key}` : key;
    const child = schema[key];
    if (child === undefined) {
      ignored.push({ key: dotted, reason: SPECIAL_REASONS[dotted] ?? NOT_DOCUMENTED });
      continue;
    }
    if (typeof child === "object" && !isMap(value)) throw new ChartModelError("INVALID_VALUE", `${dotted} must be a map`, `see the chart's value table for ${dotted}.*`);
    walkValues(value, child, dotted, ignored);
  }
}

function lookup(values: unknown, dotted: string): unknown {
  let current: unknown = values;
  for (const part of dotted.split(".")) {
    if (!isMap(current)) return undefined;
    current = current[part];
  }
  return current === null ? undefined : current;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Go template truth: false, 0, nil, and empty strings, lists and maps are false; `"false"` is true. */
function goTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function writeAtomic(file: string, data: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, data, { mode });
  fs.chmodSync(temporary, mode);
  fs.renameSync(temporary, file);
}
