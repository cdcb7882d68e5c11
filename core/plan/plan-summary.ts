import { SERIALIZED_PROVIDER_KEY, UNKNOWN } from "../schemas/engine-values";
import { TYPE_MODULE } from "../schemas/field";
import { RESOURCE_REGISTRY, type PlanSection } from "../schemas/registry";
import { scheduledRotationDueAt } from "../schemas/tunnel-token";
import { typeAndName, type PreviewJson, type PreviewStep } from "./preview-json";

const OUR_TYPE_PREFIX = `pulumi-nodejs:dynamic/${TYPE_MODULE}:`;
const NO_CHANGE = new Set(["same", "read", "refresh", "discard"]);
const CREATES = new Set(["create", "create-replacement"]);
const DELETES = new Set(["delete", "delete-replaced"]);

type Props = Record<string, unknown>;

interface Change {
  kind: string;
  name: string;
  op: string;
  olds: Props;
  news: Props;
  oldOutputs: Props;
  replaceReasons: string[];
  changedInputs: string[];
}

const UNKNOWN_TEXT = "(known after apply)";

function show(value: unknown): string {
  if (value === undefined || value === null) return "unset";
  if (typeof value === "string") return value === UNKNOWN ? UNKNOWN_TEXT : `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

function changedInputs(olds: Props, news: Props): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  keys.delete(SERIALIZED_PROVIDER_KEY);
  return [...keys].filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key])).sort();
}

/** A replace appears once as `replace` (and in some engines also as create-/delete-replacement steps). */
function changesFrom(preview: PreviewJson): { ours: Change[]; dependents: string[] } {
  const ours: Change[] = [];
  const dependents: string[] = [];
  const replaced = new Set(preview.steps.filter((s) => s.op === "replace").map((s) => s.urn));
  for (const step of preview.steps) {
    if (NO_CHANGE.has(step.op) || (replaced.has(step.urn) && step.op !== "replace")) continue;
    const { type, name } = typeAndName(step.urn);
    if (type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:")) continue;
    if (!type.startsWith(OUR_TYPE_PREFIX)) {
      if (step.op === "update" || step.op === "replace") dependents.push(`${name} (${step.op})`);
      continue;
    }
    ours.push(changeOf(step, type.slice(OUR_TYPE_PREFIX.length), name));
  }
  return { ours, dependents };
}

function changeOf(step: PreviewStep, kind: string, name: string): Change {
  const olds = (step.oldState?.inputs ?? {}) as Props;
  const news = (step.newState?.inputs ?? {}) as Props;
  return {
    kind,
    name,
    op: step.op,
    olds,
    news,
    oldOutputs: (step.oldState?.outputs ?? {}) as Props,
    replaceReasons: step.replaceReasons ?? [],
    changedInputs: changedInputs(olds, news),
  };
}

function because(change: Change, fields: string[]): string {
  const reasons = fields.map((field) => `${field} ${show(change.olds[field])} → ${show(change.news[field])}`);
  return reasons.length > 0 ? ` because ${reasons.join(", ")}` : "";
}

function tunnelLines(change: Change): string[] {
  const id = show(change.oldOutputs.tunnelId ?? change.olds.adoptTunnelId);
  if (change.op === "create") return [`- Tunnel **${change.name}** will be created (${show(change.news.displayName)}).`];
  if (DELETES.has(change.op) || change.op === "replace") {
    const how = change.op === "replace" ? `replaced${because(change, change.replaceReasons)}` : "deleted";
    return [
      `- ⚠️ **Tunnel ${change.name} (${id}, ${show(change.oldOutputs.domain)}) will be ARCHIVED — irreversible.** It is ${how}; its domain stops working for good and connectors using it must move to the new tunnel.`,
    ];
  }
  return [];
}

function tokenLines(change: Change): string[] {
  const tunnel = show(change.news.tunnelId ?? change.olds.tunnelId);
  if (CREATES.has(change.op)) return [`- Token of tunnel ${tunnel} will be revealed (recorded in the audit log).`];
  if (change.op === "replace") return [`- Token resource ${change.name} moves to tunnel ${tunnel}${because(change, change.replaceReasons)}; the token is revealed there.`];
  if (DELETES.has(change.op)) return [`- Token resource ${change.name} is removed from the stack (the token itself stays valid until the tunnel is archived or rotated).`];
  const reasons: string[] = [];
  if (change.changedInputs.includes("rotation")) reasons.push(`\`rotation\` changed ${show(change.olds.rotation)} → ${show(change.news.rotation)}`);
  const scheduledDueAt = scheduledRotationDueAt(change.olds, change.news);
  if (scheduledDueAt) {
    reasons.push(`the scheduled rotation was due at ${show(scheduledDueAt.toISOString())} (every ${show(change.news.rotateEveryDays)} days); next at ${show(change.news.rotateAt)}`);
  }
  if (reasons.length === 0) return [`- Token settings of ${change.name} change (${change.changedInputs.join(", ")}); no rotation.`];
  const reason = change.news.reason ? ` Audit reason: ${show(change.news.reason)}.` : "";
  return [`- 🔁 **Token of tunnel ${tunnel} rotates** (${change.name}): ${reasons.join("; ")}. The old token stops working for new connections; every consumer of \`token\` updates in this plan.${reason}`];
}

function registrationLines(change: Change): string[] {
  const tunnel = show(change.news.tunnelId ?? change.olds.tunnelId);
  const old = show(change.oldOutputs.certificateId);
  if (change.op === "create") return [`- Register a CA on tunnel ${tunnel} (${change.name}).`];
  if (DELETES.has(change.op)) return [`- Archive (revoke) CA registration ${old} on tunnel ${tunnel} (${change.name}).`];
  if (change.op === "replace" && change.replaceReasons.includes("tunnelId")) {
    return [`- Register the CA on the new tunnel ${tunnel} (${change.name}), then archive registration ${old} on the old one.`];
  }
  if (change.op === "replace") {
    return [
      `- 🔐 **CA overlap on tunnel ${tunnel}** (${change.name})${because(change, change.replaceReasons.filter((r) => r !== "caCertificatePem"))}:`,
      `  1. register the new CA first (two CAs active during the overlap);`,
      `  2. re-issue the server certificate from it and update its consumers;`,
      `  3. archive the old registration ${old} last.`,
    ];
  }
  return [];
}

function certificateLines(change: Change, what: string): string[] {
  if (change.op === "create") return [`- Issue ${what} ${change.name}.`];
  if (DELETES.has(change.op)) return [`- Remove ${what} ${change.name} from the stack.`];
  if (change.op !== "replace") return [];
  const why: string[] = [];
  if (change.replaceReasons.includes("rotation")) why.push(`\`rotation\` changed ${show(change.olds.rotation)} → ${show(change.news.rotation)}`);
  if (change.replaceReasons.includes("caCertificatePem")) why.push("its CA is new");
  if (change.replaceReasons.includes("domain")) why.push(`the domain changed to ${show(change.news.domain)}`);
  const settings = change.replaceReasons.filter((r) => ["keyAlgorithm", "validityDays", "renewBeforeDays", "commonName"].includes(r));
  if (settings.length > 0) why.push(`settings changed (${settings.join(", ")})`);
  if (why.length === 0 && change.replaceReasons.includes("renewAt")) why.push(`renewal is due (renewAt ${show(change.olds.renewAt)} has passed)`);
  return [`- ♻️ **${what[0]!.toUpperCase()}${what.slice(1)} ${change.name} renews**: ${why.join("; ") || change.replaceReasons.join(", ")}.`];
}

function bindingLines(change: Change): string[] {
  const rule = show(change.news.federationRuleId ?? change.olds.federationRuleId);
  const workspace = show(change.news.workspaceId ?? change.olds.workspaceId);
  if (change.op === "create") return [`- Bind federation rule ${rule} to workspace ${workspace} (adds its service account as a member if it is not one).`];
  if (DELETES.has(change.op)) {
    const created = change.oldOutputs.membershipCreated === true;
    return [`- Unbind ${rule} from ${workspace}: ${created ? `removes the membership of ${show(change.oldOutputs.serviceAccountId)} that this stack added` : "leaves the existing membership in place"}.`];
  }
  if (change.op === "replace") return [`- Re-bind ${change.name}${because(change, change.replaceReasons)}.`];
  return [`- Binding ${change.name} changes (${change.changedInputs.join(", ")}).`];
}

/** The summary's sections, in the order it prints them; which kinds each lists comes from the registry. */
const SECTIONS: { [S in PlanSection]: { title: string; lines: (change: Change) => string[] } } = {
  tunnels: { title: "Tunnels", lines: tunnelLines },
  tokens: { title: "Tokens", lines: tokenLines },
  registrations: { title: "CA registrations", lines: registrationLines },
  authorities: { title: "Certificate authorities", lines: (c) => certificateLines(c, "CA") },
  serverCertificates: { title: "Server certificates", lines: (c) => certificateLines(c, "server certificate") },
  bindings: { title: "Federation bindings", lines: bindingLines },
};

function typeNamesIn(section: PlanSection): string[] {
  return RESOURCE_REGISTRY.filter((entry) => entry.planSection === section).map((entry) => entry.schema.typeName);
}

/** A pull-request-ready Markdown summary of what a preview does to tunnels. */
export function summarizePlan(preview: PreviewJson): string {
  const { ours, dependents } = changesFrom(preview);
  const out = ["## MCP tunnels plan", ""];
  if (ours.length === 0) {
    out.push("No changes to tunnels, tokens, certificates or federation bindings.");
    return `${out.join("\n")}\n`;
  }
  const archived = ours.filter((c) => c.kind === "Tunnel" && (DELETES.has(c.op) || c.op === "replace"));
  if (archived.length > 0) out.push(`> **Warning:** this plan archives ${archived.length} tunnel(s). Archiving is irreversible.`, "");
  for (const [name, section] of Object.entries(SECTIONS) as [PlanSection, (typeof SECTIONS)[PlanSection]][]) {
    const kinds = typeNamesIn(name);
    const lines = ours.filter((c) => kinds.includes(c.kind)).flatMap(section.lines);
    if (lines.length > 0) out.push(`### ${section.title}`, ...lines, "");
  }
  if (dependents.length > 0) out.push(`### Dependents updating`, `- ${dependents.join(", ")}`, "");
  return `${out.join("\n").trimEnd()}\n`;
}
