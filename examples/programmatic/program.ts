import * as pulumi from "@pulumi/pulumi";
import { TunnelDeployment } from "pulumi-mcp-tunnels";

type WorkspaceRole = "workspace_developer" | "workspace_restricted_developer" | "workspace_admin";
const WORKSPACE_ROLES: WorkspaceRole[] = ["workspace_developer", "workspace_restricted_developer", "workspace_admin"];

/**
 * Programmatic mode: this stack owns the tunnel and binds the console-created federation rule to
 * the tunnel's workspace; the chart's setup job then registers a CA and fetches the token itself
 * through Workload Identity Federation, so no secret passes through this stack.
 *
 * Stack config (required): `federationRuleId` (fdrl_…, scope workspace:manage_tunnels) and
 * `workspaceId` (wrkspc_…). Optional: `workspaceRole`, if the rule's service account must be
 * added to the workspace; `tokenRotation`, which becomes `tunnel.tokenVersion`.
 */
export default function programmatic() {
  const config = new pulumi.Config();
  const deployment = new TunnelDeployment("programmatic", {
    mode: "programmatic",
    displayName: `programmatic-${pulumi.getStack()}`,
    routes: { mcp: "http://mcp-server.mcp.svc.cluster.local:8080" },
    allowedIps: ["10.0.0.0/8"],
    federationRuleId: config.require("federationRuleId"),
    workspaceId: config.require("workspaceId"),
    workspaceRole: config.get("workspaceRole", { allowedValues: WORKSPACE_ROLES }),
    token: { rotation: config.get("tokenRotation") ?? "1" },
  });
  const binding = deployment.federationRuleBinding;
  if (!binding) throw new Error("programmatic mode always creates a FederationRuleBinding");

  return {
    tunnelId: deployment.tunnelId,
    domain: deployment.domain,
    mcpServerUrls: deployment.mcpServerUrls,
    // Pass to the chart as-is: `pulumi stack output helmValues --json > values.json; helm upgrade -f values.json`.
    helmValues: deployment.helmValues,
    // The setup job's Kubernetes ServiceAccount must yield an identity token whose subject matches.
    identitySubjectPrefix: binding.subjectPrefix,
    serviceAccountId: binding.serviceAccountId,
  };
}
