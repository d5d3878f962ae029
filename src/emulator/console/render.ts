/**
 * The console page: one document with five views (integrations, requests, Altinn set-up, faults and clock, try it),
 * rendered on the server so every list reads without the script; the script only adds live updates and the forms.
 */
import type { RequestLogEntry } from '../request-log.ts';
import { html, type SafeHtml } from './html.ts';
import { renderAltinn } from './render-altinn.ts';
import { renderFaults, renderTry } from './render-faults.ts';
import { renderIntegrations } from './render-integrations.ts';
import { type RequestFilter, renderRequests } from './render-requests.ts';
import type { Overview } from './views.ts';

/** The console's views, in the order of its navigation. */
export const VIEWS = [
  { id: 'integrations', title: 'Integrations' },
  { id: 'requests', title: 'Requests' },
  { id: 'altinn', title: 'Delegations & Altinn' },
  { id: 'faults', title: 'Faults & clock' },
  { id: 'try', title: 'Try it' },
] as const;

/** A view's id. */
export type ViewId = (typeof VIEWS)[number]['id'];

/** What a view is rendered from. */
export interface ViewData {
  overview: Overview;
  /** Scrubbed log entries, oldest first. */
  entries: RequestLogEntry[];
  filter: RequestFilter;
}

/**
 * One view's content (what the script swaps in after a change).
 *
 * @see https://www.w3.org/WAI/ARIA/apg/
 */
export function renderView(id: ViewId, d: ViewData): SafeHtml {
  switch (id) {
    case 'integrations':
      return renderIntegrations(d.overview);
    case 'requests': {
      const clients = [...new Set(d.overview.integrations.map((c) => c.clientId))];
      return renderRequests(d.entries, d.filter, clients);
    }
    case 'altinn':
      return renderAltinn(d.overview);
    case 'faults':
      return renderFaults(d.overview);
    case 'try':
      return renderTry(d.overview);
  }
}

/**
 * The whole page.
 *
 * @see https://www.w3.org/WAI/ARIA/apg/
 */
export function renderPage(d: ViewData): SafeHtml {
  const o = d.overview;
  return html`<!DOCTYPE html>
<html lang="en" class="no-js">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Maskinporten emulator console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
<script type="module" src="/console/main.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1>Maskinporten emulator <span class="muted">console</span></h1>
  <p class="meta">Issuer <code>${o.issuer}</code> · token endpoint <code>${o.tokenEndpoint}</code> · for development and tests only</p>
  <nav aria-label="Views"><ul>${VIEWS.map((v) => html`<li><a href="#${v.id}" data-nav="${v.id}">${v.title}</a></li>`)}</ul></nav>
</header>
<main id="main" tabindex="-1">
<p id="announce" class="announce" role="status" aria-live="polite"></p>
${VIEWS.map((v) => html`<section id="${v.id}" class="view" aria-labelledby="h-${v.id}">${renderView(v.id, d)}</section>\n`)}
</main>
</body>
</html>
`;
}
