import { entryOf } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

const entry = entryOf("federation-rule-binding");
export type FederationRuleBindingArgs = ArgsOf<typeof entry.schema>;

/** Makes a federation rule's service account able to manage tunnels in a workspace. */
export class FederationRuleBinding extends resourceClass(entry) {}
