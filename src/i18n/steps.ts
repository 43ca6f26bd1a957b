// Step titles: a step's `name` is a stable machine name ("ehlo",
// "relay r07", "address mx.example"); its `title` is that step's name for
// people, in the report's language. Names with a variable part are matched
// by their first word.
import type { Lang } from './index.js'
import { CHECK_NAMES } from './checks.js'

type Title = { ja: string, en: string } | ((rest: string) => { ja: string, en: string })

const t = (ja: string, en: string) => ({ ja, en })
const TITLES: Record<string, Title> = {
  // any check: why it ended early (src/checks/runner.ts failReport), the step its verdict follows from
  stopped: t('テストの中断', 'Check stopped'),
  mxprobe: t('mxprobe 側の問題', 'Trouble on mxprobe\'s side'),
  // any mail check: refused by the target rule before any socket (src/checks/refusal-report.ts)
  refusal: t('テストできない理由', 'Why it cannot be tested'),
  // receive test: the clear-text retry after a failed STARTTLS handshake
  reconnect: t('再接続 (暗号化なし)', 'Reconnection (without TLS)'),
  // relay check (src/checks/relay.ts): the battery's own steps
  'relay-auth': t('認証の要求', 'Authentication demanded'),
  'relay-senders': t('差出人の試し直し', 'Senders retried'),
  'relay-drops': t('切られた接続', 'Dropped connections'),
  'relay-battery': t('テストの打ち切り', 'Relay attempts stopped early'),
  'relay-not-tried': t('試す必要のなかったテスト', 'Attempts not needed'),
  'relay-summary': t('中継テストのまとめ', 'Relay attempts in all'),
  'relay-connect': t('メールサーバーへの接続', 'Connection to the mail server'),
  'relay-untested': t('試せなかった中継テスト', 'Relay attempts not tried'),
  // tls (src/checks/tls.ts)
  versions: (rest) => t(`TLS のバージョンと暗号 (ポート ${rest.replace(/\//g, '、')})`, `TLS versions and ciphers (port ${rest.replace(/\//g, ', ')})`),
  dnssec: (rest) => rest ? t(`${rest} の DNSSEC`, `DNSSEC of ${rest}`) : t('DNSSEC (ドメイン)', 'DNSSEC (domain)'),
  dane: t('DANE (TLSA レコード)', 'DANE (TLSA records)'),
  'mta-sts': t('MTA-STS', 'MTA-STS'),
  'tls-rpt': t('TLS-RPT', 'TLS-RPT'),
  certificates: t('ポートごとの証明書', 'Certificates across ports'),
  services: t('TLS サービス', 'TLS services'),
  // dns
  mx: t('MX レコード', 'MX record'),
  address: (host) => t(`${host} のアドレス`, `Address of ${host}`),
  'caller ip': t('アクセス元 IP と MX の一致', 'Your IP and the MX'),
  ptr: t('逆引き (PTR)', 'Reverse DNS (PTR)'),
  // ports ("port 25 (SMTP)"), also the POP3 check's "port 110"
  port: (rest) => t(`ポート ${rest.replace('submission over TLS', 'TLS 上のサブミッション').replace('submission', 'サブミッション')}`, `Port ${rest}`),
  'ports-cleartext-pop3': t('暗号化なしの POP3', 'POP3 without encryption'),
  'ports-cleartext-imap': t('暗号化なしの IMAP', 'IMAP without encryption'),
  'ports-none-open': t('開いているポート', 'Open ports'),
  // smtp and receive
  deadlines: t('待ち時間の設定', 'Time limits'),
  connect: t('接続', 'Connection'),
  banner: t('挨拶 (バナー)', 'Greeting (banner)'),
  'banner name': t('挨拶のホスト名', 'Host name in the greeting'),
  ehlo: t('EHLO', 'EHLO'),
  'ehlo (tls)': t('EHLO (TLS 後)', 'EHLO (after TLS)'),
  helo: t('HELO', 'HELO'),
  starttls: t('STARTTLS (暗号化)', 'STARTTLS (encryption)'),
  tls: t('TLS のバージョンと暗号', 'TLS version and cipher'),
  certificate: (rest) => rest ? t(`証明書 (ポート ${rest})`, `Certificate (port ${rest})`) : t('証明書', 'Certificate'),
  size: t('メールサイズの上限', 'Message size limit'),
  PIPELINING: t('PIPELINING (コマンドの一括送信)', 'PIPELINING'),
  '8BITMIME': t('8BITMIME (8 ビット本文)', '8BITMIME'),
  SMTPUTF8: t('SMTPUTF8 (日本語アドレス)', 'SMTPUTF8 (non-ASCII addresses)'),
  smtputf8: t('SMTPUTF8 (日本語アドレス)', 'SMTPUTF8 (non-ASCII addresses)'),
  'mail from': t('送信者 (MAIL FROM)', 'Sender (MAIL FROM)'),
  'MAIL FROM': t('送信者 (MAIL FROM)', 'Sender (MAIL FROM)'),
  mail: t('送信者 (MAIL FROM)', 'Sender (MAIL FROM)'),
  rcpt: t('宛先 (RCPT TO)', 'Recipient (RCPT TO)'),
  data: t('本文の送信開始 (DATA)', 'Message start (DATA)'),
  delivery: t('テストメールの配送', 'Delivery of the test mail'),
  'end of data': t('本文の送信完了 (最終応答)', 'End of message (final reply)'),
  dialogue: t('SMTP のやり取り', 'SMTP dialogue'),
  postmaster: t('postmaster 宛て', 'Mail to postmaster'),
  quit: t('終了 (QUIT)', 'Goodbye (QUIT)'),
  // relay
  relay: (id) => t(`中継テスト ${id}`, `Relay attempt ${id}`),
  authentication: t('認証の要求', 'Authentication demanded'),
  battery: t('中継テストの実行', 'Relay attempts'),
  // pop3
  greeting: (port) => t(`挨拶 (ポート ${port})`, `Greeting (port ${port})`),
  capabilities: (rest) => rest.endsWith('after STLS')
    ? t(`機能一覧 (ポート ${rest.split(' ')[0]}、STLS 後)`, `Capabilities (port ${rest.split(' ')[0]}, after STLS)`)
    : t(`機能一覧 (ポート ${rest})`, `Capabilities (port ${rest})`),
  'login before TLS': t('TLS 前のログイン', 'Login before TLS'),
  STLS: t('STLS (暗号化)', 'STLS (encryption)'),
  QUIT: (port) => t(`終了 (ポート ${port})`, `Goodbye (port ${port})`),
  login: t('ログイン', 'Login'),
  'pop3-unreachable': t('POP3 サーバーへの接続', 'Connection to the POP3 server'),
  'pop3-cleartext': t('POP3 の暗号化', 'POP3 encryption'),
  // the diagnosis: "child smtp"
  child: (type) => CHECK_NAMES[type] ?? t(type, type),
  line: t('回線の種類 (IPv4 の共有)', 'Line type (shared IPv4)'),
  // tools
  hop: (n) => t(`経路 ${n}`, `Hop ${n}`),
  candidate: (n) => t(`候補 ${n}`, `Candidate ${n}`)
}

export function stepTitle (name: string, lang: Lang): string {
  const exact = TITLES[name]
  if (exact) return typeof exact === 'function' ? exact('')[lang] : exact[lang]
  // roles: one step per address, "<postmaster@example.jp>"
  if (/^<[^>]*>$/.test(name)) return lang === 'ja' ? `${name} 宛て` : `Mail to ${name}`
  const sp = name.indexOf(' ')
  if (sp > 0) {
    const head = TITLES[name.slice(0, sp)]
    if (head) return typeof head === 'function' ? head(name.slice(sp + 1))[lang] : `${head[lang]} ${name.slice(sp + 1)}`
  }
  return name
}
