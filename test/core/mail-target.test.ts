// The rule for mail tests, through a real route: the caller's IP must be an
// address of an MX host of the domain. A refusal explains itself (caller IP,
// MX hosts, addresses) and opens no socket, asserted at the connector and
// at a real listener.
import t from 'tap'
import net from 'node:net'
import { Type } from '@sinclair/typebox'
import { testApp, randomLoopback } from '../helpers.js'
import { startDns } from '../fixtures/dns.js'
import { registerCheckRoute } from '../../routes/helpers.js'
import { mailTargetFor } from '../../src/checks/mailhosts.js'
import { validateDomain } from '../../src/dns/names.js'
import type { CheckDefinition } from '../../src/checks/context.js'

// A minimal mail check: resolve the target by the rule, connect, read the banner.
const bannerCheck: CheckDefinition<{ domain: string }, { ip: string }> = {
  type: 'banner-test',
  probes: true,
  async prepare (ctx, input) {
    const d = validateDomain(input.domain)
    const { match } = await mailTargetFor(ctx, d.ascii)
    ctx.report.target({ domain: d.ascii, host: match.host.host, ip: match.address.address })
    return { ip: match.address.address }
  },
  async run (ctx, plan) {
    const g = await ctx.connect(plan.ip, 25)
    const line = await new Promise<string>((resolve) => g.socket.once('data', (b) => resolve(b.toString().trim())))
    ctx.report.line('S', line)
    g.close()
    ctx.report.step('banner', 'pass', line)
    ctx.report.finish('banner read')
  }
}

t.test('mail target rule', async (t) => {
  const home = randomLoopback()
  const other = randomLoopback()
  let accepted = 0
  const server = net.createServer((s) => { accepted++; s.end('220 home ESMTP\r\n') })
  await new Promise<void>((resolve) => server.listen(25, home, resolve))
  t.teardown(() => server.close())
  const dns = await startDns({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: [{ address: home, ttl: 60 }] },
    'stale.example': { MX: [{ exchange: 'mx.stale.example', priority: 10 }] },
    'mx.stale.example': { A: [{ address: other, ttl: 300 }] },
    'lan.example': { MX: [{ exchange: 'mx.lan.example', priority: 10 }] },
    'mx.lan.example': { A: ['192.168.1.2'] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  registerCheckRoute(app, { path: '/test/banner', def: bannerCheck, limit: 'smtp', summary: 'test', body: Type.Object({ domain: Type.String() }) })
  t.teardown(() => app.close())
  const post = (domain: string, ip = home) => app.inject({ method: 'POST', url: '/test/banner', payload: { domain }, remoteAddress: ip })

  const ok = await post('home.example')
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().transcript[0].text, '220 home ESMTP')
  t.equal(accepted, 1)

  const stale = await post('stale.example')
  t.equal(stale.statusCode, 403)
  const body = stale.json()
  t.equal(body.error, 'ip_mismatch')
  t.equal(body.callerIp, home)
  t.match(body.message, new RegExp(`${other.replace(/\./g, '\\.')}`))
  t.same(body.dns.mx[0], { host: 'mx.stale.example', priority: 10, addresses: [other], ttl: 300 })

  const lan = await post('lan.example')
  t.equal(lan.statusCode, 403, 'a LAN address in DNS never matches a caller')

  const nx = await post('nothere.example')
  t.equal(nx.statusCode, 403)

  const decisions = app.mx.connector.decisions.filter((d) => d.checkType === 'banner-test')
  t.equal(decisions.length, 1, 'only the allowed check reached the connector')
  t.equal(accepted, 1, 'the refusals opened no socket')

  const strict = await testApp({ DNS_SERVERS: dns.server, TARGET_ALLOW_CIDRS: '' })
  registerCheckRoute(strict, { path: '/test/banner', def: bannerCheck, limit: 'smtp', summary: 'test', body: Type.Object({ domain: Type.String() }) })
  t.teardown(() => strict.close())
  const forbidden = await strict.inject({ method: 'POST', url: '/test/banner', payload: { domain: 'home.example' }, remoteAddress: home })
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().error, 'target_forbidden', 'loopback is a special range without TARGET_ALLOW_CIDRS')
  t.equal(accepted, 1)
})
