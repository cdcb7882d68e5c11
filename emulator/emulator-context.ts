import type { OffsetClock } from "./clock";
import type { Faults } from "./faults";
import type { JwksResolver } from "./jwks-resolver";
import type { OidcIssuer } from "./oidc-issuer";
import type { RequestLog } from "./request-log";
import type { Store } from "./store";

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
