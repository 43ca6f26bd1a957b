// Step titles: a step's `name` is a stable machine name ("ehlo",
// "relay r07", "address mx.example"); its `title` is that step's name for
// people, in the report's language. Names with a variable part are matched
// by their first word.
import type { Lang } from './index.js'

type Title = { ja: string, en: string } | ((rest: string) => { ja: string, en: string })

const TITLES: Record<string, Title> = {
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
