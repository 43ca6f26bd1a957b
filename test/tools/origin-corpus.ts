// Header blocks in the Received formats of the MTAs and providers people
// really get mail through, each with the true origin: the address that
// handed the mail to the recipient's own servers (for a retrieval or an
// own forwarder: the one that handed it to the mailbox provider or the
// forwarder). Written by hand from each software's documented format; the
// addresses are public-looking on purpose (SpamAssassin, the peer, treats
// some special ranges as trusted). `why` says what makes the case hard.
export interface OriginCase {
  name: string
  truth: string | null
  /** the true answer is "cannot tell": the entry hop's peer is ambiguous (not counted against either peer) */
  ambiguous?: boolean
  why: string
  raw: string
}

const D = 'Mon, 15 Jan 2024 19:00:0'
const tail = (n: number): string => `${D}${n} +0900`
const msg = (received: string[], extra: string[] = []): string => [
  ...received.map((r) => `Received: ${r}`),
  ...extra,
  'From: Sender <sender@sender.example>',
  'To: taro@home.example',
  'Subject: test',
  `Date: ${D}0 +0900`,
  'Message-ID: <x@sender.example>',
  '',
  'body'
].join('\n')

export const ORIGIN_CASES: OriginCase[] = [
  {
    name: 'postfix: plain delivery from outside',
    truth: '203.0.113.5',
    why: 'baseline',
    raw: msg([`from mail.sender.example (mail.sender.example [203.0.113.5])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\t(No client certificate requested)\n\tby mx.home.example (Postfix) with ESMTPS id 4TqXyZ0abc\n\tfor <taro@home.example>; ${tail(3)}`])
  },
  {
    name: 'postfix: forged HELO carrying an address in brackets',
    truth: '198.51.100.7',
    why: 'the sender wrote "([192.0.2.1])" into its HELO; Postfix appends the real peer last',
    raw: msg([`from spam.example ([192.0.2.1]) (unknown [198.51.100.7])\n\tby mx.home.example (Postfix) with ESMTP id ABC\n\tfor <taro@home.example>; ${tail(3)}`])
  },
  {
    name: 'postfix: forged HELO naming the recipient itself',
    truth: '198.51.100.4',
    why: 'HELO claims mx.home.example; the receiver found no reverse DNS',
    raw: msg([`from mx.home.example (unknown [198.51.100.4])\n\tby mx.home.example (Postfix) with ESMTP id Z1\n\tfor <taro@home.example>; ${tail(3)}`])
  },
  {
    name: 'postfix: HELO is an address literal, peer differs (NAT)',
    truth: '203.0.113.88',
    why: 'the client announced its LAN address',
    raw: msg([`from [192.168.1.20] (unknown [203.0.113.88])\n\tby mx.home.example (Postfix) with ESMTP id Z2\n\tfor <taro@home.example>; ${tail(3)}`])
  },
  {
    name: 'postfix: amavis and a LAN gateway inside the recipient',
    truth: '203.0.113.25',
    why: 'loopback and 192.168/16 hops are the recipient\'s own',
    raw: msg([
      `from localhost (localhost [127.0.0.1])\n\tby mx.home.example (Postfix) with ESMTP id A3\n\tfor <taro@home.example>; ${tail(7)}`,
      `from mx.home.example ([127.0.0.1])\n\tby localhost (mx.home.example [127.0.0.1]) (amavisd-new, port 10024)\n\twith ESMTP id kQ1; ${tail(6)}`,
      `from gw.home.example (gw.home.example [192.168.1.2])\n\tby mx.home.example (Postfix) with ESMTP id A2\n\tfor <taro@home.example>; ${tail(5)}`,
      `from smtp.sender.example (smtp.sender.example [203.0.113.25])\n\tby gw.home.example (Postfix) with ESMTPS id A1\n\tfor <taro@home.example>; ${tail(4)}`,
      `from [10.0.0.5] (unknown [198.51.100.77])\n\t(Authenticated sender: sender)\n\tby smtp.sender.example (Postfix) with ESMTPSA id S1; ${tail(2)}`
    ])
  },
  {
    name: 'postfix: two public MX tiers of one organisation',
    truth: '203.0.113.40',
    why: 'the recipient\'s filter relays from a public address; its verified reverse DNS is in home.example',
    raw: msg([
      `from mx1.home.example (mx1.home.example [198.51.100.20])\n\tby mailstore.home.example (Postfix) with ESMTPS id B2\n\tfor <taro@home.example>; ${tail(5)}`,
      `from out.sender.example (out.sender.example [203.0.113.40])\n\tby mx1.home.example (Postfix) with ESMTPS id B1\n\tfor <taro@home.example>; ${tail(4)}`
    ])
  },
  {
    name: 'postfix: an MX that calls itself localhost',
    truth: '203.0.113.5',
    why: 'no organisation for "localhost"; the sender\'s own by-host must not become "us"',
    raw: msg([
      `from smtp.sender.example (smtp.sender.example [203.0.113.5])\n\tby localhost (Postfix) with ESMTP id C2\n\tfor <taro@home.example>; ${tail(4)}`,
      `from pc.sender.example (pc.sender.example [203.0.113.6])\n\tby smtp.sender.example (Postfix) with ESMTP id C1; ${tail(3)}`
    ])
  },
  {
    name: 'postfix: two municipalities under tokyo.jp (Public Suffix List)',
    truth: '203.0.113.50',
    why: 'city.chiyoda.tokyo.jp and ward.minato.tokyo.jp are different organisations',
    raw: msg([`from mail.ward.minato.tokyo.jp (mail.ward.minato.tokyo.jp [203.0.113.50])\n\tby mx.city.chiyoda.tokyo.jp (Postfix) with ESMTP id D1\n\tfor <taro@city.chiyoda.tokyo.jp>; ${tail(4)}`])
  },
  {
    name: 'postfix: IPv6 peer',
    truth: '2001:db8:1::25',
    why: 'IPv6 literal in brackets',
    raw: msg([`from mail.sender.example (mail.sender.example [IPv6:2001:db8:1::25])\n\tby mx.home.example (Postfix) with ESMTPS id E1\n\tfor <taro@home.example>; ${tail(4)}`])
  },
  {
    name: 'postfix: authenticated submission by the recipient\'s own user',
    truth: '203.0.113.88',
    why: 'the device the user sent from',
    raw: msg([`from [192.168.1.20] (unknown [203.0.113.88])\n\t(Authenticated sender: hanako)\n\tby mail.home.example (Postfix) with ESMTPSA id F1\n\tfor <taro@home.example>; ${tail(4)}`])
  },
  {
    name: 'postfix: forged hops below the real entry',
    truth: '198.51.100.61',
    why: 'the sender appended a fake bank chain under the real hop',
    raw: msg([
      `from mail.bank.example (dyn-61.isp.example [198.51.100.61])\n\tby mx.home.example (Postfix) with ESMTP id G2\n\tfor <taro@home.example>; ${tail(4)}`,
      `from mail.bank.example (mail.bank.example [192.0.2.10])\n\tby mx.bank.example (Postfix) with ESMTPS id G1; ${tail(3)}`
    ])
  },
  {
    name: 'postfix + dovecot LMTP delivery',
    truth: '203.0.113.5',
    why: 'the LMTP hand-over names no address',
    raw: msg([
      `from mail.home.example\n\tby mail.home.example with LMTP\n\tid kLm2Abc (envelope-from <sender@sender.example>)\n\tfor <taro@home.example>; ${tail(5)}`,
      `from mail.sender.example (mail.sender.example [203.0.113.5])\n\tby mail.home.example (Postfix) with ESMTPS id H1\n\tfor <taro@home.example>; ${tail(4)}`
    ])
  },
  {
    name: 'exim: rdns first, helo= in the comment',
    truth: '192.0.2.144',
    why: 'Exim writes the reverse DNS first and the peer before helo=',
    raw: msg([
      `from Debian-exim by mail.example.org with local (Exim 4.96)\n\t(envelope-from <news@shop.example.net>)\n\tid 1rPqRs-000ABC-Zx\n\tfor bob@example.org; ${tail(5)}`,
      `from out.shop.example.net ([192.0.2.144]:41234 helo=mta7.shop.example.net)\n\tby mail.example.org with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <bounce@shop.example.net>)\n\tid 1rPqRs-000ABC-Yw\n\tfor bob@example.org; ${tail(4)}`
    ])
  },
  {
    name: 'exim: no reverse DNS, HELO is an address literal',
    truth: '198.51.100.23',
    why: 'helo=[10.0.0.5] is the sender\'s claim; Exim writes the peer first',
    raw: msg([`from [198.51.100.23] (port=51234 helo=[10.0.0.5])\n\tby mail.example.org with esmtp (Exim 4.96)\n\t(envelope-from <x@sender.example>)\n\tid 1rPq-0001\n\tfor bob@example.org; ${tail(4)}`])
  },
  {
    name: 'exim: two MX tiers of one organisation',
    truth: '203.0.113.31',
    why: 'the recipient\'s own MX forwards to its IMAP host from a public address',
    raw: msg([
      `from mx1.example.org ([198.51.100.30] helo=mx1.example.org)\n\tby imap.example.org with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\tid 1rPq-0003\n\tfor bob@example.org; ${tail(5)}`,
      `from out.sender.example ([203.0.113.31]:4455 helo=out.sender.example)\n\tby mx1.example.org with esmtp (Exim 4.96)\n\tid 1rPq-0002\n\tfor bob@example.org; ${tail(4)}`
    ])
  },
  {
    name: 'sendmail: plain',
    truth: '198.51.100.10',
    why: 'baseline',
    raw: msg([
      `from relay.example.com (relay.example.com [198.51.100.10])\n\tby mx.example.net (8.17.1/8.17.1) with ESMTPS id 40GAB1cd012345\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\n\tfor <carol@example.net>; ${tail(4)}`,
      `from localhost (localhost [127.0.0.1])\n\tby relay.example.com (8.17.1/8.17.1/Submit) id 40GAB0ab012300; ${tail(3)}`
    ])
  },
  {
    name: 'sendmail: "may be forged" reverse DNS claiming the recipient',
    truth: '198.51.100.4',
    why: 'an unconfirmed reverse DNS inside the recipient\'s domain proves nothing',
    raw: msg([`from mx.example.net (mx2.example.net [198.51.100.4] (may be forged))\n\tby mx.example.net (8.17.1/8.17.1) with ESMTP id 40GAB1cd0999\n\tfor <carol@example.net>; ${tail(4)}`])
  },
  {
    name: 'sendmail: ident user in the comment',
    truth: '203.0.113.71',
    why: 'sendmail writes user@host [ip] when identd answers',
    raw: msg([`from mail.sender.example (root@mail.sender.example [203.0.113.71])\n\tby mx.example.net (8.15.2/8.15.2) with ESMTP id 40GAB1cd0777\n\tfor <carol@example.net>; ${tail(4)}`])
  },
  {
    name: 'sakura internet (sendmail) with a local filter',
    truth: '203.0.113.5',
    why: 'Japanese shared hosting: loopback re-injection on top',
    raw: msg([
      `from www1234.sakura.ne.jp (localhost [127.0.0.1])\n\tby www1234.sakura.ne.jp (8.15.2/8.15.2) with ESMTP id 40F8x1Ab012345\n\tfor <taro@home.example>; ${tail(5)}`,
      `from mail.sender.example (mail.sender.example [203.0.113.5])\n\tby www1234.sakura.ne.jp (8.15.2/8.15.2) with ESMTPS id 40F8x0Ab012300\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\n\tfor <taro@home.example>; ${tail(4)}`
    ])
  },
  {
    name: 'qmail: HELO in a comment, bare address',
    truth: '203.0.113.99',
    why: 'qmail writes the address without brackets',
    raw: msg([
      `(qmail 22341 invoked by uid 89); ${tail(6)}`,
      `(qmail 22338 invoked from network); ${tail(5)}`,
      `from unknown (HELO mail.sender.example) (203.0.113.99)\n  by mx.qmail.example with SMTP; ${tail(5)}`
    ])
  },
  {
    name: 'qmail: HELO carrying an address literal',
    truth: '198.51.100.77',
    why: 'the bracket is the HELO; qmail\'s own address comes last',
    raw: msg([
      `(qmail 1002 invoked from network); ${tail(5)}`,
      `from unknown (HELO [192.0.2.1]) (198.51.100.77)\n  by mx.qmail.example with SMTP; ${tail(5)}`
    ])
  },
  {
    name: 'microsoft 365: inbound through EOP, internal IPv6 hops',
    truth: '192.0.2.200',
    why: 'the outlook.com hops between mailbox servers are the recipient\'s own',
    raw: msg([
      `from TYCPR01MB8000.jpnprd01.prod.outlook.com (2603:1096:400:1::10) by\n OS3PR01MB9000.jpnprd01.prod.outlook.com with HTTPS; ${tail(5)}`,
      `from TY2PEPF0000AB12.JPNP286.PROD.OUTLOOK.COM (2603:1096:405:1::5) by\n TYCPR01MB8000.jpnprd01.prod.outlook.com (2603:1096:400:1::10) with Microsoft SMTP\n Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\n 15.20.7181.26; ${tail(4)}`,
      `from mail.partner.example (192.0.2.200) by\n TY2PEPF0000AB12.mail.protection.outlook.com (10.167.241.10) with Microsoft SMTP\n Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\n 15.20.7202.16 via Frontend Transport; ${tail(3)}`
    ])
  },
  {
    name: 'microsoft 365 to microsoft 365',
    truth: '40.107.94.70',
    why: 'the sender\'s tenant is also on outlook.com: the EOP edge decides, not the names',
    raw: msg([
      `from BN8NAM11FT050.eop-nam11.prod.protection.outlook.com\n (2603:10b6:408:80:cafe::5a) by BN9PR03CA0123.outlook.office365.com\n (2603:10b6:408:130::8) with Microsoft SMTP Server (version=TLS1_2,\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7202.24 via Frontend\n Transport; ${tail(5)}`,
      `from NAM12-DM6-obe.outbound.protection.outlook.com (40.107.94.70) by\n BN8NAM11FT050.mail.protection.outlook.com (10.13.177.101) with Microsoft SMTP\n Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\n 15.20.7202.16 via Frontend Transport; ${tail(4)}`,
      `from SJ0PR11MB5678.namprd11.prod.outlook.com (2603:10b6:a03:2d0::12) by\n DM6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:5:1a0::9) with Microsoft SMTP\n Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\n 15.20.7202.16; ${tail(3)}`
    ])
  },
  {
    name: 'exchange on premises: edge and mailbox on a LAN',
    truth: '203.0.113.15',
    why: 'Microsoft format with private addresses inside',
    raw: msg([
      `from EXCH01.corp.example (10.1.1.5) by EXCH02.corp.example (10.1.1.6)\n with Microsoft SMTP Server (version=TLS1_2,\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.6; ${tail(5)}`,
      `from mail.sender.example (203.0.113.15) by EXCH01.corp.example (10.1.1.5)\n with Microsoft SMTP Server id 15.1.2507.6; ${tail(4)}`
    ])
  },
  {
    name: 'gmail: inbound from outside, internal hop without from',
    truth: '198.51.100.5',
    why: 'Gmail\'s "by 2002:…" hop names no sender',
    raw: msg([
      'by 2002:a05:7300:1234:b0:5a1:2b3c:4d5e with SMTP id abcd1234csp567890dyz;\n        Thu, 18 Jan 2024 02:03:05 -0800 (PST)',
      'from mta.news.example (mta.news.example. [198.51.100.5])\n        by mx.google.com with ESMTPS id a12-20020a170902e00000b001d4c1234abcsi1234567plb.123.2024.01.18.02.03.04\n        for <someone@gmail.com>\n        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n        Thu, 18 Jan 2024 02:03:04 -0800 (PST)'
    ])
  },
  {
    name: 'gmail to gmail',
    truth: '209.85.220.41',
    why: 'sender and recipient both at google.com: mx.google.com is the inbound edge',
    raw: msg([
      'by 2002:a05:7300:1234:b0:5a1:2b3c:4d5e with SMTP id abcd1234csp567891dyz;\n        Thu, 18 Jan 2024 02:03:05 -0800 (PST)',
      'from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\n        by mx.google.com with SMTPS id x5sor1234567plb.12.2024.01.18.02.03.04\n        for <someone@gmail.com>\n        (Google Transport Security);\n        Thu, 18 Jan 2024 02:03:04 -0800 (PST)',
      'by 2002:a17:902:e1:b0:1d4:5f6:789 with SMTP id x1mr1234567plb.12.1705572184123;\n        Thu, 18 Jan 2024 02:03:04 -0800 (PST)'
    ])
  },
  {
    name: 'gmail user through smtp.gmail.com to a Postfix recipient',
    truth: '209.85.167.54',
    why: 'the Gmail outbound relay is the entry; the ESMTPSA hop below is the sender\'s side',
    raw: msg([
      `from mail-lf1-f54.google.com (mail-lf1-f54.google.com [209.85.167.54])\n\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits))\n\tby mx.home.example (Postfix) with ESMTPS id J1\n\tfor <taro@home.example>; ${tail(4)}`,
      `by mail-lf1-f54.google.com with SMTP id 2adb3069b0e04-50e7b273409so1234567e87.1\n        for <taro@home.example>; ${tail(3)}`,
      `from [192.168.1.10] ([203.0.113.8])\n        by smtp.gmail.com with ESMTPSA id v12-20020ac25b0c000000b0050e7a1234sm123456lfn.12.2024.01.15.02.00.02\n        for <taro@home.example>; ${tail(2)}`
    ])
  },
  {
    name: 'fetchmail from the provider\'s POP3 server',
    truth: '198.51.100.60',
    why: 'the recipient\'s own fetchmail writes "from host [ip]"; walk past it into the provider',
    raw: msg([
      `from pop.isp.example [203.0.113.10]\n\tby localhost with POP3 (fetchmail-6.4.37)\n\tfor <taro@localhost> (single-drop); ${tail(8)}`,
      `from mx02.isp.example (mx02.isp.example [203.0.113.12])\n\tby mbox01.isp.example (Postfix) with ESMTP id K2\n\tfor <taro@isp.example>; ${tail(5)}`,
      `from mail.sender.example (mail.sender.example [198.51.100.60])\n\tby mx02.isp.example (Postfix) with ESMTP id K1\n\tfor <taro@isp.example>; ${tail(4)}`
    ])
  },
  {
    name: 'fetchmail re-injecting through the local Postfix',
    truth: '198.51.100.61',
    why: 'loopback re-injection, then the fetchmail retrieval, then the provider',
    raw: msg([
      `from localhost (localhost [127.0.0.1])\n\tby home.lan (Postfix) with ESMTP id L3\n\tfor <taro@localhost>; ${tail(9)}`,
      `from pop.isp.example [203.0.113.10]\n\tby localhost with IMAP (fetchmail-6.4.37)\n\tfor <taro@localhost> (single-drop); ${tail(8)}`,
      `from sender.example (sender.example [198.51.100.61])\n\tby pop.isp.example (Postfix) with ESMTPS id L1\n\tfor <taro@isp.example>; ${tail(4)}`
    ])
  },
  {
    name: 'gmail\'s mail fetcher (POP3) from an old provider',
    truth: '198.51.100.62',
    why: 'the retrieval is by the recipient\'s own Gmail account',
    raw: msg([
      `from pop.isp.example [203.0.113.10]\n        by mx.google.com with POP3 id a1mf1234567qkb.12\n        for <taro@gmail.com>\n        (single-drop); ${tail(9)}`,
      `from out.sender.example (out.sender.example [198.51.100.62])\n\tby pop.isp.example (Postfix) with ESMTP id M1\n\tfor <taro@isp.example>; ${tail(4)}`
    ])
  },
  {
    name: 'the recipient\'s own forwarder (alias at a university)',
    truth: '203.0.113.90',
    why: 'relay.univ.example received it for taro@univ.example and forwarded it to taro@home.example',
    raw: msg([
      `from relay.univ.example (relay.univ.example [198.51.100.80])\n\tby mx.home.example (Postfix) with ESMTPS id N2\n\tfor <taro@home.example>; ${tail(5)}`,
      `from mail.sender.example (mail.sender.example [203.0.113.90])\n\tby relay.univ.example (Postfix) with ESMTP id N1\n\tfor <taro@univ.example>; ${tail(4)}`
    ])
  },
  {
    name: 'mailman list: the list server is the entry',
    truth: '188.166.95.178',
    why: 'a list re-sends the mail; the poster\'s hops are below the list',
    raw: msg([
      `from mail.python.org (mail.python.org [188.166.95.178])\n\tby mx.home.example (Postfix) with ESMTPS id P3\n\tfor <taro@home.example>; ${tail(6)}`,
      `from mail.python.org (localhost [127.0.0.1])\n\tby mail.python.org (Postfix) with ESMTP id P2\n\tfor <taro@home.example>; ${tail(5)}`,
      `from poster.example (poster.example [203.0.113.77])\n\tby mail.python.org (Postfix) with ESMTPS id P1\n\tfor <python-list@python.org>; ${tail(4)}`
    ], ['List-Id: General discussion list <python-list.python.org>', 'X-Mailman-Version: 2.1.39', 'Sender: "Python-list" <python-list-bounces@python.org>'])
  },
  {
    name: 'ocn: public addresses between the provider\'s own servers',
    truth: '203.0.113.45',
    why: 'OCN relays internally on public addresses with forward-confirmed names in ocn.ad.jp',
    raw: msg([
      `from mf-smf-ucb028c2.ocn.ad.jp (mf-smf-ucb028c2.ocn.ad.jp [153.153.66.164])\n\tby mf-ucb029.ocn.ad.jp (Postfix) with ESMTP id Q3\n\tfor <taro@ocn.ne.jp>; ${tail(6)}`,
      `from mx-ucb029c2.ocn.ad.jp (mx-ucb029c2.ocn.ad.jp [153.153.66.133])\n\tby mf-smf-ucb028c2.ocn.ad.jp (Postfix) with ESMTP id Q2\n\tfor <taro@ocn.ne.jp>; ${tail(5)}`,
      `from mail.sender.example (mail.sender.example [203.0.113.45])\n\tby mx-ucb029c2.ocn.ad.jp (Postfix) with ESMTPS id Q1\n\tfor <taro@ocn.ne.jp>; ${tail(4)}`
    ])
  },
  {
    name: 'biglobe: virus filter hop on a public address',
    truth: '203.0.113.46',
    why: 'internal filter with a verified name in biglobe.ne.jp',
    raw: msg([
      `from vc-filter01.mail.biglobe.ne.jp (vc-filter01.mail.biglobe.ne.jp [133.205.8.10])\n\tby mbox-gw01.mail.biglobe.ne.jp (Postfix) with ESMTP id R2\n\tfor <taro@kym.biglobe.ne.jp>; ${tail(6)}`,
      `from smtp.sender.example (smtp.sender.example [203.0.113.46])\n\tby vc-filter01.mail.biglobe.ne.jp (Postfix) with ESMTP id R1\n\tfor <taro@kym.biglobe.ne.jp>; ${tail(4)}`
    ])
  },
  {
    name: 'yahoo! japan webmail sender (NNFMP) to a Postfix recipient',
    truth: '182.22.12.34',
    why: 'Yahoo! JAPAN writes "from [ip] by host with NNFMP" below its outbound relay',
    raw: msg([
      `from sonic301-21.consmr.mail.kks.yahoo.co.jp (sonic301-21.consmr.mail.kks.yahoo.co.jp [182.22.12.34])\n\tby mx.home.example (Postfix) with ESMTPS id S2\n\tfor <taro@home.example>; ${tail(5)}`,
      `from sonic.gate.mail.kks.yahoo.co.jp by sonic301.consmr.mail.kks.yahoo.co.jp with HTTP; ${tail(4)}`,
      `from [126.0.0.5] by nmxx.mail.kks.yahoo.co.jp with NNFMP; ${tail(3)}`
    ])
  },
  {
    name: 'yahoo! japan mailbox: EHLO comment and a bare address',
    truth: '203.0.113.47',
    why: 'Yahoo\'s inbound MTA writes "(EHLO name) (ip)"',
    raw: msg([
      `from [127.0.0.1] by nm501.mail.kks.yahoo.co.jp with NNFMP; ${tail(5)}`,
      `from mail.sender.example (EHLO mail.sender.example) (203.0.113.47)\n  by mta501.mail.kks.yahoo.co.jp with SMTPS; ${tail(4)}`
    ])
  },
  {
    name: 'docomo: provider gateway with a private address inside',
    truth: '203.0.113.48',
    why: 'the carrier\'s gateway relays inward from a 10/8 address',
    raw: msg([
      `from mgw01.docomo.ne.jp (mgw01.docomo.ne.jp [10.120.1.5])\n\tby mbox01.docomo.ne.jp (Postfix) with ESMTP id T2\n\tfor <taro@docomo.ne.jp>; ${tail(5)}`,
      `from mail.sender.example (mail.sender.example [203.0.113.48])\n\tby mgw01.docomo.ne.jp (Postfix) with ESMTP id T1\n\tfor <taro@docomo.ne.jp>; ${tail(4)}`
    ])
  },
  {
    name: 'xserver: a spammer claiming the host\'s name in HELO from a dynamic address',
    truth: '198.51.100.99',
    why: 'HELO inside the recipient\'s organisation, reverse DNS outside',
    raw: msg([`from sv1234.xserver.jp (p1234-ipngn.tokyo.ocn.ne.jp [198.51.100.99])\n\tby sv1234.xserver.jp (Postfix) with ESMTP id U1\n\tfor <taro@home.example>; ${tail(4)}`])
  },
  {
    name: 'unknown software with two addresses in the from comments',
    truth: null,
    ambiguous: true,
    why: 'no format says which bracket the receiver wrote: mxprobe must say it cannot tell',
    raw: msg([`from spam.example ([192.0.2.1]) ([198.51.100.9]) by mx.home.example with ESMTP id V1; ${tail(4)}`])
  }
]
