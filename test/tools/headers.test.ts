import t from 'tap'
import { analyzeHeaders, unfoldHeaders, decodeHeaderValue } from '../../src/tools/headers.js'
import { parseReceived, parseMailDate } from '../../src/tools/received.js'
import { parseAuthenticationResults, parseReceivedSpf, parseDkimSignature } from '../../src/tools/authresults.js'
import { organisationalDomain } from '../../src/tools/domains.js'
import { POSTFIX, EXIM, SENDMAIL, QMAIL, MICROSOFT, GMAIL, JA_SUBJECT, JA_NAME, encodedWord, iso2022jp } from './samples.js'

const now = new Date('2024-02-01T00:00:00Z')

t.test('the ISO-2022-JP sample words are genuine (round trip through libmime\'s decoder)', async (t) => {
  const bytes = iso2022jp('日本')
  t.same([...bytes.subarray(0, 3)], [0x1b, 0x24, 0x42], 'starts with ESC $ B')
  t.same([...bytes.subarray(-3)], [0x1b, 0x28, 0x42], 'ends with ESC ( B')
  t.equal(decodeHeaderValue(encodedWord(JA_SUBJECT, 'ISO-2022-JP')), JA_SUBJECT)
  t.equal(decodeHeaderValue(encodedWord(JA_SUBJECT, 'Shift_JIS', 'Q')), JA_SUBJECT)
  t.equal(decodeHeaderValue(encodedWord(JA_SUBJECT, 'EUC-JP')), JA_SUBJECT)
  t.equal(decodeHeaderValue('=?ISO-2022-JP?B?broken'), '=?ISO-2022-JP?B?broken', 'a broken word stays as written')
})

t.test('Postfix chain: hops oldest first, TLS, authenticated submission, LAN relay, origin outside the recipient', async (t) => {
  const a = analyzeHeaders(POSTFIX, { now })
  t.equal(a.subject, JA_SUBJECT, 'ISO-2022-JP subject decoded')
  t.same(a.from, { name: JA_NAME, address: 'taro@example.co.jp', domain: 'example.co.jp' })
  t.equal(a.hops.length, 4)
  t.same(a.hops.map((h) => h.index), [1, 2, 3, 4])
  const [submit, inbound, lan, local] = a.hops
  t.equal(submit.format, 'postfix')
  t.equal(submit.protocol, 'ESMTPSA')
  t.equal(submit.authenticated, true)
  t.equal(submit.fromIp, '198.51.100.77')
  t.equal(submit.fromHelo, '[192.168.10.5]')
  t.equal(submit.fromRdns, null, 'unknown rdns is no name')
  t.equal(inbound.fromHelo, 'smtp.example.co.jp')
  t.equal(inbound.fromRdns, 'smtp.example.co.jp')
  t.equal(inbound.fromIp, '203.0.113.25')
  t.equal(inbound.byHost, 'gw.home.example.jp')
  t.equal(inbound.tls, true)
  t.equal(inbound.tlsVersion, 'TLSv1.3')
  t.equal(inbound.tlsCipher, 'TLS_AES_256_GCM_SHA384')
  t.equal(inbound.id, '4TqXyY6pQrz9876')
  t.equal(inbound.for, 'hanako@home.example.jp')
  t.equal(inbound.date, '2024-01-15T10:00:04.000Z', 'JST converted to UTC')
  t.equal(inbound.delaySeconds, 2)
  t.equal(submit.delaySeconds, 1, 'first hop counts from the Date: header')
  t.equal(lan.tls, false, 'ESMTP is plain text')
  t.ok(lan.flags.includes('private-ip'))
  t.equal(lan.fromIpRange?.kind, 'private')
  t.equal(local.fromIpRange?.kind, 'loopback')
  t.ok(inbound.flags.includes('reserved-ip'), 'documentation addresses are flagged as never on the internet')
  t.equal(a.origin?.hop, 2, 'the first hop outside home.example.jp (LAN and loopback hops skipped)')
  t.equal(a.origin?.ip, '203.0.113.25')
  t.equal(a.origin?.host, 'smtp.example.co.jp')
  t.same(a.verdicts, { dkim: 'pass', spf: 'pass', dmarc: 'pass' })
  t.same(a.dkim.map((d) => [d.domain, d.selector]), [['example.co.jp', 'default']])
  t.equal(a.dkim[0].signedAt, '2024-01-15T10:00:02.000Z')
  t.notOk(a.findings.some((f) => f.severity === 'warn'), 'a clean message has no warnings: ' + a.findings.filter((f) => f.severity === 'warn').map((f) => f.en).join(' | '))
  t.equal(a.hadBody, true)
  t.equal(a.headers.find((h) => h.name === 'Subject')?.decoded, JA_SUBJECT)
})

t.test('Exim: rdns first, helo= in the comment, TLS from (TLS1.3) tls CIPHER, local delivery not an origin', async (t) => {
  const a = analyzeHeaders(EXIM, { now })
  t.equal(a.hops.length, 2)
  const [inbound, local] = a.hops
  t.equal(inbound.format, 'exim')
  t.equal(inbound.software, 'Exim 4.96')
  t.equal(inbound.fromRdns, 'out.shop.example.net')
  t.equal(inbound.fromHelo, 'mta7.shop.example.net')
  t.equal(inbound.fromIp, '192.0.2.44')
  t.equal(inbound.protocol, 'ESMTPS')
  t.equal(inbound.tls, true)
  t.equal(inbound.tlsVersion, 'TLS1.3')
  t.equal(inbound.tlsCipher, 'TLS_AES_256_GCM_SHA384')
  t.equal(inbound.envelopeFrom, 'bounce+abc@bounces.shop.example.net')
  t.equal(inbound.id, '1rPqRs-000ABC-Yw')
  t.equal(inbound.for, 'bob@example.org')
  t.equal(local.protocol, 'LOCAL')
  t.equal(a.origin?.ip, '192.0.2.44')
  t.equal(a.subject, 'セール開催中', 'UTF-8 Q-encoded subject')
  const codes = a.findings.map((f) => f.code)
  t.ok(codes.includes('tools.headers.reply_to_differs'), 'Reply-To in another domain is flagged')
  t.notOk(codes.includes('tools.headers.from_return_path_mismatch'), 'bounces.shop.example.net is the same organisation as shop.example.net')
})

t.test('Sendmail: version/cipher/verify comment, Submit hop from localhost', async (t) => {
  const a = analyzeHeaders(SENDMAIL, { now })
  const [submit, relay] = a.hops
  t.equal(submit.format, 'sendmail')
  t.equal(submit.software, 'sendmail 8.17.1')
  t.equal(submit.fromIp, '127.0.0.1')
  t.equal(submit.protocol, null)
  t.equal(submit.tls, null, 'no protocol named: TLS unknown')
  t.equal(relay.protocol, 'ESMTPS')
  t.equal(relay.tlsVersion, 'TLSv1.3')
  t.equal(relay.tlsCipher, 'TLS_AES_256_GCM_SHA384')
  t.equal(relay.id, '40GAB1cd012345')
  t.equal(relay.for, 'carol@example.net')
  t.equal(a.origin?.ip, '198.51.100.10')
  t.equal(a.origin?.host, 'relay.example.com')
  t.equal(a.subject, 'お知らせ', 'Shift_JIS subject decoded')
})

t.test('qmail: "invoked" lines kept as hops, HELO in a comment, bare IP in parentheses', async (t) => {
  const a = analyzeHeaders(QMAIL, { now })
  t.equal(a.hops.length, 3)
  const [smtp, network, uid] = a.hops
  t.equal(smtp.format, 'qmail')
  t.equal(smtp.fromHost, 'unknown')
  t.equal(smtp.fromHelo, 'mail.sender.example')
  t.equal(smtp.fromRdns, null)
  t.equal(smtp.fromIp, '203.0.113.99')
  t.equal(smtp.byHost, 'mx.qmail.example')
  t.equal(smtp.tls, false)
  t.equal(network.note, 'qmail: invoked from network')
  t.equal(uid.note, 'qmail: invoked by uid 89')
  t.ok(network.parsed && uid.parsed)
  t.equal(smtp.date, '2024-01-17T03:04:09.000Z', 'a date without weekday')
  t.equal(a.origin?.hop, 1)
  t.equal(a.origin?.ip, '203.0.113.99')
  t.equal(a.subject, 'テスト', 'EUC-JP subject decoded')
})

t.test('Microsoft 365: Microsoft SMTP Server (version=…, cipher=…), IPv6 internal hops, origin through EOP', async (t) => {
  const a = analyzeHeaders(MICROSOFT, { now })
  t.equal(a.hops.length, 3)
  const [eop, internal, mailbox] = a.hops
  t.equal(eop.format, 'microsoft')
  t.equal(eop.protocol, 'Microsoft SMTP Server')
  t.equal(eop.tls, true)
  t.equal(eop.tlsVersion, 'TLS1_2')
  t.equal(eop.tlsCipher, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384')
  t.equal(eop.fromIp, '192.0.2.200')
  t.equal(eop.byIp, '10.167.241.10')
  t.equal(eop.id, '15.20.7202.16')
  t.equal(eop.via, 'Frontend Transport')
  t.equal(internal.fromIp, '2603:1096:405:1::5')
  t.equal(mailbox.protocol, 'HTTPS')
  t.equal(mailbox.format, 'microsoft')
  t.equal(a.origin?.ip, '192.0.2.200', 'the outlook.com hops are the recipient\'s own')
  t.equal(a.verdicts.dmarc, 'fail')
  t.equal(a.verdicts.spf, 'pass')
  t.equal(a.authenticationResults[0].authservId, '', 'Exchange writes no authserv-id')
  t.equal(a.receivedSpf[0].result, 'pass')
  t.equal(a.receivedSpf[0].props['client-ip'], '192.0.2.200')
  t.ok(a.findings.some((f) => f.code === 'tools.headers.auth_fail' && f.params.method === 'dmarc'))
})

t.test('Gmail: internal hop with an IPv6 by, ESMTPS with version=/cipher=, ARC, display-name spoof', async (t) => {
  const a = analyzeHeaders(GMAIL, { now })
  t.equal(a.hops.length, 2, 'X-Received is not a Received header')
  const [mx, internal] = a.hops
  t.equal(mx.format, 'gmail')
  t.equal(mx.fromRdns, 'mta.news.example', 'trailing dot of the rdns removed')
  t.equal(mx.fromIp, '198.51.100.5')
  t.equal(mx.for, 'someone@gmail.com')
  t.equal(mx.tlsVersion, 'TLS1_3')
  t.equal(internal.fromHost, null)
  t.equal(internal.byIp, '2002:a05:7300:1234:b0:5a1:2b3c:4d5e')
  t.equal(internal.date, '2024-01-18T10:03:05.000Z', 'PST offset applied')
  t.equal(a.origin?.ip, '198.51.100.5')
  t.equal(a.origin?.recipientDomain, 'google.com')
  t.equal(a.arc.length, 1)
  t.equal(a.arc[0].chainValidation, 'none')
  t.equal(a.arc[0].results?.authservId, 'mx.google.com')
  t.equal(a.verdicts.dmarc, 'pass')
  t.equal(a.subject, 'ご利用確認のお願い', 'two adjacent ISO-2022-JP words join without a space')
  t.ok(a.findings.some((f) => f.code === 'tools.headers.display_name_address' && f.params.shown === 'support@bank.example'))
})

t.test('clock skew, out-of-order, future dates and long delays are flagged', async (t) => {
  const raw = [
    'Received: from b.example.net (b.example.net [198.51.100.2]) by c.example.org (Postfix) with ESMTP id C; Mon, 1 Jan 2024 10:00:00 +0000',
    'Received: from a.example.com (a.example.com [198.51.100.1]) by b.example.net (Postfix) with ESMTP id B; Mon, 1 Jan 2024 10:30:00 +0000',
    'Received: from x.example.com (x.example.com [198.51.100.9]) by a.example.com (Postfix) with ESMTP id A; Mon, 1 Jan 2024 10:29:30 +0000',
    'Received: from y.example.com (y.example.com [198.51.100.8]) by x.example.com (Postfix) with ESMTP id X; Mon, 1 Jan 2024 09:00:00 +0000',
    'Received: from z.example.com by y.example.com; Sun, 1 Jan 2034 00:00:00 +0000',
    'Date: Mon, 1 Jan 2024 08:59:00 +0000'
  ].join('\n')
  const a = analyzeHeaders(raw, { now })
  // oldest first: z (future), y 09:00, x 10:29:30, a 10:30:00, b 10:00:00
  t.same(a.hops.map((h) => h.byHost), ['y.example.com', 'x.example.com', 'a.example.com', 'b.example.net', 'c.example.org'])
  t.ok(a.hops[0].flags.includes('future-date'))
  t.ok(a.hops[1].flags.includes('clock-skew'), 'an hour earlier than the hop before')
  t.ok(a.hops[2].flags.includes('long-delay'), '89 minutes in a queue')
  t.equal(a.hops[3].delaySeconds, 30)
  t.ok(a.hops[4].flags.includes('clock-skew'))
  t.equal(a.hops[4].delaySeconds, -1800)
  const small = analyzeHeaders([
    'Received: from b.example.net (b.example.net [198.51.100.2]) by c.example.org with ESMTP; Mon, 1 Jan 2024 10:00:00 +0000',
    'Received: from a.example.com (a.example.com [198.51.100.1]) by b.example.net with ESMTP; Mon, 1 Jan 2024 10:00:30 +0000'
  ].join('\n'), { now })
  t.ok(small.hops[1].flags.includes('out-of-order'), 'a 30 s step back is out of order, not necessarily a broken clock')
  t.ok(small.findings.some((f) => f.code === 'tools.headers.out_of_order'))
})

t.test('unparseable Received lines and stray lines are kept and shown, never dropped', async (t) => {
  const raw = [
    'Received: this is not a received header at all',
    'Received: from ok.example.com (ok.example.com [198.51.100.3]) by mx.example.org with SMTP; Mon, 1 Jan 2024 10:00:00 +0000',
    'garbage line without a colon',
    'Subject: x'
  ].join('\n')
  const a = analyzeHeaders(raw, { now })
  t.equal(a.hops.length, 2)
  const bad = a.hops.find((h) => !h.parsed)
  t.ok(bad, 'the unreadable hop is still in the chain')
  t.equal(bad?.raw, 'this is not a received header at all')
  t.equal(bad?.format, 'unknown')
  t.same(a.unparsedLines, ['garbage line without a colon'])
  t.ok(a.findings.some((f) => f.code === 'tools.headers.unparsed_received'))
  const long = parseReceived('from ' + 'a'.repeat(10_000))
  t.equal(long.parsed, false)
  t.ok(long.flags.includes('too-long'))
})

t.test('unfolding: CRLF, tab and space continuations, mbox From line, leading blank lines', async (t) => {
  const b = unfoldHeaders('\r\n\r\nFrom someone@example.com Mon Jan  1 00:00:00 2024\r\nSubject: a\r\n b\r\n\tc\r\nX-Y: z\r\n\r\nbody')
  t.same(b.fields, [{ name: 'Subject', value: 'a b c' }, { name: 'X-Y', value: 'z' }])
  t.equal(b.hadBody, true)
})

t.test('no Received header at all', async (t) => {
  const a = analyzeHeaders('Subject: hello\nFrom: a@example.com', { now })
  t.equal(a.hops.length, 0)
  t.equal(a.origin, null)
  t.ok(a.findings.some((f) => f.code === 'tools.headers.no_received'))
  t.ok(a.findings.every((f) => f.ja && f.en), 'every finding has both languages')
})

t.test('pieces: dates, Authentication-Results, Received-SPF, DKIM tags, organisational domains', async (t) => {
  t.equal(parseMailDate('Tue, 2 Jan 2024 03:04:05 -0800 (PST)')?.toISOString(), '2024-01-02T11:04:05.000Z')
  t.equal(parseMailDate('2 Jan 24 03:04 GMT')?.toISOString(), '2024-01-02T03:04:00.000Z')
  t.equal(parseMailDate('2024-01-02T03:04:05Z')?.toISOString(), '2024-01-02T03:04:05.000Z')
  t.equal(parseMailDate('not a date'), null)
  const ar = parseAuthenticationResults('mx.example.org 1; spf=softfail (sender not permitted) smtp.mailfrom="a@b.example"; dkim=fail reason="signature verification failed" header.d=b.example; dmarc=none')
  t.equal(ar.authservId, 'mx.example.org')
  t.same(ar.results.map((r) => [r.method, r.result]), [['spf', 'softfail'], ['dkim', 'fail'], ['dmarc', 'none']])
  t.equal(ar.results[0].props['smtp.mailfrom'], 'a@b.example')
  t.equal(ar.results[0].comment, 'sender not permitted')
  t.equal(ar.results[1].reason, 'signature verification failed')
  t.same(parseAuthenticationResults('mx.example.org; none').results, [])
  const spf = parseReceivedSpf('Fail (mx: domain of x@y.example does not designate 198.51.100.1 as permitted sender) client-ip=198.51.100.1; envelope-from="x@y.example"; helo=h.example;')
  t.equal(spf.result, 'fail')
  t.equal(spf.props['envelope-from'], 'x@y.example')
  t.equal(spf.props.helo, 'h.example')
  const d = parseDkimSignature('v=1; a=rsa-sha256; d=Example.COM; s=sel 2024;\r\n h=From : To; b=abc\r\n def')
  t.equal(d.domain, 'example.com')
  t.equal(d.selector, 'sel 2024')
  t.same(d.headers, ['from', 'to'])
  t.equal(organisationalDomain('mx1.mail.example.co.jp'), 'example.co.jp')
  t.equal(organisationalDomain('mx.home.example.jp'), 'example.jp')
  t.equal(organisationalDomain('a.b.example.com'), 'example.com')
  t.equal(organisationalDomain('192.0.2.1'), null)
  t.equal(organisationalDomain('localhost'), null)
})

t.test('raw ISO-2022-JP in a header (no encoded-word) is decoded for display', async (t) => {
  const raw = `Subject: ${iso2022jp('会議のお知らせ').toString('latin1')}\nFrom: a@b.example`
  const a = analyzeHeaders(raw, { now })
  t.equal(a.subject, '会議のお知らせ')
  t.equal(a.headers[0].value.includes('\u001b'), true, 'the raw value is kept as pasted')
})

t.test('more documented variants: IPv6 literals, Exim without rdns, sendmail "may be forged", Exchange MAPI, Dovecot LMTP', async (t) => {
  const v6 = parseReceived('from mail.example.org (mail.example.org [IPv6:2001:db8::25]) by mx.example.jp (Postfix) with ESMTPS id X for <a@example.jp>; Mon, 1 Jan 2024 00:00:00 +0000')
  t.equal(v6.fromIp, '2001:db8::25')
  t.equal(v6.fromRdns, 'mail.example.org')
  t.equal(v6.fromIpRange?.kind, 'documentation')
  const exim = parseReceived('from [192.0.2.7] (helo=laptop.local) by mail.example.org with esmtpsa (TLS1.3) tls TLS_AES_128_GCM_SHA256 (Exim 4.97) (envelope-from <me@example.org>) id 1abc-0001-AB; Mon, 1 Jan 2024 00:00:00 +0000')
  t.equal(exim.format, 'exim')
  t.equal(exim.fromIp, '192.0.2.7')
  t.equal(exim.fromRdns, null, 'no reverse DNS: the from word is the address')
  t.equal(exim.fromHelo, 'laptop.local')
  t.equal(exim.authenticated, true)
  t.equal(exim.tlsCipher, 'TLS_AES_128_GCM_SHA256')
  const forged = parseReceived('from mx.bank.example (dyn-1-2-3-4.isp.example [198.51.100.4] (may be forged)) by mx.example.net (8.15.2/8.15.2) with ESMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000')
  t.equal(forged.fromHelo, 'mx.bank.example', 'the HELO claims the bank')
  t.equal(forged.fromRdns, 'dyn-1-2-3-4.isp.example', 'the reverse DNS tells the truth')
  t.equal(forged.fromIp, '198.51.100.4')
  t.equal(forged.tls, false)
  const mapi = parseReceived('from TYAPR01MB1111.jpnprd01.prod.outlook.com ([fe80::1234:5678:9abc:def0]) by TYAPR01MB1111.jpnprd01.prod.outlook.com ([fe80::1234:5678:9abc:def0%5]) with mapi id 15.20.7202.017; Mon, 1 Jan 2024 00:00:00 +0000')
  t.equal(mapi.format, 'microsoft')
  t.equal(mapi.protocol, 'MAPI')
  t.equal(mapi.fromIp, 'fe80::1234:5678:9abc:def0')
  t.ok(mapi.flags.includes('private-ip'), 'link-local is internal')
  const lmtp = parseReceived('from mail.example.org by mail.example.org with LMTP id kLm2Abc (envelope-from <x@y.example>) for <u@example.org>; Mon, 01 Jan 2024 00:00:01 +0000')
  t.equal(lmtp.protocol, 'LMTP')
  t.equal(lmtp.tls, false)
  t.equal(lmtp.envelopeFrom, 'x@y.example')
  // a forged HELO inside the recipient's domain does not hide the real sender
  const a = analyzeHeaders([
    'Received: from mx.example.net (dyn.isp.example [198.51.100.4]) by mx.example.net (Postfix) with ESMTP id Z; Mon, 1 Jan 2024 00:00:00 +0000'
  ].join('\n'), { now })
  t.equal(a.origin?.ip, '198.51.100.4', 'the reverse DNS outside the organisation wins over a HELO inside it')
})
