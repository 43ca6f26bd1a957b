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
