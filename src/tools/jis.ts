// Japanese character-set plumbing the mojibake repair needs beyond
// iconv-lite: ISO-2022-JP (iconv-lite has no codec for it; libmime uses
// encoding-japanese only for whole encoded-words), including text whose ESC
// bytes were lost, and the JIS X 0208 level of a kanji (level 1 holds the
// 2,965 common kanji, level 2 the rare ones), which tells real Japanese text
// from a mis-decoding that lands on random kanji.
import iconv from 'iconv-lite'

const LEVEL1 = new Set<string>()
const LEVEL2 = new Set<string>()
{
  // JIS X 0208 rows 16–47 are level 1, rows 48–84 level 2; in EUC-JP a row r is lead byte 0xA0 + r.
  const pairs = (from: number, to: number): Buffer => {
    const b: number[] = []
    for (let lead = 0xa0 + from; lead <= 0xa0 + to; lead++) for (let t = 0xa1; t <= 0xfe; t++) b.push(lead, t)
    return Buffer.from(b)
  }
  for (const ch of iconv.decode(pairs(16, 47), 'euc-jp')) if (ch !== '\ufffd') LEVEL1.add(ch)
  for (const ch of iconv.decode(pairs(48, 84), 'euc-jp')) if (ch !== '\ufffd') LEVEL2.add(ch)
}

export function kanjiLevel (ch: string): 1 | 2 | 0 {
  if (LEVEL1.has(ch)) return 1
  if (LEVEL2.has(ch)) return 2
  return 0
}

const ESC = 0x1b

/**
 * Decodes ISO-2022-JP given as a byte-per-char string (latin1 of the bytes,
 * or text that kept its 7-bit bytes). Handles ESC ( B / ( J (ASCII, Roman),
 * ESC $ @ / $ B (JIS X 0208, via the EUC-JP codec: the same code points with
 * the high bit set), ESC $ ( D (JIS X 0212), ESC ( I (half-width katakana).
 * Returns null when there is no escape sequence at all.
 */
export function decodeIso2022Jp (s: string): { text: string, invalid: number } | null {
  if (!s.includes('\u001b')) return null
  let out = ''
  type Mode = 'ascii' | 'jis0208' | 'jis0212' | 'kana'
  let mode = 'ascii' as Mode
  let invalid = 0
  let run: number[] = []
  const flush = (): void => {
    if (run.length) out += iconv.decode(Buffer.from(run), 'euc-jp')
    run = []
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === ESC) {
      const seq = s.slice(i + 1, i + 4)
      let len = 0
      let next: Mode | null = null
      if (seq.startsWith('(B') || seq.startsWith('(J')) { next = 'ascii'; len = 2 } else if (seq.startsWith('$B') || seq.startsWith('$@')) { next = 'jis0208'; len = 2 } else if (seq.startsWith('$(D')) { next = 'jis0212'; len = 3 } else if (seq.startsWith('(I')) { next = 'kana'; len = 2 } else if (seq.startsWith('$(Q') || seq.startsWith('$(O')) { next = 'jis0208'; len = 3 }
      if (next) {
        flush()
        mode = next
        i += len
        continue
      }
      flush()
      out += '\u001b'
      invalid++
      continue
    }
    if (c === 0x0a || c === 0x0d) {
      // a line end resets to ASCII (RFC 1468)
      flush()
      mode = 'ascii'
      out += s[i]
      continue
    }
    if (mode === 'ascii') { out += s[i]; continue }
    if (mode === 'kana') {
      if (c >= 0x21 && c <= 0x5f) out += String.fromCharCode(0xff61 + c - 0x21)
      else { out += s[i]; if (c > 0x7f) invalid++ }
      continue
    }
    const d = s.charCodeAt(i + 1)
    if (c >= 0x21 && c <= 0x7e && d >= 0x21 && d <= 0x7e) {
      if (mode === 'jis0212') run.push(0x8f)
      run.push(c | 0x80, d | 0x80)
      i++
    } else {
      flush()
      out += s[i]
      if (c !== 0x20) invalid++
    }
  }
  flush()
  return { text: out, invalid }
}

/** What an ESC may have become: nothing, "^[" (caret notation), "?" or U+FFFD. Length of that trace before `at`, or 0. */
function escTrace (s: string, at: number, floor: number): number {
  if (at - 2 >= floor && s.startsWith('^[', at - 2)) return 2
  if (at - 1 >= floor && (s[at - 1] === '?' || s[at - 1] === '\ufffd')) return 1
  return 0
}

/** Length of a "(B" / "(J" terminator (with an ESC trace) at j, or 0. */
function terminatorAt (s: string, j: number): number {
  let k = j
  if (s.startsWith('^[', k)) k += 2
  else if (s[k] === '?' || s[k] === '\ufffd') k += 1
  return s[k] === '(' && (s[k + 1] === 'B' || s[k + 1] === 'J') ? k + 2 - j : 0
}

/**
 * ISO-2022-JP whose ESC bytes were lost on the way ("$B%F%9%H(B"): every
 * "$B …(B" span of 7-bit pairs is decoded as JIS X 0208 (a span also ends at
 * white space or the end of the text). Null when there is no such span.
 * A single left-to-right scan: hostile input cannot make it quadratic.
 */
export function decodeIso2022JpEscLost (s: string): string | null {
  if (!/\$[B@]/.test(s)) return null
  let out = ''
  let copied = 0
  let changed = false
  let i = 0
  const n = s.length
  while (i < n) {
    const at = s.indexOf('$', i)
    if (at < 0 || at + 1 >= n) break
    if (s[at + 1] !== 'B' && s[at + 1] !== '@') { i = at + 1; continue }
    const start = at - escTrace(s, at, copied)
    const bytes: number[] = []
    let j = at + 2
    let resume = -1
    for (;;) {
      const term = bytes.length ? terminatorAt(s, j) : 0
      if (term) { resume = j + term; break }
      if (j >= n || /\s/.test(s[j])) { if (bytes.length) resume = j; break }
      const c1 = s.charCodeAt(j)
      const c2 = s.charCodeAt(j + 1)
      if (!(c1 >= 0x21 && c1 <= 0x7e && c2 >= 0x21 && c2 <= 0x7e)) break
      bytes.push(c1 | 0x80, c2 | 0x80)
      j += 2
    }
    if (resume < 0) { i = Math.max(j, at + 2); continue }
    out += s.slice(copied, start) + iconv.decode(Buffer.from(bytes), 'euc-jp')
    copied = resume
    i = resume
    changed = true
  }
  return changed ? out + s.slice(copied) : null
}
