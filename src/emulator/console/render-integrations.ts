/**
 * The Integrations view: every active client with its id, scopes, token lifetime and keys (expiry, the 30-day
 * warning, the count against the limit), and the forms that create, deactivate and add keys (the forms work with
 * the page's script; the lists need none).
 */
import { html, join, type SafeHtml } from './html.ts';
import type { IntegrationView, KeyView, Overview } from './views.ts';

const date = (iso: string) => iso.slice(0, 10);

function keyStatus(k: KeyView): SafeHtml {
  if (k.status === 'expired') return html`<span class="badge bad">expired</span>`;
  if (k.status === 'expiring')
    return html`<span class="badge warn">expires in ${k.daysLeft} day${k.daysLeft === 1 ? '' : 's'}</span>`;
  return html`<span class="badge good">valid</span>`;
}

function keysTable(c: IntegrationView): SafeHtml {
  if (c.keys.length === 0) return html`<p class="muted">No keys registered: add one to get tokens.</p>`;
  return html`<table class="keys">
    <caption>Keys of ${c.clientName}</caption>
    <thead><tr><th scope="col">kid</th><th scope="col">Type</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${join(
      c.keys,
      (k) => html`<tr data-kid="${k.kid}">
        <td><code>${k.kid}</code></td><td>${k.alg}, ${k.bits} bits</td><td>${date(k.created)}</td>
        <td><time datetime="${k.expires}">${date(k.expires)}</time></td><td>${keyStatus(k)}</td>
        <td>${c.admin ? '' : html`<button type="button" class="js-only link" data-remove-key="${k.kid}" data-client-id="${c.clientId}" aria-label="Remove key ${k.kid}">Remove</button>`}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

function addKey(c: IntegrationView): SafeHtml {
  if (c.admin) return html``;
  const full = c.keys.length >= c.keyLimit;
  const id = `paste-${c.clientId}`;
  return html`<details class="js-only add-key">
    <summary>Add a key</summary>
    ${full ? html`<p class="warn-text">This integration has ${c.keyLimit} keys, the limit: remove one first.</p>` : ''}
    <form class="key-form" data-client-id="${c.clientId}">
      <label for="${id}">Public JWK (JSON)</label>
      <textarea id="${id}" name="jwk" rows="4" spellcheck="false" placeholder='{"kty":"RSA","kid":"…","n":"…","e":"AQAB","use":"sig"}'></textarea>
      <div class="row">
        <button type="submit" data-key-action="paste" ${full ? 'disabled' : ''}>Register pasted key</button>
        <button type="button" data-key-action="generate" data-client-id="${c.clientId}" ${full ? 'disabled' : ''}>Generate a key pair in the browser</button>
      </div>
      <p class="muted">A generated pair stays in this browser: its private half is offered as a download and never sent.</p>
      <p class="form-status" role="status" aria-live="polite"></p>
    </form>
  </details>`;
}

function integration(c: IntegrationView): SafeHtml {
  return html`<article class="card integration" data-client-id="${c.clientId}" aria-labelledby="int-${c.clientId}">
    <header class="card-head">
      <h3 id="int-${c.clientId}">${c.clientName}${c.admin ? html` <span class="badge">emulator admin</span>` : ''}</h3>
      ${c.admin ? '' : html`<button type="button" class="js-only danger" data-deactivate="${c.clientId}">Deactivate ${c.clientName}</button>`}
    </header>
    <dl class="facts">
      <dt>Client id</dt><dd><code class="client-id">${c.clientId}</code></dd>
      <dt>Organisation</dt><dd>${c.orgNo}</dd>
      <dt>Scopes</dt><dd>${c.scopes.length ? join(c.scopes, (s) => html`<code>${s}</code> `) : html`<span class="muted">none</span>`}</dd>
      <dt>Token lifetime</dt><dd>${c.accessTokenLifetime} s</dd>
      <dt>Keys</dt><dd><span class="key-count">${c.keys.length} of ${c.keyLimit}</span></dd>
    </dl>
    ${keysTable(c)}
    ${addKey(c)}
  </article>`;
}

/**
 * The Integrations view's content.
 *
 * @see https://docs.digdir.no/docs/idporten/oidc/oidc_api_admin
 */
export function renderIntegrations(o: Overview): SafeHtml {
  return html`<h2 id="h-integrations">Integrations</h2>
  <form class="js-only card create" data-post="/_emulator/clients" data-refresh="integrations" data-create-client>
    <h3>New integration</h3>
    <div class="grid">
      <label>Name <input name="clientName" required autocomplete="off"></label>
      <label>Organisation number <input name="orgNo" inputmode="numeric" pattern="\\d{9}" placeholder="991825827" autocomplete="off"></label>
      <label>Scopes (space-separated) <input name="scopes" data-type="list" required autocomplete="off" placeholder="altinn:serviceowner/notifications.create"></label>
      <label>Token lifetime (s) <input name="accessTokenLifetime" data-type="number" type="number" min="1" placeholder="120"></label>
    </div>
    <button type="submit">Create integration</button>
    <p class="form-status" role="status" aria-live="polite"></p>
  </form>
  <p class="muted">${o.integrations.length} active integration${o.integrations.length === 1 ? '' : 's'}. Keys warn 30 days before they expire; each integration holds at most ${o.integrations[0]?.keyLimit ?? 5} keys.</p>
  <div class="list">${join(
    // The emulator's own administrator last: it is there, but rarely what a reader looks for.
    [...o.integrations].sort((a, b) => Number(a.admin) - Number(b.admin)),
    integration,
  )}</div>`;
}
