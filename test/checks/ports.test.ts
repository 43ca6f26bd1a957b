import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp, randomLoopback, requireTool } from '../helpers.js'
import { makeCert } from '../fixtures/dovecot.js'
import { parsePorts } from '../../src/checks/ports.js'

const home = randomLoopback()

function listen (server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, home, () => resolve()) })
}

/**
 * A "filtered" port on loopback, for real: a listening socket (in a perl
 * child, so nothing ever calls accept()) with backlog 0, whose accept queue
 * the test fills first. Linux then drops further SYNs (a listen-queue
 * overflow), exactly what a firewall DROP looks like to the client: no
 * answer until the connect timeout. (No iptables on the test machines.)
 */
async function filteredPort (ip: string, port: number): Promise<{ close: () => void }> {
  const script = 'use Socket; socket(S, PF_INET, SOCK_STREAM, 0) or die "socket: $!"; setsockopt(S, SOL_SOCKET, SO_REUSEADDR, 1); ' +
    `bind(S, sockaddr_in(${port}, inet_aton("${ip}"))) or die "bind: $!"; listen(S, 0) or die "listen: $!"; $| = 1; print "ready\\n"; sleep 600;`
  const child = spawn('perl', ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (c) => reject(new Error(`perl exited ${c}`)))
  })
  const fillers: net.Socket[] = []
  // Fill the accept queue: connect until a handshake no longer completes.
  for (let i = 0; i < 8; i++) {
    const s = net.connect({ host: ip, port })
    s.on('error', () => {})
    fillers.push(s)
    const done = await new Promise<boolean>((resolve) => { s.once('connect', () => resolve(true)); setTimeout(() => resolve(false), 300) })
    if (!done) break
  }
  return { close: () => { for (const s of fillers) s.destroy(); child.kill('SIGKILL') } }
}

t.test('parsePorts', async (t) => {
  t.same(parsePorts(undefined), [25, 110, 143, 465, 587, 993, 995])
  t.same(parsePorts([25, 25, 995, 25]), [25, 995], 'dedupes, keeps order')
  t.throws(() => parsePorts([8080]), /not a mail port/)
  t.throws(() => parsePorts([]), /empty/)
  t.throws(() => parsePorts(['25']), /whole numbers/)
  t.throws(() => parsePorts(25), /list/)
})

t.test('ports check: open (plain and TLS), refused, filtered', async (t) => {
  if (!requireTool(t, 'root', 'perl', 'openssl')) return
  const dir = mkdtempSync(join(tmpdir(), 'mxprobe-ports-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cert = makeCert(dir, 'mx.home.example')
  const got: Record<number, string[]> = { 25: [], 110: [], 465: [] }
  const smtp = net.createServer((s) => {
    s.write('220 mx.home.example ESMTP \x1b[31mred\r\n')
    s.on('data', (d) => { got[25].push(d.toString()); s.end('221 bye\r\n') })
    s.on('error', () => {})
  })
  const pop = net.createServer((s) => {
    s.write('+OK POP3 ready\r\n')
    s.on('data', (d) => {
      const cmd = d.toString()
      got[110].push(cmd)
      if (/^CAPA/i.test(cmd)) s.write('+OK\r\nUSER\r\nUIDL\r\n.\r\n')
      else s.end('+OK bye\r\n')
    })
    s.on('error', () => {})
  })
  const smtps = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.write('220 smtps ready\r\n')
    s.on('data', (d) => { got[465].push(d.toString()); s.end('221 bye\r\n') })
    s.on('error', () => {})
  })
  const plainOn993 = net.createServer((s) => { s.write('* OK not tls\r\n'); s.on('error', () => {}) })
  await listen(smtp, 25)
  await listen(pop, 110)
  await listen(smtps, 465)
  await listen(plainOn993, 993)
  const filtered = await filteredPort(home, 143)
  t.teardown(() => { smtp.close(); pop.close(); smtps.close(); plainOn993.close(); filtered.close() })

  const app = await testApp({ CONNECT_TIMEOUT_MS: '1500' })
  t.teardown(() => app.close())
  const started = Date.now()
  const res = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [25, 110, 143, 465, 993, 995] }, remoteAddress: home })
  const took = Date.now() - started
  t.equal(res.statusCode, 200, res.body)
  const r = res.json()
  const by = Object.fromEntries(r.ports.map((p: any) => [p.port, p]))
  t.equal(by[25].state, 'open')
  t.match(by[25].banner, /^220 mx\.home\.example ESMTP \\x1bred|^220 mx\.home\.example ESMTP \\x1b\[31mred/, 'banner kept as text, escape made visible')
  t.notOk(/\x1b/.test(by[25].banner), 'no raw control byte in the banner')
  t.equal(by[110].state, 'open')
  t.equal(by[110].starttls, false, 'CAPA without STLS seen')
  t.equal(by[143].state, 'filtered', 'full accept queue = dropped SYN = filtered')
  t.equal(by[465].state, 'open')
  t.equal(by[465].tls, true)
  t.match(by[465].banner, /^220 smtps ready/)
  t.equal(by[993].state, 'open')
  t.equal(by[993].tls, false, 'plain service on an implicit-TLS port')
  t.equal(by[995].state, 'refused')
  for (const p of r.ports) t.type(p.ms, 'number')
  t.ok(took < 1500 + 5000 + 1500, `ports probed in parallel (${took} ms)`)
  t.equal(r.status, 'warn', r.summary)
  const codes = r.advice.map((a: any) => a.code)
  t.ok(codes.includes('ports.cleartext_pop3'))
  // One paragraph for the ports not open (143 filtered, 995 refused), not one per port.
  t.equal(codes.filter((c: string) => c === 'ports.others_closed').length, 1)
  t.notOk(codes.includes('ports.refused') || codes.includes('ports.filtered'), 'no per-port paragraph for ports other than 25')
  t.match(r.advice.find((a: any) => a.code === 'ports.others_closed').en, /143, 995/)
  t.ok(codes.includes('ports.tls_failed'))
  t.ok(got[25].some((c) => c === 'QUIT\r\n'), 'polite QUIT on 25')
  t.ok(got[465].some((c) => c === 'QUIT\r\n'), 'QUIT over TLS on 465')
  t.same(got[110], ['CAPA\r\n', 'QUIT\r\n'])
  t.ok(r.transcript.some((l: any) => l.dir === 'S' && /\[25\] 220/.test(l.text)))

  // 25 refused: fail
  const other = randomLoopback()
  const r2 = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [25] }, remoteAddress: other })).json()
  t.equal(r2.status, 'fail')
  t.equal(r2.ports[0].state, 'refused')
  t.ok(r2.advice.some((a: any) => a.code === 'ports.refused' && a.params.port === 25))

  // 25 filtered: fail with the ISP-block advice
  const other2 = randomLoopback()
  const f25 = await filteredPort(other2, 25)
  t.teardown(() => f25.close())
  const r3 = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [25] }, remoteAddress: other2 })).json()
  t.equal(r3.ports[0].state, 'filtered')
  t.equal(r3.status, 'fail')
  t.ok(r3.advice.some((a: any) => a.code === 'ports.filtered_25' && /ISP/.test(a.en)))
})

t.test('ports check: a port that accepts but never greets is silent, not open', async (t) => {
  const ip = randomLoopback()
  const socks: net.Socket[] = []
  const mute = net.createServer((s) => { socks.push(s); s.on('error', () => {}) })
  const mute110 = net.createServer((s) => { socks.push(s); s.on('error', () => {}) })
  await listen2(mute, 25, ip)
  await listen2(mute110, 110, ip)
  t.teardown(() => { for (const s of socks) s.destroy(); mute.close(); mute110.close() })
  const app = await testApp({ BANNER_TIMEOUT_MS: '1000' })
  t.teardown(() => app.close())
  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports?lang=ja', payload: { ports: [25, 110] }, remoteAddress: ip })).json()
  t.same(r.ports.map((p: any) => p.state), ['silent', 'silent'])
  t.equal(r.status, 'fail', 'port 25 that never greets: the server is not working')
  t.equal(r.steps.find((s: any) => s.name.startsWith('port 25')).status, 'fail')
  t.equal(r.steps.find((s: any) => s.name.startsWith('port 110')).status, 'warn')
  const silent = r.advice.filter((a: any) => a.code === 'ports.silent')
  t.equal(silent.length, 1, 'one paragraph for both ports')
  t.match(silent[0].message, /ポートフォワーディング/)
  t.match(r.summary, /挨拶なし/)
})

function listen2 (server: net.Server, port: number, ip: string): Promise<void> {
  return new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, ip, () => resolve()) })
}

t.test('ports check: IMAP on 143 with and without STARTTLS (capabilities asked when the greeting has none)', async (t) => {
  const withTls = randomLoopback()
  const withoutTls = randomLoopback()
  const imap = (starttls: boolean) => net.createServer((s) => {
    s.on('error', () => {})
    s.write('* OK IMAP ready\r\n')
    s.on('data', (d) => {
      const cmd = d.toString()
      if (/^a0 CAPABILITY/.test(cmd)) s.write(`* CAPABILITY IMAP4rev1 ${starttls ? 'STARTTLS LOGINDISABLED' : 'AUTH=PLAIN'}\r\na0 OK done\r\n`)
      else s.end('* BYE\r\na1 OK bye\r\n')
    })
  })
  const a = imap(true)
  const b = imap(false)
  await new Promise<void>((resolve) => a.listen(143, withTls, resolve))
  await new Promise<void>((resolve) => b.listen(143, withoutTls, resolve))
  t.teardown(() => { a.close(); b.close() })
  const app = await testApp()
  t.teardown(() => app.close())
  const ra = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [143] }, remoteAddress: withTls })).json()
  t.equal(ra.ports[0].starttls, true)
  t.notOk(ra.advice.some((x: any) => x.code === 'ports.cleartext_imap'))
  t.equal(ra.status, 'pass')
  const rb = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [143] }, remoteAddress: withoutTls })).json()
  t.equal(rb.ports[0].starttls, false)
  t.ok(rb.advice.some((x: any) => x.code === 'ports.cleartext_imap'))
  t.equal(rb.status, 'warn')
})

t.test('ports check: bad input and forbidden callers', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const bad = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [22] }, remoteAddress: home })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /not a mail port/)
  const bad2 = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: 'all' }, remoteAddress: home })
  t.equal(bad2.statusCode, 400)
  const before = app.mx.connector.decisions.length
  const lan = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: {}, remoteAddress: '192.168.1.20' })
  t.equal(lan.statusCode, 403)
  t.equal(lan.json().error, 'target_forbidden')
  t.equal(app.mx.connector.decisions.length, before, 'no socket attempted')
})
