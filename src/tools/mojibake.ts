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
import { registerAdvice } from '../i18n/index.js'
import { TOOLS_ADVICE } from '../i18n/advice/tools.js'
import { JA_PAIR_TIERS } from './ja-model.js'
import { NEWSPAPER_KANJI, lnNext, lnNext3, lnText, lnUni } from './ja-lm.js'
import { kanjiLevel, decodeIso2022Jp, decodeIso2022JpEscLost, encodeJapanese, toJisMapping } from './jis.js'

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
  /** what happened to the mail, said the way a person would, in both languages */
  label: { ja: string, en: string }
  /** true: an unlikely reading (little Japanese, or much lost): a page folds it away */
  implausible: boolean
  /** the characters that had to be guessed, as UTF-16 offsets into text (end exclusive): what the reader should check */
  marks: Array<{ start: number, end: number }>
  /** which table read ～/〜 and －/−: windows (cp932), mac-unix (JIS), null when no Japanese table was used */
  mapping: 'windows' | 'mac-unix' | null
}

export interface MojibakeResult {
  candidates: Candidate[]
  /** true when the input itself ranks first */
  unchanged: boolean
}

interface Node { text: string, path: string[], guessed: number, marks?: Array<[number, number]> }
/** bytes with holes (-1: a byte the wrong decoding destroyed); holeChoices: what a hole can have been, when known */
interface Bytes { bytes: number[], holes: number, label: string, holeChoices: number[] | null }

// the repair's advice codes (tools.mojibake.*) live in the tools catalogue
registerAdvice(TOOLS_ADVICE)

const FFFD = 0xfffd

// ---------------------------------------------------------------------------
// Plausibility

/** The commonest hiragana in Japanese prose: a guessed lost byte should land on them first. */
const FREQUENT_KANA = new Set([...'のにはをたがでてとしいかるなれ'].map((c) => c.codePointAt(0)!))

/**
 * Kanji common in everyday and newspaper text (roughly the most frequent few
 * hundred). Only a tie-breaker: when a lost byte must be guessed, a common
 * kanji is a better bet than a rare level-1 one.
 */
const COMMON_KANJI = new Set([...NEWSPAPER_KANJI].map((c) => c.codePointAt(0)!))

/** Symbols Japanese mail really uses: ℃ − ※ → ← ↑ ↓ ○ ● ◎ △ ▲ □ ■ ◆ ◇ ★ ☆ ♪ 〒 … ① – ⑳ */
const COMMON_SYMBOLS = new Set([...'℃−※→←↑↓○●◎△▲▽▼□■◆◇★☆♪〒…‥①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳ⅠⅡⅢⅣⅤ㈱㈲№℡'].map((c) => c.codePointAt(0)!))

const isHalfKana = (cp: number): boolean => cp >= 0xff66 && cp <= 0xff9f
/** ｶﾞ ﾊﾟ: the half-width sound marks follow only these */
const DAKUTEN_OK = new Set([...'ｳｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎ'].map((c) => c.codePointAt(0)!))
const HANDAKUTEN_OK = new Set([...'ﾊﾋﾌﾍﾎ'].map((c) => c.codePointAt(0)!))

/** A bonus for neighbouring half-width katakana that spell something, a penalty for a sound mark after the wrong letter. */
function halfKanaPair (a: number, b: number): number {
  if (!isHalfKana(a) || !isHalfKana(b)) return 0
  if (b === 0xff9e) return DAKUTEN_OK.has(a) ? 0.5 : -0.8
  if (b === 0xff9f) return HANDAKUTEN_OK.has(a) ? 0.5 : -0.8
  return 0.4
}

function charWeight (cp: number, ch: string): { w: number, jp: boolean } {
  if (cp >= 0x21 && cp <= 0x7e) return { w: 0.5, jp: true }
  if (FREQUENT_KANA.has(cp)) return { w: cp === 0x306e ? 1.05 : 1.02, jp: true }
  if (cp === 0x30fc) return { w: 1.02, jp: true } // ー
  if (cp === 0x309d || cp === 0x309e || cp === 0x30fd || cp === 0x30fe) return { w: 0.3, jp: true } // ゝゞヽヾ: rare iteration marks
  if (cp >= 0x3041 && cp <= 0x3096) return { w: 1, jp: true }
  if (cp >= 0x30a1 && cp <= 0x30fa) return { w: 1, jp: true }
  if (cp === 0x30fb) return { w: 0.3, jp: true } // ・ is also what Windows shows for an undecodable byte
  if (cp === 0x3002) return { w: 0.92, jp: true } // 。 before 、 when a lost byte must be guessed at a sentence end
  if ((cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3005 && cp <= 0x3007) || (cp >= 0x3008 && cp <= 0x3011) || cp === 0x301c) return { w: 0.9, jp: true }
  if (cp >= 0x4e00 && cp <= 0x9fff) {
    if (COMMON_KANJI.has(cp)) return { w: 1.01, jp: true }
    const lv = kanjiLevel(ch)
    return lv === 1 ? { w: 1, jp: true } : lv === 2 ? { w: 0.1, jp: false } : { w: -0.3, jp: false }
  }
  if (cp === 0xff01 || cp === 0xff08 || cp === 0xff09 || cp === 0xff0c || cp === 0xff0e || cp === 0xff1a || cp === 0xff1f || cp === 0xff5e) return { w: 0.9, jp: true }
  if (cp === 0xff0d || cp === 0xff05 || cp === 0xff06 || cp === 0xff20 || cp === 0xff03 || cp === 0xff0a || cp === 0xff0b || cp === 0xff1d || cp === 0xff0f) return { w: 0.7, jp: true }
  if ((cp >= 0xff10 && cp <= 0xff19) || (cp >= 0xff21 && cp <= 0xff3a) || (cp >= 0xff41 && cp <= 0xff5a)) return { w: 0.6, jp: true }
  if (cp >= 0xff01 && cp <= 0xff5e) return { w: 0.2, jp: false }
  // half-width katakana: real in old mobile and system mail (ﾒｰﾙｻｰﾊﾞｰ); a run of them reads well (see plausibility),
  // the half-width punctuation ｡｢｣､･ alone is what EUC-JP read as Shift_JIS is full of
  if (cp >= 0xff66 && cp <= 0xff9f) return { w: 0.3, jp: true }
  if (cp >= 0xff61 && cp <= 0xff65) return { w: -0.6, jp: false }
  if (cp === FFFD) return { w: -3, jp: false }
  if (cp === 0x1b) return { w: -1, jp: false }
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) return { w: -2, jp: false }
  if (cp >= 0xa0 && cp <= 0xbf) return { w: -0.6, jp: false }
  // Latin letters with accents are real text elsewhere; mojibake is betrayed by its symbols and C1 controls
  if (cp >= 0xc0 && cp <= 0xff && cp !== 0xd7 && cp !== 0xf7) return { w: 0.1, jp: false }
  if (cp === 0xd7 || cp === 0xf7) return { w: -0.6, jp: false }
  if (cp >= 0x100 && cp <= 0x24f) return { w: -0.5, jp: false }
  if (cp >= 0x370 && cp <= 0x4ff) return { w: -0.5, jp: false }
  if (cp >= 0x2500 && cp <= 0x257f) return { w: -0.5, jp: false }
  if (COMMON_SYMBOLS.has(cp)) return { w: 0.7, jp: true }
  if (cp >= 0x2000 && cp <= 0x2bff) return { w: -0.2, jp: false }
  if ((cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f)) return { w: -0.8, jp: false }
  if (cp >= 0xe000 && cp <= 0xf8ff) return { w: -2, jp: false }
  if (cp >= 0x1f000) return { w: 0.2, jp: false }
  if (cp >= 0x3400 && cp <= 0x4dbf) return { w: -0.5, jp: false }
  if (cp >= 0xf900 && cp <= 0xfaff) return { w: -0.5, jp: false }
  return { w: -0.3, jp: false }
}

/** Undecoded leftovers: encoded-words, ESC sequences, "$B…(B", QP escapes, long base64 runs. */
const RESIDUE = /=\?[^?\s]{1,40}\?[BbQq]\?[^?\s]*\?=|\u001b[$(][@BJID]|\$[B@](?:[\x21-\x7e]{2}){1,64}\([BJ]|(?:=[0-9A-Fa-f]{2}){2,}|[A-Za-z0-9+/]{24,}={0,2}/g

/** The fluency term of plausibility(): per character, LM_GAIN × (ln P(c | previous) + LM_MID), within ±LM_CLAMP (+LM_CLAMP/2 at most). */
const LM_GAIN = 0.08
const LM_MID = 7
const LM_CLAMP = 0.6

export function plausibility (text: string): { score: number, japaneseShare: number, lost: number } {
  let sum = 0
  let n = 0
  let jp = 0
  let lost = 0
  let prev = 0
  let run = 0
  const endRun = (): void => {
    // a run of three or more half-width katakana spells a word (ﾒｰﾙ); one or two among kanji is debris
    if (run) sum += run >= 3 ? 0.4 * run : -0.5 * run
    run = 0
  }
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (isHalfKana(cp)) run++
    else endRun()
    if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d || cp === 0x3000) { prev = 0; continue }
    n++
    const { w, jp: j } = charWeight(cp, ch)
    sum += w + Math.min(0, halfKanaPair(prev, cp))
    prev = cp
    if (j) jp++
    if (cp === FFFD) lost++
  }
  endRun()
  // Coherence: written Japanese is made of familiar neighbours (して, ます, 設定); a mis-decoding
  // lands on strings of real but unrelated kanji (実疾疾写痔斜) whose neighbours are strangers.
  let pairs = 0
  let known = 0
  let last = ''
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    const jpChar = (cp >= 0x3041 && cp <= 0x30ff) || (cp >= 0x4e00 && cp <= 0x9fff)
    if (jpChar && last) { pairs++; if (PAIR_WEIGHT.has(last + ch)) known++ }
    last = jpChar ? ch : ''
  }
  if (pairs >= 3 && n) sum += n * (0.6 * (known / pairs) - 0.2)
  // Fluency under the character bigram model (ja-lm.ts): real text, half-width katakana included, is
  // made of likely successions; a mis-decoding into real but unrelated kanji is not
  let prevCh = ''
  for (const ch of text) {
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t' || ch === '\u3000') { prevCh = ''; continue }
    sum += Math.max(-LM_CLAMP, Math.min(LM_CLAMP / 2, LM_GAIN * (lnNext(prevCh, ch) + LM_MID)))
    prevCh = ch
  }
  let residue = 0
  for (const m of text.matchAll(RESIDUE)) residue += m[0].length
  sum -= 1.5 * residue
  return { score: n ? sum / n : 0, japaneseShare: n ? (jp - residue > 0 ? (jp - residue) / n : 0) : 0, lost }
}

/** Mean character weight of a short window, with how well neighbours pair, for choosing between guesses. */
function quickScore (text: string): number {
  let sum = 0
  let n = 0
  let prev = ''
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (cp === 0x20 || cp === 0x0a || cp === 0x0d || cp === 0x09) { prev = ''; continue }
    sum += charWeight(cp, ch).w + (prev ? pairWeight(prev, ch) : 0)
    prev = ch
    n++
  }
  return n ? sum / n : 0
}

// ---------------------------------------------------------------------------
// Text → the bytes it must have been

const CP1252_UNDEFINED = [0x81, 0x8d, 0x8f, 0x90, 0x9d]
const CP1252_REVERSE = new Map<string, number>()
{
  const all = Buffer.alloc(256)
  for (let i = 0; i < 256; i++) all[i] = i
  const text = iconv.decode(all, 'windows-1252')
  for (let i = 0; i < 256; i++) if (text[i] !== '\ufffd') CP1252_REVERSE.set(text[i], i)
  // WHATWG (browsers, most mail clients) decodes the five undefined bytes as C1 controls.
  for (const b of CP1252_UNDEFINED) CP1252_REVERSE.set(String.fromCharCode(b), b)
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
  return { bytes: out, holes: 0, label: 'latin1→bytes', holeChoices: null }
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
  // iconv-lite's windows-1252 turns the five undefined bytes 81 8D 8F 90 9D into U+FFFD:
  // a hole here is one of those five.
  return { bytes: out, holes, label: 'windows-1252→bytes', holeChoices: CP1252_UNDEFINED }
}

/** Re-encode with a multi-byte charset; U+FFFD becomes a hole. Null when a character has no encoding. */
function asMultiByte (text: string, charset: 'shift_jis' | 'euc-jp' | 'utf-8'): Bytes | null {
  if (!hasHigh(text)) return null
  if (charset !== 'utf-8') {
    // what a Shift_JIS or EUC-JP decoder wrote has kana, kanji or full-width forms in it;
    // text of Latin letters alone (Grüße aus München) was not made by one
    if (!/[\u3000-\u9fff\uff00-\uffef\ue000-\uf8ff]/.test(text)) return null
    const b = encodeJapanese(text, charset === 'shift_jis' ? 'cp932' : 'euc-jp')
    if (!b) return null
    let holes = 0
    for (const x of b) if (x < 0) holes++
    return { bytes: b, holes, label: `${charset}→bytes`, holeChoices: null }
  }
  const out: number[] = []
  let holes = 0
  const parts = text.split('\ufffd')
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) { out.push(-1); holes++ }
    if (!parts[p]) continue
    const enc = Buffer.from(parts[p], 'utf8')
    for (let k = 0; k < enc.length; k++) out.push(enc[k])
  }
  if (!holes) return null
  return { bytes: out, holes, label: `${charset}→bytes`, holeChoices: null }
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
  return { bytes: out, holes: 0, label: 'quoted-printable→bytes', holeChoices: null }
}

function asBase64 (text: string): Bytes | null {
  const s = text.replace(/\s+/g, '')
  if (s.length < 8 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 === 1) return null
  const buf = Buffer.from(s, 'base64')
  if (!buf.length) return null
  return { bytes: Array.from(buf), holes: 0, label: 'base64→bytes', holeChoices: null }
}

// ---------------------------------------------------------------------------
// Bytes → text

/** The candidate characters per hole pattern (a pure function of the pattern), shared across calls, bounded. */
const FILL_MEMO = new Map<string, Option[]>()

/** Holes per decoding whose fill is chosen by scoring its neighbourhood. */
const HOLE_SCORING_BUDGET = 1000

/** Character fills tried per decoding, at most (a few hundred milliseconds of work). */
const GUESS_BUDGET = 500_000

/** Candidate characters kept per hole for the context choice. */
const OPTIONS_PER_HOLE = 16

/**
 * Characters a hole of the UTF-8 reading keeps before its neighbours are
 * known (the commonest first): the neighbours then pick OPTIONS_PER_HOLE of
 * them, so 円 after ０ is among the options although 定 and 国 are commoner.
 */
const POOL_PER_HOLE = 8 * OPTIONS_PER_HOLE

/** w: a bonus of its own (0 for most), u: ln P(ch), the order in which options are kept; lead, tail: its first and last byte */
interface Option { ch: string, w: number, u?: number, lead?: number, tail?: number }

/** Which bytes a wrong decoder destroys: b, followed by next (-1: unknown), came out as U+FFFD. */
interface LostBy { id: string, lost: (b: number, next: number) => boolean }

function lostTable (codec: string, whatwgLabel: string): LostBy {
  // 0: not computed, 1: destroyed, 2: read
  const table = new Uint8Array(65536)
  const td = new TextDecoder(whatwgLabel)
  return {
    id: codec,
    lost: (b, next) => {
      // with the next byte unknown, any byte may have been destroyed with it
      if (next < 0) return true
      const key = b * 256 + next
      let v = table[key]
      if (v === 0) {
        const buf = Buffer.from([b, next])
        v = iconv.decode(buf, codec).startsWith('\ufffd') || td.decode(buf).startsWith('\ufffd') ? 1 : 2
        table[key] = v
      }
      return v === 1
    }
  }
}

/** Shift_JIS and EUC-JP decoders (iconv-lite and WHATWG): what they destroy. */
const LOST_BY: Record<string, LostBy> = {
  'shift_jis→bytes': lostTable('cp932', 'shift_jis'),
  'euc-jp→bytes': lostTable('euc-jp', 'euc-jp')
}
/** A decoded piece: known text, or a choice among characters for destroyed bytes. */
type Piece = string | { options: Option[], unknown: number }

const PAIR_WEIGHT = new Map<string, number>()
{
  const tierWeight = [0.9, 0.7, 0.5, 0.35, 0.25]
  JA_PAIR_TIERS.forEach((tier, t) => {
    const chars = [...tier]
    for (let k = 0; k + 1 < chars.length; k += 2) PAIR_WEIGHT.set(chars[k] + chars[k + 1], tierWeight[t])
  })
}

/** How much two neighbouring characters read like written Japanese (0 when the pair is unknown). */
const AFTER_DIGIT = new Set([...'℃％円年月日時分秒個件回度名人台通枚歳番号階'])
const BEFORE_DIGIT = new Set([...'−－＋約第'])

export function pairWeight (a: string, b: string): number {
  if (!a || !b) return 0
  const digitA = a >= '0' && a <= '9'
  const digitB = b >= '0' && b <= '9'
  if ((digitA && AFTER_DIGIT.has(b)) || (digitB && BEFORE_DIGIT.has(a))) return 0.5
  return (PAIR_WEIGHT.get(a + b) ?? 0) + halfKanaPair(a.codePointAt(0)!, b.codePointAt(0)!)
}

/**
 * Chooses one option per hole so the whole reads best: each character's own
 * weight plus how well it pairs with its neighbours (Viterbi over the
 * pieces; known text has one option). Returns the text, how many bytes
 * were guessed, and where the guessed characters are (UTF-16 offsets).
 */
function choose (pieces: Piece[]): { text: string, guessed: number, marks: Array<[number, number]> } {
  // flatten to a sequence of slots: known characters (one option) and holes
  interface Slot { opts: Option[], hole: boolean, unknown: number }
  const slots: Slot[] = []
  for (const p of pieces) {
    if (typeof p === 'string') {
      // only the characters next to a hole matter for the choice; long known runs are kept whole
      if (p.length > 2) {
        const cps = [...p]
        slots.push({ opts: [{ ch: cps[0], w: 0 }], hole: false, unknown: 0 })
        if (cps.length > 2) slots.push({ opts: [{ ch: cps.slice(1, -1).join(''), w: 0 }], hole: false, unknown: 0 })
        slots.push({ opts: [{ ch: cps[cps.length - 1], w: 0 }], hole: false, unknown: 0 })
      } else {
        for (const c of p) slots.push({ opts: [{ ch: c, w: 0 }], hole: false, unknown: 0 })
      }
    } else {
      slots.push({ opts: p.options.length ? p.options : [{ ch: '\ufffd', w: -3 }], hole: true, unknown: p.unknown })
    }
  }
  // a text (or a line) ends with punctuation more often than with anything else
  const end = slots[slots.length - 1]
  if (end?.hole) end.opts = end.opts.map((o) => ('。！？」）'.includes(o.ch) ? { ch: o.ch, w: o.w + 2 } : o))
  const n = slots.length
  const score: number[][] = []
  const back: number[][] = []
  const last = (s: string): string => { const a = [...s]; return a[a.length - 1] ?? '' }
  /** ln P of a guessed option's own successions (two characters chosen together) */
  const inner = (s: string): number => { const a = [...s]; let v = 0; for (let k = 1; k < a.length; k++) v += lnNext(a[k - 1], a[k]); return v }
  const first = (s: string): string => [...s][0] ?? ''
  const BREAK = ' \n\r\t\u3000'
  /** up to two known characters on one side of slot i (nearest first); stops at a hole or white space */
  const known = (i: number, step: -1 | 1): string[] => {
    const got: string[] = []
    for (let j = i + step; j >= 0 && j < n && got.length < 2 && !slots[j].hole; j += step) {
      // (the middle slot of a known run is the whole run: only its end is looked at)
      const t = slots[j].opts[0].ch
      const a = step < 0 ? [...t.slice(-4)].reverse() : [...t.slice(0, 4)]
      for (const c of a) { if (BREAK.includes(c)) return got; got.push(c); if (got.length === 2) break }
    }
    return got
  }
  /**
   * What the runs of three around a guessed character add to the pairs the
   * Viterbi below counts (ln P(c | a b) − ln P(c | b) for each run of three
   * that holds the guess and known neighbours): ポート reads better than バート
   * although ー follows ポ and バ alike.
   */
  const tripleGain = (ch: string, [l1, l2]: string[], [r1, r2]: string[]): number => {
    const h = [...ch]
    if (!h.length || h[0] === '\ufffd') return 0
    const a = h[0]
    const z = h[h.length - 1]
    const beforeZ = h.length > 1 ? h[h.length - 2] : l1
    let d = 0
    if (l1 && l2) d += lnNext3(l2, l1, a) - lnNext(l1, a)
    if (r1 && beforeZ) d += lnNext3(beforeZ, z, r1) - lnNext(z, r1)
    if (r1 && r2) d += lnNext3(z, r1, r2) - lnNext(r1, r2)
    return d
  }
  for (let i = 0; i < n; i++) {
    const opts = slots[i].opts
    const around = slots[i].hole && opts.length > 1 ? [known(i, -1), known(i, 1)] as const : null
    score.push(new Array(opts.length).fill(-Infinity))
    back.push(new Array(opts.length).fill(0))
    for (let o = 0; o < opts.length; o++) {
      // a hole's own bonus (end punctuation) plus ln P(its first character | the character before)
      const own = slots[i].hole ? opts[o].w + inner(opts[o].ch) + (around ? tripleGain(opts[o].ch, around[0], around[1]) : 0) : 0
      if (i === 0) { score[i][o] = own + lnUni(first(opts[o].ch)); continue }
      const prev = slots[i - 1].opts
      for (let q = 0; q < prev.length; q++) {
        const v = score[i - 1][q] + own + lnNext(last(prev[q].ch), first(opts[o].ch))
        if (v > score[i][o]) { score[i][o] = v; back[i][o] = q }
      }
    }
  }
  const pick = new Array(n).fill(0)
  if (n) {
    let best = 0
    for (let o = 1; o < score[n - 1].length; o++) if (score[n - 1][o] > score[n - 1][best]) best = o
    pick[n - 1] = best
    for (let i = n - 1; i > 0; i--) pick[i - 1] = back[i][pick[i]]
  }
  let text = ''
  let guessed = 0
  const marks: Array<[number, number]> = []
  for (let i = 0; i < n; i++) {
    const ch = slots[i].opts[pick[i]].ch
    if (slots[i].hole && ch !== '\ufffd') {
      guessed += slots[i].unknown
      marks.push([text.length, text.length + ch.length])
    }
    text += ch
  }
  return { text, guessed, marks }
}

/**
 * UTF-8 with holes. A hole is a byte (or, after a decoder that swallows two
 * bytes per error, two bytes) the wrong decoding destroyed. The structure of
 * UTF-8 says where it sat — a lead byte, a continuation byte — so every value
 * it can have had is tried; the characters that read best are kept as
 * options and the context decides among them.
 * `choices` narrows what a hole can be (windows-1252's five undefined bytes).
 */
function decodeUtf8Holes (input: number[], choices: number[] | null, lostBy: LostBy | null = null): { text: string, guessed: number, marks: Array<[number, number]> } {
  const pieces: Piece[] = []
  let out = ''
  const flush = (): void => { if (out) { pieces.push(out); out = '' } }
  const cont = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf
  const seqLen = (b: number): number => (b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0)
  // A decoder that swallows two bytes per error (WHATWG) can take the last byte of one
  // character and the lead of the next: a hole between an unfinished sequence and
  // continuation bytes without a lead stands for two bytes.
  let bytes = input
  /** second bytes of a two-byte hole: what follows them says nothing about what the decoder destroyed */
  const second = new Set<number>()
  if (!choices) {
    bytes = []
    for (let p = 0; p < input.length; p++) {
      if (input[p] === -1 && cont(input[p + 1])) {
        let c = 0
        while (c < 3 && cont(bytes[bytes.length - 1 - c])) c++
        const lead = bytes[bytes.length - 1 - c]
        if (lead !== undefined && lead >= 0 && seqLen(lead) - 1 - c === 1) { bytes.push(-1, -1); second.add(bytes.length - 1); continue }
      }
      bytes.push(input[p])
    }
  }
  let i = 0
  // guessing work is bounded: a huge garbled paste gets U+FFFD instead of minutes of search
  let budget = GUESS_BUDGET
  const contChoices = choices ? choices.filter((c) => c >= 0x80 && c <= 0xbf) : Array.from({ length: 64 }, (_, k) => 0x80 + k)
  const leadsFor = (len: number): number[] => {
    const [lo, hi] = len === 2 ? [0xc2, 0xdf] : len === 3 ? [0xe0, 0xef] : [0xf0, 0xf4]
    const all = Array.from({ length: hi - lo + 1 }, (_, x) => lo + x)
    return choices ? all.filter((c) => choices.includes(c)) : all
  }
  /** every character the sequence can have been, with its weight; holeAt: per element, the hole's index in bytes, -2 for a hole's second byte, -1 when known */
  const enumerate = (seq: Array<number | null>, holeAt: number[], leadChoices: number[] | null, found: Option[]): boolean => {
    const after = holeAt.map((h) => (h >= 0 ? bytes[h + 1] ?? -1 : -1))
    const options = seq.map((x, k) => (x !== null ? [x] : k === 0 ? leadChoices ?? [] : contChoices))
    const total = options.reduce((n, o) => n * o.length, 1)
    if (!(total > 0 && total <= 8192 && budget >= total)) return false
    budget -= total
    const len = seq.length
    const minCp = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000
    const check = lostBy ? holeAt.map((h) => h >= 0 && !second.has(h)) : null
    const vals = new Array<number>(len).fill(0)
    const idx = new Array<number>(len).fill(0)
    for (let f = 0; f < total; f++) {
      // odometer over the options, no allocation per fill
      for (let k = 0; k < len; k++) vals[k] = options[k][idx[k]]
      for (let k = 0; k < len; k++) { if (++idx[k] < options[k].length) break; idx[k] = 0 }
      const lead = vals[0]
      if (seqLen(lead) !== len) continue
      let cp = len === 2 ? lead & 0x1f : len === 3 ? lead & 0x0f : lead & 0x07
      for (let k = 1; k < len; k++) cp = (cp << 6) | (vals[k] & 0x3f)
      // overlong forms, surrogates and beyond-Unicode values are not characters
      if (cp < minCp || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) continue
      // the wrong decoder must have destroyed these bytes: a byte it would have read is not a possible fill
      if (check) {
        let ok = true
        for (let k = 0; k < len && ok; k++) if (check[k] && !lostBy!.lost(vals[k], holeAt[k + 1] === -2 ? vals[k + 1] : after[k])) ok = false
        if (!ok) continue
      }
      const ch = String.fromCodePoint(cp)
      found.push({ ch, w: 0, u: lnUni(ch), lead: vals[0], tail: vals[len - 1] })
    }
    return true
  }
  /** Two neighbouring sequences whose boundary pair (first's last byte, second's lead) was destroyed together. */
  const jointOptions = (seq1: Array<number | null>, at1: number[], seq2: Array<number | null>, at2: number[], by: LostBy): Option[] | null => {
    const key = `j${by.id}${seq1.join(',')}|${seq2.join(',')}`
    const hit = FILL_MEMO.get(key)
    if (hit) return hit
    const f1: Option[] = []
    const f2: Option[] = []
    if (!enumerate(seq1, at1, seq1[0] === null ? leadsFor(seq1.length) : null, f1) || !enumerate(seq2, at2, leadsFor(seq2.length), f2)) return null
    const out: Option[] = []
    for (const a of f1) {
      for (const b of f2) {
        if (a.tail === undefined || b.lead === undefined || !by.lost(a.tail, b.lead)) continue
        out.push({ ch: a.ch + b.ch, w: 0, u: (a.u ?? 0) + lnNext(a.ch, b.ch) })
      }
    }
    if (!out.length) return null
    out.sort((a, b) => (b.u ?? 0) - (a.u ?? 0))
    const opts = out.slice(0, 2 * OPTIONS_PER_HOLE)
    if (FILL_MEMO.size >= 50_000) FILL_MEMO.clear()
    FILL_MEMO.set(key, opts)
    return opts
  }
  while (i < bytes.length) {
    const b = bytes[i]
    if (b >= 0 && b < 0x80) { out += String.fromCharCode(b); i++; continue }
    // the sequence: [lead, ...continuations], null where unknown
    let seq: Array<number | null>
    let holeAt: number[] = []
    let alt: { seq: Array<number | null>, holeAt: number[] } | null = null
    let j: number
    if (b === -1) {
      // a following hole is a continuation only when no continuation byte follows it
      // (otherwise it is the lost lead of the next sequence)
      let k = 0
      while (k < 3 && (cont(bytes[i + 1 + k]) || (bytes[i + 1 + k] === -1 && !cont(bytes[i + 2 + k])))) k++
      if (k === 0) { out += '\ufffd'; i++; continue }
      const rest = bytes.slice(i + 1, i + 1 + k)
      seq = [null, ...rest.map((x) => (x === -1 ? null : x))]
      holeAt = [i, ...rest.map((x, q) => (x === -1 ? i + 1 + q : -1))]
      // the hole may also have held the lead and the first continuation (two bytes swallowed)
      if (!choices && k <= 2) alt = { seq: [null, null, ...seq.slice(1)], holeAt: [i, -2, ...holeAt.slice(1)] }
      j = i + 1 + k
    } else {
      const need = seqLen(b) - 1
      if (need < 0) { out += '\ufffd'; i++; continue }
      seq = [b]
      holeAt = [-1]
      j = i + 1
      while (seq.length - 1 < need && j < bytes.length && (cont(bytes[j]) || (bytes[j] === -1 && !cont(bytes[j + 1])) || (bytes[j] === -1 && seq.length - 1 + 1 < need))) {
        if (bytes[j] === -1) {
          // one hole may stand for the rest of the sequence (a decoder that swallowed two bytes)
          let after = 0
          while (after < need && (cont(bytes[j + 1 + after]) || (bytes[j + 1 + after] === -1 && !cont(bytes[j + 2 + after])))) after++
          const missing = choices ? 1 : Math.max(1, need - (seq.length - 1) - after)
          for (let k = 0; k < missing && seq.length - 1 < need; k++) { seq.push(null); holeAt.push(k === 0 ? j : -2) }
        } else {
          seq.push(bytes[j])
          holeAt.push(-1)
        }
        j++
      }
      if (seq.length - 1 < need) { out += '\ufffd'; i = j; continue }
    }
    const unknown = seq.filter((x) => x === null).length
    if (!unknown) {
      out += Buffer.from(seq as number[]).toString('utf8')
      i = j
      continue
    }
    // A decoder that swallowed two bytes (WHATWG) took this sequence's last byte and the next one's
    // lead together: only pairs it cannot decode are possible, so the two are chosen together.
    if (lostBy && holeAt[holeAt.length - 1] === j - 1 && second.has(j)) {
      let k = 0
      while (k < 3 && cont(bytes[j + 1 + k])) k++
      const joint = k ? jointOptions(seq, holeAt, [null, ...bytes.slice(j + 1, j + 1 + k)], [j, ...bytes.slice(j + 1, j + 1 + k).map(() => -1)], lostBy) : null
      if (joint) {
        flush()
        pieces.push({ options: joint, unknown: unknown + 1 })
        i = j + 1 + k
        continue
      }
    }
    // the same hole pattern recurs all along a garbled text: its options are worked out once;
    // what the wrong decoder did with the byte after each hole is part of the pattern
    const memoKey = `${choices ? 'c' : 'a'}${lostBy ? lostBy.id : ''}${seq.map((x, k) => (x === null ? `_${holeAt[k] >= 0 ? (second.has(holeAt[k]) ? 's' : bytes[holeAt[k] + 1] ?? -1) : ''}` : x)).join(',')}${alt ? '+' : ''}`
    let opts = FILL_MEMO.get(memoKey)
    if (opts === undefined) {
      const found: Option[] = []
      let complete = enumerate(seq, holeAt, seq[0] === null ? leadsFor(seq.length) : null, found)
      if (alt && alt.seq.length <= 4) complete = enumerate(alt.seq, alt.holeAt, leadsFor(alt.seq.length), found) && complete
      found.sort((a, b) => (b.u ?? 0) - (a.u ?? 0))
      opts = found.slice(0, POOL_PER_HOLE)
      if (complete) {
        if (FILL_MEMO.size >= 50_000) FILL_MEMO.clear()
        FILL_MEMO.set(memoKey, opts)
      }
    }
    flush()
    pieces.push({ options: opts, unknown })
    i = j
  }
  flush()
  return choose(narrowByNeighbours(pieces))
}

/**
 * Keeps, of each hole's options, the OPTIONS_PER_HOLE that read best with
 * the known characters on either side (ln P(ch | left) + ln P(right | ch));
 * the choice among them is choose()'s.
 */
function narrowByNeighbours (pieces: Piece[]): Piece[] {
  return pieces.map((p, k) => {
    if (typeof p === 'string' || p.options.length <= OPTIONS_PER_HOLE) return p
    const before = pieces[k - 1]
    const after = pieces[k + 1]
    const left = typeof before === 'string' ? before.slice(/[\udc00-\udfff]$/.test(before) ? -2 : -1) : ''
    const right = typeof after === 'string' ? String.fromCodePoint(after.codePointAt(0)!) : ''
    // a hole pattern's options are one shared array (FILL_MEMO): its narrowing per pair of neighbours is kept with it
    let memo = NARROW_MEMO.get(p.options)
    if (!memo) { memo = new Map(); NARROW_MEMO.set(p.options, memo) }
    const key = left + '\u0000' + right
    const hit = memo.get(key)
    if (hit) return { options: hit, unknown: p.unknown }
    const scored = p.options.map((o) => {
      const a = String.fromCodePoint(o.ch.codePointAt(0)!)
      const z = [...o.ch].pop()!
      return { o, s: (o.u ?? 0) + (left ? lnNext(left, a) - lnUni(a) : 0) + (right ? lnNext(z, right) : 0) }
    })
    scored.sort((x, y) => y.s - x.s)
    const options = scored.slice(0, OPTIONS_PER_HOLE).map((x) => x.o)
    if (memo.size < 2_000) memo.set(key, options)
    return { options, unknown: p.unknown }
  })
}

const NARROW_MEMO = new WeakMap<Option[], Map<string, Option[]>>()

type Decoder = 'utf-8' | 'shift_jis' | 'euc-jp' | 'iso-2022-jp'

function decodeWith (buf: Buffer, dec: Exclude<Decoder, 'utf-8' | 'iso-2022-jp'>): string {
  return iconv.decode(buf, dec === 'shift_jis' ? 'cp932' : 'euc-jp')
}

/** Decoded byte pairs, filled as they are met: the scoring windows of hole filling decode thousands of short pieces. */
const PAIR_TEXT: Record<string, Array<string | undefined>> = { shift_jis: new Array(65536), 'euc-jp': new Array(65536) }

/**
 * A short window of Shift_JIS or EUC-JP bytes decoded from a table of pairs,
 * the way iconv-lite does it (an undecodable pair gives U+FFFD and its
 * second byte is read again); much cheaper than a codec call per window.
 */
function decodeWindow (bytes: number[], dec: Exclude<Decoder, 'utf-8' | 'iso-2022-jp'>): string {
  const table = PAIR_TEXT[dec]
  let out = ''
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]
    const lead = dec === 'shift_jis' ? (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc) : b >= 0x8e && b <= 0xfe && b !== 0x8f && b !== 0xa0
    if (b < 0x80 && b >= 0) { out += String.fromCharCode(b); i++; continue }
    if (!lead || i + 1 >= bytes.length || bytes[i + 1] < 0) {
      out += dec === 'shift_jis' && b >= 0xa1 && b <= 0xdf ? String.fromCharCode(0xff61 + b - 0xa1) : '\ufffd'
      i++
      continue
    }
    const key = b * 256 + bytes[i + 1]
    let t = table[key]
    if (t === undefined) {
      const d = decodeWith(Buffer.from([b, bytes[i + 1]]), dec)
      t = d.length === 1 && d !== '\ufffd' ? d : ''
      table[key] = t
    }
    if (t) { out += t; i += 2 } else { out += '\ufffd'; i++ }
  }
  return out
}

/**
 * Fills the holes of a multi-byte reading, left to right: each hole takes the
 * choice whose few surrounding characters read best. Without known choices a
 * hole becomes 0xFF, which no Japanese codec decodes (U+FFFD: lost).
 */
/**
 * EUC-JP bytes with holes (-1) where a decoder lost a byte: a hole stands for
 * two bytes where the run of high bytes around it has odd length (EUC-JP
 * characters are pairs, so such a run lost a whole character's worth).
 */
function expandOddHoles (input: number[]): number[] {
  const bytes: number[] = []
  for (let i = 0; i < input.length;) {
    if (input[i] >= 0 && input[i] < 0x80) { bytes.push(input[i]); i++; continue }
    let j = i
    let holes = 0
    while (j < input.length && !(input[j] >= 0 && input[j] < 0x80)) { if (input[j] < 0) holes++; j++ }
    let odd = (j - i) % 2 === 1 && holes > 0
    for (let k = i; k < j; k++) {
      if (input[k] < 0 && odd) { bytes.push(-1, -1); odd = false } else bytes.push(input[k])
    }
    i = j
  }
  return bytes
}

/**
 * EUC-JP read as Shift_JIS: the Shift_JIS decoder destroyed a byte (iconv-lite)
 * or a byte pair (WHATWG) wherever EUC-JP bytes made no Shift_JIS character.
 * EUC-JP bytes come in pairs: a run of high bytes of odd length had a
 * two-byte hole. Each hole takes the EUC-JP byte(s) the decoder would have
 * destroyed that read best with their neighbours.
 */
function fillEucHoles (src: Bytes, lostBy: LostBy): { buf: Buffer, guessed: number, at: number[] } {
  const bytes = expandOddHoles(src.bytes)
  const at: number[] = []
  let scored = 0
  // window decodes per call, at most: a two-byte hole alone can take a few hundred
  let work = 20_000
  const high = Array.from({ length: 0xfe - 0xa1 + 1 }, (_, k) => 0xa1 + k)
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== -1) continue
    const pair = bytes[i + 1] === -1
    const next = pair ? bytes[i + 2] : bytes[i + 1]
    if (++scored > HOLE_SCORING_BUDGET || work <= 0) { bytes[i] = 0xff; if (pair) bytes[i + 1] = 0xff; if (pair) i++; continue }
    const firsts = high.filter((b) => lostBy.lost(b, pair ? 0xa1 : next ?? -1) || (pair && lostBy.lost(b, 0xfe)))
    let best: number[] = [0xff]
    let bestScore = -Infinity
    // the window starts on a character boundary: EUC-JP pairs count from the start of the run of high bytes
    let runStart = i
    while (runStart > 0 && !(bytes[runStart - 1] >= 0 && bytes[runStart - 1] < 0x80)) runStart--
    let from = Math.max(runStart, i - 4)
    if ((from - runStart) % 2) from--
    const to = Math.min(bytes.length, i + (pair ? 6 : 5))
    for (const b1 of firsts) {
      for (const b2 of pair ? high : [-2]) {
        if (pair && !lostBy.lost(b1, b2)) continue
        work--
        const win = bytes.slice(from, to).map((b, k) => (from + k === i ? b1 : pair && from + k === i + 1 ? b2 : b < 0 ? 0xa1 : b))
        const sc = quickScore(decodeWindow(win, 'euc-jp'))
        if (sc > bestScore) { bestScore = sc; best = pair ? [b1, b2] : [b1] }
      }
    }
    bytes[i] = best[0]
    if (pair) bytes[i + 1] = best[1] ?? 0xff
    if (best[0] !== 0xff) { at.push(i); if (pair) at.push(i + 1) }
    if (pair) i++
  }
  return { buf: Buffer.from(bytes), guessed: at.length, at }
}

/**
 * EUC-JP read as Shift_JIS, as a whole: each damaged EUC-JP character (a pair
 * counted from the start of its run of high bytes) has the readings whose
 * bytes the Shift_JIS decoder would have destroyed, and the model picks the
 * sequence that reads best (choose()), marking the guesses. Null when the
 * bytes do not pair up (then the window-by-window guessing applies).
 */
function decodeEucChoices (src: Bytes, lostBy: LostBy, pairs: boolean): { text: string, guessed: number, marks: Array<[number, number]> } | null {
  const input = src.bytes
  // a hole stands for two bytes where the run of high bytes around it has odd length (iconv-lite
  // loses one byte per error), or everywhere (`pairs`: a WHATWG decoder loses two)
  const bytes = pairs ? input.flatMap((b) => b < 0 ? [-1, -1] : [b]) : expandOddHoles(input)
  const HIGH = Array.from({ length: 0xfe - 0xa1 + 1 }, (_, k) => 0xa1 + k)
  const pieces: Piece[] = []
  let known: number[] = []
  const flush = (): void => { if (known.length) { pieces.push(decodeWith(Buffer.from(known), 'euc-jp')); known = [] } }
  let work = 200_000
  for (let i = 0; i < bytes.length;) {
    if (bytes[i] >= 0 && bytes[i] < 0x80) { known.push(bytes[i]); i++; continue }
    let j = i
    while (j < bytes.length && !(bytes[j] >= 0 && bytes[j] < 0x80)) j++
    if ((j - i) % 2) return null
    for (let p = i; p < j; p += 2) {
      const a = bytes[p]
      const b = bytes[p + 1]
      if (a >= 0 && b >= 0) { known.push(a, b); continue }
      const next = bytes[p + 2] ?? -1
      const options: Option[] = []
      const firsts = a >= 0 ? [a] : HIGH
      const seconds = b >= 0 ? [b] : HIGH
      for (const x of firsts) {
        for (const y of seconds) {
          if (--work < 0) return null
          // what the decoder destroyed: a lone first byte (iconv-lite) or the pair (WHATWG)
          if (a < 0 && b >= 0 && !lostBy.lost(x, y)) continue
          if (a < 0 && b < 0 && !lostBy.lost(x, y)) continue
          if (a >= 0 && b < 0 && !lostBy.lost(y, next)) continue
          const ch = decodeWindow([x, y], 'euc-jp')
          if (ch.length !== 1 || ch === '\ufffd') continue
          options.push({ ch, w: 0, u: lnUni(ch) })
        }
      }
      options.sort((m, n) => (n.u ?? 0) - (m.u ?? 0))
      flush()
      pieces.push({ options: options.slice(0, 2 * OPTIONS_PER_HOLE), unknown: (a < 0 ? 1 : 0) + (b < 0 ? 1 : 0) })
    }
    i = j
  }
  flush()
  return choose(pieces)
}

function fillHoles (src: Bytes, dec: Exclude<Decoder, 'utf-8' | 'iso-2022-jp'>): { buf: Buffer, guessed: number, at: number[] } {
  if (!src.holeChoices && dec === 'euc-jp' && src.label === 'shift_jis→bytes') return fillEucHoles(src, LOST_BY['shift_jis→bytes'])
  const bytes = src.bytes.slice()
  const choices = src.holeChoices
  const at: number[] = []
  let guessed = 0
  let scored = 0
  // Character starts, so the scoring window never begins inside a character. For Shift_JIS every
  // possible fill (81 8D 8F 90 9D) is a lead byte, so the structure does not depend on the choice.
  const starts: number[] = []
  if (dec === 'shift_jis') {
    for (let p = 0; p < bytes.length;) {
      starts.push(p)
      const b = bytes[p] < 0 ? 0x81 : bytes[p]
      p += (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc) ? 2 : 1
    }
  }
  let sp = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== -1) continue
    if (!choices) { bytes[i] = 0xff; continue }
    // context scoring is bounded; past the budget the likeliest choice is taken as is
    if (++scored > HOLE_SCORING_BUDGET) { bytes[i] = choices[0]; guessed++; at.push(i); continue }
    let best = choices[0]
    let bestScore = -Infinity
    let from = Math.max(0, i - 3)
    let to = Math.min(bytes.length, i + 4)
    if (starts.length) {
      while (sp + 1 < starts.length && starts[sp + 1] <= i) sp++
      from = starts[Math.max(0, sp - 3)]
      to = starts[sp + 4] ?? bytes.length
    }
    for (const c of choices) {
      const win = bytes.slice(from, to).map((b, k) => (from + k === i ? c : b < 0 ? choices[0] : b))
      // the first choice is the likeliest (0x81 leads Shift_JIS punctuation, ー and 「」): a head start
      const sc = lnText(decodeWindow(win, dec))
      if (sc > bestScore) { bestScore = sc; best = c }
    }
    bytes[i] = best
    guessed++
    at.push(i)
  }
  return { buf: Buffer.from(bytes), guessed, at }
}

/**
 * Shift_JIS whose holes are known to be one of a few byte values (windows-1252's
 * five undefined bytes 81 8D 8F 90 9D, all of them Shift_JIS lead bytes and
 * valid trail bytes): the character structure does not depend on the fill,
 * so each damaged character has a handful of readings, and the model picks
 * the sequence that reads best as a whole (choose()). Guessed characters are
 * marked.
 */
function decodeSjisChoices (bytes: number[], choices: number[]): { text: string, guessed: number, marks: Array<[number, number]> } {
  const isLead = (b: number): boolean => b < 0 || (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc)
  const pieces: Piece[] = []
  let from = 0
  let p = 0
  while (p < bytes.length) {
    const len = isLead(bytes[p]) && p + 1 < bytes.length ? 2 : 1
    const holes: number[] = []
    for (let k = 0; k < len; k++) if (bytes[p + k] < 0) holes.push(p + k)
    if (!holes.length) { p += len; continue }
    if (p > from) pieces.push(decodeWith(Buffer.from(bytes.slice(from, p)), 'shift_jis'))
    const options: Option[] = []
    const seen = new Set<string>()
    const total = Math.pow(choices.length, holes.length)
    for (let f = 0; f < total; f++) {
      const win = bytes.slice(p, p + len)
      let x = f
      for (const h of holes) { win[h - p] = choices[x % choices.length]; x = Math.floor(x / choices.length) }
      const ch = len === 1 ? '\ufffd' : decodeWindow(win, 'shift_jis')
      if (ch.includes('\ufffd') || [...ch].length !== 1 || seen.has(ch)) continue
      seen.add(ch)
      options.push({ ch, w: 0 })
    }
    pieces.push({ options, unknown: holes.length })
    p += len
    from = p
  }
  if (from < bytes.length) pieces.push(decodeWith(Buffer.from(bytes.slice(from)), 'shift_jis'))
  return choose(pieces)
}

/**
 * Decodes Shift_JIS or EUC-JP and marks the characters that hold a guessed
 * byte: the text between them is decoded in one piece, each marked
 * character alone (character boundaries by the charset's lead bytes).
 */
function decodeMarked (buf: Buffer, dec: Exclude<Decoder, 'utf-8' | 'iso-2022-jp'>, at: number[]): { text: string, marks: Array<[number, number]> } {
  if (!at.length) return { text: decodeWith(buf, dec), marks: [] }
  const len = dec === 'shift_jis'
    ? (b: number): number => ((b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc) ? 2 : 1)
    : (b: number): number => (b === 0x8f ? 3 : b >= 0x8e && b !== 0xa0 && b !== 0xff ? 2 : 1)
  const guessed = new Set(at)
  let text = ''
  const marks: Array<[number, number]> = []
  let from = 0
  let p = 0
  while (p < buf.length) {
    const l = Math.min(len(buf[p]), buf.length - p)
    let hit = false
    for (let k = 0; k < l; k++) if (guessed.has(p + k)) hit = true
    if (hit) {
      text += decodeWith(buf.subarray(from, p), dec)
      const ch = decodeWith(buf.subarray(p, p + l), dec)
      marks.push([text.length, text.length + ch.length])
      text += ch
      from = p + l
    }
    p += l
  }
  text += decodeWith(buf.subarray(from), dec)
  return { text, marks }
}

/**
 * Guessing destroyed bytes costs far more than decoding: it is done only
 * when the reading is promising, i.e. what survived (the text without its
 * U+FFFD) already reads as Japanese. A wrong reading keeps its holes as lost.
 */
/** Bytes with holes (-1) as UTF-8, a hole fitting anywhere: true when at most 1 in 20 high bytes is out of place. */
function utf8Fits (bytes: number[]): boolean {
  const cont = (b: number): boolean => b === -1 || (b >= 0x80 && b <= 0xbf)
  let high = 0
  let bad = 0
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]
    if (b >= 0 && b < 0x80) { i++; continue }
    const need = b === -1 ? -1 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0
    if (need === 0) { high++; bad++; i++; continue }
    if (need === -1) {
      // a hole: a lead byte (whatever follows), or a lone continuation
      let k = 1
      while (k < 4 && i + k < bytes.length && bytes[i + k] !== -1 && bytes[i + k] >= 0x80 && bytes[i + k] <= 0xbf) k++
      high += k
      i += k
      continue
    }
    // a hole inside the sequence may hold the rest of it and the next lead (a decoder that took two bytes)
    let k = 1
    while (k <= need && i + k < bytes.length && bytes[i + k] !== -1 && cont(bytes[i + k])) k++
    high += k
    if (k <= need && i + k < bytes.length && bytes[i + k] !== -1) bad += k
    i += k
  }
  return high > 0 && bad * 20 <= high
}

function worthGuessing (src: Bytes, dec: Exclude<Decoder, 'iso-2022-jp'>): boolean {
  // windows-1252's five undefined bytes are cheap to try, and UTF-8 Japanese is full of them
  if (src.holeChoices) return true
  // UTF-8 tells by its structure alone: when the holes may stand for the bytes a sequence misses,
  // and almost every surviving high byte then sits in a well-formed sequence, the reading is real
  // (text of half-width kana or full-width digits loses most of its characters to a Shift_JIS decoder)
  if (dec === 'utf-8') return utf8Fits(src.bytes)
  const filled = Buffer.from(src.bytes.map((b) => (b < 0 ? 0xff : b)))
  const text = decodeWith(filled, dec)
  const kept = text.replace(/\ufffd/g, '')
  if (kept.length < text.length / 2) return false
  return plausibility(kept).score >= 0.45
}

function decodeBytes (src: Bytes, dec: Decoder): { text: string, guessed: number, marks: Array<[number, number]> } | null {
  if (dec === 'utf-8') {
    if (src.holes && !worthGuessing(src, dec)) return { text: Buffer.from(src.bytes.map((b) => (b < 0 ? 0xff : b))).toString('utf8'), guessed: 0, marks: [] }
    if (src.holes) return decodeUtf8Holes(src.bytes, src.holeChoices, LOST_BY[src.label] ?? null)
    return { text: Buffer.from(src.bytes).toString('utf8'), guessed: 0, marks: [] }
  }
  if (dec === 'iso-2022-jp') {
    if (!src.bytes.includes(0x1b)) return null
    const r = decodeIso2022Jp(Buffer.from(src.bytes.map((b) => (b < 0 ? 0x3f : b))).toString('latin1'))
    return r ? { text: r.text, guessed: 0, marks: [] } : null
  }
  if (!src.holes) return { text: decodeWith(Buffer.from(src.bytes), dec), guessed: 0, marks: [] }
  if (!worthGuessing(src, dec)) return { text: decodeWith(Buffer.from(src.bytes.map((b) => (b < 0 ? 0xff : b))), dec), guessed: 0, marks: [] }
  if (dec === 'shift_jis' && src.holeChoices) return decodeSjisChoices(src.bytes, src.holeChoices)
  if (dec === 'euc-jp' && !src.holeChoices && src.label === 'shift_jis→bytes') {
    // which decoder did it is not known: the reading that reads better says
    let best: ReturnType<typeof decodeEucChoices> = null
    let bestScore = -Infinity
    for (const pairs of [false, true]) {
      const r = decodeEucChoices(src, LOST_BY['shift_jis→bytes'], pairs)
      const sc = r ? plausibility(r.text).score : -Infinity
      if (r && sc > bestScore) { best = r; bestScore = sc }
    }
    if (best) return best
  }
  const { buf, guessed, at } = fillHoles(src, dec)
  const m = decodeMarked(buf, dec, at)
  return { text: m.text, guessed, marks: m.marks }
}

// ---------------------------------------------------------------------------
// Search

const ENCODED_WORD = /=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=/

const ISO2022_WORDS = /=\?ISO-2022-JP(?:-[123])?(?:\*[^?]*)?\?([BbQq])\?([^?\s]*)\?=(?:\s+(?==\?ISO-2022-JP))?/gi

/**
 * ISO-2022-JP encoded-words decoded by mxprobe's own decoder (half-width
 * katakana ESC ( I and JIS X 0212 ESC $ ( D included, which libmime's
 * decoder drops); white space between two such words goes, as RFC 2047 says.
 */
function decodeIso2022JpWords (t: string): string {
  return t.replace(ISO2022_WORDS, (word, enc: string, data: string) => {
    const bytes = enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1')
    const r = decodeIso2022Jp(bytes.toString('latin1'))
    return r ? r.text : bytes.toString('latin1')
  })
}

/** Text → text steps, by the label that appears in a candidate's path. */
const TEXT_STEPS: Record<string, (t: string) => string | null> = {
  'RFC 2047 encoded-words decoded': (t) => {
    if (!ENCODED_WORD.test(t)) return null
    try { return libmime.decodeWords(decodeIso2022JpWords(t)) } catch { return null } // a malformed word: other paths still apply
  },
  'ISO-2022-JP escape sequences decoded': (t) => decodeIso2022Jp(t)?.text ?? null,
  'ISO-2022-JP with lost ESC bytes decoded': (t) => decodeIso2022JpEscLost(t)
}

/** Text → the bytes it must have been, by label. */
const READINGS: Record<string, (t: string) => Bytes | null> = {
  'latin1→bytes': asLatin1,
  'windows-1252→bytes': asCp1252,
  'shift_jis→bytes': (t) => asMultiByte(t, 'shift_jis'),
  'euc-jp→bytes': (t) => asMultiByte(t, 'euc-jp'),
  'utf-8→bytes': (t) => asMultiByte(t, 'utf-8'),
  'quoted-printable→bytes': asQuotedPrintable,
  'base64→bytes': asBase64
}

const DECODERS: Decoder[] = ['utf-8', 'shift_jis', 'euc-jp', 'iso-2022-jp']

/** `guessing`: readings with holes (U+FFFD) may guess the lost bytes; only on the input itself, never on our own output. */
function textMoves (n: Node, guessing: boolean): Node[] {
  const out: Node[] = []
  const t = n.text
  for (const [label, step] of Object.entries(TEXT_STEPS)) {
    const d = step(t)
    if (d !== null && d !== t) out.push({ text: d, path: [...n.path, label], guessed: n.guessed })
  }
  for (const read of Object.values(READINGS)) {
    const r = read(t)
    if (!r || (r.holes && !guessing)) continue
    for (const dec of DECODERS) {
      if (r.label === `${dec}→bytes`) continue
      const d = decodeBytes(r, dec)
      if (!d || d.text === t) continue
      out.push({ text: d.text, path: [...n.path, r.label, `bytes as ${dec}`], guessed: n.guessed + d.guessed, marks: d.marks })
    }
  }
  return out
}

/**
 * Applies a path found on a sample to the whole text; null when a step does
 * not apply there. `cache` holds the results of path prefixes, which the
 * replayed paths share.
 */
function replay (input: string, path: string[], cache: Map<string, Node | null>): Node | null {
  let text = input
  let guessed = 0
  let marks: Array<[number, number]> = []
  let start = 0
  for (let k = path.length - 1; k > 0; k--) {
    const hit = cache.get(path.slice(0, k).join('\u0000'))
    if (hit === null) return null
    if (hit) { text = hit.text; guessed = hit.guessed; marks = hit.marks ?? []; start = k; break }
  }
  for (let i = start; i < path.length; i++) {
    const step = TEXT_STEPS[path[i]] as ((t: string) => string | null) | undefined
    let next: Node | null = null
    let end = i + 1
    if (path[i] === JIS_MAPPING_STEP) {
      const d = toJisMapping(text)
      next = d === null ? null : { text: d, path: path.slice(0, end), guessed, marks }
    } else if (step) {
      const d = step(text)
      next = d === null ? null : { text: d, path: path.slice(0, end), guessed }
    } else {
      const read = READINGS[path[i]] as ((t: string) => Bytes | null) | undefined
      const dec = path[i + 1]?.replace(/^bytes as /, '') as Decoder | undefined
      end = i + 2
      const r = read && dec && DECODERS.includes(dec) ? read(text) : null
      const d = r ? decodeBytes(r, dec!) : null
      next = d ? { text: d.text, path: path.slice(0, end), guessed: guessed + d.guessed, marks: d.marks } : null
    }
    cache.set(path.slice(0, end).join('\u0000'), next)
    if (!next) return null
    text = next.text
    guessed = next.guessed
    marks = next.marks ?? []
    i = end - 1
  }
  return { text, path, guessed, marks }
}

const CHARSET_NAME: Record<string, string> = { shift_jis: 'Shift_JIS', 'euc-jp': 'EUC-JP', 'utf-8': 'UTF-8', 'iso-2022-jp': 'JIS (ISO-2022-JP)' }

/** The last step of a path that turns Windows' ～ － ― into the 〜 − — Mac and Unix software decode. */
export const JIS_MAPPING_STEP = 'Mac/Unix mapping (〜 −)'

/**
 * A candidate's conversion path the way a person would say what happened to
 * the mail: "Shift_JIS のメールを欧文 (Latin-1) として表示したもの".
 */
export function describePath (path: string[]): { ja: string, en: string } {
  if (!path.length) return { ja: '貼り付けたまま (変換なし)', en: 'as pasted (no change)' }
  const ja: string[] = []
  const en: string[] = []
  for (let i = 0; i < path.length; i++) {
    const step = path[i]
    const next = path[i + 1]?.startsWith('bytes as ') ? CHARSET_NAME[path[i + 1].slice(9)] ?? path[i + 1].slice(9) : null
    if (step === 'RFC 2047 encoded-words decoded') {
      ja.push('デコードされずに残った =?…?= (件名や差出人の符号化)'); en.push('undecoded =?…?= encoded-words (subject or sender)')
    } else if (step === 'ISO-2022-JP escape sequences decoded') {
      ja.push('JIS (ISO-2022-JP) の文字コードのまま表示されたもの'); en.push('a JIS (ISO-2022-JP) mail shown raw')
    } else if (step === 'ISO-2022-JP with lost ESC bytes decoded') {
      ja.push('ESC 文字が抜け落ちた JIS (ISO-2022-JP)'); en.push('a JIS (ISO-2022-JP) mail that lost its ESC characters')
    } else if (step === JIS_MAPPING_STEP) {
      ja.push('〜 − を Mac/Unix の文字表で読んだもの'); en.push('with 〜 and − as Mac and Unix software read them')
    } else if (next) {
      const shown: Record<string, [string, string]> = {
        'latin1→bytes': ['欧文 (Latin-1)', 'Western (Latin-1)'],
        'windows-1252→bytes': ['欧文 (Windows-1252、一部の文字が消えたもの)', 'Western (Windows-1252, some bytes dropped)'],
        'shift_jis→bytes': ['Shift_JIS', 'Shift_JIS'],
        'euc-jp→bytes': ['EUC-JP', 'EUC-JP'],
        'utf-8→bytes': ['UTF-8', 'UTF-8']
      }
      if (shown[step]) {
        const as = /^[A-Za-z]/.test(shown[step][0]) ? ` ${shown[step][0]}` : shown[step][0]
        ja.push(`${next} のメールを${as} として表示したもの`)
        en.push(`a ${next} mail shown as ${shown[step][1]}`)
      } else if (step === 'quoted-printable→bytes') {
        ja.push(`quoted-printable (=E3=81… の形) のまま残った ${next} の本文`); en.push(`${next} text left in quoted-printable (=E3=81…)`)
      } else if (step === 'base64→bytes') {
        ja.push(`base64 のまま残った ${next} の本文`); en.push(`${next} text left in base64`)
      } else {
        ja.push(`${step} → ${next}`); en.push(`${step} → ${next}`)
      }
      i++
    } else {
      ja.push(step); en.push(step)
    }
  }
  return { ja: ja.join('、それをさらに '), en: en.join(', then ') }
}

function rank (n: Node): Candidate {
  const p = plausibility(n.text)
  const len = Math.max(1, [...n.text].length)
  // Each conversion costs a little (the simplest explanation wins a tie); guessed bytes cost more.
  const score = p.score - 0.03 * n.path.filter((x) => x !== JIS_MAPPING_STEP).length - n.guessed / len
  const marks = (n.marks ?? []).map(([start, end]) => ({ start, end }))
  return {
    text: n.text,
    path: n.path,
    score: Math.round(score * 1000) / 1000,
    japaneseShare: Math.round(p.japaneseShare * 1000) / 1000,
    lost: p.lost,
    guessed: n.guessed,
    label: describePath(n.path),
    implausible: score < 0.25 || p.lost > len / 10,
    marks,
    mapping: n.path.includes(JIS_MAPPING_STEP) ? 'mac-unix' : /bytes as (?:shift_jis|euc-jp|iso-2022-jp)$|ISO-2022-JP/.test(n.path.join(' ')) ? 'windows' : null
  }
}

/** Characters only Windows (cp932) has: a text with them came from Windows, so ～ and － there are Windows' own. */
const WINDOWS_ONLY = /[\u2460-\u2473\u2160-\u2169\u2170-\u2179\u3231\u3232\u3239\u2116\u2121\u3000-\u3000]/

/**
 * For a Shift_JIS or EUC-JP reading with ～ － ― in it, the same bytes as a
 * Mac or Unix decoder reads them (〜 − —), ranked by context: right after the
 * Windows reading for Shift_JIS, right before it for EUC-JP and JIS (Unix
 * mail), always after it when the text has Windows-only characters (①, ㈱).
 */
function jisVariants (cands: Candidate[]): Candidate[] {
  const out: Candidate[] = []
  for (const c of cands.slice(0, 4)) {
    if (c.mapping !== 'windows' || c.implausible) continue
    const v = toJisMapping(c.text)
    if (!v) continue
    const unix = /bytes as (?:euc-jp|iso-2022-jp)$|ISO-2022-JP/.test(c.path.join(' ')) && !WINDOWS_ONLY.test(v.replace(/\u3000/g, ''))
    const r = rank({ text: v, path: [...c.path, JIS_MAPPING_STEP], guessed: c.guessed, marks: c.marks.map((m) => [m.start, m.end]) })
    r.score = Math.round((c.score + (unix ? 0.001 : -0.001)) * 1000) / 1000
    out.push(r)
  }
  return out
}

export interface RepairOptions {
  /** candidates returned (best first) */
  limit?: number
}

/**
 * Long inputs are searched on a sample (the first SAMPLE_CHARS characters):
 * the paths that explain the sample best are then replayed on the whole text
 * and ranked again there. Garbling is uniform along a text, and this keeps a
 * 256 KiB paste to a few conversions of the whole instead of a hundred.
 */
export const SAMPLE_CHARS = 1024

function search (input: string, limit: number): Candidate[] {
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
  // one conversion that already reads as clean Japanese needs no second: most garblings are one step
  const settled = first[0] && first[0].score >= 0.75 && !first[0].lost && !first[0].guessed
  for (const c of settled ? [] : first.slice(0, 8)) {
    // Guessing lost bytes is fair on text some other software decoded (the input, an
    // encoded-word libmime decoded with the charset it claimed), never on our own guesses.
    const external = c.path.length === 1 && c.path[0] === 'RFC 2047 encoded-words decoded'
    for (const m of textMoves({ text: c.text, path: c.path, guessed: c.guessed }, external)) add(m)
  }
  const sorted = [...seen.values()].sort((a, b) => b.score - a.score || a.path.length - b.path.length)
  for (const v of jisVariants(sorted)) if (!seen.has(v.text)) seen.set(v.text, v)
  return [...seen.values()].sort((a, b) => b.score - a.score || a.path.length - b.path.length).slice(0, limit)
}

export function repairMojibake (input: string, opts: RepairOptions = {}): MojibakeResult {
  assertToolText(input, 'text')
  const limit = opts.limit ?? 8
  let candidates: Candidate[]
  if (input.length <= SAMPLE_CHARS * 2) {
    candidates = search(input, limit)
  } else {
    let cut = SAMPLE_CHARS
    const c = input.charCodeAt(cut - 1)
    if (c >= 0xd800 && c <= 0xdbff) cut-- // never split a surrogate pair
    const paths = search(input.slice(0, cut), limit + 2).map((x) => x.path)
    const seen = new Map<string, Candidate>()
    const cache = new Map<string, Node | null>()
    for (const path of paths) {
      const n = path.length ? replay(input, path, cache) : { text: input, path, guessed: 0 }
      if (!n || seen.has(n.text)) continue
      seen.set(n.text, rank(n))
    }
    candidates = [...seen.values()].sort((a, b) => b.score - a.score || a.path.length - b.path.length).slice(0, limit)
  }
  // The input itself is always shown, even when more than `limit` conversions read better.
  if (!candidates.some((c) => c.path.length === 0)) candidates.push(rank({ text: input, path: [], guessed: 0 }))
  return { candidates, unchanged: candidates[0].path.length === 0 }
}
