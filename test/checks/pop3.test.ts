import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { startDns } from '../fixtures/dns.js'
import { startDovecot, makeCert } from '../fixtures/dovecot.js'
import { testApp, testConfig, randomLoopback, requireTool, reportModelErrors } from '../helpers.js'
import { buildApp, LOG_REDACT } from '../../src/app.js'
import { validateCredentials } from '../../src/checks/pop3.js'

const home = randomLoopback()
const plainHome = randomLoopback()
const scripted = randomLoopback()
const byName = randomLoopback()
const tlsOnly = randomLoopback()
const saslHome = randomLoopback()
const nobody = randomLoopback()

t.test('credential validation', async (t) => {
  t.equal(validateCredentials({ domain: 'x.example' }), null)
  t.same(validateCredentials({ domain: 'x', username: 'alice', password: 'p w' }), { username: 'alice', password: 'p w' })
  t.throws(() => validateCredentials({ domain: 'x', username: 'alice' }), /both/)
  t.throws(() => validateCredentials({ domain: 'x', username: 'al\r\nice', password: 'x' }), /control/)
  t.throws(() => validateCredentials({ domain: 'x', username: 'alice', password: 'x\r\nDELE 1' }), /control/)
  t.throws(() => validateCredentials({ domain: 'x', username: 'alice', password: 'x\0' }), /control/)
  t.throws(() => validateCredentials({ domain: 'x', username: 'a'.repeat(300), password: 'x' }), /1 to 256/)
  t.throws(() => validateCredentials({ domain: 'x', username: 'alice', password: 'x'.repeat(600) }), /1 to 512/)
  try { validateCredentials({ domain: 'x', username: 'alice', password: 'sekrit\n' }) } catch (e) { t.notMatch((e as Error).message, /sekrit/, 'message never echoes the password') }
})

t.test('POP3 check against Debian Dovecot', async (t) => {
  if (!requireTool(t, 'root', 'dovecot', 'openssl')) return
  const dns = await startDns({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: [home] },
    'plain.example': { MX: [{ exchange: 'mx.plain.example', priority: 10 }] },
    'mx.plain.example': { A: [plainHome] },
    'tlsonly.example': { MX: [{ exchange: 'mx.tlsonly.example', priority: 10 }] },
    'mx.tlsonly.example': { A: [tlsOnly] }
  })
  t.teardown(() => dns.close())
  const dv = await startDovecot({ ip: home, hostname: 'mx.home.example' })
  t.teardown(() => dv.stop())
  const dvPlain = await startDovecot({ ip: plainHome, ssl: false, plaintextAuth: true, hostname: 'mx.plain.example' })
  t.teardown(() => dvPlain.stop())
  const dvTls = await startDovecot({ ip: tlsOnly, plainPort: false, hostname: 'mx.tlsonly.example' })
  t.teardown(() => dvTls.stop())

  // The app's own logger configuration, writing into memory at the most verbose level.
  const logLines: string[] = []
  const sink = new Writable({ write (chunk, _enc, cb) { logLines.push(chunk.toString()); cb() } })
  const logger = pino({ level: 'trace', redact: LOG_REDACT }, sink)
  const app = await buildApp(testConfig({ DNS_SERVERS: dns.server }), { logger })
  t.teardown(() => app.close())
  const post = (payload: object, ip = home) => app.inject({ method: 'POST', url: '/api/v1/checks/pop3', payload, remoteAddress: ip })

  const anon = (await post({ domain: 'home.example' })).json()
  t.equal(anon.type, 'pop3')
  const [p110, p995] = anon.pop3.ports
  t.equal(p110.pop3, true)
  t.match(p110.greeting, /^\+OK Dovecot/)
  t.same(p110.stls, { offered: true, works: true })
  t.equal(p110.userBeforeTls, false, 'Dovecot hides USER before TLS with disable_plaintext_auth')
  t.ok(p110.capabilitiesTls.includes('USER'), 'USER offered after STLS')
  t.equal(p110.certificate.selfSigned, true)
  t.equal(p110.certificate.nameMatches, true)
  t.match(p110.certificate.subject, /CN=mx\.home\.example/)
  t.ok(p110.certificate.subjectAltNames.includes('DNS:mx.home.example'))
  t.ok(Date.parse(p110.certificate.validTo) > Date.now())
  t.equal(p995.pop3, true)
  t.equal(p995.tls, true)
  t.equal(p995.quit.clean, true)
  t.equal(p110.quit.clean, true)
  t.equal(anon.status, 'warn', `self-signed certificate is a warning: ${anon.summary}`)
  t.ok(anon.advice.some((a: any) => a.code === 'pop3.cert_self_signed'))
  t.equal(anon.login.tried, false)

  const ok = await post({ domain: 'home.example', username: dv.user, password: dv.password })
  t.equal(ok.statusCode, 200)
  const r = ok.json()
  t.equal(r.login.ok, true, r.summary)
  t.same(reportModelErrors(r), [], 'the report fits the model; its status is its steps\' verdict')
  t.equal(r.login.port, 110, 'logged in over STLS on 110')
  t.equal(r.login.messages, dv.messages, 'STAT counted the Maildir')
  t.ok(r.transcript.some((l: any) => l.dir === 'C' && l.text === '[110] PASS ********'))
  const verbs = r.transcript.filter((l: any) => l.dir === 'C').map((l: any) => l.text.replace(/^\[\d+\] /, '').split(' ')[0])
  t.notOk(verbs.some((v: string) => ['RETR', 'DELE', 'TOP', 'LIST', 'UIDL'].includes(v)), `only ${[...new Set(verbs)].join(' ')}`)
  t.ok(verbs.includes('STAT'))
  t.notOk(ok.body.includes(dv.password), 'password not in the answer')
  const stored = await app.inject({ method: 'GET', url: `/api/v1/checks/${r.id}` })
  t.notOk(stored.body.includes(dv.password), 'password not in the stored report')
  const events = await app.mx.store.getEvents(r.id, 0)
  t.ok(events.length > 0)
  t.notOk(JSON.stringify(events).includes(dv.password), 'password not in the stored events')

  const bad = (await post({ domain: 'home.example', username: dv.user, password: 'wrong-' + dv.password })).json()
  t.equal(bad.status, 'fail')
  t.equal(bad.login.ok, false)
  t.ok(bad.advice.some((a: any) => a.code === 'pop3.login_failed'))
  t.notOk(JSON.stringify(bad).includes('wrong-' + dv.password))

  // Plaintext-only Dovecot: USER offered without TLS, and mxprobe refuses to send the password.
  const plain = (await post({ domain: 'plain.example', username: dvPlain.user, password: dvPlain.password }, plainHome)).json()
  t.equal(plain.status, 'warn', plain.summary)
  t.equal(plain.login.tried, false)
  t.ok(plain.advice.some((a: any) => a.code === 'pop3.cleartext_login'))
  t.ok(plain.advice.some((a: any) => a.code === 'pop3.login_needs_tls'))
  t.ok(plain.advice.some((a: any) => a.code === 'ports.cleartext_pop3'))
  t.notOk(plain.transcript.some((l: any) => l.dir === 'C' && /^\[\d+\] (USER|PASS|AUTH)/.test(l.text)), 'no credentials sent in clear')

  // POP3S only (no port 110): the login runs on 995.
  const only995 = (await post({ domain: 'tlsonly.example', username: dvTls.user, password: dvTls.password }, tlsOnly)).json()
  t.equal(only995.login.ok, true, only995.summary)
  t.equal(only995.login.port, 995)
  t.equal(only995.login.messages, dvTls.messages)
  t.equal(only995.pop3.ports[0].reachable, false)
  t.notOk(only995.advice.some((a: any) => a.code === 'ports.cleartext_pop3'), 'no cleartext warning when only 995 is open')
  t.ok(only995.transcript.some((l: any) => l.text === '[995] PASS ********'))
  t.notOk(JSON.stringify(only995).includes(dvTls.password))

  // The ports check sees the same Dovecot: 110 with STLS and 995 over TLS, no cleartext warning.
  const ports = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports', payload: { ports: [110, 995] }, remoteAddress: home })).json()
  t.same(ports.ports.map((p: any) => [p.port, p.state]), [[110, 'open'], [995, 'open']])
  t.match(ports.ports[1].banner, /^\+OK Dovecot/, 'banner read over TLS on 995')
  t.equal(ports.ports[0].starttls, true)
  t.equal(ports.status, 'pass', ports.summary)

  // Logs: nothing carries a password; and the redaction itself works on the app's configuration.
  app.log.info({ body: { username: 'x', password: 'canary-password' } }, 'redaction probe')
  const all = logLines.join('')
  t.ok(all.includes('redaction probe'), 'log captured')
  t.notOk(all.includes('canary-password'), 'password keys are redacted')
  t.notOk(all.includes(dv.password), 'the real password appears in no log line')
  t.notOk(all.includes(dvPlain.password))
  t.notOk(all.includes(dvTls.password))
})

t.test('SASL PLAIN login over implicit TLS (a server without USER): token correct, transcript redacted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mxprobe-pop3-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cert = makeCert(dir, 'mx.sasl.example')
  const dns = await startDns({ 'sasl.example': { MX: [{ exchange: 'mx.sasl.example', priority: 10 }] }, 'mx.sasl.example': { A: [saslHome] } })
  t.teardown(() => dns.close())
  const seen: string[] = []
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on('error', () => {})
    s.write('+OK sasl-only\r\n')
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const cmd = buf.slice(0, i)
        buf = buf.slice(i + 2)
        seen.push(cmd)
        if (cmd === 'CAPA') s.write('+OK\r\nSASL PLAIN\r\n.\r\n')
        else if (cmd.startsWith('AUTH PLAIN ')) s.write(Buffer.from(cmd.slice(11), 'base64').toString() === '\0carol\0pa ss:word' ? `+OK welcome, your token was ${cmd.slice(11)} and your password pa ss:word\r\n` : '-ERR bad\r\n')
        else if (cmd === 'STAT') s.write('+OK 3 4567\r\n')
        else if (cmd === 'QUIT') s.end('+OK bye\r\n')
        else s.write('-ERR no\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(995, saslHome, resolve))
  t.teardown(() => server.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/pop3', payload: { domain: 'sasl.example', username: 'carol', password: 'pa ss:word' }, remoteAddress: saslHome })).json()
  t.equal(r.login.ok, true, r.summary)
  t.equal(r.login.method, 'SASL PLAIN')
  t.equal(r.login.messages, 3)
  t.equal(r.login.octets, 4567)
  t.ok(r.transcript.some((l: any) => l.text === '[995] AUTH PLAIN ********'))
  const token = Buffer.from('\0carol\0pa ss:word').toString('base64')
  t.notOk(JSON.stringify(r).includes(token), 'the SASL token is not in the report')
  t.notOk(JSON.stringify(r).includes('pa ss:word'), 'not even when the server echoes it')
  // A line after AUTH that holds the password is withheld whole: the status and mxprobe's note stay.
  t.ok(r.transcript.some((l: any) => /^\[995\] \+OK \[mxprobe: .*withheld/.test(l.text)))
  const stored = await app.inject({ method: 'GET', url: `/api/v1/checks/${r.id}` })
  t.notOk(stored.body.includes('pa ss:word'))
  t.notOk(stored.body.includes(token))
  t.same(seen.map((c) => c.split(' ')[0]), ['CAPA', 'AUTH', 'STAT', 'QUIT'])
})

t.test('POP3 check against scripted hostile servers', async (t) => {
  const dns = await startDns({
    'scripted.example': { MX: [{ exchange: 'mx.scripted.example', priority: 10 }] },
    'mx.scripted.example': { A: [scripted] },
    'byname.example': { MX: [{ exchange: 'mx.elsewhere.example', priority: 10 }], A: [byName] },
    'mx.elsewhere.example': { A: ['127.0.0.99'] },
    'none.example': { A: [nobody] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, COMMAND_TIMEOUT_MS: '1000' })
  t.teardown(() => app.close())

  let behaviour: (s: net.Socket, cmd: string) => void = () => {}
  let greeting = '+OK ready\r\n'
  const seen: string[] = []
  const server = net.createServer((s) => {
    s.on('error', () => {})
    s.write(greeting)
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString('latin1')
      let i
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const cmd = buf.slice(0, i)
        buf = buf.slice(i + 2)
        seen.push(cmd)
        if (/^QUIT/i.test(cmd)) { s.end('+OK bye\r\n'); return }
        behaviour(s, cmd)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(110, scripted, resolve))
  t.teardown(() => server.close())
  const post = (payload: object, ip = scripted) => app.inject({ method: 'POST', url: '/api/v1/checks/pop3', payload, remoteAddress: ip })

  // Not a POP3 server on 110.
  greeting = '220 smtp.example ESMTP\r\n'
  const notPop = (await post({ domain: 'scripted.example' })).json()
  t.equal(notPop.status, 'fail')
  t.ok(notPop.advice.some((a: any) => a.code === 'pop3.not_pop3'))

  // STLS answered with +OK followed by injected plaintext: refused as broken STLS, no password sent.
  greeting = '+OK ready\r\n'
  seen.length = 0
  behaviour = (s, cmd) => {
    if (cmd === 'CAPA') s.write('+OK\r\nSTLS\r\nUSER\r\n.\r\n')
    else if (cmd === 'STLS') s.write('+OK begin TLS\r\n+OK injected\r\n')
    else s.write('-ERR no\r\n')
  }
  const inj = (await post({ domain: 'scripted.example', username: 'bob', password: 'hunter2-secret' })).json()
  t.equal(inj.status, 'fail', inj.summary)
  t.ok(inj.advice.some((a: any) => a.code === 'pop3.stls_failed'))
  t.notOk(seen.some((c) => /hunter2/.test(c)), 'the password never left mxprobe')
  t.ok(inj.advice.some((a: any) => a.code === 'pop3.cleartext_login'), 'USER before TLS flagged')

  // An endless CAPA list and an over-long line are cut off.
  seen.length = 0
  behaviour = (s, cmd) => {
    if (cmd === 'CAPA') { s.write('+OK\r\n'); for (let i = 0; i < 500; i++) s.write(`X-CAP-${i}\r\n`) }
  }
  const endless = (await post({ domain: 'scripted.example' })).json()
  t.ok(endless.steps.some((s: any) => s.name === 'port 110' && /more than 200 lines/.test(s.detail)), 'CAPA capped')
  greeting = '+OK ' + 'A'.repeat(5000) + '\r\n'
  const long = (await post({ domain: 'scripted.example' })).json()
  t.ok(long.steps.some((s: any) => s.name === 'port 110' && /longer than/.test(s.detail)))

  // A server that does not know CAPA and does not offer TLS: warn, no login.
  greeting = '+OK old pop\r\n'
  behaviour = (s) => { s.write('-ERR unknown command\r\n') }
  const old = (await post({ domain: 'scripted.example' })).json()
  t.equal(old.status, 'warn')
  t.ok(old.advice.some((a: any) => a.code === 'pop3.no_stls'))

  // Target rule: an address of the domain itself (not its MX) is accepted; other callers are refused before any socket.
  const nameSrv = net.createServer((s) => { s.on('error', () => {}); s.write('+OK\r\n'); s.on('data', () => s.end('+OK bye\r\n')) })
  await new Promise<void>((resolve) => nameSrv.listen(110, byName, resolve))
  t.teardown(() => nameSrv.close())
  const viaA = await post({ domain: 'byname.example' }, byName)
  t.equal(viaA.statusCode, 200, 'an address of the domain itself is an allowed target')
  t.equal(viaA.json().target.host, 'byname.example')
  const before = app.mx.connector.decisions.length
  const refused = await post({ domain: 'byname.example' }, randomLoopback())
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error, 'ip_mismatch')
  t.same(refused.json().dns.domainAddresses, [byName])
  t.equal(app.mx.connector.decisions.length, before, 'refusal opened no socket')

  // Nothing listening at all: the server failing (fail, not error), one "refused" paragraph for both ports.
  const none = (await post({ domain: 'none.example' }, nobody)).json()
  t.equal(none.status, 'fail')
  t.same(none.advice.filter((a: any) => a.code === 'ports.refused').map((a: any) => a.params.port), ['110, 995'])

  const crlf = await post({ domain: 'scripted.example', username: 'bob\r\nDELE 1', password: 'x' })
  t.equal(crlf.statusCode, 400)
  const half = await post({ domain: 'scripted.example', password: 'only-a-password' })
  t.equal(half.statusCode, 400)
  t.notMatch(half.body, /only-a-password/)
})
