import * as pulumi from "@pulumi/pulumi";
import { TunnelDeployment } from "pulumi-mcp-tunnels";

/**
 * Rotation as a reviewed change. Each rotation is a stack config edit whose `pulumi preview`
 * shows exactly what will happen before `pulumi up` does it:
 *
 * - `tokenRotation` changed → TunnelToken is updated in place (the API rotates the token and the
 *   old one stops accepting new connections), so `tunnel.tokenVersion` and `secretsChecksum` change
 *   and the pods roll. `tokenRotateEveryDays` rotates on a schedule instead: once it is due, the
 *   preview shows the same update with `rotateAt` as the reason.
 * - `caRotation` changed → a new CertificateAuthority replaces the old one; its registration and
 *   the server certificate are replaced after it, created before the old ones are deleted, so the
 *   tunnel always has an active CA the proxy's certificate chains to.
 */
export default function rotation() {
  const config = new pulumi.Config();
  const deployment = new TunnelDeployment("rotation", {
    displayName: `rotation-${pulumi.getStack()}`,
    routes: { mcp: "http://10.0.0.5:8080" },
    ca: { rotation: config.get("caRotation") ?? "1" },
    token: {
      rotation: config.get("tokenRotation") ?? "1",
      rotateEveryDays: config.getNumber("tokenRotateEveryDays", { min: 1 }),
      reason: config.get("rotationReason"),
    },
  });
  const { tunnelToken, certificateAuthority, serverCertificate } = deployment;
  if (!tunnelToken || !certificateAuthority || !serverCertificate) throw new Error("manual mode always creates the token and both certificates");

  return {
    tunnelId: deployment.tunnelId,
    tokenVersion: tunnelToken.tokenId,
    tokenRotatedAt: tunnelToken.rotatedAt,
    nextTokenRotationAt: tunnelToken.nextRotationAt,
    caFingerprint: certificateAuthority.fingerprint,
    caRenewAt: certificateAuthority.renewAt,
    serverCertificateFingerprint: serverCertificate.fingerprint,
    secretsChecksum: deployment.secretsChecksum,
    helmValues: deployment.helmValues,
  };
}
