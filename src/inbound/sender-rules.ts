// The send test's checklist of the big receivers' rules: each rule of
// ./sender-rules-data.ts judged against what the listener found in one mail,
// met, not met, or not checked, with the reason in the report's language.
// Pure: findings in, verdict out; tested without sockets (test/inbound/sender-rules.test.ts).
import type { Lang } from '../i18n/index.js'
import { senderRulesText, type ReasonKey } from '../i18n/sender-rules.js'
import { SENDER_RULES, type ReceiverRules, type RuleId } from './sender-rules-data.js'
import type { InboundFindings } from './analyze.js'

/** The findings a rule reads: the listener's InboundFindings, or a part of them in tests. */
export type RuleFacts = Pick<InboundFindings, 'connectingIp' | 'ptr' | 'fcrdns' | 'helo' | 'heloFqdn' | 'tls' | 'spf' | 'dkim' | 'dmarc' | 'arc' | 'format' | 'dnsbl' | 'stopped'>

export interface RuleVerdict {
  rule: RuleId
  scope: 'all' | 'bulk'
  /** null: not checked (the analysis was stopped, or no block lists are configured) */
  met: boolean | null
  title: string
  reason: string
}

export interface ReceiverVerdict {
  id: string
  name: string
  /** rules for every sender: met, and judged (met or not; not checked ones left out) */
  met: number
  of: number
  bulk: { met: number, of: number }
  /** the receiver's pages the rules come from */
  sources: string[]
  /** unmet first, then not checked, then met; every-sender rules before bulk ones */
  rules: RuleVerdict[]
}

export interface SenderRulesVerdict {
  asOf: string
  sources: string[]
  receivers: ReceiverVerdict[]
  /** what one mail cannot show, in words */
  notMeasured: string[]
}

interface Judged { met: boolean | null, key: ReasonKey, p?: Record<string, string> }

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com'])

function dkimWords (f: RuleFacts): string {
  return f.dkim.length ? f.dkim.map((d) => d.result).join('/') : 'none'
}

/** One rule against one mail's findings; null for a rule that does not apply (ARC without a chain). */
export function judgeRule (rule: RuleId, f: RuleFacts): Judged | null {
  const dkimPass = f.dkim.find((d) => d.result === 'pass')
  const spfPass = f.spf.result === 'pass'
  switch (rule) {
    case 'ptr':
      if (!f.ptr) return { met: false, key: 'ptr_none', p: { ip: f.connectingIp } }
      if (!f.fcrdns) return { met: false, key: 'ptr_mismatch', p: { ptr: f.ptr, ip: f.connectingIp } }
      return { met: true, key: 'ptr_ok', p: { ptr: f.ptr, ip: f.connectingIp } }
    case 'auth':
      if (spfPass || dkimPass) return { met: true, key: 'auth_ok', p: { which: spfPass ? `SPF (${f.spf.domain})` : `DKIM (d=${dkimPass?.domain ?? '?'})` } }
      if (f.stopped) return { met: null, key: 'not_checked' }
      return { met: false, key: 'auth_none', p: { spf: f.spf.result, dkim: dkimWords(f) } }
    case 'tls':
      return f.tls ? { met: true, key: 'tls_ok', p: { version: f.tls.version } } : { met: false, key: 'tls_none' }
    case 'format': {
      if (!f.format) return { met: null, key: 'not_checked' }
      const missing = [f.format.messageId ? '' : 'Message-ID', f.format.date ? '' : 'Date', f.format.from ? '' : 'From'].filter(Boolean)
      return missing.length ? { met: false, key: 'format_missing', p: { fields: missing.join(', ') } } : { met: true, key: 'format_ok' }
    }
    case 'helo': {
      const ok = !!f.helo && (f.heloFqdn || /^\[[0-9a-f.:IPv6]+\]$/i.test(f.helo))
      return ok ? { met: true, key: 'helo_ok', p: { helo: f.helo ?? '' } } : { met: false, key: 'helo_bad', p: { helo: f.helo ?? '' } }
    }
    case 'not_gmail_from':
      if (!f.format) return { met: null, key: 'not_checked' }
      return GMAIL_DOMAINS.has(f.format.fromDomain)
        ? { met: false, key: 'from_gmail', p: { domain: f.format.fromDomain } }
        : { met: true, key: 'from_own', p: { domain: f.format.fromDomain || '-' } }
    case 'dnsbl': {
      if (!f.dnsbl.length) return { met: null, key: 'no_lists' }
      const listed = f.dnsbl.filter((x) => x.listed)
      return listed.length ? { met: false, key: 'dnsbl_listed', p: { zones: listed.map((x) => x.zone).join(', ') } } : { met: true, key: 'dnsbl_ok', p: { count: String(f.dnsbl.length) } }
    }
    case 'arc':
      if (!f.arc) return null
      return f.arc.result === 'pass'
        ? { met: true, key: 'arc_ok', p: { sets: String(f.arc.sets) } }
        : { met: f.arc.result === 'not_checked' ? null : false, key: 'arc_bad', p: { sets: String(f.arc.sets), result: f.arc.result, why: f.arc.reason ?? '' } }
    case 'spf_and_dkim':
      if (spfPass && dkimPass) return { met: true, key: 'spf_and_dkim_ok' }
      if (f.stopped && spfPass) return { met: null, key: 'not_checked' }
      return { met: false, key: 'spf_and_dkim_bad', p: { spf: f.spf.result, dkim: dkimWords(f) } }
    case 'dmarc':
      if (f.stopped) return { met: null, key: 'not_checked' }
      return f.dmarc.result === 'none'
        ? { met: false, key: 'dmarc_none', p: { domain: f.dmarc.domain ?? f.format?.fromDomain ?? '-' } }
        : { met: true, key: 'dmarc_ok', p: { domain: f.dmarc.domain ?? '-', policy: f.dmarc.policy ?? '-' } }
    case 'dmarc_aligned':
      if (f.stopped) return { met: null, key: 'not_checked' }
      return f.dmarc.result === 'pass'
        ? { met: true, key: 'aligned_ok', p: { domain: f.dmarc.domain ?? '-' } }
        : { met: false, key: 'aligned_bad', p: { domain: f.dmarc.domain ?? f.format?.fromDomain ?? '-', result: f.dmarc.result } }
    case 'one_click':
      if (!f.format) return { met: null, key: 'not_checked' }
      return f.format.oneClick ? { met: true, key: 'one_click_ok' } : { met: false, key: 'one_click_none', p: { listUnsubscribe: f.format.listUnsubscribe ? 'yes' : 'no' } }
  }
}

const ORDER = (v: RuleVerdict): number => (v.scope === 'bulk' ? 3 : 0) + (v.met === false ? 0 : v.met === null ? 1 : 2)

function judgeReceiver (rx: ReceiverRules, f: RuleFacts, lang: Lang): ReceiverVerdict {
  const t = senderRulesText(lang)
  const rules: RuleVerdict[] = []
  for (const entry of rx.rules) {
    const j = judgeRule(entry.rule, f)
    if (!j) continue
    rules.push({ rule: entry.rule, scope: entry.scope, met: j.met, title: t.title[entry.rule], reason: t.reason[j.key](j.p ?? {}) })
  }
  const count = (scope: 'all' | 'bulk', met: boolean): number => rules.filter((x) => x.scope === scope && (met ? x.met === true : x.met !== null)).length
  rules.sort((a, b) => ORDER(a) - ORDER(b))
  return { id: rx.id, name: rx.name, met: count('all', true), of: count('all', false), bulk: { met: count('bulk', true), of: count('bulk', false) }, sources: rx.sources, rules }
}

/** The checklist of every receiver in the data, for one mail. */
export function senderRules (f: RuleFacts, lang: Lang, data = SENDER_RULES): SenderRulesVerdict {
  const t = senderRulesText(lang)
  const notMeasured = [...new Set(data.receivers.flatMap((r) => r.notMeasured))].map((k) => t.notMeasured[k])
  return {
    asOf: data.asOf,
    sources: data.receivers.flatMap((r) => r.sources),
    receivers: data.receivers.map((r) => judgeReceiver(r, f, lang)),
    notMeasured
  }
}

/** "Gmail 5/6, Yahoo 4/5": the score line, every-sender rules. */
export function scoreLine (v: SenderRulesVerdict, scope: 'all' | 'bulk' = 'all'): string {
  return v.receivers.map((r) => scope === 'all' ? `${r.name} ${r.met}/${r.of}` : `${r.name} ${r.bulk.met}/${r.bulk.of}`).join(', ')
}

/** The step's detail: scores, the bulk scores, the unmet every-sender rules by name. */
export function rulesStepDetail (v: SenderRulesVerdict, lang: Lang): string {
  const t = senderRulesText(lang)
  const unmet = [...new Set(v.receivers.flatMap((r) => r.rules.filter((x) => x.scope === 'all' && x.met === false).map((x) => x.title)))]
  return t.stepDetail({ scores: scoreLine(v), bulk: scoreLine(v, 'bulk'), unmet: unmet.join(lang === 'ja' ? '、' : '; ') })
}
