/**
 * The Altinn view: scopes, delegations, system users and consents, each listed and each with a form that creates
 * one through the emulator's admin routes, so delegation and Altinn flows can be set up without code.
 */
import { html, join, type SafeHtml } from './html.ts';
import type { Overview } from './views.ts';

function table(caption: string, heads: string[], rows: SafeHtml[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table><caption>${caption}</caption><thead><tr>${join(heads, (h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
}

function form(post: string, title: string, fields: SafeHtml, submit: string): SafeHtml {
  return html`<form class="js-only card" data-post="${post}" data-refresh="altinn">
    <h4>${title}</h4><div class="grid">${fields}</div>
    <button type="submit">${submit}</button>
    <p class="form-status" role="status" aria-live="polite"></p>
  </form>`;
}

/**
 * The Altinn view's content.
 *
 * @see https://docs.altinn.studio/authentication/
 */
export function renderAltinn(o: Overview): SafeHtml {
  const clientOptions = join(
    o.integrations,
    (c) => html`<option value="${c.clientId}">${c.clientName} (${c.clientId.slice(0, 8)}…)</option>`,
  );
  return html`<h2 id="h-altinn">Scopes, delegations, system users and consents</h2>
  <section aria-labelledby="h-scopes"><h3 id="h-scopes">Scopes</h3>
    ${table(
      'Scope definitions',
      ['Name', 'Longest token lifetime', 'Open to all', 'Description'],
      o.scopes.map(
        (s) =>
          html`<tr><td><code>${s.name}</code></td><td>${s.atMaxAge ? `${s.atMaxAge} s` : 'no limit'}</td><td>${s.accessibleForAll ? 'yes' : 'no'}</td><td>${s.description ?? ''}</td></tr>`,
      ),
      'No scopes defined: any scope registered on an integration is issued with the defaults.',
    )}
    ${form(
      '/_emulator/scopes',
      'Define a scope',
      html`<label>Name <input name="name" required autocomplete="off"></label>
        <label>Longest token lifetime (s) <input name="atMaxAge" type="number" min="0" data-type="number"></label>
        <label>Description <input name="description" autocomplete="off"></label>
        <label class="check"><input name="accessibleForAll" type="checkbox" data-type="bool"> Open to all clients</label>`,
      'Define scope',
    )}
  </section>
  <section aria-labelledby="h-delegations"><h3 id="h-delegations">Delegations</h3>
    ${table(
      'Delegations',
      ['Consumer', 'Supplier', 'Scope'],
      o.delegations.map(
        (d) => html`<tr><td>${d.consumerOrg}</td><td>${d.supplierOrg}</td><td><code>${d.scope}</code></td></tr>`,
      ),
      'No delegations: a grant with consumer_org needs one.',
    )}
    ${form(
      '/_emulator/delegations',
      'Add a delegation',
      html`<label>Consumer organisation <input name="consumerOrg" required inputmode="numeric" pattern="\\d{9}" autocomplete="off"></label>
        <label>Supplier organisation <input name="supplierOrg" required inputmode="numeric" pattern="\\d{9}" autocomplete="off"></label>
        <label>Scope <input name="scope" required autocomplete="off"></label>`,
      'Add delegation',
    )}
  </section>
  <section aria-labelledby="h-system-users"><h3 id="h-system-users">System users</h3>
    ${table(
      'System users',
      ['Id', 'Party', 'System', 'Clients', 'External ref'],
      o.systemUsers.map(
        (u) =>
          html`<tr><td><code>${u.id}</code></td><td>${u.org}</td><td>${u.systemId}</td><td>${join(u.clientIds, (id) => html`<code>${id}</code> `)}</td><td>${u.externalRef ?? ''}</td></tr>`,
      ),
      'No system users.',
    )}
    ${form(
      '/_emulator/system-users',
      'Add a system user',
      html`<label>Party organisation <input name="org" required inputmode="numeric" pattern="\\d{9}" autocomplete="off"></label>
        <label>Client <select name="clientIds" data-type="list" required>${clientOptions}</select></label>
        <label>System id <input name="systemId" autocomplete="off"></label>
        <label>External ref <input name="externalRef" autocomplete="off"></label>`,
      'Add system user',
    )}
  </section>
  <section aria-labelledby="h-consents"><h3 id="h-consents">Consents</h3>
    ${table(
      'Consents',
      ['Id', 'From', 'To', 'Rights', 'Valid to'],
      o.consents.map(
        (c) =>
          html`<tr><td><code>${c.id}</code></td><td>${c.from}</td><td>${c.toOrg}</td><td><code>${JSON.stringify(c.consentRights)}</code></td><td>${c.validTo.slice(0, 10)}</td></tr>`,
      ),
      'No consents.',
    )}
    ${form(
      '/_emulator/consents',
      'Add a consent',
      html`<label>From (party URN) <input name="from" required placeholder="urn:altinn:person:identifier-no:01017012345" autocomplete="off"></label>
        <label>To organisation <input name="toOrg" required inputmode="numeric" pattern="\\d{9}" autocomplete="off"></label>
        <label>Valid to <input name="validTo" type="date"></label>
        <label>Rights (JSON array) <input name="consentRights" data-type="json" placeholder='[{"action":["read"],"resource":[]}]' autocomplete="off"></label>`,
      'Add consent',
    )}
  </section>`;
}
