/**
 * Hot reload: a watcher polls the files (so Kubernetes' `..data` symlink swaps are seen), re-reads Key Vault on its
 * own interval, and when the section's values change and validate, hands the new settings to its listeners and to
 * attached clients. A failed reload keeps the last good settings and reports the error.
 */

import { type Clock, resolveClock } from '../clock.ts';
import { MaskinportenError } from '../errors.ts';
import type { MaskinportenSettings } from '../settings.ts';
import {
  applyLayer,
  DEFAULT_SECTION,
  keyVaultTarget,
  type Layer,
  type LoadedSettings,
  type LoadSettingsOptions,
  namedSettingsFromConfig,
  readKeyVaultLayer,
  readLocalSources,
} from './load.ts';
import { ConfigValidationError } from './validation-error.ts';

/**
 * Options of {@link watchMaskinportenSettings}.
 * @see {@link LoadSettingsOptions}
 */
export interface WatchSettingsOptions extends LoadSettingsOptions {
  /** How often (ms) files and environment are re-read; 5000 by default. */
  intervalMs?: number;
  /** How often (ms) Key Vault is re-read; 5 minutes by default. */
  keyVaultIntervalMs?: number;
  /** Called with new, valid settings. */
  onChange?: (loaded: LoadedSettings) => void;
  /**
   * Called when a poll fails to reload; the last good settings stay in force. A failure is reported once: the
   * next polls that fail the same way stay quiet until the failure changes (another error) or a reload succeeds.
   */
  onError?: (err: unknown) => void;
  /**
   * The clock the polls and the Key Vault interval run on; the system clock by default. A clock with timers
   * (such as `ManualClock`) makes the polls happen when it moves.
   * @see {@link Clock}
   */
  clock?: Clock;
}

/**
 * Something that can take new settings, such as a `MaskinportenClient`.
 * @see {@link watchMaskinportenSettings}
 */
export interface Reconfigurable {
  /**
   * Switches to new settings.
   *
   * @param settings - The settings that have just validated.
   */
  reconfigure(settings: MaskinportenSettings): void | Promise<void>;
}

/**
 * A running watch.
 * @see {@link watchMaskinportenSettings}
 */
export interface SettingsWatcher {
  /** The settings in force: the last ones that validated. */
  readonly current: LoadedSettings;
  /**
   * Re-reads every source now (Key Vault included).
   *
   * @returns Whether the settings changed.
   * @throws ConfigValidationError `ERR_CONFIG` when the sources no longer validate; the last good settings stay.
   */
  reload(): Promise<boolean>;
  /**
   * Hands every future change to `target` (e.g. a client).
   *
   * @param target - What to reconfigure on each change.
   * @returns A function that detaches it.
   */
  attach(target: Reconfigurable): () => void;
  /** Stops polling. */
  stop(): void;
  /** Stops polling, for `using watcher = await watchMaskinportenSettings(…)`. */
  [Symbol.dispose](): void;
}

/**
 * Loads settings and keeps them current.
 *
 * @param options - Where to look, as for `loadMaskinportenSettings`, plus the poll intervals and the `onChange` and
 *   `onError` callbacks.
 * @returns The running watcher, holding the settings in force.
 * @throws ConfigValidationError `ERR_CONFIG` when the first load does not validate.
 * @see {@link Reconfigurable}
 */
export async function watchMaskinportenSettings(options: WatchSettingsOptions = {}): Promise<SettingsWatcher> {
  const clock = resolveClock(options.clock);
  const section = options.section ?? DEFAULT_SECTION;
  // The first load reads every source once, the vault included, and keeps the vault's values for later polls.
  const initialConfig = readLocalSources(options, [section]);
  const kv = keyVaultTarget(options, initialConfig);
  if (kv && 'problem' in kv) throw new ConfigValidationError([kv.problem]);
  let kvLayer: Layer = kv ? await readKeyVaultLayer(kv.url, kv.options, [section]) : [];
  let kvReadAt = clock.monotonic();
  applyLayer(initialConfig, kvLayer);
  let current = namedSettingsFromConfig(initialConfig, { current: section }, options).current!;
  let fingerprint = fingerprintOf(current);
  const targets = new Set<Reconfigurable>();
  const kvInterval = options.keyVaultIntervalMs ?? 5 * 60 * 1000;
  let running: Promise<boolean> | undefined;
  /** The failure last reported to `onError`, until the sources load again. */
  let reported: string | undefined;

  const check = async (forceKeyVault: boolean): Promise<boolean> => {
    const config = readLocalSources(options, [section]);
    const target = keyVaultTarget(options, config);
    // The vault's URL may have gone from the files since the start: say so rather than go on without the vault.
    if (target && 'problem' in target) throw new ConfigValidationError([target.problem]);
    if (target && (forceKeyVault || clock.monotonic() - kvReadAt >= kvInterval)) {
      kvLayer = await readKeyVaultLayer(target.url, target.options, [section]);
      kvReadAt = clock.monotonic();
    }
    if (target) applyLayer(config, kvLayer);
    const next = namedSettingsFromConfig(config, { current: section }, options).current!;
    const nextPrint = fingerprintOf(next);
    reported = undefined; // the sources load again: a later failure is news
    if (nextPrint === fingerprint) return false;
    for (const t of targets) await t.reconfigure(next.settings);
    current = next;
    fingerprint = nextPrint;
    options.onChange?.(next);
    return true;
  };

  const reload = (forceKeyVault: boolean) => {
    running ??= check(forceKeyVault).finally(() => {
      running = undefined;
    });
    return running;
  };

  const intervalMs = options.intervalMs ?? 5000;
  let timer: unknown;
  let stopped = false;
  const poll = () => {
    reload(false)
      .catch((err: unknown) => {
        // A broken file stays broken until someone edits it: say so once, not on every poll.
        const key = failureKey(err);
        if (key === reported) return;
        reported = key;
        options.onError?.(err);
      })
      .finally(schedule);
  };
  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(poll, intervalMs);
    // Polling alone must not keep the process alive (system timers have unref; a fake clock's handles do not).
    (timer as { unref?: () => void } | undefined)?.unref?.();
  }
  schedule();

  const stop = () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
  return {
    get current() {
      return current;
    },
    reload: () => reload(true),
    attach(target) {
      targets.add(target);
      return () => targets.delete(target);
    },
    stop,
    [Symbol.dispose]: stop,
  };
}

function fingerprintOf(loaded: LoadedSettings): string {
  // A plain copy: the settings themselves print without their secrets (toJSON), and a new key must count.
  return JSON.stringify({ ...loaded.settings }, (_k, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
  );
}

/** What makes two failures the same one: the error's code and message (never a secret: errors hold none). */
function failureKey(err: unknown): string {
  if (err instanceof MaskinportenError) return `${err.code}\n${err.message}`;
  return err instanceof Error ? `${err.name}\n${err.message}` : String(err);
}
