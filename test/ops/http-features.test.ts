// curl-friendly check endpoints (form bodies, text/plain), the repeat-check
// cache, the opt-out list end to end, per-type limits, and that the audit
// log names every probe and the commands sent. Real Redis, real DNS server,
// scripted mail-port servers on loopback.
import t from 'tap'
import { Type } from '@sinclair/typebox'
import { pino } from 'pino'
import { startDns, reverseName } from '../fixtures/dns.js'
import { testApp, testConfig, randomLoopback, REDIS_URL } from '../helpers.js'
import { buildApp } from '../../src/app.js'
import { registerCheckRoute } from '../../routes/helpers.js'
import { portsCheck } from '../../src/checks/ports.js'
import { startScriptedServer, logCapture } from './fixtures.js'

const home = randomLoopback()

t.test('form bodies and text/plain answers', async (t) => {
  const dns = await startDns({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: [home] },
    [reverseName(home)]: { PTR: ['mx.home.example'] }
  })
  t.teardown(() => dns.close())
  const smtp = await startScriptedServer(home, 25)
  t.teardown(() => smtp.close())
  const app = await testApp({ DNS_SERVERS: dns.server, REDIS_URL })
  t.teardown(() => app.close())

  const form = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'domain=home.example' })
  t.equal(form.statusCode, 200, form.body)
  t.equal(form.json().status, 'pass')

  // ports=25,587 as a comma list and as repeated fields both become numbers
  for (const payload of ['ports=25,587', 'ports=25&ports=587']) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload })
    t.equal(r.statusCode, 200, `${payload}: ${r.body}`)
    t.same(r.json().ports.map((p: any) => p.port), [25, 587], payload)
    t.equal(r.json().ports[0].state, 'open')
  }
  const bad = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'ports=25,smtp' })
  t.equal(bad.statusCode, 400, 'a word is not a port')
  t.match(bad.json().message, /ports/)
  const unknown = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'domain=home.example&evil=1' })
  t.equal(unknown.statusCode, 400, 'unknown form fields are refused like unknown JSON fields')
  // JSON clients still get no coercion: "25" is a type error
  const jsonStr = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, payload: { ports: ['25'] } })
  t.equal(jsonStr.statusCode, 400)

  const text = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/plain' }, payload: 'domain=home.example' })
  t.equal(text.statusCode, 200)
  t.match(text.headers['content-type'], /^text\/plain/)
  t.match(text.body, /home\.example/)
  t.match(text.body, new RegExp(home.replace(/\./g, '\\.')))
  t.notOk(text.body.trim().startsWith('{'), 'not JSON')

  const browserish = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, headers: { accept: 'application/json, text/plain, */*' }, payload: { domain: 'home.example' } })
  t.match(browserish.headers['content-type'], /json/, 'JSON listed first stays JSON')

  const textErr = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/plain' }, payload: 'domain=a%0d%0aRCPT' })
  t.equal(textErr.statusCode, 400)
  t.match(textErr.headers['content-type'], /^text\/plain/)
  t.match(textErr.body, /^bad_input: /)

  const asyncText = await app.inject({ method: 'POST', url: '/api/v1/checks/dns?async=1', remoteAddress: home, headers: { accept: 'text/plain' }, payload: { domain: 'home.example' } })
  t.equal(asyncText.statusCode, 202)
  t.match(asyncText.body, /^started [A-Za-z0-9_-]{16}\nreport: \/api\/v1\/checks\//)
})

t.test('a repeated identical check within REPEAT_WINDOW_SECONDS is answered from the recent report', async (t) => {
  const smtp = await startScriptedServer(home, 25, { delayMs: 300 })
  t.teardown(() => smtp.close())
  const build = async (env: Record<string, string>) => {
    const app = await testApp({ REDIS_URL, ...env })
    // The relay/ports routes opt in with `reuseRecent: true`; a test route with the real ports check does the same.
    registerCheckRoute(app, {
      path: '/test/ports-reuse',
      def: portsCheck,
      limit: 'ports',
      summary: 'ports with reuseRecent',
      body: Type.Object({ ports: Type.Optional(Type.Array(Type.Integer())) }, { additionalProperties: false }),
      reuseRecent: true
    })
    t.teardown(() => app.close())
    return app
  }
  const app = await build({ REPEAT_WINDOW_SECONDS: '30' })
  const post = (payload: unknown, ip = home, url = '/test/ports-reuse') => app.inject({ method: 'POST', url, remoteAddress: ip, payload: payload as any })

  const first = (await post({ ports: [25] })).json()
  t.equal(first.ports[0].state, 'open')
  t.notOk(first.cached)
  t.equal(smtp.connections, 1)

  const again = (await post({ ports: [25] })).json()
  t.equal(again.cached, true, 'marked as cached')
  t.equal(again.cachedFrom, first.id)
  t.equal(again.id, first.id)
  t.equal(smtp.connections, 1, 'no new connection to the server')

  // a repeat while the first is still running waits for it instead of probing again
  const running = await post({ ports: [25, 587] }, home, '/test/ports-reuse?async=1')
  t.equal(running.statusCode, 202)
  const whileRunning = (await post({ ports: [25, 587] })).json()
  t.equal(whileRunning.cachedFrom, running.json().id)
  t.not(whileRunning.status, 'running', 'waited for the running check to finish')
  t.equal(smtp.connections, 2, 'only the first of the two opened a connection')

  const asyncRepeat = await post({ ports: [25] }, home, '/test/ports-reuse?async=1')
  t.equal(asyncRepeat.statusCode, 202)
  t.same(asyncRepeat.json(), { id: first.id, links: { self: `/api/v1/checks/${first.id}`, events: `/api/v1/checks/${first.id}/events`, page: `/r/${first.id}` }, cached: true })

  // the production ports route opts in too: the same check type, caller and input share the recent report
  const plain = (await post({ ports: [25] }, home, '/api/v1/checks/ports')).json()
  t.equal(plain.cached, true)
  t.equal(plain.cachedFrom, first.id)
  t.equal(smtp.connections, 2)

  // window 0 switches the cache off
  const off = await build({ REPEAT_WINDOW_SECONDS: '0' })
  const before = smtp.connections
  t.equal(before, 2)
  for (let i = 0; i < 2; i++) t.notOk((await off.inject({ method: 'POST', url: '/test/ports-reuse', remoteAddress: home, payload: { ports: [25] } })).json().cached)
  t.equal(smtp.connections, before + 2)
})

t.test('expiry of the repeat window', async (t) => {
  const smtp = await startScriptedServer(home, 110, { banner: '+OK pop3 ready\r\n' })
  t.teardown(() => smtp.close())
  const app = await testApp({ REDIS_URL, REPEAT_WINDOW_SECONDS: '1' })
  registerCheckRoute(app, { path: '/test/reuse', def: portsCheck, limit: 'ports', summary: 'x', body: Type.Object({ ports: Type.Optional(Type.Array(Type.Integer())) }), reuseRecent: true })
  t.teardown(() => app.close())
  const a = (await app.inject({ method: 'POST', url: '/test/reuse', remoteAddress: home, payload: { ports: [110] } })).json()
  await new Promise((resolve) => setTimeout(resolve, 1300))
  const b = (await app.inject({ method: 'POST', url: '/test/reuse', remoteAddress: home, payload: { ports: [110] } })).json()
  t.notOk(b.cached, 'after the window a new check runs')
  t.not(a.id, b.id)
})

t.test('TARGET_DENY_CIDRS: an opted-out network is refused before any socket', async (t) => {
  const optedOut = randomLoopback()
  const srv = await startScriptedServer(optedOut, 25)
  t.teardown(() => srv.close())
  const app = await testApp({ REDIS_URL, TARGET_DENY_CIDRS: `${optedOut}/32` })
  t.teardown(() => app.close())
  const r = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: optedOut, payload: { ports: [25] } })
  t.equal(r.statusCode, 403)
  t.equal(r.json().error, 'target_forbidden')
  t.match(r.json().message, /asked not to be probed/)
  t.equal(r.json().callerIp, optedOut)
  t.equal(srv.connections, 0, 'no connection reached the server')
  t.notOk(app.mx.connector.decisions.some((d) => d.ip === optedOut && d.allowed), 'the connector allowed nothing')
  const text = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: optedOut, headers: { accept: 'text/plain' }, payload: { ports: [25] } })
  t.equal(text.statusCode, 403)
  t.match(text.body, /^target_forbidden: .*asked not to be probed/)
  // a neighbour outside the list is probed normally
  const neighbour = randomLoopback()
  const n = await startScriptedServer(neighbour, 25)
  t.teardown(() => n.close())
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: neighbour, payload: { ports: [25] } })).statusCode, 200)
  t.equal(n.connections, 1)
})

t.test('RATE_LIMITS and DOMAIN_RATE_LIMITS per check type', async (t) => {
  const dns = await startDns({ 'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] }, 'mx.home.example': { A: [home] } })
  t.teardown(() => dns.close())
  const app = await testApp({ REDIS_URL, DNS_SERVERS: dns.server, RATE_LIMITS: 'dns=2/60,ports=1/60', DOMAIN_RATE_LIMITS: 'dns=3/60' })
  t.teardown(() => app.close())
  const post = (ip: string) => app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: ip, payload: { domain: 'home.example' } })
  t.equal((await post(home)).statusCode, 200)
  t.equal((await post(home)).statusCode, 200)
  const third = await post(home)
  t.equal(third.statusCode, 429, 'dns=2/60 per caller')
  t.ok(Number(third.headers['retry-after']) > 0)
  const other = randomLoopback()
  t.equal((await post(other)).statusCode, 200, 'another caller has its own budget')
  const fourth = await post(randomLoopback())
  t.equal(fourth.statusCode, 429, 'dns=3/60 per domain across callers')
  t.match(fourth.json().message, /domain/)
  // the ports limit is separate from the dns limit
  const p1 = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: other, payload: { ports: [993] } })
  t.not(p1.statusCode, 429)
  const p2 = await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: other, payload: { ports: [993] } })
  t.equal(p2.statusCode, 429, 'ports=1/60')
  t.throws(() => testConfig({ RATE_LIMITS: 'dns=2' }), /type=max\/seconds/)
  t.throws(() => testConfig({ RATE_LIMITS: 'nosuch=1/60' }), /type one of/)
})

t.test('audit log: one record per outbound connection and one per check with the commands sent', async (t) => {
  const pop = await startScriptedServer(home, 110, { banner: '+OK ready\r\n' })
  t.teardown(() => pop.close())
  const cap = logCapture()
  const config = testConfig({ REDIS_URL })
  const app = await buildApp(config, { logger: pino({ level: 'info' }, cap.stream) })
  t.teardown(() => app.close())
  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, payload: { ports: [110, 995] } })).json()
  await new Promise((resolve) => setImmediate(resolve))
  const probes = cap.lines.filter((l) => l.audit === 'probe' && l.msg === 'outbound probe')
  const p110 = probes.find((l) => l.port === 110)
  t.ok(p110, 'record for port 110')
  t.match(p110, { checkId: r.id, checkType: 'ports', callerIp: home, ip: home, port: 110, allowed: true, outcome: 'connected' })
  t.ok(Date.parse(p110.at) > 0, 'with the time')
  t.ok(probes.find((l) => l.port === 995 && l.checkId === r.id), 'record for port 995 whatever its outcome')
  const fin = cap.lines.find((l) => l.audit === 'probe' && l.msg === 'check finished' && l.checkId === r.id)
  t.ok(fin, 'one line per finished check')
  t.match(fin, { checkType: 'ports', callerIp: home, targetIp: home, status: r.status })
  t.same(fin.commands, ['[110] CAPA', '[110] QUIT'].filter((c) => pop.received.some((x) => c.endsWith(x))), 'the commands the server received')
  t.ok(fin.commands.length >= 1)
})

t.test('credentials never reach the audit line', async (t) => {
  const { checkAuditRecord, redactCommand } = await import('../../src/plugins/audit.js')
  t.equal(redactCommand('PASS hunter2'), 'PASS [redacted]')
  t.equal(redactCommand('AUTH PLAIN AGFsaWNlAHNlY3JldA=='), 'AUTH PLAIN [redacted]')
  t.equal(redactCommand('APOP alice c4c9334bac560ecc979e58001b3e22fb'), 'APOP alice [redacted]')
  t.equal(redactCommand('EHLO probe.example'), 'EHLO probe.example')
  const rec = checkAuditRecord({
    id: 'x'.repeat(16),
    type: 'smtp',
    status: 'pass',
    callerIp: home,
    target: { domain: 'd', host: 'h', ip: home },
    startedAt: '',
    finishedAt: '',
    summary: '',
    steps: [],
    advice: [],
    lang: 'en',
    transcript: [
      { at: 0, dir: 'S', text: '220 hi' }, { at: 1, dir: 'C', text: 'AUTH LOGIN' }, { at: 2, dir: 'S', text: '334 VXNlcm5hbWU6' },
      { at: 3, dir: 'C', text: 'YWxpY2U=' }, { at: 4, dir: 'S', text: '334 UGFzc3dvcmQ6' }, { at: 5, dir: 'C', text: 'c2VjcmV0' }, { at: 6, dir: 'I', text: 'x' }, { at: 7, dir: 'C', text: 'QUIT' }
    ]
  })
  t.same(rec.commands, ['AUTH LOGIN', '[redacted]', '[redacted]', 'QUIT'])
})
