// A dual-stack home in a real browser: the page loads from the IPv4 origin,
// asks the IPv6 origin (another listener of the same app, on an IPv6
// address of the home /64 on lo) for a proof, shows both families, and a
// whole diagnosis of a domain whose MX has only an AAAA runs against the
// mail server at another address of that /64. An IPv6 origin that does
// not answer is "IPv6 なし". Screenshots in Japanese and English.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { BrowserContext } from 'playwright-core'
import { startDns, publishMx, type Zone } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { testApp, randomLoopback, ipv6Home, requireTool } from '../helpers.js'
import { launch, screenshot, axeSerious } from './browser.js'

t.test('both families on the page, and a diagnosis of an IPv6-only MX from an IPv4 page', async (t) => {
  if (!requireTool(t, 'root', 'chromium')) return
  // The PC at ::2 of the home /64 (where the IPv6 origin answers), the mail server at ::25.
  const home = await ipv6Home(t, 2, 25)
  if (!home) return
  const v4home = randomLoopback()
  const [mx4, mx6] = await Promise.all([
    startSmtp({ ip: v4home, name: 'mx.dual.test', users: ['postmaster', 'abuse', 'webmaster', 'hostmaster', 'noc', 'security', 'ftp'] }),
    startSmtp({ ip: home.addr(25), name: 'mx.v6only.test', users: ['postmaster', 'abuse', 'webmaster', 'hostmaster', 'noc', 'security', 'ftp'] })
  ])
  t.teardown(async () => { await Promise.all([mx4.close(), mx6.close()]) })
  const zone: Zone = {}
  publishMx(zone, 'dual.test', v4home, 'mx.dual.test', home.addr(25))
  zone['v6only.test'] = { MX: [{ exchange: 'mx.v6only.test', priority: 10 }] }
  zone['mx.v6only.test'] = { AAAA: [home.addr(25)] }
  const dns = await startDns(zone)
  t.teardown(() => dns.close())

  const many = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'pop3', 'tls'].map((x) => `${x}=1000/600`).join(',')
  // The browser reaches the IPv4 origin from 127.0.0.1, a trusted proxy that names the home's IPv4 address.
  const app = await testApp({ DNS_SERVERS: dns.server, TRUST_PROXY: '127.0.0.1', PROOF_SECRET: 'a secret shared by both listeners', RATE_LIMITS: many, DOMAIN_RATE_LIMITS: many })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  // Origins by name, as in a deployment (a CSP source cannot be an IPv6 literal); the browser maps the names.
  const v4base = `http://v4.mxprobe.test:${(app.server.address() as AddressInfo).port}`
  // The IPv6 origin: the same app behind a second listener on the home's IPv6 address.
  const v6server = http.createServer((req, res) => { app.routing(req, res) })
  await new Promise<void>((resolve) => v6server.listen(0, home.addr(2), resolve))
  t.teardown(() => new Promise<void>((resolve) => { v6server.closeAllConnections(); v6server.close(() => resolve()) }))
  const v6base = `http://v6.mxprobe.test:${(v6server.address() as AddressInfo).port}`
  Object.assign(app.mx.config.check.origins!, { 4: v4base, 6: v6base })

  const browser = await launch([`--host-resolver-rules=MAP v4.mxprobe.test 127.0.0.1, MAP v6.mxprobe.test [${home.addr(2)}]`])
  t.teardown(() => browser.close())
  const v4host = new URL(v4base).host
  async function visitor (locale: string, opts: { v6?: boolean } = {}): Promise<BrowserContext> {
    const ctx = await browser.newContext({ locale, viewport: { width: 1100, height: 900 } })
    ctx.setDefaultTimeout(20_000)
    // Only requests to the IPv4 origin carry the proxy's header; the IPv6 origin sees the PC's own address.
    await ctx.route('**/*', (route) => {
      const u = new URL(route.request().url())
      if (u.host === v4host) return route.continue({ headers: { ...route.request().headers(), 'x-forwarded-for': v4home } })
      if (opts.v6 === false) return route.abort('addressunreachable')
      return route.continue()
    })
    return ctx
  }

  t.test('ja: both families proven, then a diagnosis of the IPv6-only MX', async (t) => {
    const ctx = await visitor('ja-JP')
    t.teardown(() => ctx.close())
    const page = await ctx.newPage()
    const res = await page.goto(`${v4base}/`)
    t.match(res?.headers()['content-security-policy'] ?? '', `connect-src 'self' ${v4base} ${v6base}`)
    await page.waitForSelector('#caller-ip6[data-state="proven"]')
    await page.waitForSelector('#caller-ip4[data-state="proven"]')
    t.equal((await page.textContent('#families-title'))?.trim(), 'あなたの IPv4 / IPv6')
    t.equal((await page.textContent('#caller-ip4'))?.trim(), v4home, 'the IPv4 origin saw the home\'s IPv4 address')
    t.equal((await page.textContent('#caller-ip6'))?.trim(), home.addr(2), 'the IPv6 origin saw the PC\'s IPv6 address')
    const proofs = await page.$$eval('form.diagnose input[name="proofs"]', (els) => els.map((e) => (e as HTMLInputElement).value))
    t.equal(proofs.length, 2)
    t.ok(proofs.every((p) => /^[A-Za-z0-9_-]{56,72}$/.test(p)), 'both hidden fields hold a proof')
    t.same(await axeSerious(page), [], 'no serious accessibility violations')
    await screenshot(page, 'families-ja', '#my-ip')

    await page.fill('#target', 'v6only.test')
    await Promise.all([page.waitForURL(/\/r\/[A-Za-z0-9_-]{16}\?lang=ja$/), page.click('form.diagnose button[type=submit]')])
    await page.waitForSelector('article.diagnosis:not([data-running])', { timeout: 90_000 })
    const id = new URL(page.url()).pathname.slice(3)
    const r = (await app.inject({ url: `/api/v1/checks/${id}` })).json()
    t.equal(r.type, 'all')
    t.equal(r.callerIp, v4home, 'the page was posted over IPv4')
    t.equal(r.target.ip, home.addr(25), 'the IPv6-only MX was the caller\'s, by the proof of the /64')
    const smtp = r.children.find((c: { type: string }) => c.type === 'smtp')
    t.match(smtp.status, /^(pass|warn)$/, smtp.summary)
    t.ok(mx6.connections > 0, 'the IPv6 mail server was reached')
    t.notOk((await page.content()).includes(proofs[1]), 'no proof on the result page')
    await screenshot(page, 'families-ja-diagnosis')
  })

  t.test('en: an IPv6 origin that does not answer is "no IPv6"; a check still runs over IPv4', async (t) => {
    const ctx = await visitor('en-US', { v6: false })
    t.teardown(() => ctx.close())
    const page = await ctx.newPage()
    await page.goto(`${v4base}/?lang=en`)
    await page.waitForSelector('#caller-ip6[data-state="none"]')
    await page.waitForSelector('#caller-ip4[data-state="proven"]')
    t.equal((await page.textContent('#families-title'))?.trim(), 'Your IPv4 / IPv6')
    t.equal((await page.textContent('#caller-ip6'))?.trim(), 'no IPv6')
    t.equal((await page.textContent('#caller-ip4'))?.trim(), v4home)
    t.same(await page.$$eval('form[data-check="smtp"] input[name="proofs"]', (els) => els.map((e) => (e as HTMLInputElement).value === '')), [false, true], 'only the IPv4 proof is filled in')
    await screenshot(page, 'families-en-no-ipv6', '#my-ip')
    // A single check through the page script (JSON with proofs) on the dual-stack domain.
    await page.click('#check-smtp summary')
    await page.fill('#smtp-domain', 'dual.test')
    await page.click('form[data-check="smtp"] button[type=submit]')
    await page.waitForSelector('#live-smtp .result .verdict', { timeout: 60_000 })
    t.match(await page.textContent('#live-smtp .result .summary'), /mx\.dual\.test/)
    await screenshot(page, 'families-en-smtp', '#check-smtp')
  })
})
