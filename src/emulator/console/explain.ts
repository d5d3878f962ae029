/**
 * Why a request was refused, and what to change in the client: the knowledge `maskinporten doctor` applies to a
 * setup, applied to each logged refusal so the console can show it beside the failure. Works from the MP code, the
 * error and the decoded grant (never the assertion), so it follows the rules as they are, not as they were written.
 */
import type { EmulatorCore } from '../core.ts';
import type { RequestLogEntry } from '../request-log.ts';

/** The rule a refused request broke and the change that makes it pass. */
export interface Explanation {
  rule: string;
  hint: string;
}

type Entry = Omit<RequestLogEntry, 'id'>;

const show = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'nothing'));

// Some live answers carry no MP code (e.g. "JWT has expired"): their texts name the rule as well.
const BY_TEXT: [RegExp, string][] = [
  [/JWT has expired|Issue time|too long lifetime|JWT is expired|not valid yet/i, 'MP-130'],
  [/Unknown key identifier|No key with kid/i, 'MP-100'],
  [/Invalid JWT claim aud/i, 'MP-110'],
  [/used before/i, 'MP-012'],
];

function ruleCode(mpCode: string | undefined, text: string): string | undefined {
  return mpCode ?? BY_TEXT.find(([pattern]) => pattern.test(text))?.[1];
}

function explainGrant(entry: Entry, core: EmulatorCore): Explanation | undefined {
  const claims = entry.grant?.claims ?? {};
  const header = entry.grant?.header ?? {};
  const text = `${entry.errorDescription ?? ''}`;
  const client = typeof claims.iss === 'string' ? core.state.client(claims.iss) : undefined;
  const kids = client?.keys.map((k) => k.jwk.kid).join(', ') || 'none';
  switch (ruleCode(entry.mpCode, text)) {
    case 'MP-110':
      return {
        rule: 'The grant’s aud must name this Maskinporten’s issuer.',
        hint: `\`aud\` was \`${show(claims.aud)}\`: use the issuer \`${core.issuer}\` (the authority from discovery, with its trailing slash).`,
      };
    case 'MP-121':
      return {
        rule: `The key with kid ${show(header.kid)} has expired on the client.`,
        hint: 'Register a new key on the integration (or post the same public key again to renew it) and sign with it.',
      };
    case 'MP-124':
      return /alg/i.test(text)
        ? {
            rule: 'Grants are signed with RSA (RS256, RS384 or RS512).',
            hint: `\`alg\` was \`${show(header.alg)}\`: sign with RS256 and an RSA key of at least 2048 bits.`,
          }
        : {
            rule: 'The grant’s signature must verify with the public key its header points to.',
            hint: `Sign with the private half of the key whose kid is \`${show(header.kid)}\`; the client’s keys are: ${kids}.`,
          };
    case 'MP-130':
      return {
        rule: 'A grant is valid only close to the server’s time: iat within seconds of now, exp after now and soon after iat.',
        hint: `Build each grant just before sending it, from a synchronised clock (the grant’s iat was ${show(claims.iat)}, the emulator’s clock read ${Math.floor(core.clock.now() / 1000)}, offset ${core.clock.offsetMs} ms); keep exp − iat short.`,
      };
    case 'MP-012':
      return {
        rule: 'Each grant is used once: its jti may not repeat.',
        hint: 'Make a new grant with a fresh random jti for every token request; never resend a grant.',
      };
    case 'MP-200':
      if (/no scope/i.test(text))
        return { rule: 'A grant must ask for at least one scope.', hint: 'Add the scope claim (space-separated).' };
      return {
        rule: 'A client may ask only for scopes registered on it (or open to all).',
        hint: `Ask only for ${client?.scopes.length ? client.scopes.join(' ') : 'scopes the integration has'}, or add the scope to the integration.`,
      };
    case 'MP-201':
      return {
        rule: 'A scope whose owner allows other integration types only (allowed_integration_types) is refused to Maskinporten clients.',
        hint: 'Ask the scope’s owner to add maskinporten to its allowed_integration_types, or ask for another scope.',
      };
    case 'MP-250':
      return {
        rule: 'The organisation has not been granted access to the scope.',
        hint: 'Have the scope’s owner grant your organisation access, or ask for another scope.',
      };
    case 'MP-251':
      return {
        rule: 'With consumer_org, the consumer must have delegated the scope to the client’s organisation.',
        hint: `Register a delegation from ${show(claims.consumer_org)} to ${client?.orgNo ?? 'the client’s organisation'} for the scope (Altinn view), or leave out consumer_org.`,
      };
    default:
      break;
  }
  const code = ruleCode(entry.mpCode, text);
  if (code === 'MP-100') {
    if (!client?.active)
      return {
        rule: 'The grant’s iss must be the id of an active integration.',
        hint: `\`iss\` was \`${show(claims.iss)}\`: use a client id from the Integrations list.`,
      };
    if (header.kid === undefined)
      return {
        rule: 'A client with registered keys must name one in the header’s kid.',
        hint: `Put the key’s kid in the grant header; the client’s keys are: ${kids}.`,
      };
    return {
      rule: 'The header’s kid must name a key registered on the client.',
      hint: `\`kid\` was \`${show(header.kid)}\`: register that public key on the integration, or use one of: ${kids}.`,
    };
  }
  if (code?.startsWith('MP-12'))
    return {
      rule: 'A certificate grant must carry a valid business certificate of the client’s organisation.',
      hint: 'Check the x5c chain, its validity dates and that its organisation number is the client’s.',
    };
  if (code?.startsWith('MP-3'))
    return {
      rule: 'authorization_details must be a known type with its documented fields.',
      hint: `Fix authorization_details as the error says: ${text.replace(/\s*\(trace_id: \w+\)$/, '')}`,
    };
  return undefined;
}

/**
 * Explains a refused or faulted request; undefined for a request that succeeded or has nothing to explain.
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking
 */
export function explainEntry(entry: Entry, core: EmulatorCore): Explanation | undefined {
  try {
    return explain(entry, core);
  } catch {
    // An explanation is a courtesy: whatever a hostile grant holds, logging the request must not fail.
    return undefined;
  }
}

function explain(entry: Entry, core: EmulatorCore): Explanation | undefined {
  if (entry.outcome === 'ok') return undefined;
  if (entry.outcome === 'fault')
    return {
      rule: `An injected fault answered instead of the endpoint (${entry.fault || 'fault'}).`,
      hint: 'A robust client retries 5xx and 429 answers with backoff; clear the fault in the Faults view to recover.',
    };
  const description = (entry.errorDescription ?? '').replace(/\s*\(trace_id: \w+\)$/, '');
  const explained = entry.endpoint === 'token' ? explainGrant(entry, core) : undefined;
  if (explained) return explained;
  if (entry.error === 'invalid_token' || entry.status === 401)
    return {
      rule: 'This endpoint needs a valid Maskinporten token from this emulator.',
      hint: `Send \`Authorization: Bearer <token>\` with a fresh token${description ? ` (${description})` : ''}.`,
    };
  if (entry.error === 'insufficient_scope' || entry.status === 403)
    return { rule: 'The token lacks a scope this operation needs.', hint: description || 'Ask for the needed scope.' };
  if (entry.mpCode === 'MP-011' || entry.error === 'invalid_request' || entry.error === 'unsupported_grant_type')
    return { rule: 'The request or grant is malformed.', hint: description || 'Check the request against the docs.' };
  if (entry.status === 404)
    return { rule: 'There is no such endpoint or resource.', hint: `Check the path \`${entry.path}\`.` };
  if (entry.status === 405 || entry.status === 415 || entry.status === 413)
    return { rule: 'The request’s method, media type or size is not accepted here.', hint: description };
  return description ? { rule: 'The request was refused.', hint: description } : undefined;
}
