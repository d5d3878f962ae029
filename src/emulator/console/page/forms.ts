/**
 * The console's write forms: each `form[data-post]` is sent as JSON to the admin route it names, its fields
 * typed by `data-type`; then the views it changes are re-rendered by the server and swapped in.
 */
import { call, refresh, status } from './api.ts';
import { announce } from './keys.ts';

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function value(field: Field): unknown {
  const type = field.dataset.type;
  if (field instanceof HTMLInputElement && field.type === 'checkbox') return field.checked ? true : undefined;
  const text = field.value.trim();
  if (text === '') return undefined;
  switch (type) {
    case 'number':
      return Number(text);
    case 'seconds':
      return Number(text) * 1000;
    case 'list':
      return text.split(/\s+/);
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${field.name} must be JSON`);
      }
    default:
      return text;
  }
}

/** The form's fields as a JSON body (empty fields left out). */
export function formBody(form: HTMLFormElement): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const el of Array.from(form.elements)) {
    const field = el as Field;
    if (!field.name || field.disabled) continue;
    const v = value(field);
    if (v !== undefined) body[field.name] = v;
  }
  return body;
}

/** Which views change with a form's writes. */
function views(form: HTMLElement): string[] {
  const main = form.dataset.refresh ?? '';
  // Integrations are listed in the Altinn and Try it views too.
  return main === 'integrations' ? ['integrations', 'altinn', 'try', 'requests'] : [main];
}

async function submit(form: HTMLFormElement): Promise<void> {
  status(form, 'Working…');
  try {
    const body = formBody(form);
    // A new integration starts without keys: a key generated on the server would travel to this page.
    if (form.dataset.createClient !== undefined) body.jwks = [];
    const result = (await call('POST', form.dataset.post!, body)) as Record<string, unknown>;
    await refresh(...views(form));
    announce(typeof result.clientId === 'string' ? `Created integration with client id ${result.clientId}.` : 'Saved.');
  } catch (err) {
    status(form, (err as Error).message, true);
  }
}

async function clickAction(button: HTMLButtonElement): Promise<void> {
  const d = button.dataset;
  let refreshed: string[] = [];
  let done = '';
  if (d.deactivate) {
    await call('DELETE', `/_emulator/clients/${encodeURIComponent(d.deactivate)}`);
    refreshed = ['integrations', 'altinn', 'try', 'requests'];
    done = `Deactivated ${d.deactivate}.`;
  } else if (d.clearFault) {
    await call('DELETE', `/_emulator/faults/${encodeURIComponent(d.clearFault)}`);
    refreshed = ['faults'];
    done = `Cleared fault ${d.clearFault}.`;
  } else if (d.clearFaults !== undefined) {
    await call('DELETE', '/_emulator/faults');
    refreshed = ['faults'];
    done = 'Cleared every fault.';
  } else return;
  await refresh(...refreshed);
  announce(done);
}

/** Wires every JSON form and action button by delegation. */
export function wireForms(): void {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.post === undefined) return;
    event.preventDefault();
    void submit(form);
  });
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button') : null;
    if (!button || button.closest('form[data-post]')) return;
    void clickAction(button).catch((err: unknown) => announce(`Failed: ${(err as Error).message}`));
  });
}
