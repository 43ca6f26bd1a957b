// The receive test against a real Debian Exim 4 (test/fixtures/exim.ts,
// unpacked by scripts/install-test-mtas.sh): with smtp_enforce_sync on, with
// and without PIPELINING, STARTTLS on. The mail is accepted with Exim's own
// message id, Exim logs no protocol error caused by mxprobe, and Exim's
// "503 valid RCPT command must precede DATA" after a refused recipient is
// explained as that recipient's consequence.
import t from 'tap'
import { startDns, publishMx, type DnsFixture } from '../fixtures/dns.js'
import { startExim, eximAvailable } from '../fixtures/exim.js'
import { startDelayProxy } from '../fixtures/delay-proxy.js'
import { testApp, randomLoopback } from '../helpers.js'

async function waitFor (fn: () => boolean, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (fn()) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return fn()
}

if (!eximAvailable()) {
  t.fail('this test needs Exim unpacked by scripts/install-test-mtas.sh, and root')
} else {
  let dns: DnsFixture
  t.before(async () => { dns = await startDns({}) })
  t.teardown(async () => { await dns.close() })

  for (const pipelining of [true, false]) {
    t.test(`Exim ${pipelining ? 'with' : 'without'} PIPELINING: delivered, no protocol error`, async (t) => {
      const ex = await startExim({ domain: 'home.test', pipelining })
      t.teardown(() => ex.stop())
      publishMx(dns.zone, 'home.test', ex.ip)
      const app = await testApp({ DNS_SERVERS: dns.server })
      t.teardown(() => app.close())
      const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive?lang=en', payload: { address: 'taro@home.test' }, remoteAddress: ex.ip })).json()
      t.equal(r.status, 'pass', r.summary)
      t.equal(r.delivery.pipelined, pipelining)
      t.match(r.tls?.protocol, /^TLSv1\.[23]$/)
      t.match(r.delivery.queueId, /^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/, 'Exim message id from "250 OK id=…"')
      t.ok(await waitFor(() => ex.log().includes(`${r.delivery.queueId} <= mxprobe@probe.mxprobe.test`)), 'Exim logged the same message id')
      t.match(ex.log(), new RegExp(`${r.delivery.queueId} <= .*id=${r.message.messageId.replace(/[<>]/g, '').replace(/[.]/g, '\\.')}`), 'with the same Message-ID')
      await waitFor(() => /closed by QUIT/.test(ex.log()))
      t.match(ex.log(), /closed by QUIT/, 'the session ended with QUIT, not a dropped connection')
      t.same(ex.protocolErrors(), [], 'Exim logged no protocol error caused by mxprobe')
    })
  }

  t.test('Exim refuses the recipient: its 503 to the pipelined DATA is explained as the consequence', async (t) => {
    const ex = await startExim({ domain: 'home.test' })
    t.teardown(() => ex.stop())
    // elsewhere.test's MX is this Exim, which does not take mail for it: "550 relay not permitted"
    publishMx(dns.zone, 'elsewhere.test', ex.ip)
    const app = await testApp({ DNS_SERVERS: dns.server })
    t.teardown(() => app.close())
    const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive?lang=en', payload: { address: 'taro@elsewhere.test' }, remoteAddress: ex.ip })).json()
    t.equal(r.status, 'fail', r.summary)
    t.match(r.summary, /refused the test mail at rcpt: 550/)
    const data = r.steps.find((s: any) => s.name === 'data')
    t.match(data.detail, /^503.*— 503: This refusal of DATA only follows from the refused recipient/)
    const advice = r.advice.find((a: any) => a.code === 'smtp.reply' && a.params.stage === 'data')
    t.ok(advice, 'the 503 is explained')
    t.notMatch(advice.en, /Bad sequence of commands/)
    t.match(advice.ja, /宛先 \(RCPT\) が拒否されたことの結果/)
    t.ok(r.transcript.some((l: any) => l.dir === 'S' && /^503.*(valid RCPT command must precede DATA|All RCPT commands were rejected)/i.test(l.text)), 'Exim said it')
    t.ok(r.advice.some((a: any) => a.code === 'smtp.rcpt_refused' || a.code === 'smtp.rcpt_unknown'))
  })

  t.test('Exim over a 50 ms link: at most 8 round trips with STARTTLS', async (t) => {
    const ex = await startExim({ domain: 'linked.test' })
    t.teardown(() => ex.stop())
    const home = randomLoopback()
    const proxy = await startDelayProxy({ listenHost: home, listenPort: 25, targetHost: ex.ip, targetPort: 25, oneWayMs: 25 })
    t.teardown(() => proxy.close())
    publishMx(dns.zone, 'linked.test', home)
    const app = await testApp({ DNS_SERVERS: dns.server })
    t.teardown(() => app.close())
    const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive?lang=en', payload: { address: 'taro@linked.test' }, remoteAddress: home })).json()
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.equal(r.status, 'pass', r.summary)
    t.ok(proxy.roundTrips() <= 8, `${proxy.roundTrips()} round trips`)
    t.ok(r.tls, 'STARTTLS used')
    t.same(ex.protocolErrors(), [])
  })
}
