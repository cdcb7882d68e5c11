import { entryOf } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

const entry = entryOf("certificate-authority");
export type CertificateAuthorityArgs = ArgsOf<typeof entry.schema>;

/** A local CA for the tunnel proxy's TLS. Replaced when `rotation` changes or renewal is due. */
export class CertificateAuthority extends resourceClass(entry) {}
