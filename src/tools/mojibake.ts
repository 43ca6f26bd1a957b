// Repair of text that was decoded with the wrong character set (文字化け).
// A garbled text is the result of  bytes --(wrong charset)--> text. We undo
// it by re-reading the text as the bytes it must have been (latin1,
// windows-1252, Shift_JIS, EUC-JP, UTF-8, or an undecoded transfer encoding)
// and decoding those bytes with each Japanese charset, two steps deep, then
// rank every distinct result by how much it looks like Japanese text.
// The identity (no change) is always a candidate: good text stays first.
import iconv from 'iconv-lite'
import libmime from 'libmime'
import { assertToolText } from './input.js'
import { kanjiLevel, decodeIso2022Jp, decodeIso2022JpEscLost } from './jis.js'

export interface Candidate {
  text: string
  /** the conversions that produced text, e.g. ["latin1→bytes", "bytes as shift_jis"]; [] for the input itself */
  path: string[]
  /** plausibility, higher is better (about 1 for clean Japanese, 0.5 for plain ASCII, negative for garbage) */
  score: number
  /** share of characters that are kana, common kanji, Japanese punctuation or printable ASCII */
  japaneseShare: number
  /** characters that could not be recovered (shown as U+FFFD) */
  lost: number
  /** bytes that had to be guessed (a windows-1252 hole, a lost UTF-8 continuation byte) */
  guessed: number
}

export interface MojibakeResult {
  candidates: Candidate[]
  /** true when the input itself ranks first */
  unchanged: boolean
}

interface Node { text: string, path: string[], guessed: number }
interface Bytes { bytes: number[], holes: number, label: string, holeGuess: number | null }

const FFFD = 0xfffd

// ---------------------------------------------------------------------------
// Plausibility

/** The commonest hiragana in Japanese prose: a guessed lost byte should land on them first. */
const FREQUENT_KANA = new Set([...'のにはをたがでてとしいかるなれ'].map((c) => c.codePointAt(0)!))

function charWeight (cp: number, ch: string): { w: number, jp: boolean } {
  if (cp >= 0x21 && cp <= 0x7e) return { w: 0.5, jp: true }
  if (FREQUENT_KANA.has(cp)) return { w: cp === 0x306e ? 1.05 : 1.02, jp: true }
  if ((cp >= 0x3041 && cp <= 0x3096) || cp === 0x309d || cp === 0x309e || cp === 0x30fc) return { w: 1, jp: true }
  if (cp >= 0x30a1 && cp <= 0x30fa) return { w: 1, jp: true }
  if (cp === 0x30fb) return { w: 0.3, jp: true } // ・ is also what Windows shows for an undecodable byte
  if (cp === 0x3002) return { w: 0.92, jp: true } // 。 before 、 when a lost byte must be guessed at a sentence end
  if ((cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3005 && cp <= 0x3007) || (cp >= 0x3008 && cp <= 0x3011) || cp === 0x301c) return { w: 0.9, jp: true }
  if (cp >= 0x4e00 && cp <= 0x9fff) {
    const lv = kanjiLevel(ch)
    return lv === 1 ? { w: 1, jp: true } : lv === 2 ? { w: 0.1, jp: false } : { w: -0.3, jp: false }
  }
  if (cp >= 0xff01 && cp <= 0xff5e) return { w: 0.6, jp: true }
  if (cp >= 0xff61 && cp <= 0xff9f) return { w: -0.6, jp: false }
  if (cp === FFFD) return { w: -3, jp: false }
  if (cp === 0x1b) return { w: -1, jp: false }
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) return { w: -2, jp: false }
  if (cp >= 0xa0 && cp <= 0xbf) return { w: -0.6, jp: false }
  if (cp >= 0xc0 && cp <= 0xff) return { w: -0.3, jp: false }
  if (cp >= 0x100 && cp <= 0x24f) return { w: -0.5, jp: false }
  if (cp >= 0x370 && cp <= 0x4ff) return { w: -0.5, jp: false }
  if (cp >= 0x2500 && cp <= 0x257f) return { w: -0.5, jp: false }
  if (cp >= 0x2000 && cp <= 0x2bff) return { w: -0.2, jp: false }
  if ((cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f)) return { w: -0.8, jp: false }
  if (cp >= 0xe000 && cp <= 0xf8ff) return { w: -2, jp: false }
  if (cp >= 0x1f000) return { w: 0.2, jp: false }
  if (cp >= 0x3400 && cp <= 0x4dbf) return { w: -0.5, jp: false }
  if (cp >= 0xf900 && cp <= 0xfaff) return { w: -0.5, jp: false }
  return { w: -0.3, jp: false }
}

/** Undecoded leftovers: encoded-words, ESC sequences, "$B…(B", QP escapes, long base64 runs. */
const RESIDUE = /=\?[^?\s]{1,40}\?[BbQq]\?[^?\s]*\?=|\u001b[$(][@BJID]|\$[B@](?:[\x21-\x7e]{2})+\([BJ]|(?:=[0-9A-Fa-f]{2}){2,}|[A-Za-z0-9+/]{24,}={0,2}/g

export function plausibility (text: string): { score: number, japaneseShare: number, lost: number } {
  let sum = 0
  let n = 0
  let jp = 0
  let lost = 0
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d || cp === 0x3000) continue
    n++
    const { w, jp: j } = charWeight(cp, ch)
    sum += w
    if (j) jp++
    if (cp === FFFD) lost++
  }
  let residue = 0
  for (const m of text.matchAll(RESIDUE)) residue += m[0].length
  sum -= 1.5 * residue
  return { score: n ? sum / n : 0, japaneseShare: n ? (jp - residue > 0 ? (jp - residue) / n : 0) : 0, lost }
}

// ---------------------------------------------------------------------------
// Text → the bytes it must have been

const CP1252_REVERSE = new Map<string, number>()
{
  const all = Buffer.alloc(256)
  for (let i = 0; i < 256; i++) all[i] = i
  const text = iconv.decode(all, 'windows-1252')
  for (let i = 0; i < 256; i++) if (text[i] !== '\ufffd') CP1252_REVERSE.set(text[i], i)
  // WHATWG (browsers, most mail clients) decodes the five undefined bytes as C1 controls.
  for (const b of [0x81, 0x8d, 0x8f, 0x90, 0x9d]) CP1252_REVERSE.set(String.fromCharCode(b), b)
}

function hasHigh (text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return true
  return false
}

function asLatin1 (text: string): Bytes | null {
  if (!hasHigh(text)) return null
  const out: number[] = new Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0xff) return null
    out[i] = c
  }
  return { bytes: out, holes: 0, label: 'latin1→bytes', holeGuess: null }
}

function asCp1252 (text: string): Bytes | null {
  if (!hasHigh(text)) return null
  const out: number[] = []
  let holes = 0
  let special = false
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    if (c === FFFD) { out.push(-1); holes++; continue }
    const b = CP1252_REVERSE.get(ch)
    if (b === undefined) return null
    if (c > 0xff) special = true
    out.push(b)
  }
  // Without a cp1252-only character (or a hole) this reading equals latin1.
  if (!special && !holes) return null
  // A lost byte of windows-1252 is one of 81 8D 8F 90 9D; 0x81 is by far the commonest in
  // Shift_JIS (punctuation, kana) and in UTF-8 (hiragana continuation).
  return { bytes: out, holes, label: 'windows-1252→bytes', holeGuess: 0x81 }
}

/** Re-encode with a multi-byte charset; U+FFFD becomes a hole. Null when a character has no encoding. */
function asMultiByte (text: string, charset: 'shift_jis' | 'euc-jp' | 'utf-8'): Bytes | null {
  if (!hasHigh(text)) return null
  const codec = charset === 'shift_jis' ? 'cp932' : charset
  const out: number[] = []
  let holes = 0
  const parts = text.split('\ufffd')
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) { out.push(-1); holes++ }
    if (!parts[p]) continue
    const enc = iconv.encode(parts[p], codec)
    if (charset !== 'utf-8' && iconv.decode(enc, codec) !== parts[p]) return null
    for (const b of enc) out.push(b)
  }
  if (charset === 'utf-8' && !holes) return null
  return { bytes: out, holes, label: `${charset}→bytes`, holeGuess: null }
}

function asQuotedPrintable (text: string): Bytes | null {
  const escapes = text.match(/=[0-9A-Fa-f]{2}/g)
  if (!escapes || escapes.length < 2 || !escapes.some((e) => parseInt(e.slice(1), 16) >= 0x80)) return null
  const s = text.replace(/=\r?\n/g, '')
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16))
      i += 2
    } else if (c < 0x80) {
      out.push(c)
    } else {
      for (const b of Buffer.from(s[i], 'utf8')) out.push(b)
    }
  }
  return { bytes: out, holes: 0, label: 'quoted-printable→bytes', holeGuess: null }
}

function asBase64 (text: string): Bytes | null {
  const s = text.replace(/\s+/g, '')
  if (s.length < 8 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 === 1) return null
  const buf = Buffer.from(s, 'base64')
  if (!buf.length) return null
  return { bytes: [...buf], holes: 0, label: 'base64→bytes', holeGuess: null }
}

// ---------------------------------------------------------------------------
// Bytes → text

/**
 * UTF-8 with holes: a hole inside a multi-byte sequence is one or two lost
 * continuation bytes; try every value and keep the character that reads best.
 */
function decodeUtf8Holes (bytes: number[]): { text: string, guessed: number } {
  let out = ''
  let guessed = 0
  let i = 0
  const cont = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf
  while (i < bytes.length) {
    const b = bytes[i]
    if (b >= 0 && b < 0x80) { out += String.fromCharCode(b); i++; continue }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1
    if (need < 0) { out += '\ufffd'; i++; continue }
    // collect the continuation positions: real bytes or holes (-1)
    const known: Array<number | null> = []
    let j = i + 1
    while (known.length < need && j < bytes.length && (cont(bytes[j]) || bytes[j] === -1)) {
      if (bytes[j] === -1) {
        // one hole may stand for the rest of the sequence (a decoder that swallowed two bytes)
        let after = 0
        while (after < need && (cont(bytes[j + 1 + after]) || bytes[j + 1 + after] === -1)) after++
        const missing = Math.max(1, need - known.length - after)
        for (let k = 0; k < missing && known.length < need; k++) known.push(null)
      } else {
        known.push(bytes[j])
      }
      j++
    }
    if (known.length < need) { out += '\ufffd'; i = j; continue }
    const unknown = known.filter((x) => x === null).length
    if (!unknown) {
      out += Buffer.from([b, ...(known as number[])]).toString('utf8')
      i = j
      continue
    }
    // enumerate 64^unknown fills (at most 4096) and keep the best-weighted valid character
    let best = '\ufffd'
    let bestW = -Infinity
    const total = 64 ** unknown
    const leadBits = need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07
    const minCp = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000
    for (let f = 0; f < total; f++) {
      let x = f
      let cp = leadBits
      for (const k of known) {
        let v: number
        if (k === null) { v = 0x80 + (x % 64); x = Math.floor(x / 64) } else v = k
        cp = (cp << 6) | (v & 0x3f)
      }
      // overlong forms, surrogates and beyond-Unicode values are not characters
      if (cp < minCp || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) continue
      const ch = String.fromCodePoint(cp)
      const w = charWeight(cp, ch).w
      if (w > bestW) { bestW = w; best = ch }
    }
    if (best !== '\ufffd') guessed += unknown
    out += best
    i = j
  }
  return { text: out, guessed }
}

type Decoder = 'utf-8' | 'shift_jis' | 'euc-jp' | 'iso-2022-jp'

function decodeBytes (src: Bytes, dec: Decoder): { text: string, guessed: number } | null {
  if (dec === 'utf-8' && src.holes) return decodeUtf8Holes(src.bytes)
  let guessed = 0
  // Without a guess a hole becomes 0xFF, which no Japanese codec decodes: it shows as U+FFFD (lost).
  const fill = src.holeGuess ?? 0xff
  const buf = Buffer.from(src.bytes.map((b) => { if (b < 0) { if (src.holeGuess !== null) guessed++; return fill } return b }))
  switch (dec) {
    case 'utf-8': return { text: buf.toString('utf8'), guessed }
    case 'shift_jis': return { text: iconv.decode(buf, 'cp932'), guessed }
    case 'euc-jp': return { text: iconv.decode(buf, 'euc-jp'), guessed }
    case 'iso-2022-jp': {
      if (!buf.includes(0x1b)) return null
      const r = decodeIso2022Jp(buf.toString('latin1'))
      return r ? { text: r.text, guessed } : null
    }
  }
}

// ---------------------------------------------------------------------------
// Search

/** `guessing`: readings with holes (U+FFFD) may guess the lost bytes; only on the input itself, never on our own output. */
function textMoves (n: Node, guessing: boolean): Node[] {
  const out: Node[] = []
  const t = n.text
  if (/=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=/.test(t)) {
    try {
      const d = libmime.decodeWords(t)
      if (d !== t) out.push({ text: d, path: [...n.path, 'RFC 2047 encoded-words decoded'], guessed: n.guessed })
    } catch { /* a malformed word: other paths still apply */ }
  }
  const esc = decodeIso2022Jp(t)
  if (esc && esc.text !== t) out.push({ text: esc.text, path: [...n.path, 'ISO-2022-JP escape sequences decoded'], guessed: n.guessed })
  const lost = decodeIso2022JpEscLost(t)
  if (lost && lost !== t) out.push({ text: lost, path: [...n.path, 'ISO-2022-JP with lost ESC bytes decoded'], guessed: n.guessed })
  const readings = [asLatin1(t), asCp1252(t), asMultiByte(t, 'shift_jis'), asMultiByte(t, 'euc-jp'), asMultiByte(t, 'utf-8'), asQuotedPrintable(t), asBase64(t)]
  for (const r of readings) {
    if (!r || (r.holes && !guessing)) continue
    for (const dec of ['utf-8', 'shift_jis', 'euc-jp', 'iso-2022-jp'] as Decoder[]) {
      if (r.label === `${dec}→bytes`) continue
      const d = decodeBytes(r, dec)
      if (!d || d.text === t) continue
      out.push({ text: d.text, path: [...n.path, r.label, `bytes as ${dec}`], guessed: n.guessed + d.guessed })
    }
  }
  return out
}

function rank (n: Node): Candidate {
  const p = plausibility(n.text)
  const len = Math.max(1, [...n.text].length)
  // Each conversion costs a little (the simplest explanation wins a tie); guessed bytes cost more.
  const score = p.score - 0.01 * n.path.length - n.guessed / len
  return { text: n.text, path: n.path, score: Math.round(score * 1000) / 1000, japaneseShare: Math.round(p.japaneseShare * 1000) / 1000, lost: p.lost, guessed: n.guessed }
}

export interface RepairOptions {
  /** candidates returned (best first) */
  limit?: number
}

export function repairMojibake (input: string, opts: RepairOptions = {}): MojibakeResult {
  assertToolText(input, 'text')
  const limit = opts.limit ?? 8
  const seen = new Map<string, Candidate>()
  const add = (n: Node): Candidate | null => {
    const prev = seen.get(n.text)
    if (prev && prev.path.length <= n.path.length) return null
    const c = rank(n)
    seen.set(n.text, c)
    return c
  }
  const identity: Node = { text: input, path: [], guessed: 0 }
  add(identity)
  const first: Candidate[] = []
  for (const m of textMoves(identity, true)) {
    const c = add(m)
    if (c) first.push(c)
  }
  // Second step only from the most promising first steps: an encoded-word whose
  // charset label lied, QP over Shift_JIS read as latin1, and the like.
  first.sort((a, b) => b.score - a.score)
  for (const c of first.slice(0, 8)) {
    for (const m of textMoves({ text: c.text, path: c.path, guessed: c.guessed }, false)) add(m)
  }
  const candidates = [...seen.values()].sort((a, b) => b.score - a.score || a.path.length - b.path.length)
  return { candidates: candidates.slice(0, limit), unchanged: candidates[0].path.length === 0 }
}
