// Whatever is pasted, the tools answer or refuse with a 400/413; they never
// throw anything else. Random inputs from header-ish pieces, seeded so a
// failure can be replayed.
import t from 'tap'
import iconv from 'iconv-lite'
import { analyzeHeaders } from '../../src/tools/headers.js'
import { repairMojibake } from '../../src/tools/mojibake.js'
import { parseAuthenticationResults } from '../../src/tools/authresults.js'

const PIECES = [
  'Received: ', 'from ', 'by ', 'with ', 'id ', 'for ', 'via ', '; ', ';', '(', ')', '[', ']', '<', '>', '"', '\\', '=', '=?', '?=', '?B?', '?Q?',
  'ISO-2022-JP', 'UTF-8', 'Shift_JIS', '\u001b$B', '\u001b(B', '$B', '(B', '%F%9%H', '192.0.2.1', '2001:db8::1', 'IPv6:', 'helo=', 'HELO ',
  'Mon, 1 Jan 2024 10:00:00 +0900', '\n', '\r\n', '\n\t', '\n ', 'From: ', 'Reply-To: ', 'Return-Path: ', 'Authentication-Results: ',
  'DKIM-Signature: ', 'ARC-Seal: i=', 'spf=pass', 'dkim=fail', 'reason="x y"', 'd=', 's=', 'h=', '@', 'example.jp', 'あ', '日本', '\ufffd',
  'ｱ', '\u0080', 'é', '=E3=81=82', 'GyRCJUYlOSVIGyhC', 'Microsoft SMTP Server', '(qmail 1 invoked from network)', 'ESMTPSA', 'x',
  // the formats and repairs added for issue 14
  '\u0000', 'with POP3 (fetchmail-6.4.37)', 'from pop.isp.example [203.0.113.10] ', 'with NNFMP', '(EHLO x)', '(Postfix)', '(Exim 4.96)',
  '(unknown [198.51.100.7])', '([192.0.2.1])', '(may be forged)', 'port=1 helo=[10.0.0.5]', 'by mx.google.com', '.mail.protection.outlook.com',
  '(I', '$(D', '^[', '^[$B', '\ue000', 'ﾒｰﾙ', '〜', '－', '=?ISO-2022-JP?B?GyhJMTIbKEI=?=', '\ufffd\ufffd', '縺', '譌･'
]

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

t.test('random header-ish input: an analysis or a 400, never a crash', async (t) => {
  const r = rng(20240115)
  let analysed = 0
  for (let i = 0; i < 600; i++) {
    const n = 1 + Math.floor(r() * 60)
    let s = ''
    for (let k = 0; k < n; k++) s += PIECES[Math.floor(r() * PIECES.length)]
    for (const fn of [() => analyzeHeaders(s), () => repairMojibake(s)]) {
      try {
        const out = fn()
        t.ok(out, 'an answer')
        analysed++
      } catch (err) {
        t.equal((err as { statusCode?: number }).statusCode, 400, `only a 400 for ${JSON.stringify(s).slice(0, 120)}: ${(err as Error).message}`)
      }
    }
  }
  t.ok(analysed > 700, `most random inputs are analysed (${analysed})`)
})

t.test('random bytes decoded as text by each charset: repair answers and keeps the input as a candidate', async (t) => {
  const r = rng(7)
  for (let i = 0; i < 60; i++) {
    const bytes = Buffer.from(Array.from({ length: 20 + Math.floor(r() * 200) }, () => 1 + Math.floor(r() * 254)))
    for (const cs of ['latin1', 'cp932', 'euc-jp', 'utf-8', 'windows-1252']) {
      const text = iconv.decode(bytes, cs)
      try {
        const res = repairMojibake(text)
        t.ok(res.candidates.some((c) => c.path.length === 0 && c.text === text))
        t.ok(res.candidates.every((c, k) => k === 0 || c.score <= res.candidates[k - 1].score), 'ranked best first')
      } catch (err) {
        t.equal((err as { statusCode?: number }).statusCode, 400, 'control-heavy bytes are refused as binary')
      }
    }
  }
})

t.test('Authentication-Results method/version and quoted values', async (t) => {
  const ar = parseAuthenticationResults('mx.example 1; dkim/1=pass header.i="@a b.example"; spf = fail smtp.mailfrom=x@y.example')
  t.same(ar.results.map((x) => [x.method, x.result]), [['dkim', 'pass'], ['spf', 'fail']])
  t.equal(ar.results[0].props['header.i'], '@a b.example')
})
