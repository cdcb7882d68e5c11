/**
 * The ids the emulator seeds at start (the default fixture in docs/tunnels-api.md): fixed, so
 * examples, demos and tests can name them. The emulator's, not the product's: nothing in the
 * package's own code may depend on an emulator fixture.
 */
export const EMULATOR_FIXTURE = {
  organizationId: "6f1c7a52-0000-4000-8000-00000000e001",
  defaultWorkspaceId: "wrkspc_default",
  workspaces: ["wrkspc_default", "wrkspc_platform", "wrkspc_sandbox"],
  tunnelsServiceAccountId: "svac_tunnelsetup",
  adminServiceAccountId: "svac_admin",
  issuerId: "fdis_emulator",
  tunnelsRuleId: "fdrl_tunnels",
  adminRuleId: "fdrl_admin",
  tunnelsSubjectPrefix: "system:serviceaccount:mcp-tunnel:*",
  adminSubject: "admin",
} as const;
