// Interoperability with a real MTA: Debian's Postfix, started by this test
// with its own configuration on a random loopback address.
import t from 'tap'
import { simpleParser } from 'mailparser'
import { startDns, reverseName } from '../fixtures/dns.js'
import { startPostfix } from '../fixtures/postfix.js'
import { testApp, randomLoopback, requireTool } from '../helpers.js'

if (requireTool(t, 'root', 'postfix')) {
  t.test('receive and smtp checks against a real Postfix', async (t) => {
    const home = randomLoopback()
    const pf = await startPostfix({ ip: home, domain: 'home.test', users: ['taro'] })
    t.teardown(() => pf.stop())
    const dns = await startDns({
      'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }] },
      'mx.home.test': { A: [home] },
      [reverseName(home)]: { PTR: ['mx.home.test'] }
    })
    t.teardown(() => dns.close())
    const app = await testApp({ DNS_SERVERS: dns.server })
    t.teardown(() => app.close())

    const res = await app.inject({ method: 'POST', url: '/api/v1/checks/receive', payload: { address: 'taro@home.test' }, remoteAddress: home })
    const r = res.json()
    t.equal(r.status, 'pass', r.summary)
    const queueId = r.delivery.queueId
    t.match(queueId, /^[0-9A-F]{6,}$/, 'Postfix queue id from "250 2.0.0 Ok: queued as …"')

    // The mail is in taro's Maildir, with the check id.
    const raw = await pf.waitForMail('taro', (m) => m.includes(r.id))
    const mail = await simpleParser(raw)
    t.equal(mail.subject, `mxprobe 受信テスト / receive test ${r.id}`)
    t.equal(mail.messageId, r.message.messageId)
    t.match(raw, /^Return-Path: <mxprobe@probe\.mxprobe\.test>/m)

    // The transcript matches Postfix's own log of the same transaction.
    const sent = await pf.waitForLog(new RegExp(`${queueId}: to=<taro@home\\.test>.*status=sent`))
    t.match(sent, /relay=virtual/)
    const from = await pf.waitForLog(new RegExp(`${queueId}: from=<([^>]*)>`))
    t.match(from, /from=<mxprobe@probe\.mxprobe\.test>/)
    t.ok(r.transcript.some((l: any) => l.dir === 'C' && l.text === 'MAIL FROM:<mxprobe@probe.mxprobe.test>'))
    const mid = await pf.waitForLog(new RegExp(`${queueId}: message-id=`))
    t.ok(mid.includes(r.message.messageId), 'Postfix logged the same Message-ID')
    t.ok(r.transcript.some((l: any) => l.dir === 'S' && l.text === `250 2.0.0 Ok: queued as ${queueId}`), 'the final reply as Postfix sent it')
    const tlsLog = await pf.waitForLog(/TLS connection established from/)
    const tlsLine = r.transcript.find((l: any) => l.dir === 'I' && /TLS established/.test(l.text))
    t.ok(tlsLine, 'TLS in the transcript')
    const proto = /(TLSv1\.[0-3])/.exec(tlsLog)?.[1]
    t.ok(proto && tlsLine.text.includes(proto), `same TLS version on both sides (${proto})`)
    const cipher = /with cipher (\S+)/.exec(tlsLog)?.[1]
    t.ok(cipher && tlsLine.text.includes(cipher), `same cipher on both sides (${cipher})`)
    t.equal(r.steps.find((s: any) => s.name === 'end of data').status, 'pass')

    // Unknown user: Postfix's own 550 5.1.1, explained.
    const nobody = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive?lang=en', payload: { address: 'nobody@home.test' }, remoteAddress: home })).json()
    t.equal(nobody.status, 'fail', nobody.summary)
    t.ok(nobody.advice.some((a: any) => a.code === 'smtp.rcpt_unknown'))
    const rcpt = nobody.steps.find((s: any) => s.name === 'rcpt')
    t.match(rcpt.detail, /^550 5\.1\.1 <nobody@home\.test>: Recipient address rejected/)
    const reject = await pf.waitForLog(/NOQUEUE: reject: RCPT from .*550 5\.1\.1 <nobody@home\.test>/)
    t.ok(reject, 'Postfix logged the same rejection')
    // DATA went in the same pipelined group; Postfix refuses it because no recipient was accepted.
    const data = nobody.steps.find((s: any) => s.name === 'data')
    t.match(data.detail, /^554 5\.5\.1 Error: no valid recipients — 554: This refusal of DATA only follows from the refused recipient/)
    t.ok(nobody.advice.some((a: any) => a.code === 'smtp.reply' && a.params.stage === 'data' && /宛先 \(RCPT\) が拒否されたことの結果/.test(a.ja)))
    t.notMatch(pf.log(), /improper command pipelining|too many errors/, 'no protocol complaint from Postfix about mxprobe')

    // The SMTP server check: no mail, postmaster accepted, STARTTLS works.
    const smtp = (await app.inject({ method: 'POST', url: '/api/v1/checks/smtp', payload: { domain: 'home.test' }, remoteAddress: home })).json()
    t.equal(smtp.status, 'warn', smtp.summary) // self-signed certificate
    t.equal(smtp.steps.find((s: any) => s.name === 'postmaster').status, 'pass')
    t.equal(smtp.steps.find((s: any) => s.name === 'starttls').status, 'pass')
    t.equal(smtp.steps.find((s: any) => s.name === 'banner name').status, 'pass')
    t.equal(smtp.smtp.pipelining, true)
    t.equal(smtp.smtp.smtpUtf8, true)
    t.equal(pf.mailbox('taro').length, 1, 'still exactly one mail delivered')
  })
}
