// Advice for the ports, POP3, open-relay and role-mailbox checks: what a
// finding means for a home mail server and what to change, most likely
// fix first.
import type { AdviceCatalogue } from '../index.js'
import { dayText } from '../dates.js'

export const PROBES_ADVICE: AdviceCatalogue = {
  // ---- ports
  'ports.refused': {
    en: (p) => `Port ${p.port} on ${p.ip} refused the connection: the packet reached a machine, but nothing listens on that port there. Either the service is not running (or listens only on 127.0.0.1), or your router does not forward port ${p.port} to the server's LAN address, so the router itself answered.`,
    ja: (p) => `${p.ip} のポート ${p.port} への接続は拒否されました。パケットは届いていますが、そのポートで待ち受けているプログラムがありません。サービスが起動していない (または 127.0.0.1 だけで待ち受けている) か、ルーターがポート ${p.port} をサーバーの LAN アドレスへ転送していないため、ルーター自身が応答しています。`
  },
  'ports.filtered': {
    en: (p) => `Port ${p.port} on ${p.ip} did not answer at all (filtered): the connection attempt was silently dropped. A firewall on the server, the router's packet filter, or your ISP blocks it. If you do not run this service, that is fine.`,
    ja: (p) => `${p.ip} のポート ${p.port} はまったく応答しませんでした (フィルタ)。接続要求が途中で破棄されています。サーバーのファイアウォール、ルーターのパケットフィルタ、またはプロバイダが遮断しています。このサービスを動かしていないなら問題ありません。`
  },
  'ports.filtered_25': {
    en: (p) => `Port 25 on ${p.ip} did not answer (filtered). Without it, no other mail server can deliver to you. Check in this order: the router forwards TCP 25 to the server; the server's firewall allows inbound 25; your ISP does not block inbound port 25 (many home plans do: look for the ISP's "Outbound/Inbound Port 25 Blocking" page; some lift it on request or with a fixed-IP plan).`,
    ja: (p) => `${p.ip} のポート 25 が応答しません (フィルタ)。このままでは他のメールサーバーから配送できません。ルーターが TCP 25 をサーバーへ転送しているか、サーバーのファイアウォールが受信 25 番を許可しているか、プロバイダが 25 番ポートを遮断していないか (「OP25B」「IP25B」などの案内を確認。申請や固定 IP プランで解除できる場合があります) を順に確認してください。`
  },
  'ports.cleartext_pop3': {
    en: (p) => `POP3 on port 110 of ${p.ip} is reachable, but neither POP3S (995) nor STLS is available: passwords travel in clear text over the internet. Enable TLS in the POP3 server (e.g. Dovecot: ssl = required, ssl_cert/ssl_key) and use port 995, or close port 110 to the outside.`,
    ja: (p) => `${p.ip} のポート 110 (POP3) に外部から接続できますが、POP3S (995) も STLS も使えません。パスワードが平文でインターネットを流れます。POP3 サーバーで TLS を有効にし (Dovecot なら ssl = required と ssl_cert/ssl_key)、995 番を使うか、110 番を外部に閉じてください。`
  },
  'ports.cleartext_imap': {
    en: (p) => `IMAP on port 143 of ${p.ip} is reachable without IMAPS (993) or STARTTLS: passwords travel in clear text. Enable TLS and use port 993, or close 143 to the outside.`,
    ja: (p) => `${p.ip} のポート 143 (IMAP) は IMAPS (993) も STARTTLS もなしで外部に公開されており、パスワードが平文で流れます。TLS を有効にして 993 番を使うか、143 番を外部に閉じてください。`
  },
  'ports.tls_failed': {
    en: (p) => `Port ${p.port} accepts connections but the TLS handshake failed (${p.reason}). Port ${p.port} expects TLS from the first byte; a plain-text service configured there, or a missing certificate, causes this.`,
    ja: (p) => `ポート ${p.port} は接続を受け付けますが、TLS ハンドシェイクに失敗しました (${p.reason})。このポートでは最初から TLS で話す必要があります。平文のサービスが設定されているか、証明書が設定されていない可能性があります。`
  },
  'ports.none_open': {
    en: (p) => `None of the tested ports is reachable on ${p.ip}. Either this is not the network your server is on, the router forwards nothing to it, or the ISP blocks inbound connections (some mobile and CGNAT connections cannot host servers at all).`,
    ja: (p) => `${p.ip} ではテストしたポートがどれも開いていません。サーバーのあるネットワークではないか、ルーターが何も転送していないか、プロバイダが着信接続を遮断しています (携帯回線や CGNAT の回線ではサーバーを公開できないことがあります)。`
  },

  // ---- POP3
  'pop3.not_pop3': {
    en: (p) => `Port ${p.port} did not greet like a POP3 server (it sent "${p.line}"). Another program listens there, or the router forwards the port to the wrong machine.`,
    ja: (p) => `ポート ${p.port} の応答が POP3 サーバーのものではありません ("${p.line}")。別のプログラムが待ち受けているか、ルーターの転送先が違います。`
  },
  'pop3.no_stls': {
    en: () => 'The POP3 server on port 110 does not offer STLS. Unless you use port 995 only, enable TLS (Dovecot: ssl = yes with a certificate) so mail programs can protect the password.',
    ja: () => 'ポート 110 の POP3 サーバーが STLS に対応していません。995 番だけを使うのでなければ、TLS を有効にしてください (Dovecot なら ssl = yes と証明書の設定)。メールソフトがパスワードを保護できるようになります。'
  },
  'pop3.stls_failed': {
    en: (p) => `STLS is advertised but did not work: ${p.reason}. Check the certificate and key files in the POP3 server's configuration and its log.`,
    ja: (p) => `STLS が広告されていますが、使えませんでした: ${p.reason}。POP3 サーバーの証明書と鍵の設定、およびログを確認してください。`
  },
  'pop3.no_995': {
    en: (p) => `Port 995 (POP3 over TLS) is not reachable (${p.state}). Port 110 with STLS is fine too; if your mail program is set to "SSL/TLS" on 995, open and forward 995.`,
    ja: (p) => `ポート 995 (TLS 上の POP3) に接続できません (${p.state})。110 番と STLS でも問題ありませんが、メールソフトが 995 番の「SSL/TLS」を使う設定なら、995 番を開いて転送してください。`
  },
  'pop3.cleartext_login': {
    en: () => 'The server offers USER/PASS (or PLAIN/LOGIN) on port 110 before TLS: a mail program can send the password in clear text. Require TLS before login (Dovecot: disable_plaintext_auth = yes, or ssl = required).',
    ja: () => 'ポート 110 で TLS の前に USER/PASS (または PLAIN/LOGIN) が使えるため、メールソフトがパスワードを平文で送れてしまいます。ログイン前に TLS を必須にしてください (Dovecot なら disable_plaintext_auth = yes または ssl = required)。'
  },
  'pop3.cert_self_signed': {
    en: (p) => `The certificate on port ${p.port} is self-signed (${p.subject}). Mail programs will warn or refuse. A free certificate from Let's Encrypt for your host name fixes this.`,
    ja: (p) => `ポート ${p.port} の証明書は自己署名です (${p.subject})。メールソフトが警告を出すか接続を拒否します。ホスト名に対して Let's Encrypt などの無料証明書を取得すると解決します。`
  },
  'pop3.cert_expired': {
    en: (p) => `The certificate on port ${p.port} expired on ${dayText(p.validTo, 'en')}. Renew it (e.g. certbot renew) and reload the POP3 server.`,
    ja: (p) => `ポート ${p.port} の証明書は ${dayText(p.validTo, 'ja')} に期限切れです。更新して (certbot renew など) POP3 サーバーを再読み込みしてください。`
  },
  'pop3.cert_name_mismatch': {
    en: (p) => `The certificate on port ${p.port} does not name ${p.host} (it names ${p.names}). Mail programs that connect to ${p.host} will warn.`,
    ja: (p) => `ポート ${p.port} の証明書に ${p.host} が含まれていません (含まれる名前: ${p.names})。${p.host} に接続するメールソフトは警告を出します。`
  },
  'pop3.login_ok': {
    en: (p) => `Login as ${p.user} over TLS worked; the mailbox holds ${p.messages} messages (${p.octets} octets). mxprobe ran only STAT: nothing was read or deleted.`,
    ja: (p) => `TLS 上で ${p.user} としてのログインに成功しました。メールボックスには ${p.messages} 通 (${p.octets} オクテット) あります。mxprobe は STAT だけを実行し、メールの読み出しや削除はしていません。`
  },
  'pop3.login_failed': {
    en: (p) => `Login as ${p.user} was refused (${p.reply}). Check the user name (some servers want the full address, some only the local part) and the password; the server's log says which.`,
    ja: (p) => `${p.user} としてのログインは拒否されました (${p.reply})。ユーザー名 (完全なアドレスか、@ より前だけか はサーバーにより異なります) とパスワードを確認してください。サーバーのログに理由が出ます。`
  },
  'pop3.login_needs_tls': {
    en: () => 'The login test was not run: mxprobe sends a password only over TLS, and neither STLS on 110 nor port 995 worked.',
    ja: () => 'ログインテストは実行しませんでした。mxprobe はパスワードを TLS 上でしか送りません。110 番の STLS も 995 番も使えませんでした。'
  },
  'pop3.quit_unclean': {
    en: (p) => `The server did not end the session cleanly after QUIT (${p.reason}). Harmless for reading mail, but a sign of a proxy or a buggy server.`,
    ja: (p) => `QUIT の後、サーバーが正常にセッションを終了しませんでした (${p.reason})。受信には支障ありませんが、間に何かが入っているかサーバーの不具合の可能性があります。`
  },

  // ---- open relay
  'relay.open': {
    en: (p) => `Open relay: the server accepted mail to an outside address at RCPT (${p.count} attempt${p.count === 1 ? '' : 's'}, e.g. ${p.examples}). Some servers accept first and bounce later, but spammers will find and abuse such a server within hours and your IP will be blacklisted. Postfix: keep mynetworks to 127.0.0.0/8 (and your LAN only, never 0.0.0.0/0 or your whole provider range) and use smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination. Exim: relay_from_hosts only 127.0.0.1 and your LAN, and the "accept hosts = +relay_from_hosts" line before "require verify = recipient" in the RCPT ACL. Other servers: allow relaying only for authenticated users and your own LAN.${Number(p.notTried) > 0 ? ` (mxprobe stopped there: a server that relays plain mail is open whatever the address tricks show, so the other ${p.notTried} attempts were not tried.)` : ''}`,
    ja: (p) => `オープンリレー: 外部宛てのメールが RCPT の段階で受け付けられました (${p.count} 件、例: ${p.examples})。受け付けた後でエラーメールを返すサーバーもありますが、このようなサーバーはすぐにスパム送信者に見つかって悪用され、IP がブラックリストに載ります。Postfix では mynetworks を 127.0.0.0/8 (と自宅 LAN) だけにし (0.0.0.0/0 やプロバイダの範囲全体は不可)、smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination としてください。Exim では relay_from_hosts を 127.0.0.1 と自宅 LAN だけにしてください。他のサーバーでも、中継は認証済みユーザーと自宅 LAN だけに許可してください。${Number(p.notTried) > 0 ? `(細工のない外部宛てメールを第三者中継する時点で、アドレスの細工の結果にかかわらずオープンリレーなので、残り ${p.notTried} 件は試していません。)` : ''}`
  },
  'relay.open_trick': {
    en: (p) => `${p.count} address trick${p.count === 1 ? ' was' : 's were'} accepted (${p.forms}). Such "%", "!", "@…@" or source-route addresses can make a server forward mail to ${p.outside}. Postfix rejects them with reject_unauth_destination and allow_percent_hack = no / swap_bangpath = no on a public server; Exim's default RCPT ACL denies local parts with @, %, ! and /; for other servers, disable percent-hack and UUCP bang-path routing.`,
    ja: (p) => `アドレスの細工 ${p.count} 件が受け付けられました (${p.forms})。このような「%」「!」「@…@」やソースルートのアドレスは、サーバーに ${p.outside} への転送をさせることがあります。Postfix では reject_unauth_destination と、公開サーバーでは allow_percent_hack = no、swap_bangpath = no で拒否できます。Exim の標準の RCPT ACL は @ % ! / を含むローカル部を拒否します。他のサーバーでもパーセントハックと UUCP のバンパス経路を無効にしてください。`
  },
  'relay.untested': {
    en: (p) => `${p.count} of ${p.total} relay attempts could not be tried: the server refused their sender (${p.reply}) and accepted no other sender to try them with. They count neither as refused nor as accepted; if the server refuses every sender from outside, it also refuses ordinary incoming mail — check the MAIL FROM rules (sender verification, SPF at MAIL).`,
    ja: (p) => `${p.total} 件中 ${p.count} 件の中継テストは実施できませんでした。サーバーが差出人を拒否し (${p.reply})、代わりに使える差出人も受け付けなかったためです。これらは「拒否」にも「受付」にも数えていません。外部からの差出人をすべて拒否しているなら、普通の受信メールも届きません。MAIL FROM の制限 (差出人の検証や MAIL 段階の SPF) を確認してください。`
  },
  'relay.mynetworks_hint': {
    en: (p) => `The relay was accepted from mxprobe's address ${p.ip}, which is your own IP as the server sees it. If your router rewrites the source address (NAT loopback / hairpin) or mynetworks includes your public address or a whole range, outside senders may look "local" too: keep mynetworks to the LAN and 127.0.0.0/8.`,
    ja: (p) => `中継はアドレス ${p.ip} (サーバーから見たあなた自身の IP) からの接続で受け付けられました。ルーターが送信元を書き換えている (NAT ループバック) か、mynetworks にグローバル IP や広い範囲が含まれていると、外部の送信者も「内部」に見えることがあります。mynetworks は LAN と 127.0.0.0/8 だけにしてください。`
  },
  'relay.auth_required': {
    en: (p) => `The server answered ${p.reply} (authentication required) before any relay test could run. That usually means it does not relay for strangers, but it also means it may refuse ordinary incoming mail on port 25: mail from other servers arrives without authentication. Require authentication only on the submission port 587.`,
    ja: (p) => `リレーテストの前にサーバーが ${p.reply} (認証が必要) と応答しました。他人のメールを中継しないという意味では安全ですが、25 番ポートで通常の受信まで拒否している可能性があります。他のサーバーからのメールは認証なしで届くため、認証の要求は 587 番 (サブミッション) だけにしてください。`
  },
  'relay.temporary': {
    en: (p) => `${p.count} relay attempts were refused only temporarily (4xx, e.g. ${p.reply}). The server did not say "never": greylisting or a temporary error hides the real policy. Run the test again in a few minutes; a closed server answers 5xx (e.g. "554 Relay access denied").`,
    ja: (p) => `${p.count} 件のリレーテストが一時的なエラー (4xx、例: ${p.reply}) で拒否されました。「永久に拒否」ではないため、グレイリスティングや一時エラーで本当の設定がわかりません。数分後に再テストしてください。中継を許可しないサーバーは 5xx (例: "554 Relay access denied") を返します。`
  },
  'relay.closed': {
    en: (p) => `All ${p.count} relay attempts were refused: the server is not an open relay.`,
    ja: (p) => `${p.count} 件のリレーテストがすべて拒否されました。オープンリレーではありません。`
  },

  // ---- role mailboxes
  'roles.required_missing': {
    en: (p) => `${p.address} was refused (${p.reply}). Every mail domain must accept mail for ${p.address} (${p.rfc}): other administrators write there about problems with your server, and some blacklists check it. Create it as an alias of a mailbox you read (Postfix: /etc/aliases "${p.local}: you", then newaliases; or virtual_alias_maps).`,
    ja: (p) => `${p.address} が拒否されました (${p.reply})。メールドメインは ${p.address} 宛てのメールを受け付ける必要があります (${p.rfc})。他のサーバー管理者が問題を連絡する宛先で、これを確認するブラックリストもあります。普段読むメールボックスへのエイリアスとして作成してください (Postfix なら /etc/aliases に「${p.local}: あなたのユーザー名」と書いて newaliases、または virtual_alias_maps)。`
  },
  'roles.recommended_missing': {
    en: (p) => `${p.addresses} ${p.many ? 'were' : 'was'} refused. RFC 2142 recommends these role addresses; forward them all to one real mailbox so reports reach you.`,
    ja: (p) => `${p.addresses} が拒否されました。RFC 2142 はこれらの役割アドレスを推奨しています。すべて一つの実際のメールボックスへ転送し、連絡が届くようにしてください。`
  },
  'roles.auth_required': {
    en: (p) => `The server demanded authentication (${p.reply}) before accepting any recipient on port 25, so the role addresses could not be tested. Other mail servers never authenticate when they deliver to you: require authentication only on the submission port 587.`,
    ja: (p) => `サーバーが 25 番ポートで宛先を受け付ける前に認証を要求したため (${p.reply})、役割アドレスをテストできませんでした。他のメールサーバーは配送時に認証しません。認証の要求はサブミッションポート 587 だけにしてください。`
  },
  'roles.temporary': {
    en: (p) => `${p.address} got a temporary answer (${p.reply}); greylisting or a temporary error. Try again in a few minutes.`,
    ja: (p) => `${p.address} に一時的なエラー (${p.reply}) が返りました。グレイリスティングか一時的なエラーです。数分後に再テストしてください。`
  }
}
