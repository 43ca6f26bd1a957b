// Advice for the one diagnosis (`all`) and for refusals: the classic
// home-server mistakes told from the DNS facts (a LAN address in dynamic DNS,
// a dynamic DNS entry not yet updated, no MX), and the few findings the
// single checks gained (a port that accepts but never greets).
import type { AdviceCatalogue } from '../index.js'

const list = (v: unknown): string => Array.isArray(v) ? v.join(', ') : String(v ?? '')

/** What a home on a shared-IPv4 IPoE line can do instead of opening IPv4 port 25. */
const LINE_OPTIONS = {
  ja: 'IPv4 でもメールを受けるには、次のどれかが必要です。(1) プロバイダの固定 IP サービス (IPv6 の上で固定の IPv4 アドレスを 1 つ使えるもの。ポート開放もできます)。(2) IPoE と並べて PPPoE の接続も使い、メールサーバーの通信だけ PPPoE 側に流してポート開放する。(3) MX を IPv6 だけで受ける (MX のホスト名に AAAA だけを登録する)。ただし IPv4 でしか送ってこない送信側もまだ多く、そのメールは届きません。(4) 外部の VPS やメール中継サービスで受けて、自宅のサーバーへ IPv6 か VPN で転送する。',
  en: 'To receive mail over IPv4 too, one of these is needed: (1) the provider\'s fixed-IP option (one fixed IPv4 address carried over IPv6, with its ports yours); (2) a PPPoE session alongside IPoE, with the mail server\'s traffic routed over it and port 25 forwarded there; (3) an MX reachable over IPv6 only (an AAAA record and no A for the MX host), at the cost of the mail of senders that still send over IPv4 only; (4) an outside VPS or relay service that receives and forwards to your server over IPv6 or a VPN.'
}

export const DIAG_ADVICE: AdviceCatalogue = {
  'line.map_e': {
    en: (p) => `This line is ${p.service} (MAP-E, RFC 7597): your IPv4 address ${p.ipv4} is shared with other homes, and of its ports only ${p.count} are yours (${p.ports}), derived from your IPv6 prefix ${p.prefix}. Port 25 is not among them, so IPv4 port 25 can never be opened on this line, whatever the router's port forwarding says. ${LINE_OPTIONS.en} (Rule: ${p.source})`,
    ja: (p) => `この回線は ${p.service} (MAP-E、RFC 7597) です。IPv4 アドレス ${p.ipv4} はほかの家庭と共有されていて、あなたが使えるのは IPv6 のプレフィックス ${p.prefix} から決まる ${p.count} 個のポート (${p.ports}) だけです。25 番はその中にないため、IPv4 の 25 番ポートはこの回線では開けられません。ルーターでポート開放を設定しても届きません。${LINE_OPTIONS.ja} (ルールの出典: ${p.source})`
  },
  'line.ds_lite': {
    en: (p) => `This line is ${p.service} (DS-Lite, RFC 6333): your IPv4 traffic leaves through the provider's AFTR under its shared address, and no IPv4 port can be opened from outside at all. IPv4 port 25 can never reach your server on this line. ${LINE_OPTIONS.en} (Range: ${p.source})`,
    ja: (p) => `この回線は ${p.service} (DS-Lite、RFC 6333) です。IPv4 の通信はプロバイダの設備 (AFTR) の共有アドレスから出ていくため、IPv4 ではどのポートも外から開けられません。IPv4 の 25 番ポートはこの回線では開けられません。${LINE_OPTIONS.ja} (範囲の出典: ${p.source})`
  },
  'refusal.mx_private': {
    en: (p) => p.lan
      ? `The MX host ${p.host} points to ${p.ip}, a private address (${p.range}) inside your home network: the private address is registered in dynamic DNS. Nobody on the internet can reach it, and it cannot be your IP ${p.callerIp}. Set your dynamic-DNS client to register the router's global (WAN side) address, not the server's LAN address.`
      : p.cgnat
        ? `The MX host ${p.host} points to ${p.ip} (${p.range}), a carrier-grade NAT address your ISP gives the router: it is not reachable from the internet. Register your global address; if the router's WAN address is itself in 100.64.0.0/10, your line cannot host a server without a global-IP option from the ISP.`
        : `The MX host ${p.host} points to ${p.ip} (${p.range}), an address that is never reachable from the internet. Register your router's global address instead.`,
    ja: (p) => p.lan
      ? `MX ホスト ${p.host} がプライベートアドレス ${p.ip} (${p.range}、自宅 LAN 内のアドレス) を指しています。ダイナミック DNS にプライベートアドレスが登録されています。インターネットからは届かず、あなたの IP ${p.callerIp} とも一致しません。ダイナミック DNS の更新ソフトを、サーバーの LAN 側アドレスではなくルーターのグローバル IP (WAN 側) を登録する設定にしてください。`
      : p.cgnat
        ? `MX ホスト ${p.host} が ${p.ip} (${p.range}) を指しています。これはプロバイダがルーターに割り当てる CGNAT のアドレスで、インターネットからは届きません。グローバル IP を登録してください。ルーターの WAN 側アドレス自体が 100.64.0.0/10 なら、その回線ではプロバイダのグローバル IP オプションなしにサーバーを公開できません。`
        : `MX ホスト ${p.host} が ${p.ip} (${p.range}) を指しています。インターネットからは届かないアドレスです。ルーターのグローバル IP を登録してください。`
  },
  'refusal.ddns_stale': {
    en: (p) => p.family === 6
      ? `DNS says the IPv6 address (AAAA) of the MX ${p.host} of ${p.domain} is ${list(p.dnsIps)}, but that is outside your home's IPv6 prefix ${p.callerIp}. Most likely the provider delegated a new prefix and the AAAA record was not updated: dynamic DNS must update the AAAA record too, not only the A record. Update it, then wait for caches to expire: the TTL is ${p.ttl} s, so up to about ${p.ttlMinutes} min.`
      : `DNS says the MX ${p.host} of ${p.domain} is at ${list(p.dnsIps)}, but you are visiting from ${p.callerIp}. Most likely your IP changed and the dynamic-DNS entry has not been updated yet: update it (check that the update client runs and logs no error), then wait for caches to expire: the TTL is ${p.ttl} s, so up to about ${p.ttlMinutes} min. If you are not at home (mobile, VPN, office), open this page from the network of your mail server.`,
    ja: (p) => p.family === 6
      ? `DNS では ${p.domain} の MX ${p.host} の IPv6 アドレス (AAAA レコード) は ${list(p.dnsIps)} ですが、あなたの家の IPv6 プレフィックス ${p.callerIp} の外です。プロバイダから割り当てられるプレフィックスが変わり、AAAA レコードが古いままになっている可能性が高いです。ダイナミック DNS は A レコードだけでなく AAAA レコードも更新するように設定し、更新後はキャッシュが切れるまで待ってください (TTL は ${p.ttl} 秒、最長で約 ${p.ttlMinutes} 分)。`
      : `DNS では ${p.domain} の MX ${p.host} は ${list(p.dnsIps)} ですが、アクセス元の IP は ${p.callerIp} です。IP アドレスが変わり、ダイナミック DNS がまだ更新されていない可能性が高いです。更新ソフトが動いてエラーが出ていないか確認して更新し、キャッシュが切れるまで待ってください (TTL は ${p.ttl} 秒、最長で約 ${p.ttlMinutes} 分)。自宅以外 (携帯回線、VPN、職場) から開いている場合は、メールサーバーのあるネットワークから開いてください。`
  },
  'refusal.other_family': {
    en: (p) => `The MX ${p.host} of ${p.domain} has ${p.only ? 'only ' : ''}IPv${p.family} addresses${p.family === 4 ? ' (A)' : ' (AAAA)'} ${list(p.dnsIps)}, and your visit came over IPv${p.callerFamily} (${p.callerIp}). That is not a DNS mistake: your browser simply reached mxprobe over the other address family, so your IPv${p.family} address is not known yet. ` +
      (p.origin
        ? `Open ${p.origin} (it answers over IPv${p.family} only) or reload mxprobe's home page, which fetches a proof from it, then test again.`
        : `This mxprobe has no IPv${p.family}-only address (IPV${p.family}_ORIGIN is not set), so test from a connection that reaches it over IPv${p.family}: for example \`curl -${p.family} -d domain=${p.domain} ${p.site ?? 'https://<mxprobe>'}/api/v1/checks/dns\` from the server itself.`),
    ja: (p) => `${p.domain} の MX ${p.host} には IPv${p.family} のアドレス${p.family === 4 ? ' (A レコード)' : ' (AAAA レコード)'} ${list(p.dnsIps)} ${p.only ? 'しかなく' : 'があり'}、今回のアクセスは IPv${p.callerFamily} (${p.callerIp}) で届きました。DNS の間違いではありません。ブラウザがもう一方のアドレス種別で mxprobe につないだため、あなたの IPv${p.family} アドレスがまだ分からないだけです。` +
      (p.origin
        ? `IPv${p.family} だけで応答する ${p.origin} を開くか、mxprobe のトップページを開き直すと IPv${p.family} アドレスの確認が済むので、そのあとでもう一度テストしてください。`
        : `この mxprobe には IPv${p.family} 専用のアドレスが設定されていない (IPV${p.family}_ORIGIN なし) ため、IPv${p.family} で届く接続からテストしてください。たとえばサーバー上で \`curl -${p.family} -d domain=${p.domain} ${p.site ?? 'https://<mxprobe>'}/api/v1/checks/dns\` を実行します。`)
  },
  'refusal.no_mx_stale': {
    en: (p) => `${p.domain} has no MX record, and its own address is ${list(p.dnsIps)}, not your IP ${p.callerIp}. Register an MX record for ${p.domain} pointing to your mail server's host name, and make sure its address is your current IP (update the dynamic-DNS entry, then wait up to about ${p.ttlMinutes} min, the TTL of ${p.ttl} s).`,
    ja: (p) => `${p.domain} には MX レコードがなく、ドメイン自身のアドレスは ${list(p.dnsIps)} で、あなたの IP ${p.callerIp} と一致しません。メールサーバーのホスト名を指す MX レコードを ${p.domain} に登録し、そのアドレスが現在の IP になっているか確認してください (ダイナミック DNS を更新し、TTL ${p.ttl} 秒、最長で約 ${p.ttlMinutes} 分待ちます)。`
  },
  'refusal.no_mx': {
    en: (p) => `${p.domain} has no MX record and no address at all: nobody can deliver mail to it, and mxprobe cannot match it to your IP ${p.callerIp}. Register an MX record (pointing to a host name whose A record is your global IP) with your DNS or dynamic-DNS provider.`,
    ja: (p) => `${p.domain} には MX レコードもアドレスもありません。誰もメールを配送できず、あなたの IP ${p.callerIp} とも照合できません。DNS またはダイナミック DNS の管理画面で、グローバル IP を A レコードに持つホスト名を指す MX レコードを登録してください。`
  },
  'refusal.mx_no_address': {
    en: (p) => `The MX host ${p.host} has no A/AAAA address${p.error ? ` (${p.error})` : ''}. An MX must name a host that has an address record: register the A record of ${p.host} (your global IP).`,
    ja: (p) => `MX ホスト ${p.host} に A/AAAA アドレスがありません${p.error ? ` (${p.error})` : ''}。MX にはアドレスを持つホスト名を指定する必要があります。${p.host} の A レコード (グローバル IP) を登録してください。`
  },
  'refusal.nxdomain': {
    en: (p) => `The domain ${p.domain} does not exist in DNS (NXDOMAIN). Check the spelling, and that your dynamic-DNS host name or domain registration is active.`,
    ja: (p) => `ドメイン ${p.domain} は DNS に存在しません (NXDOMAIN)。綴りと、ダイナミック DNS のホスト名やドメインの登録が有効かを確認してください。`
  },
  'refusal.dns_failed': {
    en: (p) => `DNS gave no usable answer for ${p.domain} (${p.code}). The domain's name servers may be down or misconfigured; try again in a few minutes.`,
    ja: (p) => `${p.domain} の DNS 問い合わせに有効な応答がありません (${p.code})。ドメインのネームサーバーが停止しているか設定に誤りがあります。数分後にもう一度お試しください。`
  },
  'refusal.null_mx': {
    en: (p) => `${p.domain} publishes a "null MX" (RFC 7505): it declares that it accepts no mail at all. Remove that record and publish an MX pointing to your mail server.`,
    ja: (p) => `${p.domain} には「null MX」(RFC 7505) が設定されていて、メールを一切受け取らないと宣言しています。このレコードを削除し、メールサーバーを指す MX を登録してください。`
  },
  'ports.silent': {
    en: (p) => `Port ${p.port} on ${p.ip} accepts connections but never greets (nothing within ${p.seconds} s). Something takes the connection without being the mail service: often the router itself, or a security feature, when the port is not forwarded to the server; or the server is hung. Check the port forwarding to the server's LAN address and that the service answers locally ("telnet 127.0.0.1 ${p.port}" on the server).`,
    ja: (p) => `${p.ip} のポート ${p.port} は接続を受け付けますが、挨拶 (バナー) を返しません (${p.seconds} 秒待っても応答なし)。メールサーバー以外の何かが接続を受けています。ポートフォワーディングがサーバーに向いていないときに、ルーター自身やセキュリティ機能が受けていることがよくあります。サーバーが固まっている場合もあります。サーバーの LAN アドレスへのポート開放 (ポートフォワーディング) と、サーバー上で「telnet 127.0.0.1 ${p.port}」に応答するかを確認してください。`
  },
  'ports.others_closed': {
    en: (p) => `Ports ${p.ports} on ${p.ip} are not reachable${p.refused ? ` (refused: ${p.refused}` : ' ('}${p.refused && p.filtered ? '; ' : ''}${p.filtered ? `no answer: ${p.filtered}` : ''}). That is right for every service you do not run. For one you do run (POP3 110/995, IMAP 143/993, submission 587/465), open it on the router (port forwarding to the server's LAN address) and in the server's firewall, and check that the service listens on all addresses, not only 127.0.0.1.`,
    ja: (p) => `${p.ip} のポート ${p.ports} には接続できません${p.refused ? ` (拒否: ${p.refused}` : ' ('}${p.refused && p.filtered ? '、' : ''}${p.filtered ? `応答なし: ${p.filtered}` : ''})。動かしていないサービスならこれで正常です。動かしているサービス (POP3 110/995、IMAP 143/993、サブミッション 587/465) があれば、ルーターでサーバーの LAN アドレスへポート開放 (ポートフォワーディング) し、サーバーのファイアウォールでも許可して、サービスが 127.0.0.1 だけでなく全アドレスで待ち受けているか確認してください。`
  },
  'diag.child_not_run': {
    en: (p) => `The ${p.check} test could not be run: ${p.reason}`,
    ja: (p) => `${p.check}のテストを実行できませんでした: ${p.reason}`
  }
}
