// The pages in a real browser (Debian's headless Chromium): both languages,
// a check run from the form with the live stream, the no-JavaScript flow,
// the result page and its copy block, a hostile transcript shown as text,
// the embed button on another origin, and axe-core's accessibility rules.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { BrowserContext } from 'playwright-core'
import { startDns, reverseName } from '../fixtures/dns.js'
import { testApp, randomLoopback } from '../helpers.js'
import { launch, screenshot, axeSerious } from './browser.js'
import { ReportBuilder, type ReportEvent } from '../../src/checks/report.js'
import net from 'node:net'
import { startSmtp } from '../fixtures/smtp.js'

const home = randomLoopback()
/** a second visitor whose "mail server" sends markup in its replies */
const hostileHome = randomLoopback()

const dns = await startDns({
  'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
  'mx.home.example': { A: [{ address: home, ttl: 120 }] },
  'elsewhere.example': { MX: [{ exchange: 'mx.elsewhere.example', priority: 10 }] },
  'mx.elsewhere.example': { A: ['127.9.9.9'] },
  'hostile.example': { MX: [{ exchange: 'mx.hostile.example', priority: 10 }] },
  'mx.hostile.example': { A: [hostileHome] },
  [reverseName(home)]: { PTR: ['mx.home.example'] }
})
t.teardown(() => dns.close())

// The browser connects from 127.0.0.1; as a trusted proxy, that address may
// say (X-Forwarded-For) that the visitor is at the "home" address.
const app = await testApp({ DNS_SERVERS: dns.server, TRUST_PROXY: '127.0.0.1' })
t.teardown(() => app.close())
await app.listen({ host: '127.0.0.1', port: 0 })
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

const browser = await launch()
t.teardown(() => browser.close())

async function homeContext (opts: { js?: boolean, width?: number, locale?: string, ip?: string } = {}): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    extraHTTPHeaders: { 'x-forwarded-for': opts.ip ?? home },
    javaScriptEnabled: opts.js ?? true,
    viewport: { width: opts.width ?? 1100, height: 900 },
    locale: opts.locale ?? 'en-US'
  })
  ctx.setDefaultTimeout(15_000)
  return ctx
}

/** Store a report the way the runner does (events, then the report), optionally still running. */
async function storeReport (lines: Array<[ 'C' | 'S' | 'I', string ]>, finish = true): Promise<{ id: string, builder: ReportBuilder, flush: () => Promise<void> }> {
  const store = app.mx.store
  const events: ReportEvent[] = []
  const builder = new ReportBuilder('smtp', home, 'en', (ev) => { events.push(ev) })
  const id = builder.report.id
  const flush = async (): Promise<void> => { for (const ev of events.splice(0)) await store.appendEvent(id, ev, 3600) }
  builder.target({ domain: 'home.example', host: 'mx.home.example', ip: home })
  for (const [dir, text] of lines) builder.line(dir, text)
  builder.step('banner', 'pass', 'greeting received', 12)
  if (finish) {
    builder.advise('dns.ptr_missing', { ip: home })
    builder.finish('warn', 'a server that says hostile things')
  }
  await store.saveReport(builder.report, 3600)
  await flush()
  return { id, builder, flush }
}

t.test('the test page in both languages, with the caller IP and its reverse DNS', async (t) => {
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()

  const ja = await page.goto(`${base}/?lang=ja`)
  t.equal(ja?.status(), 200)
  t.match(ja?.headers()['content-security-policy'] ?? '', /script-src 'self'/)
  t.equal(await page.getAttribute('html', 'lang'), 'ja')
  t.equal((await page.textContent('#caller-ip'))?.trim(), home, 'the IP is shown at once, rendered by the server')
  t.equal((await page.textContent('#caller-ptr'))?.trim(), 'mx.home.example', 'with its reverse DNS')
  t.match(await page.textContent('#check-receive'), /テストメールを 1 通/, 'Japanese text, and the receive test says one mail will be sent')
  t.match(await page.textContent('#check-receive'), new RegExp(`${home.replace(/\./g, '\\.')} の 25 番ポート`), 'and which IP will be contacted')
  for (const c of ['dns', 'ports', 'smtp', 'receive', 'relay', 'roles', 'pop3']) {
    t.equal(await page.locator(`form[data-check="${c}"]`).count(), 1, `a form for ${c}`)
  }
  t.equal(await page.getAttribute('#pop3-password', 'type'), 'password')
  t.equal(await page.getAttribute('#pop3-password', 'autocomplete'), 'off')
  t.equal(await page.getAttribute('#receive-address', 'name'), 'address', 'form fields are named like the API body')
  t.same(await axeSerious(page), [], 'no serious accessibility violations (ja)')
  await screenshot(page, 'index-ja')

  // The language switch is a link; Accept-Language decides without ?lang.
  await page.click('nav.lang a[hreflang="en"]')
  await page.waitForURL(/lang=en/)
  t.equal(await page.getAttribute('html', 'lang'), 'en')
  t.match(await page.textContent('#check-receive'), /exactly one short test mail/)
  t.same(await axeSerious(page), [], 'no serious accessibility violations (en)')
  await screenshot(page, 'index-en')

  const jaCtx = await homeContext({ locale: 'ja-JP', width: 390 })
  t.teardown(() => jaCtx.close())
  const phone = await jaCtx.newPage()
  await phone.goto(`${base}/`)
  t.equal(await phone.getAttribute('html', 'lang'), 'ja', 'Accept-Language: ja picks Japanese')
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  t.ok(overflow <= 0, `no horizontal scrolling on a phone (overflow ${overflow}px)`)
  await screenshot(phone, 'index-ja-phone')
})

t.test('a DNS check run from the form: steps stream in, then the verdict with a link to the result page', async (t) => {
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.fill('#dns-domain', 'home.example')
  const [post] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/api/v1/checks/dns?async=1') && r.method() === 'POST'),
    page.click('form[data-check="dns"] button[type=submit]')
  ])
  t.same(post.postDataJSON(), { domain: 'home.example' }, 'the page calls the same API endpoint as any program')
  await page.waitForSelector('#live-dns .result .verdict')
  t.equal((await page.textContent('#live-dns .result .verdict'))?.trim(), 'Passed')
  t.ok(await page.locator('#live-dns ul.steps li').count() >= 3, 'steps are shown')
  const href = await page.getAttribute('#live-dns a.report-link', 'href')
  t.match(href, /^\/r\/[A-Za-z0-9_-]{16}\?lang=en$/)
  await screenshot(page, 'dns-check-done-en')

  // A refusal (bad input here) renders a readable box, not JSON.
  await page.fill('#dns-domain', 'bad domain!')
  await page.click('form[data-check="dns"] button[type=submit]')
  await page.waitForSelector('#live-dns .refusal')
  t.match(await page.textContent('#live-dns .refusal h4'), /input was not accepted/)

  await page.click('nav.lang a[hreflang="ja"]')
  await page.fill('#dns-domain', 'elsewhere.example')
  await page.click('form[data-check="dns"] button[type=submit]')
  await page.waitForSelector('#live-dns .result .verdict')
  t.equal((await page.textContent('#live-dns .result .verdict'))?.trim(), '不合格')
  t.match(await page.textContent('#live-dns ul.advice'), /DNS の値: 127\.9\.9\.9/, 'advice in the page language')
  await screenshot(page, 'dns-check-mismatch-ja')

  // The result page, from the link.
  await page.click('#live-dns a.report-link')
  await page.waitForSelector('article.report')
  t.equal(await page.getAttribute('html', 'lang'), 'ja')
  t.same(await axeSerious(page), [], 'no serious accessibility violations on the result page')
})

t.test('without JavaScript: the form posts, the result page refreshes itself until the check is done', async (t) => {
  const ctx = await homeContext({ js: false })
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.fill('#dns-domain', 'home.example')
  await page.click('form[data-check="dns"] button[type=submit]')
  await page.waitForURL(/\/r\/[A-Za-z0-9_-]{16}\?lang=en$/)
  await page.waitForSelector('article.report[data-status="pass"]', { timeout: 15_000 })
  t.match(await page.textContent('h1'), /DNS \/ MX/)
  t.match(await page.textContent('pre.copy-text'), /verdict: +PASS/)
  t.ok(await page.locator('button.copy').isHidden(), 'the copy button needs JavaScript and stays hidden without it')
  await screenshot(page, 'nojs-result-en')

  // Bad input without JavaScript: a page with the explanation, status 400.
  await page.goto(`${base}/?lang=en`)
  await page.fill('#dns-domain', 'a..b')
  const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/check/dns')), page.click('form[data-check="dns"] button[type=submit]')])
  t.equal(res.status(), 400)
  t.match(await page.textContent('h1'), /input was not accepted/)
})

t.test('a stored report: transcript marks, copy block and button; hostile server text stays text', async (t) => {
  const hostile = '220 <script>alert(1)</script> <img src=x onerror="alert(2)"> ESMTP'
  const { id } = await storeReport([
    ['S', hostile],
    ['C', 'EHLO probe.mxprobe.test'],
    ['S', '250-mx.home.example'],
    ['S', '250 STARTTLS'],
    ['C', 'PASS hunter2'],
    ['S', '550 5.1.1 <b>no such user</b>'],
    ['I', 'TLS upgrade: TLSv1.3']
  ])
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  const page = await ctx.newPage()
  const dialogs: string[] = []
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}) })
  await page.goto(`${base}/r/${id}?lang=en`)
  const first = page.locator('#transcript li').first()
  t.equal(await first.locator('.text').textContent(), hostile, 'the banner is shown exactly, as text')
  t.equal(await page.locator('#transcript img, #transcript script, #transcript b').count(), 0, 'no element was made from server text')
  t.match(await first.getAttribute('class'), /dir-S/)
  t.match(await page.locator('#transcript li').nth(1).getAttribute('class'), /dir-C/)
  t.match(await first.textContent(), /received: /, 'the direction is also told in words (for screen readers)')
  t.notMatch(await page.textContent('#transcript'), /hunter2/, 'a password never reaches the page')

  const copy = await page.textContent('pre.copy-text') ?? ''
  t.match(copy, /check: +smtp/)
  t.match(copy, new RegExp(`caller IP: +${home.replace(/\./g, '\\.')}`))
  t.match(copy, /target: +domain home\.example, host mx\.home\.example/)
  t.match(copy, /verdict: +WARN/)
  t.match(copy, /\d+ ms <- 220 <script>alert\(1\)<\/script>/, 'received lines marked <-, with timings')
  t.match(copy, /\d+ ms -> EHLO probe\.mxprobe\.test/, 'sent lines marked ->')
  t.match(copy, /-> PASS \*{8}/)
  t.notMatch(copy, /hunter2/, 'no password in the copy block')

  await page.click('button.copy')
  await page.waitForSelector('.copy-status:has-text("Copied")')
  const clip = await page.evaluate(() => navigator.clipboard.readText())
  t.equal(clip, copy, 'the button copies exactly the block')
  t.same(dialogs, [], 'no script from the transcript ran')
  t.same(await axeSerious(page), [], 'no serious accessibility violations')
  await screenshot(page, 'report-hostile-en')
})

t.test('a running report page follows the live stream and shows the final page when done', async (t) => {
  const { id, builder, flush } = await storeReport([['S', '220 mx.home.example ESMTP']], false)
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  const dialogs: string[] = []
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}) })
  await page.goto(`${base}/r/${id}?lang=ja`)
  t.equal(await page.getAttribute('article.report', 'data-status'), 'running')
  t.equal(await page.locator('#transcript li').count(), 1)

  // New lines arrive as events: the page grows without reloading.
  const grow = async (dir: 'C' | 'S', text: string): Promise<void> => {
    builder.line(dir, text)
    await flush()
  }
  await grow('C', 'EHLO probe.mxprobe.test')
  await page.waitForSelector('#transcript li:nth-child(2).dir-C')
  await grow('S', '250 <img src=x onerror=alert(3)>')
  await page.waitForSelector('#transcript li:nth-child(3).dir-S')
  t.equal(await page.locator('#transcript li').nth(2).locator('.text').textContent(), '250 <img src=x onerror=alert(3)>')
  await screenshot(page, 'report-running-ja')

  builder.finish('pass', 'done')
  await app.mx.store.saveReport(builder.report, 3600)
  await flush()
  await page.waitForSelector('article.report[data-status="pass"]')
  t.equal(await page.locator('#transcript li').count(), 3)
  t.same(dialogs, [])
})

t.test('the embed button on a page of another origin', async (t) => {
  // A "tutorial site" on another loopback address and port, with hostile styles of its own.
  const site = http.createServer((req, res) => {
    const check = new URL(req.url ?? '/', 'http://x').searchParams.get('check') ?? 'dns'
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><html lang="en"><head><title>Tutorial</title>
<style>button { background: rgb(255, 0, 0) !important; font-family: fantasy !important; } iframe { }</style></head>
<body><h1>Step 5: test your server</h1><p>Press the button.</p>
<script src="${base}/embed.js" data-check="${check}" async></script>
<p id="after">after the button</p></body></html>`)
  })
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.2', resolve))
  t.teardown(() => new Promise<void>((resolve) => site.close(() => resolve())))
  const siteBase = `http://127.0.0.2:${(site.address() as AddressInfo).port}`

  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${siteBase}/?check=dns`)
  await page.waitForSelector('iframe[data-mxprobe="dns"]')
  const frame = page.frameLocator('iframe[data-mxprobe="dns"]')
  await frame.locator('button[type=submit]').waitFor()
  t.equal(await frame.locator('button[type=submit]').evaluate((b) => getComputedStyle(b).backgroundColor === 'rgb(255, 0, 0)'), false, 'host styles do not reach the button')
  t.equal(await page.evaluate(() => (document.querySelector('iframe[data-mxprobe]') as HTMLIFrameElement).contentDocument), null, 'the host page cannot script into the frame')
  await frame.locator('#embed-domain').fill('home.example')
  await frame.locator('button[type=submit]').click()
  await frame.locator('.embed-result .verdict').waitFor()
  t.equal((await frame.locator('.embed-result .verdict').textContent())?.trim(), 'Passed')
  t.match(await frame.locator('.embed-result a.report-link').getAttribute('href'), /^\/r\/[A-Za-z0-9_-]{16}/)
  t.equal(await page.locator('h1').evaluate((h) => getComputedStyle(h).display), 'block', 'the host page is untouched')
  await screenshot(page, 'embed-dns-en')

  await page.goto(`${siteBase}/?check=ip`)
  const ipFrame = page.frameLocator('iframe[data-mxprobe="ip"]')
  await ipFrame.locator('button[type=submit]').click()
  await ipFrame.locator('.embed-result p').first().waitFor()
  t.match(await ipFrame.locator('.embed-result').textContent(), new RegExp(home.replace(/\./g, '\\.')))
  await screenshot(page, 'embed-ip-en')

  // The host page itself cannot start a check by calling the API: no CORS for POST. (A plain
  // context: the test's X-Forwarded-For header would itself force a preflight.)
  const plain = await browser.newContext()
  t.teardown(() => plain.close())
  const hostPage = await plain.newPage()
  await hostPage.goto(`${siteBase}/?check=ports`)
  const direct = await hostPage.evaluate(async (b) => {
    try {
      const r = await fetch(`${b}/api/v1/checks/dns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'home.example' }) })
      return `status ${r.status}`
    } catch (e) { return 'blocked' }
  }, base)
  t.equal(direct, 'blocked', 'a cross-origin POST to a check endpoint is blocked by the browser')
  const read = await hostPage.evaluate(async (b) => (await (await fetch(`${b}/api/v1/ip`)).json()).ip, base)
  t.equal(read, '127.0.0.1', 'read-only endpoints may be read from another origin')
})

t.test('a receive test from the form against a real SMTP server: the transcript grows line by line', async (t) => {
  // Each reply 150 ms late, so the page shows the dialogue while it happens.
  const smtp = await startSmtp({ ip: home, name: 'mx.home.example', starttls: true, users: ['taro'], delayMs: 150 })
  t.teardown(() => smtp.close())
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.fill('#receive-address', 'taro@home.example')
  await page.click('form[data-check="receive"] button[type=submit]')
  await page.waitForSelector('#live-receive ol.transcript li.dir-S')
  const early = await page.locator('#live-receive ol.transcript li').count()
  t.equal(await page.locator('#live-receive .result .verdict').count(), 0, 'the first lines show before the verdict')
  await page.waitForFunction((n) => document.querySelectorAll('#live-receive ol.transcript li').length > n + 2, early)
  await screenshot(page, 'receive-running-en')
  await page.waitForSelector('#live-receive .result .verdict', { timeout: 30_000 })
  t.equal((await page.textContent('#live-receive .result .verdict'))?.trim(), 'Passed')
  t.equal(smtp.delivered.length, 1, 'one test mail arrived')
  const lines = await page.locator('#live-receive ol.transcript li').allTextContents()
  t.ok(lines.some((l) => /sent: EHLO /.test(l)), 'sent lines are marked as sent')
  t.ok(lines.some((l) => /received: 220 /.test(l)), 'received lines are marked as received')
  t.ok(lines.every((l) => /^\d+ ms/.test(l)), 'every line has its time')
  t.ok(lines.length > early, `the transcript grew while the check ran (${early} lines at first, ${lines.length} at the end)`)
  await screenshot(page, 'receive-done-en')

  // Unknown user: 550 5.1.1, explained in Japanese.
  await page.goto(`${base}/?lang=ja`)
  await page.fill('#receive-address', 'nobody@home.example')
  await page.click('form[data-check="receive"] button[type=submit]')
  await page.waitForSelector('#live-receive .result .verdict', { timeout: 30_000 })
  t.equal((await page.textContent('#live-receive .result .verdict'))?.trim(), '不合格')
  t.match(await page.textContent('#live-receive ul.advice'), /5\.1\.1/, 'the 550 reply is explained')
  await screenshot(page, 'receive-unknown-user-ja')
  await page.click('#live-receive a.report-link')
  await page.waitForSelector('article.report[data-status="fail"]')
  t.match(await page.textContent('pre.copy-text'), /<- 550 5\.1\.1/)
  await screenshot(page, 'report-receive-fail-ja')
})

t.test('a live SMTP server that sends markup: every byte is shown as text', async (t) => {
  const replies: Record<string, string> = {
    EHLO: '250-mx.hostile.example <b>hello</b>\r\n250 <img src=x onerror="alert(4)">\r\n',
    MAIL: '250 ok\r\n',
    RCPT: '550 5.1.1 <script>alert(5)</script> unknown\r\n',
    RSET: '250 ok\r\n',
    QUIT: '221 bye\r\n'
  }
  const server = net.createServer((s) => {
    s.on('error', () => {})
    s.write('220 <script>alert(1)</script><img src=x onerror="alert(2)"> ESMTP\r\n')
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString('latin1')
      let i
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i).trim()
        buf = buf.slice(i + 1)
        const verb = line.split(/[ :]/)[0].toUpperCase()
        s.write(replies[verb] ?? '502 5.5.2 <i>what?</i>\r\n')
        if (verb === 'QUIT') s.end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(25, hostileHome, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const ctx = await homeContext({ ip: hostileHome })
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  const dialogs: string[] = []
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}) })
  await page.goto(`${base}/?lang=en`)
  await page.fill('#receive-address', 'x@hostile.example')
  await page.click('form[data-check="receive"] button[type=submit]')
  await page.waitForSelector('#live-receive .result .verdict', { timeout: 30_000 })
  const live = await page.locator('#live-receive ol.transcript li .text').allTextContents()
  t.ok(live.includes('220 <script>alert(1)</script><img src=x onerror="alert(2)"> ESMTP'), 'the banner as text in the live transcript')
  t.equal(await page.locator('#live-receive img, #live-receive script, #live-receive b').count(), 0)
  await page.click('#live-receive a.report-link')
  await page.waitForSelector('article.report')
  t.ok((await page.locator('#transcript li .text').allTextContents()).some((l) => l.includes('<script>alert(5)</script>')), 'and on the result page')
  t.equal(await page.locator('main img, main script, main b, main i').count(), 0, 'no element made from server bytes')
  t.same(dialogs, [], 'no script ran')
  await screenshot(page, 'report-live-hostile-en')
})
