// Advice for the DNS check, the target rule and connection failures that
// any check can meet. Texts explain what it means for a home server and
// what to do, in the order a person should try things.
import type { AdviceCatalogue } from '../index.js'

const list = (v: unknown): string => Array.isArray(v) ? v.join(', ') : String(v ?? '')

export const CORE_ADVICE: AdviceCatalogue = {
  'dns.nxdomain': {
    en: (p) => `The domain ${p.domain} does not exist in DNS (NXDOMAIN). Check the spelling, and that your dynamic-DNS name or domain registration is active.`,
    ja: (p) => `ドメイン ${p.domain} は DNS に存在しません (NXDOMAIN)。綴りと、ダイナミック DNS のホスト名やドメインの登録が有効かを確認してください。`
  },
  'dns.lookup_failed': {
    en: (p) => `DNS did not answer for ${p.name} (${p.code}). The domain's name servers may be down or misconfigured; try again in a few minutes.`,
    ja: (p) => `${p.name} の DNS 問い合わせに応答がありません (${p.code})。ドメインのネームサーバーが停止しているか設定に誤りがあります。数分後に再度お試しください。`
  },
  'dns.null_mx': {
    en: (p) => `${p.domain} publishes a "null MX" (RFC 7505): it declares that it accepts no mail at all. Remove that record and publish an MX pointing to your mail server.`,
    ja: (p) => `${p.domain} には「null MX」(RFC 7505) が設定されており、メールを一切受け取らないと宣言しています。このレコードを削除し、メールサーバーを指す MX を登録してください。`
  },
  'dns.no_mx_implicit': {
    en: (p) => `${p.domain} has no MX record, so senders fall back to its A/AAAA address (RFC 5321 §5.1). That works, but many dynamic-DNS services let you set an MX explicitly: do so, it is clearer and some senders insist on it.`,
    ja: (p) => `${p.domain} には MX レコードがないため、送信側はドメインの A/AAAA アドレスへ配送します (RFC 5321 5.1 節)。これでも届きますが、ダイナミック DNS サービスの多くは MX を明示できます。MX を設定してください。`
  },
  'dns.no_mail_host': {
    en: (p) => `${p.domain} has neither an MX record nor an A/AAAA address: nobody can deliver mail to it. Register an MX record (or at least an A record) with your DNS or dynamic-DNS provider.`,
    ja: (p) => `${p.domain} には MX レコードも A/AAAA アドレスもないため、誰もメールを配送できません。DNS またはダイナミック DNS の管理画面で MX レコード (少なくとも A レコード) を登録してください。`
  },
  'dns.mx_no_address': {
    en: (p) => `The MX host ${p.host} has no A/AAAA address. An MX must name a host that has an address record (not a CNAME, not an IP address).`,
    ja: (p) => `MX ホスト ${p.host} に A/AAAA アドレスがありません。MX には、アドレスレコードを持つホスト名を指定する必要があります (CNAME や IP アドレスは不可)。`
  },
  'dns.mx_private': {
    en: (p) => `The MX host ${p.host} points to ${p.ip}, a ${p.kind} address (${p.range}). That is your server's address inside your home network; nobody on the internet can reach it. Register your router's global IP address instead (most dynamic-DNS clients do this when set to detect the "WAN" or "external" address).`,
    ja: (p) => `MX ホスト ${p.host} は ${p.ip} (${p.range}、${p.kind}) を指しています。これは自宅 LAN 内のサーバーのアドレスで、インターネットからは到達できません。ルーターのグローバル IP アドレスを登録してください (ダイナミック DNS の更新ソフトで「WAN 側」「外部」アドレスを検出する設定にします)。`
  },
  'dns.ip_mismatch': {
    en: (p) => `Your IP address ${p.callerIp} is not an address of any MX host of ${p.domain} (DNS says: ${list(p.addresses)}). If your IP changed recently, your dynamic-DNS record has not been updated yet: update it, then wait for caches to expire (the record's TTL is ${p.ttl} s, so up to about ${p.ttlMinutes} min). If you are not on your home network (mobile, VPN, office), open this page from home.`,
    ja: (p) => `あなたの IP アドレス ${p.callerIp} は ${p.domain} のどの MX ホストのアドレスとも一致しません (DNS の値: ${list(p.addresses)})。IP アドレスが変わったばかりなら、ダイナミック DNS がまだ更新されていません。更新したうえで、キャッシュが切れるまでお待ちください (TTL は ${p.ttl} 秒、最長で約 ${p.ttlMinutes} 分)。自宅以外 (携帯回線、VPN、職場) から開いている場合は、自宅のネットワークから開いてください。`
  },
  'dns.backup_mx_only': {
    en: (p) => `Your IP ${p.callerIp} is an address of ${p.host}, which is a backup MX (preference ${p.priority}); senders try ${p.primary} first. If your home server should receive mail directly, give it the lowest preference number.`,
    ja: (p) => `あなたの IP ${p.callerIp} は ${p.host} のアドレスですが、これはバックアップ MX (優先度 ${p.priority}) です。送信側はまず ${p.primary} に配送します。自宅サーバーで直接受信するなら、優先度の数値を最も小さくしてください。`
  },
  'dns.ptr_missing': {
    en: (p) => `Your IP ${p.ip} has no reverse DNS (PTR). Receiving mail works without it, but many servers refuse mail sent from an IP without a matching PTR. Home connections usually get a PTR from the ISP; a custom one needs a fixed-IP plan.`,
    ja: (p) => `あなたの IP ${p.ip} には逆引き (PTR) がありません。受信には影響しませんが、送信時に PTR のない IP からのメールを拒否するサーバーが多くあります。逆引きは通常プロバイダが設定し、独自の名前には固定 IP の契約が必要です。`
  },
  'dns.ptr_unconfirmed': {
    en: (p) => `The reverse DNS of ${p.ip} is ${list(p.names)}, but that name does not resolve back to ${p.ip} (forward-confirmed reverse DNS fails). Mail you send may be treated as suspicious.`,
    ja: (p) => `${p.ip} の逆引きは ${list(p.names)} ですが、その名前を正引きしても ${p.ip} になりません (正引き・逆引きの不一致)。送信したメールが疑わしいものとして扱われることがあります。`
  },
  'target.ip_mismatch': {
    en: (p) => `mxprobe only tests the server at the address you are visiting from (${p.callerIp}), and for mail tests only when that address is one of the domain's MX addresses (${list(p.addresses)}). This keeps the service from being used against other people's servers. Open this page from the network where your mail server runs, and make sure your DNS points to your current IP.`,
    ja: (p) => `mxprobe は、アクセス元のアドレス (${p.callerIp}) のサーバーだけをテストします。メールのテストは、そのアドレスがドメインの MX のアドレス (${list(p.addresses)}) の一つである場合に限ります。他人のサーバーへの悪用を防ぐためです。メールサーバーのあるネットワークからこのページを開き、DNS が現在の IP を指しているか確認してください。`
  },
  'target.forbidden': {
    en: (p) => `The address ${p.ip} cannot be tested: ${p.reason}. mxprobe never connects to private, loopback, reserved or opted-out networks from the internet.`,
    ja: (p) => `アドレス ${p.ip} はテストできません: ${p.reason}。mxprobe はプライベート、ループバック、予約済み、またはテスト拒否が登録されたネットワークには接続しません。`
  },
  'net.refused': {
    en: (p) => `The connection to ${p.ip} port ${p.port} was refused: something answered, but nothing accepts connections on that port. Check that the mail server is running and listening on all interfaces (not just 127.0.0.1), and that your router forwards port ${p.port} to the server's LAN address.`,
    ja: (p) => `${p.ip} の ${p.port} 番ポートへの接続が拒否されました。機器は応答していますが、そのポートで待ち受けていません。メールサーバーが起動していて 127.0.0.1 以外でも待ち受けているか、ルーターで ${p.port} 番ポートがサーバーの LAN アドレスへ転送 (ポートフォワーディング) されているかを確認してください。`
  },
  'net.timeout': {
    en: (p) => `No answer from ${p.ip} port ${p.port}: the connection attempt was silently dropped (filtered). Usual causes, most likely first: the router does not forward port ${p.port}; a firewall or antivirus program on the server blocks it; your ISP blocks inbound port ${p.port} (many home plans do for port 25: check the ISP's "port 25 blocking" page); the server is off.`,
    ja: (p) => `${p.ip} の ${p.port} 番ポートから応答がありません (パケットが破棄されています)。よくある原因: ルーターで ${p.port} 番のポートフォワーディングがされていない、サーバーのファイアウォールやウイルス対策ソフトが遮断している、プロバイダが ${p.port} 番への着信を遮断している (25 番は「OP25B」などで制限されることがあります。プロバイダの案内を確認)、サーバーの電源が入っていない。`
  },
  'net.unreachable': {
    en: (p) => `${p.ip} is unreachable from here (${p.reason}). Your connection may be down or your ISP may not route to this address.`,
    ja: (p) => `${p.ip} へ到達できません (${p.reason})。回線が切れているか、プロバイダの経路に問題がある可能性があります。`
  },
  'net.closed': {
    en: (p) => `The server at ${p.ip} port ${p.port} closed the connection ${p.when}. A mail server that hangs up at once is often rate-limiting, blacklisting the tester, or is not a mail server (another program holds the port).`,
    ja: (p) => `${p.ip} の ${p.port} 番のサーバーが${p.when}接続を切断しました。すぐに切断するのは、接続数の制限やブラックリスト、あるいはメールサーバー以外のプログラムがそのポートを使っている場合によくあります。`
  },
  'net.silent': {
    en: (p) => `The server at ${p.ip} port ${p.port} accepted the connection but sent no greeting within ${p.ms} ms. A deliberate delay (tarpit, "greet pause"), an overloaded server, or a program that is not a mail server can cause this; some routers also accept connections for a port that is not forwarded.`,
    ja: (p) => `${p.ip} の ${p.port} 番のサーバーは接続を受け付けましたが、${p.ms} ミリ秒以内に挨拶 (バナー) を送りませんでした。意図的な遅延 (ターピット)、過負荷、メールサーバー以外のプログラムなどが原因です。ポート転送されていないポートの接続をルーター自身が受け付ける場合もあります。`
  },
  'net.deadline': {
    en: (p) => `The check stopped at its time limit (${p.ms} ms) while the server was still talking. mxprobe limits every test so that slow or hostile servers cannot hold it; a normal mail server finishes well within this limit.`,
    ja: (p) => `サーバーとの通信中に制限時間 (${p.ms} ミリ秒) に達したため、テストを打ち切りました。遅いサーバーや悪意あるサーバー対策として時間を制限しています。通常のメールサーバーなら十分に間に合います。`
  },
  'net.byte_cap': {
    en: (p) => `The server sent more data than a mail server ever needs to (${p.bytes} bytes); the check stopped reading. The program on this port may not be a mail server.`,
    ja: (p) => `サーバーが、メールサーバーとしてあり得ない量のデータ (${p.bytes} バイト) を送ってきたため読み取りを中止しました。このポートで動いているのはメールサーバーではない可能性があります。`
  },
  'net.tls': {
    en: (p) => `The TLS handshake with ${p.ip} port ${p.port} failed: ${p.reason}. Check the certificate and key files configured in the server and that it supports TLS 1.2 or later.`,
    ja: (p) => `${p.ip} の ${p.port} 番との TLS ハンドシェイクに失敗しました: ${p.reason}。サーバーに設定した証明書と秘密鍵のファイル、TLS 1.2 以降に対応しているかを確認してください。`
  },
  'net.protocol': {
    en: (p) => `The server's answer did not follow the protocol: ${p.reason}. The program on this port may not be a mail server, or something in between (a router's "SMTP guard", an antivirus proxy) rewrites the dialogue.`,
    ja: (p) => `サーバーの応答がプロトコルに従っていません: ${p.reason}。このポートのプログラムがメールサーバーでないか、途中の機器 (ルーターの SMTP ガード機能やウイルス対策ソフトのプロキシ) が通信を書き換えている可能性があります。`
  },
  'net.error': {
    en: (p) => `The check could not be completed: ${p.reason}.`,
    ja: (p) => `テストを完了できませんでした: ${p.reason}。`
  }
}
