// One Chromium, one app and one DNS fixture per browser test file: the
// visitor appears to come from a random "home" loopback address (the
// browser connects from 127.0.0.1, a trusted proxy, and sends
// X-Forwarded-For), so the target rule works as it does for a real visitor.
import type { Test } from 'tap'
import type { AddressInfo } from 'node:net'
import type { BrowserContext, Browser } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { startDns, reverseName } from '../fixtures/dns.js'
import { testApp, randomLoopback, REDIS_URL } from '../helpers.js'
import { launch } from './browser.js'
import { ReportBuilder, type ReportEvent } from '../../src/core/report.js'

export interface Harness {
  home: string
  hostileHome: string
  base: string
  app: FastifyInstance
  browser: Browser
  homeContext: (opts?: { js?: boolean, width?: number, locale?: string, ip?: string, timezoneId?: string, dark?: boolean }) => Promise<BrowserContext>
  storeReport: (lines: Array<[ 'C' | 'S' | 'I', string ]>, finish?: boolean) => Promise<{ id: string, builder: ReportBuilder, flush: () => Promise<void> }>
}

export async function harness (tap: Test): Promise<Harness> {
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
  tap.teardown(() => dns.close())

  // The browser connects from 127.0.0.1; as a trusted proxy, that address may
  // say (X-Forwarded-For) that the visitor is at the "home" address. Real
  // Redis (own key prefix): the live pages follow events through its pub/sub.
  const app = await testApp({ DNS_SERVERS: dns.server, TRUST_PROXY: '127.0.0.1', REDIS_URL })
  tap.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const browser = await launch()
  tap.teardown(() => browser.close())

  async function homeContext (opts: { js?: boolean, width?: number, locale?: string, ip?: string, timezoneId?: string, dark?: boolean } = {}): Promise<BrowserContext> {
    const ctx = await browser.newContext({
      extraHTTPHeaders: { 'x-forwarded-for': opts.ip ?? home },
      javaScriptEnabled: opts.js ?? true,
      viewport: { width: opts.width ?? 1100, height: 900 },
      locale: opts.locale ?? 'en-US',
      timezoneId: opts.timezoneId,
      colorScheme: opts.dark ? 'dark' : 'light'
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
      builder.step('ptr', 'warn', 'no PTR record')
      builder.finish('a server that says hostile things')
    }
    await store.saveReport(builder.report, 3600)
    await flush()
    return { id, builder, flush }
  }

  return { home, hostileHome, base, app, browser, homeContext, storeReport }
}
