// The send test over IPv6: a real mail to the listener on an fd00:… address
// of lo, from another address of the same home /64. The report says the
// family (typed field, step and transcript); an SPF record with ip4: only
// gets the "add ip6: or send over IPv4" advice, a missing IPv6 PTR its own
// advice, and the block lists are asked nibble-reversed. A record that does
// list ip6:, with a forward-confirmed IPv6 PTR, passes without them.
import t, { type Test } from 'tap'
import { startDns, publishMx, reverseName, type Zone } from '../fixtures/dns.js'
import { testApp, randomLoopback, ipv6Home, waitReportDone } from '../helpers.js'
import { talk } from '../fixtures/smtp-talk.js'
import { dnsblName, spfRecordFacts } from '../../src/inbound/analyze.js'
import type { Report } from '../../src/core/report.js'

t.test('spfRecordFacts reads the mechanisms of one record', async (t) => {
  t.same(spfRecordFacts('v=spf1 ip4:192.0.2.1 -all'), { ip4: true, ip6: false, other: false })
  t.same(spfRecordFacts('v=spf1 +ip6:2001:db8::/64 ~all'), { ip4: false, ip6: true, other: false })
  t.same(spfRecordFacts('v=spf1 mx include:_spf.example.net -all'), { ip4: false, ip6: false, other: true })
  t.equal(spfRecordFacts('google-site-verification=abc'), null, 'not an SPF record')
})

async function sendOver6 (t: Test, zone: Zone, from: string, listen: string, extra: Record<string, string> = {}): Promise<{ report: Report, queries: Array<{ name: string, type: string }> }> {
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0,[${listen}]:0`, INBOUND_DOMAIN: 'send.test', SEND_WAIT_SECONDS: '600', DNSBL_ZONES: '', ...extra })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/api/v1/checks/send?lang=ja', payload: { domain: 'home.test' }, remoteAddress: from })
  t.equal(res.statusCode, 200, res.body)
  const r = res.json() as Report
  const six = app.mx.inbound!.addresses.find((a) => a.family === 6)!
  const s = await talk(six.host, six.port, from)
  await s.cmd('EHLO mx.home.test')
  await s.cmd('MAIL FROM:<taro@home.test>')
  t.match(await s.cmd(`RCPT TO:<${String(r.address)}>`), /^250/)
  await s.cmd('DATA')
  t.match(await s.data(`From: taro@home.test\r\nTo: ${String(r.address)}\r\nSubject: v6\r\nMessage-ID: <v6@home.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nhello\r\n`), /^250 /)
  await s.cmd('QUIT')
  return { report: await waitReportDone(app, r.id, 30_000, 50), queries: dns.queries }
}

t.test('over IPv6 with an ip4:-only SPF record and no IPv6 PTR', async (t) => {
  const home = await ipv6Home(t, 2, 25)
  if (!home) return
  const v4 = randomLoopback()
  const from = home.addr(2)
  const zone: Zone = {}
  publishMx(zone, 'home.test', v4, 'mx.home.test', from, null)
  zone['home.test'].TXT = [`v=spf1 ip4:${v4} -all`]
  // a block list that lists the IPv6 address (nibble-reversed under its zone)
  const listed = dnsblName(from, 'bl.test')!
  zone[listed] = { A: ['127.0.0.2'], TXT: ['listed for the test'] }
  const { report, queries } = await sendOver6(t, zone, from, home.addr(25), { DNSBL_ZONES: 'bl.test' })
  const inbound = report.inbound!
  t.equal(inbound.family, 6, 'the typed field says IPv6')
  t.equal(inbound.connectingIp, from)
  t.same(inbound.spf.record, { ip4: true, ip6: false, other: false }, 'the record facts: ip4: only')
  t.equal(inbound.spf.result, 'fail')
  const steps = Object.fromEntries(report.steps.map((s) => [s.name, s]))
  t.match(steps['send-arrival'].detail, /IPv6 で/, 'the arrival step names the family')
  t.match(steps['send-ip'].detail, /IPv6 で届きました/, 'so does the IP step')
  t.match(steps['send-spf'].detail, /ip6: がありません/, 'the SPF step says why')
  const codes = report.advice.map((a) => a.code)
  t.ok(codes.includes('send.spf_no_ip6'), 'the ip6: advice')
  t.notOk(codes.includes('send.spf_fail'), 'instead of the plain SPF advice: one paragraph per cause')
  const ip6Advice = report.advice.find((a) => a.code === 'send.spf_no_ip6')!
  t.match(ip6Advice.ja, /ip6:fd00:6d78:[0-9a-f:]+::\/64/, 'names the /64 to add')
  t.match(ip6Advice.ja, /smtp_address_preference = ipv4/, 'or to send over IPv4')
  t.match(ip6Advice.en, /inet_protocols = ipv4/)
  t.ok(codes.includes('send.ptr_missing_v6'), 'the IPv6 PTR advice')
  t.notOk(codes.includes('send.ptr_missing'))
  t.ok(queries.some((q) => q.name === reverseName(from) && q.type === 'PTR'), 'the ip6.arpa PTR was asked')
  t.ok(queries.some((q) => q.name === listed && q.type === 'A'), 'the block list was asked nibble-reversed')
  t.match(inbound.dnsbl, [{ zone: 'bl.test', listed: true, answer: '127.0.0.2' }], 'and the IPv6 listing is reported')
  t.ok(codes.includes('send.dnsbl_listed'))
})

t.test('over IPv6 with ip6: in SPF and a forward-confirmed IPv6 PTR', async (t) => {
  const home = await ipv6Home(t, 2, 25)
  if (!home) return
  const v4 = randomLoopback()
  const from = home.addr(2)
  const zone: Zone = {}
  publishMx(zone, 'home.test', v4, 'mx.home.test', from, 'mx.home.test')
  zone['home.test'].TXT = [`v=spf1 ip4:${v4} ip6:${home.prefix} -all`]
  const { report } = await sendOver6(t, zone, from, home.addr(25))
  const inbound = report.inbound!
  t.equal(inbound.family, 6)
  t.equal(inbound.spf.result, 'pass', 'ip6: covers the sender')
  t.equal(inbound.spf.record, undefined, 'no record facts needed on a pass')
  t.equal(inbound.fcrdns, true, 'the IPv6 PTR is forward-confirmed by its AAAA')
  const codes = report.advice.map((a) => a.code)
  t.notOk(codes.some((c) => /spf_no_ip6|ptr_missing|fcrdns/.test(c)), 'no IPv6 advice')
})
