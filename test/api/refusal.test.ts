// A single check refused by the target rule explains the classic mistakes
// in the caller's language and offers a retry; limits answer in it too.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { testApp, randomLoopback } from '../helpers.js'

t.test('403 of a single check: private MX, stale dynamic DNS, no MX', async (t) => {
  const home = randomLoopback()
  const old = randomLoopback()
  const dns = await startDns({
    'lan.example': { MX: [{ exchange: 'mx.lan.example', priority: 10 }] },
    'mx.lan.example': { A: ['192.168.1.2'] },
    'stale.example': { MX: [{ exchange: 'mx.stale.example', priority: 10 }] },
    'mx.stale.example': { A: [{ address: old, ttl: 120 }] },
    'nomx.example': { A: [{ address: old, ttl: 60 }] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: 'smtp=1/600,roles=100/600', DOMAIN_RATE_LIMITS: 'smtp=100/600,roles=100/600' })
  t.teardown(() => app.close())
  const before = app.mx.connector.decisions.length

  const lan = await app.inject({ method: 'POST', url: '/api/v1/checks/roles', headers: { 'accept-language': 'ja' }, payload: { domain: 'lan.example' }, remoteAddress: home })
  t.equal(lan.statusCode, 403)
  t.equal(lan.json().diagnosis[0].code, 'refusal.mx_private')
  t.match(lan.json().message, /ダイナミック DNS にプライベートアドレスが登録されています/)
  t.equal(lan.json().retry.possible, true)

  const stale = (await app.inject({ method: 'POST', url: '/api/v1/checks/roles?lang=en', payload: { domain: 'mx.stale.example' }, remoteAddress: home })).json()
  // typed the MX host itself: it has no MX of its own, its address is the stale one
  t.equal(stale.diagnosis[0].code, 'refusal.no_mx_stale')
  const stale2 = (await app.inject({ method: 'POST', url: '/api/v1/checks/roles?lang=ja', payload: { domain: 'postmaster@stale.example' }, remoteAddress: home })).json()
  t.equal(stale2.diagnosis[0].code, 'refusal.ddns_stale', 'an address typed into the domain field is understood')
  t.match(stale2.diagnosis[0].message, new RegExp(`${old.replace(/\./g, '\\.')}.*${home.replace(/\./g, '\\.')}`))
  t.match(stale2.diagnosis[0].message, /TTL は 120 秒/)
  t.equal(stale2.retry.afterSeconds, 120)

  const nomx = (await app.inject({ method: 'POST', url: '/api/v1/checks/roles?lang=ja', payload: { domain: 'nomx.example' }, remoteAddress: home })).json()
  t.equal(nomx.diagnosis[0].code, 'refusal.no_mx_stale')
  t.match(nomx.diagnosis[0].message, /MX レコードがなく/)
  t.equal(app.mx.connector.decisions.length, before, 'no refusal opened a socket')
})

t.test('a refusal is a report of its own: permalink, forum text, retry, no re-post on reload', async (t) => {
  const home = randomLoopback()
  const dns = await startDns({
    'lan.example': { MX: [{ exchange: 'mx.lan.example', priority: 10 }] },
    'mx.lan.example': { A: ['192.168.1.2'] },
    'gone.example': { MX: [{ exchange: 'mx.gone.example', priority: 10 }] },
    'mx.gone.example': { A: [{ address: '127.0.0.9', ttl: 300 }] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const before = app.mx.connector.decisions.length

  // The API: the 403 names the stored report and the mistake in words.
  const api = await app.inject({ method: 'POST', url: '/api/v1/checks/smtp?lang=ja', payload: { domain: 'lan.example' }, remoteAddress: home })
  t.equal(api.statusCode, 403)
  const body = api.json()
  t.match(body.id, /^[A-Za-z0-9_-]{16}$/)
  t.equal(body.cause, 'MX に LAN 内のアドレスが登録されています')
  const stored = (await app.inject({ url: `/api/v1/checks/${body.id}` })).json()
  t.equal(stored.type, 'smtp')
  t.equal(stored.status, 'fail')
  t.equal(stored.summary, 'MX に LAN 内のアドレスが登録されています。')
  t.same(stored.advice.map((a: any) => a.code), ['refusal.mx_private'])
  t.same(stored.refusal.input, { domain: 'lan.example' })
  t.equal(stored.dns.mx[0].addresses[0], '192.168.1.2')
  t.equal(stored.steps[0].title, 'テストできない理由')

  // The form: 303 to the permalink; the page names the problem, shows the DNS, the forum text and a retry.
  const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin' }
  const post = await app.inject({ method: 'POST', url: '/check/all', payload: 'target=lan.example&lang=ja', headers: form, remoteAddress: home })
  t.equal(post.statusCode, 303)
  const loc = String(post.headers.location)
  t.match(loc, /^\/r\/[A-Za-z0-9_-]{16}\?lang=ja$/)
  const page = await app.inject({ url: loc, remoteAddress: home })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<h1 id="refusal-title">MX に LAN 内のアドレスが登録されています<\/h1>/)
  t.notMatch(page.body, /<h1[^>]*>あなたの IP/, 'not "your IP is not the mail server"')
  t.match(page.body, /192\.168\.1\.2/)
  t.match(page.body, new RegExp(`class="permalink mono" href="http://localhost:80${loc.slice(0, 19)}"`), 'a permalink to share')
  t.match(page.body, /<pre class="copy-text"[^>]*>[^<]*MX に LAN 内のアドレスが登録されています/, 'the forum text')
  t.match(page.body, /<form method="post" action="\/check\/all" class="retry">.*name="target" value="lan\.example"/s, 'the retry posts the same target')
  const text = await app.inject({ url: `${loc.slice(0, 19)}.txt?lang=ja` })
  t.equal(text.statusCode, 200)
  t.match(text.body, /192\.168\.1\.2/)
  // Reloading is a GET of the stored report: nothing is posted or checked again.
  const reports = (app.mx.store as any).reports?.size
  const again = await app.inject({ url: loc, remoteAddress: home })
  t.equal(again.statusCode, 200)
  t.equal((app.mx.store as any).reports.size, reports, 'no new report')

  // Stale dynamic DNS in English: both addresses, named in the heading.
  const stale = await app.inject({ method: 'POST', url: '/check/smtp', payload: 'domain=gone.example&lang=en', headers: form, remoteAddress: home })
  const sp = await app.inject({ url: String(stale.headers.location), remoteAddress: home })
  t.match(sp.body, /<h1 id="refusal-title">DNS has another address than your IP \(dynamic DNS not updated\)<\/h1>/)
  t.match(sp.body, /127\.0\.0\.9/)
  t.match(sp.body, new RegExp(home.replace(/\./g, '\\.')))
  t.equal(app.mx.connector.decisions.length, before, 'no refusal opened a socket')
})

t.test('429 in the caller\'s language', async (t) => {
  const home = randomLoopback()
  const dns = await startDns({ 'x.example': { MX: [{ exchange: 'mx.x.example', priority: 10 }] }, 'mx.x.example': { A: ['192.0.2.1'] } })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: 'smtp=1/600' })
  t.teardown(() => app.close())
  await app.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'x.example' }, remoteAddress: home })
  const over = await app.inject({ method: 'POST', url: '/api/v1/checks/smtp?lang=ja', payload: { domain: 'x.example' }, remoteAddress: home })
  t.equal(over.statusCode, 429)
  t.match(over.json().message, /上限に達しました/)
  const overEn = await app.inject({ method: 'POST', url: '/api/v1/checks/smtp?lang=en', payload: { domain: 'x.example' }, remoteAddress: home })
  t.match(overEn.json().message, /rate limit exceeded/)
})
