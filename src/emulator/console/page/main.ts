/**
 * The console page's script: view switching, the live request list, and the forms. The page reads without it;
 * this only adds what needs a browser (live updates, writes, WebCrypto keys).
 */
import { wireForms } from './forms.ts';
import { wireKeys } from './keys.ts';
import { wireLive } from './live.ts';
import { wireTry } from './try-it.ts';

const VIEWS = ['integrations', 'requests', 'altinn', 'faults', 'try'];

function showView(focus: boolean): void {
  const wanted = location.hash.slice(1);
  const current = VIEWS.includes(wanted) ? wanted : 'integrations';
  for (const id of VIEWS) {
    const section = document.getElementById(id);
    if (section) section.hidden = id !== current;
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>('a[data-nav]')) {
    if (link.dataset.nav === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  // One view shows at a time: start it at the top, not where the browser scrolled for the fragment.
  window.scrollTo(0, 0);
  const heading = document.getElementById(`h-${current}`);
  if (focus && heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

document.documentElement.classList.replace('no-js', 'js');
showView(false);
window.addEventListener('hashchange', () => showView(true));
window.addEventListener('load', () => window.scrollTo(0, 0), { once: true });
wireForms();
wireKeys();
wireLive();
wireTry();
