// Lossy garblings: a windows-1252 decoder that dropped its five undefined
// bytes (81 8D 8F 90 9D), UTF-8 read as Shift_JIS (each error destroys one
// byte with iconv-lite, two with a WHATWG decoder). The bytes are rebuilt
// from the charset's structure and the few characters each hole can have
// been are chosen by the bigram model (src/tools/ja-lm.ts). These passages
// came back wrong before it (株弁会社, 最◇, よいな, a half-width
// katakana passage read as kanji); every guessed character stays marked,
// on the API's candidates and on the page.
import t from 'tap'
import iconv from 'iconv-lite'
import { repairMojibake } from '../../src/tools/mojibake.js'
import { mojibakeResultPage } from '../../src/web/tools.js'
import { PATHS, normalise } from './mojibake-corpus.js'

const path = (id: string): (s: string) => string => { const p = PATHS.find((x) => x.id === id)!; return (s) => p.make(s)! }
const DROPPED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d])

/** The characters of text whose bytes in the charset hold a byte windows-1252 dropped: exactly what must be marked. */
function dropped (text: string, cs: 'utf-8' | 'cp932'): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let at = 0
  for (const ch of text) {
    const b = cs === 'utf-8' ? Buffer.from(ch, 'utf8') : iconv.encode(ch, 'cp932')
    if ([...b].some((x) => DROPPED.has(x))) out.push([at, at + ch.length])
    at += ch.length
  }
  return out
}

const CASES: Array<[string, string]> = [
  ['utf8-1252-iconv', 'お世話になっております。株式会社サンプルの山田です。先日ご依頼いただいた見積書を添付いたしますので、ご確認のほどよろしくお願いいたします。'],
  ['utf8-1252-iconv', '㈱サンプル商事 営業部 佐藤様　いつも大変お世話になっております。'],
  ['sjis-1252-iconv', '価格は一個あたり1,200円（税込）です。まとめてご購入の場合は割引もございます。'],
  ['sjis-1252-iconv', '提出書類：①申込書 ②身分証明書のコピー ③印鑑証明書（発行から三か月以内）'],
  ['utf8-sjis-iconv', '自宅サーバーのPostfixから送ったメールが相手に届きません。プロバイダのOP25Bで25番ポートが塞がれているようなので、587番のサブミッションポートを使う設定に変えました。'],
  ['utf8-sjis-iconv', 'ﾒｰﾙｻｰﾊﾞｰの設定を変更しました。ｿﾌﾄは再起動済みです。'],
  ['utf8-sjis-whatwg', 'ご依頼いただいた見積書について、来週ご連絡します。']
]

t.test('lossy garblings that now come back exactly, with every guessed character marked', async (t) => {
  for (const [id, text] of CASES) {
    const garbled = path(id)(text)
    t.not(garbled, text)
    const best = repairMojibake(garbled).candidates[0]
    t.equal(normalise(best.text), normalise(text), `${id}: ${text.slice(0, 20)}…`)
    t.ok(best.guessed > 0, `${id}: bytes were guessed`)
    t.ok(best.marks.length > 0, `${id}: and the guesses are marked`)
    for (const m of best.marks) t.ok(m.start < m.end && m.end <= best.text.length, 'a mark lies inside the text')
    if (id === 'utf8-1252-iconv') t.same(best.marks.map((m) => [m.start, m.end]), dropped(text, 'utf-8'), 'exactly the characters that lost a byte are marked')
    if (id === 'sjis-1252-iconv') t.same(best.marks.map((m) => [m.start, m.end]), dropped(normalise(text), 'cp932'), 'exactly the characters that lost a byte are marked')
  }
})

t.test('a passage of half-width katakana alone is text, not the kanji its bytes also spell', async (t) => {
  const text = 'ﾊﾞｲﾄｵﾜｯﾀﾗﾃﾞﾝﾜｽﾙﾈ｡ﾁｮｯﾄﾂｶﾚﾀ｡'
  t.ok(repairMojibake(text).unchanged, 'as pasted, it stays first')
  for (const id of ['utf8-latin1', 'sjis-latin1', 'euc-latin1', 'iso2022-esc-lost']) t.equal(repairMojibake(path(id)(text)).candidates[0].text, text, id)
})

t.test('the page shows the best repair with its guesses marked, a copy button, and the unlikely ones folded', async (t) => {
  const text = 'お世話になっております。株式会社サンプルの山田です。'
  const r = repairMojibake(path('utf8-1252-iconv')(text))
  const best = r.candidates[0]
  t.equal(best.text, text)
  for (const lang of ['ja', 'en'] as const) {
    const page = mojibakeResultPage(lang, r, null, null)
    const shown = page.slice(page.indexOf('id="best-text"'), page.indexOf('</pre>', page.indexOf('id="best-text"')))
    const marked = [...shown.matchAll(/<mark class="guessed">([^<]*)<\/mark>/g)].map((m) => m[1])
    t.same(marked, best.marks.map((m) => best.text.slice(m.start, m.end)), `${lang}: each guessed character is marked on the page`)
    t.match(page, lang === 'ja' ? '推測で補いました' : 'had to be guessed', `${lang}: the reader is told what the marks mean`)
    t.match(page, 'data-copy-target="best-text"', `${lang}: the best repair has a copy button`)
    t.match(page, lang === 'ja' ? 'UTF-8 のメールを欧文 (Windows-1252、一部の文字が消えたもの) として表示したもの' : 'a UTF-8 mail shown as Western (Windows-1252, some bytes dropped)', `${lang}: named the way a person would`)
    t.match(page, /<details class="card unlikely">/, `${lang}: the implausible candidates are folded away`)
  }
})
