// Advice for the SMTP server check and the receive test: what a reply or a
// failed step means for a home mail server, and what to change, most
// likely fix first. Postfix names are given because it is what the
// tutorial this service grew from uses; the idea carries to any MTA.
import type { AdviceCatalogue } from '../index.js'
import { dayText } from '../dates.js'

const list = (v: unknown): string => Array.isArray(v) ? v.join(', ') : String(v ?? '')

export const SMTP_ADVICE: AdviceCatalogue = {
  'smtp.reply': {
    en: (p) => `At ${p.stage}, the server answered "${p.reply}". ${p.en}`,
    ja: (p) => `${p.stage} に対してサーバーは「${p.reply}」と応答しました。${p.ja}`
  },
  'smtp.greylisted': {
    en: (p) => `Your server greylisted the test mail ("${p.reply}"). That is not a fault: greylisting turns away the first attempt from an unknown sender, and real senders retry after a few minutes. Run the receive test again in 5 to 15 minutes; it should then be accepted. If you do not want the delay for mxprobe, whitelist its address ${p.helo} in your greylisting software.`,
    ja: (p) => `あなたのサーバーはテストメールをグレイリスティングで一旦拒否しました (「${p.reply}」)。故障ではありません。知らない送信元からの最初の配送を断り、通常の送信サーバーは数分後に再送します。5〜15 分後にもう一度受信テストを実行すると受け付けられるはずです。遅延が不要なら、グレイリスティングのソフトで mxprobe (${p.helo}) をホワイトリストに登録してください。`
  },
  'smtp.rcpt_unknown': {
    en: (p) => `The server says the mailbox ${p.address} does not exist ("${p.reply}"). Check the spelling of the user name; that the user exists on the server (a system user, or an entry in virtual_mailbox_maps / aliases); and that the server treats ${p.domain} as its own domain (Postfix: mydestination, or virtual_mailbox_domains). Run "postmap" after editing a map and reload the server.`,
    ja: (p) => `サーバーはメールボックス ${p.address} が存在しないと応答しました (「${p.reply}」)。ユーザー名の綴り、そのユーザーがサーバーに存在するか (システムユーザー、または virtual_mailbox_maps やエイリアスの登録)、サーバーが ${p.domain} を自分のドメインとして扱っているか (Postfix なら mydestination または virtual_mailbox_domains) を確認してください。マップを編集したら postmap を実行し、サーバーを再読み込みしてください。`
  },
  'smtp.rcpt_refused': {
    en: (p) => `The server refused the recipient ${p.address} ("${p.reply}"). "Relay access denied" means the server does not consider ${p.domain} its own: add it to mydestination (or virtual_mailbox_domains) in Postfix. Other policy refusals come from restrictions such as smtpd_recipient_restrictions, a blacklist (RBL) lookup of mxprobe's address, or reject_unknown_client_hostname.`,
    ja: (p) => `サーバーは宛先 ${p.address} を拒否しました (「${p.reply}」)。「Relay access denied」なら、サーバーは ${p.domain} を自分のドメインと見なしていません。Postfix の mydestination (または virtual_mailbox_domains) に追加してください。その他の拒否は smtpd_recipient_restrictions などの制限、mxprobe のアドレスのブラックリスト (RBL) 照会、reject_unknown_client_hostname などが原因です。`
  },
  'smtp.mail_refused': {
    en: (p) => `The server refused mxprobe's sender address ${p.from} ("${p.reply}"). Your server checks senders strictly (sender address verification, SPF, or a sender restriction); real mail from other domains may be refused the same way. Check smtpd_sender_restrictions and the server's log for the reason.`,
    ja: (p) => `サーバーは mxprobe の送信者アドレス ${p.from} を拒否しました (「${p.reply}」)。送信者の検証 (送信者アドレス確認、SPF、送信者制限) が厳しく、他のドメインからの正当なメールも同様に拒否される可能性があります。smtpd_sender_restrictions とサーバーのログで理由を確認してください。`
  },
  'smtp.data_refused': {
    en: (p) => `The server refused the message itself after receiving it ("${p.reply}"). Content filters (spam or virus scanners, milters, header_checks, body_checks) or a size limit usually cause this; the server's mail log names the rule.`,
    ja: (p) => `サーバーはメール本文を受け取った後に拒否しました (「${p.reply}」)。迷惑メール・ウイルス対策のフィルター、milter、header_checks / body_checks、サイズの上限が主な原因です。サーバーのメールログに該当する規則が記録されています。`
  },
  'smtp.banner_refused': {
    en: (p) => `The server greeted with a refusal ("${p.reply}"): it does not want to talk to mxprobe at all. It may block the tester's IP (blacklist, country filter, postscreen, fail2ban), or be configured to refuse all connections.`,
    ja: (p) => `サーバーは接続直後に拒否の応答をしました (「${p.reply}」)。mxprobe の IP をブロックしている (ブラックリスト、国別フィルター、postscreen、fail2ban など) か、すべての接続を拒否する設定になっています。`
  },
  'smtp.helo_only': {
    en: () => 'The server does not understand EHLO and was greeted with HELO: it offers no extensions (no STARTTLS, no SIZE, no 8BITMIME). Mail servers have spoken ESMTP since 1995; this is very old software or something in between (a router\'s "SMTP guard") filtering the dialogue.',
    ja: () => 'サーバーは EHLO に対応していないため HELO で挨拶しました。拡張機能 (STARTTLS、SIZE、8BITMIME) が使えません。1995 年以降のメールサーバーは ESMTP に対応しているので、非常に古いソフトか、途中の機器 (ルーターの SMTP ガード機能など) が通信を書き換えています。'
  },
  'smtp.no_starttls': {
    en: () => 'The server does not offer STARTTLS, so mail reaches it unencrypted. Enable TLS: get a certificate for the MX host name (Let\'s Encrypt works for home servers) and set in Postfix smtpd_tls_cert_file, smtpd_tls_key_file and smtpd_tls_security_level = may.',
    ja: () => 'サーバーが STARTTLS を提供していないため、メールは暗号化されずに届きます。MX ホスト名の証明書を取得し (自宅サーバーでも Let\'s Encrypt が使えます)、Postfix なら smtpd_tls_cert_file、smtpd_tls_key_file、smtpd_tls_security_level = may を設定してください。'
  },
  'smtp.starttls_failed': {
    en: (p) => `STARTTLS is offered but does not work: ${p.reason}. Senders that try TLS first may fall back to plain text or give up. Check the certificate and key files named in the server configuration (readable by the server, key matching the certificate) and the server log.`,
    ja: (p) => `STARTTLS は提供されていますが機能しません: ${p.reason}。TLS を先に試す送信側は、暗号化なしに切り替えるか配送を諦めます。設定した証明書と秘密鍵のファイル (サーバーが読めるか、鍵と証明書が対応しているか) とサーバーのログを確認してください。`
  },
  'smtp.cert_self_signed': {
    en: (p) => `The certificate (${p.subject}) is self-signed. Sending servers accept it for opportunistic STARTTLS on port 25, but nothing proves the server is yours, and senders that honour an MTA-STS policy refuse it. A free certificate from Let's Encrypt for ${p.host} fixes this; or, in a DNSSEC-signed zone, a DANE-EE TLSA record ("3 1 1" at _25._tcp.${p.host}) is the standard way to make exactly this certificate trusted by DANE senders.`,
    ja: (p) => `証明書 (${p.subject}) は自己署名です。25 番ポートの STARTTLS では送信側はそのまま受け入れますが、サーバーの正当性は証明されず、MTA-STS のポリシーに従う送信側には拒否されます。${p.host} の証明書を Let's Encrypt で無料で取得すると解決します。ゾーンを DNSSEC で署名しているなら、DANE-EE の TLSA レコード (_25._tcp.${p.host} に「3 1 1」) を公開するのが、この証明書を DANE 対応の送信側に信頼させる標準の方法です。`
  },
  'smtp.cert_untrusted': {
    en: (p) => `The certificate chain could not be verified (${p.reason}). Install the intermediate certificates too (Postfix: use the "fullchain" file in smtpd_tls_cert_file).`,
    ja: (p) => `証明書チェーンを検証できません (${p.reason})。中間証明書も設定してください (Postfix の smtpd_tls_cert_file には「fullchain」のファイルを指定します)。`
  },
  'smtp.cert_expired': {
    en: (p) => `The certificate expired on ${dayText(p.validTo, 'en')}. Renew it (certbot renew) and reload the mail server so it reads the new file.`,
    ja: (p) => `証明書は ${dayText(p.validTo, 'ja')} に期限切れになっています。更新し (certbot renew など)、新しいファイルを読み込むようメールサーバーを再読み込みしてください。`
  },
  'smtp.cert_expiring': {
    en: (p) => `The certificate expires in ${p.days} days (${dayText(p.validTo, 'en')}). Make sure automatic renewal works and that the mail server is reloaded after it.`,
    ja: (p) => `証明書はあと ${p.days} 日 (${dayText(p.validTo, 'ja')}) で期限切れになります。自動更新が動いているか、更新後にメールサーバーを再読み込みしているかを確認してください。`
  },
  'smtp.cert_name_mismatch': {
    en: (p) => `The certificate is for ${list(p.names)}, not for the MX host name ${p.host}. Get a certificate that includes ${p.host}.`,
    ja: (p) => `証明書は ${list(p.names)} 用で、MX ホスト名 ${p.host} を含んでいません。${p.host} を含む証明書を取得してください。`
  },
  'smtp.banner_name_mismatch': {
    en: (p) => `The server introduces itself as "${p.banner}", but the reverse DNS of ${p.ip} is ${p.ptr || 'missing'}${p.host ? ` and the MX is ${p.host}` : ''}. Not an error, but set myhostname (Postfix) to the name your IP resolves to, so that your server's greeting and HELO match what receivers see in DNS.`,
    ja: (p) => `サーバーは「${p.banner}」と名乗っていますが、${p.ip} の逆引きは ${p.ptr || 'ありません'}${p.host ? `、MX は ${p.host} です` : ''}。エラーではありませんが、Postfix の myhostname を IP の逆引き名に合わせると、挨拶や HELO が DNS と一致します。`
  },
  'smtp.postmaster_refused': {
    en: (p) => `The server refused "RCPT TO:<postmaster>" ("${p.reply}"). RFC 5321 §4.5.1 requires every SMTP server to accept mail for postmaster without a domain: add a postmaster alias (Postfix: "postmaster: root" in /etc/aliases, then newaliases).`,
    ja: (p) => `サーバーは「RCPT TO:<postmaster>」を拒否しました (「${p.reply}」)。RFC 5321 4.5.1 節は、ドメインなしの postmaster 宛てを必ず受け付けるよう定めています。postmaster のエイリアスを設定してください (Postfix なら /etc/aliases に「postmaster: root」を書き、newaliases を実行)。`
  },
  'smtp.utf8_unsupported': {
    en: (p) => `The address ${p.address} has non-ASCII characters before the @, but the server does not offer SMTPUTF8 (RFC 6531), so no sender can deliver to it. Use an ASCII user name, or enable SMTPUTF8 (Postfix 3: smtputf8_enable = yes).`,
    ja: (p) => `アドレス ${p.address} の @ より前に ASCII 以外の文字がありますが、サーバーが SMTPUTF8 (RFC 6531) を提供していないため、誰もこの宛先に配送できません。ASCII のユーザー名を使うか、SMTPUTF8 を有効にしてください (Postfix 3 なら smtputf8_enable = yes)。`
  },
  'smtp.size_small': {
    en: (p) => `The server accepts messages of at most ${p.size} bytes (about ${p.mb} MB). Photos and documents often exceed this; consider raising message_size_limit (Postfix default is 10 MB; many providers accept 25 MB or more).`,
    ja: (p) => `サーバーが受け付けるメールの大きさは最大 ${p.size} バイト (約 ${p.mb} MB) です。写真や文書の添付で超えることがあります。message_size_limit を大きくすることを検討してください (Postfix の既定値は 10 MB、多くのプロバイダは 25 MB 以上)。`
  },
  'smtp.short_deadlines': {
    en: (p) => `mxprobe waits ${p.banner} s for the greeting and ${p.command} s for each reply, shorter than RFC 5321 §4.5.3.2 asks of senders (5 minutes for the greeting, MAIL and RCPT, 10 minutes after the message). A server that is slower than mxprobe's limits but within the RFC's still receives mail from patient senders; most large senders do not wait that long either.`,
    ja: (p) => `mxprobe は挨拶を ${p.banner} 秒、各応答を ${p.command} 秒まで待ちます。RFC 5321 4.5.3.2 節が送信側に求める待ち時間 (挨拶・MAIL・RCPT は 5 分、本文の後は 10 分) より短い設定です。mxprobe の制限より遅くても RFC の範囲内なら、気長な送信側からのメールは届きます (大手の送信側もそこまでは待たないことが多いです)。`
  },
  'smtp.unreachable_checklist': {
    en: (p) => `mxprobe could not talk to a mail server at ${p.ip} port 25 (${p.what}). Check, in this order: (1) the mail server is running and listens on port 25 on all addresses, not only 127.0.0.1 ("ss -ltnp | grep :25"; Postfix: inet_interfaces = all); (2) your router forwards TCP port 25 to the server's LAN address, and that address is fixed (DHCP reservation); (3) no firewall or antivirus program on the server blocks port 25 (ufw, firewalld, Windows Defender Firewall, security suites); (4) your ISP does not block inbound port 25 — some home plans do; their support page or a call tells you, and a business plan or a relay service is the usual way around it; (5) your dynamic-DNS record points to this line: mxprobe tested ${p.ip} because DNS says so, but if you have several lines or your IP just changed, update the dynamic-DNS client.`,
    ja: (p) => `${p.ip} の 25 番ポートのメールサーバーと通信できませんでした (${p.what})。次の順に確認してください。(1) メールサーバーが起動していて、127.0.0.1 だけでなく全アドレスの 25 番で待ち受けているか (「ss -ltnp | grep :25」、Postfix なら inet_interfaces = all)。(2) ルーターが TCP 25 番をサーバーの LAN アドレスへ転送しているか、そのアドレスが固定されているか (DHCP の予約)。(3) サーバーのファイアウォールやウイルス対策ソフト (ufw、firewalld、Windows Defender ファイアウォール、セキュリティソフト) が 25 番を遮断していないか。(4) プロバイダが 25 番への着信を遮断していないか (家庭向けプランで遮断する事業者があります。サポートページや問い合わせで確認でき、法人プランや中継サービスの利用が一般的な対処です)。(5) ダイナミック DNS がこの回線を指しているか。mxprobe は DNS が示す ${p.ip} をテストしましたが、複数の回線がある場合や IP が変わったばかりの場合は、更新ソフトで更新してください。`
  },
  'smtp.tls_broken_receive': {
    en: (p) => `The TLS handshake after STARTTLS failed (${p.reason}). Many senders then retry without TLS, some give up. Fix the certificate and key configuration, or stop offering STARTTLS until it works.`,
    ja: (p) => `STARTTLS 後の TLS ハンドシェイクに失敗しました (${p.reason})。多くの送信側は暗号化なしで再試行しますが、配送を諦める送信側もあります。証明書と秘密鍵の設定を直すか、直るまで STARTTLS の提供を止めてください。`
  }
}
