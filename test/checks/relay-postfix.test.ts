// Interoperability with a stock Debian Postfix started by the test: the
// relay battery on a closed and on an open configuration, the role
// mailboxes, and the ports check's banner. Loopback only.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { startPostfix } from '../fixtures/postfix.js'
import { testApp, randomLoopback, requireTool } from '../helpers.js'

const OUT = 'relay-out.test'

t.test('relay, roles and ports against Debian Postfix', async (t) => {
  if (!requireTool(t, 'root', 'postfix')) return
  const closedIp = randomLoopback()
  const openIp = randomLoopback()
  const tlsIp = randomLoopback()
  const dns = await startDns({
    'closed.example': { MX: [{ exchange: 'mx.closed.example', priority: 10 }] },
    'mx.closed.example': { A: [closedIp] },
    'open.example': { MX: [{ exchange: 'mx.open.example', priority: 10 }] },
    'mx.open.example': { A: [openIp] },
    'tls.example': { MX: [{ exchange: 'mx.tls.example', priority: 10 }] },
    'mx.tls.example': { A: [tlsIp] }
  })
  t.teardown(() => dns.close())
  // Three instances, started side by side (each takes seconds):
  // - closed: stock relay policy;
  // - open: the classic home-server mistake, mynetworks covering more than the server itself
  //   (here all of loopback, so mxprobe's 127.0.0.1 too);
  // - tlsOnly: TLS demanded before MAIL (smtpd_tls_security_level = encrypt): the battery continues over STARTTLS.
  const [closed, open, tlsOnly] = await Promise.all([
    startPostfix({ ip: closedIp, domain: 'closed.example', users: ['postmaster', 'abuse', 'taro'] }),
    startPostfix({ ip: openIp, domain: 'open.example', users: ['postmaster', 'abuse', 'taro'], mainCf: { mynetworks: '127.0.0.0/8' } }),
    startPostfix({ ip: tlsIp, domain: 'tls.example', users: ['postmaster'], mainCf: { smtpd_tls_security_level: 'encrypt' } })
  ])
  t.teardown(() => Promise.all([closed.stop(), open.stop(), tlsOnly.stop()]).then(() => {}))
  const app = await testApp({ DNS_SERVERS: dns.server, RELAY_PROBE_DOMAIN: OUT, CHECK_DEADLINE_MS: '60000' })
  t.teardown(() => app.close())

  const c = (await app.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain: 'closed.example' }, remoteAddress: closedIp })).json()
  t.equal(c.status, 'pass', c.summary)
  t.ok(c.vectors.length >= 20)
  t.ok(c.vectors.every((v: any) => !v.accepted))
  t.ok(c.vectors.some((v: any) => /Relay access denied/.test(v.reply)), 'Postfix says why')
  t.equal(c.relay.pipelining, true, 'Postfix advertises PIPELINING and the battery used it')
  t.ok(c.durationMs < 5000, `closed battery took ${c.durationMs} ms (no error-sleep penalty)`)
  t.notOk(closed.log().includes('improper command pipelining'), 'Postfix saw no protocol violation')
  t.notOk(/ DATA/i.test(closed.log().split('\n').filter((l) => /smtpd/.test(l)).join('\n').replace(/commands=[^\n]*/g, '')), 'no DATA in the log')

  const o = (await app.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain: 'open.example' }, remoteAddress: openIp })).json()
  t.equal(o.status, 'fail', o.summary)
  // A plain vector (outside recipient as it is) decides it; which one depends on which connection is first.
  t.ok(['external-sender', 'null-sender', 'own-domain-sender', 'mx-host-sender', 'localhost-sender', 'no-domain-sender', 'ip-literal-sender'].includes(o.relay.relaysPlain), `decided by ${o.relay.relaysPlain}`)
  t.equal(o.vectors.find((v: any) => v.id === o.relay.relaysPlain).accepted, true)
  t.ok(o.vectors.every((v: any) => v.tested || v.stage === 'not_tried'), 'the rest tried or not needed, none refused unasked')
  t.ok(o.advice.some((a: any) => a.code === 'relay.open' && /mynetworks/.test(a.en)))
  t.equal(open.mailbox('taro').length, 0)

  const enc = (await app.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain: 'tls.example' }, remoteAddress: tlsIp })).json()
  t.equal(enc.status, 'pass', enc.summary)
  t.equal(enc.relay.tls, true, 'switched to STARTTLS after "530 Must issue a STARTTLS command first"')
  t.ok(enc.vectors.every((v: any) => v.stage === 'rcpt' && /Relay access denied/.test(v.reply)))

  const roles = (await app.inject({ method: 'POST', url: '/api/v1/checks/roles', payload: { domain: 'closed.example' }, remoteAddress: closedIp })).json()
  t.equal(roles.status, 'warn', roles.summary)
  const by = Object.fromEntries(roles.mailboxes.map((m: any) => [m.address, m]))
  t.equal(by['postmaster@closed.example'].accepted, true)
  t.equal(by.postmaster.accepted, true, 'bare <postmaster> accepted by Postfix')
  t.equal(by['abuse@closed.example'].accepted, true)
  t.equal(by['webmaster@closed.example'].accepted, false)
  t.match(by['webmaster@closed.example'].reply, /^550/)

  const ports = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [25, 587] }, remoteAddress: closedIp })).json()
  const p25 = ports.ports.find((p: any) => p.port === 25)
  t.equal(p25.state, 'open')
  t.match(p25.banner, /^220 mx\.closed\.example ESMTP Postfix/)
  t.equal(ports.ports.find((p: any) => p.port === 587).state, 'refused')
  t.equal(ports.status, 'pass')
})
