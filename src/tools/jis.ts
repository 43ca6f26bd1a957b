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

type EscMode = 'ascii' | 'jis0208' | 'jis0212' | 'kana'

/** The designation at j (with an ESC trace before it: nothing, "^[", "?" or U+FFFD): its mode and length, or null. */
function designationAt (s: string, j: number): { mode: EscMode, len: number } | null {
  let k = j
  if (s.startsWith('^[', k)) k += 2
  else if (s[k] === '?' || s[k] === '\ufffd') k += 1
  const c = s[k]
  if (c === '(') {
    const d = s[k + 1]
    if (d === 'B' || d === 'J') return { mode: 'ascii', len: k + 2 - j }
    if (d === 'I') return { mode: 'kana', len: k + 2 - j }
    return null
  }
  if (c === '$') {
    const d = s[k + 1]
    if (d === 'B' || d === '@') return { mode: 'jis0208', len: k + 2 - j }
    if (d === '(' && s[k + 2] === 'D') return { mode: 'jis0212', len: k + 3 - j }
  }
  return null
}

/**
 * ISO-2022-JP whose ESC bytes were lost on the way ("$B%F%9%H(B"): every
 * "$B …(B" span of 7-bit pairs is decoded as JIS X 0208, "$(D …" as JIS X
 * 0212, "(I …(B" as half-width katakana; a span may switch straight to
 * another set. A JIS X 0208 span also ends at white space or the end of the
 * text. Null when there is no such span. A single left-to-right scan:
 * hostile input cannot make it quadratic.
 */
export function decodeIso2022JpEscLost (s: string): string | null {
  if (!/\$[B@]|\$\(D|\(I/.test(s)) return null
  let out = ''
  let copied = 0
  let changed = false
  let i = 0
  const n = s.length
  /** per set and character boundary (parity), where a failed span ended */
  const failed = new Map<string, number>()
  while (i < n) {
    let at = -1
    for (let q = i; q < n; q++) if (s[q] === '$' || s[q] === '(') { at = q; break }
    if (at < 0) break
    const first = designationAt(s, at)
    if (!first || first.mode === 'ascii') { i = at + 1; continue }
    // a span that starts inside one already found to fail, on the same character boundaries and in
    // the same set, reads the same characters to the same end: it fails too ("$B$B$B…" is not quadratic)
    const key = first.mode === 'kana' ? 'kana' : `${first.mode}${(at + first.len) % 2}`
    if ((failed.get(key) ?? -1) >= at + first.len) { i = at + 1; continue }
    const start = at - escTrace(s, at, copied)
    let mode = first.mode
    let j = at + first.len
    let decoded = ''
    let run: number[] = []
    let count = 0
    let resume = -1
    const flush = (): void => { if (run.length) { decoded += iconv.decode(Buffer.from(run), 'euc-jp'); run = [] } }
    for (;;) {
      // a designation at a character boundary: a terminator ends the span, another set switches
      const d = count || mode !== first.mode ? designationAt(s, j) : null
      if (d && !(mode === 'jis0208' && d.mode === 'jis0208')) {
        flush()
        j += d.len
        if (d.mode === 'ascii') { resume = j; break }
        mode = d.mode
        count = 0
        continue
      }
      if (j >= n || /\s/.test(s[j])) {
        // a kanji span may run to the end of a line (its terminator lost with the line end)
        if (count && mode !== 'kana') { flush(); resume = j }
        break
      }
      const c1 = s.charCodeAt(j)
      if (mode === 'kana') {
        if (!(c1 >= 0x21 && c1 <= 0x5f)) break
        flush()
        decoded += String.fromCharCode(0xff61 + c1 - 0x21)
        j++
        count++
        continue
      }
      const c2 = s.charCodeAt(j + 1)
      if (!(c1 >= 0x21 && c1 <= 0x7e && c2 >= 0x21 && c2 <= 0x7e)) break
      if (mode === 'jis0212') run.push(0x8f)
      run.push(c1 | 0x80, c2 | 0x80)
      j += 2
      count++
    }
    if (resume < 0) {
      if (mode === first.mode) failed.set(key, Math.max(failed.get(key) ?? -1, j))
      i = at + 1
      continue
    }
    out += s.slice(copied, start) + decoded
    copied = resume
    i = resume
    changed = true
  }
  return changed ? out + s.slice(copied) : null
}

/**
 * Characters that Mac and Unix software (the JIS mapping: Python's shift_jis
 * and euc_jp, nkf, eucJP) decode differently from Windows (cp932), with the
 * bytes both share: 〜 and ～ are both 0x8160 in Shift_JIS.
 */
export const JIS_VARIANTS: Array<{ jis: string, win: string, sjis: [number, number], euc: [number, number] }> = [
  { jis: '\u301c', win: '\uff5e', sjis: [0x81, 0x60], euc: [0xa1, 0xc1] }, // 〜 ～
  { jis: '\u2212', win: '\uff0d', sjis: [0x81, 0x7c], euc: [0xa1, 0xdd] }, // − －
  { jis: '\u2014', win: '\u2015', sjis: [0x81, 0x5c], euc: [0xa1, 0xbd] }, // — ―
  { jis: '\u2016', win: '\u2225', sjis: [0x81, 0x61], euc: [0xa1, 0xc2] }, // ‖ ∥
  { jis: '\u00a2', win: '\uffe0', sjis: [0x81, 0x91], euc: [0xa1, 0xf1] }, // ¢ ￠
  { jis: '\u00a3', win: '\uffe1', sjis: [0x81, 0x92], euc: [0xa1, 0xf2] }, // £ ￡
  { jis: '\u00ac', win: '\uffe2', sjis: [0x81, 0xca], euc: [0xa2, 0xcc] } // ¬ ￢
]
const JIS_TO_WIN = new Map(JIS_VARIANTS.map((v) => [v.jis, v.win]))
const WIN_TO_JIS = new Map(JIS_VARIANTS.map((v) => [v.win, v.jis]))

/** The Mac/Unix reading of a text decoded with the Windows tables; null when nothing differs. */
export function toJisMapping (text: string): string | null {
  let changed = false
  const out = text.replace(/[\uff5e\uff0d\u2015\u2225\uffe0\uffe1\uffe2]/g, (c) => { changed = true; return WIN_TO_JIS.get(c)! })
  return changed ? out : null
}

const ENCODE_CACHE: Record<string, Map<string, number[] | null>> = { cp932: new Map(), 'euc-jp': new Map() }

function encodeChar (ch: string, cs: 'cp932' | 'euc-jp'): number[] | null {
  const cache = ENCODE_CACHE[cs]
  const hit = cache.get(ch)
  if (hit !== undefined) return hit
  let out: number[] | null = null
  const cp = ch.codePointAt(0)!
  const win = JIS_TO_WIN.get(ch)
  if (cs === 'cp932' && cp >= 0xe000 && cp <= 0xe757) {
    // the user-defined area: lead F0–F9, trail 40–7E, 80–FC (188 a row)
    const k = cp - 0xe000
    const lead = 0xf0 + Math.floor(k / 188)
    const t = k % 188
    out = [lead, t < 63 ? 0x40 + t : 0x80 + t - 63]
  } else if (cs === 'euc-jp' && cp >= 0xe000 && cp <= 0xe3ab) {
    // eucJP-ms user-defined area: rows 85–94, lead F5–FE
    const k = cp - 0xe000
    out = [0xf5 + Math.floor(k / 94), 0xa1 + (k % 94)]
  } else {
    const b = iconv.encode(win ?? ch, cs)
    if (iconv.decode(b, cs) === (win ?? ch)) out = [...b]
  }
  if (cache.size < 20_000) cache.set(ch, out)
  return out
}

/**
 * Text → Shift_JIS (cp932) or EUC-JP bytes, for re-reading a garbled text as
 * the bytes it was. Beyond iconv-lite: the user-defined area (private-use
 * characters from lead bytes F0–F9) and the JIS-mapped 〜 − — ‖ ¢ £ ¬ that
 * Mac and Unix decoders produce. U+FFFD becomes -1 (a hole). Null when a
 * character has no encoding.
 */
let necSelected: Map<number, [number, number]> | null = null

/**
 * cp932 has most IBM extension kanji twice: rows ED–EE (NEC-selected) and
 * FA–FC (IBM). iconv-lite encodes to FA–FC; bytes that were EUC-JP (or any
 * text that was not cp932) more likely held ED–EE, which are also EUC-JP
 * and UTF-8 lead bytes. Keyed by the FA–FC pair (lead * 256 + trail).
 */
function necSelectedMap (): Map<number, [number, number]> {
  if (necSelected) return necSelected
  necSelected = new Map()
  for (let lead = 0xed; lead <= 0xee; lead++) {
    for (let t = 0x40; t <= 0xfc; t++) {
      if (t === 0x7f) continue
      const ch = iconv.decode(Buffer.from([lead, t]), 'cp932')
      if (ch.length !== 1 || ch === '\ufffd') continue
      const ibm = iconv.encode(ch, 'cp932')
      if (ibm.length === 2 && ibm[0] >= 0xfa) necSelected.set(ibm[0] * 256 + ibm[1], [lead, t])
    }
  }
  return necSelected
}

function preferNecSelected (out: number[]): void {
  for (let p = 0; p < out.length; p++) {
    const b = out[p]
    if ((b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc)) {
      if (b >= 0xfa && p + 1 < out.length) {
        const nec = necSelectedMap().get(b * 256 + out[p + 1])
        if (nec) { out[p] = nec[0]; out[p + 1] = nec[1] }
      }
      p++
    }
  }
}

export function encodeJapanese (text: string, cs: 'cp932' | 'euc-jp'): number[] | null {
  const out = encodeJapaneseRaw(text, cs)
  if (out && cs === 'cp932') preferNecSelected(out)
  return out
}

function encodeJapaneseRaw (text: string, cs: 'cp932' | 'euc-jp'): number[] | null {
  const out: number[] = []
  const parts = text.split('\ufffd')
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) out.push(-1)
    const part = parts[p]
    if (!part) continue
    const fast = iconv.encode(part, cs)
    if (iconv.decode(fast, cs) === part) {
      for (let k = 0; k < fast.length; k++) out.push(fast[k])
      continue
    }
    for (const ch of part) {
      const b = encodeChar(ch, cs)
      if (!b) return null
      for (const x of b) out.push(x)
    }
  }
  return out
}
