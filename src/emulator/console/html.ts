/**
 * A minimal HTML template for the console's server-rendered pages: every interpolated value is escaped unless it is
 * itself the result of {@link html}, so markup is built by composition and text can never become markup.
 */

/** Markup that is already safe: made by {@link html} or {@link join}. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for an HTML element or a quoted attribute.
 *
 * @see https://html.spec.whatwg.org/multipage/syntax.html#escapingString
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * Tagged template: `html\`<p>${text}</p>\`` escapes `text`; nested `html` results are kept as markup.
 *
 * @see https://html.spec.whatwg.org/multipage/syntax.html#escapingString
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/**
 * Renders a list of items with `fn` and joins the markup.
 *
 * @see https://html.spec.whatwg.org/multipage/syntax.html#escapingString
 */
export function join<T>(items: readonly T[], fn: (item: T, index: number) => SafeHtml): SafeHtml {
  return new SafeHtml(items.map((item, i) => fn(item, i).value).join(''));
}
