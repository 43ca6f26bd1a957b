// The send test's inbound listener with scripted SMTP sessions from a
// "home" loopback address: the one-time address works once, anything else
// is refused at RCPT (no relaying), oversize is refused with 552, an
// expired address is refused and its report ends in `fail` with the OP25B
// advice first; with INBOUND_LISTEN unset the test says it is off.
import t from 'tap'
import { startDns, publishMx } from '../fixtures/dns.js'
import { testApp, randomLoopback, reportModelErrors, waitReportDone } from '../helpers.js'
import { talk } from '../fixtures/smtp-talk.js'
import type { FastifyInstance } from 'fastify'
import type { Report } from '../../src/core/report.js'

const home = randomLoopback()
const listenIp = randomLoopback()

const waitDone = (app: FastifyInstance, id: string): Promise<Report> => waitReportDone(app, id, 20_000, 50)

async function start (app: FastifyInstance, lang = 'en'): Promise<Report> {
  const res = await app.inject({ method: 'POST', url: `/api/v1/checks/send?lang=${lang}`, payload: { domain: 'home.test' }, remoteAddress: home })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
  return res.json() as Report
}

const MAIL = (to: string) => `From: Taro <taro@home.test>\r\nTo: ${to}\r\nSubject: =?UTF-8?B?6ZaL6YCa44OG44K544OI?=\r\nMessage-ID: <x1@home.test>\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello\r\n.starts with a dot\r\n`

t.test('the send test through the listener', async (t) => {
  const zone = {}
  publishMx(zone, 'home.test', home)
  Object.assign(zone, { 'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }], TXT: [`v=spf1 ip4:${home} -all`] } })
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${listenIp}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', INBOUND_MAX_MESSAGE_BYTES: '4096', SEND_WAIT_SECONDS: '600' })
  t.teardown(() => app.close())
  const port = app.mx.inbound!.port

  const r = await start(app)
  t.equal(r.status, 'running', 'answers at once with a running report')
  t.match(r.address, /^t-[0-9a-f]{20}@send\.test$/, 'with a one-time address')
  t.ok(Date.parse(String(r.waitUntil)) > Date.now() + 500_000, 'and its deadline')
  const address = String(r.address)

  const s = await talk(listenIp, port, home)
  t.match(s.greeting, /^220 /)
  t.match(await s.cmd('EHLO mx.home.test'), /STARTTLS/, 'STARTTLS is offered')
  t.match(await s.cmd('MAIL FROM:<taro@home.test>'), /^250/)
  t.match(await s.cmd('RCPT TO:<someone@example.org>'), /^550 5\.7\.1 relaying denied/, 'relaying is refused')
  t.match(await s.cmd('RCPT TO:<postmaster@send.test>'), /^550 5\.1\.1/, 'an address that is not a one-time address is refused')
  t.match(await s.cmd('RCPT TO:<t-0123456789abcdef0123@send.test>'), /^550 5\.1\.1 no such/, 'an unknown one-time address is refused')
  t.match(await s.cmd(`RCPT TO:<${address}>`), /^250/, 'the live address is accepted')
  t.match(await s.cmd('DATA'), /^354/)
  t.match(await s.data(MAIL(address) + 'x'.repeat(5000) + '\r\n'), /^552 /, 'a message over the size cap is refused with 552')
  t.match(await s.cmd('MAIL FROM:<taro@home.test>'), /^250/, 'the session goes on')
  t.match(await s.cmd(`RCPT TO:<${address.toUpperCase().replace('SEND.TEST', 'send.test')}>`), /^250/, 'the address is free again after the refused message (any case)')
  t.match(await s.cmd('DATA'), /^354/)
  t.match(await s.data(MAIL(address)), /^250 2\.0\.0/, 'the mail is accepted')
  await s.cmd('QUIT')

  const done = await waitDone(app, r.id)
  t.equal(done.status, 'warn', 'no TLS, no DKIM, no DMARC: a warning')
  for (let i = 0; i < 50 && (await app.mx.store.inboundDue(Date.now() + 10_000_000, 10)).length; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(await app.mx.store.inboundDue(Date.now() + 10_000_000, 10), [], 'a finished analysis takes its address off the sweep')
  t.same(reportModelErrors(done), [], 'the report fits the model; its status is its steps\' verdict')
  const inbound = done.inbound as Record<string, any>
  t.equal(inbound.connectingIp, home)
  t.equal(inbound.isCallerIp, true)
  t.equal(inbound.isMxAddress, true)
  t.equal(inbound.ptr, 'mx.home.test')
  t.equal(inbound.fcrdns, true)
  t.equal(inbound.helo, 'mx.home.test')
  t.equal(inbound.heloResolves, true)
  t.equal(inbound.tls, null)
  t.equal(inbound.mailFrom, 'taro@home.test')
  t.match(inbound.spf, { result: 'pass', domain: 'home.test' })
  t.equal(inbound.ptrGeneric, false, 'mx.home.test is not a generic ISP name')
  t.equal(inbound.subject, '開通テスト', 'the Subject decoded')
  t.equal(inbound.charset.declared, true)
  t.equal(inbound.headers.messageId, '<x1@home.test>', 'the header tool analysed the headers')
  t.match(inbound.excerpt, /^hello\r\n\.starts with a dot/, 'an excerpt of the body, dot-unstuffed')
  t.ok(done.transcript.some((l) => l.dir === 'S' && l.text === `RCPT TO:<${address}>`), 'their commands in the transcript as received')
  t.ok(done.transcript.some((l) => l.dir === 'C' && /^250 2\.0\.0/.test(l.text)), 'our replies as sent')
  t.ok(done.transcript.some((l) => /ended before a message was accepted: 552/.test(l.text)), 'the refused attempt is noted')
  const codes = done.advice.map((a) => a.code)
  t.ok(codes.includes('send.no_tls') && codes.includes('send.dkim_none') && codes.includes('send.dmarc_none'), `advice: ${codes.join(', ')}`)
  t.notOk(codes.includes('send.via_relay'), 'sent from the caller\'s own IP')

  const again = await talk(listenIp, port, home)
  await again.cmd('EHLO mx.home.test')
  await again.cmd('MAIL FROM:<taro@home.test>')
  t.match(await again.cmd(`RCPT TO:<${address}>`), /^550 5\.1\.1 this one-time address was already used/, 'each address works once')
  again.close()
})

t.test('the wait runs out: fail, with OP25B first', async (t) => {
  const zone = {}
  publishMx(zone, 'home.test', home)
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '1' })
  t.teardown(() => app.close())
  const r = await start(app, 'ja')
  const done = await waitDone(app, r.id)
  t.equal(done.status, 'fail')
  t.same(done.advice.map((a) => a.code), ['send.none_op25b', 'send.none_queue', 'send.none_firewall', 'send.none_dns'], 'likely causes, in order')
  t.match(done.advice[0].message, /OP25B/)
  t.match(done.summary, /届きませんでした/, 'in the report\'s language')
  const s = await talk(app.mx.inbound!.host, app.mx.inbound!.port, home)
  await s.cmd('EHLO mx.home.test')
  await s.cmd('MAIL FROM:<taro@home.test>')
  t.match(await s.cmd(`RCPT TO:<${String(r.address)}>`), /^550 5\.1\.1 this one-time address has expired/, 'an expired address is refused')
  s.close()
})

t.test('the instance analysing a mail dies: another instance\'s sweep ends the report', async (t) => {
  const zone = {}
  publishMx(zone, 'home.test', home)
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600' })
  t.teardown(() => app.close())
  const r = await start(app, 'ja')
  const token = String(r.address).split('@')[0].replace(/^t-/, '')
  const store = app.mx.store
  // What a listener on the dead instance left: the address taken and used, the report running,
  // the token due on the sweep (complete() lists it for when the analysis should be long over).
  t.ok((await store.inboundTransition(token, ['waiting'], 'receiving', Date.now())).ok)
  t.ok((await store.inboundTransition(token, ['receiving'], 'used', Date.now())).ok)
  t.equal(await app.mx.send.sweep(), 0, 'not due yet: nothing happens')
  t.equal((await store.getReport(r.id))!.status, 'running')
  await store.inboundDueAt(token, Date.now() - 1)
  t.equal(await app.mx.send.sweep(), 1, 'due: the sweep ends it')
  const done = (await store.getReport(r.id))!
  t.equal(done.status, 'error', 'mxprobe\'s own trouble, not the caller\'s')
  t.match(done.steps.find((x) => x.name === 'send-analysis'), { status: 'error', title: '解析' })
  t.match(done.summary, /新しいテスト/)
  t.same(await store.inboundDue(Date.now() + 10_000_000, 10), [], 'off the sweep')
  t.equal(await app.mx.send.sweep(), 0, 'settled once')
})

t.test('caps: connections per IP', async (t) => {
  const dns = await startDns({})
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', INBOUND_MAX_CONNECTIONS_PER_IP: '2', INBOUND_MAX_COMMANDS: '6' })
  t.teardown(() => app.close())
  const { host, port } = app.mx.inbound!
  const a = await talk(host, port, home)
  const b = await talk(host, port, home)
  const c = await talk(host, port, home)
  t.match(a.greeting, /^220/)
  t.match(b.greeting, /^220/)
  t.match(c.greeting, /^421 .*too many connections/, 'the third connection from one IP is turned away')
  const other = await talk(host, port, randomLoopback())
  t.match(other.greeting, /^220/, 'another IP still gets in')
  for (let i = 0; i < 6; i++) await a.cmd('NOOP')
  t.match(await a.cmd('NOOP'), /^421 .*too many commands/, 'commands per session are capped')
  await a.closed
  for (const x of [b, c, other]) x.close()
})

t.test('INBOUND_LISTEN unset: the send test is off and says so', async (t) => {
  const app = await testApp({})
  t.teardown(() => app.close())
  t.equal(app.mx.inbound, null)
  const ja = await app.inject({ method: 'POST', url: '/api/v1/checks/send?lang=ja', payload: { domain: 'home.test' }, remoteAddress: home })
  t.equal(ja.statusCode, 503)
  t.equal(ja.json().error, 'send_test_off')
  t.match(ja.json().message, /送信テストは無効/)
  const en = await app.inject({ method: 'POST', url: '/api/v1/checks/send', headers: { 'accept-language': 'en' }, payload: { domain: 'home.test' }, remoteAddress: home })
  t.match(en.json().message, /send test is off/)
  const page = await app.inject({ method: 'GET', url: '/send?lang=ja', remoteAddress: home })
  t.equal(page.statusCode, 200)
  t.match(page.body, /id="send-off"[^>]*>このサーバーでは送信テストは無効です/, 'the page says so too')
  t.notMatch(page.body, /<form method="post" action="\/send"/, 'and offers no form')
})
