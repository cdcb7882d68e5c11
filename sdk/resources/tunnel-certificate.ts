import { entryOf } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

const entry = entryOf("tunnel-certificate");
export type TunnelCertificateArgs = ArgsOf<typeof entry.schema>;

/**
 * A CA registered on a tunnel. Destroying it archives ("revokes") the registration. A new PEM
 * registers the new CA before archiving the old one, so the two overlap.
 */
export class TunnelCertificate extends resourceClass(entry) {}
