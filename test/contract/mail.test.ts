// The contract, as an outsider drives it: a running mxprobe (real process,
// real Redis, real DNS) tested over HTTP from a "home" loopback address that
// runs Debian Postfix on 25 and Dovecot on 110/995. Every mail endpoint of
// docs/API.md, the async answer with SSE, and the refusals that must open no
// socket (403 ip_mismatch, 429).
import t from 'tap'
import { startDns, reverseName } from '../fixtures/dns.js'
import { startPostfix } from '../fixtures/postfix.js'
import { startDovecot } from '../fixtures/dovecot.js'
import { startSmtp } from '../fixtures/smtp.js'
import { randomLoopback, uniquePrefix, requireTool } from '../helpers.js'
import { startMxprobe, freePort, request, readSse, assertReport, assertRefusal } from './harness.js'

// Several mxprobe processes and real servers start here; on a loaded machine that takes longer than tap's default.
t.setTimeout(240_000)

if (requireTool(t, 'root', 'postfix', 'dovecot', 'openssl')) {
  const home = randomLoopback()
  let stranger = randomLoopback()
  while (stranger === home) stranger = randomLoopback()
  let limited = randomLoopback()
  while (limited === home || limited === stranger) limited = randomLoopback()

  const [pf, dovecot, dns, port] = await Promise.all([
    startPostfix({ ip: home, domain: 'home.test', users: ['taro'] }),
    startDovecot({ ip: home, hostname: 'mx.home.test' }),
    startDns({
      'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }], TXT: ['v=spf1 ip4:' + home + ' -all'] },
      'mx.home.test': { A: [home] },
      [reverseName(home)]: { PTR: ['mx.home.test'] }
    }),
    freePort()
  ])
  // the caller who is not the MX: a server on its own address counts any connection mxprobe makes there
  const strangerSmtp = await startSmtp({ ip: stranger })
  const mx = await startMxprobe({
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_PREFIX: uniquePrefix(),
    DNS_SERVERS: dns.server,
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    HELO_NAME: 'probe.mxprobe.test',
    MAIL_FROM: 'mxprobe@probe.mxprobe.test',
    RELAY_PROBE_DOMAIN: 'relay-target.mxprobe.test'
  })
  t.teardown(async () => {
    await mx.stop()
    await Promise.allSettled([pf.stop(), dovecot.stop(), dns.close(), strangerSmtp.close()])
  })
  const post = async (path: string, body: unknown, from = home) => await request(mx.url, 'POST', path, { body, localAddress: from })
  const get = async (path: string, from = home) => await request(mx.url, 'GET', path, { localAddress: from })
  const postfixConnects = (): number => pf.log().split('\n').filter((l) => /smtpd\[\d+\]: connect from/.test(l)).length

  t.test('the first check right after start-up is served (Redis connected before listening)', async (t) => {
    const a = await post('/api/v1/checks/dns', { domain: 'home.test' })
    t.equal(a.status, 200, a.text.slice(0, 200))
  })

  t.test('GET /api/v1/ip is the TCP peer', async (t) => {
    const a = await get('/api/v1/ip')
    t.equal(a.status, 200)
    // the contract's fourth field, proof: opaque, URL-safe, never the address itself
    const { proof, ...rest } = a.json
    t.match(proof, /^[A-Za-z0-9_-]{20,512}$/, 'a proof comes with the address')
    t.same(rest, { ip: home, family: 4, ptr: 'mx.home.test' })
  })

  t.test('dns, ports, smtp', async (t) => {
    const [d, p, p25, s] = await Promise.all([
      post('/api/v1/checks/dns', { domain: 'home.test' }),
      post('/api/v1/checks/ports', {}),
      post('/api/v1/checks/ports', { ports: [25] }),
      post('/api/v1/checks/smtp', { domain: 'home.test' })
    ])
    t.equal(d.status, 200)
    assertReport(t, d.json, 'dns', home)
    t.equal(d.json.target.domain, 'home.test')
    t.equal(d.json.target.host, 'mx.home.test')
    t.equal(d.json.target.ip, home)

    t.equal(p.status, 200)
    assertReport(t, p.json, 'ports', home)
    t.same(p.json.ports.map((x: any) => x.port).sort((a: number, b: number) => a - b), [25, 110, 143, 465, 587, 993, 995], 'default ports')
    for (const x of p.json.ports) {
      t.ok(['open', 'refused', 'filtered'].includes(x.state), `port ${x.port} state ${x.state}`)
      t.type(x.ms, 'number', `port ${x.port} ms`)
    }
    const byPort = Object.fromEntries(p.json.ports.map((x: any) => [x.port, x]))
    t.equal(byPort[25].state, 'open')
    t.match(byPort[25].banner, /^220 mx\.home\.test ESMTP Postfix/)
    t.equal(byPort[110].state, 'open')
    t.equal(byPort[995].state, 'open')
    t.equal(byPort[587].state, 'refused')
    const noBody = await request(mx.url, 'POST', '/api/v1/checks/ports', { localAddress: home })
    t.equal(noBody.status, 200, 'ports without any body: the default ports')
    t.equal(noBody.json?.ports?.length, 7)
    t.equal(p25.status, 200)
    t.same(p25.json.ports.map((x: any) => x.port), [25])

    t.equal(s.status, 200)
    assertReport(t, s.json, 'smtp', home)
    t.not(s.json.status, 'error', s.json.summary)
    t.equal(s.json.target.host, 'mx.home.test')
    t.ok(s.json.transcript.some((l: any) => l.dir === 'S' && /^220 /.test(l.text)), 'banner in transcript')
    t.ok(s.json.transcript.some((l: any) => l.dir === 'C' && /^EHLO probe\.mxprobe\.test$/.test(l.text)), 'EHLO with HELO_NAME')
    t.ok(s.json.transcript.some((l: any) => l.dir === 'C' && l.text === 'STARTTLS'), 'STARTTLS tried')
  })

  t.test('receive: a real mail reaches the Maildir', async (t) => {
    const a = await post('/api/v1/checks/receive', { address: 'taro@home.test' })
    t.equal(a.status, 200)
    const r = a.json
    assertReport(t, r, 'receive', home)
    t.equal(r.status, 'pass', r.summary)
    t.ok(r.transcript.some((l: any) => l.dir === 'C'), 'C lines')
    t.ok(r.transcript.some((l: any) => l.dir === 'S'), 'S lines')
    t.ok(r.transcript.some((l: any) => l.dir === 'C' && l.text === 'MAIL FROM:<mxprobe@probe.mxprobe.test>'), 'MAIL_FROM used')
    const raw = await pf.waitForMail('taro', (m) => m.includes(r.id))
    t.ok(raw.includes(r.id), 'the report id is in the delivered mail')
    const stored = await get(`/api/v1/checks/${r.id}`)
    t.equal(stored.status, 200)
    t.same(stored.json, r, 'GET returns the stored report')
  })

  t.test('relay: vectors, nothing accepted by a closed Postfix', async (t) => {
    const a = await post('/api/v1/checks/relay', { domain: 'home.test' })
    t.equal(a.status, 200)
    const r = a.json
    assertReport(t, r, 'relay', home)
    t.ok(Array.isArray(r.vectors) && r.vectors.length > 0, 'vectors')
    for (const v of r.vectors ?? []) {
      if (typeof v.id !== 'string' || typeof v.mailFrom !== 'string' || typeof v.rcptTo !== 'string' || typeof v.accepted !== 'boolean' || typeof v.reply !== 'string') t.fail(`vector shape ${JSON.stringify(v)}`)
    }
    t.notOk(r.vectors.some((v: any) => v.accepted), 'Postfix with reject_unauth_destination relays nothing')
    t.equal(r.status, 'pass', r.summary)
    t.ok(r.vectors.some((v: any) => /relay-target\.mxprobe\.test/i.test(v.rcptTo)), 'RELAY_PROBE_DOMAIN is the relay target')
    t.notOk(r.transcript.some((l: any) => l.dir === 'C' && /^DATA/i.test(l.text)), 'no DATA')
  })

  t.test('roles: mailboxes', async (t) => {
    const a = await post('/api/v1/checks/roles', { domain: 'home.test' })
    t.equal(a.status, 200)
    const r = a.json
    assertReport(t, r, 'roles', home)
    t.ok(Array.isArray(r.mailboxes) && r.mailboxes.length > 0, 'mailboxes')
    for (const m of r.mailboxes ?? []) {
      if (typeof m.address !== 'string' || typeof m.required !== 'boolean' || typeof m.accepted !== 'boolean' || typeof m.reply !== 'string') t.fail(`mailbox shape ${JSON.stringify(m)}`)
    }
    const pm = r.mailboxes.find((m: any) => /^postmaster@home\.test$/i.test(m.address))
    t.ok(pm, 'postmaster@domain tested')
    t.equal(pm?.required, true, 'postmaster is required')
  })

  t.test('pop3 and pop3 login (password never echoed, stored or logged)', async (t) => {
    const a = await post('/api/v1/checks/pop3', { domain: 'home.test' })
    t.equal(a.status, 200)
    assertReport(t, a.json, 'pop3', home)
    t.not(a.json.status, 'error', a.json.summary)

    const l = await post('/api/v1/checks/pop3', { domain: 'home.test', username: dovecot.user, password: dovecot.password })
    t.equal(l.status, 200)
    assertReport(t, l.json, 'pop3', home)
    t.notOk(l.text.includes(dovecot.password), 'password not in the answer')
    // transcript lines of the POP3 check carry the port: "[110] USER alice"
    const lines = l.json.transcript.map((x: any) => ({ dir: x.dir, text: String(x.text).replace(/^\[\d+\] /, '') }))
    const firstCred = lines.findIndex((x: any) => x.dir === 'C' && /^(USER|PASS|AUTH)\b/i.test(x.text))
    t.ok(firstCred >= 0, 'a login was tried', { transcript: lines })
    t.ok(lines.slice(0, firstCred).some((x: any) => x.dir === 'I' && /TLS established/i.test(x.text)), 'credentials only after TLS')
    t.equal(l.json.login?.ok, true, 'Dovecot accepted the login')
    const stored = await get(`/api/v1/checks/${l.json.id}`)
    t.equal(stored.status, 200)
    t.notOk(stored.text.includes(dovecot.password), 'password not in the stored report')
    const page = await get(`/r/${l.json.id}`)
    t.notOk(page.text.includes(dovecot.password), 'password not in the report page')
    const sse = await readSse(mx.url, `/api/v1/checks/${l.json.id}/events`, home)
    t.notOk(sse.events.some((e) => e.data.includes(dovecot.password)), 'password not in the events')
    t.notOk(mx.output().includes(dovecot.password), 'password not in the process log')
  })

  t.test('?async=1 → 202 { id, links }, GET and SSE', async (t) => {
    const a = await request(mx.url, 'POST', '/api/v1/checks/smtp?async=1', { body: { domain: 'home.test' }, localAddress: home })
    t.equal(a.status, 202)
    t.type(a.json.id, 'string')
    t.type(a.json.links, 'object')
    const sse = await readSse(mx.url, `/api/v1/checks/${a.json.id}/events`, home)
    t.equal(sse.status, 200)
    t.match(sse.contentType, /^text\/event-stream/)
    const last = sse.events[sse.events.length - 1]
    t.equal(last?.event, 'done', 'the stream ends with the final report')
    const final = JSON.parse(last?.data ?? '{}')
    assertReport(t, final, 'smtp', home)
    t.equal(final.id, a.json.id)
    const stored = await get(`/api/v1/checks/${a.json.id}`)
    t.equal(stored.status, 200)
    t.same(stored.json, final, 'stored report = final SSE report')
    t.equal((await get('/api/v1/checks/AAAAAAAAAAAAAAAA')).status, 404, 'unknown id: 404')
  })

  t.test('403 ip_mismatch opens no socket', async (t) => {
    const before = postfixConnects()
    for (const [path, body] of [
      ['/api/v1/checks/smtp', { domain: 'home.test' }],
      ['/api/v1/checks/receive', { address: 'taro@home.test' }],
      ['/api/v1/checks/relay', { domain: 'home.test' }],
      ['/api/v1/checks/roles', { domain: 'home.test' }],
      ['/api/v1/checks/pop3', { domain: 'home.test' }]
    ] as const) {
      const a = await post(path, body, stranger)
      assertRefusal(t, a, 403, 'ip_mismatch')
      t.equal(a.json?.callerIp, stranger, `${path}: callerIp`)
      t.ok(a.json?.dns !== undefined && a.json?.dns !== null, `${path}: dns facts`)
      t.ok(JSON.stringify(a.json?.dns).includes(home), `${path}: dns facts name the MX address`)
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.equal(strangerSmtp.connections, 0, 'no connection to the caller')
    t.equal(postfixConnects(), before, 'no connection to the MX')
  })

  t.test('429 with Retry-After over the receive limit (10 per caller)', async (t) => {
    const before = postfixConnects()
    const codes: number[] = []
    let last
    for (let i = 0; i < 11; i++) {
      last = await post('/api/v1/checks/receive', { address: 'taro@home.test' }, limited)
      codes.push(last.status)
    }
    t.same(codes.slice(0, 10), Array(10).fill(403), 'the first ten are refused by the target rule')
    assertRefusal(t, last!, 429)
    t.match(String(last!.headers['retry-after']), /^\d+$/, 'Retry-After seconds')
    t.equal(postfixConnects(), before, 'no connection')
  })
}
