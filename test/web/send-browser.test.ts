// The send test page in a real browser (Debian's Chromium): the form gives
// a one-time address with a copy button and ready-made commands, the
// countdown runs, and when a mail arrives at the listener the result
// appears live (SSE), in English on a desktop and in Japanese on a phone.
// Screenshots go to test/screenshots/send-*.png.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { startDns, publishMx } from '../fixtures/dns.js'
import { testApp, randomLoopback, REDIS_URL } from '../helpers.js'
import { talk } from '../fixtures/smtp-talk.js'
import { launch, screenshot, axeSerious } from './browser.js'

const home = randomLoopback()
const zone = {}
publishMx(zone, 'home.test', home)
Object.assign(zone, { 'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }], TXT: [`v=spf1 ip4:${home} -all`] } })
const dns = await startDns(zone)
t.teardown(() => dns.close())
const app = await testApp({ DNS_SERVERS: dns.server, TRUST_PROXY: '127.0.0.1', REDIS_URL, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '' })
t.teardown(() => app.close())
await app.listen({ host: '127.0.0.1', port: 0 })
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
const browser = await launch()
t.teardown(() => browser.close())

async function deliver (address: string, subject: string): Promise<void> {
  const s = await talk(app.mx.inbound!.host, app.mx.inbound!.port, home)
  await s.cmd('EHLO mx.home.test')
  await s.cmd('MAIL FROM:<taro@home.test>')
  await s.cmd(`RCPT TO:<${address}>`)
  await s.cmd('DATA')
  await s.data(`From: taro@home.test\r\nTo: ${address}\r\nSubject: ${subject}\r\n\r\nhello\r\n`)
  await s.cmd('QUIT')
}

for (const v of [{ lang: 'en', width: 1100, name: 'desktop', locale: 'en-US' }, { lang: 'ja', width: 390, name: 'phone', locale: 'ja-JP' }]) {
  t.test(`send test page, ${v.lang} ${v.name}`, async (t) => {
    const ctx = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': home }, viewport: { width: v.width, height: 900 }, locale: v.locale })
    t.teardown(() => ctx.close())
    ctx.setDefaultTimeout(15_000)
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
    const page = await ctx.newPage()
    await page.goto(`${base}/send?lang=${v.lang}`)
    t.match(await page.textContent('.notice'), new RegExp(home.replace(/\./g, '\\.')), 'says what will happen, with the caller\'s IP')
    await screenshot(page, `send-form-${v.lang}-${v.name}`)
    await page.fill('#send-domain', 'home.test')
    await Promise.all([page.waitForURL(/\/send\/[A-Za-z0-9_-]{16}/), page.click('form.send-form button[type=submit]')])
    const address = (await page.textContent('#send-address'))!.trim()
    t.match(address, /^t-[0-9a-f]{20}@send\.test$/, 'the one-time address is shown')
    t.match(await page.textContent('pre.snippet'), new RegExp(`sendmail -f postmaster@home\\.test ${address}`), 'a ready-made sendmail command')
    const first = (await page.textContent('#send-countdown'))!.trim()
    t.match(first, /^1[45]:\d\d$/, 'the countdown starts at 15 minutes')
    await page.waitForFunction((f) => document.getElementById('send-countdown')!.textContent !== f, first, { timeout: 5000 })
    t.pass('the countdown runs')
    await page.click('#send-copy')
    await page.waitForFunction(() => (document.getElementById('send-copy-status')!.textContent ?? '').length > 0)
    t.equal(await page.evaluate(() => navigator.clipboard.readText()), address, 'the copy button copies the address')
    t.same((await axeSerious(page)).map((x) => x.id), [], 'no serious accessibility problems while waiting')
    await screenshot(page, `send-waiting-${v.lang}-${v.name}`)

    await deliver(address, v.lang === 'ja' ? '=?UTF-8?B?6ZaL6YCa44OG44K544OI?=' : 'opening test')
    await page.waitForSelector('#send-summary', { timeout: 20_000 })
    t.match(await page.textContent('#send-verdict'), v.lang === 'ja' ? /注意/ : /Warning/, 'the verdict appears live')
    const advice = await page.locator('#send-advice li').allTextContents()
    t.ok(advice.some((a) => v.lang === 'ja' ? /STARTTLS/.test(a) : /STARTTLS/.test(a)), 'with the advice, in the page language')
    t.equal(await page.textContent('#send-countdown'), '0:00', 'the countdown stops')
    // The big receivers' checklist arrives with the result, rendered by the server, without a reload.
    await page.waitForSelector('#send-rules', { timeout: 10_000 })
    t.match(await page.textContent('#send-rules-score'), /Gmail \d+\/\d+\s+Yahoo \d+\/\d+/, 'the score, live')
    t.equal(await page.locator('#send-rules-slot').count(), 0, 'the slot was replaced')
    t.ok(await page.locator('#send-rules li.r-unmet[data-rule="tls"]').count() > 0, 'sent without TLS: the TLS rule unmet')
    t.same((await axeSerious(page)).map((x) => x.id), [], 'no serious accessibility problems with the result')
    await screenshot(page, `send-done-${v.lang}-${v.name}`)
    await page.click('#send-full')
    await page.waitForSelector('ol.transcript li')
    t.ok((await page.locator('ol.transcript li.dir-S').allTextContents()).some((l) => l.includes(`RCPT TO:<${address}>`)), 'the full report shows the dialogue as received')
  })
}
