// The checks' names for people, in both languages: one table for the
// diagnosis cards, the step titles, the forum text and the pages.
import type { Lang } from './index.js'

export const CHECK_NAMES: Record<string, { ja: string, en: string }> = {
  all: { ja: 'まとめて診断', en: 'Whole diagnosis' },
  dns: { ja: 'DNS (MX とアドレス)', en: 'DNS (MX and addresses)' },
  ports: { ja: 'ポート開放', en: 'Open ports' },
  smtp: { ja: 'SMTP サーバー', en: 'SMTP server' },
  receive: { ja: '受信テスト', en: 'Receive test' },
  roles: { ja: '必須アドレス (postmaster など)', en: 'Role addresses (postmaster …)' },
  relay: { ja: '第三者中継 (オープンリレー)', en: 'Open relay' },
  pop3: { ja: 'POP3', en: 'POP3' },
  send: { ja: '送信テスト', en: 'Send test' },
  tls: { ja: 'TLS と証明書 (DNSSEC・DANE・MTA-STS)', en: 'TLS and certificates (DNSSEC, DANE, MTA-STS)' }
}

/** A check type's name in the given language (the type itself when unknown). */
export function checkName (type: string, lang: Lang): string {
  return CHECK_NAMES[type]?.[lang] ?? type
}
