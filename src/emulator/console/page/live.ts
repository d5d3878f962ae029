/**
 * The live request list: new log entries arrive over Server-Sent Events as server-rendered markup and are put on
 * top; the filters (client, endpoint, outcome) hide what does not match and stay in the address for a reload.
 */
import { refresh } from './api.ts';

const MAX_SHOWN = 500;

interface RequestEvent {
  entry: { id: number; clientId?: string; endpoint: string; outcome: string };
  html: string;
}

function filters(): Record<string, string> {
  const form = document.querySelector<HTMLFormElement>('form[data-filters]');
  const out: Record<string, string> = {};
  if (!form) return out;
  for (const name of ['client', 'endpoint', 'outcome']) {
    const select = form.elements.namedItem(name) as HTMLSelectElement | null;
    if (select?.value) out[name] = select.value;
  }
  return out;
}

function apply(li: HTMLElement, f: Record<string, string>): void {
  li.hidden = Boolean(
    (f.client && li.dataset.client !== f.client) ||
      (f.endpoint && li.dataset.endpoint !== f.endpoint) ||
      (f.outcome && li.dataset.outcome !== f.outcome),
  );
}

function applyAll(): void {
  const f = filters();
  for (const li of document.querySelectorAll<HTMLElement>('[data-entries] > li')) apply(li, f);
  const params = new URLSearchParams(f);
  const query = params.size ? `?${params}` : '';
  history.replaceState(null, '', `${location.pathname}${query}${location.hash}`);
}

function lastId(): number {
  const first = document.querySelector<HTMLElement>('[data-entries] > li');
  return Number(first?.dataset.id ?? 0);
}

function setLive(text: string): void {
  const el = document.querySelector('[data-live-status]');
  if (el) el.textContent = text;
}

let faultRefresh: ReturnType<typeof setTimeout> | undefined;

function onRequest(event: MessageEvent<string>): void {
  const data = JSON.parse(event.data) as RequestEvent;
  const list = document.querySelector('[data-entries]');
  if (!list || list.querySelector(`li[data-id="${data.entry.id}"]`)) return;
  list.insertAdjacentHTML('afterbegin', data.html);
  const li = list.firstElementChild as HTMLElement;
  li.classList.add('new');
  apply(li, filters());
  document.querySelector('[data-empty]')?.remove();
  while (list.children.length > MAX_SHOWN) list.lastElementChild?.remove();
  // A fault with a number of uses counts down as requests meet it.
  if (data.entry.outcome === 'fault') {
    clearTimeout(faultRefresh);
    faultRefresh = setTimeout(() => void refresh('faults'), 300);
  }
}

/** Connects the live stream and the filters. */
export function wireLive(): void {
  document.addEventListener('change', (event) => {
    if (event.target instanceof HTMLSelectElement && event.target.closest('form[data-filters]')) applyAll();
  });
  document.addEventListener('submit', (event) => {
    if (event.target instanceof HTMLFormElement && event.target.dataset.filters !== undefined) {
      event.preventDefault();
      applyAll();
    }
  });
  const source = new EventSource(`/_emulator/events?since=${lastId()}`);
  source.addEventListener('open', () => setLive('live'));
  source.addEventListener('error', () => setLive('reconnecting…'));
  source.addEventListener('request', onRequest);
  // A re-rendered Requests view starts with the "connecting" text: put the real state back.
  document.addEventListener('console:refreshed', () => {
    setLive(source.readyState === EventSource.OPEN ? 'live' : 'reconnecting…');
    applyAll();
  });
}
