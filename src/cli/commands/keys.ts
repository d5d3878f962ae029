/**
 * `maskinporten keys list|add|rotate|prune`: a client's registered keys through the self-service API — the whole
 * rotation (new key next to the old, switch, remove the old) without the portal, within the 5-key limit.
 */
import { MAX_CLIENT_KEYS } from '../../protocol/constants.ts';
import { MAX_KEY_LIFETIME_SECONDS, type RegisteredJwk, withLifetime } from '../../self-service/index.ts';
import { ADMIN_FLAGS, adminHelp, selfServiceFromFlags } from '../admin.ts';
import { parse, UsageError } from '../args.ts';
import { type CliIo, pathIn } from '../io.ts';
import { generateKeyFiles, keyBits, privateKeyFormat, privateKeyPath } from '../key-files.ts';
import { painter } from '../output.ts';
import { readPublicKeys } from '../public-keys.ts';
import { listFlag } from '../settings-flags.ts';

export const help = `Usage: maskinporten keys <list|add|rotate|prune> CLIENT_ID [options]

  list CLIENT_ID                      the registered keys and when each expires (warns within 30 days)
  add CLIENT_ID --public-key FILE [--lifetime DURATION]
                                      registers more keys next to the current ones (at most ${MAX_CLIENT_KEYS})
  rotate CLIENT_ID [--out-dir DIR] [--bits N] [--private-format jwk|jwk-base64] [--lifetime DURATION] [--force]
                                      generates a new key pair locally and registers it next to the current keys;
                                      prints where the new private key is (private.jwk.json, or jwk.base64 with
                                      --private-format jwk-base64, as keygen). Switch your settings to it, then prune.
  prune CLIENT_ID [--kid KID…] [--keep N] [--force]
                                      removes keys: expired ones (default), the named ones, or all but the newest N;
                                      refuses to remove the last key without --force (then the key set is deleted)

  --lifetime DURATION                 how long the new key works: 90d, 12w, 6h, 1y or seconds (at most 365d;
                                      default: one year, the API's maximum). Keys already registered keep their
                                      expiry; an expired one that is posted again is renewed for a year.

${adminHelp}

Examples:
  maskinporten keys list 2c9f…
  maskinporten keys rotate 2c9f… --out-dir maskinporten-keys/2026
  maskinporten keys prune 2c9f… --kid old-key-id
`;

const DAY = 24 * 60 * 60;
const UNITS: Record<string, number> = { s: 1, h: 3600, d: DAY, w: 7 * DAY, y: 365 * DAY };

/** `--lifetime`: 90d, 12w, 6h, 1y, or whole seconds; 1 s to 365 days. */
export function parseLifetime(value: string): number {
  const m = /^(\d+)\s*([shdwy]?)$/.exec(value.trim());
  const seconds = m ? Number(m[1]) * UNITS[m[2] || 's']! : Number.NaN;
  if (!(seconds > 0 && seconds <= MAX_KEY_LIFETIME_SECONDS))
    throw new UsageError(
      `--lifetime must be a duration such as 90d, 12w or 1y (at most 365d), got ${JSON.stringify(value)}`,
    );
  return seconds;
}

function expiryText(k: RegisteredJwk, now: number): string {
  if (k.exp === undefined) return 'expiry unknown';
  const days = Math.floor((k.exp - now) / DAY);
  const date = new Date(k.exp * 1000).toISOString().slice(0, 10);
  return days < 0 ? `EXPIRED ${date}` : `expires ${date} (${days} days)`;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parse(
    rest,
    {
      ...ADMIN_FLAGS,
      'public-key': { type: 'string' },
      'out-dir': { type: 'string' },
      bits: { type: 'string' },
      'private-format': { type: 'string' },
      kid: { type: 'string', multiple: true },
      keep: { type: 'string' },
      lifetime: { type: 'string' },
      force: { type: 'boolean' },
    },
    true,
  );
  if (!['list', 'add', 'rotate', 'prune'].includes(action ?? '')) {
    throw new UsageError(
      `keys needs one of list, add, rotate, prune${action ? `, got ${JSON.stringify(action)}` : ''}`,
    );
  }
  const lifetime = values.lifetime === undefined ? undefined : parseLifetime(values.lifetime);
  if (lifetime !== undefined && action !== 'add' && action !== 'rotate')
    throw new UsageError('--lifetime applies to keys add and keys rotate');
  if (values['private-format'] !== undefined && action !== 'rotate')
    throw new UsageError('--private-format applies to keys rotate');
  const privateFormat = privateKeyFormat(values['private-format']);
  const target = positionals[0];
  if (!target) throw new UsageError(`keys ${action} needs the client id of the integration whose keys to manage`);
  const json = values.json === true;
  const { bold, dim, warn } = painter(io);
  // --kid is the admin's own key id elsewhere; here (prune) it names keys to remove, so keep it out of the settings.
  const { kid: kids, ...adminValues } = values;
  const api = await selfServiceFromFlags(
    action === 'prune' ? adminValues : { ...adminValues, ...(kids?.length === 1 ? { kid: kids[0] } : {}) },
    io,
  );
  const current = (await api.getKeys(target)).keys;
  // Keys expire on the API's clock, so judge them on it (as measured from its answer), not on this machine's.
  const now = Math.floor(api.serverNow() / 1000);
  // Posting replaces the whole set: the current keys go again with their own expiry (an expired one without it,
  // which renews it, as the API does for a re-posted key).
  const again = (keys: RegisteredJwk[]) =>
    keys.map(({ exp, ...k }) => (exp !== undefined && exp > now ? { ...k, exp } : k));
  const fresh = (k: RegisteredJwk) => (lifetime === undefined ? k : withLifetime(k, lifetime, now));

  if (action === 'list') {
    const soon = current.filter((k) => k.exp !== undefined && k.exp - now < 30 * DAY);
    for (const k of soon)
      warn(
        `warning: key ${k.kid} ${k.exp! < now ? 'has expired' : 'expires within 30 days'}: rotate it (maskinporten keys rotate ${target})`,
      );
    if (json)
      io.stdout.write(
        `${JSON.stringify(
          current.map((k) => ({ kid: k.kid, alg: k.alg, exp: k.exp, expiresSoon: soon.includes(k) })),
          null,
          2,
        )}\n`,
      );
    else
      io.stdout.write(
        current.length
          ? `${current.map((k) => `${k.kid}  ${k.alg ?? ''}  ${expiryText(k, now)}`).join('\n')}\n`
          : 'No keys registered.\n',
      );
    return 0;
  }

  if (action === 'add') {
    if (!values['public-key']) throw new UsageError('keys add needs --public-key FILE');
    const added = readPublicKeys(values['public-key'], io).map(fresh);
    const kept = current.filter((k) => !added.some((a) => a.kid === k.kid));
    const next = [...again(kept), ...added];
    if (next.length > MAX_CLIENT_KEYS) {
      throw new UsageError(
        `that makes ${next.length} keys; a client may have at most ${MAX_CLIENT_KEYS}: prune old keys first (maskinporten keys prune ${target})`,
      );
    }
    const set = await api.replaceKeys(target, next);
    if (json) io.stdout.write(`${JSON.stringify(set, null, 2)}\n`);
    else
      io.stdout.write(
        `${bold('Registered')} ${added.map((k) => k.kid).join(', ')}; the client now has ${set.keys.length} key(s).\n`,
      );
    return 0;
  }

  if (action === 'rotate') {
    if (current.length >= MAX_CLIENT_KEYS) {
      throw new UsageError(
        `client ${target} already has ${current.length} keys, the most allowed: remove one first (maskinporten keys prune ${target} --kid OLD_KID)`,
      );
    }
    const outDir = pathIn(io, values['out-dir'] ?? 'maskinporten-keys');
    const bits = keyBits(values.bits);
    const { pair, files } = await generateKeyFiles({
      outDir,
      bits,
      alg: 'RS256',
      force: values.force === true,
      privateFormat,
    });
    const privateFile = privateKeyPath(files);
    const set = await api.replaceKeys(target, [...again(current), fresh(pair.publicJwk)]);
    if (json) {
      io.stdout.write(
        `${JSON.stringify({ kid: pair.kid, files, keys: set.keys.map((k) => ({ kid: k.kid, exp: k.exp })) }, null, 2)}\n`,
      );
    } else {
      io.stdout.write(
        [
          `${bold('Rotated:')} new key ${pair.kid} registered next to ${current.map((k) => k.kid).join(', ') || 'no other keys'}.`,
          `  The new private key is in ${privateFile} ${dim('(mode 0600; --key-file takes it)')}.`,
          `  Next: put it in your settings (maskinporten keyvault push --key-file ${privateFile} stores it as JwkBase64), deploy, then remove the old key:`,
          ...current.map((k) => `    maskinporten keys prune ${target} --kid ${k.kid}`),
          '',
        ].join('\n'),
      );
    }
    return 0;
  }

  // prune
  const named = listFlag(kids);
  let remove: RegisteredJwk[];
  if (named.length) {
    const unknown = named.filter((n) => !current.some((k) => k.kid === n));
    if (unknown.length) throw new UsageError(`client ${target} has no key ${unknown.join(', ')}`);
    remove = current.filter((k) => named.includes(k.kid!));
  } else if (values.keep !== undefined) {
    const keep = Number(values.keep);
    if (!Number.isInteger(keep) || keep < 0) throw new UsageError('--keep must be a whole number');
    // Newest first: latest expiry, and among equal expiries (every posted key gets a fresh year) the later in the
    // set, where add and rotate append new keys.
    remove = current
      .map((k, i) => ({ k, i }))
      .sort((a, b) => (b.k.exp ?? 0) - (a.k.exp ?? 0) || b.i - a.i)
      .slice(keep)
      .map(({ k }) => k);
  } else {
    remove = current.filter((k) => k.exp !== undefined && k.exp < now);
  }
  const next = current.filter((k) => !remove.includes(k));
  if (next.length === 0 && current.length > 0 && !values.force) {
    throw new UsageError(
      'that would remove every key, and the client could no longer get tokens: use --force if you mean it',
    );
  }
  if (remove.length === 0) {
    io.stdout.write(
      json ? `${JSON.stringify({ removed: [], keys: current.map((k) => k.kid) })}\n` : 'Nothing to remove.\n',
    );
    return 0;
  }
  // The API takes no empty set: removing the last key deletes the key set.
  const left = next.length ? (await api.replaceKeys(target, again(next))).keys : [];
  if (!next.length) await api.deleteKeys(target);
  const set = { keys: left };
  if (json)
    io.stdout.write(
      `${JSON.stringify({ removed: remove.map((k) => k.kid), keys: set.keys.map((k) => k.kid) }, null, 2)}\n`,
    );
  else io.stdout.write(`${bold('Removed')} ${remove.map((k) => k.kid).join(', ')}; ${set.keys.length} key(s) left.\n`);
  return 0;
}
