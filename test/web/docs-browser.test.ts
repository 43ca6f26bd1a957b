// /docs in a real browser: its own page in both languages (not the English
// OpenAPI UI), a curl example for every endpoint, the embed snippet with
// every attribute, on a phone without sideways scrolling, dark too, axe.
import t from 'tap'
import { screenshot, axeSerious } from './browser.js'
import { harness } from './harness.js'
import { docsText } from '../../src/i18n/docs-web.js'

const { base, homeContext } = await harness(t)

for (const lang of ['ja', 'en'] as const) {
  for (const width of [390, 1280]) {
    t.test(`/docs, ${lang}, ${width} px`, async (t) => {
      const ctx = await homeContext({ width, locale: lang === 'ja' ? 'ja-JP' : 'en-US', dark: width === 390 })
      t.teardown(() => ctx.close())
      const page = await ctx.newPage()
      const res = await page.goto(`${base}/docs?lang=${lang}`)
      t.equal(res?.status(), 200)
      t.equal(await page.getAttribute('html', 'lang'), lang)
      t.equal(await page.textContent('h1'), docsText(lang).title)
      const examples = await page.locator('section.endpoint pre code').allTextContents()
      t.equal(examples.length, docsText(lang).endpoints.length, 'an example for every endpoint')
      t.ok(examples.every((e) => e.includes(`${base}/`)), 'with this service\'s own address')
      const snippet = await page.textContent('#embed pre code') ?? ''
      for (const a of ['data-check', 'data-lang', 'data-target']) t.match(snippet, a, `the snippet shows ${a}`)
      t.match(await page.textContent('#embed table') ?? '', /smtp, roles, pop3/, 'every check the button can run')
      t.equal(await page.getAttribute('#openapi a[href="/docs/openapi"]', 'href'), '/docs/openapi', 'the OpenAPI page is linked')
      const viewport = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }))
      t.ok(viewport.scroll <= viewport.client, `no sideways scrolling (${viewport.scroll} > ${viewport.client}?)`)
      t.equal(viewport.client, width, 'rendered at the screen\'s width, not 980 px')
      t.same(await axeSerious(page), [], 'no serious accessibility violations')
      await screenshot(page, `docs-${lang}-${width}${width === 390 ? '-dark' : ''}`)
    })
  }
}

t.test('the footer links the page in the page\'s language; the OpenAPI page and JSON stay', async (t) => {
  const ctx = await homeContext({ locale: 'ja-JP' })
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=ja`)
  await Promise.all([page.waitForURL(/\/docs\?lang=ja/), page.click('footer a')])
  t.equal(await page.textContent('h1'), docsText('ja').title)
  const ui = await page.goto(`${base}/docs/openapi`)
  t.equal(ui?.status(), 200, 'the generated OpenAPI page')
  const spec = await page.goto(`${base}/docs/json`)
  t.match(JSON.parse(await spec!.text()).openapi, /^3\./)
})
