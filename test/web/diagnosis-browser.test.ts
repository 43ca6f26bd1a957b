// まとめて診断 in a real browser against a real SMTP server on the visitor's
// "home" address: one input, one button; while it runs, each check shows
// the stage it is in and a countdown (never an empty "running" card); at
// the end the verdict, まずこれを直す and a link per check. Without
// JavaScript the same form posts and the page refreshes itself to the end.
import t from 'tap'
import { startSmtp } from '../fixtures/smtp.js'
import { screenshot, axeSerious } from './browser.js'
import { harness } from './harness.js'

const { home, base, homeContext } = await harness(t)

t.test('a diagnosis from the home page: live stages and countdowns, then fix-first and links', async (t) => {
  // Each reply a little late, so the page shows the checks while they run.
  const smtp = await startSmtp({ ip: home, name: 'mx.home.example', starttls: true, users: ['taro', 'postmaster'], delayMs: 150 })
  t.teardown(() => smtp.close())
  const ctx = await homeContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' })
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=ja`)
  await page.fill('#target', 'taro@home.example')
  await Promise.all([page.waitForURL(/\/r\/[A-Za-z0-9_-]{16}\?lang=ja$/), page.click('form.diagnose button[type=submit]')])

  // While it runs: record what the rows show, until the final page is there.
  const seen: Array<{ status: string, stage: string, countdown: string }> = []
  for (let i = 0; i < 600; i++) {
    const rows = await page.evaluate(() => document.querySelector('article.diagnosis[data-running]')
      ? Array.from(document.querySelectorAll('li.child')).map((li) => ({ status: li.getAttribute('data-status') ?? '', stage: li.querySelector('.stage')?.textContent ?? '', countdown: li.querySelector('.countdown')?.textContent ?? '' }))
      : null).catch(() => [])
    if (rows === null) break
    seen.push(...rows)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await page.waitForSelector('article.diagnosis:not([data-running])', { timeout: 60_000 })

  const running = seen.filter((s) => s.status === 'running')
  t.ok(running.length > 0, `checks were seen running (${seen.length} samples)`)
  t.ok(running.every((s) => s.stage.trim() !== ''), 'a running check always names its stage')
  t.ok(running.some((s) => /^残り \d+ 秒$/.test(s.countdown)), 'and counts down to its deadline')
  t.equal(await page.getAttribute('html', 'lang'), 'ja')
  const rows = await page.locator('li.child').count()
  t.ok(rows >= 6, `every check has a row (${rows})`)
  t.equal(await page.locator('li.child a.child-link').count(), rows, 'each links to its full report')
  t.equal(await page.locator('li.child[data-status="running"], li.child[data-status="waiting"]').count(), 0, 'none is left running')
  t.ok(await page.locator('#fix-first').isVisible(), 'まずこれを直す is there')
  t.match(await page.textContent('#fix-title'), /まずこれを直す/)
  t.ok(await page.locator('pre.copy-text').isVisible(), 'the forum text, now that it is done')
  t.equal(await page.getAttribute('form.rerun input[name=target]', 'value'), 'taro@home.example', 're-run runs the same input')
  t.match(await page.textContent('time[data-local]'), /JST/, 'times in the visitor\'s zone, with the zone shown')
  t.same(await axeSerious(page), [], 'no serious accessibility violations')
  await screenshot(page, 'diagnosis-live-done-ja')

  // Share copies the page's address.
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  await page.click('button.share-button')
  await page.waitForSelector('.share-status:has-text("コピーしました")')
  t.match(await page.evaluate(() => navigator.clipboard.readText()), /\/r\/[A-Za-z0-9_-]{16}$/)
})

t.test('without JavaScript: the form posts, the page refreshes itself to the final diagnosis', async (t) => {
  const smtp = await startSmtp({ ip: home, name: 'mx.home.example', starttls: true, users: ['taro', 'postmaster'] })
  t.teardown(() => smtp.close())
  const ctx = await homeContext({ js: false })
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.fill('#target', 'home.example')
  await page.click('form.diagnose button[type=submit]')
  await page.waitForURL(/\/r\/[A-Za-z0-9_-]{16}\?lang=en$/)
  await page.waitForSelector('article.diagnosis:not([data-running])', { timeout: 60_000 })
  t.ok(await page.locator('li.child a.child-link').count() >= 6, 'a link per check')
  t.match(await page.textContent('#fix-title'), /Fix this first/)
})
