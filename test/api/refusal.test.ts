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
