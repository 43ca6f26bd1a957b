// The page layer without a browser: the escaping template, the plain-text
// report, the form route (303, refusals as pages, cross-site posts),
// security headers, HTML vs JSON 404, assets, the embed loader and frame,
// and which API paths answer other origins.
import t from 'tap'
import { html, raw, escapeHtml, join } from '../../src/web/html.js'
import { reportText, redactSecrets, visibleControls } from '../../src/web/report-text.js'
import { webText } from '../../src/i18n/web.js'
import { ReportBuilder } from '../../src/core/report.js'
import { startDns, reverseName } from '../fixtures/dns.js'
import { testApp, randomLoopback } from '../helpers.js'

const home = randomLoopback()

t.test('html`` escapes every interpolation unless it is explicitly raw', async (t) => {
  const evil = '<script>alert("x")</script>&\'`'
  t.equal(escapeHtml(evil), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;')
  t.equal(html`<p title="${evil}">${evil}</p>`.value, `<p title="${escapeHtml(evil)}">${escapeHtml(evil)}</p>`)
  t.equal(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.value, '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>', 'arrays: strings escaped, fragments kept')
  t.equal(html`${null}${undefined}${false}${0}`.value, '0')
  t.equal(html`${raw('<br>')}`.value, '<br>')
  t.equal(join(['<a>', html`<i></i>`], '<').value, '&lt;a&gt;&lt;<i></i>')
  t.equal(html`${{ toString: () => '<x>' }}`.value, '&lt;x&gt;', 'objects are stringified, then escaped')
})

t.test('both catalogues have the same keys', async (t) => {
  const keys = (o: object): string[] => Object.entries(o).flatMap(([k, v]) => v && typeof v === 'object' ? keys(v).map((s) => `${k}.${s}`) : [k]).sort()
  t.same(keys(webText('ja')), keys(webText('en')))
})

t.test('the plain-text report: every fact, the transcript with marks and timings, no secrets', async (t) => {
  const b = new ReportBuilder('pop3', '203.0.113.7', 'ja')
  b.target({ domain: 'example.jp', host: 'mail.example.jp', ip: '203.0.113.7' })
  b.line('S', '+OK Dovecot ready. \u001b[31mred\u001b[0m')
  b.line('C', 'USER taro')
  b.line('C', 'PASS s3cret!')
  b.line('C', 'AUTH PLAIN AHRhcm8Ac2VjcmV0')
  b.line('S', '-ERR [AUTH] Authentication failed.')
  b.line('I', 'TLS: TLSv1.3')
  b.step('login', 'fail', 'authentication failed', 40)
  b.advise('dns.ptr_missing', { ip: '203.0.113.7' })
  const r = b.finish('login failed')
  const text = reportText(r, { pageUrl: 'https://mxprobe.example/r/abc' })
  // The forum text (issue 12): one language, MX table first, local time with its zone, no internal codes.
  t.match(text, /^mxprobe POP3の結果 \([A-Za-z0-9_-]{16}\)\n/)
  t.match(text, /\nMX → IP アドレス\n {2}ドメイン: example\.jp\n {2}MX mail\.example\.jp → 203\.0\.113\.7\n/)
  t.match(text, /\n {2}テストしたアクセス元 IP: 203\.0\.113\.7\n/)
  t.match(text, /\n日時: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST/)
  t.match(text, /\n結果: 問題あり — login failed\n/)
  t.match(text, /\nページ: https:\/\/mxprobe\.example\/r\/abc\n/)
  t.match(text, /\n +\d+ ms <- \+OK Dovecot ready\. \\x1b\[31mred\\x1b\[0m\n/, 'terminal escapes are made visible')
  t.match(text, /\n +\d+ ms -> USER taro\n/)
  t.match(text, /\n +\d+ ms -> PASS \*{8}\n/)
  t.match(text, /\n +\d+ ms -> AUTH PLAIN \*{8}\n/)
  t.match(text, /\n +\d+ ms -- TLS: TLSv1\.3\n/)
  t.notMatch(text, /s3cret|AHRhcm8Ac2VjcmV0/)
  t.match(text, /\n {2}・あなたの IP/, 'advice in the report language')
  t.notMatch(text, /dns\.ptr_missing/, 'no internal codes')
  t.match(reportText(r, { lang: 'en' }), /\n {2}・Your IP/, 'or in the one asked for')
  t.equal(redactSecrets('APOP taro 0123456789abcdef'), 'APOP taro ********')
  t.equal(visibleControls('a\r\nb\u0000'), 'a\\x0d\\x0ab\\x00')
  for (const line of reportText(r, { lang: 'en' }).split('\n')) {
    if (line.startsWith('  * ') || line.startsWith('    ')) t.ok(line.length <= 100, 'advice is wrapped for fixed-width pasting')
  }
})

t.test('routes: form posts, refusals as pages, headers, 404s, assets, embed', async (t) => {
  const dns = await startDns({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: [{ address: home, ttl: 120 }] },
    'elsewhere.example': { MX: [{ exchange: 'mx.elsewhere.example', priority: 10 }] },
    'mx.elsewhere.example': { A: [{ address: '127.9.9.9', ttl: 600 }] },
    [reverseName(home)]: { PTR: ['mx.home.example'] }
  })
  t.teardown(() => dns.close())
  // Two checks run before the limited one (a bad domain is refused before any limiter counts it).
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: 'dns=2/600' })
  t.teardown(() => app.close())

  const index = await app.inject({ url: '/', remoteAddress: home, headers: { 'accept-language': 'en-GB,en;q=0.9' } })
  t.equal(index.statusCode, 200)
  t.match(index.headers['content-type'], /text\/html/)
  t.match(index.headers['content-security-policy'], /script-src 'self'/)
  t.notMatch(index.headers['content-security-policy'], /unsafe-inline/)
  t.equal(index.headers['x-frame-options'], 'DENY')
  t.equal(index.headers['referrer-policy'], 'same-origin')
  t.match(index.body, /<html lang="en">/)
  t.match(index.body, new RegExp(`id="caller-ip">${home.replace(/\./g, '\\.')}<`))
  t.notMatch(index.body, /<script>|<script [^>]*>[^<]/, 'no inline script')
  t.notMatch(index.body, / on[a-z]+=/, 'no inline event handlers')
  t.notMatch(index.body, / style=/, 'no inline styles')
  t.match((await app.inject({ url: '/', remoteAddress: home })).body, /<html lang="ja">/, 'Japanese without a preference')
  t.match(index.body, /&lt;script src=&quot;http:\/\/localhost:80\/embed\.js&quot; data-check=&quot;receive&quot; async&gt;&lt;\/script&gt;/, 'the embed snippet, with this service\'s origin')
  t.match((await app.inject({ url: '/?lang=ja', remoteAddress: home, headers: { 'accept-language': 'en' } })).body, /<html lang="ja">/, '?lang wins')

  const post = (payload: string, headers: Record<string, string> = {}, type = 'dns') => app.inject({ method: 'POST', url: `/check/${type}`, payload, remoteAddress: home, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } })
  const ok = await post('domain=home.example&lang=en', { origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin' })
  t.equal(ok.statusCode, 303)
  const loc = String(ok.headers.location)
  t.match(loc, /^\/r\/[A-Za-z0-9_-]{16}\?lang=en$/)
  const id = loc.slice(3, 19)
  // The report page, once the check has finished.
  let page = await app.inject({ url: loc, remoteAddress: home })
  for (let i = 0; i < 50 && /data-running/.test(page.body); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    page = await app.inject({ url: loc, remoteAddress: home })
  }
  t.equal(page.statusCode, 200)
  t.match(page.body, /data-status="pass"/)
  t.match(page.body, /<pre class="copy-text"/)
  t.notMatch(page.body, /http-equiv="refresh"/, 'a finished report does not refresh')
  const txt = await app.inject({ url: `/r/${id}.txt` })
  t.equal(txt.statusCode, 200)
  t.match(txt.headers['content-type'], /text\/plain/)
  t.match(txt.body, /^mxprobe /)
  t.match(txt.body, /\n(Result|結果): OK/)
  t.equal((await app.inject({ url: '/r/AAAAAAAAAAAAAAAA.txt' })).statusCode, 404)
  t.match((await app.inject({ url: `${loc.split('?')[0]}?lang=ja`, remoteAddress: home })).body, /class="summary from-check" id="report-summary" lang="en"/, 'an English summary on a Japanese page is marked as English')
  const api = await app.inject({ url: `/api/v1/checks/${id}` })
  t.equal(api.json().status, 'pass', 'the form ran the same check the API stores')

  const bad = await post('domain=a..b&lang=en')
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /The input was not accepted/)
  t.match(bad.headers['content-type'], /text\/html/)

  const cross = await post('domain=home.example&lang=en', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })
  t.equal(cross.statusCode, 403)
  t.match(cross.body, /another site/)
  const crossOld = await post('domain=home.example&lang=en', { origin: 'https://evil.example', host: 'mxprobe.example' })
  t.equal(crossOld.statusCode, 403, 'without fetch metadata, a foreign Origin is refused')

  await post('domain=home.example&lang=ja')
  const limited = await post('domain=home.example&lang=ja')
  t.equal(limited.statusCode, 429, 'the API rate limit applies to the form too')
  t.ok(limited.headers['retry-after'])
  t.match(limited.body, /テストの回数が上限に達しました/)
  t.match(limited.body, /秒後にもう一度お試しください/)

  // A mail test whose domain's MX is not the caller: 403 as a page with the DNS facts, no socket opened.
  const refusedPost = await post('address=taro%40elsewhere.example&lang=ja', {}, 'receive')
  t.equal(refusedPost.statusCode, 303, 'a refusal is stored: the form goes to its permalink')
  t.match(String(refusedPost.headers.location), /^\/r\/[A-Za-z0-9_-]{16}\?lang=ja$/)
  const refused = await app.inject({ url: String(refusedPost.headers.location), remoteAddress: home })
  t.equal(refused.statusCode, 200)
  t.match(refused.headers['content-type'], /text\/html/)
  t.match(refused.body, /あなたの IP はこのドメインのメールサーバーではありません/)
  t.match(refused.body, /DNS の内容/)
  t.match(refused.body, /mx\.elsewhere\.example/)
  t.match(refused.body, /127\.9\.9\.9/)
  t.match(refused.body, /<td>600<\/td>/, 'with the TTL, so the visitor knows how long a DNS change takes')
  t.match(refused.body, new RegExp(`アクセス元のアドレス \\(${home.replace(/\./g, '\\.')}\\)`), 'and why a mismatch is refused')

  const unknownCheck = await post('domain=x', {}, 'nosuch')
  t.equal(unknownCheck.statusCode, 404)

  const html404 = await app.inject({ url: '/no/such/page', headers: { accept: 'text/html' } })
  t.equal(html404.statusCode, 404)
  t.match(html404.headers['content-type'], /text\/html/)
  const json404 = await app.inject({ url: '/api/v1/nothing', headers: { accept: 'text/html' } })
  t.equal(json404.statusCode, 404)
  t.equal(json404.json().error, 'not_found', 'the API keeps JSON 404s')
  const gone = await app.inject({ url: '/r/AAAAAAAAAAAAAAAA?lang=en' })
  t.equal(gone.statusCode, 404)
  t.match(gone.body, /expired/)

  const css = await app.inject({ url: '/static/style.css' })
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /text\/css/)
  const etag = String(css.headers.etag)
  t.equal((await app.inject({ url: '/static/style.css', headers: { 'if-none-match': etag } })).statusCode, 304)
  const versioned = index.body.match(/\/static\/app\.js\?v=([0-9a-f]+)/)
  t.ok(versioned)
  t.match((await app.inject({ url: versioned![0] })).headers['cache-control'], /immutable/)
  t.equal((await app.inject({ url: '/static/..%2Fpackage.json' })).statusCode, 404)
  t.equal((await app.inject({ url: '/static/secret.txt' })).statusCode, 404)

  const loader = await app.inject({ url: '/embed.js' })
  t.equal(loader.statusCode, 200)
  t.match(loader.headers['content-type'], /javascript/)
  t.match(loader.body, /document\.currentScript/)
  const frame = await app.inject({ url: '/embed/frame?check=receive&lang=ja' })
  t.match(frame.headers['content-security-policy'], /frame-ancestors \*/)
  t.match(frame.headers['content-security-policy'], /script-src 'self'/)
  t.notOk(frame.headers['x-frame-options'], 'the frame may be embedded')
  t.match(frame.body, /name="address"/)
  t.match(frame.body, /テストメールを 1 通だけ/, 'a mail test says what will happen, in the frame too')
  t.match((await app.inject({ url: '/embed/frame?check=<script>' })).body, /data-check="dns"/, 'an unknown check falls back to dns')

  // CORS: read-only GETs answer any origin without credentials; check endpoints answer no other origin.
  const ipCors = await app.inject({ url: '/api/v1/ip', headers: { origin: 'https://tutorial.example' } })
  t.equal(ipCors.headers['access-control-allow-origin'], '*')
  t.notOk(ipCors.headers['access-control-allow-credentials'])
  const repCors = await app.inject({ url: `/api/v1/checks/${id}`, headers: { origin: 'https://tutorial.example' } })
  t.equal(repCors.headers['access-control-allow-origin'], '*')
  const evCors = await app.inject({ url: `/api/v1/checks/${id}/events`, headers: { origin: 'https://tutorial.example' } })
  t.equal(evCors.headers['access-control-allow-origin'], '*', 'the event stream too (headers survive the hijacked reply)')
  t.match(evCors.body, /event: done/)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/api/v1/checks/dns', headers: { origin: 'https://tutorial.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
  t.notOk(preflight.headers['access-control-allow-origin'], 'no preflight approval for check endpoints')
  const postCors = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain: 'home.example' }, remoteAddress: randomLoopback(), headers: { origin: 'https://tutorial.example' } })
  t.notOk(postCors.headers['access-control-allow-origin'])
})

t.test('check-specific tables escape what servers said', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const b = new ReportBuilder('relay', '203.0.113.9', 'en')
  b.set('vectors', [
    { id: 'percent-hack', mailFrom: '<a@b>', rcptTo: '<x%y@z>', accepted: true, reply: '250 <script>alert(1)</script>' },
    { id: 'bang-path', mailFrom: 'c@d', rcptTo: 'y!x', accepted: false, reply: 'not tried: the server already relays plain mail (external-sender was accepted)', stage: 'not_tried', tested: false },
    { id: 'quoted-outside', mailFrom: 'e@f', rcptTo: '"x@y"', accepted: false, reply: '554 5.7.1 Relay access denied', stage: 'rcpt', tested: true }
  ])
  b.set('mailboxes', [{ address: 'abuse@z', required: true, accepted: false, reply: '550 <img src=x onerror=alert(2)>' }])
  b.set('ports', [{ port: 25, state: 'open', banner: '220 <b>hi</b>', ms: 3 }])
  b.step('relay percent-hack', 'fail', 'accepted')
  b.finish('relay <i>open</i>')
  await app.mx.store.saveReport(b.report, 600)
  const page = await app.inject({ url: `/r/${b.report.id}?lang=en` })
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, /<script>alert|<img src=x|<b>hi|<i>open/)
  t.match(page.body, /250 &lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  t.match(page.body, /550 &lt;img src=x onerror=alert\(2\)&gt;/)
  t.match(page.body, /220 &lt;b&gt;hi&lt;\/b&gt;/)
  t.match(page.body, /&lt;x%y@z&gt;/)
  // Not needed is not "no": the server never refused it.
  t.match(page.body, /<td>bang-path<\/td>(?:(?!<\/tr>).)*<td class="yn">not needed<\/td>/s)
  t.match(page.body, /<td>quoted-outside<\/td>(?:(?!<\/tr>).)*<td class="yn">no<\/td>/s)
})
