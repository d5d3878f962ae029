/**
 * The Requests view: the request log, newest first, each entry with its decoded grant header and claims, outcome,
 * MP code and — for a refusal — the rule it broke and what to change. Filters by client, endpoint and outcome work
 * as a plain GET form without the script, and live (with new entries over Server-Sent Events) with it.
 */
import { ENDPOINT_NAMES } from '../faults.ts';
import type { RequestLogEntry } from '../request-log.ts';
import { html, join, type SafeHtml } from './html.ts';

/** The request filters, from the query string. */
export interface RequestFilter {
  client?: string;
  endpoint?: string;
  outcome?: string;
}

/** How many entries the server renders. */
export const RENDERED_ENTRIES = 200;

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** Text whose `backticked` parts are code. */
function withCode(text: string): SafeHtml {
  return join(text.split('`'), (part, i) => (i % 2 ? html`<code>${part}</code>` : html`${part}`));
}

/**
 * Whether an entry passes the filter (the page's script applies the same test).
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking
 */
export function matches(entry: RequestLogEntry, f: RequestFilter): boolean {
  return (
    (!f.client || entry.clientId === f.client) &&
    (!f.endpoint || entry.endpoint === f.endpoint) &&
    (!f.outcome || entry.outcome === f.outcome)
  );
}

/**
 * One entry; `entry` must already be scrubbed for the page.
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking
 */
export function renderEntry(e: RequestLogEntry): SafeHtml {
  const refused = e.outcome !== 'ok';
  return html`<li class="entry ${e.outcome}" data-id="${e.id}" data-client="${e.clientId ?? ''}" data-endpoint="${e.endpoint}" data-outcome="${e.outcome}">
    <div class="entry-line">
      <span class="badge ${e.outcome === 'ok' ? 'good' : e.outcome === 'fault' ? 'warn' : 'bad'}">${e.outcome}</span>
      <span class="status">${e.status || '—'}</span>
      <code>${e.method} ${e.path}</code>
      <span class="endpoint">${e.endpoint}</span>
      ${e.mpCode ? html`<span class="badge bad mp-code">${e.mpCode}</span>` : ''}
      ${e.clientId ? html`<span class="client">client <code>${e.clientId}</code></span>` : ''}
      <time datetime="${e.time}">${e.time.slice(11, 19)}</time>
    </div>
    ${e.error ? html`<p class="error"><strong>${e.error}</strong>${e.errorDescription ? html`: ${e.errorDescription}` : ''}</p>` : ''}
    ${e.fault ? html`<p class="fault">Injected fault: ${e.fault}</p>` : ''}
    ${
      refused && e.rule
        ? html`<div class="why" role="note"><p><strong>Rule:</strong> ${withCode(e.rule)}</p>${e.hint ? html`<p><strong>Fix:</strong> ${withCode(e.hint)}</p>` : ''}</div>`
        : ''
    }
    ${
      e.grant
        ? html`<details class="decoded"><summary>Grant header and claims</summary><pre class="grant-header">${json(e.grant.header)}</pre><pre class="grant-claims">${json(e.grant.claims)}</pre></details>`
        : ''
    }
    ${e.tokenClaims ? html`<details class="decoded"><summary>Claims of the presented token</summary><pre>${json(e.tokenClaims)}</pre></details>` : ''}
  </li>`;
}

const OUTCOMES = ['ok', 'error', 'fault'];

function options(values: readonly string[], selected: string | undefined, all: string): SafeHtml {
  return html`<option value="">${all}</option>${join(values, (v) => html`<option value="${v}"${v === selected ? html` selected` : ''}>${v}</option>`)}`;
}

/**
 * The Requests view's content.
 *
 * @see https://docs.digdir.no/docs/Maskinporten/maskinporten_feilsoking
 */
export function renderRequests(entries: RequestLogEntry[], filter: RequestFilter, clients: string[]): SafeHtml {
  const shown = entries
    .filter((e) => matches(e, filter))
    .slice(-RENDERED_ENTRIES)
    .reverse();
  return html`<h2 id="h-requests">Requests <span class="live js-only" aria-live="polite" data-live-status>connecting…</span></h2>
  <form class="filters" method="get" action="/#requests" data-filters>
    <label>Client <select name="client">${options(clients, filter.client, 'all clients')}</select></label>
    <label>Endpoint <select name="endpoint">${options([...ENDPOINT_NAMES, 'other'], filter.endpoint, 'all endpoints')}</select></label>
    <label>Outcome <select name="outcome">${options(OUTCOMES, filter.outcome, 'all outcomes')}</select></label>
    <button type="submit" class="no-js-only">Filter</button>
  </form>
  <p class="muted">Grants are shown decoded; signatures, assertions, keys and issued tokens never are.</p>
  <ol class="entries" data-entries reversed>${join(shown, renderEntry)}</ol>
  ${shown.length === 0 ? html`<p class="muted empty" data-empty>No requests yet${filter.client || filter.endpoint || filter.outcome ? ' matching the filter' : ''}.</p>` : ''}`;
}
