// Every byte of pasted text and of header content reaches HTML only through
// here. Control characters are shown as visible escapes (a raw ESC or CR in
// an attribute or <pre> would otherwise confuse the reader, not the parser).

const MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value)
  return s.replace(/[&<>"']/g, (c) => MAP[c]).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `<span class="ctl">\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}</span>`)
}

/**
 * For <textarea> content (RCDATA: markup is not parsed there, so control
 * characters stay as they are and the text can be submitted again unchanged).
 */
export function escapeTextarea (value: string): string {
  return value.replace(/[&<>"']/g, (c) => MAP[c])
}
