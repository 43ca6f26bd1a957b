// Address proofs over HTTP: GET /api/v1/ip hands them out (to programs and
// the service's own origins only), every check body takes `proofs`, a proof
// that proves nothing is a 400 naming the field, and a proof never reaches a
// stored report, a page, an event or a log line. End to end: a caller on
// IPv4 proves its home's IPv6 /64 and is tested on its IPv6-only MX.
import t from 'tap'
import { pino } from 'pino'
import { startDns, publishMx, type Zone } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { testApp, testConfig, randomLoopback, ipv6Home, reportModelErrors } from '../helpers.js'
import { buildApp, LOG_REDACT } from '../../src/app.js'
import { AddressProofs } from '../../src/net/proof.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { callerOf } from '../../routes/helpers.js'
import { BadInputError } from '../../src/errors.js'

const SECRET = 'test secret of the balancer, 32 chars'
const V4 = 'https://v4.mxprobe.test'
const V6 = 'https://v6.mxprobe.test'
const SITE = 'https://mxprobe.test'
const ORIGINS = { PROOF_SECRET: SECRET, IPV4_ORIGIN: V4, IPV6_ORIGIN: V6, PUBLIC_ORIGIN: SITE }

async function proofOf (app: FastifyInstance, ip: string, headers: Record<string, string> = {}): Promise<string> {
  const r = await app.inject({ url: '/api/v1/ip', remoteAddress: ip, headers })
  return r.json().proof
}

t.test('GET /api/v1/ip: a proof for programs and the service\'s own origins, never cached', async (t) => {
  const app = await testApp(ORIGINS)
  t.teardown(() => app.close())
  const ip = randomLoopback()
  const plain = await app.inject({ url: '/api/v1/ip', remoteAddress: ip })
  t.equal(plain.statusCode, 200)
  const j = plain.json()
  t.same(Object.keys(j).sort(), ['family', 'ip', 'proof', 'ptr'])
  t.equal(j.ip, ip)
  t.match(j.proof, /^[A-Za-z0-9_-]{56}$/)
  t.match(app.mx.proofs.verify(j.proof), { ok: true, ip, family: 4 })
  t.equal(plain.headers['cache-control'], 'no-store')
  t.match(plain.headers.vary, /Origin/)
  t.notOk(plain.headers['access-control-allow-origin'], 'no CORS without an Origin')

  // The page on the IPv4 origin asks the IPv6 one (and the other way round): CORS for that origin, with the proof.
  for (const origin of [V4, V6, SITE]) {
    const own = await app.inject({ url: '/api/v1/ip', remoteAddress: ip, headers: { origin } })
    t.equal(own.headers['access-control-allow-origin'], origin, `${origin} may read it`)
    t.notOk(own.headers['access-control-allow-credentials'])
    t.ok(own.json().proof, `${origin} gets a proof`)
  }
  // The page's own host (a deployment reached by a name not in the list) is its own origin too.
  const sameHost = await app.inject({ url: '/api/v1/ip', remoteAddress: ip, headers: { origin: 'http://localhost:3000', host: 'localhost:3000' } })
  t.ok(sameHost.json().proof)

  // Another site still reads the address (the embed, tutorials), never a proof.
  for (const origin of ['https://tutorial.example', 'null', 'https://v4.mxprobe.test.evil.example', 'not a url']) {
    const foreign = await app.inject({ url: '/api/v1/ip', remoteAddress: ip, headers: { origin } })
    t.equal(foreign.statusCode, 200)
    t.equal(foreign.headers['access-control-allow-origin'], '*', origin)
    t.equal(foreign.json().ip, ip)
    t.notOk('proof' in foreign.json(), `no proof for ${origin}`)
    t.equal(foreign.headers['cache-control'], 'no-store')
  }

  // curl: the address alone.
  const text = await app.inject({ url: '/api/v1/ip', remoteAddress: ip, headers: { accept: 'text/plain' } })
  t.equal(text.body, `${ip}\n`)
  t.match(text.headers['content-type'], /^text\/plain/)
  t.equal(text.headers['cache-control'], 'no-store')
  const v6text = await app.inject({ url: '/api/v1/ip', remoteAddress: '2001:db8::5', headers: { accept: 'text/plain, application/json' } })
  t.equal(v6text.body, '2001:db8::5\n')

  // An address no check may ever use gets no proof (it would only ever be refused).
  const lan = await app.inject({ url: '/api/v1/ip', remoteAddress: '192.168.1.5' })
  t.equal(lan.json().ip, '192.168.1.5')
  t.notOk('proof' in lan.json())
  t.ok((await app.inject({ url: '/api/v1/ip', remoteAddress: '2001:db8::5' })).json().proof === undefined, 'documentation prefix: no proof either')
})

t.test('every check body takes proofs; one that proves nothing is a 400 naming proofs, in the caller\'s language', async (t) => {
  const zone: Zone = {}
  const home = randomLoopback()
  publishMx(zone, 'home.test', home)
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ ...ORIGINS, DNS_SERVERS: dns.server, PROOF_TTL_SECONDS: '60' })
  t.teardown(() => app.close())
  const good = await proofOf(app, home)
  const post = (url: string, payload: unknown, lang = 'en', ip = home) => app.inject({ method: 'POST', url: `${url}?lang=${lang}`, payload: payload as Record<string, unknown>, remoteAddress: ip })

  // A valid proof of the caller's own address is fine (Happy Eyeballs: any family, also the connection's).
  const ok = await post('/api/v1/checks/dns', { domain: 'home.test', proofs: [good] })
  t.equal(ok.statusCode, 200, ok.body)
  t.equal(ok.json().status, 'pass')
  t.same(reportModelErrors(ok.json()), [])
  t.equal((await post('/api/v1/checks/dns', { domain: 'home.test', proofs: [] })).statusCode, 200, 'an empty list is no proof at all')

  const elsewhere = new AddressProofs({ secret: 'another balancer, another secret' })
  const time = Buffer.alloc(4)
  time.writeUInt32BE(Math.floor(Date.now() / 1000))
  const cases: Array<[string, unknown, RegExp, RegExp]> = [
    ['too many', [good, good, good, good, good], /proofs must NOT have more than 4 items/, /proofs に指定できるのは 4 個までです/],
    ['oversized', ['A'.repeat(513)], /proofs\/0 must NOT have more than 512 characters/, /proofs\/0 は 512 文字以内/],
    ['not a list', good, /proofs must be array/, /proofs の型が違います/],
    ['not strings', [42], /proofs\/0 must be string/, /proofs\/0 の型が違います/],
    ['malformed', [good, 'not a proof!'], /proofs\[1\] is not an address proof of this service \(malformed\)/, /proofs\[1\] はこのサービスのアドレス証明の形式になっていません/],
    ['forged', [good.slice(0, 10) + (good[10] === 'A' ? 'B' : 'A') + good.slice(11)], /proofs\[0\] was not signed by this service/, /proofs\[0\] はこのサービスが発行した証明ではありません/],
    ['another secret', [elsewhere.issue(home)], /proofs\[0\] was not signed by this service \(altered, or signed with another PROOF_SECRET\)/, /別の PROOF_SECRET/],
    ['special-purpose', [app.mx.proofs.issue('10.1.2.3')], /proofs\[0\] proves 10\.1\.2\.3, which is never a target: .*private/i, /proofs\[0\] が証明するアドレス 10\.1\.2\.3 は特別な用途のアドレス/],
    ['6to4', [app.mx.proofs.issue('2002:cb00:7105::1')], /proofs\[0\] proves 2002:cb00:7105::1, which is never a target/, /特別な用途/],
    ['wrong family', [app.mx.proofs.seal(Buffer.concat([Buffer.from([1, 6, 127, 0, 0, 2]), time]))], /proofs\[0\] has an address family that does not fit/, /proofs\[0\] のアドレスファミリー/]
  ]
  for (const [what, proofs, en, ja] of cases) {
    const e = await post('/api/v1/checks/dns', { domain: 'home.test', proofs })
    t.equal(e.statusCode, 400, `${what}: ${e.body}`)
    t.equal(e.json().error, 'bad_input')
    t.match(e.json().message, en, `${what} (en)`)
    const j = await post('/api/v1/checks/dns', { domain: 'home.test', proofs }, 'ja')
    t.equal(j.statusCode, 400)
    t.match(j.json().message, ja, `${what} (ja)`)
    t.notOk(typeof proofs === 'string' ? j.body.includes(proofs) : (proofs as unknown[]).some((p) => typeof p === 'string' && p.length > 8 && (e.body.includes(p) || j.body.includes(p))), `${what}: the answer never repeats a proof`)
  }

  // Below the schema: the one function every check start goes through.
  const req = { ip: '127.0.0.9', headers: {} } as unknown as FastifyRequest
  const plain = callerOf(app, req, { domain: 'home.test' }, 'en')
  t.same(plain.caller.addresses.map((a) => a.ip), ['127.0.0.9'])
  t.same(plain.input, { domain: 'home.test' })
  const v6proof = app.mx.proofs.issue('fd00:6d78:1:2::9')
  const proven = callerOf(app, req, { domain: 'home.test', proofs: [v6proof] }, 'en')
  t.same(proven.input, { domain: 'home.test' }, 'the check never sees the proofs')
  t.same(proven.caller.addresses.map((a) => a.home ?? a.ip), ['127.0.0.9', 'fd00:6d78:1:2::/64'])
  t.ok(proven.caller.owns('fd00:6d78:1:2::25'), 'the proven /64 is the caller\'s')
  t.equal(callerOf(app, req, 'not an object', 'en').input, 'not an object')
  for (const proofs of ['x', [good, good, good, good, good]]) {
    t.throws(() => callerOf(app, req, { proofs }, 'en'), new BadInputError('proofs must be a list of at most 4 proofs', 'proofs'))
    t.throws(() => callerOf(app, req, { proofs }, 'ja'), { message: /proofs には証明 \(proof\) のリストを 4 個まで/ })
  }

  // Expiry, with the app's clock moved on (the lifetime is PROOF_TTL_SECONDS=60 here).
  let now = Date.now()
  app.mx.proofs = new AddressProofs({ secret: SECRET, ttlSeconds: 60, now: () => now })
  const fresh = app.mx.proofs.issue(home)
  now += 61_000
  const expired = await post('/api/v1/checks/dns', { domain: 'home.test', proofs: [fresh] })
  t.equal(expired.statusCode, 400)
  t.match(expired.json().message, /proofs\[0\] has expired \(a proof is valid for 1 min\); reload the page/)
  t.match((await post('/api/v1/checks/dns', { domain: 'home.test', proofs: [fresh] }, 'ja')).json().message, /proofs\[0\] は有効期限 \(1 分\) が切れています。ページを再読み込み/)
  now += 24 * 3600_000
  const ahead = new AddressProofs({ secret: SECRET, now: () => now + 3600_000 })
  t.match((await post('/api/v1/checks/dns', { domain: 'home.test', proofs: [ahead.issue(home)] })).json().message, /proofs\[0\] was issued in the future/)
  app.mx.proofs = new AddressProofs({ secret: SECRET })

  // Every check route and the diagnosis take the field; a bad proof stops each before anything runs.
  const bad = ['forged' + 'A'.repeat(50)]
  for (const [url, body] of [
    ['/api/v1/checks/ports', {}], ['/api/v1/checks/smtp', { domain: 'home.test' }], ['/api/v1/checks/receive', { address: 'taro@home.test' }],
    ['/api/v1/checks/relay', { domain: 'home.test' }], ['/api/v1/checks/roles', { domain: 'home.test' }], ['/api/v1/checks/pop3', { domain: 'home.test' }],
    ['/api/v1/checks/tls', { domain: 'home.test' }], ['/api/v1/checks/all', { target: 'home.test' }]
  ] as const) {
    const e = await post(url, { ...body, proofs: bad })
    t.equal(e.statusCode, 400, url)
    t.match(e.json().message, /^proofs\[0\] /, `${url} names the field`)
  }
  const send = await post('/api/v1/checks/send', { domain: 'home.test', proofs: bad })
  t.equal(send.statusCode, 503, 'the send test is off here; its schema takes proofs (below)')
  const docs = (await app.inject({ url: '/docs/json' })).json()
  for (const path of ['/api/v1/checks/dns', '/api/v1/checks/all', '/api/v1/checks/send', '/api/v1/checks/tls']) {
    const schema = docs.paths[path].post.requestBody.content['application/json'].schema
    t.equal(schema.properties.proofs.maxItems, 4, `${path} documents proofs`)
  }

  // The no-JavaScript form: hidden proofs fields, the same 400 as a page.
  const form = await app.inject({ method: 'POST', url: '/check/dns', payload: `lang=en&domain=home.test&proofs=${good}&proofs=nope`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: home })
  t.equal(form.statusCode, 400)
  t.match(form.body, /proofs\[1\] is not an address proof of this service/)
  t.notOk(form.body.includes(good), 'the page does not carry the proof on')
  const formOk = await app.inject({ method: 'POST', url: '/check/dns', payload: `lang=en&domain=home.test&proofs=${good}&proofs=`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: home })
  t.equal(formOk.statusCode, 303, 'an empty hidden field (an origin that did not answer) is no proof')
  const formAll = await app.inject({ method: 'POST', url: '/check/all', payload: 'lang=ja&target=home.test&proofs=nope', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: home })
  t.equal(formAll.statusCode, 400)
  t.match(formAll.body, /proofs\[0\] はこのサービスのアドレス証明の形式になっていません/)
})

t.test('a proof never reaches a stored report, a page, an event or a log line', async (t) => {
  const zone: Zone = {}
  const v4 = randomLoopback()
  publishMx(zone, 'home.test', v4, 'mx.home.test', 'fd00:6d78:1:2::25')
  publishMx(zone, 'elsewhere.test', randomLoopback())
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const lines: string[] = []
  const logger = pino({ level: 'trace', redact: LOG_REDACT }, { write: (s: string) => { lines.push(s) } })
  const app = await buildApp(testConfig({ ...ORIGINS, DNS_SERVERS: dns.server, LOG_LEVEL: 'trace' }), { logger })
  t.teardown(() => app.close())
  const proof = await proofOf(app, 'fd00:6d78:1:2::9', { origin: V6 })
  t.ok(proof)
  const leaks = (where: string, text: string): void => { t.notOk(text.includes(proof), `no proof in ${where}`) }

  const ids: string[] = []
  const sync = await app.inject({ method: 'POST', url: '/api/v1/checks/dns?lang=en', payload: { domain: 'home.test', proofs: [proof] }, remoteAddress: v4 })
  t.equal(sync.statusCode, 200, sync.body)
  leaks('the answer', sync.body)
  ids.push(sync.json().id)
  const asyncRun = await app.inject({ method: 'POST', url: '/api/v1/checks/dns?async=1', payload: { domain: 'home.test', proofs: [proof] }, remoteAddress: v4 })
  t.equal(asyncRun.statusCode, 202)
  ids.push(asyncRun.json().id)
  // A refusal stored as a report (its retry fields), and a diagnosis refused the same way.
  const refused = await app.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'elsewhere.test', proofs: [proof] }, remoteAddress: v4 })
  t.equal(refused.statusCode, 403)
  leaks('the 403', refused.body)
  ids.push(refused.json().id)
  const diag = await app.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'elsewhere.test', proofs: [proof] }, remoteAddress: v4 })
  t.equal(diag.statusCode, 403)
  ids.push(diag.json().id)
  const form = await app.inject({ method: 'POST', url: '/check/smtp', payload: `lang=ja&domain=elsewhere.test&proofs=${proof}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: v4 })
  t.equal(form.statusCode, 303)
  ids.push(String(form.headers.location).match(/\/r\/([^?]+)/)![1])
  // A 400 (an expired or foreign proof beside it) is logged as a request line.
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain: 'home.test', proofs: [proof, 'x'] }, remoteAddress: v4 })).statusCode, 400)

  for (const id of ids) {
    t.match(id, /^[A-Za-z0-9_-]{16}$/)
    let r
    for (let i = 0; i < 100; i++) {
      r = await app.inject({ url: `/api/v1/checks/${id}` })
      if (r.json().status !== 'running') break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    leaks(`stored report ${id}`, r!.body)
    leaks(`page ${id}`, (await app.inject({ url: `/r/${id}?lang=ja` })).body)
    leaks(`forum text ${id}`, (await app.inject({ url: `/r/${id}.txt` })).body)
    leaks(`plain-text report ${id}`, (await app.inject({ url: `/api/v1/checks/${id}`, headers: { accept: 'text/plain' } })).body)
    const events = await app.inject({ url: `/api/v1/checks/${id}/events` })
    t.match(events.body, /event: done/)
    leaks(`events ${id}`, events.body)
    const stored = await app.mx.store.getEvents(id, 0)
    leaks(`stored events ${id}`, JSON.stringify(stored))
  }
  t.ok(lines.some((l) => /"check finished"/.test(l)), 'audit lines were written')
  t.ok(lines.some((l) => /"request answered"/.test(l) && /"status":400/.test(l)), 'request lines were written')
  leaks('the log', lines.join(''))
  // Even a line that logged a body as it came would not carry one.
  logger.info({ body: { domain: 'x', proofs: [proof] }, proof }, 'a careless line')
  leaks('a careless log line', lines.at(-1)!)
  t.match(lines.at(-1)!, /\[redacted\]/)
})

t.test('a caller on IPv4 proves its IPv6 home and is tested on its IPv6-only MX, alone and in the diagnosis', async (t) => {
  // The PC at ::2 (where the IPv6 origin sees it), the mail server at ::25 of the same /64.
  const home = await ipv6Home(t, 2, 25)
  if (!home) return
  const srv = await startSmtp({ ip: home.addr(25), name: 'mx.v6home.test', users: ['postmaster', 'abuse', 'webmaster', 'hostmaster', 'noc', 'security', 'taro'] })
  t.teardown(() => srv.close())
  const zone: Zone = {
    'v6home.test': { MX: [{ exchange: 'mx.v6home.test', priority: 10 }] },
    'mx.v6home.test': { AAAA: [home.addr(25)] },
    'stale6.test': { MX: [{ exchange: 'mx.stale6.test', priority: 10 }] },
    'mx.stale6.test': { AAAA: ['fd00:6d78:ffff:ffff::25'] }
  }
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const many = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'pop3'].map((x) => `${x}=1000/600`).join(',')
  const app = await testApp({ ...ORIGINS, DNS_SERVERS: dns.server, RATE_LIMITS: many, DOMAIN_RATE_LIMITS: many })
  t.teardown(() => app.close())
  const caller = '127.0.0.2'

  const without = await app.inject({ method: 'POST', url: '/api/v1/checks/smtp?lang=en', payload: { domain: 'v6home.test' }, remoteAddress: caller })
  t.equal(without.statusCode, 403, 'without a proof the IPv6 MX is not the caller\'s')
  t.equal(srv.connections, 0)

  const ip6 = await app.inject({ url: '/api/v1/ip', remoteAddress: home.addr(2), headers: { origin: V4 } })
  t.equal(ip6.json().family, 6)
  const proof = ip6.json().proof as string
  t.match(proof, /^[A-Za-z0-9_-]{72}$/)

  const smtp = await app.inject({ method: 'POST', url: '/api/v1/checks/smtp?lang=en', payload: { domain: 'v6home.test', proofs: [proof] }, remoteAddress: caller })
  t.equal(smtp.statusCode, 200, smtp.statusCode === 200 ? 'tested' : smtp.body)
  const r = smtp.json()
  t.equal(r.callerIp, caller, 'the report shows the connection\'s address')
  t.equal(r.target.ip, home.addr(25), 'and tests the MX at another address of the proven /64')
  t.match(r.status, /^(pass|warn)$/, r.summary)
  t.ok(srv.connections >= 1, 'the IPv6 server was reached')
  t.same(reportModelErrors(r), [])

  // Outside the proven /64: the stale-DNS diagnosis, for IPv6.
  const stale = await app.inject({ method: 'POST', url: '/api/v1/checks/smtp?lang=en', payload: { domain: 'stale6.test', proofs: [proof] }, remoteAddress: caller })
  t.equal(stale.statusCode, 403)
  t.equal(stale.json().error, 'ip_mismatch')

  // The diagnosis hands the proven addresses to every child.
  const all = await app.inject({ method: 'POST', url: '/api/v1/checks/all?lang=en', payload: { target: 'v6home.test', proofs: [proof] }, remoteAddress: caller })
  t.equal(all.statusCode, 200, all.statusCode === 200 ? 'the diagnosis ran' : all.body)
  const d = all.json()
  t.equal(d.target.ip, home.addr(25))
  for (const c of d.children) {
    t.ok(c.id, `${c.type} ran`)
    const child = (await app.inject({ url: `/api/v1/checks/${c.id}` })).json()
    if (['smtp', 'receive', 'roles', 'relay'].includes(c.type)) {
      t.equal(child.target.ip, home.addr(25), `${c.type} tested the IPv6 MX`)
      t.notOk(child.steps.some((s: { name: string }) => s.name === 'refusal'), `${c.type} was not refused`)
    }
  }
  t.ok(srv.delivered.length >= 1, 'the receive child delivered its test mail over IPv6')
})
