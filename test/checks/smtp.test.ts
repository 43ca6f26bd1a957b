import t from 'tap'
import { startDns, type DnsFixture, publishMx } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { startHostile, type HostileScript } from '../fixtures/hostile.js'
import { testApp, randomLoopback, reportModelErrors } from '../helpers.js'

const ENV = {
  BANNER_TIMEOUT_MS: '1500',
  COMMAND_TIMEOUT_MS: '2500',
  CHECK_DEADLINE_MS: '8000',
  RATE_LIMITS: 'smtp=1000/600',
  DOMAIN_RATE_LIMITS: 'smtp=1000/600'
}

let dns: DnsFixture
const publish = (domain: string, ip: string, ptr?: string | null): void => publishMx(dns.zone, domain, ip, ptr)

t.before(async () => { dns = await startDns({}) })
t.teardown(async () => { await dns.close() })

async function app () {
  const a = await testApp({ ...ENV, DNS_SERVERS: dns.server })
  t.teardown(() => a.close())
  return a
}

const step = (r: any, name: string) => r.steps.find((s: any) => s.name === name)

t.test('a working server with STARTTLS and a self-signed certificate', async (t) => {
  const srv = await startSmtp({ starttls: true, name: 'mx.good.test' })
  t.teardown(() => srv.close())
  publish('good.test', srv.ip)
  const a = await app()
  const res = await a.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'good.test' }, remoteAddress: srv.ip })
  t.equal(res.statusCode, 200)
  const r = res.json()
  t.equal(r.status, 'warn', r.summary)
  t.same(reportModelErrors(r), [], 'the report fits the model; its status is its steps\' verdict')
  t.equal(step(r, 'banner').status, 'pass')
  t.equal(step(r, 'banner name').status, 'pass')
  t.equal(step(r, 'ptr').status, 'pass')
  t.equal(step(r, 'ehlo').status, 'pass')
  t.equal(step(r, 'starttls').status, 'pass')
  t.match(step(r, 'tls').detail, /TLSv1\.[23]/)
  t.equal(step(r, 'certificate').status, 'warn')
  t.match(step(r, 'certificate').detail, /self-signed/)
  t.match(step(r, 'certificate').detail, /matches mx\.good\.test/)
  t.equal(step(r, 'PIPELINING').status, 'pass')
  t.equal(step(r, 'SMTPUTF8').status, 'info')
  t.equal(step(r, 'size').status, 'pass')
  t.equal(step(r, 'postmaster').status, 'pass')
  t.equal(step(r, 'quit').status, 'pass')
  t.equal(r.smtp.postmasterAccepted, true)
  t.equal(r.smtp.pipelinedProbe, true)
  t.equal(r.tls.cert.selfSigned, true)
  t.ok(r.timings.some((x: any) => x.stage === 'banner'))
  const sent = r.transcript.filter((l: any) => l.dir === 'C').map((l: any) => l.text)
  t.ok(sent.includes('RCPT TO:<postmaster>'))
  t.ok(sent.includes('RSET'))
  t.notOk(sent.some((c: string) => /^DATA/.test(c)), 'no DATA')
  t.equal(srv.delivered.length, 0)
  t.same(srv.rcpts, [{ address: 'postmaster', code: 250 }])
})

t.test('no STARTTLS, no PTR, greylisted postmaster', async (t) => {
  const srv = await startSmtp({ greylist: true, name: 'mx.plain.test', pipelining: false })
  t.teardown(() => srv.close())
  publish('plain.test', srv.ip, null)
  const a = await app()
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/smtp?lang=ja', payload: { domain: 'plain.test' }, remoteAddress: srv.ip })).json()
  t.equal(r.status, 'warn', r.summary)
  t.equal(step(r, 'starttls').status, 'warn')
  t.ok(r.advice.some((x: any) => x.code === 'smtp.no_starttls'))
  t.equal(step(r, 'ptr').status, 'warn')
  t.equal(step(r, 'postmaster').status, 'warn')
  t.match(step(r, 'postmaster').detail, /450/)
  t.ok(r.advice.some((x: any) => x.code === 'smtp.greylisted'))
  // One paragraph for greylisting, and none that calls the temporary answer permanent.
  t.notOk(r.advice.some((x: any) => x.code === 'smtp.reply' && /450/.test(x.en)), 'no second paragraph for the same 450')
  t.notOk(r.advice.some((x: any) => /5xx|恒久/.test(x.en + x.ja)), 'a 4xx is never explained as permanent')
  t.notOk(r.advice.some((x: any) => x.code === 'smtp.short_deadlines'), 'the RFC timing note is a detail, not advice')
  t.match(r.summary, /注意点があります/, 'summary in the report language')
  t.match(step(r, 'starttls').title, /暗号化/)
  t.equal(r.pipelinedProbe, undefined)
  t.equal(r.smtp.pipelinedProbe, false, 'no PIPELINING advertised: one command at a time')
})

t.test('hostile servers fail (the server under test failing) within the deadline', async (t) => {
  const cases: Array<[HostileScript, string]> = [['silent', 'net.silent'], ['trickle', 'net.timeout'], ['starttls_injection', 'net.protocol'], ['endless', 'net.protocol']]
  const a = await app()
  await Promise.all(cases.map(async ([script, advice]) => {
    const h = await startHostile(script)
    const domain = `${script.replace(/_/g, '-')}.smtp-hostile.test`
    publish(domain, h.ip)
    try {
      const t0 = Date.now()
      const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain }, remoteAddress: h.ip })).json()
      t.equal(r.status, 'fail', `${script}: ${r.summary}`)
      t.ok(r.advice.some((x: any) => x.code === advice), `${script}: ${advice}`)
      t.ok(Date.now() - t0 < 8000, `${script}: in time`)
    } finally {
      await h.close()
    }
  }))
})

t.test('STARTTLS offered but broken: reported, and the rest checked over a fresh plain session', async (t) => {
  const h = await startHostile('tls_broken')
  t.teardown(() => h.close())
  publish('tlsbroken.test', h.ip)
  const a = await app()
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'tlsbroken.test' }, remoteAddress: h.ip })).json()
  t.equal(r.status, 'fail', r.summary)
  t.equal(step(r, 'starttls').status, 'fail')
  t.ok(r.advice.some((x: any) => x.code === 'smtp.starttls_failed'))
  t.equal(step(r, 'postmaster').status, 'pass', 'postmaster still checked')
  t.equal(h.connections, 2)
})

t.test('a greeting that refuses, and a server without EHLO', async (t) => {
  const refuse = await startHostile('refuse_banner')
  const old = await startHostile('helo_only')
  t.teardown(async () => { await refuse.close(); await old.close() })
  publish('refuse.test', refuse.ip)
  publish('old.test', old.ip)
  const a = await app()
  const r1 = (await a.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'refuse.test' }, remoteAddress: refuse.ip })).json()
  t.equal(r1.status, 'fail', r1.summary)
  t.ok(r1.advice.some((x: any) => x.code === 'smtp.banner_refused'))
  t.match(r1.advice.find((x: any) => x.code === 'smtp.reply').ja, /配送が許可されず/)
  const r2 = (await a.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'old.test' }, remoteAddress: old.ip })).json()
  t.equal(r2.status, 'warn', r2.summary)
  t.equal(step(r2, 'ehlo').status, 'warn')
  t.ok(r2.advice.some((x: any) => x.code === 'smtp.helo_only'))
  t.equal(r2.smtp.esmtp, false)
  t.equal(step(r2, 'postmaster').status, 'pass')
})

t.test('refused before any socket when the caller is not the MX', async (t) => {
  publish('elsewhere.test', randomLoopback())
  const a = await app()
  const before = a.mx.connector.decisions.length
  const res = await a.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'elsewhere.test' }, remoteAddress: randomLoopback() })
  t.equal(res.statusCode, 403)
  t.equal(a.mx.connector.decisions.length, before)
  const bad = await a.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'a\r\nb.test' }, remoteAddress: randomLoopback() })
  t.equal(bad.statusCode, 400)
})
