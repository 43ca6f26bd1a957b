// The listener under a flood of idle connections (issue 22): the per-address
// cap counts an IPv6 /64 as one address; when every place is taken, an idle
// session without a live one-time address gives way, so a real sender
// (swaks) gets its mail in. Also: the 250 after DATA names no report, AUTH
// continuations never reach the transcript, and INBOUND_LISTEN takes one
// listener per family, the report saying which family the mail came over.
import t from 'tap'
import { execFile } from 'node:child_process'
import { startDns, publishMx, type Zone } from '../fixtures/dns.js'
import { testApp, randomLoopback, requireTool, ipv6Home, waitReportDone } from '../helpers.js'
import { talk, type Talk } from '../fixtures/smtp-talk.js'
import type { FastifyInstance } from 'fastify'
import type { Report } from '../../src/core/report.js'

const waitDone = (app: FastifyInstance, id: string): Promise<Report> => waitReportDone(app, id, 30_000, 50)

async function start (app: FastifyInstance, caller: string): Promise<{ id: string, address: string }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/checks/send?lang=en', payload: { domain: 'home.test' }, remoteAddress: caller })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
  const r = res.json() as Report
  return { id: r.id, address: String(r.address) }
}

function swaks (server: string, port: number, from: string, to: string): Promise<{ code: number, out: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--server', server, '--port', String(port), '--local-interface', from, '--helo', 'mx.home.test',
      '--from', 'taro@home.test', '--to', to, '--header', 'Subject: during a flood', '--body', 'hello', '--timeout', '20'],
    { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }))
  })
}

t.test('a flood of idle connections: a real sender still gets its mail in', async (t) => {
  if (!requireTool(t, 'swaks')) return
  const home = randomLoopback()
  const zone: Zone = {}
  publishMx(zone, 'home.test', home)
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600', INBOUND_MAX_CONNECTIONS: '12' })
  t.teardown(() => app.close())
  const { host, port } = app.mx.inbound!
  // 6 addresses × 2 idle connections fill all 12 places, as 100 × 5 filled 500 before.
  const flood: Talk[] = []
  for (let i = 0; i < 6; i++) {
    const ip = randomLoopback()
    for (let j = 0; j < 2; j++) flood.push(await talk(host, port, ip))
  }
  t.teardown(() => { for (const f of flood) f.close() })
  t.ok(flood.every((f) => /^220 /.test(f.greeting)), 'the flood fills the listener')
  t.equal(app.mx.inbound!.sessions(), 12)
  await new Promise((resolve) => setTimeout(resolve, 1200))
  const r = await start(app, home)
  const sent = await swaks(host, port, home, r.address)
  t.equal(sent.code, 0, `swaks delivered during the flood${sent.code ? `: ${sent.out.slice(-400)}` : ''}`)
  t.match(sent.out, /<- {2}250 2\.0\.0 queued/, 'the 250 after DATA says "queued"')
  t.notMatch(sent.out, new RegExp(r.id), 'and names no report (a relaying smarthost reads it)')
  const done = await waitDone(app, r.id)
  t.not(done.status, 'error', 'the send test completes')
  t.equal((done.inbound as any).family, 4, 'over IPv4')
  const closed = await Promise.all(flood.map(async (f) => await Promise.race([f.closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300))])))
  t.ok(closed.filter(Boolean).length >= 1, `${closed.filter(Boolean).length} idle flood connection(s) gave way`)
  t.ok(app.mx.inbound!.sessions() <= 12, 'the listener stayed within its cap')
})

t.test('a session holding a live address or delivering is never the one to give way', async (t) => {
  const home = randomLoopback()
  const zone: Zone = {}
  publishMx(zone, 'home.test', home)
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600', INBOUND_MAX_CONNECTIONS: '2' })
  t.teardown(() => app.close())
  const { host, port } = app.mx.inbound!
  const r = await start(app, home)
  const real = await talk(host, port, home)
  await real.cmd('EHLO mx.home.test')
  await real.cmd('MAIL FROM:<taro@home.test>')
  t.match(await real.cmd(`RCPT TO:<${r.address}>`), /^250/)
  const idle = await talk(host, port, randomLoopback())
  await new Promise((resolve) => setTimeout(resolve, 1200))
  const next = await talk(host, port, randomLoopback())
  t.match(next.greeting, /^220 /, 'a new connection gets in')
  await idle.closed
  t.pass('the idle one gave way')
  await new Promise((resolve) => setTimeout(resolve, 1200))
  const third = await talk(host, port, randomLoopback())
  // now: the real sender (holding its address) and `next` (idle); `next` gives way again
  t.match(third.greeting, /^220 /)
  t.match(await real.cmd('DATA'), /^354/, 'the sender holding its address was kept')
  t.match(await real.data(`From: taro@home.test\r\nTo: ${r.address}\r\nSubject: kept\r\n\r\nhello\r\n`), /^250 2\.0\.0 queued$/)
  real.close(); next.close(); third.close()
  await waitDone(app, r.id)
})

t.test('AUTH continuations are not stored in the transcript', async (t) => {
  const home = randomLoopback()
  const zone: Zone = {}
  publishMx(zone, 'home.test', home)
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600' })
  t.teardown(() => app.close())
  const r = await start(app, home)
  const s = await talk(app.mx.inbound!.host, app.mx.inbound!.port, home)
  await s.cmd('EHLO mx.home.test')
  await s.cmd('AUTH LOGIN')
  await s.cmd('dGFybw==') // "taro"
  await s.cmd('c2VjcmV0') // "secret"
  await s.cmd('AUTH PLAIN AHRhcm8Ac2VjcmV0')
  await s.cmd('MAIL FROM:<taro@home.test>')
  await s.cmd(`RCPT TO:<${r.address}>`)
  await s.cmd('DATA')
  await s.data(`From: taro@home.test\r\nTo: ${r.address}\r\nSubject: auth\r\n\r\nhello\r\n`)
  await s.cmd('QUIT')
  const done = await waitDone(app, r.id)
  const text = done.transcript.map((l) => l.text).join('\n')
  t.notMatch(text, /dGFybw|c2VjcmV0|AHRhcm8/, 'no credential in the transcript')
  t.match(text, /AUTH LOGIN\n/, 'the command itself is kept')
  t.match(text, /AUTH PLAIN \*\*\*/, 'an initial response is masked')
  t.match(text, /MAIL FROM:<taro@home\.test>/, 'commands after it are stored again')
})

t.test('IPv6: one listener per family, counted per /64, the family in the report', async (t) => {
  const homeA = await ipv6Home(t, 2, 3, 25)
  if (!homeA) return
  const homeB = await ipv6Home(t, 2)
  if (!homeB) return
  const v4 = randomLoopback()
  const zone: Zone = {}
  publishMx(zone, 'home.test', homeA.addr(2))
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${v4}:0,[${homeA.addr(25)}]:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600', INBOUND_MAX_CONNECTIONS_PER_IP: '2' })
  t.teardown(() => app.close())
  const listeners = app.mx.inbound!.addresses
  t.same(listeners.map((l) => l.family), [4, 6], 'two listeners, one per family')
  const six = listeners[1]
  const a = await talk(six.host, six.port, homeA.addr(2))
  const b = await talk(six.host, six.port, homeA.addr(3))
  const c = await talk(six.host, six.port, homeA.addr(3))
  t.match(a.greeting, /^220 /)
  t.match(b.greeting, /^220 /)
  t.match(c.greeting, /^421 .*too many connections from fd00:6d78:[0-9a-f:]+::\/64/, 'two addresses of one /64 share its cap')
  const other = await talk(six.host, six.port, homeB.addr(2))
  t.match(other.greeting, /^220 /, 'another /64 still gets in')
  const over4 = await talk(listeners[0].host, listeners[0].port, randomLoopback())
  t.match(over4.greeting, /^220 /, 'the IPv4 listener answers too')
  for (const x of [b, c, other, over4]) x.close()

  const r = await start(app, homeA.addr(2))
  await a.cmd('EHLO mx.home.test')
  await a.cmd('MAIL FROM:<taro@home.test>')
  t.match(await a.cmd(`RCPT TO:<${r.address}>`), /^250/)
  await a.cmd('DATA')
  t.match(await a.data(`From: taro@home.test\r\nTo: ${r.address}\r\nSubject: v6\r\n\r\nhello\r\n`), /^250 2\.0\.0 queued$/)
  await a.cmd('QUIT')
  const done = await waitDone(app, r.id)
  t.match(done.inbound, { family: 6, connectingIp: homeA.addr(2), isCallerIp: true }, 'the mail came over IPv6, and the report says so')
})
