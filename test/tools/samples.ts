// Header samples written from each MTA's documented Received format (Postfix
// smtpd_received_header, Exim's received_header_text default, sendmail's
// HReceived macro, qmail-smtpd / qmail-inject, Exchange Online, Gmail), with
// documentation addresses (RFC 5737 / RFC 3849) for the public hops.
// Japanese subjects are encoded here with iconv-lite so the encoded-words are
// genuine: ISO-2022-JP is JIS X 0208 in 7 bits, i.e. EUC-JP bytes with the
// high bit cleared between ESC $ B and ESC ( B.
import iconv from 'iconv-lite'

/** ISO-2022-JP bytes of a text made of ASCII and JIS X 0208 characters, built from EUC-JP. */
export function iso2022jp (text: string): Buffer {
  const out: number[] = []
  let kanji = false
  for (const ch of text) {
    if (ch.codePointAt(0)! < 0x80) {
      if (kanji) { out.push(0x1b, 0x28, 0x42); kanji = false }
      out.push(ch.codePointAt(0)!)
      continue
    }
    const euc = iconv.encode(ch, 'euc-jp')
    if (euc.length !== 2 || euc[0] < 0xa1) throw new Error(`${ch} is not in JIS X 0208`)
    if (!kanji) { out.push(0x1b, 0x24, 0x42); kanji = true }
    out.push(euc[0] & 0x7f, euc[1] & 0x7f)
  }
  if (kanji) out.push(0x1b, 0x28, 0x42)
  return Buffer.from(out)
}

export function encodedWord (text: string, charset: 'ISO-2022-JP' | 'Shift_JIS' | 'EUC-JP' | 'UTF-8', enc: 'B' | 'Q' = 'B'): string {
  const bytes = charset === 'ISO-2022-JP' ? iso2022jp(text) : iconv.encode(text, charset === 'Shift_JIS' ? 'shift_jis' : charset.toLowerCase())
  if (enc === 'B') return `=?${charset}?B?${bytes.toString('base64')}?=`
  const q = [...bytes].map((b) => (b > 0x20 && b < 0x7f && b !== 0x3d && b !== 0x3f && b !== 0x5f) ? String.fromCharCode(b) : b === 0x20 ? '_' : '=' + b.toString(16).toUpperCase().padStart(2, '0')).join('')
  return `=?${charset}?Q?${q}?=`
}

export const JA_SUBJECT = '【重要】会議の日程について'
export const JA_NAME = '山田太郎'

/** Postfix relay → Postfix MX at a Japanese home server, with a LAN hop inside. */
export const POSTFIX = [
  'Return-Path: <taro@example.co.jp>',
  'Delivered-To: hanako@home.example.jp',
  'Received: from mx.home.example.jp (localhost [127.0.0.1])',
  '\tby mx.home.example.jp (Postfix) with ESMTP id 4TqXyZ0abcz1234',
  '\tfor <hanako@home.example.jp>; Mon, 15 Jan 2024 19:00:07 +0900 (JST)',
  'Received: from gw.home.example.jp (gw.home.example.jp [192.168.1.2])',
  '\tby mx.home.example.jp (Postfix) with ESMTP id 4TqXyZ0abcz1111',
  '\tfor <hanako@home.example.jp>; Mon, 15 Jan 2024 19:00:05 +0900 (JST)',
  'Received: from smtp.example.co.jp (smtp.example.co.jp [203.0.113.25])',
  '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)',
  '\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)',
  '\t(No client certificate requested)',
  '\tby gw.home.example.jp (Postfix) with ESMTPS id 4TqXyY6pQrz9876',
  '\tfor <hanako@home.example.jp>; Mon, 15 Jan 2024 19:00:04 +0900 (JST)',
  'Received: from [192.168.10.5] (unknown [198.51.100.77])',
  '\t(Authenticated sender: taro)',
  '\tby smtp.example.co.jp (Postfix) with ESMTPSA id 4TqXyY1AbCz5555',
  '\tfor <hanako@home.example.jp>; Mon, 15 Jan 2024 19:00:02 +0900 (JST)',
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.co.jp;',
  '\ts=default; t=1705312802; h=from:to:subject:date:message-id;',
  '\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AbCdEf0123456789',
  'Authentication-Results: mx.home.example.jp; dkim=pass (2048-bit key) header.d=example.co.jp header.s=default header.b=AbCdEf01;',
  '\tspf=pass (mx.home.example.jp: domain of taro@example.co.jp designates 203.0.113.25 as permitted sender) smtp.mailfrom=taro@example.co.jp;',
  '\tdmarc=pass (p=none dis=none) header.from=example.co.jp',
  `From: ${encodedWord(JA_NAME, 'ISO-2022-JP')} <taro@example.co.jp>`,
  'To: hanako@home.example.jp',
  `Subject: ${encodedWord(JA_SUBJECT, 'ISO-2022-JP')}`,
  'Date: Mon, 15 Jan 2024 19:00:01 +0900',
  'Message-ID: <20240115190001.ABC123@example.co.jp>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=ISO-2022-JP',
  'Content-Transfer-Encoding: 7bit',
  '',
  'body line'
].join('\r\n')

/** Exim (Debian default received_header_text) receiving from the internet, then local delivery. */
export const EXIM = [
  'Received: from Debian-exim by mail.example.org with local (Exim 4.96)',
  '\t(envelope-from <news@shop.example.net>)',
  '\tid 1rPqRs-000ABC-Zx',
  '\tfor bob@example.org; Tue, 16 Jan 2024 10:20:32 +0000',
  'Received: from out.shop.example.net ([192.0.2.44]:41234 helo=mta7.shop.example.net)',
  '\tby mail.example.org with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384',
  '\t(Exim 4.96)',
  '\t(envelope-from <bounce+abc@bounces.shop.example.net>)',
  '\tid 1rPqRs-000ABC-Yw',
  '\tfor bob@example.org; Tue, 16 Jan 2024 10:20:31 +0000',
  'From: "Shop" <news@shop.example.net>',
  'Reply-To: orders@another.example',
  'Return-Path: <bounce+abc@bounces.shop.example.net>',
  'To: bob@example.org',
  `Subject: ${encodedWord('セール開催中', 'UTF-8', 'Q')}`,
  'Date: Tue, 16 Jan 2024 10:20:30 +0000'
].join('\n')

/** Sendmail with STARTTLS (the {verify} macros) and a sendmail submission hop. */
export const SENDMAIL = [
  'Received: from relay.example.com (relay.example.com [198.51.100.10])',
  '\tby mx.example.net (8.17.1/8.17.1) with ESMTPS id 40GAB1cd012345',
  '\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)',
  '\tfor <carol@example.net>; Tue, 16 Jan 2024 11:00:09 +0100',
  'Received: from localhost (localhost [127.0.0.1])',
  '\tby relay.example.com (8.17.1/8.17.1/Submit) id 40GAB0ab012300;',
  '\tTue, 16 Jan 2024 11:00:05 +0100',
  'From: Dave <dave@example.com>',
  'To: carol@example.net',
  `Subject: ${encodedWord('お知らせ', 'Shift_JIS')}`,
  'Date: Tue, 16 Jan 2024 11:00:04 +0100'
].join('\n')

/** qmail: qmail-smtpd from the network (HELO in a comment), then qmail-inject invoked lines. */
export const QMAIL = [
  'Received: (qmail 22341 invoked by uid 89); 17 Jan 2024 03:04:10 -0000',
  'Received: (qmail 22338 invoked from network); 17 Jan 2024 03:04:09 -0000',
  'Received: from unknown (HELO mail.sender.example) (203.0.113.99)',
  '  by mx.qmail.example with SMTP; 17 Jan 2024 03:04:09 -0000',
  'From: someone@sender.example',
  'To: user@qmail.example',
  `Subject: ${encodedWord('テスト', 'EUC-JP')}`,
  'Date: 17 Jan 2024 03:04:01 -0000'
].join('\n')

/** Exchange Online: inbound through EOP, then internal hops between mailbox servers, IPv6 addresses. */
export const MICROSOFT = [
  'Received: from TYCPR01MB8000.jpnprd01.prod.outlook.com (2603:1096:400:1::10) by',
  ' OS3PR01MB9000.jpnprd01.prod.outlook.com with HTTPS; Wed, 17 Jan 2024 01:02:05',
  ' +0000',
  'Received: from TY2PEPF0000AB12.JPNP286.PROD.OUTLOOK.COM (2603:1096:405:1::5) by',
  ' TYCPR01MB8000.jpnprd01.prod.outlook.com (2603:1096:400:1::10) with Microsoft SMTP',
  ' Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id',
  ' 15.20.7181.26; Wed, 17 Jan 2024 01:02:04 +0000',
  'Received: from mail.partner.example (192.0.2.200) by',
  ' TY2PEPF0000AB12.mail.protection.outlook.com (10.167.241.10) with Microsoft SMTP',
  ' Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id',
  ' 15.20.7202.16 via Frontend Transport; Wed, 17 Jan 2024 01:02:03 +0000',
  'Received-SPF: Pass (protection.outlook.com: domain of partner.example designates',
  ' 192.0.2.200 as permitted sender) receiver=protection.outlook.com;',
  ' client-ip=192.0.2.200; helo=mail.partner.example; pr=C',
  'Authentication-Results: spf=pass (sender IP is 192.0.2.200)',
  ' smtp.mailfrom=partner.example; dkim=none (message not signed)',
  ' header.d=none;dmarc=fail action=quarantine header.from=partner.example;compauth=fail reason=000',
  'From: Partner <info@partner.example>',
  'To: staff@corp.example',
  'Subject: Invoice',
  'Date: Wed, 17 Jan 2024 01:02:00 +0000'
].join('\r\n')

/** Gmail receiving from an outside server over TLS, then its internal hop (no from, IPv6 by). */
export const GMAIL = [
  'Delivered-To: someone@gmail.com',
  'Received: by 2002:a05:7300:1234:b0:5a1:2b3c:4d5e with SMTP id abcd1234csp567890dyz;',
  '        Thu, 18 Jan 2024 02:03:05 -0800 (PST)',
  'X-Received: by 2002:a17:902:e1:b0:1d4:5f6:789 with SMTP id x1-20020a1709020001b0041d45f60789mr1234567plb.12.1705572185123;',
  '        Thu, 18 Jan 2024 02:03:05 -0800 (PST)',
  'ARC-Seal: i=1; a=rsa-sha256; t=1705572185; cv=none; d=google.com; s=arc-20160816; b=AbC',
  'ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=google.com; s=arc-20160816; h=from:to; bh=x; b=y',
  'ARC-Authentication-Results: i=1; mx.google.com; dkim=pass header.i=@news.example header.s=s1 header.b=Zz;',
  '       spf=pass (google.com: domain of bounce@news.example designates 198.51.100.5 as permitted sender) smtp.mailfrom=bounce@news.example;',
  '       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=news.example',
  'Return-Path: <bounce@news.example>',
  'Received: from mta.news.example (mta.news.example. [198.51.100.5])',
  '        by mx.google.com with ESMTPS id a12-20020a170902e00000b001d4c1234abcsi1234567plb.123.2024.01.18.02.03.04',
  '        for <someone@gmail.com>',
  '        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);',
  '        Thu, 18 Jan 2024 02:03:04 -0800 (PST)',
  'Received-SPF: pass (google.com: domain of bounce@news.example designates 198.51.100.5 as permitted sender) client-ip=198.51.100.5;',
  'Authentication-Results: mx.google.com;',
  '       dkim=pass header.i=@news.example header.s=s1 header.b=Zz;',
  '       spf=pass (google.com: domain of bounce@news.example designates 198.51.100.5 as permitted sender) smtp.mailfrom=bounce@news.example;',
  '       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=news.example',
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=news.example; s=s1; h=from:to:subject; bh=x; b=Zz',
  'From: "support@bank.example" <notice@news.example>',
  'To: someone@gmail.com',
  `Subject: ${encodedWord('ご利用確認', 'ISO-2022-JP')} ${encodedWord('のお願い', 'ISO-2022-JP')}`,
  'Date: Thu, 18 Jan 2024 10:03:03 +0000'
].join('\n')
