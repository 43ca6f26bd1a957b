// A receive test run from the form in a real browser against a real SMTP
// server (smtp-server fixture on the home address): the transcript grows
// line by line while the dialogue happens; a 550 is explained.
import t from 'tap'
import { startSmtp } from '../fixtures/smtp.js'
import { screenshot } from './browser.js'
import { harness } from './harness.js'

const { home, base, homeContext } = await harness(t)

t.test('a receive test from the form against a real SMTP server: the transcript grows line by line', async (t) => {
  // Each reply 300 ms late, so the page shows the dialogue while it happens.
  const smtp = await startSmtp({ ip: home, name: 'mx.home.example', starttls: true, users: ['taro'], delayMs: 300 })
  t.teardown(() => smtp.close())
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.click('#check-receive > summary')
  await page.fill('#receive-address', 'taro@home.example')
  // Record every change of the live area: how many lines, and whether the verdict is there yet.
  await page.evaluate(() => {
    const w = window as unknown as { growth: Array<{ lines: number, verdict: boolean }> }
    w.growth = []
    const live = document.getElementById('live-receive')!
    new MutationObserver(() => {
      w.growth.push({ lines: live.querySelectorAll('ol.transcript li').length, verdict: !!live.querySelector('.result .verdict') })
    }).observe(live, { childList: true, subtree: true })
  })
  await page.click('form[data-check="receive"] button[type=submit]')
  await page.waitForSelector('#live-receive ol.transcript li.dir-S')
  await screenshot(page, 'receive-running-en', '#check-receive')
  await page.waitForSelector('#live-receive .result .verdict', { timeout: 30_000 })
  t.equal((await page.textContent('#live-receive .result .verdict'))?.trim(), 'Passed')
  t.equal(smtp.delivered.length, 1, 'one test mail arrived')
  const lines = await page.locator('#live-receive ol.transcript li.line:not(.fold)').allTextContents()
  // The test mail itself is folded: the replies after it are top-level lines, in sight.
  t.equal(await page.locator('#live-receive ol.transcript > li.fold details').count(), 1, 'the sent mail is one folded item')
  t.notOk(await page.locator('#live-receive ol.transcript > li.fold details').evaluate((d) => (d as HTMLDetailsElement).open), 'closed')
  const top = await page.locator('#live-receive ol.transcript > li.line:not(.fold) .text').allTextContents()
  const queued = top.findIndex((l) => /^250 .*(queued|Accepted|OK)/i.test(l) && top.indexOf(l) > top.findIndex((x) => x.startsWith('354')))
  t.ok(queued > 0, 'the 250 after the mail is a top-level line')
  t.ok(top.every((l) => !/^Subject:|^Content-Type:/i.test(l)), 'no line of the mail at the top level')
  t.ok(lines.some((l) => /sent: EHLO /.test(l)), 'sent lines are marked as sent')
  t.ok(lines.some((l) => /received: 220 /.test(l)), 'received lines are marked as received')
  t.ok(lines.every((l) => /^\d+ ms/.test(l)), 'every line has its time')
  const growth = await page.evaluate(() => (window as unknown as { growth: Array<{ lines: number, verdict: boolean }> }).growth)
  const before = [...new Set(growth.filter((g) => !g.verdict && g.lines > 0).map((g) => g.lines))]
  t.ok(before.length >= 5, `the transcript grew line by line before the verdict (counts seen: ${before.join(', ')})`)
  await screenshot(page, 'receive-done-en', '#check-receive')

  // Unknown user: 550 5.1.1, explained in Japanese.
  await page.goto(`${base}/?lang=ja`)
  await page.click('#check-receive > summary')
  await page.fill('#receive-address', 'nobody@home.example')
  await page.click('form[data-check="receive"] button[type=submit]')
  await page.waitForSelector('#live-receive .result .verdict', { timeout: 30_000 })
  t.equal((await page.textContent('#live-receive .result .verdict'))?.trim(), '問題あり')
  t.match(await page.textContent('#live-receive ul.advice'), /5\.1\.1/, 'the 550 reply is explained')
  const explainedLine = page.locator('#live-receive ol.transcript li.dir-S', { hasText: '550 5.1.1' }).first()
  t.match(await explainedLine.locator('.explain').textContent(), /5\.1\.1.*宛先メールボックス/, 'right under the line that carried it, in Japanese')
  await screenshot(page, 'receive-unknown-user-ja', '#check-receive')
  await page.click('#live-receive a.report-link')
  await page.waitForSelector('article.report[data-status="fail"]')
  t.match(await page.textContent('pre.copy-text'), /<- 550 5\.1\.1/)
  t.match(await page.locator('#transcript li.dir-S', { hasText: '550 5.1.1' }).first().locator('.explain').textContent(), /宛先メールボックス/, 'and on the result page')
  await screenshot(page, 'report-receive-fail-ja')
})

t.test('a refused mail test (IP mismatch) explains itself with what DNS says', async (t) => {
  const ctx = await homeContext()
  t.teardown(() => ctx.close())
  const page = await ctx.newPage()
  await page.goto(`${base}/?lang=en`)
  await page.click('#check-receive > summary')
  await page.fill('#receive-address', 'taro@elsewhere.example')
  await page.click('form[data-check="receive"] button[type=submit]')
  await page.waitForSelector('#live-receive .refusal')
  const box = await page.textContent('#live-receive .refusal') ?? ''
  t.match(box, /DNS has another address than your IP \(dynamic DNS not updated\)/, 'the heading names the mistake')
  t.match(box, /only tests the server at the address you are visiting from/, 'why a mismatch is refused')
  t.match(box, /mx\.elsewhere\.example/)
  t.match(box, /127\.9\.9\.9/, 'and what DNS says')
  await screenshot(page, 'receive-refused-en', '#check-receive')
})
