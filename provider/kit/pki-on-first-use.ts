import type * as Pki from "../../core/pki";

/**
 * The X.509 layer, loaded when a provider first needs it: the provider process starts for every
 * engine operation, and a no-change preview checks no new certificate.
 */
export const pkiOnFirstUse = (): Promise<typeof Pki> => import("../../core/pki/index.js");
