// What both forensics tools accept: pasted text, not binary, within a size
// cap. Checked before any parsing, so a hostile paste costs one linear scan.
import { BadInputError, PayloadTooLargeError } from '../errors.js'

/** The most a pasted message (or garbled text) may be: 256 KiB of UTF-8. */
export const MAX_TOOL_INPUT_BYTES = 256 * 1024

/** In u-mode a paired surrogate is one code point, so only a lone one matches. */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Throws 400 for binary (NUL bytes, lone UTF-16 surrogates, mostly control
 * characters) and 413 for input over the cap. ESC is allowed: raw ISO-2022-JP
 * text contains it.
 */
export function assertToolText (text: unknown, field: string, maxBytes = MAX_TOOL_INPUT_BYTES): string {
  if (typeof text !== 'string') throw new BadInputError(`${field} must be a string`, field)
  // A UTF-8 byte count without allocating a buffer: at most 3 bytes per UTF-16 unit.
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new PayloadTooLargeError(`${field} is larger than ${Math.round(maxBytes / 1024)} KiB; paste only the header block (or a shorter piece of text)`)
  }
  if (text.trim() === '') throw new BadInputError(`${field} is empty`, field)
  if (text.includes('\u0000')) throw new BadInputError(`${field} contains NUL bytes: this looks like binary data, not text. Paste the message source as text.`, field)
  if (LONE_SURROGATE.test(text)) throw new BadInputError(`${field} is not valid text (it contains unpaired UTF-16 surrogates)`, field)
  let controls = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x1b) || c === 0x7f) controls++
  }
  if (controls > 16 && controls > text.length / 20) {
    throw new BadInputError(`${field} is mostly control characters (${controls}): this looks like binary data, not text`, field)
  }
  return text
}

/**
 * The request body may be this large: 256 KiB of text grows in transport
 * (JSON escapes, %XX form encoding of UTF-8 triples it), so the route
 * accepts more bytes and the tool itself enforces 256 KiB of text (413).
 */
export const TOOLS_BODY_LIMIT = 1024 * 1024

/** what a form field may hold before the tool's own 256 KiB check */
export const TEXT_MAX_CHARS = TOOLS_BODY_LIMIT

/** The save flag of the API (?save=1) and of the forms' checkbox. */
export const wantsSave = (v: unknown): boolean => v === '1' || v === 'true' || v === 'on'

/** Form fields that carry a whole paste (the pages' textareas). */
export const PASTE_FIELDS: ReadonlySet<string> = new Set(['raw', 'text'])

/**
 * One field of an application/x-www-form-urlencoded body, decoded as
 * @fastify/formbody (fast-querystring) does: `+` is a space, %XX sequences
 * are UTF-8; a value whose percent-encoding is malformed stays as sent.
 */
export function decodeFormValue (s: string): string {
  const v = s.includes('+') ? s.replace(/\+/g, ' ') : s
  if (!v.includes('%')) return v
  try {
    return decodeURIComponent(v)
  } catch {
    return v
  }
}

/**
 * A tool page's form body, split like fast-querystring splits it (a repeated
 * field becomes a list, a field without `=` is empty), with one difference:
 * the paste fields (PASTE_FIELDS) stay percent-encoded. Decoding 750 KB of
 * %XX took the event loop 15 to 100 ms; the tools' worker decodes them
 * (decodeFormValue()) instead.
 */
export function splitToolForm (body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null)
  let start = 0
  while (start <= body.length) {
    let end = body.indexOf('&', start)
    if (end < 0) end = body.length
    const pair = body.slice(start, end)
    start = end + 1
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = decodeFormValue(eq < 0 ? pair : pair.slice(0, eq))
    const raw = eq < 0 ? '' : pair.slice(eq + 1)
    const value = PASTE_FIELDS.has(key) ? raw : decodeFormValue(raw)
    const prev = out[key]
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}
