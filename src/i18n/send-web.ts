// The send test page's wording, in both languages (the rest of the site's
// wording is in web.ts; kept apart so the two pages can change separately).
import type { Lang } from './index.js'

const en = {
  title: 'Send test',
  h1: 'Send test: what a receiver sees when your server sends',
  intro: 'The other half of the opening test: your server sends one mail to a one-time address of mxprobe. mxprobe shows what a receiving mail server on the internet sees: from which IP it came, its reverse DNS, the HELO name, encryption, SPF, DKIM, DMARC, block lists and the headers.',
  fieldDomain: 'Your mail domain (the sender\'s domain)',
  fieldDomainHint: 'e.g. example.com: the domain your server sends mail as',
  fieldReply: 'Reply to me: when the mail arrives, mxprobe sends the result back to the sender (the whole round trip)',
  fieldReplyHint: 'The reply goes only to your own server: when the MX of the sender\'s domain is your IP address.',
  start: 'Get a test address',
  whatHappens: (ip: string, minutes: number) => `What will happen: mxprobe gives you an address that works once, for ${minutes} minutes. mxprobe itself connects nowhere, unless you ask for the reply: then it connects only to your own IP address ${ip}, port 25.`,
  off: 'The send test is off on this server: its operator has not set up the inbound SMTP listener (INBOUND_LISTEN). The other checks work.',
  step1: '1. Send a mail to this address',
  step1Explain: 'Send it from your own mail server (not from a web mail service or your ISP\'s mail unless you want to test that route). Any subject and text will do.',
  addressLabel: 'One-time address',
  copy: 'Copy the address',
  copied: 'Copied.',
  copyFailed: 'Could not copy: select the address and copy it by hand.',
  timeLeft: 'Time left',
  expired: 'The time is up.',
  step2: '2. Ready-made commands',
  step2Explain: 'Run one of these on your mail server. They hand the mail to your own server (localhost), which then delivers it as it would deliver to anyone.',
  cmdSendmail: 'sendmail (Postfix, Exim, sendmail)',
  cmdSwaks: 'swaks',
  cmdClient: 'A mail program',
  /** {from} and {address} are filled in by the page (as code) */
  cmdClientText: 'In Thunderbird or another mail program, write a new mail from your account ({from}) to {address}, using your own server as the outgoing (SMTP) server, and send it.',
  step3: '3. Result',
  waiting: 'Waiting for your mail…',
  waitingNoScript: 'Waiting for your mail. This page reloads every few seconds.',
  arrived: 'The mail arrived. Analysing…',
  fullReport: 'The full result with both SMTP dialogues (shareable)',
  again: 'Start another send test',
  notSend: 'This is not a send test.',
  connectionLost: 'The live connection was interrupted; reconnecting…'
}

export type SendWebText = typeof en

const ja: SendWebText = {
  title: '送信テスト',
  h1: '送信テスト: あなたのサーバーが送ったメールは、受信側からどう見えるか',
  intro: '開通テストのもう半分です。あなたのサーバーから mxprobe の使い捨てアドレスへメールを 1 通送ってください。インターネット上の受信サーバーから見た様子 (どの IP から来たか、逆引き、HELO の名前、暗号化、SPF、DKIM、DMARC、ブラックリスト、ヘッダー) を表示します。',
  fieldDomain: 'あなたのメールドメイン (送信者のドメイン)',
  fieldDomainHint: '例: example.com。あなたのサーバーがメールを送るときのドメインです',
  fieldReply: '返信する: メールが届いたら、mxprobe が結果を送信者へ返信します (往復のテスト)',
  fieldReplyHint: '返信はあなた自身のサーバーにだけ送ります。送信者のドメインの MX があなたの IP アドレスのときだけです。',
  start: 'テスト用アドレスを発行',
  whatHappens: (ip: string, minutes: number) => `何が起きるか: ${minutes} 分間・1 回だけ使えるアドレスを発行します。mxprobe からはどこにも接続しません。返信を選んだときだけ、あなたの IP アドレス ${ip} の 25 番ポートに接続します。`,
  off: 'このサーバーでは送信テストは無効です (運用者が受信用の SMTP リスナー INBOUND_LISTEN を設定していません)。他のテストは使えます。',
  step1: '1. このアドレスへメールを送ってください',
  step1Explain: 'あなた自身のメールサーバーから送ってください (Web メールやプロバイダのメールから送ると、その経路のテストになります)。件名と本文は何でもかまいません。',
  addressLabel: '使い捨てアドレス',
  copy: 'アドレスをコピー',
  copied: 'コピーしました。',
  copyFailed: 'コピーできませんでした。アドレスを選択して手動でコピーしてください。',
  timeLeft: '残り時間',
  expired: '時間切れです。',
  step2: '2. そのまま使えるコマンド',
  step2Explain: 'メールサーバー上でどれか 1 つを実行してください。メールをあなた自身のサーバー (localhost) に渡し、サーバーが普段どおりに配送します。',
  cmdSendmail: 'sendmail (Postfix、Exim、sendmail)',
  cmdSwaks: 'swaks',
  cmdClient: 'メールソフト',
  cmdClientText: 'Thunderbird などのメールソフトで、あなたのアカウント ({from}) から {address} 宛てに新しいメールを書き、送信 (SMTP) サーバーにあなた自身のサーバーを指定して送信してください。',
  step3: '3. 結果',
  waiting: 'メールの到着を待っています…',
  waitingNoScript: 'メールの到着を待っています。このページは数秒ごとに再読み込みされます。',
  arrived: 'メールが届きました。解析しています…',
  fullReport: '2 つの SMTP のやりとりを含む詳しい結果 (共有できます)',
  again: '新しい送信テストを始める',
  notSend: 'これは送信テストではありません。',
  connectionLost: 'ライブ接続が切れました。再接続しています…'
}

export function sendWebText (lang: Lang): SendWebText {
  return lang === 'ja' ? ja : en
}
