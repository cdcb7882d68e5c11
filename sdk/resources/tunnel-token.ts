import { entryOf } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

const entry = entryOf("tunnel-token");
export type TunnelTokenArgs = ArgsOf<typeof entry.schema>;

/** The tunnel's connector token (secret). Rotations are in-place updates visible in preview. */
export class TunnelToken extends resourceClass(entry) {}
