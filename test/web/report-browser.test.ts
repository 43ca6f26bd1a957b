// The result page in a real browser: transcript marks, the copy block and
// its button, a running report that follows the live stream, and server
// text with markup (stored, and from a live scripted SMTP server) shown as
// text with no script run; the ports check's table.
import t from 'tap'
import net from 'node:net'
import { screenshot, axeSerious } from './browser.js'
import { harness } from './harness.js'

const { home, hostileHome, base, app, homeContext, storeReport } = await harness(t)

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
  // The forum text (src/web/report-text.ts, branch diag): one language, MX → IP first.
  t.match(copy, /^mxprobe .*report \([A-Za-z0-9_-]{16}\)/)
  t.match(copy, new RegExp(`tested from IP: ${home.replace(/\./g, '\\.')}`))
  t.match(copy, /home\.example/)
  t.match(copy, /\nResult: warning/)
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

  // The same running report without JavaScript: the page refreshes itself.
  const noJs = await homeContext({ js: false })
  t.teardown(() => noJs.close())
  const plain = await noJs.newPage()
  await plain.goto(`${base}/r/${id}?lang=ja`)
  t.equal(await plain.getAttribute('article.report', 'data-status'), 'running')

  builder.finish('done')
  await app.mx.store.saveReport(builder.report, 3600)
  await flush()
  await page.waitForSelector('article.report[data-status="pass"]')
  t.equal(await page.locator('#transcript li').count(), 3)
  await plain.waitForSelector('article.report[data-status="pass"]', { timeout: 20_000 })
  t.pass('without JavaScript the page refreshed to the final report')
  t.same(dialogs, [])
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
  await page.click('#check-receive > summary')
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

t.test('the ports check from the form: the result page lists each port with its state', async (t) => {
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.click('#check-ports > summary')
  for (const p of [143, 465, 587, 993, 995]) await page.uncheck(`form[data-check="ports"] input[value="${p}"]`)
  const [post] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/api/v1/checks/ports?async=1')),
    page.click('form[data-check="ports"] button[type=submit]')
  ])
  t.same(post.postDataJSON(), { ports: [25, 110] })
  await page.waitForSelector('#live-ports .result .verdict', { timeout: 30_000 })
  await page.click('#live-ports a.report-link')
  await page.waitForSelector('article.report')
  const rows = await page.locator('#details-title ~ .table-wrap tbody tr').allTextContents()
  t.equal(rows.length, 2)
  t.match(rows[0], /^25\s*refused/, 'nothing listens on the home address: refused')
  await screenshot(page, 'report-ports-en')
})
