// The contract, continued: mxprobe with the in-memory store (no REDIS_URL)
// against smtp-server as the home MX; the tools, the web pages, bad input
// (400, no socket), TRUST_PROXY + X-Forwarded-For, 403 target_forbidden
// without TARGET_ALLOW_CIDRS, 503 when Redis is down, and `npm start` with
// (almost) no environment on 127.0.0.1:3000.
import t from 'tap'
import { startDns, reverseName } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { startOwnRedis } from '../fixtures/redis.js'
import { randomLoopback } from '../helpers.js'
import { startMxprobe, freePort, portFree, request, readSse, assertReport, assertRefusal } from './harness.js'

// Several mxprobe processes and real servers start here; on a loaded machine that takes longer than tap's default.
t.setTimeout(240_000)

const home = randomLoopback()
let stranger = randomLoopback()
while (stranger === home) stranger = randomLoopback()
// an address where nothing listens: a home server that is down
let down = randomLoopback()
while (down === home || down === stranger) down = randomLoopback()

const smtp = await startSmtp({ ip: home, name: 'mx.home.test', starttls: true })
const dns = await startDns({
  'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }] },
  'mx.home.test': { A: [home] },
  [reverseName(home)]: { PTR: ['mx.home.test'] },
  // no MX: the domain itself is the mail host (RFC 5321 5.1)
  'bare.test': { A: [home] },
  'down.test': { A: [down] }
})
const base = {
  HOST: '127.0.0.1',
  DNS_SERVERS: dns.server,
  HELO_NAME: 'probe.mxprobe.test',
  MAIL_FROM: 'mxprobe@probe.mxprobe.test',
  RELAY_PROBE_DOMAIN: 'relay-target.mxprobe.test'
}
// in-memory store: no REDIS_URL at all
const mx = await startMxprobe({ ...base, PORT: String(await freePort()), TARGET_ALLOW_CIDRS: '127.0.0.0/8' })
t.teardown(async () => {
  await mx.stop()
  await Promise.allSettled([smtp.close(), dns.close()])
})
const post = async (path: string, body: unknown, from = home) => await request(mx.url, 'POST', path, { body, localAddress: from })
const get = async (path: string, headers: Record<string, string> = {}, from = home) => await request(mx.url, 'GET', path, { localAddress: from, headers })

t.test('in-memory store: checks, receive, async + SSE', async (t) => {
  const ip = await get('/api/v1/ip')
  const { proof, ...rest } = ip.json
  t.match(proof, /^[A-Za-z0-9_-]{20,512}$/, 'a proof comes with the address')
  t.same(rest, { ip: home, family: 4, ptr: 'mx.home.test' })
  // /readyz also reports event-loop pressure, which a loaded test machine can show right after start: poll like a load balancer
  let ready = await get('/readyz')
  for (let i = 0; i < 30 && ready.status !== 200; i++) { await new Promise((resolve) => setTimeout(resolve, 200)); ready = await get('/readyz') }
  t.equal(ready.status, 200, ready.text)

  const r = await post('/api/v1/checks/receive', { address: 'taro@home.test' })
  t.equal(r.status, 200)
  assertReport(t, r.json, 'receive', home)
  t.equal(r.json.status, 'pass', r.json.summary)
  t.ok(smtp.delivered.some((m) => m.raw.includes(r.json.id)), 'delivered with the report id')
  t.ok(smtp.delivered.some((m) => m.secure), 'over STARTTLS')

  const a = await request(mx.url, 'POST', '/api/v1/checks/receive?async=1', { body: { address: 'hanako@home.test' }, localAddress: home })
  t.equal(a.status, 202)
  t.type(a.json.id, 'string')
  t.type(a.json.links, 'object')
  const sse = await readSse(mx.url, `/api/v1/checks/${a.json.id}/events`, home)
  t.match(sse.contentType, /^text\/event-stream/)
  const done = sse.events[sse.events.length - 1]
  t.equal(done?.event, 'done')
  const final = JSON.parse(done?.data ?? '{}')
  assertReport(t, final, 'receive', home)
  t.ok(sse.events.some((e) => e.event !== 'done'), 'events before the final report')
  const stored = await get(`/api/v1/checks/${a.json.id}`)
  t.same(stored.json, final)

  const relay = await post('/api/v1/checks/relay', { domain: 'home.test' })
  assertReport(t, relay.json, 'relay', home)
  // smtp-server without users accepts every RCPT: an open relay, found
  t.equal(relay.json.status, 'fail', relay.json.summary)
  t.ok(relay.json.vectors.some((v: any) => v.accepted === true))
  const roles = await post('/api/v1/checks/roles', { domain: 'home.test' })
  assertReport(t, roles.json, 'roles', home)
  t.ok(roles.json.mailboxes.every((m: any) => m.accepted === true))
  const pop3 = await post('/api/v1/checks/pop3', { domain: 'home.test' })
  assertReport(t, pop3.json, 'pop3', home)
  t.equal(pop3.json.status, 'fail', 'no POP3 server: nothing listening is the server failing (docs/API.md: fail, not error)')
  t.ok(pop3.json.advice.length > 0, 'advice says why')
})

t.test('no MX: the domain itself; a server that is down: fail with advice', async (t) => {
  const bare = await post('/api/v1/checks/smtp', { domain: 'bare.test' })
  t.equal(bare.status, 200, bare.text.slice(0, 300))
  assertReport(t, bare.json, 'smtp', home)
  t.not(bare.json.status, 'error', bare.json.summary)
  t.equal(bare.json.target.ip, home)

  for (const [path, body] of [['/api/v1/checks/smtp', { domain: 'down.test' }], ['/api/v1/checks/receive', { address: 'taro@down.test' }]] as const) {
    const a = await post(path, body, down)
    t.equal(a.status, 200, `${path}: a report, not a refusal`)
    assertReport(t, a.json, path.split('/').pop()!, down)
    t.equal(a.json.status, 'fail', `${path}: connection refused is the server failing, not mxprobe's error`)
    t.ok(a.json.advice.length > 0, `${path}: advice says why`)
  }

  t.equal((await get('/api/v1/checks/..%2f..%2fetc')).status, 400, 'path characters in an id: 400')
  for (const id of ['AAAAAAAAAAAAAAAA', 'no-such-report', 'x', 'nonexistent']) {
    t.equal((await get(`/api/v1/checks/${id}`)).status, 404, `GET unknown ${id}: 404`)
    t.equal((await get(`/api/v1/checks/${id}/events`)).status, 404, `events of unknown ${id}: 404`)
  }
})

t.test('pop3 login needs TLS: a password is not sent where there is none', async (t) => {
  const before = smtp.connections
  const a = await post('/api/v1/checks/pop3', { domain: 'home.test', username: 'alice', password: 'Never-Echo-This-42' })
  t.ok([200, 400].includes(a.status), `answered ${a.status}`)
  t.notOk(a.text.includes('Never-Echo-This-42'), 'password not echoed')
  t.notOk(mx.output().includes('Never-Echo-This-42'), 'password not logged')
  t.equal(smtp.connections, before, 'the SMTP server saw nothing')
})

t.test('tools', async (t) => {
  const raw = [
    'Received: from mx.example.org (mx.example.org [192.0.2.1]) by mx.home.test with ESMTPS id ABC; Mon, 1 Jan 2024 00:00:00 +0000',
    'From: =?UTF-8?B?5bGx55Sw?= <taro@example.org>',
    'To: hanako@home.test',
    'Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=',
    'Authentication-Results: mx.home.test; spf=pass smtp.mailfrom=example.org',
    '',
    ''
  ].join('\r\n')
  const h = await post('/api/v1/tools/headers', { raw })
  t.equal(h.status, 200, h.text.slice(0, 300))
  t.ok(Array.isArray(h.json.hops) && h.json.hops.length === 1, 'one Received hop')
  t.ok(Array.isArray(h.json.findings))
  t.ok(JSON.stringify(h.json).includes('テスト'), 'ISO-2022-JP subject decoded')

  const broken = Buffer.from('こんにちは', 'utf8').toString('latin1')
  const m = await post('/api/v1/tools/mojibake', { text: broken })
  t.equal(m.status, 200, m.text.slice(0, 300))
  t.ok(Array.isArray(m.json.candidates) && m.json.candidates.length > 0)
  t.equal(m.json.candidates[0].text, 'こんにちは', 'most plausible first')

  assertRefusal(t, await post('/api/v1/tools/mojibake', { text: 'x', extra: 1 }), 400)
  assertRefusal(t, await post('/api/v1/tools/headers', {}), 400)
})

t.test('400 for bad input, and no socket', async (t) => {
  const before = smtp.connections
  const cases: Array<[string, unknown]> = [
    ['/api/v1/checks/dns', { domain: 'home.test\r\nMAIL FROM:<x@y>' }],
    ['/api/v1/checks/smtp', { domain: 'home.test\n' }],
    ['/api/v1/checks/smtp', { domain: 'home\u0000.test' }],
    ['/api/v1/checks/smtp', { domain: 'a'.repeat(300) + '.test' }],
    ['/api/v1/checks/smtp', { domain: 'home.test', extra: 'x' }],
    ['/api/v1/checks/smtp', {}],
    ['/api/v1/checks/receive', { address: 'taro@home.test\r\nRCPT TO:<x@example.org>' }],
    ['/api/v1/checks/receive', { address: 'taro\u0000@home.test' }],
    ['/api/v1/checks/receive', { address: 'a'.repeat(400) + '@home.test' }],
    ['/api/v1/checks/receive', { address: 'taro@home.test', from: 'x@y' }],
    ['/api/v1/checks/relay', { domain: 'home.test\r' }],
    ['/api/v1/checks/roles', { domain: 'home.test', x: 1 }],
    ['/api/v1/checks/pop3', { domain: 'home.test', username: 'alice\r\nDELE 1', password: 'pw-pw-pw' }],
    ['/api/v1/checks/pop3', { domain: 'home.test', username: 'alice', password: 'pw\r\nDELE 1' }],
    ['/api/v1/checks/ports', { ports: [25, 'x'] }],
    ['/api/v1/checks/ports', { ports: [25], host: '10.0.0.1' }]
  ]
  for (const [path, body] of cases) {
    const a = await post(path, body)
    assertRefusal(t, a, 400)
    t.notOk(a.text.includes('pw-pw-pw') || a.text.includes('pw\\r\\nDELE'), 'no password in the answer')
  }
  const bad = await request(mx.url, 'POST', '/api/v1/checks/dns', { rawBody: '{"domain":', localAddress: home })
  assertRefusal(t, bad, 400)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(smtp.connections, before, 'no connection reached the mail server')
})

t.test('web pages and operator endpoints', async (t) => {
  const ja = await get('/')
  t.equal(ja.status, 200)
  t.match(String(ja.headers['content-type']), /^text\/html/)
  t.match(ja.text, /<html[^>]*lang="ja"/)
  t.ok(ja.text.includes(home), 'the page shows the caller IP')
  const en = await get('/?lang=en')
  t.match(en.text, /<html[^>]*lang="en"/)
  const al = await get('/', { 'accept-language': 'en-US,en;q=0.9' })
  t.match(al.text, /<html[^>]*lang="en"/)
  const alJa = await get('/', { 'accept-language': 'ja,en;q=0.5' })
  t.match(alJa.text, /<html[^>]*lang="ja"/)

  const d = await post('/api/v1/checks/dns', { domain: 'home.test' })
  // advice in the caller's language: ?lang= or Accept-Language
  const adviceEn = await request(mx.url, 'POST', '/api/v1/checks/dns?lang=en', { body: { domain: 'down.test' }, localAddress: home })
  const adviceJa = await request(mx.url, 'POST', '/api/v1/checks/dns', { body: { domain: 'down.test' }, localAddress: home, headers: { 'accept-language': 'ja' } })
  t.ok(adviceEn.json.advice.length > 0 && adviceJa.json.advice.length > 0, 'a mismatch has advice')
  t.notMatch(adviceEn.json.advice[0].message, /[\u3040-\u30ff\u4e00-\u9fff]/, 'English advice')
  t.match(adviceJa.json.advice[0].message, /[\u3040-\u30ff\u4e00-\u9fff]/, 'Japanese advice')
  const page = await get(`/r/${d.json.id}`)
  t.equal(page.status, 200)
  t.match(String(page.headers['content-type']), /^text\/html/)
  t.ok(page.text.includes(d.json.id), 'report page names the report')
  t.match(page.text, /<(textarea|pre)[^>]*>/, 'a plain-text copy')
  const txt = await get(`/r/${d.json.id}.txt`)
  t.match(String(txt.headers['content-type']), /^text\/plain/)
  t.ok(txt.text.includes('home.test'), 'plain-text copy of the report')
  t.equal((await get('/r/AAAAAAAAAAAAAAAA')).status, 404)
  const noPtr = await get('/api/v1/ip', {}, down)
  const { proof: downProof, ...downRest } = noPtr.json
  t.type(downProof, 'string')
  t.same(downRest, { ip: down, family: 4, ptr: null }, 'no PTR: null')

  const js = await get('/embed.js')
  t.equal(js.status, 200)
  t.match(String(js.headers['content-type']), /^(application|text)\/javascript/)

  const docs = await get('/docs')
  t.ok(docs.status === 200 || (docs.status >= 300 && docs.status < 400), `/docs answers ${docs.status}`)
  const spec = await get('/docs/json')
  t.equal(spec.status, 200)
  t.match(spec.json?.openapi, /^3\./)
  for (const p of ['/api/v1/ip', '/api/v1/checks/dns', '/api/v1/checks/ports', '/api/v1/checks/smtp', '/api/v1/checks/receive', '/api/v1/checks/relay', '/api/v1/checks/roles', '/api/v1/checks/pop3', '/api/v1/tools/headers', '/api/v1/tools/mojibake', '/api/v1/checks/{id}', '/api/v1/checks/{id}/events']) {
    t.ok(spec.json?.paths?.[p], `OpenAPI documents ${p}`)
  }

  const hz = await get('/healthz')
  t.equal(hz.status, 200)
  const rz = await get('/readyz')
  t.equal(rz.status, 200, rz.text)
  const m = await get('/metrics')
  t.equal(m.status, 200)
  t.match(String(m.headers['content-type']), /^text\/plain/)
  t.match(m.text, /^# HELP /m)
  t.match(m.text, /^# TYPE /m)
})

t.test('TRUST_PROXY: X-Forwarded-For only from the trusted proxy', async (t) => {
  const proxied = await startMxprobe({ ...base, PORT: String(await freePort()), TARGET_ALLOW_CIDRS: '127.0.0.0/8', TRUST_PROXY: '127.0.0.1' })
  t.teardown(() => proxied.stop())
  const viaProxy = await request(proxied.url, 'GET', '/api/v1/ip', { localAddress: '127.0.0.1', headers: { 'x-forwarded-for': home } })
  t.equal(viaProxy.json?.ip, home, 'the trusted proxy\'s X-Forwarded-For is the caller')
  const forged = await request(proxied.url, 'GET', '/api/v1/ip', { localAddress: stranger, headers: { 'x-forwarded-for': home } })
  t.equal(forged.json?.ip, stranger, 'an untrusted peer\'s header is ignored')
  const untrusting = await request(mx.url, 'GET', '/api/v1/ip', { localAddress: '127.0.0.1', headers: { 'x-forwarded-for': home } })
  t.equal(untrusting.json?.ip, '127.0.0.1', 'without TRUST_PROXY no header is believed')

  const r = await request(proxied.url, 'POST', '/api/v1/checks/smtp', { body: { domain: 'home.test' }, localAddress: '127.0.0.1', headers: { 'x-forwarded-for': home } })
  t.equal(r.status, 200)
  assertReport(t, r.json, 'smtp', home)
  const before = smtp.connections
  const f = await request(proxied.url, 'POST', '/api/v1/checks/smtp', { body: { domain: 'home.test' }, localAddress: stranger, headers: { 'x-forwarded-for': home } })
  assertRefusal(t, f, 403, 'ip_mismatch')
  t.equal(f.json?.callerIp, stranger)
  t.equal(smtp.connections, before)
})

t.test('403 target_forbidden without TARGET_ALLOW_CIDRS; 503 with Redis down', async (t) => {
  const redis = await startOwnRedis()
  const strict = await startMxprobe({ ...base, PORT: String(await freePort()), REDIS_URL: redis.url })
  t.teardown(async () => { await strict.stop(); await redis.stop() })
  const before = smtp.connections
  for (const [path, body] of [
    ['/api/v1/checks/smtp', { domain: 'home.test' }],
    ['/api/v1/checks/receive', { address: 'taro@home.test' }],
    ['/api/v1/checks/ports', {}]
  ] as const) {
    const a = await request(strict.url, 'POST', path, { body, localAddress: home })
    assertRefusal(t, a, 403, 'target_forbidden')
    t.equal(a.json?.callerIp, home, `${path}: callerIp`)
    t.ok('dns' in (a.json ?? {}), `${path}: dns key`)
  }
  await redis.stop()
  for (const [path, body] of [
    ['/api/v1/checks/dns', { domain: 'home.test' }],
    ['/api/v1/checks/ports', {}],
    ['/api/v1/checks/smtp', { domain: 'home.test' }],
    ['/api/v1/checks/receive', { address: 'taro@home.test' }],
    ['/api/v1/checks/relay', { domain: 'home.test' }],
    ['/api/v1/checks/roles', { domain: 'home.test' }],
    ['/api/v1/checks/pop3', { domain: 'home.test' }],
    ['/api/v1/checks/smtp?async=1', { domain: 'home.test' }]
  ] as const) {
    const started = Date.now()
    const a = await request(strict.url, 'POST', path, { body, localAddress: home })
    assertRefusal(t, a, 503)
    t.ok(Date.now() - started < 5000, `${path}: answered at once (${Date.now() - started} ms)`)
  }
  t.equal((await request(strict.url, 'GET', '/readyz', { localAddress: home })).status, 503, '/readyz says not ready')
  t.equal((await request(strict.url, 'GET', '/healthz', { localAddress: home })).status, 200, '/healthz still alive')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(smtp.connections, before, 'no socket opened')

  // Redis back: the service recovers by itself (still refusing the loopback target, now with 403 again)
  await redis.start()
  let status = 0
  for (let i = 0; i < 50 && status !== 403; i++) {
    status = (await request(strict.url, 'POST', '/api/v1/checks/smtp', { body: { domain: 'home.test' }, localAddress: home })).status
    if (status !== 403) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.equal(status, 403, 'serving again after Redis came back')
})

t.test('npm start defaults: 127.0.0.1:3000, in-memory store', async (t) => {
  if (!await portFree(3000)) {
    t.plan(0, 'skip: port 3000 is in use on this machine')
    return
  }
  // Only DNS_SERVERS is set: the system resolver is not on loopback, and tests never send traffic elsewhere.
  const bare = await startMxprobe({ DNS_SERVERS: dns.server })
  t.teardown(() => bare.stop())
  t.equal(bare.url, 'http://127.0.0.1:3000')
  const ip = await request(bare.url, 'GET', '/api/v1/ip', { localAddress: home })
  t.equal(ip.status, 200)
  t.equal(ip.json?.ip, home)
  const d = await request(bare.url, 'POST', '/api/v1/checks/dns', { body: { domain: 'home.test' }, localAddress: home })
  t.equal(d.status, 200)
  assertReport(t, d.json, 'dns', home)
  const rz = await request(bare.url, 'GET', '/readyz', { localAddress: home })
  t.match(rz.json, { store: 'memory' })
})
