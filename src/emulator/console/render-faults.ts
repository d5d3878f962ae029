/**
 * The Faults and clock view (inject and clear faults per endpoint, shift or advance the emulator's clock) and the
 * Try it view (get a token with a key made in the browser, then exchange it), both driving the admin routes.
 */
import { ENDPOINT_NAMES } from '../faults.ts';
import { html, join, type SafeHtml } from './html.ts';
import type { Overview } from './views.ts';

function describeOffset(ms: number): string {
  if (ms === 0) return 'in step with this machine';
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86_400_000);
  const rest = Math.round((abs % 86_400_000) / 1000);
  return `${ms > 0 ? 'ahead of' : 'behind'} this machine by ${days ? `${days} d ` : ''}${rest} s`;
}

/**
 * The Faults and clock view's content.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-retry-after
 */
export function renderFaults(o: Overview): SafeHtml {
  const faults = o.faults.length
    ? html`<table><caption>Active faults</caption>
      <thead><tr><th scope="col">Id</th><th scope="col">Endpoint</th><th scope="col">Effect</th><th scope="col">Uses left</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${join(
        o.faults,
        (f) => html`<tr data-fault-id="${f.id}"><td>${f.id}</td><td>${f.endpoint}</td><td>${[
          f.status === undefined ? '' : `status ${f.status}`,
          f.retryAfter === undefined ? '' : `Retry-After ${f.retryAfter} s`,
          f.latencyMs ? `latency ${f.latencyMs} ms` : '',
          f.reset ? 'connection reset' : '',
          f.body ? `${f.body} body` : '',
        ]
          .filter(Boolean)
          .join(', ')}</td><td>${f.remaining ?? 'unlimited'}</td>
          <td><button type="button" class="js-only" data-clear-fault="${f.id}">Clear fault ${f.id}</button></td></tr>`,
      )}</tbody></table>
      <button type="button" class="js-only danger" data-clear-faults>Clear all faults</button>`
    : html`<p class="muted">No faults: every endpoint answers normally.</p>`;
  return html`<h2 id="h-faults">Faults and clock</h2>
  <section aria-labelledby="h-fault-list"><h3 id="h-fault-list">Faults</h3>
    ${faults}
    <form class="js-only card" data-post="/_emulator/faults" data-refresh="faults">
      <h4>Inject a fault</h4>
      <div class="grid">
        <label>Endpoint <select name="endpoint"><option value="*">every endpoint</option>${join(ENDPOINT_NAMES, (e) => html`<option value="${e}"${e === 'token' ? html` selected` : ''}>${e}</option>`)}</select></label>
        <label>Status <input name="status" type="number" min="400" max="599" data-type="number" placeholder="503"></label>
        <label>Retry-After (s) <input name="retryAfter" type="number" min="0" data-type="number"></label>
        <label>Latency (ms) <input name="latencyMs" type="number" min="0" data-type="number"></label>
        <label>Times <input name="times" type="number" min="1" data-type="number" placeholder="unlimited"></label>
        <label>Body <select name="body"><option value="">as the status says</option><option value="truncated">truncated</option><option value="non-json">non-JSON</option><option value="html">HTML error page</option></select></label>
        <label class="check"><input name="reset" type="checkbox" data-type="bool"> Reset the connection</label>
      </div>
      <button type="submit">Inject fault</button>
      <p class="form-status" role="status" aria-live="polite"></p>
    </form>
  </section>
  <section aria-labelledby="h-clock"><h3 id="h-clock">Clock</h3>
    <p>The emulator’s clock reads <time datetime="${o.clock.now}" data-clock-now>${o.clock.now}</time>, offset <strong data-clock-offset>${o.clock.offsetMs} ms</strong> (${describeOffset(o.clock.offsetMs)}).</p>
    <form class="js-only card" data-post="/_emulator/clock" data-refresh="faults">
      <h4>Shift the clock</h4>
      <div class="grid"><label>Offset from this machine (seconds) <input name="offsetMs" type="number" required data-type="seconds" value="${Math.round(o.clock.offsetMs / 1000)}"></label></div>
      <button type="submit">Set offset</button>
      <p class="form-status" role="status" aria-live="polite"></p>
    </form>
    <form class="js-only card" data-post="/_emulator/clock" data-refresh="faults">
      <h4>Advance the clock</h4>
      <div class="grid"><label>Advance by (seconds, negative goes back) <input name="advanceMs" type="number" required data-type="seconds" placeholder="86400"></label></div>
      <button type="submit">Advance</button>
      <p class="form-status" role="status" aria-live="polite"></p>
    </form>
  </section>`;
}

/**
 * The Try it view's content.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-retry-after
 */
export function renderTry(o: Overview): SafeHtml {
  const candidates = o.integrations.filter((c) => !c.admin);
  return html`<h2 id="h-try">Try it</h2>
  <p>Gets a token for an integration with a key generated in this browser (registered for the request and removed
  again), then exchanges it for an Altinn token. Only the tokens’ claims are shown.</p>
  <noscript><p class="warn-text">Try it needs JavaScript.</p></noscript>
  <form class="js-only card" data-try>
    <div class="grid">
      <label>Integration <select name="clientId" required>${join(candidates, (c) => html`<option value="${c.clientId}" data-scopes="${c.scopes.join(' ')}">${c.clientName} (${c.clientId.slice(0, 8)}…)</option>`)}</select></label>
      <label>Scopes (space-separated; empty: all of the integration’s) <input name="scope" autocomplete="off"></label>
    </div>
    <div class="row">
      <button type="submit">Get a token</button>
      <button type="button" data-exchange disabled>Exchange for an Altinn token</button>
    </div>
    <p class="form-status" role="status" aria-live="polite"></p>
    <div data-try-result></div>
  </form>`;
}
