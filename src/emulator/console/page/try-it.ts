/**
 * Try it: gets a token for an integration with a key pair made here (its public half registered for the request
 * and removed again, its private half never extractable), then exchanges the token at Altinn. Only the tokens'
 * claims are shown; the tokens themselves stay in this module.
 */
import { CallError, call, status } from './api.ts';
import { claimsOf, generateRsa, newKid, publicJwk, signJwt } from './jwt.ts';

let token: string | undefined;

function show(form: HTMLFormElement, title: string, claims: unknown): void {
  const box = form.querySelector('[data-try-result]');
  if (!box) return;
  const section = document.createElement('div');
  section.className = 'try-result';
  const h = document.createElement('h3');
  h.textContent = title;
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(claims, null, 2);
  section.append(h, pre);
  box.append(section);
}

async function getToken(form: HTMLFormElement): Promise<void> {
  const select = form.elements.namedItem('clientId') as HTMLSelectElement;
  const clientId = select.value;
  if (!clientId) throw new CallError('Create an integration first.');
  const typed = (form.elements.namedItem('scope') as HTMLInputElement).value.trim();
  const scope = typed || select.selectedOptions[0]?.dataset.scopes || '';
  if (!globalThis.crypto?.subtle)
    throw new CallError('Try it needs a secure context: open the console on 127.0.0.1, localhost or https.');
  const pair = await generateRsa(false);
  const kid = newKid('try');
  const keys = `/_emulator/clients/${encodeURIComponent(clientId)}/keys`;
  await call('POST', keys, { jwk: await publicJwk(pair, kid) });
  try {
    const info = (await call('GET', '/_emulator/overview')) as { issuer: string; clock: { now: string } };
    const iat = Math.floor(Date.parse(info.clock.now) / 1000);
    const grant = await signJwt(
      { alg: 'RS256', kid, typ: 'JWT' },
      { aud: info.issuer, iss: clientId, scope, iat, exp: iat + 60, jti: crypto.randomUUID() },
      pair.privateKey,
    );
    const res = await fetch('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: grant }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok || typeof body.access_token !== 'string')
      throw new CallError(
        `The token endpoint refused: ${String(body.error_description ?? body.error ?? res.status)}. See Requests for the rule and the fix.`,
      );
    token = body.access_token;
    show(form, `Maskinporten token claims (expires in ${String(body.expires_in)} s)`, claimsOf(token));
  } finally {
    await call('DELETE', `${keys}/${encodeURIComponent(kid)}`).catch(() => undefined);
  }
}

async function exchange(form: HTMLFormElement): Promise<void> {
  if (!token) throw new CallError('Get a token first.');
  const res = await fetch('/authentication/api/v1/exchange/maskinporten', {
    headers: { authorization: `Bearer ${token}`, accept: 'text/plain' },
  });
  const text = await res.text();
  if (!res.ok) throw new CallError(`The exchange refused (${res.status}). See Requests for the reason.`);
  show(form, 'Altinn token claims', claimsOf(text.replace(/^"|"$/g, '')));
}

/** Wires the Try it form. */
export function wireTry(): void {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.try === undefined) return;
    event.preventDefault();
    token = undefined;
    form.querySelector('[data-try-result]')?.replaceChildren();
    status(form, 'Getting a token…');
    getToken(form)
      .then(() => {
        status(form, 'Got a token.');
        form.querySelector<HTMLButtonElement>('[data-exchange]')!.disabled = false;
      })
      .catch((err: unknown) => status(form, (err as Error).message, true));
  });
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-exchange]') : null;
    const form = button?.closest('form');
    if (!form) return;
    status(form, 'Exchanging…');
    exchange(form)
      .then(() => status(form, 'Exchanged for an Altinn token.'))
      .catch((err: unknown) => status(form, (err as Error).message, true));
  });
}
