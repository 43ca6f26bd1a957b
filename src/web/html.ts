// HTML built only through a tagged template that escapes every
// interpolation. Text a mail server sent (banners, replies) and anything a
// visitor typed reaches a page only through here, so `<script>` in a banner
// renders as text. Raw markup needs the explicit `raw()` wrapper, which is
// reserved for markup this code itself produced.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;'
}

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml (value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c])
}

/** Markup that is already safe (produced by `html` or wrapped by `raw`). */
export class SafeHtml {
  constructor (readonly value: string) {}
  toString (): string { return this.value }
}

/** Mark a string as trusted markup. Only for markup this program wrote, never for data. */
export function raw (markup: string): SafeHtml {
  return new SafeHtml(markup)
}

function render (v: unknown): string {
  if (v === null || v === undefined || v === false) return ''
  if (v instanceof SafeHtml) return v.value
  if (Array.isArray(v)) return v.map(render).join('')
  return escapeHtml(v)
}

/**
 * html`<p>${text}</p>`: every interpolation is escaped unless it is a
 * SafeHtml (another html`` result or raw()); arrays are rendered item by
 * item; null, undefined and false render as nothing.
 */
export function html (strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return new SafeHtml(out)
}

/** Join several fragments with a separator that is itself escaped. */
export function join (parts: unknown[], sep = ''): SafeHtml {
  return new SafeHtml(parts.map(render).join(escapeHtml(sep)))
}
