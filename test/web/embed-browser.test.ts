// The embed button in a real browser, on a page of another origin: it runs
// the check for the visitor, the host page cannot script into it or style
// it, and the check endpoints answer no other origin.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { screenshot, axeSerious } from './browser.js'
import { harness } from './harness.js'

const { home, base, browser, homeContext } = await harness(t)

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
  const framePage = page.frames().find((f) => f.url().includes('/embed/frame'))!
  const inner = await ctx.newPage()
  await inner.goto(framePage.url())
  t.same(await axeSerious(inner), [], 'the frame has no serious accessibility violations')
  await inner.close()

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
