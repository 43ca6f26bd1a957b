// Garbled samples are produced by actually mis-decoding known Japanese text:
// encode it (iconv-lite, or the ISO-2022-JP builder in samples.ts), then
// decode the bytes with the wrong charset the way real software does
// (Node's latin1/utf8, WHATWG TextDecoder as browsers and most mail clients,
// iconv-lite as many servers). The right repair must rank first.
import t from 'tap'
import iconv from 'iconv-lite'
import { repairMojibake, plausibility, SAMPLE_CHARS } from '../../src/tools/mojibake.js'
import { decodeIso2022Jp, decodeIso2022JpEscLost, kanjiLevel } from '../../src/tools/jis.js'
import { iso2022jp, encodedWord } from './samples.js'

const TEXTS = [
  '日本語のメールが文字化けしました。会議は明日の午後三時からです。',
  'お世話になっております。添付の資料をご確認ください。',
  '件名：【重要】パスワード変更のお知らせ（ＩＤ：ABC-123）',
  'サーバーの設定を変更しました。再起動後に送信テストをお願いします。'
]

const whatwg = (bytes: Buffer, label: string): string => new TextDecoder(label).decode(bytes)

interface Garble { name: string, make: (s: string) => string, path: string[], exact: boolean }

const GARBLES: Garble[] = [
  { name: 'Shift_JIS read as Latin-1', make: (s) => iconv.encode(s, 'shift_jis').toString('latin1'), path: ['latin1→bytes', 'bytes as shift_jis'], exact: true },
  { name: 'Shift_JIS read as windows-1252 (browser)', make: (s) => whatwg(iconv.encode(s, 'shift_jis'), 'windows-1252'), path: ['latin1→bytes', 'bytes as shift_jis'], exact: true },
  { name: 'EUC-JP read as Latin-1', make: (s) => iconv.encode(s, 'euc-jp').toString('latin1'), path: ['latin1→bytes', 'bytes as euc-jp'], exact: true },
  { name: 'EUC-JP read as windows-1252 (browser)', make: (s) => whatwg(iconv.encode(s, 'euc-jp'), 'windows-1252'), path: ['latin1→bytes', 'bytes as euc-jp'], exact: true },
  { name: 'UTF-8 read as Latin-1', make: (s) => Buffer.from(s, 'utf8').toString('latin1'), path: ['latin1→bytes', 'bytes as utf-8'], exact: true },
  { name: 'UTF-8 read as windows-1252 (browser)', make: (s) => whatwg(Buffer.from(s, 'utf8'), 'windows-1252'), path: ['latin1→bytes', 'bytes as utf-8'], exact: true },
  // Shift_JIS decoders destroy the bytes of invalid pairs: those are guessed, so a few characters may differ
  { name: 'UTF-8 read as Shift_JIS (iconv-lite cp932, one byte lost per error)', make: (s) => iconv.decode(Buffer.from(s, 'utf8'), 'cp932'), path: ['shift_jis→bytes', 'bytes as utf-8'], exact: false },
  { name: 'UTF-8 read as Shift_JIS (WHATWG, two bytes lost per error)', make: (s) => whatwg(Buffer.from(s, 'utf8'), 'shift_jis'), path: ['shift_jis→bytes', 'bytes as utf-8'], exact: false },
  { name: 'Shift_JIS read as windows-1252 by iconv-lite (undefined bytes lost)', make: (s) => iconv.decode(iconv.encode(s, 'shift_jis'), 'windows-1252'), path: ['windows-1252→bytes', 'bytes as shift_jis'], exact: false },
  { name: 'raw ISO-2022-JP shown as is', make: (s) => iso2022jp(s).toString('latin1'), path: ['ISO-2022-JP escape sequences decoded'], exact: true },
  { name: 'ISO-2022-JP with the ESC bytes lost', make: (s) => iso2022jp(s).toString('latin1').replace(/\u001b/g, ''), path: ['ISO-2022-JP with lost ESC bytes decoded'], exact: true },
  { name: 'ISO-2022-JP with ESC shown as ^[', make: (s) => iso2022jp(s).toString('latin1').replace(/\u001b/g, '^['), path: ['ISO-2022-JP with lost ESC bytes decoded'], exact: true },
  { name: 'undecoded =?ISO-2022-JP?B?…?= word', make: (s) => encodedWord(s, 'ISO-2022-JP'), path: ['RFC 2047 encoded-words decoded'], exact: true },
  { name: 'undecoded =?Shift_JIS?Q?…?= word', make: (s) => encodedWord(s, 'Shift_JIS', 'Q'), path: ['RFC 2047 encoded-words decoded'], exact: true },
  { name: 'quoted-printable Shift_JIS left undecoded', make: (s) => [...iconv.encode(s, 'shift_jis')].map((b) => '=' + b.toString(16).toUpperCase().padStart(2, '0')).join(''), path: ['quoted-printable→bytes', 'bytes as shift_jis'], exact: true },
  { name: 'quoted-printable UTF-8 with soft line breaks', make: (s) => [...Buffer.from(s, 'utf8')].map((b, i) => '=' + b.toString(16).toUpperCase().padStart(2, '0') + (i % 20 === 19 ? '=\r\n' : '')).join(''), path: ['quoted-printable→bytes', 'bytes as utf-8'], exact: true },
  { name: 'base64 EUC-JP left undecoded', make: (s) => iconv.encode(s, 'euc-jp').toString('base64'), path: ['base64→bytes', 'bytes as euc-jp'], exact: true },
  { name: 'base64 ISO-2022-JP left undecoded', make: (s) => iso2022jp(s).toString('base64').replace(/(.{76})/g, '$1\n'), path: ['base64→bytes', 'bytes as iso-2022-jp'], exact: true }
]

for (const g of GARBLES) {
  t.test(g.name, async (t) => {
    for (const text of TEXTS) {
      const garbled = g.make(text)
      t.not(garbled, text, 'the sample really is garbled')
      const r = repairMojibake(garbled)
      const best = r.candidates[0]
      t.same(best.path, g.path, `path for ${text.slice(0, 10)}…`)
      if (g.exact || best.guessed === 0) {
        t.equal(best.text, text, 'repaired exactly')
        t.equal(best.guessed, 0)
      } else {
        // each guessed byte can spoil at most the one character it belongs to
        const a = [...best.text]
        const b = [...text]
        t.equal(a.length, b.length, `same length: ${best.text}`)
        const wrong = a.filter((c, i) => c !== b[i]).length
        t.ok(wrong <= best.guessed + best.lost, `${wrong} wrong characters, ${best.guessed} guessed bytes, ${best.lost} lost: ${best.text}`)
        t.ok(wrong <= b.length / 5, 'most of the text is right')
      }
      if (g.exact) t.equal(best.lost, 0)
      t.notOk(r.unchanged)
      t.ok(r.candidates.some((c) => c.path.length === 0), 'the input itself is among the candidates')
      t.ok(best.score > r.candidates.find((c) => c.path.length === 0)!.score, 'the repair outranks the input')
    }
  })
}

t.test('Shift_JIS / EUC-JP read as UTF-8: the bytes are destroyed; such candidates rank below clean text and report their losses', async (t) => {
  for (const text of TEXTS) {
    for (const cs of ['shift_jis', 'euc-jp']) {
      const garbled = iconv.encode(text, cs).toString('utf8')
      const r = repairMojibake(garbled)
      t.ok(r.candidates.every((c) => c.lost > 0 || c.guessed > 0 || c.score < 0.3), `${cs}: nothing claims a clean repair`)
      const viaUtf8 = r.candidates.find((c) => c.path[0] === 'utf-8→bytes' && c.path[1] === `bytes as ${cs}`)
      t.ok(viaUtf8, `${cs}: the utf-8→bytes reading is tried`)
      t.ok(viaUtf8!.lost > 0, 'and its losses are counted')
    }
  }
  // A lossy reading ranks below a lossless one of the same text.
  const clean = repairMojibake(Buffer.from(TEXTS[0], 'utf8').toString('latin1')).candidates[0]
  const lossy = repairMojibake(iconv.encode(TEXTS[0], 'shift_jis').toString('utf8')).candidates[0]
  t.ok(clean.score > lossy.score + 1)
})

t.test('text that is already right stays first (identity), Japanese or not', async (t) => {
  for (const text of [...TEXTS, 'Hello, world. Nothing to repair here.', 'Grüße aus München', 'email: user@example.com, 2024-01-01']) {
    const r = repairMojibake(text)
    t.same(r.candidates[0].path, [], text)
    t.equal(r.candidates[0].text, text)
    t.ok(r.unchanged)
  }
})

t.test('a subject line mixing ASCII and garbled parts, and two-step repairs', async (t) => {
  const subject = `Re: [ml:123] ${TEXTS[2]}`
  const r1 = repairMojibake(Buffer.from(subject, 'utf8').toString('latin1'))
  t.equal(r1.candidates[0].text, subject)
  // an encoded-word that claims ISO-8859-1 but carries Shift_JIS bytes: libmime decodes it as
  // windows-1252 (undefined bytes lost), then the text is re-read as the bytes it was
  const lying = `=?ISO-8859-1?B?${iconv.encode(TEXTS[1], 'shift_jis').toString('base64')}?=`
  const r2 = repairMojibake(lying)
  t.equal(r2.candidates[0].text, TEXTS[1])
  t.same(r2.candidates[0].path, ['RFC 2047 encoded-words decoded', 'windows-1252→bytes', 'bytes as shift_jis'])
  const lyingUtf8 = `=?ISO-8859-1?Q?${[...Buffer.from(TEXTS[0], 'utf8')].map((b) => '=' + b.toString(16).toUpperCase()).join('')}?=`
  const r3 = repairMojibake(lyingUtf8)
  // windows-1252 dropped bytes on the way: every character that differs is one marked as guessed
  const best3 = r3.candidates[0]
  const want = [...TEXTS[0]]
  t.equal([...best3.text].length, want.length)
  let offset = 0
  for (const [k, ch] of [...best3.text].entries()) {
    if (ch !== want[k]) t.ok(best3.marks.some((m) => m.start <= offset && offset < m.end), `${ch} (for ${want[k]}) is marked as guessed`)
    offset += ch.length
  }
  t.same(r3.candidates[0].path.slice(0, 1), ['RFC 2047 encoded-words decoded'])
})

t.test('plausibility: Japanese > ASCII > mojibake, replacement characters and half-width runs penalised', async (t) => {
  const ja = plausibility(TEXTS[0])
  const ascii = plausibility('Plain ASCII text here')
  const moji = plausibility(iconv.decode(Buffer.from(TEXTS[0], 'utf8'), 'cp932'))
  const latin = plausibility(Buffer.from(TEXTS[0], 'utf8').toString('latin1'))
  const repl = plausibility('\ufffd\ufffd\ufffd日本')
  t.ok(ja.score > ascii.score && ascii.score > moji.score && ascii.score > latin.score, JSON.stringify({ ja, ascii, moji, latin }))
  t.ok(repl.score < 0)
  t.equal(repl.lost, 3)
  t.ok(ja.japaneseShare > 0.95)
  t.ok(moji.japaneseShare < 0.6)
  t.ok(plausibility('=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=').score < 0, 'an undecoded word is residue, not good ASCII')
})

t.test('ISO-2022-JP decoder details', async (t) => {
  t.equal(decodeIso2022Jp('plain'), null)
  t.equal(decodeIso2022Jp('\u001b(I1234\u001b(B')?.text, 'ｱｲｳｴ', 'half-width katakana set')
  t.equal(decodeIso2022Jp('\u001b$B%F%9%H\u001b(B ok')?.text, 'テスト ok')
  t.equal(decodeIso2022JpEscLost('abc $B%F%9%H(B def'), 'abc テスト def')
  t.equal(decodeIso2022JpEscLost('price (B) $5'), null, 'no $B span, no change')
  t.equal(kanjiLevel('日'), 1)
  t.equal(kanjiLevel('譌'), 2)
  t.equal(kanjiLevel('a'), 0)
})

t.test('bad input is refused before any work', async (t) => {
  t.throws(() => repairMojibake('a\u0000b'), { code: 'bad_input', statusCode: 400 })
  t.throws(() => repairMojibake('a\ud800b'), { code: 'bad_input', statusCode: 400 })
  t.throws(() => repairMojibake('   '), { code: 'bad_input', statusCode: 400 })
  t.throws(() => repairMojibake('x'.repeat(256 * 1024 + 1)), { code: 'too_large', statusCode: 413 })
  t.throws(() => repairMojibake('\u0001\u0002\u0003'.repeat(100)), { code: 'bad_input', statusCode: 400 })
})

t.test('long input: paths found on a sample are replayed on the whole text', async (t) => {
  const long = (TEXTS.join('\n') + '\n').repeat(200)
  t.ok(long.length > SAMPLE_CHARS * 2)
  const cases: Array<[string, string[]]> = [
    [Buffer.from(long, 'utf8').toString('latin1'), ['latin1→bytes', 'bytes as utf-8']],
    [iconv.encode(long, 'euc-jp').toString('base64'), ['base64→bytes', 'bytes as euc-jp']],
    [whatwg(iconv.encode(long, 'shift_jis'), 'windows-1252'), ['latin1→bytes', 'bytes as shift_jis']]
  ]
  for (const [garbled, path] of cases) {
    const r = repairMojibake(garbled)
    t.same(r.candidates[0].path, path)
    t.equal(r.candidates[0].text, long, 'the whole text is repaired, not only the sample')
  }
  const right = repairMojibake(long)
  t.ok(right.unchanged)
  t.equal(right.candidates[0].text, long)
})

t.test('hostile shapes get sane answers (their timing is in bench/tools.ts)', async (t) => {
  const dollars = '$B'.repeat(5000) + 'あ'
  t.equal(repairMojibake(dollars).candidates[0].text, dollars, 'no span ends: nothing decoded')
  const mixed = 'x $B%F%9%H(B y $B%F%9%H'
  t.equal(decodeIso2022JpEscLost(mixed), 'x テスト y テスト', 'a span may end at the end of the text')
  t.equal(decodeIso2022JpEscLost('$B%F%9%Hあ'), null, 'a span that runs into non-ASCII is left alone')
  t.equal(decodeIso2022JpEscLost('^[$B%F%9%H^[(B and ?$B%F%9%H?(B'), 'テスト and テスト', 'ESC traces "^[" and "?" are removed with it')
})

t.test('"$B" 60,000 times: a failed ESC-lost span is not scanned again from each "$B" inside it', async (t) => {
  // quadratic before: minutes of CPU; linear now: a fraction of a second (CPU time, which other processes do not inflate)
  const s = '$B'.repeat(60_000) + 'あ'
  const c0 = process.cpuUsage()
  t.equal(decodeIso2022JpEscLost(s), null)
  const d = process.cpuUsage(c0)
  t.ok((d.user + d.system) / 1000 < 10_000, `${((d.user + d.system) / 1000).toFixed(0)} ms of CPU`)
  t.equal(decodeIso2022JpEscLost('$B%F%9あ $B%H(B'), '$B%F%9あ ト', 'a span after a failed one still decodes')
  t.equal(decodeIso2022JpEscLost('$B%F%9あ$B%H(B'), '$B%F%9あト', 'also right after it')
})
