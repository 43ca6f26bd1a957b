// The diagnosis pages without a browser: the home page leads with one
// input named target; /check/all posts the API body { target }; a stored
// diagnosis renders its verdict, "fix this first" and every check with a
// link to its own report; a running one shows stage and time left and
// offers no forum text yet; the test mail is folded in the transcript;
// times carry their zone.
import t from 'tap'
import { testApp, randomLoopback } from '../helpers.js'
import { startDns, publishMx } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { ReportBuilder } from '../../src/core/report.js'
import { reportPage, timeText } from '../../src/web/pages.js'
import { formToBody } from '../../routes/web.js'

t.test('the home page leads with one target input and one button', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  for (const [lang, button] of [['ja', 'まとめて診断'], ['en', 'Check everything']]) {
    const body = (await app.inject({ url: `/?lang=${lang}`, remoteAddress: randomLoopback() })).body
    const main = body.slice(body.indexOf('<main'))
    const firstForm = main.slice(main.indexOf('<form'), main.indexOf('</form>'))
    t.match(firstForm, /action="\/check\/all"/, 'the first form on the page is the diagnosis')
    t.equal((firstForm.match(/<input [^>]*type="text"/g) ?? []).length, 1, 'with one text input')
    t.match(firstForm, /name="target"/)
    t.equal((firstForm.match(/<button/g) ?? []).length, 1, 'and one button')
    t.match(firstForm, new RegExp(`<button type="submit" class="primary">${button}</button>`))
    t.equal((main.match(/<details class="card check"/g) ?? []).length, 7, 'the single checks follow, folded')
    t.ok(main.indexOf('<details') > main.indexOf('action="/check/all"'))
  }
  t.same(formToBody('all', { target: '  taro@home.example ' }), { target: 'taro@home.example' })
})

t.test('a diagnosis form post runs the diagnosis and lands on its report, in Japanese; a refusal on its own page', async (t) => {
  const dns = await startDns({})
  t.teardown(() => dns.close())
  const srv = await startSmtp({ name: 'mx.form.test', users: ['postmaster', 'abuse'] })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'form.test', srv.ip)
  publishMx(dns.zone, 'elsewhere.test', randomLoopback())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const post = async (target: string) => await app.inject({ method: 'POST', url: '/check/all', payload: `target=${encodeURIComponent(target)}&lang=ja`, remoteAddress: srv.ip, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const res = await post('form.test')
  t.equal(res.statusCode, 303, 'a form post answers with the report\'s address')
  t.match(res.headers.location, /^\/r\/[A-Za-z0-9_-]{16}\?lang=ja$/)
  const page = await app.inject({ url: String(res.headers.location), remoteAddress: srv.ip })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<html lang="ja">/)
  t.match(page.body, /まとめて診断/, 'the diagnosis report, in Japanese')
  t.match(page.body, /form\.test/)
  t.notMatch(page.body, /password/i)
  // The MX is not this visitor: no socket opened, a stored refusal with a page of its own.
  const refused = await post('elsewhere.test')
  t.equal(refused.statusCode, 303)
  const rp = await app.inject({ url: String(refused.headers.location), remoteAddress: srv.ip })
  t.match(rp.body, /テストしていません/, 'the refusal page says nothing was tested')
})

function child (type: string, status: 'pass' | 'warn' | 'fail' | null, lang: 'ja' | 'en' = 'ja'): ReportBuilder {
  const b = new ReportBuilder(type, '203.0.113.7', lang)
  b.target({ domain: 'example.jp', host: 'mx.example.jp', ip: '203.0.113.7' })
  b.step('connect', 'pass', 'connected', 5)
  if (status && status !== 'pass') b.step('banner', status, 'refused', 3)
  if (status) b.finish(`${type} <b>done</b>`)
  return b
}

t.test('a finished diagnosis: verdict, fix this first with links, each check, re-run and share', async (t) => {
  const kids = { dns: child('dns', 'pass'), ports: child('ports', 'fail'), smtp: child('smtp', 'fail') }
  const b = new ReportBuilder('all', '203.0.113.7', 'ja')
  b.target({ domain: 'example.jp', host: null, ip: null })
  b.set('children', Object.entries(kids).map(([type, k]) => ({ type, id: k.report.id, status: k.report.status })))
  b.set('fixFirst', [{ check: 'ports', code: 'ports.closed', message: '25 番ポートが閉じています <script>' }])
  b.set('understood', { input: 'Taro@Example.jp', kind: 'address', domain: 'example.jp', address: 'Taro@example.jp' })
  for (const [type, k] of Object.entries(kids)) b.step(`child ${type}`, k.report.status as 'pass' | 'fail', k.report.summary)
  b.finish('ポート開放ができていません')
  const html = reportPage(b.report, 'ja', 'https://mxprobe.example/r/x', { children: new Map(Object.values(kids).map((k) => [k.report.id, k.report])), deadlineMs: 40_000 })
  t.match(html, /<h2 id="fix-title">まずこれを直す<\/h2>/)
  t.match(html, /25 番ポートが閉じています &lt;script&gt;/, 'messages are escaped')
  t.match(html, new RegExp(`<li data-code="ports.closed">.*href="/r/${kids.ports.report.id}\\?lang=ja"`), 'each fix links to its check\'s report')
  for (const k of Object.values(kids)) t.match(html, `href="/r/${k.report.id}?lang=ja"`)
  t.match(html, /ports &lt;b&gt;done&lt;\/b&gt;/, 'a check\'s summary, escaped')
  t.match(html, /<form method="post" action="\/check\/all" class="rerun">/)
  t.match(html, /name="target" value="Taro@example.jp"/, 're-run with what the visitor typed, as understood')
  t.match(html, /<p class="hint" id="understood">入力「Taro@Example.jp」はメールアドレスなので、ドメイン example.jp をテストし/, 'and the page says what it took from the input')
  t.match(html, /class="share-button" data-url="https:\/\/mxprobe.example\/r\/x"/)
  t.match(html, /<pre class="copy-text"/, 'the forum text once it is done')
  t.notMatch(html, /data-running/)
})

t.test('a running diagnosis: stage and time left per check, waiting ones, no forum text, refresh without JS', async (t) => {
  const dns = child('dns', 'pass')
  const smtp = child('smtp', null)
  const now = Date.now()
  const b = new ReportBuilder('all', '203.0.113.7', 'ja')
  b.target({ domain: 'example.jp', host: null, ip: null })
  // The children as src/checks/all.ts lists them (ChildLink): stage and deadline while running.
  b.set('children', [
    { type: 'dns', id: dns.report.id, status: 'pass', title: 'DNS', summary: 'DNS は正常です' },
    { type: 'smtp', id: smtp.report.id, status: 'running', title: 'SMTP', stage: 'EHLO <応答>', deadline: now + 30_000 },
    ...['ports', 'receive', 'roles', 'relay'].map((type) => ({ type, id: null, status: 'queued', title: type }))
  ])
  const html = reportPage(b.report, 'ja', 'https://mxprobe.example/r/x', { deadlineMs: 40_000, now })
  t.match(html, /data-running="1"/)
  t.match(html, /<li class="child c-running" data-type="smtp"[^>]*>[\s\S]*?<span class="stage from-check">EHLO &lt;応答&gt;<\/span>[\s\S]*?data-left-ms="30000">残り 30 秒</, 'the stage it is in (escaped) and the time it has left')
  t.match(html, /data-type="dns"[^>]*>[\s\S]*?DNS は正常です/, 'a finished one shows its summary')
  for (const type of ['ports', 'receive', 'roles', 'relay']) t.match(html, new RegExp(`data-type="${type}" data-status="waiting"`), `${type} waits`)
  t.notMatch(html, /<pre class="copy-text"/, 'the forum text cannot be copied yet')
  t.match(html, /テストが終わると、ここに掲示板用のテキストが表示されます/)
  t.match(html, /<noscript><meta http-equiv="refresh" content="2"><\/noscript>/)
  t.match(html, /<button type="submit" disabled>もう一度診断<\/button>/)
})

t.test('the forum text of a running report is not served yet; a finished one is', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const b = child('smtp', null)
  await app.mx.store.saveReport(b.report, 600)
  const running = await app.inject({ url: `/r/${b.report.id}.txt?lang=ja` })
  t.equal(running.statusCode, 409)
  t.match(running.body, /まだ実行中/)
  b.finish('ok')
  await app.mx.store.saveReport(b.report, 600)
  t.equal((await app.inject({ url: `/r/${b.report.id}.txt?lang=ja` })).statusCode, 200)
})

t.test('the receive report folds the test mail so the replies stay in sight; times show their zone', async (t) => {
  const b = new ReportBuilder('receive', '203.0.113.7', 'ja')
  b.line('C', 'DATA')
  b.line('S', '354 go ahead')
  for (let i = 0; i < 40; i++) b.line('C', `line ${i} =E3=81=82=E3=81=84`)
  b.line('C', '.')
  b.line('S', '250 2.0.0 Ok: queued as ABC')
  b.finish('ok')
  const html = reportPage(b.report, 'ja', 'https://x/r/y')
  const transcript = html.slice(html.indexOf('<ol class="transcript"'), html.indexOf('</section>', html.indexOf('<ol class="transcript"')))
  t.match(transcript, /<li class="line fold"><details><summary>送ったテストメール \(41 行\): 開いて表示<\/summary>/)
  const top = transcript.replace(/<li class="line fold">[\s\S]*?<\/details><\/li>/, '')
  t.match(top, /354 go ahead[\s\S]*250 2\.0\.0 Ok: queued as ABC/, 'the replies before and after the body are at the top level')
  t.notMatch(top, /=E3=81=82/, 'the encoded body is not')
  t.notMatch(html, /aria-live="polite" aria-relevant="additions"/, 'the transcript is no live region')
  t.equal(timeText('2026-12-01T15:00:00.000Z', 'ja'), '2026-12-02 00:00:00 JST')
  t.equal(timeText('2026-12-01T15:00:00.000Z', 'en'), '2026-12-01 15:00:00 UTC')
})
