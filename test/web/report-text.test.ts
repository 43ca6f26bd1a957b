// The forum text: one language, MX → IP first, local time with its zone,
// no internal codes, no fixed-column wrapping, the test mail cut to its headers.
import t from 'tap'
import { ReportBuilder } from '../../src/core/report.js'
import { reportText, localTime } from '../../src/web/report-text.js'

t.test('local time: JST for Japanese readers, the zone always shown', async (t) => {
  t.equal(localTime('2026-12-01T17:00:05.123Z', 'ja'), '2026-12-02 02:00:05 JST')
  t.equal(localTime('2026-12-01T17:00:05.123Z', 'en'), '2026-12-01 17:00:05 UTC')
  t.match(localTime('2026-12-01T17:00:05.123Z', 'en', 'Europe/Berlin'), /^2026-12-01 18:00:05 (CET|GMT\+1)$/)
  t.equal(localTime('2026-12-01T17:00:05.123Z', 'en', 'Not/AZone'), '2026-12-01 17:00:05 UTC', 'an unknown zone falls back')
})

t.test('a receive report: the mail shown by its headers, the body left out', async (t) => {
  const b = new ReportBuilder('receive', '203.0.113.7', 'ja')
  b.target({ domain: 'example.jp', host: 'mx.example.jp', ip: '203.0.113.7' })
  b.set('dns', { domain: 'example.jp', implicitMx: false, nullMx: false, mx: [{ host: 'mx.example.jp', priority: 10, addresses: ['203.0.113.7'], ttl: 300 }] })
  b.line('S', '220 mx.example.jp ESMTP')
  b.line('C', 'DATA')
  b.line('S', '354 go ahead')
  for (const h of ['From: mxprobe <mxprobe@probe.test>', 'To: <taro@example.jp>', 'Subject: =?UTF-8?B?44OG44K544OI?=', 'Content-Transfer-Encoding: base64', '']) b.line('C', h)
  for (let i = 0; i < 12; i++) b.line('C', '44GT44KM44GvIG14cHJvYmUg44Gu44OG44K544OI44Oh44O844Or44Gn44GZ')
  b.line('C', '.')
  b.line('S', '250 2.0.0 Ok: queued as ABC123')
  const long = 'とても長いアドバイス。'.repeat(30)
  b.step('end of data', 'pass', '250 2.0.0 Ok: queued as ABC123')
  b.advise('dns.ptr_missing', { ip: '203.0.113.7' })
  const r = b.finish(`受け付けられました ${long}`)
  const text = reportText(r)
  const lines = text.split('\n')
  t.equal(lines[2], 'MX → IP アドレス', 'the MX table comes first')
  t.equal(lines[4], '  MX 10 mx.example.jp → 203.0.113.7 (TTL 300 秒)')
  t.match(text, /-> Subject: =\?UTF-8\?B\?44OG44K544OI\?=\n/, 'headers kept')
  t.notMatch(text, /44GT44KM44Gv/, 'no encoded body')
  t.match(text, /\(本文は mxprobe のテスト用の文面です。12 行を省略\)/)
  t.match(text, /-> \.\n.*<- 250 2\.0\.0 Ok: queued as ABC123/)
  t.match(text, /\n {2}\[OK\] 本文の送信完了 \(最終応答\): 250/, 'steps by their title, status in words')
  t.ok(lines.some((l) => l.includes(long)), 'not wrapped at a fixed column')
  t.notMatch(text, /\[dns\.|end of data|check:|verdict:/, 'no internal codes or names')
  const en = reportText(r, { lang: 'en' })
  t.match(en, /\nResult: OK — /)
  t.match(en, /\(the body was mxprobe's test text; 12 lines left out\)/)
  t.match(en, /UTC/)
})

t.test('the diagnosis: verdict, fix-first list, each child with its status and link', async (t) => {
  const b = new ReportBuilder('all', '203.0.113.7', 'en')
  b.target({ domain: 'example.jp', host: 'mx.example.jp', ip: '203.0.113.7' })
  b.set('children', [
    { type: 'dns', id: 'AAAAAAAAAAAAAAAA', status: 'pass', summary: 'fine' },
    { type: 'ports', id: 'BBBBBBBBBBBBBBBB', status: 'fail', summary: 'port 25 filtered' }
  ])
  b.set('fixFirst', [{ check: 'ports', code: 'ports.filtered_25', message: 'Port 25 did not answer.' }])
  b.step('child dns', 'pass', 'fine')
  b.step('child ports', 'fail', 'port 25 filtered')
  const r = b.finish('example.jp: 1 of 2 tests found problems.')
  const text = reportText(r, { pageUrl: 'https://mxprobe.example/r/ZZZZZZZZZZZZZZZZ' })
  t.match(text, /^mxprobe Whole diagnosis report/)
  t.match(text, /\nResult: problem — example\.jp: 1 of 2 tests found problems\.\n/)
  t.match(text, /\n {2}\[OK\] DNS \(MX and addresses\): fine https:\/\/mxprobe\.example\/r\/AAAAAAAAAAAAAAAA\n/)
  t.match(text, /\n {2}\[problem\] Open ports: port 25 filtered https:\/\/mxprobe\.example\/r\/BBBBBBBBBBBBBBBB\n/)
  t.match(text, /\nFix first \(in this order\):\n {2}1\. \[Open ports\] Port 25 did not answer\.\n/)
  t.notMatch(text, /ports\.filtered_25/)
  t.match(reportText(r, { lang: 'ja' }), /\nまずこれを直す \(上から順に\):\n {2}1\. \[ポート開放\] /)
})
