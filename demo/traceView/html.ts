/**
 * HTML templating for the trace view's pages: every interpolated value is escaped unless it is itself `html`.
 *
 *     html`<td>${span.name}</td>`;                    // the name as text, whatever it contains
 *     html`<ol>${rows.map((row) => html`<li>${row}</li>`)}</ol>`;
 */
const SAFE = Symbol('html');

export type Html = { [SAFE]: string; toString(): string };

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return { [SAFE]: out, toString: () => out };
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'object' && SAFE in value) return (value as Html)[SAFE];
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
