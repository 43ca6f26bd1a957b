// The send test end to end with a real MTA: Debian's Postfix on the "home"
// address relays a mail to mxprobe's listener (a transport map to the
// listener, smtp_bind_address = the home IP), STARTTLS included. DNS (dns2)
// publishes SPF, DMARC, an ed25519 DKIM key and a DNSBL zone that lists the
// home IP as a dynamic address. A DKIM-signed mail verifies as pass; the
// same mail changed after signing as fail; with reply: true mxprobe's reply
// lands in taro's Maildir on the home Postfix.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { dkimSign } from 'mailauth/lib/dkim/sign.js'
import { simpleParser } from 'mailparser'
import { startDns, reverseName } from '../fixtures/dns.js'
import { startPostfix, postfixAvailable } from '../fixtures/postfix.js'
import { testApp, randomLoopback, reportModelErrors, waitReportDone } from '../helpers.js'
import { talk } from '../fixtures/smtp-talk.js'
import type { FastifyInstance } from 'fastify'
import type { Report } from '../../src/core/report.js'

const waitDone = (app: FastifyInstance, id: string): Promise<Report> => waitReportDone(app, id, 30_000, 150)

if (!postfixAvailable()) {
  t.fail('this test needs /usr/sbin/postfix and root (.ci/run installs postfix)')
} else {
  t.test('Postfix sends through the listener; mxprobe replies', async (t) => {
    const home = randomLoopback()
    const listenIp = randomLoopback()
    const port = 20000 + Math.floor(Math.random() * 20000)
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const rawKey = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('base64')
    const dns = await startDns({
      'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }], TXT: [`v=spf1 ip4:${home} -all`] },
      'mx.home.test': { A: [home], TXT: ['v=spf1 a -all'] },
      [reverseName(home)]: { PTR: ['mx.home.test'] },
      '_dmarc.home.test': { TXT: ['v=DMARC1; p=reject'] },
      'sel._domainkey.home.test': { TXT: [`v=DKIM1; k=ed25519; p=${rawKey}`] },
      [`${home.split('.').reverse().join('.')}.dnsbl.test`]: { A: ['127.0.0.11'], TXT: ['Listed: dynamic IP range (policy)'] }
    })
    t.teardown(() => dns.close())
    const app = await testApp({
      DNS_SERVERS: dns.server,
      INBOUND_LISTEN: `${listenIp}:${port}`,
      INBOUND_DOMAIN: 'send.test',
      DNSBL_ZONES: 'dnsbl.test',
      SEND_WAIT_SECONDS: '120'
    })
    t.teardown(() => app.close())
    const pf = await startPostfix({
      ip: home,
      domain: 'home.test',
      users: ['taro'],
      mainCf: {
        transport_maps: `inline:{ send.test=smtp:[${listenIp}]:${port} }`,
        smtp_bind_address: home,
        smtp_tls_security_level: 'may'
      }
    })
    t.teardown(() => pf.stop())

    /** start a send test as the home IP and have Postfix send `message` to its address */
    const sendVia = async (reply: boolean, body: (address: string) => Promise<string>): Promise<Report> => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/checks/send?lang=ja', payload: { domain: 'home.test', reply }, remoteAddress: home })
      t.equal(res.statusCode, 200, res.body)
      const r = res.json() as Report
      const address = String(r.address)
      const s = await talk(home, 25, home)
      await s.cmd('EHLO mx.home.test')
      t.match(await s.cmd('MAIL FROM:<taro@home.test>'), /^250/)
      t.match(await s.cmd(`RCPT TO:<${address}>`), /^250/, 'the home Postfix takes the mail for relaying')
      await s.cmd('DATA')
      t.match(await s.data(await body(address)), /^250/)
      await s.cmd('QUIT')
      return await waitDone(app, r.id)
    }
    const compose = (address: string, text: string): string => [
      'From: =?ISO-2022-JP?B?GyRCQkBPOhsoQg==?= <taro@home.test>',
      `To: ${address}`,
      'Subject: =?ISO-2022-JP?B?GyRCMytETCVGJTklSBsoQg==?=',
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${Math.random().toString(36).slice(2)}@home.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=ISO-2022-JP',
      'Content-Transfer-Encoding: 7bit',
      '',
      text,
      ''
    ].join('\r\n')
    const signed = async (msg: string): Promise<string> => {
      const s = await dkimSign(msg, { signatureData: [{ signingDomain: 'home.test', selector: 'sel', privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, algorithm: 'ed25519-sha256' }] })
      return s.signatures + msg
    }

    // 1. DKIM-signed, with the reply leg
    const r = await sendVia(true, async (a) => await signed(compose(a, 'kaitsuu test\r\n.dot line')))
    t.same(reportModelErrors(r), [], 'the report (with the reply leg) fits the model')
    const inbound = r.inbound as Record<string, any>
    t.equal(inbound.connectingIp, home, 'Postfix connected from the home IP (smtp_bind_address)')
    t.equal(inbound.isCallerIp, true)
    t.equal(inbound.isMxAddress, true)
    t.equal(inbound.helo, 'mx.home.test')
    t.equal(inbound.heloResolves, true)
    t.equal(inbound.fcrdns, true)
    t.match(inbound.tls, { version: /^TLSv1\.[23]$/ }, 'Postfix used STARTTLS')
    t.ok(inbound.tls.cipher, 'and the cipher is named')
    t.match(inbound.spf, { result: 'pass', domain: 'home.test' })
    t.match(inbound.spfHelo, { result: 'pass', domain: 'mx.home.test' })
    t.match(inbound.dkim, [{ result: 'pass', domain: 'home.test', selector: 'sel' }], 'the DKIM signature verifies')
    t.match(inbound.dmarc, { result: 'pass', policy: 'reject' })
    t.match(inbound.dnsbl, [{ zone: 'dnsbl.test', listed: true, answer: '127.0.0.11', reason: 'Listed: dynamic IP range (policy)', dynamic: true }])
    t.equal(inbound.subject, '開通テスト', 'ISO-2022-JP Subject decoded')
    t.match(inbound.charset, { declared: true, charsets: ['iso-2022-jp'] })
    t.ok(inbound.headers.hops.length >= 1, 'the header tool sees Postfix\'s Received line')
    t.match(inbound.excerpt, /^kaitsuu test\r\n\.dot line/, 'the excerpt, dot-unstuffed')
    t.ok(inbound.analysisMs >= 0)
    // The big receivers' rules: all met but the block list (the home line's dynamic-IP listing).
    t.match(inbound.format, { messageId: true, date: true, from: true, fromDomain: 'home.test', oneClick: false })
    t.equal(inbound.arc, null, 'no forwarder, no ARC')
    const score = inbound.senderRules.receivers as Array<{ name: string, met: number, of: number, rules: Array<{ rule: string, met: boolean | null }> }>
    t.same(score.map((x) => `${x.name} ${x.met}/${x.of}`), ['Gmail 5/6', 'Yahoo 4/5'])
    t.same(score.map((x) => x.rules[0]).map((x) => [x.rule, x.met]), [['dnsbl', false], ['dnsbl', false]], 'the unmet rule first')
    t.match(r.steps.find((s) => s.name === 'send-rules'), { status: 'warn', title: '大手の受信側のルール', detail: /^Gmail 5\/6, Yahoo 4\/5。大量送信者向けの追加ルール: Gmail 3\/4, Yahoo 3\/4。満たしていないもの: 送信元 IP がブラックリストに載っていない$/ })
    for (const url of [`/send/${r.id}?lang=ja`, `/r/${r.id}?lang=ja`]) {
      const page = await app.inject({ url, remoteAddress: home })
      t.equal(page.statusCode, 200, url)
      t.match(page.body, /<section class="card rules" id="send-rules"/, `${url}: the checklist`)
      t.match(page.body, /<strong>Gmail 5\/6<\/strong>/, `${url}: the score`)
      t.match(page.body, /data-rule="dnsbl"><span class="rule-mark">× 不適合<\/span>/)
      t.match(page.body, /2026年12月1日時点/, `${url}: the rules' date, in Japanese`)
    }
    const codes = r.advice.map((a) => a.code)
    t.ok(codes.includes('send.dnsbl_dynamic'), `the dynamic-IP listing is explained (${codes.join(', ')})`)
    t.notOk(codes.includes('send.no_tls') || codes.includes('send.dkim_none') || codes.includes('send.spf_none'))
    t.equal(r.status, 'warn', r.summary)
    t.match(r.advice.find((a) => a.code === 'send.dnsbl_dynamic')?.message, /587/, 'submit through the ISP on 587, in Japanese')
    // Both dialogues: Postfix delivering to mxprobe, mxprobe delivering the reply to Postfix.
    t.ok(r.transcript.some((l) => l.dir === 'S' && /^EHLO mx\.home\.test$/.test(l.text)), 'Postfix\'s EHLO, as received')
    t.ok(r.transcript.some((l) => l.dir === 'S' && l.text === 'STARTTLS'), 'Postfix\'s STARTTLS')
    t.ok(r.transcript.some((l) => l.dir === 'C' && /^RCPT TO:<taro@home\.test>/.test(l.text)), 'mxprobe\'s reply dialogue')
    t.ok(r.transcript.some((l) => l.dir === 'S' && /^250 .*queued as/.test(l.text)), 'Postfix queued the reply')
    t.match(r.steps.find((s) => s.name === 'send-reply'), { status: 'pass', title: '返信' })
    const replyMail = await pf.waitForMail('taro', (m) => m.includes(r.id))
    const parsed = await simpleParser(replyMail)
    t.equal(parsed.subject, 'Re: 開通テスト', 'the reply is in taro\'s mailbox')
    t.match(parsed.text, /mxprobe 送信テストの結果/, 'in the test\'s language')
    t.match(replyMail, /^In-Reply-To: <.+@home\.test>/m, 'threaded to the mail it answers')
    t.match(replyMail, /^Auto-Submitted: auto-replied/m)

    // 2. The same kind of mail changed after signing: DKIM fails
    const bad = await sendVia(false, async (a) => (await signed(compose(a, 'original text'))).replace('original text', 'tampered text'))
    const bi = bad.inbound as Record<string, any>
    // mailauth (and Gmail) word a body-hash mismatch "neutral (body hash did not verify)"; it is a failed signature
    t.match(bi.dkim, [{ result: 'fail', domain: 'home.test', selector: 'sel', reason: /body hash did not verify/ }], 'a changed body does not verify: fail')
    t.match(bi.dmarc, { result: 'pass' }, 'DMARC still passes through aligned SPF')
    t.ok(bad.advice.some((a) => a.code === 'send.dkim_fail'))
    t.notOk(bad.steps.some((s) => s.name === 'send-reply'), 'no reply asked, none sent')
    t.match(bad.steps.find((s) => s.name === 'send-dkim'), { status: 'warn' })

    // 3. A signed header changed after signing: the signature fails
    const forged = await sendVia(false, async (a) => (await signed(compose(a, 'text'))).replace(/^Subject: .*$/m, 'Subject: changed'))
    t.match((forged.inbound as Record<string, any>).dkim, [{ result: 'fail', domain: 'home.test', selector: 'sel' }], 'a changed signed header fails DKIM')
  })
}
