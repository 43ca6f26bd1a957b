// Texts of the send test's checklist of the big receivers' rules (src/inbound/sender-rules.ts).
// One catalogue per language under the same typed keys: a key missing in one language, or
// misspelt where it is used, fails the type-check.
import type { Lang } from './index.js'

type P = Record<string, string>

const EN = {
  title: {
    ptr: 'Reverse DNS (PTR) that resolves back to the sending IP',
    auth: 'SPF or DKIM passes',
    tls: 'Sent over TLS',
    format: 'Message-ID, Date and From as RFC 5322 asks',
    helo: 'A fully qualified HELO name (RFC 5321)',
    not_gmail_from: 'The From address is not a gmail.com address',
    dnsbl: 'The sending IP is on no block list',
    arc: 'The forwarding chain (ARC) verifies',
    spf_and_dkim: 'Both SPF and DKIM pass',
    dmarc: 'A DMARC record is published',
    dmarc_aligned: 'DMARC passes: the From domain is aligned with SPF or DKIM',
    one_click: 'One-click unsubscribe (List-Unsubscribe and List-Unsubscribe-Post)'
  },
  reason: {
    ptr_ok: (p: P) => `${p.ptr}, which resolves back to ${p.ip}`,
    ptr_none: (p: P) => `${p.ip} has no PTR record`,
    ptr_mismatch: (p: P) => `${p.ptr} does not resolve back to ${p.ip}`,
    auth_ok: (p: P) => `${p.which} passes`,
    auth_none: (p: P) => `neither passes (SPF ${p.spf}, DKIM ${p.dkim})`,
    tls_ok: (p: P) => `${p.version}`,
    tls_none: () => 'sent without STARTTLS',
    format_ok: () => 'all three present and well formed',
    format_missing: (p: P) => `missing or malformed: ${p.fields}`,
    helo_ok: (p: P) => `"${p.helo}"`,
    helo_bad: (p: P): string => p.helo ? `"${p.helo}" is not a fully qualified name` : 'no HELO/EHLO was sent',
    from_own: (p: P) => `From: …@${p.domain}`,
    from_gmail: (p: P) => `From: …@${p.domain}, sent from your own server: Gmail quarantines it (DMARC)`,
    dnsbl_ok: (p: P) => `not listed in ${p.count} lists`,
    dnsbl_listed: (p: P) => `listed in ${p.zones}`,
    arc_ok: (p: P) => `${p.sets} sets, pass`,
    arc_bad: (p: P) => `${p.sets} sets: ${p.result}${p.why ? ` (${p.why})` : ''}`,
    spf_and_dkim_ok: () => 'both pass',
    spf_and_dkim_bad: (p: P) => `SPF ${p.spf}, DKIM ${p.dkim}`,
    dmarc_ok: (p: P) => `${p.domain}: p=${p.policy}`,
    dmarc_none: (p: P) => `${p.domain}: no DMARC record`,
    aligned_ok: (p: P) => `${p.domain}: DMARC pass`,
    aligned_bad: (p: P) => `${p.domain}: DMARC ${p.result}`,
    one_click_ok: () => 'present',
    one_click_none: (p: P): string => p.listUnsubscribe === 'yes' ? 'List-Unsubscribe without one-click (List-Unsubscribe-Post and an https link)' : 'not in this mail: only needed if you send bulk mail',
    not_checked: () => 'not checked: the analysis was stopped',
    no_lists: () => 'not checked: no block lists configured'
  },
  notMeasured: {
    spam_rate: 'a spam rate below 0.3 % (Postmaster Tools)',
    unsubscribe_in_2_days: 'unsubscribes honoured within two days'
  },
  stepTitle: "The big receivers' rules",
  stepDetail: (p: P) => `${p.scores}. Bulk senders' extra rules: ${p.bulk}${p.unmet ? `. Not met: ${p.unmet}` : ''}`,
  unchecked: (p: P) => `${p.count} not checked`,
  heading: 'Gmail and Yahoo sender rules',
  allSenders: 'For every sender',
  bulkSenders: 'Only if you send bulk mail (5,000 a day or more)',
  met: '✓ met',
  unmet: '✗ not met',
  unknown: '– not checked',
  asOf: (p: P) => `The rules as the receivers published them on ${p.date}. A single mail cannot show: ${p.notMeasured}.`,
  sourcesLabel: 'Sources:'
}

export type SenderRulesText = typeof EN
export type ReasonKey = keyof SenderRulesText['reason']
/** the rules there are texts for: the data (src/inbound/sender-rules-data.ts) names only these */
export type RuleId = keyof SenderRulesText['title']
export type NotMeasured = keyof SenderRulesText['notMeasured']

const JA: SenderRulesText = {
  title: {
    ptr: '送信元 IP の逆引き (PTR) があり、正引きと一致する',
    auth: 'SPF か DKIM のどちらかが pass',
    tls: 'TLS で送信している',
    format: 'Message-ID・Date・From が RFC 5322 どおり',
    helo: 'HELO の名前が FQDN (RFC 5321)',
    not_gmail_from: 'From が gmail.com のアドレスではない',
    dnsbl: '送信元 IP がブラックリストに載っていない',
    arc: '転送の記録 (ARC) の検証が通る',
    spf_and_dkim: 'SPF と DKIM の両方が pass',
    dmarc: 'DMARC レコードを公開している',
    dmarc_aligned: 'DMARC が pass (From のドメインが SPF か DKIM と一致)',
    one_click: 'ワンクリック配信停止 (List-Unsubscribe と List-Unsubscribe-Post)'
  },
  reason: {
    ptr_ok: (p) => `${p.ptr} (正引きすると ${p.ip})`,
    ptr_none: (p) => `${p.ip} に逆引きがありません`,
    ptr_mismatch: (p) => `${p.ptr} を正引きしても ${p.ip} になりません`,
    auth_ok: (p) => `${p.which} が pass`,
    auth_none: (p) => `どちらも pass していません (SPF ${p.spf}、DKIM ${p.dkim})`,
    tls_ok: (p) => `${p.version}`,
    tls_none: () => 'STARTTLS を使わずに送信されました',
    format_ok: () => '3 つとも正しい形式で入っています',
    format_missing: (p) => `ないか、形式が正しくありません: ${p.fields}`,
    helo_ok: (p) => `「${p.helo}」`,
    helo_bad: (p) => p.helo ? `「${p.helo}」は FQDN ではありません` : 'HELO/EHLO がありませんでした',
    from_own: (p) => `From: …@${p.domain}`,
    from_gmail: (p) => `From: …@${p.domain} を自宅サーバーから送っています。Gmail は DMARC により隔離します`,
    dnsbl_ok: (p) => `${p.count} 個のリストに登録なし`,
    dnsbl_listed: (p) => `${p.zones} に登録されています`,
    arc_ok: (p) => `${p.sets} 組、pass`,
    arc_bad: (p) => `${p.sets} 組: ${p.result}${p.why ? ` (${p.why})` : ''}`,
    spf_and_dkim_ok: () => '両方とも pass',
    spf_and_dkim_bad: (p) => `SPF ${p.spf}、DKIM ${p.dkim}`,
    dmarc_ok: (p) => `${p.domain}: p=${p.policy}`,
    dmarc_none: (p) => `${p.domain}: DMARC レコードがありません`,
    aligned_ok: (p) => `${p.domain}: DMARC pass`,
    aligned_bad: (p) => `${p.domain}: DMARC ${p.result}`,
    one_click_ok: () => 'あります',
    one_click_none: (p) => p.listUnsubscribe === 'yes' ? 'List-Unsubscribe はありますが、ワンクリック (List-Unsubscribe-Post と https のリンク) ではありません' : 'このメールにはありません。大量に配信する場合だけ必要です',
    not_checked: () => '解析を打ち切ったため確認していません',
    no_lists: () => '照会するリストが設定されていないため確認していません'
  },
  notMeasured: {
    spam_rate: '迷惑メール率 0.3% 未満 (Postmaster Tools で確認)',
    unsubscribe_in_2_days: '配信停止を 2 日以内に反映すること'
  },
  stepTitle: '大手の受信側のルール',
  stepDetail: (p) => `${p.scores}。大量送信者向けの追加ルール: ${p.bulk}${p.unmet ? `。満たしていないもの: ${p.unmet}` : ''}`,
  unchecked: (p) => `${p.count} 件は未確認`,
  heading: 'Gmail と Yahoo の送信者ガイドライン',
  allSenders: 'すべての送信者に必要なもの',
  bulkSenders: '大量に配信する場合だけ必要なもの (1 日 5,000 通以上)',
  met: '○ 適合',
  unmet: '× 不適合',
  unknown: '－ 未確認',
  asOf: (p) => `${p.date}時点で各社が公開しているルールです。1 通のメールでは分からないもの: ${p.notMeasured}。`,
  sourcesLabel: '出典:'
}

const TEXT: Record<Lang, SenderRulesText> = { en: EN, ja: JA }

export function senderRulesText (lang: Lang): SenderRulesText { return TEXT[lang] }
