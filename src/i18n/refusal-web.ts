// Texts of a stored refusal's page (src/web/refusal-page.ts).
import type { Lang } from './index.js'

const TEXT = {
  en: {
    permalink: 'Link to this result (to share when you ask for help):',
    whatDns: 'What DNS says',
    fixThen: 'After fixing it, test again:',
    refusedBadge: 'Not tested',
    noSocket: 'mxprobe opened no connection to your server: it tests only the mail server of the network you visit from.'
  },
  ja: {
    permalink: 'この結果の URL (掲示板で質問するときに貼れます):',
    whatDns: 'DNS の登録内容',
    fixThen: '直したら、もう一度テストしてください:',
    refusedBadge: 'テストしていません',
    noSocket: 'mxprobe はあなたのサーバーに接続していません。テストするのは、アクセス元のネットワークにあるメールサーバーだけです。'
  }
} satisfies Record<Lang, Record<string, string>>

export type RefusalText = typeof TEXT.en
export function refusalText (lang: Lang): RefusalText { return TEXT[lang] }
