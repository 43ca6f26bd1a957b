// Findings of the forensics tools (header analyzer, garbled-text repair):
// what a person reading a suspicious or garbled mail should make of them.
import type { AdviceCatalogue } from '../index.js'
import { timeText } from '../dates.js'

export const TOOLS_ADVICE: AdviceCatalogue = {
  'tools.headers.no_received': {
    en: () => 'No Received: header was found. Paste the complete header block (in most mail programs: "show original" or "view source"), not only From/To/Subject.',
    ja: () => 'Received: ヘッダーが見つかりません。From/To/Subject だけでなく、ヘッダー全体 (メールソフトの「ソースを表示」「オリジナルを表示」など) を貼り付けてください。'
  },
  'tools.headers.unparsed_received': {
    en: (p) => `${p.count} Received: header(s) could not be read; they are shown as they are.`,
    ja: (p) => `読み取れない Received: ヘッダーが ${p.count} 件あります。そのまま表示しています。`
  },
  'tools.headers.out_of_order': {
    en: (p) => `Hop ${p.hop} is stamped ${p.seconds} s earlier than the hop before it. The clocks of those two servers disagree slightly, or a header was forged.`,
    ja: (p) => `経路 ${p.hop} の時刻が、ひとつ前の経路より ${p.seconds} 秒早くなっています。2 台のサーバーの時計がわずかにずれているか、ヘッダーが偽造されています。`
  },
  'tools.headers.clock_skew': {
    en: (p) => `Hop ${p.hop} is stamped ${p.seconds} s (${p.minutes} min) earlier than the hop before it: one of those servers has a wrong clock or time zone, or the older header was forged. If it is your own server, enable NTP (chrony, systemd-timesyncd).`,
    ja: (p) => `経路 ${p.hop} の時刻が、ひとつ前の経路より ${p.seconds} 秒 (${p.minutes} 分) 早くなっています。どちらかのサーバーの時計またはタイムゾーンが狂っているか、古い側のヘッダーが偽造されています。自分のサーバーなら NTP (chrony、systemd-timesyncd) を有効にしてください。`
  },
  'tools.headers.future_date': {
    en: (p) => `Hop ${p.hop} is stamped in the future (${timeText(p.date, 'en')}). That server's clock is wrong, or the header is forged.`,
    ja: (p) => `経路 ${p.hop} の時刻が未来になっています (${timeText(p.date, 'ja')})。そのサーバーの時計が狂っているか、ヘッダーが偽造されています。`
  },
  'tools.headers.long_delay': {
    en: (p) => `Hop ${p.hop} took ${p.minutes} minutes. The mail waited in a queue there (greylisting, a server that was down, or a retry after a temporary error).`,
    ja: (p) => `経路 ${p.hop} で ${p.minutes} 分かかっています。そこでキューに滞留していました (グレイリスティング、停止中のサーバー、一時エラー後の再送など)。`
  },
  'tools.headers.private_ip': {
    en: (p) => `Hop ${p.hop} names ${p.ip}, a ${p.range} address. That is normal inside one organisation (a LAN relay, a local filter); it cannot be where mail from the internet came from.`,
    ja: (p) => `経路 ${p.hop} に ${p.ip} (${p.range}) が記録されています。組織内 (LAN 内の中継やローカルのフィルター) では普通のことですが、インターネットからの送信元ではありえません。`
  },
  'tools.headers.reserved_ip': {
    en: (p) => `Hop ${p.hop} names ${p.ip}, a ${p.range} address that is never used on the internet: that line was forged, or the message is a test.`,
    ja: (p) => `経路 ${p.hop} に ${p.ip} (${p.range}) が記録されています。インターネットでは使われないアドレスなので、その行は偽造されたものか、テスト用のメールです。`
  },
  'tools.headers.origin': {
    en: (p) => `The mail most likely entered the recipient's servers from ${p.ip}${p.host ? ` (${p.host})` : ''} at hop ${p.hop}. Everything below that hop was written by the sender's side and may be forged; report abuse to the owner of ${p.ip}.`,
    ja: (p) => `このメールは経路 ${p.hop} で ${p.ip}${p.host ? ` (${p.host})` : ''} から受信側のサーバーに入ったと考えられます。それより下のヘッダーは送信側が書いたもので、偽造されている可能性があります。迷惑メールの苦情は ${p.ip} の管理者へ送ってください。`
  },
  'tools.headers.origin_internal': {
    en: () => 'Every hop is inside the recipient\'s own servers (or on private addresses): the mail was sent from inside, or the header block is incomplete.',
    ja: () => 'すべての経路が受信側のサーバー内 (またはプライベートアドレス) です。内部から送信されたメールか、ヘッダーが一部しか貼り付けられていません。'
  },
  'tools.headers.nul_bytes': {
    en: (p) => `The paste contains ${p.count} NUL byte(s)${p.inHeader ? `, ${p.inHeader} of them in the header block (shown as �)` : ', all after the header block'}. The header block was analysed anyway; the text was damaged on the way (a clipboard, a converter or a mailbox file). Paste the source again from the mail program if something looks wrong.`,
    ja: (p) => `貼り付けたテキストに NUL バイトが ${p.count} 個あります${p.inHeader ? ` (うち ${p.inHeader} 個はヘッダー部分、� で表示)` : ' (すべてヘッダーより後)'}。ヘッダーはそのまま解析しましたが、テキストが途中で壊れています (クリップボード、変換ツール、メールボックスファイルなど)。おかしな点があれば、メールソフトからソースを貼り付け直してください。`
  },
  'tools.headers.ambiguous_peer': {
    en: (p) => `Hop ${p.hop} names several addresses (${p.ips}) and its format does not tell which one the receiving server actually saw. mxprobe does not guess: check that server's logs, or the headers above it.`,
    ja: (p) => `経路 ${p.hop} には複数のアドレス (${p.ips}) が書かれていて、受信サーバーが実際に接続を受けたのがどれか、書式からは判断できません。推測はしません。そのサーバーのログか、上の経路を確認してください。`
  },
  'tools.headers.helo_ip': {
    en: (p) => `At hop ${p.hop} the sender announced ${p.heloIp} in its HELO, but the receiving server saw the connection from ${p.ip}. The address the receiver recorded counts; the HELO is the sender's own claim (a NAT, or a forgery).`,
    ja: (p) => `経路 ${p.hop} で送信側は HELO に ${p.heloIp} と名乗りましたが、受信サーバーが見た接続元は ${p.ip} です。信じてよいのは受信側が記録したアドレスで、HELO は送信側の自己申告です (NAT 環境か偽装)。`
  },
  'tools.headers.from_return_path_mismatch': {
    en: (p) => `The From: domain (${p.from}) differs from the envelope sender (Return-Path: ${p.returnPath}). Mailing lists and newsletter services do this legitimately; in unexpected mail it is a sign of spoofing.`,
    ja: (p) => `From: のドメイン (${p.from}) とエンベロープの送信者 (Return-Path: ${p.returnPath}) が異なります。メーリングリストや配信サービスでは普通ですが、心当たりのないメールではなりすましの兆候です。`
  },
  'tools.headers.reply_to_differs': {
    en: (p) => `Replies would go to ${p.replyTo}, a different domain from the From: address (${p.from}). Check before answering: a classic trick of fraud mail.`,
    ja: (p) => `返信先 (Reply-To: ${p.replyTo}) が From: (${p.from}) と別のドメインです。返信する前に確認してください。詐欺メールの典型的な手口です。`
  },
  'tools.headers.display_name_address': {
    en: (p) => `The From: display name shows the address ${p.shown}, but the mail really comes from ${p.address}. This is a common phishing disguise.`,
    ja: (p) => `From: の表示名にはアドレス ${p.shown} が書かれていますが、実際の送信者は ${p.address} です。フィッシングによくある偽装です。`
  },
  'tools.headers.dkim_not_aligned': {
    en: (p) => `No DKIM signature is from the From: domain ${p.from} (signed by: ${p.domains}). DMARC alignment needs a signature by the same organisation as From:.`,
    ja: (p) => `From: のドメイン ${p.from} による DKIM 署名がありません (署名ドメイン: ${p.domains})。DMARC のアラインメントには From: と同じ組織の署名が必要です。`
  },
  'tools.headers.no_dkim': {
    en: () => 'The message carries no DKIM signature. Mail from large providers is always signed; unsigned mail claiming to be from one is suspicious.',
    ja: () => 'DKIM 署名がありません。大手のメールサービスからのメールは必ず署名されています。大手を名乗る無署名のメールは疑わしいものです。'
  },
  'tools.headers.auth_fail': {
    en: (p) => `${p.authserv} reports ${String(p.method).toUpperCase()}=${p.result}${p.reason ? ` (${p.reason})` : ''}.`,
    ja: (p) => `${p.authserv} の判定: ${String(p.method).toUpperCase()}=${p.result}${p.reason ? ` (${p.reason})` : ''}。`
  },
  'tools.headers.several_authserv': {
    en: (p) => `Authentication-Results headers come from several servers (${p.ids}). Trust only the topmost one written by the recipient's own server; lower ones may be added by the sender.`,
    ja: (p) => `Authentication-Results が複数のサーバーから付いています (${p.ids})。受信側のサーバーが付けた一番上のものだけを信用してください。下のものは送信者が付け加えた可能性があります。`
  },
  'tools.headers.truncated': {
    en: (p) => `Only the first ${p.max} header fields were analysed.`,
    ja: (p) => `先頭の ${p.max} 個のヘッダーだけを解析しました。`
  },
  'tools.mojibake.unchanged': {
    en: () => 'The text already reads as it is; no conversion made it more plausible.',
    ja: () => 'テキストはそのままで読める状態です。変換しても改善する候補はありませんでした。'
  },
  'tools.mojibake.lossy': {
    en: (p) => `The best repair is incomplete: ${p.lost} character(s) were destroyed when the text was first decoded wrongly (shown as �). Ask the sender to resend, or open the original message source with the right character set.`,
    ja: (p) => `最良の候補でも ${p.lost} 文字が復元できません (� で表示)。最初に誤った文字コードで読んだ時点で失われています。再送を頼むか、元のメールのソースを正しい文字コードで開いてください。`
  }
}
