// Step titles: a step's `name` is a stable machine name ("ehlo",
// "relay r07", "address mx.example"); its `title` is that step's name for
// people, in the report's language. Names with a variable part are matched
// by their first word.
import type { Lang } from './index.js'

type Title = { ja: string, en: string } | ((rest: string) => { ja: string, en: string })

const TITLES: Record<string, Title> = {
  // receive test (src/checks/receive.ts); connect … certificate are shared with the SMTP check
  connect: { ja: '接続', en: 'Connection' },
  reconnect: { ja: '再接続 (暗号化なし)', en: 'Reconnection (without TLS)' },
  banner: { ja: 'グリーティング (220 応答)', en: 'Greeting' },
  ehlo: { ja: 'EHLO (あいさつと拡張機能)', en: 'EHLO (greeting and extensions)' },
  'ehlo (tls)': { ja: 'TLS 内での EHLO', en: 'EHLO inside TLS' },
  starttls: { ja: 'STARTTLS (暗号化)', en: 'STARTTLS (encryption)' },
  tls: { ja: 'TLS のバージョンと暗号方式', en: 'TLS version and cipher' },
  certificate: { ja: 'サーバー証明書', en: 'Server certificate' },
  deadlines: { ja: 'mxprobe の待ち時間', en: 'How long mxprobe waits' },
  smtputf8: { ja: 'SMTPUTF8 (日本語などのアドレス)', en: 'SMTPUTF8 (non-ASCII addresses)' },
  mail: { ja: '差出人 (MAIL FROM)', en: 'Sender (MAIL FROM)' },
  rcpt: { ja: '宛先 (RCPT TO)', en: 'Recipient (RCPT TO)' },
  data: { ja: '本文の送信開始 (DATA)', en: 'Message start (DATA)' },
  'end of data': { ja: '本文の送信完了 (最終応答)', en: 'End of message (final reply)' },
  dialogue: { ja: 'SMTP のやりとり', en: 'SMTP dialogue' },
  // relay check (src/checks/relay.ts)
  relay: { ja: '第三者中継テスト', en: 'relay attempt' },
  'relay-auth': { ja: '認証の要求', en: 'authentication demanded' },
  'relay-senders': { ja: '差出人の試し直し', en: 'senders retried' },
  'relay-drops': { ja: '切られた接続', en: 'dropped connections' },
  'relay-battery': { ja: 'テストの打ち切り', en: 'battery incomplete' },
  'relay-summary': { ja: '中継テストのまとめ', en: 'relay battery' },
  'relay-connect': { ja: 'メールサーバーへの接続', en: 'connection to the mail server' }
}

export function stepTitle (name: string, lang: Lang): string {
  const exact = TITLES[name]
  if (exact) return typeof exact === 'function' ? exact('')[lang] : exact[lang]
  const sp = name.indexOf(' ')
  if (sp > 0) {
    const head = TITLES[name.slice(0, sp)]
    if (head) return typeof head === 'function' ? head(name.slice(sp + 1))[lang] : `${head[lang]} ${name.slice(sp + 1)}`
  }
  return name
}
