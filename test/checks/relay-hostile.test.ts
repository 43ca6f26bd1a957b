// The relay battery against servers that misbehave: an old HELO-only
// server, a QUIT answered late, a server that drops every connection after
// its first error, and the tarpits and liars the probes already survive
// (endless lines, huge lines, trickling, STARTTLS injection, no greeting).
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { startHostile, type HostileScript } from '../fixtures/hostile.js'
import { startScripted } from '../fixtures/relay-smtp.js'
import { testApp, randomLoopback } from '../helpers.js'

const OUT = 'relay-out.test'
const env = { RELAY_PROBE_DOMAIN: OUT, RATE_LIMITS: 'relay=1000/600', DOMAIN_RATE_LIMITS: 'relay=1000/600', CONCURRENCY_PER_CALLER: '20' }

t.test('relay battery against hostile servers', async (t) => {
  const names = ['helo', 'quit', 'drop', 'endless', 'huge', 'trickle', 'inject', 'silent', 'banner']
  const ips = Object.fromEntries(names.map((n) => [n, randomLoopback()]))
  const zone: Record<string, any> = {}
  for (const [k, ip] of Object.entries(ips)) {
    zone[`${k}.example`] = { MX: [{ exchange: `mx.${k}.example`, priority: 10 }] }
    zone[`mx.${k}.example`] = { A: [ip] }
  }
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, ...env, CHECK_DEADLINE_MS: '20000', COMMAND_TIMEOUT_MS: '2000' })
  t.teardown(() => app.close())
  const post = async (k: string): Promise<any> => (await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: `${k}.example` }, remoteAddress: ips[k] })).json()

  await t.test('HELO-only server that takes everything: open relay at the first RCPT, in parallel, then no more attempts', async (t) => {
    const srv = await startHostile('helo_only', { ip: ips.helo })
    t.teardown(() => srv.close())
    const r = await post('helo')
    if (process.env.DEBUG_RELAY) console.error(r.transcript.map((l: any) => `${l.at} ${l.dir} ${l.text}`).join('\n'))
    t.equal(r.status, 'fail', r.summary)
    t.equal(r.relay.pipelining, false)
    t.ok(r.relay.parallel > 1 && r.relay.parallel <= 3, `${r.relay.parallel} connections at once`)
    // Connect, EHLO (502), HELO, MAIL, RCPT of a plain vector: accepted, the verdict is decided.
    t.ok(r.relay.roundTrips <= 5, `${r.relay.roundTrips} round trips on the longest chain (≤ 5)`)
    const tried = r.vectors.filter((v: any) => v.tested)
    const skipped = r.vectors.filter((v: any) => v.stage === 'not_tried')
    t.ok(tried.length >= 1 && tried.length <= r.relay.connections, `${tried.length} tried, at most one per connection`)
    t.ok(tried.every((v: any) => v.accepted && v.stage === 'rcpt'), 'every attempt made was accepted')
    t.ok(tried.every((v: any) => !/[%!"]|@.*@|^@/.test(v.rcptTo)), 'only plain vectors were needed')
    t.equal(tried.length + skipped.length, r.vectors.length, 'the others are not tried')
    t.ok(skipped.every((v: any) => !v.accepted && !v.tested && v.code === null && /^not tried: the server already relays plain mail/.test(v.reply)))
    t.equal(r.relay.notTried, skipped.length)
    t.equal(r.relay.tested, tried.length)
    t.equal(r.relay.untested, 0, 'not tried is not untested')
    t.match(r.summary, new RegExp(`^accepted at RCPT: possibly an open relay.*\\(${tried.length} of ${r.vectors.length} attempts really tried: the server already relays plain mail, so the other ${skipped.length} were not needed\\)$`))
    t.ok(r.steps.some((s: any) => s.name === 'relay-not-tried' && s.status === 'info'))
    t.equal(r.advice.filter((a: any) => a.code === 'relay.open').length, 1)
    t.match(r.advice.find((a: any) => a.code === 'relay.open').en, new RegExp(`the other ${skipped.length} attempts were not tried`))
    t.notOk(r.advice.some((a: any) => ['relay.open_trick', 'relay.untested', 'relay.closed'].includes(a.code)))
    const ja = (await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=ja', payload: { domain: 'helo.example' }, remoteAddress: ips.helo })).json()
    t.match(ja.summary, /^RCPT の段階で第三者中継を受け付けました。.*細工のない外部宛てメールを中継することがわかったので、残り \d+ 件は試していません \(実際に試したのは 27 件中 \d+ 件\)$/)
    t.ok(ja.vectors.filter((v: any) => v.stage === 'not_tried').every((v: any) => /^未実施: 細工のない外部宛てメールをすでに第三者中継したため不要です/.test(v.reply)))
  })

  await t.test('a QUIT answered late does not hold the check', async (t) => {
    const srv = await startHostile('quit_late', { ip: ips.quit, delayMs: 30_000 })
    t.teardown(() => srv.close())
    const r = await post('quit')
    t.equal(r.status, 'pass', r.summary)
    t.ok(srv.quits >= 1, 'QUIT was sent')
    t.equal(srv.quitsAnswered, 0, 'the check was over before any 221 came')
  })

  await t.test('a server that drops every connection after its first error: complete, honest report', async (t) => {
    const srv = await startScripted({ ip: ips.drop, hardErrorLimit: 1 })
    t.teardown(() => srv.close())
    const r = await post('drop')
    t.equal(r.status, 'pass', r.summary)
    t.equal(r.relay.tested, r.vectors.length, 'every vector judged')
    t.ok(r.relay.drops >= 1)
    t.equal(r.relay.errorBudget, 1, 'learnt: one error per connection')
    t.ok(r.vectors.every((v: any) => v.stage === 'rcpt' && /^554/.test(v.reply)))
    t.ok(srv.connections <= r.vectors.length + 8, `${srv.connections} connections`)
    t.ok(srv.maxConcurrent <= 3)
    t.notOk(srv.commands.some((c) => /^DATA/i.test(c.line)))
  })

  await t.test('tarpits and liars: a failed check with a reason, in bounded time, never more than 3 sockets', async (t) => {
    const cases: Array<[string, HostileScript]> = [['endless', 'endless'], ['huge', 'huge_line'], ['trickle', 'trickle'], ['inject', 'starttls_injection'], ['silent', 'silent'], ['banner', 'refuse_banner']]
    const servers = await Promise.all(cases.map(([k, s]) => startHostile(s, { ip: ips[k] })))
    t.teardown(() => Promise.all(servers.map((s) => s.close())).then(() => {}))
    const reports = await Promise.all(cases.map(([k]) => post(k)))
    reports.forEach((r, i) => {
      const [k] = cases[i]
      // (the injection server never answers MAIL: not one attempt can be judged)
      t.equal(r.status, 'fail', `${k}: ${r.summary}`)
      t.ok(r.advice.length > 0, `${k}: advice says why`)
      t.ok(r.durationMs < 20_000, `${k} finished within the deadline (${r.durationMs} ms)`)
      t.ok(servers[i].connections <= 3, `${k}: ${servers[i].connections} connections`)
    })
  })
})
