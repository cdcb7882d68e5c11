import { entryOf } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

const entry = entryOf("server-certificate");
export type ServerCertificateArgs = ArgsOf<typeof entry.schema>;

/** The proxy's TLS certificate, signed directly by the tunnel's CA. Replaced on renewal. */
export class ServerCertificate extends resourceClass(entry) {}
