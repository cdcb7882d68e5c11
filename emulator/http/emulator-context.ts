import type { JwksResolver } from "../identity/jwks-resolver";
import type { OidcIssuer } from "../identity/oidc-issuer";
import type { OffsetClock } from "../state/clock";
import type { Store } from "../state/store";
import type { Faults } from "./faults";
import type { RequestLog } from "./request-log";

/** Everything a handler may reach; one per running emulator. */
export interface EmulatorContext {
  readonly baseUrl: string;
  readonly store: Store;
  readonly clock: OffsetClock;
  readonly oidc: OidcIssuer;
  readonly requestLog: RequestLog;
  readonly faults: Faults;
  readonly jwks: JwksResolver;
  /** Empties all state and re-seeds the default fixture. */
  reset(): void;
}
