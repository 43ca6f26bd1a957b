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
  'send.fcrdns_fail': {
    en: (p) => `The reverse DNS of ${p.ip} is "${p.ptr}", but that name does not resolve back to ${p.ip} (no forward-confirmed reverse DNS). Add an A record ${p.ptr} → ${p.ip}, or have the PTR changed to a name that has one; receivers check both directions.`,
    ja: (p) => `${p.ip} の逆引きは「${p.ptr}」ですが、その名前を正引きしても ${p.ip} になりません (正引きと逆引きが一致していません)。${p.ptr} の A レコードを ${p.ip} で登録するか、正引きできる名前に逆引きを変更してもらってください。受信側は両方向を確認します。`
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
  'send.null_sender': {
    en: () => 'The mail had an empty envelope sender (MAIL FROM:<>), as bounces do: there is no address to reply to, and SPF was judged by the HELO name only. Send the test as a normal mail from a user of your domain.',
    ja: () => 'エンベロープ送信者が空 (MAIL FROM:<>) でした。エラーメール (バウンス) と同じ形で、返信先がなく、SPF は HELO の名前だけで判定されました。あなたのドメインのユーザーから普通のメールとして送ってください。'
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
