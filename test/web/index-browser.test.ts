// The test page in a real browser (Debian's headless Chromium): both
// languages, the caller's IP with reverse DNS, the forms, a phone-sized
// screen, and axe-core's accessibility rules.
import t from 'tap'
import { screenshot, axeSerious, SCREENSHOTS } from './browser.js'
import { harness } from './harness.js'

const { home, base, homeContext } = await harness(t)

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
  await phone.screenshot({ path: `${SCREENSHOTS}/index-ja-phone-top.png` })
  await screenshot(phone, 'index-ja-phone-pop3', '#check-pop3')
})
