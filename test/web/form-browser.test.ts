// Checks run from the test page in a real browser: with JavaScript (the API
// with ?async=1 and the live event stream), and without (the form posts,
// the result page refreshes itself); refusals as readable text.
import t from 'tap'
import { screenshot, axeSerious } from './browser.js'
import { harness } from './harness.js'

const { base, homeContext } = await harness(t)

t.test('a DNS check run from the form: steps stream in, then the verdict with a link to the result page', async (t) => {
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.click('#check-dns > summary')
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
  await screenshot(page, 'dns-check-done-en', '#check-dns')

  // A refusal (bad input here) renders a readable box, not JSON.
  await page.fill('#dns-domain', 'bad domain!')
  await page.click('form[data-check="dns"] button[type=submit]')
  await page.waitForSelector('#live-dns .refusal')
  t.match(await page.textContent('#live-dns .refusal h4'), /input was not accepted/)

  await page.click('nav.lang a[hreflang="ja"]')
  await page.click('#check-dns > summary')
  await page.fill('#dns-domain', 'elsewhere.example')
  await page.click('form[data-check="dns"] button[type=submit]')
  await page.waitForSelector('#live-dns .result .verdict')
  t.equal((await page.textContent('#live-dns .result .verdict'))?.trim(), '問題あり')
  t.match(await page.textContent('#live-dns ul.advice'), /DNS の値: 127\.9\.9\.9/, 'advice in the page language')
  await screenshot(page, 'dns-check-mismatch-ja', '#check-dns')

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
  await page.click('#check-dns > summary')
  await page.fill('#dns-domain', 'home.example')
  await page.click('form[data-check="dns"] button[type=submit]')
  await page.waitForURL(/\/r\/[A-Za-z0-9_-]{16}\?lang=en$/)
  await page.waitForSelector('article.report[data-status="pass"]', { timeout: 15_000 })
  t.match(await page.textContent('h1'), /DNS \/ MX/)
  t.match(await page.textContent('pre.copy-text'), /\nResult: OK/)
  t.ok(await page.locator('button.copy').isHidden(), 'the copy button needs JavaScript and stays hidden without it')
  await screenshot(page, 'nojs-result-en')

  // Bad input without JavaScript: a page with the explanation, status 400.
  await page.goto(`${base}/?lang=en`)
  await page.click('#check-dns > summary')
  await page.fill('#dns-domain', 'a..b')
  const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/check/dns')), page.click('form[data-check="dns"] button[type=submit]')])
  t.equal(res.status(), 400)
  t.match(await page.textContent('h1'), /input was not accepted/)
})
