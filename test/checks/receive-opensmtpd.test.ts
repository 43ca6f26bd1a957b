// The receive test against a real Debian OpenSMTPD (test/fixtures/opensmtpd.ts,
// unpacked by scripts/install-test-mtas.sh). Debian 12's build offers
// STARTTLS and then fails every handshake (OpenSSL 3); real senders report
// that and deliver in clear over a new connection, and so must mxprobe:
// warn, not error, the message delivered to the mailbox, both sessions in
// the transcript.
import t from 'tap'
import { startDns, publishMx } from '../fixtures/dns.js'
import { startOpenSmtpd, openSmtpdAvailable } from '../fixtures/opensmtpd.js'
import { testApp } from '../helpers.js'

if (!openSmtpdAvailable()) {
  t.fail('this test needs OpenSMTPD unpacked by scripts/install-test-mtas.sh, and root')
} else {
  t.test('OpenSMTPD whose STARTTLS handshake fails: warn, delivered in clear, both sessions shown', async (t) => {
    const os = await startOpenSmtpd({ domain: 'home.test', users: ['taro'], deliver: true })
    t.teardown(() => os.stop())
    const dns = await startDns({})
    t.teardown(() => dns.close())
    publishMx(dns.zone, 'home.test', os.ip)
    const app = await testApp({ DNS_SERVERS: dns.server })
    t.teardown(() => app.close())
    const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive?lang=en', payload: { address: 'taro@home.test' }, remoteAddress: os.ip })).json()
    const st = r.steps.find((s: any) => s.name === 'starttls')
    if (r.tls) {
      // a build whose TLS works: then the mail simply goes inside TLS
      t.equal(r.status, 'pass', r.summary)
      t.equal(r.delivery.sessions, 1)
    } else {
      t.equal(r.status, 'warn', r.summary)
      t.match(st.detail, /TLS handshake failed/)
      t.ok(r.advice.some((a: any) => a.code === 'smtp.tls_broken_receive'))
      t.equal(r.delivery.sessions, 2, 'a second connection, in clear')
      const tr = r.transcript as Array<{ dir: string, text: string }>
      t.equal(tr.filter((l) => l.dir === 'S' && /^220 .*ESMTP/.test(l.text)).length, 2, 'both greetings in the transcript')
    }
    t.equal(r.delivery.accepted, true)
    t.match(r.delivery.queueId, /^[0-9a-f]{8,16}$/, 'OpenSMTPD\'s message id from "250 2.0.0 … Message accepted for delivery"')
    // The message entered OpenSMTPD's queue under the id it answered with, and reached the mailbox.
    const raw = await os.waitForMail((m) => m.includes(r.message.messageId))
    t.match(raw, new RegExp(`^Message-ID: ${r.message.messageId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\r?$`, 'mi'), 'the test message, by its Message-ID, in the Maildir')
    t.match(raw, /^To: .*taro@home\.test/mi, 'addressed to the test recipient')
    // OpenSMTPD's log (its stderr, a pipe) comes in chunks, the delivery line after the MDA has finished.
    const delivered = new RegExp(`mda delivery evpid=${r.delivery.queueId}[0-9a-f]* .*rcpt=<taro@home\\.test> .*result=Ok stat=Delivered`)
    const until = Date.now() + 5000
    while (Date.now() < until && !delivered.test(os.log())) await new Promise((resolve) => setTimeout(resolve, 100))
    t.match(os.log(), delivered, 'OpenSMTPD delivered the queued message')
    t.match(os.log(), new RegExp(`msgid=${r.delivery.queueId} .*nrcpt=1`), 'one recipient')
    t.same(os.protocolErrors(), [], 'OpenSMTPD logged no protocol error caused by mxprobe')
  })
}
