// A small language model of written Japanese for choosing among guesses:
// when the wrong decoding destroyed a byte, the structure of the charset
// leaves a handful of characters it can have been, and the one that reads
// best with its neighbours wins. The model is an interpolated character
// bigram, ln P(b | a), with a trigram ln P(c | a b) over it where kana are
// involved (ポート, not バート), from the rounded counts in ja-freq.ts (built by
// scripts/build-ja-freq.mjs), with a newspaper frequency order of kanji as a
// prior for the kanji that technical sources rarely use (株, 祝, 佐).
import { JA_CHAR_LOG2, JA_PAIR_LOG2, JA_TRIPLE_LOG2, JA_FREQ_TOTAL } from './ja-freq.js'
import { kanjiLevel } from './jis.js'

/**
 * Kanji common in everyday and newspaper text, commonest first (roughly the
 * most frequent thousand), then a few that mail uses much more than
 * newspapers do.
 */
export const NEWSPAPER_KANJI = '日一国会人年大十二本中長出三同時政事自行社見月分議後前民生連五発間対上部東者党地合市業内相方四定今回新場金員九入選立開手米力学問高代明実円関決子動京全目表戦経通外最言氏現理調体化田当八六約主題下首意法不来作性的要用制治度務強気小七成期公持野協取都和統以機平総加山思家話世受区領多県続進正安設保改数記院女初北午指権心界支第産結百派点教報済書府活原先共得解名交資予川向際査勝面委告軍文反元重近千考判認画海参売利組知案道信策集在件団別物側任引使求所次水半品昨論計死官増係感特情投示変打男基私各始島直両朝革価式確村提運終挙果西勢減台広容必応演電歳住争談能無再位置企真流格有疑口過局少放税検町常校料沢裁状工建語球営空職証土与急止送援供可役構木割聞身費付施切由説転食比難防補車優夫研収断井何南石足違消境神番規術護展態導備宅害配副算視条幹独警宮究育席輸訪楽起万着乗店述残想線率病農州武声質念待試族象銀域助労例衛然早張映限親額監環験追審商葉義伝働形景落担好退準賞訴辺造英被株頭技低毎医復仕去姿味負閣渡失移差衆個門写評課末守若脳極種美影命含福蔵量望松非撃佐核観察整段横融型白深字答夜製票況音申様財港識注呼達良響帰針専推谷古候史天階程満敗管値歌買突兵接請器士光討路悪科攻督授催細効図週積丸他及録処省旧室憲太橋歩離岸客風紙激否周師摘材登系批郎母易健黒火戸速存花春飛殺央券赤号単盟座青破編捜竹除完降超責並療従右修捕隊危採織森競拡故館振給屋介読弁根色友苦就迎走販園具左異歴辞将秋因献厳馬愛幅休維富浜父遺彼般未塁貿講邦舞林装諸夏素亡劇河遣航抗冷模雄適婦鉄寄益込顔緊類児余禁印逆王返標換久短油妻暴輪占宣背昭廃植熱宿薬伊江清習険頼僚覚吉盛船倍均億途圧芸許皇臨踏駅署抜壊債便伸留罪停興爆陸玉源儀波創障継筋狙帯延羽努固闘精則葬乱避普散司康測豊洋静善逮婚厚喜齢囲卒迫略承浮惑崩順紀聴脱旅絶級幸岩練押軽倒簡鈴添付確認願送信設定更重要件知'

const CHAR_COUNT = new Map<string, number>()
JA_CHAR_LOG2.forEach((chars, k) => { for (const ch of chars) CHAR_COUNT.set(ch, Math.pow(2, k + 0.5)) })
const PAIR_COUNT = new Map<string, number>()
JA_PAIR_LOG2.forEach((pairs, k) => {
  const a = [...pairs]
  for (let i = 0; i + 1 < a.length; i += 2) PAIR_COUNT.set(a[i] + a[i + 1], Math.pow(2, k + 0.5))
})
const TRIPLE_COUNT = new Map<string, number>()
JA_TRIPLE_LOG2.forEach((triples, k) => {
  const a = [...triples]
  for (let i = 0; i + 2 < a.length; i += 3) TRIPLE_COUNT.set(a[i] + a[i + 1] + a[i + 2], Math.pow(2, k + 0.5))
})
const RANK = new Map<string, number>()
{
  let r = 0
  for (const ch of NEWSPAPER_KANJI) if (!RANK.has(ch)) RANK.set(ch, ++r)
}

/** The model's symbol for a character: ASCII digits and letters are two classes ('0', 'a'), full-width ones two more ('０', 'Ａ'). */
function sym (ch: string): string {
  const c = ch.charCodeAt(0)
  if (c >= 0xff10 && c <= 0xff19) return '\uff10'
  if ((c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a)) return '\uff21'
  // Windows' ～ and － are the same bytes as 〜 and − elsewhere: one symbol each
  if (c === 0xff5e) return '\u301c'
  if (c === 0xff0d) return '\u2212'
  if (c >= 0x30 && c <= 0x39) return '0'
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return 'a'
  return ch
}

const SYMBOLS = new Set([...'℃−※→←↑↓○●◎△▲▽▼□■◆◇★☆♪〒…‥①②③④⑤⑥⑦⑧⑨⑩ⅠⅡⅢⅣⅤ㈱㈲№℡'])

/** P(ch) for a character the counts do not hold, by its kind. */
function floorProb (ch: string): number {
  const cp = ch.codePointAt(0)!
  if (cp >= 0x4e00 && cp <= 0x9fff) { const lv = kanjiLevel(ch); return lv === 1 ? 4e-6 : lv === 2 ? 2e-7 : 3e-8 }
  if (cp >= 0x3041 && cp <= 0x30fe) return 1e-6
  if (cp >= 0xff66 && cp <= 0xff9f) return 1e-5
  if (cp >= 0x20 && cp < 0x7f) return 1e-3
  if (SYMBOLS.has(ch)) return 1e-5
  if (cp >= 0xff01 && cp <= 0xff5e) return 2e-6
  if (cp >= 0x3000 && cp <= 0x303f) return 1e-6
  if (cp >= 0x2010 && cp <= 0x2027) return 1e-6
  return 1e-8
}

const UNI_MEMO = new Map<string, number>()

/** ln P(ch): the counts, blended with the newspaper order for kanji. */
export function lnUni (ch: string): number {
  const s = sym(ch)
  const hit = UNI_MEMO.get(s)
  if (hit !== undefined) return hit
  const n = CHAR_COUNT.get(s)
  let p = n ? n / JA_FREQ_TOTAL : floorProb(s)
  const r = RANK.get(s)
  if (r) p = 0.5 * p + 0.5 * (0.006 / r)
  const v = Math.log(p)
  if (UNI_MEMO.size < 100_000) UNI_MEMO.set(s, v)
  return v
}

/** How many counts P(b) weighs against the pair counts (Dirichlet smoothing). */
const BETA = 100

/** ln P(b | a): how likely b is right after a (interpolated with P(b); a = '' at a start). */
export function lnNext (a: string, b: string): number {
  if (!a) return lnUni(b)
  // plausibility() asks this for every character of every candidate: answers are kept per pair
  let row = NEXT_MEMO.get(a)
  if (!row) {
    if (NEXT_MEMO.size >= 20_000) NEXT_MEMO.clear()
    row = new Map()
    NEXT_MEMO.set(a, row)
  }
  let v = row.get(b)
  if (v === undefined) {
    v = lnNextRaw(a, b)
    if (row.size < 5_000) row.set(b, v)
  }
  return v
}

const NEXT_MEMO = new Map<string, Map<string, number>>()

function lnNextRaw (a: string, b: string): number {
  const sb = sym(b)
  const sa = sym(a)
  const na = CHAR_COUNT.get(sa)
  const nab = PAIR_COUNT.get(sa + sb)
  const uni = Math.exp(lnUni(sb))
  // Dirichlet smoothing: P(b) weighs BETA counts, so a pair never seen after a frequent a is
  // unlikely, while after a rare a the model knows little and P(b) speaks
  return Math.log(((nab ?? 0) + BETA * uni) / ((na ?? 0) + BETA))
}

/** How many counts P(c | b) weighs against the triple counts (as for pairs; 10–100 differ by a few garblings). */
const BETA3 = 100

/**
 * ln P(c | a b): how likely c is after a and b. Triples are counted only where
 * kana are involved (ポート over バート: ー follows both ポ and バ alike); elsewhere,
 * and after a pair seen too rarely, it is the pair model, ln P(c | b).
 */
export function lnNext3 (a: string, b: string, c: string): number {
  const bi = lnNext(b, c)
  if (!a || !b) return bi
  const sa = sym(a)
  const sb = sym(b)
  const nab = PAIR_COUNT.get(sa + sb)
  if (!nab) return bi
  const sc = sym(c)
  const nabc = TRIPLE_COUNT.get(sa + sb + sc) ?? 0
  return Math.log((nabc + BETA3 * Math.exp(bi)) / (nab + BETA3))
}

/** ln P(text) under the model; white space and line ends start afresh. */
export function lnText (text: string): number {
  let sum = 0
  let prev = ''
  let prev2 = ''
  for (const ch of text) {
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t' || ch === '\u3000') { prev = ''; prev2 = ''; continue }
    sum += lnNext3(prev2, prev, ch)
    prev2 = prev
    prev = ch
  }
  return sum
}
