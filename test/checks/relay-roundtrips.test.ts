// Round trips over a long link: a TCP relay that delays each direction by
// 25 ms (test/fixtures/delay-proxy.ts) stands in front of a real server;
// it counts the connections and the client flights the server answered.
// The counts, not the wall clock, are asserted: stock Postfix gets the
// whole battery in at most 6 round trips on the longest chain, a HELO-only
// open relay is decided at the first RCPT (5), a closed server without
// PIPELINING gets every vector with no RSET it does not need, and every
// round trip the relay saw is one mxprobe accounted for.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { startPostfix, postfixAvailable } from '../fixtures/postfix.js'
import { startExim, eximAvailable } from '../fixtures/exim.js'
import { startDelayProxy } from '../fixtures/delay-proxy.js'
import { startHostile } from '../fixtures/hostile.js'
import { startScripted } from '../fixtures/relay-smtp.js'
import { testApp, randomLoopback } from '../helpers.js'

const OUT = 'relay-out.test'
const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0)

async function setup (t: any, domain: string, front: string): Promise<(lang?: string) => Promise<any>> {
  const dns = await startDns({
    [domain]: { MX: [{ exchange: `mx.${domain}`, priority: 10 }] },
    [`mx.${domain}`]: { A: [front] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, RELAY_PROBE_DOMAIN: OUT, CHECK_DEADLINE_MS: '60000', RATE_LIMITS: 'relay=1000/600', DOMAIN_RATE_LIMITS: 'relay=1000/600' })
  t.teardown(() => app.close())
  return async (lang = 'en') => (await app.inject({ method: 'POST', url: `/api/v1/checks/relay?lang=${lang}`, payload: { domain }, remoteAddress: front })).json()
}

t.test('stock Postfix behind a 50 ms link', { skip: postfixAvailable() ? false : 'needs root and /usr/sbin/postfix' }, async (t) => {
  const front = randomLoopback()
  const pf = await startPostfix({ domain: 'far.example', users: ['postmaster'] })
  t.teardown(() => pf.stop())
  const proxy = await startDelayProxy({ listenHost: front, listenPort: 25, targetHost: pf.ip, targetPort: 25, oneWayMs: 25 })
  t.teardown(() => proxy.close())
  const post = await setup(t, 'far.example', front)
  const r = await post()
  t.equal(r.status, 'pass', r.summary)
  t.equal(r.relay.tested, r.vectors.length, 'every vector really tried')
  t.equal(proxy.stats.connections, r.relay.connections, 'connections seen by the relay')
  t.equal(proxy.roundTrips(), sum(r.relay.connectionTrips), `round trips seen by the relay (${proxy.roundTrips()}) are the ones mxprobe counted (${r.relay.connectionTrips.join('+')})`)
  t.ok(r.relay.roundTrips <= 6, `${r.relay.roundTrips} round trips on the longest chain (target ≤ 6)`)
  t.ok(r.relay.connections <= 3, `${r.relay.connections} connections`)
  t.notOk(pf.log().includes('improper command pipelining'), 'Postfix saw no protocol violation')
})

t.test('Exim behind a 50 ms link', { skip: eximAvailable() ? false : 'needs root and scripts/install-test-mtas.sh' }, async (t) => {
  const front = randomLoopback()
  const ex = await startExim({ domain: 'far-exim.example' })
  t.teardown(() => ex.stop())
  const proxy = await startDelayProxy({ listenHost: front, listenPort: 25, targetHost: ex.ip, targetPort: 25, oneWayMs: 25 })
  t.teardown(() => proxy.close())
  const post = await setup(t, 'far-exim.example', front)
  const r = await post()
  t.equal(r.status, 'pass', r.summary)
  t.equal(r.relay.tested, r.vectors.length)
  t.equal(r.relay.drops, 0)
  t.equal(proxy.stats.connections, r.relay.connections, `${proxy.stats.connections} connections through the relay, ${r.relay.connections} reported`)
  // A connection whose last flight could not carry QUIT sends it alone: Exim answers it, nobody waits.
  t.ok(proxy.roundTrips() >= sum(r.relay.connectionTrips) && proxy.roundTrips() <= sum(r.relay.connectionTrips) + r.relay.connections,
    `relay ${proxy.roundTrips()} = mxprobe ${r.relay.connectionTrips.join('+')} (+ at most one unawaited QUIT each)`)
  // nmap's smtp-open-relay needs ≥ 2 round trips per test over one connection (48 for its 16 tests).
  t.ok(r.relay.roundTrips < 20, `${r.relay.roundTrips} round trips on the longest chain`)
  t.same(ex.protocolErrors(), [])
})

t.test('HELO-only open relay behind a 50 ms link: the verdict at the first RCPT', async (t) => {
  const front = randomLoopback()
  const srv = await startHostile('helo_only')
  t.teardown(() => srv.close())
  const proxy = await startDelayProxy({ listenHost: front, listenPort: 25, targetHost: srv.ip, targetPort: 25, oneWayMs: 25 })
  t.teardown(() => proxy.close())
  const post = await setup(t, 'far-helo.example', front)
  const r = await post()
  t.equal(r.status, 'fail', r.summary)
  t.equal(r.relay.pipelining, false)
  // Connect + greeting, EHLO (502), HELO, MAIL, RCPT of a plain vector: accepted, nothing more to learn.
  t.ok(r.relay.roundTrips <= 5, `${r.relay.roundTrips} round trips on the longest chain (≤ 5; nmap gives up after 3 with no verdict)`)
  t.ok(r.relay.connections <= 3 && r.relay.parallel <= 3, `${r.relay.connections} connections, ${r.relay.parallel} at once`)
  t.equal(proxy.stats.connections, r.relay.connections, 'connections seen by the relay')
  // The QUIT is written and left: its 221 comes back through the relay, but nobody waits for it.
  t.ok(proxy.roundTrips() >= sum(r.relay.connectionTrips) && proxy.roundTrips() <= sum(r.relay.connectionTrips) + r.relay.connections,
    `relay ${proxy.roundTrips()} = mxprobe ${r.relay.connectionTrips.join('+')} (+ at most one unawaited QUIT each)`)
  t.ok(r.vectors.every((v: any) => v.tested ? v.accepted : v.stage === 'not_tried'), 'every attempt made was accepted, the others not tried')
  t.equal(r.relay.tested + r.relay.notTried, r.vectors.length)
})

t.test('closed server without PIPELINING behind a 50 ms link: every vector, no needless RSET', async (t) => {
  const front = randomLoopback()
  const ip = randomLoopback()
  const srv = await startScripted({ ip, pipelining: false })
  t.teardown(() => srv.close())
  const proxy = await startDelayProxy({ listenHost: front, listenPort: 25, targetHost: ip, targetPort: 25, oneWayMs: 25 })
  t.teardown(() => proxy.close())
  const post = await setup(t, 'far-nopipe.example', front)
  const r = await post()
  t.equal(r.status, 'pass', r.summary)
  t.equal(r.relay.tested, r.vectors.length, 'a closed relay is fully tested')
  t.equal(r.relay.notTried, 0)
  t.ok(proxy.roundTrips() >= sum(r.relay.connectionTrips) && proxy.roundTrips() <= sum(r.relay.connectionTrips) + r.relay.connections,
    `relay ${proxy.roundTrips()} = mxprobe ${r.relay.connectionTrips.join('+')} (+ at most one unawaited QUIT each)`)
  for (let c = 0; c < srv.connections; c++) {
    const verbs = srv.commands.filter((x) => x.conn === c).map((x) => x.line.split(/[ :]/)[0].toUpperCase())
    const mails = srv.commands.filter((x) => x.conn === c && x.line.startsWith('MAIL')).map((x) => x.line)
    // One transaction per sender (refused RCPTs leave it open), RSET only between two of them, none before QUIT.
    t.equal(new Set(mails).size, mails.length, `connection ${c}: one MAIL per sender`)
    t.equal(verbs.filter((v) => v === 'RSET').length, mails.length - 1, `connection ${c}: RSET only between transactions`)
    t.not(verbs[verbs.indexOf('QUIT') - 1], 'RSET', `connection ${c}: no RSET before QUIT`)
    t.ok(verbs.every((v, i) => v !== 'RSET' || verbs[i + 1] === 'MAIL'), `connection ${c}: every RSET is followed by a new MAIL`)
  }
})
