/** Calls to the emulator's admin routes from the console page, and the swap of a re-rendered view. */

/** An admin route's refusal, with the emulator's own explanation. */
export class CallError extends Error {}

function describe(data: unknown, status: number): string {
  if (data && typeof data === 'object') {
    const d = data as Record<string, unknown>;
    const text = d.error_description ?? d.detail ?? d.error ?? d.title;
    if (typeof text === 'string') return text;
  }
  return typeof data === 'string' && data ? data : `the emulator answered ${status}`;
}

/** Sends `body` as JSON to an admin route; resolves with the parsed answer or throws its explanation. */
export async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  if (!res.ok) throw new CallError(describe(data, res.status));
  return data;
}

/** Re-renders views on the server and swaps them in (keeps the page in step without a client-side renderer). */
export async function refresh(...views: string[]): Promise<void> {
  await Promise.all(
    [...new Set(views)].map(async (view) => {
      const section = document.getElementById(view);
      if (!section) return;
      const query = view === 'requests' ? location.search : '';
      const res = await fetch(`/_emulator/console/views/${view}${query}`, { credentials: 'same-origin' });
      if (!res.ok) return;
      section.innerHTML = await res.text();
      section.dispatchEvent(new CustomEvent('console:refreshed', { bubbles: true }));
    }),
  );
}

/** Shows a message in a form's status line: `error` ones are announced at once. */
export function status(form: Element | null, message: string, error = false): void {
  const line = form?.querySelector('.form-status');
  if (!line) return;
  line.textContent = message;
  line.classList.toggle('bad-text', error);
  line.setAttribute('role', error ? 'alert' : 'status');
}
