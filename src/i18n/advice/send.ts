// Advice for the send test: what a receiving mail server on the internet
// sees when the visitor's home server sends, and what a home-server owner
// changes so that large receivers accept the mail. Postfix names are given
// because the tutorial this service grew from uses Postfix.
import type { AdviceCatalogue } from '../index.js'

export const SEND_ADVICE: AdviceCatalogue = {
  'send.via_relay': {
    en: (p) => `The mail came from ${p.ip}, not from your own IP ${p.callerIp}: it went out through another server, most likely your ISP's mail relay (normal when the ISP blocks outbound port 25, OP25B). That is fine, but then the SPF record of ${p.domain} must allow that relay, e.g. "include:" the ISP's SPF or "ip4:${p.ip}"; receivers judge SPF by the IP that connects to them.`,
    ja: (p) => `メールはあなたの IP ${p.callerIp} ではなく ${p.ip} から届きました。別のサーバー、おそらくプロバイダのメールサーバー (リレー) を経由しています。プロバイダが 25 番ポートの外向き通信を遮断している (OP25B) 場合の正しい送り方ですが、その場合は ${p.domain} の SPF レコードでそのリレーを許可してください (プロバイダの SPF を include: する、または ip4:${p.ip} を加える)。受信側は、接続してきた IP で SPF を判定します。`
  },
  'send.not_mx_ip': {
    en: (p) => `The sending IP ${p.ip} is your IP, but it is not an address of any MX host of ${p.domain}. Sending from another address than the MX is allowed; just make sure the SPF record of ${p.domain} covers ${p.ip} ("a", "mx" or "ip4:").`,
    ja: (p) => `送信元 IP ${p.ip} はあなたの IP ですが、${p.domain} の MX ホストのアドレスではありません。MX 以外のアドレスから送ること自体は問題ありませんが、${p.domain} の SPF レコードが ${p.ip} を許可しているか (a、mx、ip4: など) を確認してください。`
  },
  'send.ptr_missing': {
    en: (p) => `${p.ip} has no reverse DNS (PTR). Many receivers (Gmail, Outlook, large ISPs) refuse or junk mail from an address without a PTR. Ask your ISP to set a PTR to your mail server's name (often possible with a fixed-IP plan), or send through your ISP's submission server on port 587 with authentication instead of delivering directly.`,
    ja: (p) => `${p.ip} に逆引き (PTR) が設定されていません。Gmail、Outlook、大手プロバイダなど多くの受信側は、逆引きのない IP からのメールを拒否するか迷惑メール扱いにします。プロバイダにメールサーバー名で逆引きを設定してもらう (固定 IP プランなら多くの場合可能) か、直接配送をやめてプロバイダの送信サーバー (587 番、SMTP 認証) 経由で送ってください。`
  },
  'send.ptr_generic': {
    en: (p) => `The reverse DNS of ${p.ip} is "${p.ptr}", which looks like the ISP's generic name for a home line. Receivers treat mail from such names as coming from a home connection and often refuse it. Ask the ISP for a PTR with your own mail host name (fixed-IP plans), or relay your outgoing mail through the ISP's submission server on port 587.`,
    ja: (p) => `${p.ip} の逆引きは「${p.ptr}」で、プロバイダが家庭向け回線に付ける汎用の名前に見えます。受信側はこのような名前からのメールを一般回線からのものと見なし、拒否することがよくあります。プロバイダに自分のメールサーバー名で逆引きを設定してもらう (固定 IP プラン) か、送信メールをプロバイダの送信サーバー (587 番) 経由にしてください。`
  },
  'send.ptr_missing_v6': {
    en: (p) => `Your server sent over IPv6, from ${p.ip}, and that address has no reverse DNS (PTR). Gmail refuses mail from an IPv6 address without a PTR ("550 5.7.1 … IPv6 … PTR"), and others junk it. On most home IPv6 lines the PTR cannot be set. Then let the server send over IPv4 and keep IPv6 for receiving: Postfix "smtp_address_preference = ipv4" in main.cf (or "inet_protocols = ipv4" to give up IPv6 altogether), then "postfix reload". Where the provider does delegate the ip6.arpa zone, set a PTR to the mail host's name with a matching AAAA.`,
    ja: (p) => `あなたのサーバーは IPv6 (${p.ip}) で送信しましたが、このアドレスには逆引き (PTR) がありません。Gmail は逆引きのない IPv6 アドレスからのメールを拒否し (「550 5.7.1 … IPv6 … PTR」)、ほかの受信側も迷惑メール扱いにします。家庭向けの IPv6 回線では、ほとんどの場合逆引きを設定できません。その場合は、受信には IPv6 を使ったまま、送信だけ IPv4 にしてください。Postfix なら main.cf に「smtp_address_preference = ipv4」を書き (IPv6 をまったく使わないなら「inet_protocols = ipv4」)、「postfix reload」します。プロバイダが ip6.arpa の逆引きを設定させてくれる場合は、メールサーバー名で逆引きを設定し、同じ名前の AAAA レコードも登録してください。`
  },
  'send.spf_no_ip6': {
    en: (p) => `Your server sent over IPv6, from ${p.ip}, but the SPF record of ${p.domain} lists only IPv4 addresses (ip4:), so SPF says ${p.result}. This is the most common cause of Gmail refusing mail over IPv6. Either add the IPv6 side to the record, e.g. "ip6:${p.prefix}" (or "ip6:${p.ip}") before the "-all", or let the server send over IPv4: Postfix "smtp_address_preference = ipv4" in main.cf (or "inet_protocols = ipv4"), then "postfix reload".`,
    ja: (p) => `あなたのサーバーは IPv6 (${p.ip}) で送信しましたが、${p.domain} の SPF レコードには IPv4 のアドレス (ip4:) しかないため、SPF の結果は ${p.result} です。Gmail が IPv6 で届いたメールを拒否する、いちばん多い原因です。SPF レコードの「-all」の前に「ip6:${p.prefix}」(または「ip6:${p.ip}」) を加えるか、送信を IPv4 にしてください。Postfix なら main.cf に「smtp_address_preference = ipv4」(または「inet_protocols = ipv4」) を書き、「postfix reload」します。`
  },
  'send.fcrdns_fail': {
    en: (p) => `The reverse DNS of ${p.ip} is "${p.ptr}", but that name does not resolve back to ${p.ip} (no forward-confirmed reverse DNS). Add an ${p.rr ?? 'A'} record ${p.ptr} → ${p.ip}, or have the PTR changed to a name that has one; receivers check both directions.`,
    ja: (p) => `${p.ip} の逆引きは「${p.ptr}」ですが、その名前を正引きしても ${p.ip} になりません (正引きと逆引きが一致していません)。${p.ptr} の ${p.rr ?? 'A'} レコードを ${p.ip} で登録するか、正引きできる名前に逆引きを変更してもらってください。受信側は両方向を確認します。`
  },
  'send.helo_mismatch': {
    en: (p) => `Your server introduced itself as "${p.helo}" (HELO/EHLO), but that name does not resolve to ${p.ip}. Set Postfix's myhostname (used in EHLO, smtp_helo_name) to the fully qualified name of your mail server whose A record is ${p.ip}, ideally the same as the PTR.`,
    ja: (p) => `あなたのサーバーは HELO/EHLO で「${p.helo}」と名乗りましたが、その名前は ${p.ip} に正引きできません。Postfix の myhostname (EHLO で使われます。smtp_helo_name) を、A レコードが ${p.ip} を指すメールサーバーの FQDN に設定してください。逆引きと同じ名前が理想です。`
  },
  'send.helo_invalid': {
    en: (p) => `Your server introduced itself as "${p.helo}", which is not a fully qualified domain name. Many receivers reject such a HELO (Postfix: reject_non_fqdn_helo_hostname). Set myhostname in main.cf to your mail server's full name, e.g. mail.example.jp.`,
    ja: (p) => `あなたのサーバーは「${p.helo}」と名乗りましたが、これは FQDN (完全なドメイン名) ではありません。多くの受信側はこのような HELO を拒否します (Postfix の reject_non_fqdn_helo_hostname など)。main.cf の myhostname を mail.example.jp のような完全な名前に設定してください。`
  },
  'send.dnsbl_dynamic': {
    en: (p) => `${p.ip} is listed in ${p.zone} as a dynamic or end-user address (${p.reason || p.answer}). That is a policy list, not a sign of spam: it says mail should not come directly from home lines. Most large receivers use it. Send your outgoing mail through your ISP's submission server on port 587 with authentication (Postfix: relayhost = [smtp.your-isp.example]:587 with smtp_sasl_auth_enable), or get a fixed IP whose owner can delist it.`,
    ja: (p) => `${p.ip} は ${p.zone} に動的 IP・一般回線のアドレスとして登録されています (${p.reason || p.answer})。迷惑メールの送信元という意味ではなく、「家庭向け回線から直接メールを送るべきではない」というポリシーのリストです。大手の受信側の多くが参照しています。送信メールはプロバイダの送信サーバー (587 番、SMTP 認証) 経由にしてください (Postfix なら relayhost = [プロバイダの SMTP サーバー]:587 と smtp_sasl_auth_enable)。固定 IP なら登録解除を申請できる場合があります。`
  },
  'send.dnsbl_listed': {
    en: (p) => `${p.ip} is listed in the block list ${p.zone} (${p.reason || p.answer}). Receivers that use it will refuse your mail. Read the listing's reason on the list's web site, fix the cause (an infected machine, an open relay, a misconfigured server), then request delisting there.`,
    ja: (p) => `${p.ip} はブラックリスト ${p.zone} に登録されています (${p.reason || p.answer})。このリストを使う受信側はあなたのメールを拒否します。リストの Web サイトで登録理由を確認し、原因 (ウイルス感染した機器、第三者中継、設定の誤り) を直してから登録解除を申請してください。`
  },
  'send.spf_none': {
    en: (p) => `${p.domain} publishes no SPF record, so receivers cannot tell which servers may send its mail; Gmail and others junk or refuse such mail. Add a TXT record to ${p.domain}, e.g. "v=spf1 ip4:${p.ip} -all" (or "v=spf1 mx -all" when you send from the MX; add "include:" your ISP's SPF when you relay through it).`,
    ja: (p) => `${p.domain} に SPF レコードがないため、受信側はどのサーバーがこのドメインのメールを送ってよいか判断できません。Gmail などは迷惑メール扱いにするか拒否します。${p.domain} に TXT レコード「v=spf1 ip4:${p.ip} -all」を追加してください (MX から送るなら「v=spf1 mx -all」、プロバイダ経由で送るならそのプロバイダの SPF を include: で加えます)。`
  },
  'send.spf_fail': {
    en: (p) => `SPF for ${p.domain} says ${p.ip} may not send its mail (result: ${p.result}). Receivers will junk or refuse the mail. Add the sending address to the record ("ip4:${p.ip}", "a:your.mail.host" or "include:" the ISP relay's SPF) and check the record with the DNS check.`,
    ja: (p) => `${p.domain} の SPF では ${p.ip} からの送信が許可されていません (結果: ${p.result})。受信側は迷惑メール扱いにするか拒否します。SPF レコードに送信元を加えてください (ip4:${p.ip}、a:メールサーバー名、またはプロバイダのリレーの SPF を include:)。`
  },
  'send.spf_error': {
    en: (p) => `The SPF record of ${p.domain} could not be evaluated (${p.result}${p.reason ? ': ' + p.reason : ''}). A syntax error, two SPF records, or more than 10 DNS lookups cause this; receivers then treat the mail as unauthenticated. Publish exactly one TXT record starting with "v=spf1".`,
    ja: (p) => `${p.domain} の SPF レコードを評価できませんでした (${p.result}${p.reason ? ': ' + p.reason : ''})。書式の誤り、SPF レコードが 2 つある、DNS 参照が 10 回を超える、などが原因です。受信側は認証のないメールとして扱います。「v=spf1」で始まる TXT レコードを 1 つだけ公開してください。`
  },
  'send.dkim_none': {
    en: (p) => `The mail carries no DKIM signature. Large receivers (Gmail since 2024) expect senders to sign; without it, DMARC can pass only through SPF, which breaks when mail is forwarded. Sign outgoing mail with OpenDKIM or rspamd (a milter for Postfix) and publish the public key as a TXT record selector._domainkey.${p.domain}.`,
    ja: (p) => `メールに DKIM 署名がありません。大手の受信側 (2024 年以降の Gmail など) は送信者が署名することを求めています。署名がないと DMARC は SPF だけで判定され、転送されたときに失敗します。OpenDKIM や rspamd (Postfix の milter) で送信メールに署名し、公開鍵をセレクタ._domainkey.${p.domain} の TXT レコードとして公開してください。`
  },
  'send.dkim_fail': {
    en: (p) => `The DKIM signature of ${p.domain} (selector ${p.selector}) does not verify (${p.result}${p.reason ? ': ' + p.reason : ''}). Either the public key in DNS (${p.selector}._domainkey.${p.domain}) does not match the signing key, or the message was changed after signing (a filter adding a footer or re-encoding the body).`,
    ja: (p) => `${p.domain} の DKIM 署名 (セレクタ ${p.selector}) を検証できません (${p.result}${p.reason ? ': ' + p.reason : ''})。DNS の公開鍵 (${p.selector}._domainkey.${p.domain}) が署名に使った鍵と対応していないか、署名後にメールが書き換えられています (フッターを付け足すフィルター、本文の再エンコードなど)。`
  },
  'send.dmarc_none': {
    en: (p) => `${p.domain} publishes no DMARC record. Gmail and Yahoo require one from bulk senders and rate mail without it lower. Start with a TXT record _dmarc.${p.domain} "v=DMARC1; p=none; rua=mailto:postmaster@${p.domain}", then tighten to p=quarantine once SPF and DKIM pass.`,
    ja: (p) => `${p.domain} に DMARC レコードがありません。Gmail や Yahoo は送信者に DMARC を求めており、ないメールの評価は下がります。まず _dmarc.${p.domain} に TXT レコード「v=DMARC1; p=none; rua=mailto:postmaster@${p.domain}」を追加し、SPF と DKIM が通るようになったら p=quarantine に強めてください。`
  },
  'send.dmarc_fail': {
    en: (p) => `DMARC for ${p.domain} fails (policy: ${p.policy}): neither a passing SPF nor a passing DKIM signature is aligned with the From: domain. ${p.policy === 'reject' ? 'Receivers will refuse this mail.' : p.policy === 'quarantine' ? 'Receivers will put this mail into the spam folder.' : 'With p=none receivers only report it, but rate the mail lower.'} Make SPF pass for the envelope sender of the same domain, or sign with DKIM as d=${p.domain}.`,
    ja: (p) => `${p.domain} の DMARC が失敗しました (ポリシー: ${p.policy})。From: のドメインと一致する SPF も DKIM 署名も通っていません。${p.policy === 'reject' ? '受信側はこのメールを拒否します。' : p.policy === 'quarantine' ? '受信側はこのメールを迷惑メールフォルダに入れます。' : 'p=none なので受信側は報告するだけですが、評価は下がります。'} 同じドメインのエンベロープ送信者で SPF を通すか、d=${p.domain} で DKIM 署名してください。`
  },
  'send.no_tls': {
    en: () => 'Your server sent the mail without STARTTLS, although mxprobe offered it: the mail crossed the internet unencrypted, and Gmail marks such mail with a red open lock. In Postfix set smtp_tls_security_level = may (and smtp_tls_CApath or smtp_tls_CAfile), then reload.',
    ja: () => 'mxprobe は STARTTLS を提供しましたが、あなたのサーバーは暗号化せずに送信しました。メールは暗号化されずにインターネットを通り、Gmail では赤い鍵のマークが付きます。Postfix なら smtp_tls_security_level = may (と smtp_tls_CApath または smtp_tls_CAfile) を設定して再読み込みしてください。'
  },
  'send.tls_old': {
    en: (p) => `Your server used ${p.version}, which is outdated; receivers are dropping it. Update OpenSSL/Postfix, or set smtp_tls_protocols = >=TLSv1.2.`,
    ja: (p) => `あなたのサーバーは ${p.version} を使いました。古い方式で、受信側は対応をやめつつあります。OpenSSL と Postfix を更新するか、smtp_tls_protocols = >=TLSv1.2 を設定してください。`
  },
  'send.no_charset': {
    en: () => 'A text part of the mail declares no charset although it contains non-ASCII bytes: receivers and mail programs must guess, and Japanese text then shows as mojibake. Have the mail program declare it (Content-Type: text/plain; charset=UTF-8 or ISO-2022-JP).',
    ja: () => 'メールの本文に ASCII 以外の文字が含まれていますが、文字コード (charset) が宣言されていません。受信側やメールソフトが推測するしかなく、日本語が文字化けします。送信するメールソフトで文字コードを宣言してください (Content-Type: text/plain; charset=UTF-8 や ISO-2022-JP)。'
  },
  'send.headers_missing': {
    en: (p) => `The mail lacks a well-formed ${p.fields} field (RFC 5322). Gmail refuses such mail ("550 5.7.1 … not RFC 5322 compliant"), and Yahoo asks for RFC 5322 too. A mail program adds these fields itself; a script that pipes text into sendmail often does not. In Postfix, "always_add_missing_headers = yes" in main.cf adds a missing Message-ID, Date and From to every mail it passes on ("postfix reload"); otherwise have the script write them.`,
    ja: (p) => `メールに正しい形式の ${p.fields} ヘッダーがありません (RFC 5322)。Gmail はこのようなメールを拒否し (「550 5.7.1 … not RFC 5322 compliant」)、Yahoo も RFC 5322 に従うことを求めています。メールソフトなら自分で付けますが、スクリプトから sendmail に本文を流し込む場合は付かないことがよくあります。Postfix なら main.cf に「always_add_missing_headers = yes」を書いて「postfix reload」すると、ない Message-ID・Date・From を付けてくれます。スクリプト側で書き出してもかまいません。`
  },
  'send.from_gmail': {
    en: (p) => `The mail's From address is at ${p.domain}, but it was sent from your own server. ${p.domain} publishes DMARC with p=quarantine or reject, so Gmail and others junk or refuse it: it looks like an impersonation. Send from an address of your own domain, or send through Gmail itself (smtp.gmail.com, port 587, with an app password).`,
    ja: (p) => `From のアドレスが ${p.domain} ですが、あなたのサーバーから直接送られています。${p.domain} は DMARC で p=quarantine か reject を公開しているため、Gmail などはなりすましとみなして迷惑メール扱いにするか拒否します。自分のドメインのアドレスから送るか、Gmail の送信サーバー (smtp.gmail.com の 587 番、アプリ パスワード) 経由で送ってください。`
  },
  'send.arc_fail': {
    en: (p) => `The mail carries an ARC chain (RFC 8617) that does not verify: ${p.result}${p.reason ? ` (${p.reason})` : ''}. ARC tells a receiver that a forwarder checked the mail before it changed it (a mailing list adding a footer, a gateway). A broken chain counts for nothing, and Gmail asks forwarders for a valid one. Check the ARC signing key and its DNS record on the forwarding server (for example OpenARC's KeyFile and the _domainkey TXT record), or stop adding ARC headers.`,
    ja: (p) => `メールに ARC (RFC 8617) の署名が付いていますが、検証できません: ${p.result}${p.reason ? ` (${p.reason})` : ''}。ARC は、メーリングリストや中継ゲートウェイがメールを書き換える前に検証したことを受信側に伝える仕組みです。壊れた ARC は意味がなく、Gmail は転送する送信者に正しい ARC を求めています。転送するサーバーの ARC 署名鍵と DNS の TXT レコード (OpenARC なら KeyFile と _domainkey) を確認するか、ARC を付けるのをやめてください。`
  },
  'send.null_sender': {
    en: () => 'The mail had an empty envelope sender (MAIL FROM:<>), as bounces do: there is no address to reply to, and SPF was judged by the HELO name only. Send the test as a normal mail from a user of your domain.',
    ja: () => 'エンベロープ送信者が空 (MAIL FROM:<>) でした。エラーメール (バウンス) と同じ形で、返信先がなく、SPF は HELO の名前だけで判定されました。あなたのドメインのユーザーから普通のメールとして送ってください。'
  },
  'send.analysis_stopped': {
    en: (p) => `The mail was too complex to analyse in ${p.seconds} s (a great many header fields or DKIM signatures), so mxprobe stopped reading it. Ordinary mail never comes near this. Check that no mail program or filter adds the same header fields again and again, then send a short test mail to a new test address.`,
    ja: (p) => `このメールは複雑すぎて ${p.seconds} 秒以内に解析できなかったため (大量のヘッダーや DKIM 署名など)、mxprobe は途中で解析を止めました。ふつうのメールでこうなることはありません。メールソフトやフィルターが同じヘッダーを何度も付け足していないか確認してから、新しいテスト用アドレスへ短いテストメールを送ってください。`
  },
  'send.other_domain': {
    en: (p) => `The envelope sender ${p.sender} is not at ${p.domain}, the domain you named: SPF and the reply went by ${p.senderDomain}. Send the test from an address at ${p.domain} to test that domain.`,
    ja: (p) => `エンベロープ送信者 ${p.sender} は、指定したドメイン ${p.domain} のアドレスではありません。SPF と返信は ${p.senderDomain} で判定されました。${p.domain} を試すには ${p.domain} のアドレスから送ってください。`
  },
  // Nothing arrived: the likely causes, most likely first.
  'send.none_op25b': {
    en: (p) => `No mail reached ${p.address} within ${p.minutes} minutes. The most common cause: your ISP blocks outbound port 25 from home lines (OP25B, Outbound Port 25 Blocking), so your server cannot deliver to any mail server on the internet. Check with "nc -vz <some MX> 25" or "telnet" from the server: a time-out means blocked. Then send through the ISP's submission server on port 587 with authentication (Postfix: relayhost = [smtp.your-isp.example]:587, smtp_sasl_auth_enable = yes, smtp_sasl_password_maps, smtp_tls_security_level = encrypt).`,
    ja: (p) => `${p.minutes} 分以内に ${p.address} へメールが届きませんでした。最も多い原因は、プロバイダが家庭向け回線からの外向き 25 番ポートを遮断していること (OP25B) です。この場合、あなたのサーバーはインターネット上のどのメールサーバーにも直接配送できません。サーバーから「nc -vz どこかのMX 25」や telnet で確認し、タイムアウトするなら遮断されています。プロバイダの送信サーバー (587 番、SMTP 認証) 経由で送ってください (Postfix なら relayhost = [プロバイダの SMTP サーバー]:587、smtp_sasl_auth_enable = yes、smtp_sasl_password_maps、smtp_tls_security_level = encrypt)。`
  },
  'send.none_queue': {
    en: () => 'Next, look at your server\'s queue: "mailq" (or "postqueue -p") lists mail that could not be sent, with the reason. In the mail log (/var/log/mail.log, or "journalctl -u postfix") look for lines with "status=deferred" or "status=bounced" and "connect to …: Connection timed out" (blocked port 25) or "Host or domain name not found" (DNS). "postqueue -f" retries once the cause is fixed.',
    ja: () => '次に、サーバーの送信キューを確認してください。「mailq」(または「postqueue -p」) で送れずに残っているメールと理由が分かります。メールログ (/var/log/mail.log、または「journalctl -u postfix」) で「status=deferred」「status=bounced」の行と、「connect to …: Connection timed out」(25 番ポートの遮断) や「Host or domain name not found」(DNS) を探してください。原因を直したら「postqueue -f」で再送できます。'
  },
  'send.none_firewall': {
    en: () => 'Then the firewall: the server\'s own firewall (ufw, firewalld, nftables) or the router must allow outgoing TCP connections to port 25 (and 587 if you relay through the ISP).',
    ja: () => '続いてファイアウォールです。サーバー自身のファイアウォール (ufw、firewalld、nftables) やルーターが、外向きの TCP 25 番 (プロバイダ経由なら 587 番) を許可しているか確認してください。'
  },
  'send.none_dns': {
    en: (p) => `Finally DNS: your server must be able to look up the MX of ${p.inboundDomain} ("dig MX ${p.inboundDomain}" on the server), and the address must be typed exactly: ${p.address}. Each address works once and only until its deadline; start a new test for another try.`,
    ja: (p) => `最後に DNS です。サーバーが ${p.inboundDomain} の MX を引けるか (サーバー上で「dig MX ${p.inboundDomain}」) 確認し、宛先 ${p.address} を正確に入力したか確かめてください。アドレスは 1 回だけ、期限まで有効です。やり直すときは新しいテストを始めてください。`
  },
  'send.reply_not_sent': {
    en: (p) => `No reply was sent to ${p.to}: ${p.reason}. mxprobe sends the reply only to your own server, that is, when an MX address of ${p.domain} is the IP you started the test from (${p.callerIp}).`,
    ja: (p) => `${p.to} への返信は送りませんでした: ${p.reason}。mxprobe が返信を送るのはあなた自身のサーバーだけ、つまり ${p.domain} の MX のアドレスがテストを始めた IP (${p.callerIp}) と一致するときだけです。`
  },
  'send.reply_refused': {
    en: (p) => `Your server did not accept mxprobe's reply (${p.reply}). The receive test explains refusals in detail: run it for ${p.to}.`,
    ja: (p) => `あなたのサーバーは mxprobe からの返信を受け付けませんでした (${p.reply})。受信テストで ${p.to} 宛てを試すと、拒否の理由を詳しく確認できます。`
  }
}
