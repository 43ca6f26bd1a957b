// The words of the fix-first list (src/checks/fix-order.ts): each cause
// named in a few words, for the diagnosis's headline, and what each harm
// level means. The headline names the worst cause, never a check's name.
import type { Lang } from './index.js'

type Words = { ja: (p: Record<string, any>) => string, en: (p: Record<string, any>) => string }
const w = (ja: string, en: string): Words => ({ ja: () => ja, en: () => en })
const port = (p: Record<string, any>): string => String(p.port ?? 25).split(',')[0]

/** Each cause in a few words (a sentence without its full stop). */
export const CAUSE_WORDS = {
  relay_open: w('第三者中継になっています', 'Your server is an open relay'),
  relay_own_ip: w('自分の IP からの中継を受け付けています (mynetworks の設定を確認)', 'It relays for your own IP (check mynetworks)'),
  mx_private: w('MX に LAN 内のアドレスが登録されています', 'The MX points to a LAN address'),
  target_forbidden: w('テストできないアドレスが MX に登録されています', 'The MX points to an address that cannot be tested'),
  nxdomain: w('ドメインが DNS に存在しません', 'The domain does not exist in DNS'),
  null_mx: w('メールを受け取らない設定 (null MX) になっています', 'The domain declares that it takes no mail (null MX)'),
  no_mx: w('MX レコードもアドレスもありません', 'There is neither an MX record nor an address'),
  mx_no_address: w('MX のホスト名にアドレスがありません', 'The MX host has no address'),
  ddns_stale: w('DNS のアドレスが今の IP と違います (ダイナミック DNS が更新されていない)', 'DNS has another address than your IP (dynamic DNS not updated)'),
  dns_failed: w('DNS が応答しません', 'DNS does not answer'),
  backup_mx_only: w('この IP は予備の MX にしか登録されていません', 'This IP is only a backup MX'),
  no_mx_implicit: w('MX レコードがありません', 'There is no MX record'),
  line_ipv4: w('この回線では IPv4 の 25 番ポートを開けられません', 'This line cannot open IPv4 port 25'),
  reach: { ja: (p) => `${port(p)} 番ポートに外から接続できません`, en: (p) => `Port ${port(p)} cannot be reached from outside` },
  reach_silent: { ja: (p) => `${port(p)} 番ポートはつながりますが応答がありません`, en: (p) => `Port ${port(p)} connects but never answers` },
  cleartext: w('パスワードが暗号化されずに流れるポートがあります', 'A port lets passwords travel in clear text'),
  port_tls_failed: { ja: (p) => `${port(p)} 番ポートの TLS が動いていません`, en: (p) => `TLS on port ${port(p)} does not work` },
  banner_refused: w('サーバーが接続直後に拒否しています', 'The server refuses at the greeting'),
  not_smtp: w('25 番ポートの応答がメールサーバーのものではありません', 'What answers on port 25 is not a mail server'),
  reply_timeout: w('サーバーがやりとりの途中で応答しなくなります', 'The server stops answering half-way'),
  auth_required: w('25 番ポートで認証を求めているため、他のサーバーから届きません', 'Port 25 demands authentication, so other servers cannot deliver'),
  mail_refused: w('送信者アドレスを拒否しています', 'The server refuses the sender address'),
  rcpt_refused: w('宛先のメールアドレスを拒否しています', 'The server refuses the recipient'),
  data_refused: w('受け取ったメールの本文を拒否しています', 'The server refuses the message after receiving it'),
  postmaster_refused: w('postmaster 宛てのメールを拒否しています', 'Mail to postmaster is refused'),
  role_missing: { ja: (p) => `${String(p.local ?? 'postmaster')}@ 宛てのメールを拒否しています`, en: (p) => `Mail to ${String(p.local ?? 'postmaster')}@ is refused` },
  utf8_unsupported: w('日本語を含むアドレスにはどこからも送れません', 'No sender can deliver to this non-ASCII address'),
  starttls_failed: w('STARTTLS が動いていません', 'STARTTLS does not work'),
  cert_expired: w('証明書の期限が切れています', 'The certificate has expired'),
  no_starttls: w('STARTTLS に対応していません', 'STARTTLS is not offered'),
  cert_name: w('証明書のホスト名が MX と違います', 'The certificate does not name the MX host'),
  cert_untrusted: w('証明書チェーンを検証できません', 'The certificate chain cannot be verified'),
  cert_self_signed: w('証明書が自己署名です', 'The certificate is self-signed'),
  cert_expiring: w('証明書の期限がもうすぐ切れます', 'The certificate expires soon'),
  helo_only: w('サーバーが EHLO に対応していません', 'The server does not speak EHLO'),
  size_small: w('受け取れるメールのサイズが小さすぎます', 'The message size limit is small'),
  ptr_missing: w('IP アドレスの逆引き (PTR) がありません', 'The IP has no reverse DNS (PTR)'),
  ptr_unconfirmed: w('逆引きのホスト名が IP に戻りません', 'The reverse DNS name does not point back to the IP'),
  ptr_missing_v6: w('IPv6 の送信元アドレスに逆引き (PTR) がありません', 'The IPv6 address you send from has no reverse DNS (PTR)'),
  spf_no_ip6: w('IPv6 で送っていますが、SPF に ip6: がありません', 'You send over IPv6, but SPF lists no ip6:'),
  ptr_generic: w('逆引きがプロバイダの一般的な名前です', 'The reverse DNS is the ISP\'s generic name'),
  greylisted: w('グレイリスティングで最初の配送を断っています', 'Greylisting turns away the first attempt'),
  temporary: w('一時的なエラーで結果が確定していません', 'Temporary errors left the result open'),
  relay_untested: w('一部の中継テストを実行できませんでした', 'Some relay tests could not be tried'),
  role_recommended: w('推奨される役割アドレスがありません', 'Recommended role addresses are missing'),
  pop3: w('メールソフト用のポート (POP3) に注意点があります', 'The POP3 port for mail programs has points to improve'),
  send_none: w('送信したメールが届きません (OP25B の可能性)', 'The mail you sent did not arrive (OP25B, likely)'),
  send_helo: w('送信時の HELO の名前が正しくありません', 'The HELO name your server sends is wrong'),
  dnsbl: w('IP アドレスがブラックリストに載っています', 'Your IP is on a block list'),
  spf: w('SPF が正しく設定されていません', 'SPF is missing or wrong'),
  dkim: w('DKIM の署名がないか、検証できません', 'DKIM is missing or does not verify'),
  dmarc: w('DMARC が設定されていないか、失敗しています', 'DMARC is missing or fails'),
  send_tls: w('送信時に TLS を使っていないか、古い TLS です', 'Your server sends without TLS or with old TLS'),
  send_setup: w('送信テストのメールの送り方に注意点があります', 'The test mail was sent in a way that limits the test'),
  send_charset: w('メールに文字コードの指定がありません', 'The mail declares no charset'),
  send_headers: w('送信したメールに Message-ID・Date・From が揃っていません', 'The mail you send lacks Message-ID, Date or From'),
  send_from_gmail: w('gmail.com の From を自宅サーバーから送っています', 'Your server sends with a gmail.com From address'),
  send_arc: w('転送の記録 (ARC) が検証できません', 'The forwarding chain (ARC) does not verify'),
  cert_not_yet_valid: w('証明書の有効期間がまだ始まっていません', 'The certificate is not valid yet'),
  cert_renewed_not_loaded: w('更新した証明書を読み込んでいないポートがあります', 'A port still serves the certificate from before the renewal'),
  cert_mixed: w('ポートごとに証明書が違います', 'The ports serve different certificates'),
  weak_tls: w('古い、または弱い TLS の設定があります', 'Old or weak TLS settings are enabled'),
  dnssec_bogus: w('DNSSEC の検証に失敗しています', 'DNSSEC validation fails'),
  dane: w('DANE (TLSA レコード) が証明書と合っていません', 'DANE (the TLSA record) does not match the certificate'),
  mta_sts: w('MTA-STS の設定に問題があります', 'The MTA-STS setup has a problem'),
  mta_sts_enforce: w('MTA-STS (enforce) のため、送信側が配送を止めます', 'With MTA-STS in enforce mode, senders stop delivering'),
  tlsrpt: w('TLS-RPT の設定に問題があります', 'TLS-RPT is missing or wrong'),
  other_family: w('もう一方の IP (IPv4 / IPv6) がまだ確認できていません', 'Your address of the other family (IPv4 / IPv6) is not known yet'),
  reply_refused: w('mxprobe の返信を受け取りませんでした', 'Your server did not accept mxprobe\'s reply')
} satisfies Record<string, Words>

export type CauseWord = keyof typeof CAUSE_WORDS

export function causeWords (cause: CauseWord, lang: Lang, params: Record<string, unknown> = {}): string {
  return CAUSE_WORDS[cause][lang](params)
}

/** What each harm level means, after the cause's words. */
export const LEVEL_WORDS: Record<1 | 2 | 3 | 4, { ja: string, en: string, title: { ja: string, en: string } }> = {
  1: { ja: 'すぐに直してください。', en: 'Fix this at once.', title: { ja: '他人に害を与える', en: 'Harms others' } },
  2: { ja: 'このままではメールが届きません。まずここから直してください。', en: 'Mail cannot get through: fix this first.', title: { ja: 'メールが届かない', en: 'Stops mail' } },
  3: { ja: '相手のサーバーに拒否されたり迷惑メール扱いされたりします。', en: 'Receivers may refuse or junk mail because of it.', title: { ja: '拒否・迷惑メール扱いされる', en: 'Receivers refuse or junk mail' } },
  4: { ja: '急ぎではありませんが、直すとよい点です。', en: 'Not urgent, but worth fixing.', title: { ja: '注意', en: 'Warning' } }
}

export const STAGE_WORDS: Record<'dns' | 'reach' | 'server' | 'mailbox', { ja: string, en: string }> = {
  dns: { ja: 'DNS', en: 'DNS' },
  reach: { ja: '到達性 (ポート開放)', en: 'Reachability' },
  server: { ja: 'サーバー', en: 'Server' },
  mailbox: { ja: 'メールボックス', en: 'Mailboxes' }
}
