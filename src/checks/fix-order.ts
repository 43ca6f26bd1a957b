// The order in which an expert fixes a home mail server: worst harm first.
//
//   level 1  what harms others: an open relay (on any family);
//   level 2  what stops mail: port 25 unreachable, a refused recipient or
//            postmaster@, an MX at a private address, a broken DNS entry;
//   level 3  what makes receivers refuse or junk mail (PTR, SPF/DKIM/DMARC,
//            block lists, broken TLS);
//   level 4  warnings.
//
// Inside a level, the order in which fixes depend on each other: DNS, then
// reachability (port forwarding, OP25B, a firewall), then the server, then
// mailboxes. Every advice code declares its level and stage (or that it is
// a note, not a finding) in FIX_ORDER below; there is no default, and
// test/checks/fix-order.test.ts fails on a code without a declaration.
// docs/FIX-ORDER.md is generated from this table (scripts/fix-order-doc.ts).
//
// The findings of all child reports are merged: one entry per cause (port
// 25 filtered seen by the ports, smtp, roles, relay and receive tests is one
// cause), the most specific wording first (children are visited ports
// first, then smtp …).
import type { Advice, Report } from '../core/report.js'
import { causeWords, LEVEL_WORDS, type CauseWord } from '../i18n/fix-order.js'
import type { Lang } from '../i18n/index.js'

export type Level = 1 | 2 | 3 | 4
export type Stage = 'dns' | 'reach' | 'server' | 'mailbox'
export const STAGES: readonly Stage[] = ['dns', 'reach', 'server', 'mailbox']

export interface Finding {
  level: Level
  stage: Stage
  /** what the cause is called in the headline (src/i18n/fix-order.ts) */
  cause: CauseWord
  /** the advice is about a port: on any port but 25 it is only this level (and a cause of its own) */
  otherPort?: Level
  /** a cause shared by codes that differ in a parameter (the role address) */
  by?: 'local'
}
export interface Note {
  /** why this code is no finding of its own */
  note: string
}
export type Declaration = Finding | Note

const f = (level: Level, stage: Stage, cause: CauseWord, more: Partial<Finding> = {}): Finding => ({ level, stage, cause, ...more })
const note = (why: string): Note => ({ note: why })

/** Every advice code: its level and stage, or why it is a note. Order inside a level and stage is the order here. */
export const FIX_ORDER: Readonly<Record<string, Declaration>> = {
  // 1. harms others
  'relay.open': f(1, 'server', 'relay_open'),
  'relay.open_trick': f(1, 'server', 'relay_open'),
  'relay.mynetworks_hint': f(1, 'server', 'relay_own_ip'),
  // 2. stops mail
  'refusal.mx_private': f(2, 'dns', 'mx_private'),
  'dns.mx_private': f(2, 'dns', 'mx_private'),
  'target.forbidden': f(2, 'dns', 'target_forbidden'),
  'refusal.nxdomain': f(2, 'dns', 'nxdomain'),
  'dns.nxdomain': f(2, 'dns', 'nxdomain'),
  'refusal.null_mx': f(2, 'dns', 'null_mx'),
  'dns.null_mx': f(2, 'dns', 'null_mx'),
  'refusal.no_mx': f(2, 'dns', 'no_mx'),
  'dns.no_mail_host': f(2, 'dns', 'no_mx'),
  'refusal.mx_no_address': f(2, 'dns', 'mx_no_address'),
  'dns.mx_no_address': f(2, 'dns', 'mx_no_address'),
  'refusal.ddns_stale': f(2, 'dns', 'ddns_stale'),
  'refusal.no_mx_stale': f(2, 'dns', 'ddns_stale'),
  'dns.ip_mismatch': f(2, 'dns', 'ddns_stale'),
  'target.ip_mismatch': f(2, 'dns', 'ddns_stale'),
  'refusal.dns_failed': f(2, 'dns', 'dns_failed'),
  'refusal.other_family': f(2, 'dns', 'other_family'),
  'tls.dnssec_bogus': f(2, 'dns', 'dnssec_bogus'),
  'dns.lookup_failed': f(2, 'dns', 'dns_failed'),
  'line.map_e': f(2, 'reach', 'line_ipv4'),
  'line.ds_lite': f(2, 'reach', 'line_ipv4'),
  'ports.filtered_25': f(2, 'reach', 'reach'),
  'ports.none_open': f(2, 'reach', 'reach'),
  'net.unreachable': f(2, 'reach', 'reach'),
  'smtp.unreachable_checklist': f(2, 'reach', 'reach'),
  'ports.refused': f(2, 'reach', 'reach', { otherPort: 4 }),
  'net.refused': f(2, 'reach', 'reach', { otherPort: 4 }),
  'net.timeout': f(2, 'reach', 'reach', { otherPort: 4 }),
  'ports.silent': f(2, 'reach', 'reach_silent', { otherPort: 4 }),
  'net.silent': f(2, 'reach', 'reach_silent', { otherPort: 4 }),
  'net.closed': f(2, 'reach', 'reach_silent', { otherPort: 4 }),
  'send.none_op25b': f(2, 'reach', 'send_none'),
  'send.none_queue': f(2, 'reach', 'send_none'),
  'send.none_firewall': f(2, 'reach', 'send_none'),
  'send.none_dns': f(2, 'reach', 'send_none'),
  'smtp.banner_refused': f(2, 'server', 'banner_refused'),
  'net.protocol': f(2, 'server', 'not_smtp', { otherPort: 4 }),
  'net.byte_cap': f(2, 'server', 'not_smtp', { otherPort: 4 }),
  'smtp.reply_timeout': f(2, 'server', 'reply_timeout'),
  'relay.auth_required': f(2, 'server', 'auth_required'),
  'roles.auth_required': f(2, 'server', 'auth_required'),
  'smtp.mail_refused': f(2, 'server', 'mail_refused'),
  'tls.dane_mismatch': f(2, 'server', 'dane'),
  'tls.mta_sts_enforce_broken': f(2, 'server', 'mta_sts_enforce'),
  'smtp.rcpt_unknown': f(2, 'mailbox', 'rcpt_refused'),
  'smtp.rcpt_refused': f(2, 'mailbox', 'rcpt_refused'),
  'smtp.utf8_unsupported': f(2, 'mailbox', 'utf8_unsupported'),
  'smtp.data_refused': f(2, 'mailbox', 'data_refused'),
  'smtp.postmaster_refused': f(2, 'mailbox', 'postmaster_refused'),
  'roles.required_missing': f(2, 'mailbox', 'role_missing', { by: 'local' }),
  'send.reply_refused': f(2, 'mailbox', 'reply_refused'),
  // 3. receivers refuse or junk mail
  'send.ptr_missing': f(3, 'dns', 'ptr_missing'),
  'dns.ptr_missing': f(3, 'dns', 'ptr_missing'),
  'send.ptr_generic': f(3, 'dns', 'ptr_generic'),
  'send.fcrdns_fail': f(3, 'dns', 'ptr_unconfirmed'),
  'send.ptr_missing_v6': f(3, 'dns', 'ptr_missing_v6'),
  'dns.ptr_unconfirmed': f(3, 'dns', 'ptr_unconfirmed'),
  'send.spf_no_ip6': f(3, 'dns', 'spf_no_ip6'),
  'send.spf_none': f(3, 'dns', 'spf'),
  'send.spf_fail': f(3, 'dns', 'spf'),
  'send.spf_error': f(3, 'dns', 'spf'),
  'send.dkim_none': f(3, 'dns', 'dkim'),
  'send.dkim_fail': f(3, 'dns', 'dkim'),
  'send.dmarc_fail': f(3, 'dns', 'dmarc'),
  'send.headers_missing': f(3, 'server', 'send_headers'),
  'send.from_gmail': f(3, 'server', 'send_from_gmail'),
  'send.dmarc_none': f(3, 'dns', 'dmarc'),
  'send.dnsbl_listed': f(3, 'reach', 'dnsbl'),
  'send.dnsbl_dynamic': f(3, 'reach', 'dnsbl'),
  'send.helo_invalid': f(3, 'server', 'send_helo'),
  'send.helo_mismatch': f(3, 'server', 'send_helo'),
  'smtp.starttls_failed': f(3, 'server', 'starttls_failed'),
  'smtp.tls_broken_receive': f(3, 'server', 'starttls_failed'),
  'net.tls': f(3, 'server', 'starttls_failed', { otherPort: 4 }),
  'smtp.cert_expired': f(3, 'server', 'cert_expired'),
  'tls.cert_expired': f(3, 'server', 'cert_expired'),
  'tls.cert_not_yet_valid': f(3, 'server', 'cert_not_yet_valid'),
  'tls.handshake_failed': f(3, 'server', 'starttls_failed'),
  'tls.sslv3': f(3, 'server', 'weak_tls'),
  'send.no_tls': f(3, 'server', 'send_tls'),
  'send.tls_old': f(3, 'server', 'send_tls'),
  // 4. warnings
  'dns.backup_mx_only': f(4, 'dns', 'backup_mx_only'),
  'dns.no_mx_implicit': f(4, 'dns', 'no_mx_implicit'),
  'tls.tlsa_insecure': f(4, 'dns', 'dane'),
  'tls.dane_unusable': f(4, 'dns', 'dane'),
  'tls.mta_sts_record_bad': f(4, 'dns', 'mta_sts'),
  'tls.tlsrpt_bad': f(4, 'dns', 'tlsrpt'),
  'tls.tlsrpt_missing': f(4, 'dns', 'tlsrpt'),
  'ports.tls_failed': f(4, 'reach', 'port_tls_failed'),
  'ports.cleartext_pop3': f(4, 'reach', 'cleartext'),
  'ports.cleartext_imap': f(4, 'reach', 'cleartext'),
  'smtp.no_starttls': f(4, 'server', 'no_starttls'),
  'tls.no_starttls': f(4, 'server', 'no_starttls'),
  'tls.mta_sts_fetch_failed': f(4, 'server', 'mta_sts'),
  'tls.mta_sts_redirect': f(4, 'server', 'mta_sts'),
  'tls.mta_sts_policy_bad': f(4, 'server', 'mta_sts'),
  'tls.mta_sts_mx_unmatched': f(4, 'server', 'mta_sts'),
  'tls.mta_sts_testing_broken': f(4, 'server', 'mta_sts'),
  'tls.cert_name_mismatch': f(4, 'server', 'cert_name'),
  'tls.cert_missing_intermediate': f(4, 'server', 'cert_untrusted'),
  'tls.cert_incomplete_chain': f(4, 'server', 'cert_untrusted'),
  'tls.cert_untrusted_root': f(4, 'server', 'cert_untrusted'),
  'tls.cert_self_signed': f(4, 'server', 'cert_self_signed'),
  'tls.cert_expiring': f(4, 'server', 'cert_expiring'),
  'tls.cert_differs': f(4, 'server', 'cert_renewed_not_loaded'),
  'tls.cert_different_names': f(4, 'server', 'cert_mixed'),
  'tls.weak_key': f(4, 'server', 'weak_tls'),
  'tls.legacy_versions': f(4, 'server', 'weak_tls'),
  'tls.weak_cipher': f(4, 'server', 'weak_tls'),
  'smtp.cert_name_mismatch': f(4, 'server', 'cert_name'),
  'smtp.cert_untrusted': f(4, 'server', 'cert_untrusted'),
  'smtp.cert_self_signed': f(4, 'server', 'cert_self_signed'),
  'smtp.cert_expiring': f(4, 'server', 'cert_expiring'),
  'smtp.helo_only': f(4, 'server', 'helo_only'),
  'smtp.size_small': f(4, 'server', 'size_small'),
  'send.via_relay': f(4, 'server', 'send_setup'),
  'send.not_mx_ip': f(4, 'server', 'send_setup'),
  'send.null_sender': f(4, 'server', 'send_setup'),
  'send.other_domain': f(4, 'server', 'send_setup'),
  'send.no_charset': f(4, 'server', 'send_charset'),
  'send.arc_fail': f(4, 'server', 'send_arc'),
  'pop3.not_pop3': f(4, 'server', 'pop3'),
  'pop3.cleartext_login': f(4, 'server', 'pop3'),
  'pop3.no_stls': f(4, 'server', 'pop3'),
  'pop3.stls_failed': f(4, 'server', 'pop3'),
  'pop3.no_995': f(4, 'server', 'pop3'),
  'pop3.cert_expired': f(4, 'server', 'pop3'),
  'pop3.cert_name_mismatch': f(4, 'server', 'pop3'),
  'pop3.cert_self_signed': f(4, 'server', 'pop3'),
  'pop3.login_failed': f(4, 'server', 'pop3'),
  'pop3.login_needs_tls': f(4, 'server', 'pop3'),
  'pop3.quit_unclean': f(4, 'server', 'pop3'),
  'smtp.greylisted': f(4, 'mailbox', 'greylisted'),
  'roles.temporary': f(4, 'mailbox', 'temporary'),
  'relay.temporary': f(4, 'mailbox', 'temporary'),
  'relay.untested': f(4, 'mailbox', 'relay_untested'),
  'roles.recommended_missing': f(4, 'mailbox', 'role_recommended'),
  // notes: no finding of their own
  'smtp.reply': note('explains a reply; the refusal it belongs to is the finding'),
  'smtp.short_deadlines': note("mxprobe's own time limits"),
  'smtp.banner_name_mismatch': note('not an error; the PTR finding covers it'),
  'relay.closed': note('the good result'),
  'pop3.login_ok': note('the good result'),
  'ports.filtered': note('ports.others_closed lists every closed port once'),
  'ports.others_closed': note('right for every service not run'),
  'net.error': note("mxprobe's own trouble, not the server's"),
  'net.deadline': note("mxprobe's own time limit"),
  'diag.child_not_run': note('the diagnosis lists the child and why'),
  'send.reply_not_sent': note('why no reply was sent'),
  'tls.dnssec_no_resolver': note("mxprobe's own setup: no validating resolver"),
  'tls.dane_ee_ok': note('the good result'),
  'send.analysis_stopped': note('the message was too complex to read; nothing to fix on the server'),
  'tools.headers.*': note('the header tool; never in a diagnosis'),
  'tools.mojibake.*': note('the mojibake tool; never in a diagnosis')
}

/** The declaration of a code (a `prefix.*` entry covers a whole tool), or undefined. */
export function declarationOf (code: string): Declaration | undefined {
  if (Object.hasOwn(FIX_ORDER, code)) return FIX_ORDER[code]
  for (const [k, d] of Object.entries(FIX_ORDER)) if (k.endsWith('.*') && code.startsWith(k.slice(0, -1))) return d
  return undefined
}

const POSITION = new Map(Object.keys(FIX_ORDER).map((k, i) => [k, i]))

export interface Ranked {
  level: Level
  stage: Stage
  rank: number
  /** one key per cause: advice of the same cause collapses into the first met */
  cause: string
  words: CauseWord
}

/**
 * Level, stage, rank (lower first) and cause of one advice, or null for a
 * note. An undeclared code (a test fails on it) goes last, so it is never
 * hidden.
 */
export function classify (a: Pick<Advice, 'code' | 'params'>): Ranked | null {
  const d = declarationOf(a.code)
  if (d && 'note' in d) return null
  if (!d) return { level: 4, stage: 'mailbox', rank: 5000, cause: `other:${a.code}`, words: 'temporary' }
  const params = (a.params ?? {}) as Record<string, unknown>
  const rawPort = Number(String(params.port ?? 25).split(',')[0])
  const port = Number.isFinite(rawPort) ? rawPort : 0
  const other = d.otherPort !== undefined && port !== 25
  const level = other ? d.otherPort! : d.level
  // Port 25 not reachable, or connecting and silent, is one cause however many checks saw it.
  const reach = d.cause === 'reach' || d.cause === 'reach_silent'
  let cause: string = reach ? 'reach' : d.cause
  if (reach || d.otherPort !== undefined) cause += `:${other ? port : 25}`
  if (d.by === 'local') cause += `:${String(params.local ?? '')}`
  // relay.open on IPv4 and IPv6 is one cause: the family is not part of the key.
  return { level, stage: d.stage, rank: level * 1000 + STAGES.indexOf(d.stage) * 200 + (POSITION.get(a.code) ?? 199), cause, words: d.cause }
}

export interface FixItem {
  /** the child check the finding comes from */
  check: string
  code: string
  message: string
  /** the child report's id, for a link */
  id?: string
  /** 1 harms others, 2 stops mail, 3 receivers refuse or junk, 4 warning */
  level?: Level
  stage?: Stage
  /** the cause in a few words, in the report's language */
  cause?: string
}

/** Children in the order their wording is preferred for a shared cause. */
const PREFERRED = ['dns', 'ports', 'smtp', 'tls', 'roles', 'relay', 'receive', 'send', 'pop3']

/**
 * Certificate advice of the smtp and pop3 checks: where the tls check ran beside them, its advice
 * names every port with the problem (and a DANE-EE record that vouches for a self-signed
 * certificate), so the certificate is advised once.
 */
const CERT_ADVICE = /^(smtp|pop3)\.cert_/

/** The merged, ordered fix-first list of the given child reports (in the report's language). */
export function fixFirst (children: Array<Pick<Report, 'id' | 'type' | 'advice' | 'status'>>, lang: Lang): FixItem[] {
  return fixFirstAdvice(children, lang).map((x) => x.item)
}

/** The same, each item with the advice it came from. */
export function fixFirstAdvice (children: Array<Pick<Report, 'id' | 'type' | 'advice' | 'status'>>, lang: Lang): Array<{ item: FixItem, advice: Advice }> {
  const seen = new Map<string, { rank: number, order: number, item: FixItem, advice: Advice }>()
  let order = 0
  const sorted = [...children].sort((a, b) => idx(a.type) - idx(b.type))
  const tls = children.some((c) => c.type === 'tls' && c.status !== 'error')
  for (const ch of sorted) {
    for (const a of ch.advice ?? []) {
      if (tls && ch.type !== 'tls' && CERT_ADVICE.test(a.code)) continue
      const k = classify(a)
      if (!k || seen.has(k.cause)) continue
      const message = (lang === 'ja' ? a.ja : a.en) ?? a.message
      const cause = causeWords(k.words, lang, a.params ?? {})
      seen.set(k.cause, { rank: k.rank, order: order++, item: { check: ch.type, code: a.code, message, id: ch.id, level: k.level, stage: k.stage, cause }, advice: a })
    }
  }
  return [...seen.values()].sort((a, b) => a.rank - b.rank || a.order - b.order).map((x) => ({ item: x.item, advice: x.advice }))
}

/** The headline's sentence for the worst finding: its cause in words, then what the level means. */
export function worstInWords (item: Pick<FixItem, 'cause' | 'level'> | undefined, lang: Lang): string {
  if (!item?.cause || !item.level) return ''
  return `${item.cause}${lang === 'ja' ? '。' : '. '}${LEVEL_WORDS[item.level][lang]}`
}

function idx (type: string): number {
  const i = PREFERRED.indexOf(type)
  return i < 0 ? PREFERRED.length : i
}
