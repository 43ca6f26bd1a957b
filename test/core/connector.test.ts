// The guarded connector: refusals open no socket (asserted at a real
// listener), the deadline is absolute, the byte cap holds.
import t from 'tap'
import net from 'node:net'
import { GuardedConnector } from '../../src/net/connect.js'
import { parseCidrList } from '../../src/net/policy.js'
import { ProbeError, RefusalError } from '../../src/errors.js'
import { randomLoopback, ipv6Home, TEST_IPV6_PREFIX } from '../helpers.js'
import { CallerAddresses } from '../../src/net/caller.js'

const allowLoopback = { allowCidrs: parseCidrList('127.0.0.0/8', 'x'), denyCidrs: [] }

async function listen (ip: string, onConn: (s: net.Socket) => void): Promise<{ server: net.Server, accepted: () => number }> {
  let n = 0
  const server = net.createServer((s) => { n++; s.on('error', () => {}); onConn(s) })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(25, ip, resolve) })
  return { server, accepted: () => n }
}

t.test('a target that is not the caller is refused before any socket', async (t) => {
  const home = randomLoopback()
  const other = randomLoopback()
  const { server, accepted } = await listen(other, (s) => s.end('220 hi\r\n'))
  t.teardown(() => server.close())
  const audit: unknown[] = []
  const c = new GuardedConnector(allowLoopback, { audit: (r) => audit.push(r) })
  await t.rejects(c.connect({ callerIp: home, ip: other, port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 2000, maxBytes: 1000 }), { code: 'ip_mismatch' })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(accepted(), 0, 'the listener saw no connection')
  t.match(c.decisions.at(-1), { allowed: false, outcome: 'refused_by_policy', ip: other })
  t.equal(audit.length, 1, 'the refusal is audited')
})

t.test('special ranges are refused unless TARGET_ALLOW_CIDRS exempts them', async (t) => {
  const home = randomLoopback()
  const { server, accepted } = await listen(home, (s) => s.end('220 hi\r\n'))
  t.teardown(() => server.close())
  const strict = new GuardedConnector({ allowCidrs: [], denyCidrs: [] })
  const e = await strict.connect({ callerIp: home, ip: home, port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 2000, maxBytes: 1000 }).catch((x) => x)
  t.ok(e instanceof RefusalError)
  t.equal(e.code, 'target_forbidden')
  t.match(e.message, /127\.0\.0\.0\/8/)
  const denied = new GuardedConnector({ allowCidrs: allowLoopback.allowCidrs, denyCidrs: parseCidrList(`${home}/32`, 'x') })
  await t.rejects(denied.connect({ callerIp: home, ip: home, port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 2000, maxBytes: 1000 }), /opt-out/)
  const wrongPort = new GuardedConnector(allowLoopback)
  await t.rejects(wrongPort.connect({ callerIp: home, ip: home, port: 22, connectTimeoutMs: 1000, deadline: Date.now() + 2000, maxBytes: 1000 }), /not a mail port/)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(accepted(), 0)
  const ok = await new GuardedConnector(allowLoopback).connect({ callerIp: `::ffff:${home}`, ip: home, port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 2000, maxBytes: 1000 })
  t.equal(ok.raw.remoteAddress, home, 'IPv4-mapped caller is the same caller')
  ok.close()
})

t.test('the caller\'s addresses: the connection\'s, each proven one, an IPv6 home by its prefix', async (t) => {
  const home6 = await ipv6Home(t, 9, 25)
  if (!home6) return
  const [pc, mx] = home6.addresses // the browser's (privacy) address, the mail server elsewhere in the same /64
  const home4 = randomLoopback()
  const stranger = randomLoopback()
  const seen: string[] = []
  const servers = await Promise.all([mx, home4, stranger].map(async (ip) => {
    const server = net.createServer((s) => { seen.push(ip); s.on('error', () => {}); s.end('220 hi\r\n') })
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(25, ip, resolve) })
    return server
  }))
  t.teardown(() => { for (const s of servers) s.close() })
  const c = new GuardedConnector({ allowCidrs: parseCidrList(`127.0.0.0/8, ${TEST_IPV6_PREFIX}`, 'x'), denyCidrs: [] })
  const req = { port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 5000, maxBytes: 1000 }

  // Over IPv6 alone: the MX at another address of the home /64 is the caller's; IPv4 is not, yet.
  const g = await c.connect({ ...req, callerIp: pc, ip: mx })
  t.equal(g.raw.remoteAddress, mx)
  g.close()
  await t.rejects(c.connect({ ...req, callerIp: pc, ip: home4 }), { code: 'ip_mismatch' })

  // Over IPv4 with a proof of the IPv6 address: both families are the caller's, nothing else is.
  const both = CallerAddresses.of(home4, [pc])
  for (const ip of [home4, mx]) {
    const s = await c.connect({ ...req, callerIp: home4, caller: both, ip })
    t.equal(s.raw.remoteAddress, ip)
    s.close()
  }
  await t.rejects(c.connect({ ...req, callerIp: home4, caller: both, ip: stranger }), { code: 'ip_mismatch' })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(seen.sort(), [home4, mx, mx].sort(), 'the stranger never saw a connection')
  t.match(c.decisions.at(-1), { allowed: false, callerIp: home4, ip: stranger })
})

t.test('host names are never connected to', async (t) => {
  const c = new GuardedConnector(allowLoopback)
  await t.rejects(c.connect({ callerIp: '127.0.0.1', ip: 'localhost', port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 2000, maxBytes: 1000 }), { code: 'target_forbidden' })
})

t.test('the deadline is absolute: a server trickling bytes is cut off', async (t) => {
  const home = randomLoopback()
  const { server } = await listen(home, (s) => {
    const iv = setInterval(() => s.write('2'), 50)
    s.on('close', () => clearInterval(iv))
  })
  t.teardown(() => server.close())
  const c = new GuardedConnector(allowLoopback)
  const started = Date.now()
  const g = await c.connect({ callerIp: home, ip: home, port: 25, connectTimeoutMs: 1000, deadline: started + 600, maxBytes: 100000 })
  const err = await new Promise<Error>((resolve) => g.socket.on('error', resolve))
  t.ok(err instanceof ProbeError && err.kind === 'deadline', err.message)
  const took = Date.now() - started
  // the trickle never ends by itself: the lower bound is the deadline, the upper one only "did not hang"
  t.ok(took >= 550, `ended at the deadline, not before (${took} ms)`)
  t.ok(took < 10_000, `and did not run on (${took} ms)`)
})

t.test('the byte cap holds', async (t) => {
  const home = randomLoopback()
  const { server } = await listen(home, (s) => { s.write(Buffer.alloc(64 * 1024, 0x41)) })
  t.teardown(() => server.close())
  const c = new GuardedConnector(allowLoopback)
  const g = await c.connect({ callerIp: home, ip: home, port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 5000, maxBytes: 4096 })
  const err = await new Promise<Error>((resolve) => g.socket.on('error', resolve))
  t.ok(err instanceof ProbeError && err.kind === 'byte_cap')
  t.ok(g.bytesRead() < 70 * 1024)
})

t.test('connection failures are classified', async (t) => {
  const home = randomLoopback()
  const c = new GuardedConnector(allowLoopback)
  const e = await c.connect({ callerIp: home, ip: home, port: 25, connectTimeoutMs: 1000, deadline: Date.now() + 2000, maxBytes: 1000 }).catch((x) => x)
  t.ok(e instanceof ProbeError)
  t.equal(e.kind, 'refused')
  t.equal(e.port, 25)
  t.match(c.decisions.at(-1), { allowed: true, outcome: 'refused' })
})

t.test('over TLS, the byte cap and the deadline still hold', async (t) => {
  const { selfSignedCert } = await import('../fixtures/smtp.js')
  const tlsMod = await import('node:tls')
  const cert = selfSignedCert('tls.home.example')
  t.teardown(() => cert.cleanup())
  const home = randomLoopback()
  let mode: 'flood' | 'trickle' = 'flood'
  const server = tlsMod.createServer({ key: cert.key, cert: cert.cert }, (s) => {
    s.on('error', () => {})
    if (mode === 'flood') {
      const chunk = Buffer.alloc(16 * 1024, 0x41)
      const pump = () => { while (s.writable && s.write(chunk)) { /* fill */ } }
      s.on('drain', pump)
      pump()
    } else {
      const iv = setInterval(() => s.write('2'), 50)
      s.on('close', () => clearInterval(iv))
    }
  })
  await new Promise<void>((resolve) => server.listen(465, home, resolve))
  t.teardown(() => server.close())
  const c = new GuardedConnector(allowLoopback)

  const g = await c.connect({ callerIp: home, ip: home, port: 465, tls: true, connectTimeoutMs: 2000, deadline: Date.now() + 10_000, maxBytes: 64 * 1024 })
  g.socket.on('data', () => {})
  const err = await new Promise<Error>((resolve) => g.socket.on('error', resolve).on('close', () => resolve(new Error('closed without error'))))
  t.ok(err instanceof ProbeError && err.kind === 'byte_cap', `flood ends in byte_cap (${err.message})`)
  t.ok(g.bytesRead() < 512 * 1024, `read ${g.bytesRead()} bytes`)

  mode = 'trickle'
  const started = Date.now()
  const g2 = await c.connect({ callerIp: home, ip: home, port: 465, tls: true, connectTimeoutMs: 2000, deadline: started + 800, maxBytes: 1024 * 1024 })
  g2.socket.on('data', () => {})
  const err2 = await new Promise<Error>((resolve) => g2.socket.on('error', resolve).on('close', () => resolve(new Error('closed without error'))))
  t.ok(err2 instanceof ProbeError && err2.kind === 'deadline', `trickle ends at the deadline (${err2.message})`)
  t.ok(Date.now() - started < 10_000, 'did not run on')
})
