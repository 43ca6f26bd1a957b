// Interoperability with Debian's OpenSMTPD (unpacked by
// scripts/install-test-mtas.sh), started by the test: closed and open.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { startOpenSmtpd, openSmtpdAvailable } from '../fixtures/opensmtpd.js'
import { testApp, randomLoopback } from '../helpers.js'

const OUT = 'relay-out.test'

t.test('relay battery against OpenSMTPD', { skip: openSmtpdAvailable() ? false : 'needs root, unshare and scripts/install-test-mtas.sh' }, async (t) => {
  const ips = { closed: randomLoopback(), open: randomLoopback() }
  const zone: Record<string, any> = {}
  for (const [k, ip] of Object.entries(ips)) {
    zone[`${k}.example`] = { MX: [{ exchange: `mx.${k}.example`, priority: 10 }] }
    zone[`mx.${k}.example`] = { A: [ip] }
  }
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const [closed, open] = await Promise.all([
    startOpenSmtpd({ ip: ips.closed, domain: 'closed.example' }),
    startOpenSmtpd({ ip: ips.open, domain: 'open.example', relay: true })
  ])
  t.teardown(() => Promise.all([closed.stop(), open.stop()]).then(() => {}))
  const app = await testApp({ DNS_SERVERS: dns.server, RELAY_PROBE_DOMAIN: OUT, CHECK_DEADLINE_MS: '60000', RATE_LIMITS: 'relay=1000/600', DOMAIN_RATE_LIMITS: 'relay=1000/600' })
  t.teardown(() => app.close())
  const post = async (k: keyof typeof ips): Promise<any> => (await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: `${k}.example` }, remoteAddress: ips[k] })).json()

  const c = await post('closed')
  t.equal(c.status, 'pass', c.summary)
  t.equal(c.relay.tested, c.vectors.length, 'every vector really tried')
  t.equal(c.relay.drops, 0)
  t.ok(c.vectors.every((v: any) => !v.accepted))
  t.same(closed.protocolErrors(), [], 'OpenSMTPD logged no protocol error caused by mxprobe')

  const o = await post('open')
  t.equal(o.status, 'fail', o.summary)
  // A plain vector (outside recipient as it is) decides it; which one depends on which connection is first.
  t.ok(['external-sender', 'null-sender', 'own-domain-sender', 'mx-host-sender', 'localhost-sender', 'no-domain-sender', 'ip-literal-sender'].includes(o.relay.relaysPlain), `decided by ${o.relay.relaysPlain}`)
  t.equal(o.vectors.find((v: any) => v.id === o.relay.relaysPlain).accepted, true)
  t.ok(o.vectors.every((v: any) => v.tested || v.stage === 'not_tried'), 'the rest tried or not needed, none refused unasked')
  t.equal(o.advice.filter((a: any) => a.code === 'relay.open').length, 1)
  t.same(open.protocolErrors(), [])
  if (process.env.DEBUG_RELAY) console.error(c.transcript.map((l: any) => `${l.at} ${l.dir} ${l.text}`).join('\n'))
})
