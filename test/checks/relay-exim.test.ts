// Interoperability with Debian's Exim 4 (unpacked by
// scripts/install-test-mtas.sh), started by the test: closed, open relay,
// and without PIPELINING. Exim enforces SMTP synchronization and drops a
// client after 3 syntax/protocol errors; the battery must get Exim's
// verdict without ever being dropped, and Exim's own log must show no
// protocol error caused by mxprobe. Loopback only.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { startExim, eximAvailable } from '../fixtures/exim.js'
import { testApp, randomLoopback } from '../helpers.js'

const OUT = 'relay-out.test'

t.test('relay battery against Debian Exim 4', { skip: eximAvailable() ? false : 'needs root and scripts/install-test-mtas.sh' }, async (t) => {
  const ips = { closed: randomLoopback(), open: randomLoopback(), nopipe: randomLoopback() }
  const zone: Record<string, any> = {}
  for (const [k, ip] of Object.entries(ips)) {
    zone[`${k}.example`] = { MX: [{ exchange: `mx.${k}.example`, priority: 10 }] }
    zone[`mx.${k}.example`] = { A: [ip] }
  }
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const [closed, open, nopipe] = await Promise.all([
    startExim({ ip: ips.closed, domain: 'closed.example' }),
    // the classic mistake: relay_from_hosts covering more than the server itself (all of loopback)
    startExim({ ip: ips.open, domain: 'open.example', relayFromHosts: '127.0.0.0/8' }),
    startExim({ ip: ips.nopipe, domain: 'nopipe.example', pipelining: false })
  ])
  t.teardown(() => Promise.all([closed.stop(), open.stop(), nopipe.stop()]).then(() => {}))
  const app = await testApp({ DNS_SERVERS: dns.server, RELAY_PROBE_DOMAIN: OUT, CHECK_DEADLINE_MS: '60000', RATE_LIMITS: 'relay=1000/600', DOMAIN_RATE_LIMITS: 'relay=1000/600' })
  t.teardown(() => app.close())
  const post = async (k: keyof typeof ips): Promise<any> => (await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: `${k}.example` }, remoteAddress: ips[k] })).json()

  await t.test('closed Exim: pass, every vector really tried, never dropped', async (t) => {
    const r = await post('closed')
    t.equal(r.status, 'pass', r.summary)
    t.match(r.summary, /not an open relay: all \d+ relay attempts were refused/)
    t.equal(r.relay.pipelining, true)
    t.equal(r.relay.strict, true, 'Exim is recognised as counting syntax errors')
    t.equal(r.relay.drops, 0, 'Exim never dropped a connection')
    t.equal(r.relay.untested, 0)
    t.equal(r.relay.tested, r.vectors.length, `all ${r.vectors.length} vectors really tried`)
    t.ok(r.relay.parallel <= 3)
    const lit = r.vectors.find((v: any) => v.id === 'percent-ip-literal')
    t.equal(lit.stage, 'rcpt', 'the % trick reached RCPT although its IP-literal sender was refused')
    t.match(lit.retriedWith, /^(mxprobe-relay@(closed\.example|mx\.closed\.example|relay-out\.test|localhost))?$/, 'retried with a sender Exim accepted')
    t.match(lit.senderReply, /domain literals not allowed/)
    const sender = r.vectors.find((v: any) => v.id === 'ip-literal-sender')
    t.equal(sender.stage, 'mail', 'the IP-literal sender vector is decided at MAIL')
    t.equal(sender.tested, true)
    t.same(closed.protocolErrors(), [], 'Exim logged no protocol error caused by mxprobe')
    t.notOk(/\bDATA\b/.test(closed.log()), 'no DATA')
    t.equal(r.advice.filter((a: any) => a.code.startsWith('relay.')).map((a: any) => a.code).join(','), 'relay.closed', 'one paragraph')
  })

  await t.test('open Exim: fail, one paragraph per cause', async (t) => {
    const r = await post('open')
    t.equal(r.status, 'fail', r.summary)
    // A plain vector (outside recipient as it is) decides it; which one depends on which connection is first.
    t.ok(['external-sender', 'null-sender', 'own-domain-sender', 'mx-host-sender', 'localhost-sender', 'no-domain-sender', 'ip-literal-sender'].includes(r.relay.relaysPlain), `decided by ${r.relay.relaysPlain}`)
    t.equal(r.vectors.find((v: any) => v.id === r.relay.relaysPlain).accepted, true)
    t.ok(r.vectors.every((v: any) => v.tested || v.stage === 'not_tried'), 'the rest tried or not needed, none refused unasked')
    t.equal(r.advice.filter((a: any) => a.code === 'relay.open').length, 1, 'one relay.open paragraph, not one per vector')
    t.ok(r.summary.length < 300, `short summary: ${r.summary}`)
    t.notMatch(r.summary, /external-sender, /, 'no list of vector ids in the summary')
    t.same(open.protocolErrors(), [])
    t.equal(r.relay.drops, 0)
  })

  await t.test('Exim without PIPELINING: one command at a time, same verdict, in parallel', async (t) => {
    const r = await post('nopipe')
    t.equal(r.status, 'pass', r.summary)
    t.equal(r.relay.pipelining, false)
    t.equal(r.relay.tested, r.vectors.length)
    t.equal(r.relay.drops, 0)
    t.same(nopipe.protocolErrors(), [], 'no synchronization error: never a command before the reply')
  })

  await t.test('Japanese report', async (t) => {
    const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=ja', payload: { domain: 'closed.example' }, remoteAddress: ips.closed })).json()
    t.match(r.summary, /オープンリレーではありません/)
    t.ok(r.steps.every((s: any) => !/^relay /.test(s.title)), 'step titles in Japanese')
    t.ok(r.transcript.filter((l: any) => l.dir === 'I').some((l: any) => /第三者中継テスト/.test(l.text)))
  })
})
