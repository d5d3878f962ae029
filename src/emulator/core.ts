/**
 * What every route of the emulator shares: its state, clock, faults, log and addresses. Built once by
 * `startEmulator` and handed to each route module.
 */
import type { AccessPolicy } from './access.ts';
import type { EmulatorClock } from './clock.ts';
import type { FaultSet } from './faults.ts';
import type { GrantRuleSet } from './grant-rules.ts';
import type { ReplayGuard } from './replay-guard.ts';
import type { RequestLog } from './request-log.ts';
import type { EmulatorState } from './state.ts';

/** The emulator's shared parts. */
export interface EmulatorCore {
  state: EmulatorState;
  clock: EmulatorClock;
  faults: FaultSet;
  log: RequestLog;
  replay: ReplayGuard;
  /** Origin, no trailing slash. */
  url: string;
  /** `url + '/'` (Skyporten: `url`): the Maskinporten issuer and grant audience. */
  issuer: string;
  /** `url + '/token'`. */
  tokenEndpoint: string;
  /** Which reading of the grant rules the token endpoint applies. */
  rules: GrantRuleSet;
  /** True when the emulator answers as Skyporten: issuer without a trailing slash, OpenID discovery. */
  skyporten: boolean;
  /** The `delegation_source` of delegated tokens: the Altinn portal's issuer. */
  delegationSource: string;
  /** Altinn platform base URL (same origin). */
  altinnPlatformUrl: string;
  /** Altinn's token issuer. */
  altinnIssuer: string;
  /** Organisation number → Altinn organisation code (e.g. `991825827` → `digdir`). */
  orgCodes: ReadonlyMap<string, string>;
  /** Which `Host` headers and control-route callers are served. */
  access: AccessPolicy;
}
