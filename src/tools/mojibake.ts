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
const COMMON_KANJI = new Set([...('日一国会人年大十二本中長出三同時政事自行社見月分議後前民生連五発間対上部東者党地合市業内相方四定今回新場金員九入選立開手米力学問高代明実円関決子動京全目表戦経通外最言氏現理調体化田当八六約主題下首意法不来作性的要用制治度務強気小七成期公持野協取都和統以機平総加山思家話世受区領多県続進正安設保改数記院女初北午指権心界支第産結百派点教報済書府活原先共得解名交資予川向際査勝面委告軍文反元重近千考判認画海参売利組知案道信策集在件団別物側任引使求所次水半品昨論計死官増係感特情投示変打男基私各始島直両朝革価式確村提運終挙果西勢減台広容必応演電歳住争談能無再位置企真流格有疑口過局少放税検町常校料沢裁状工建語球営空職証土与急止送援供可役構木割聞身費付施切由説転食比難防補車優夫研収断井何南石足違消境神番規術護展態導備宅害配副算視条幹独警宮究育席輸訪楽起万着乗店述残想線率病農州武声質念待試族象銀域助労例衛然早張映限親額監環験追審商葉義伝働形景落担好退準賞訴辺造英被株頭技低毎医復仕去姿味負閣渡失移差衆個門写評課末守若脳極種美影命含福蔵量望松非撃佐核観察整段横融型白深字答夜製票況音申様財港識注呼達良響帰針専推谷古候史天階程満敗管値歌買突兵接請器士光討路悪科攻督授催細効図週積丸他及録処省旧室憲太橋歩離岸客風紙激否周師摘材登系批郎母易健黒火戸速存花春飛殺央券赤号単盟座青破編捜竹除完降超責並療従右修捕隊危採織森競拡故館振給屋介読弁根色友苦就迎走販園具左異歴辞将秋因献厳馬愛幅休維富浜父遺彼般未塁貿講邦舞林装諸夏素亡劇河遣航抗冷模雄適婦鉄寄益込顔緊類児余禁印逆王返標換久短油妻暴輪占宣背昭廃植熱宿薬伊江清習険頼僚覚吉盛船倍均億途圧芸許皇臨踏駅署抜壊債便伸留罪停興爆陸玉源儀波創障継筋狙帯延羽努固闘精則葬乱避普散司康測豊洋静善逮婚厚喜齢囲卒迫略承浮惑崩順紀聴脱旅絶級幸岩練押軽倒簡鈴添付確認願送信設定更重要件知')].map((c) => c.codePointAt(0)!))

function charWeight (cp: number, ch: string): { w: number, jp: boolean } {
  if (cp >= 0x21 && cp <= 0x7e) return { w: 0.5, jp: true }
  if (FREQUENT_KANA.has(cp)) return { w: cp === 0x306e ? 1.05 : 1.02, jp: true }
  if (cp === 0x30fc) return { w: 1.02, jp: true } // ー
  if ((cp >= 0x3041 && cp <= 0x3096) || cp === 0x309d || cp === 0x309e) return { w: 1, jp: true }
  if (cp >= 0x30a1 && cp <= 0x30fa) return { w: 1, jp: true }
  if (cp === 0x30fb) return { w: 0.3, jp: true } // ・ is also what Windows shows for an undecodable byte
  if (cp === 0x3002) return { w: 0.92, jp: true } // 。 before 、 when a lost byte must be guessed at a sentence end
  if ((cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3005 && cp <= 0x3007) || (cp >= 0x3008 && cp <= 0x3011) || cp === 0x301c) return { w: 0.9, jp: true }
  if (cp >= 0x4e00 && cp <= 0x9fff) {
    if (COMMON_KANJI.has(cp)) return { w: 1.01, jp: true }
    const lv = kanjiLevel(ch)
    return lv === 1 ? { w: 1, jp: true } : lv === 2 ? { w: 0.1, jp: false } : { w: -0.3, jp: false }
  }
  if (cp === 0xff01 || cp === 0xff08 || cp === 0xff09 || cp === 0xff0c || cp === 0xff0e || cp === 0xff1a || cp === 0xff1f) return { w: 0.9, jp: true }
  if (cp >= 0xff01 && cp <= 0xff5e) return { w: 0.6, jp: true }
  if (cp >= 0xff61 && cp <= 0xff9f) return { w: -0.6, jp: false }
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

/** Mean character weight of a short window, for choosing between guesses. */
function quickScore (text: string): number {
  let sum = 0
  let n = 0
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    if (cp === 0x20 || cp === 0x0a || cp === 0x0d || cp === 0x09) continue
    sum += charWeight(cp, ch).w
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
  const codec = charset === 'shift_jis' ? 'cp932' : charset
  const out: number[] = []
  let holes = 0
  const parts = text.split('\ufffd')
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) { out.push(-1); holes++ }
    if (!parts[p]) continue
    const enc = iconv.encode(parts[p], codec)
    if (charset !== 'utf-8' && iconv.decode(enc, codec) !== parts[p]) return null
    for (let k = 0; k < enc.length; k++) out.push(enc[k])
  }
  if (charset === 'utf-8' && !holes) return null
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

/** Best fill per hole pattern (a pure function of the pattern), shared across calls, bounded. */
const FILL_MEMO = new Map<string, string>()

/** Holes per decoding whose fill is chosen by scoring its neighbourhood. */
const HOLE_SCORING_BUDGET = 1000

/** Character fills tried per decoding, at most (a few hundred milliseconds of work). */
const GUESS_BUDGET = 500_000

/**
 * UTF-8 with holes. A hole is a byte (or, after a decoder that swallows two
 * bytes per error, two bytes) the wrong decoding destroyed. The structure of
 * UTF-8 says where it sat — a lead byte, a continuation byte — so every value
 * it can have had is tried and the character that reads best is kept.
 * `choices` narrows what a hole can be (windows-1252's five undefined bytes).
 */
function decodeUtf8Holes (bytes: number[], choices: number[] | null): { text: string, guessed: number } {
  let out = ''
  let guessed = 0
  let i = 0
  const cont = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf
  // guessing work is bounded: a huge garbled paste gets U+FFFD instead of minutes of search
  let budget = GUESS_BUDGET
  const contChoices = choices ? choices.filter((c) => c >= 0x80 && c <= 0xbf) : Array.from({ length: 64 }, (_, k) => 0x80 + k)
  while (i < bytes.length) {
    const b = bytes[i]
    if (b >= 0 && b < 0x80) { out += String.fromCharCode(b); i++; continue }
    // the sequence: [lead, ...continuations], null where unknown
    let seq: Array<number | null>
    let leadChoices: number[] | null = null
    let j: number
    if (b === -1) {
      // a following hole is a continuation only when no continuation byte follows it
      // (otherwise it is the lost lead of the next sequence)
      let k = 0
      while (k < 3 && (cont(bytes[i + 1 + k]) || (bytes[i + 1 + k] === -1 && !cont(bytes[i + 2 + k])))) k++
      if (k === 0) { out += '\ufffd'; i++; continue }
      const [lo, hi] = k === 1 ? [0xc2, 0xdf] : k === 2 ? [0xe0, 0xef] : [0xf0, 0xf4]
      leadChoices = Array.from({ length: hi - lo + 1 }, (_, x) => lo + x)
      if (choices) leadChoices = leadChoices.filter((c) => choices.includes(c))
      seq = [null, ...bytes.slice(i + 1, i + 1 + k).map((x) => (x === -1 ? null : x))]
      j = i + 1 + k
    } else {
      const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1
      if (need < 0) { out += '\ufffd'; i++; continue }
      seq = [b]
      j = i + 1
      while (seq.length - 1 < need && j < bytes.length && (cont(bytes[j]) || (bytes[j] === -1 && !cont(bytes[j + 1])) || (bytes[j] === -1 && seq.length - 1 + 1 < need))) {
        if (bytes[j] === -1) {
          // one hole may stand for the rest of the sequence (a decoder that swallowed two bytes)
          let after = 0
          while (after < need && (cont(bytes[j + 1 + after]) || (bytes[j + 1 + after] === -1 && !cont(bytes[j + 2 + after])))) after++
          const missing = choices ? 1 : Math.max(1, need - (seq.length - 1) - after)
          for (let k = 0; k < missing && seq.length - 1 < need; k++) seq.push(null)
        } else {
          seq.push(bytes[j])
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
    // the same hole pattern recurs all along a garbled text: decide it once
    const memoKey = `${choices ? 'c' : 'a'}${seq.map((x) => (x === null ? '_' : x)).join(',')}`
    const known = FILL_MEMO.get(memoKey)
    if (known !== undefined) {
      if (known !== '\ufffd') guessed += unknown
      out += known
      i = j
      continue
    }
    // enumerate the fills (at most a few thousand) and keep the best-weighted valid character
    const options = seq.map((x, k) => (x !== null ? [x] : k === 0 ? leadChoices ?? [] : contChoices))
    const total = options.reduce((n, o) => n * o.length, 1)
    let best = '\ufffd'
    let bestW = -Infinity
    if (total > 0 && total <= 8192 && budget >= total) {
      budget -= total
      const len = seq.length
      const minCp = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000
      for (let f = 0; f < total; f++) {
        let x = f
        const vals = options.map((o) => { const v = o[x % o.length]; x = Math.floor(x / o.length); return v })
        const lead = vals[0]
        const expectLen = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0
        if (expectLen !== len) continue
        let cp = len === 2 ? lead & 0x1f : len === 3 ? lead & 0x0f : lead & 0x07
        for (let k = 1; k < len; k++) cp = (cp << 6) | (vals[k] & 0x3f)
        // overlong forms, surrogates and beyond-Unicode values are not characters
        if (cp < minCp || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) continue
        const ch = String.fromCodePoint(cp)
        const w = charWeight(cp, ch).w
        if (w > bestW) { bestW = w; best = ch }
      }
    }
    if (best !== '\ufffd') guessed += unknown
    if (total <= 8192) {
      if (FILL_MEMO.size >= 50_000) FILL_MEMO.clear()
      FILL_MEMO.set(memoKey, best)
    }
    out += best
    i = j
  }
  return { text: out, guessed }
}

type Decoder = 'utf-8' | 'shift_jis' | 'euc-jp' | 'iso-2022-jp'

function decodeWith (buf: Buffer, dec: Exclude<Decoder, 'utf-8' | 'iso-2022-jp'>): string {
  return iconv.decode(buf, dec === 'shift_jis' ? 'cp932' : 'euc-jp')
}

/**
 * Fills the holes of a multi-byte reading, left to right: each hole takes the
 * choice whose few surrounding characters read best. Without known choices a
 * hole becomes 0xFF, which no Japanese codec decodes (U+FFFD: lost).
 */
function fillHoles (src: Bytes, dec: Exclude<Decoder, 'utf-8' | 'iso-2022-jp'>): { buf: Buffer, guessed: number } {
  const bytes = src.bytes.slice()
  const choices = src.holeChoices
  let guessed = 0
  let scored = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== -1) continue
    if (!choices) { bytes[i] = 0xff; continue }
    // context scoring is bounded; past the budget the likeliest choice is taken as is
    if (++scored > HOLE_SCORING_BUDGET) { bytes[i] = choices[0]; guessed++; continue }
    let best = choices[0]
    let bestScore = -Infinity
    const from = Math.max(0, i - 3)
    const to = Math.min(bytes.length, i + 4)
    for (const c of choices) {
      const win = bytes.slice(from, to).map((b, k) => (from + k === i ? c : b < 0 ? choices[0] : b))
      // the first choice is the likeliest (0x81 leads Shift_JIS punctuation, ー and 「」): a head start
      const sc = quickScore(decodeWith(Buffer.from(win), dec)) + (c === choices[0] ? 0.15 : 0)
      if (sc > bestScore) { bestScore = sc; best = c }
    }
    bytes[i] = best
    guessed++
  }
  return { buf: Buffer.from(bytes), guessed }
}

function decodeBytes (src: Bytes, dec: Decoder): { text: string, guessed: number } | null {
  if (dec === 'utf-8') {
    if (src.holes) return decodeUtf8Holes(src.bytes, src.holeChoices)
    return { text: Buffer.from(src.bytes).toString('utf8'), guessed: 0 }
  }
  if (dec === 'iso-2022-jp') {
    if (!src.bytes.includes(0x1b)) return null
    const r = decodeIso2022Jp(Buffer.from(src.bytes.map((b) => (b < 0 ? 0x3f : b))).toString('latin1'))
    return r ? { text: r.text, guessed: 0 } : null
  }
  if (!src.holes) return { text: decodeWith(Buffer.from(src.bytes), dec), guessed: 0 }
  const { buf, guessed } = fillHoles(src, dec)
  return { text: decodeWith(buf, dec), guessed }
}

// ---------------------------------------------------------------------------
// Search

const ENCODED_WORD = /=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=/

/** Text → text steps, by the label that appears in a candidate's path. */
const TEXT_STEPS: Record<string, (t: string) => string | null> = {
  'RFC 2047 encoded-words decoded': (t) => {
    if (!ENCODED_WORD.test(t)) return null
    try { return libmime.decodeWords(t) } catch { return null } // a malformed word: other paths still apply
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
      out.push({ text: d.text, path: [...n.path, r.label, `bytes as ${dec}`], guessed: n.guessed + d.guessed })
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
  let start = 0
  for (let k = path.length - 1; k > 0; k--) {
    const hit = cache.get(path.slice(0, k).join('\u0000'))
    if (hit === null) return null
    if (hit) { text = hit.text; guessed = hit.guessed; start = k; break }
  }
  for (let i = start; i < path.length; i++) {
    const step = TEXT_STEPS[path[i]] as ((t: string) => string | null) | undefined
    let next: Node | null = null
    let end = i + 1
    if (step) {
      const d = step(text)
      next = d === null ? null : { text: d, path: path.slice(0, end), guessed }
    } else {
      const read = READINGS[path[i]] as ((t: string) => Bytes | null) | undefined
      const dec = path[i + 1]?.replace(/^bytes as /, '') as Decoder | undefined
      end = i + 2
      const r = read && dec && DECODERS.includes(dec) ? read(text) : null
      const d = r ? decodeBytes(r, dec!) : null
      next = d ? { text: d.text, path: path.slice(0, end), guessed: guessed + d.guessed } : null
    }
    cache.set(path.slice(0, end).join('\u0000'), next)
    if (!next) return null
    text = next.text
    guessed = next.guessed
    i = end - 1
  }
  return { text, path, guessed }
}

function rank (n: Node): Candidate {
  const p = plausibility(n.text)
  const len = Math.max(1, [...n.text].length)
  // Each conversion costs a little (the simplest explanation wins a tie); guessed bytes cost more.
  const score = p.score - 0.03 * n.path.length - n.guessed / len
  return { text: n.text, path: n.path, score: Math.round(score * 1000) / 1000, japaneseShare: Math.round(p.japaneseShare * 1000) / 1000, lost: p.lost, guessed: n.guessed }
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
export const SAMPLE_CHARS = 4096

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
  for (const c of first.slice(0, 8)) {
    // Guessing lost bytes is fair on text some other software decoded (the input, an
    // encoded-word libmime decoded with the charset it claimed), never on our own guesses.
    const external = c.path.length === 1 && c.path[0] === 'RFC 2047 encoded-words decoded'
    for (const m of textMoves({ text: c.text, path: c.path, guessed: c.guessed }, external)) add(m)
  }
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
