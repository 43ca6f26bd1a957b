// The receive test's round-trip budget: a relay that delays each direction
// by 25 ms (a 50 ms link, test/fixtures/delay-proxy.ts) stands between
// mxprobe and a real server, and counts the round trips mxprobe waits for.
// With STARTTLS and TLS 1.3 the whole test must cost at most 8: the TCP
// connection, EHLO, STARTTLS, the TLS handshake, EHLO inside TLS,
// MAIL+RCPT+DATA as one pipelined group, and the message with QUIT after
// it in the same write (RFC 2920 §3.1): 7.
// Counted, not timed: the figure holds on a loaded machine.
import t, { type Test } from 'tap'
import { startDns, publishMx, type DnsFixture } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { startPostfix, postfixAvailable } from '../fixtures/postfix.js'
import { startDelayProxy, transcriptRoundTrips } from '../fixtures/delay-proxy.js'
import { testApp, randomLoopback } from '../helpers.js'

const BUDGET = 8
/** what the engine reaches: QUIT rides with the message */
const EXPECTED = 7

let dns: DnsFixture
t.before(async () => { dns = await startDns({}) })
t.teardown(async () => { await dns.close() })

async function viaLink (t: Test, domain: string, serverIp: string, address: string): Promise<{ r: any, trips: number, connections: number }> {
  // The "home" address is the relay's: DNS, the caller IP and the connection all point at it.
  const home = randomLoopback()
  const proxy = await startDelayProxy({ listenHost: home, listenPort: 25, targetHost: serverIp, targetPort: 25, oneWayMs: 25 })
  t.teardown(() => proxy.close())
  publishMx(dns.zone, domain, home)
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive?lang=en', payload: { address }, remoteAddress: home })).json()
  // QUIT is not awaited: give the relay the time to see the server's answer to it.
  await new Promise((resolve) => setTimeout(resolve, 300))
  return { r, trips: proxy.roundTrips(), connections: proxy.stats.connections }
}

t.test('smtp-server with STARTTLS and TLS 1.3, over a 50 ms link', async (t) => {
  const srv = await startSmtp({ starttls: true, users: ['taro'], name: 'mx.rtt.test' })
  t.teardown(() => srv.close())
  const { r, trips, connections } = await viaLink(t, 'rtt.test', srv.ip, 'taro@rtt.test')
  t.equal(r.status, 'pass', r.summary)
  t.equal(srv.delivered.length, 1)
  t.equal(r.tls?.protocol, 'TLSv1.3')
  t.equal(r.delivery.pipelined, true)
  t.equal(connections, 1)
  t.ok(trips <= BUDGET, `${trips} round trips (budget ${BUDGET})`)
  t.equal(trips, EXPECTED, 'connection, EHLO, STARTTLS, handshake, EHLO, MAIL+RCPT+DATA, message+QUIT')
  // The transcript tells the same story: the greeting (the connection's wait), each answered run of
  // commands, and the TLS handshake, which shows as an "I" line.
  const fromTranscript = transcriptRoundTrips(r.transcript) + 1
  t.equal(fromTranscript, trips, `${fromTranscript} round trips by the transcript (greeting + replies waited for + TLS handshake)`)
})

t.test('Debian Postfix with STARTTLS, over a 50 ms link', { skip: postfixAvailable() ? false : 'needs /usr/sbin/postfix and root' }, async (t) => {
  const ip = randomLoopback()
  const pf = await startPostfix({ ip, domain: 'rtt-postfix.test', users: ['taro'] })
  t.teardown(() => pf.stop())
  const { r, trips, connections } = await viaLink(t, 'rtt-postfix.test', ip, 'taro@rtt-postfix.test')
  t.equal(r.status, 'pass', r.summary)
  t.equal(r.tls?.protocol, 'TLSv1.3')
  t.equal(r.delivery.pipelined, true)
  t.equal(connections, 1)
  t.ok(trips <= BUDGET, `${trips} round trips (budget ${BUDGET})`)
  t.equal(trips, EXPECTED)
  const raw = await pf.waitForMail('taro', (m) => m.includes(r.id))
  t.ok(raw.includes(r.message.messageId), 'the mail is in the Maildir')
  t.match(await pf.waitForLog(new RegExp(`${r.delivery.queueId}: message-id=`)), r.message.messageId, 'queue id matches Postfix\'s log')
  t.notMatch(pf.log(), /improper command pipelining|lost connection after|too many errors/, 'Postfix logged no protocol complaint about mxprobe')
})
