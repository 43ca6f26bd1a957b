// The order in which an expert fixes a home mail server: DNS first (a LAN
// address in the MX, a stale dynamic DNS entry), then reachability (port
// forwarding, the ISP's port-25 block, a firewall), then the server itself
// (greeting, TLS, certificate), then mailboxes and relay. The findings of
// all child reports are merged here: one entry per cause (port 25 filtered
// seen by the ports, smtp, roles, relay and receive tests is one cause),
// most important first, without notes that are no finding at all.
import type { Advice, Report } from './report.js'

export interface FixItem {
  /** the child check the finding comes from */
  check: string
  code: string
  message: string
  /** the child report's id, for a link */
  id?: string
}

/** Codes that are notes, not findings: never in the fix-first list. */
const NOT_A_FINDING = new Set([
  'smtp.short_deadlines', 'relay.closed', 'pop3.login_ok', 'smtp.reply', 'net.error', 'net.deadline', 'diag.child_not_run',
  'ports.filtered', 'ports.others_closed', 'smtp.banner_name_mismatch'
])

/**
 * Rank (lower first) and cause of an advice code. Codes of the same cause
 * collapse into the first one met (children are visited ports first, so
 * the most specific wording wins).
 */
export function classify (a: Pick<Advice, 'code' | 'params'>): { rank: number, cause: string } | null {
  const c = a.code
  if (NOT_A_FINDING.has(c)) return null
  const rawPort = Number(String((a.params as { port?: unknown } | undefined)?.port ?? 25).split(',')[0])
  const port = Number.isFinite(rawPort) ? rawPort : 0
  // 1. DNS
  const dns: Record<string, number> = {
    'refusal.mx_private': 100,
    'dns.mx_private': 100,
    'refusal.nxdomain': 101,
    'dns.nxdomain': 101,
    'refusal.null_mx': 102,
    'dns.null_mx': 102,
    'refusal.no_mx': 103,
    'dns.no_mail_host': 103,
    'refusal.mx_no_address': 104,
    'dns.mx_no_address': 104,
    'refusal.ddns_stale': 110,
    'refusal.no_mx_stale': 110,
    'dns.ip_mismatch': 110,
    'target.ip_mismatch': 110,
    'dns.lookup_failed': 115,
    'refusal.dns_failed': 115,
    'dns.backup_mx_only': 120,
    'dns.no_mx_implicit': 130
  }
  if (c in dns) {
    const cause = c.replace(/^(refusal|dns|target)\./, '').replace('no_mail_host', 'no_mx').replace('no_mx_stale', 'ddns_stale').replace('ip_mismatch', 'ddns_stale')
    return { rank: dns[c], cause: `dns:${cause}` }
  }
  // 2. Reachability, port 25 before the others
  const reach = new Set(['ports.filtered_25', 'ports.refused', 'ports.silent', 'ports.none_open', 'net.refused', 'net.timeout', 'net.unreachable', 'net.closed', 'net.silent', 'smtp.unreachable_checklist'])
  if (reach.has(c)) {
    // Nothing open at all is port 25 not open, seen from further away: one cause.
    if (c === 'ports.none_open' || c === 'net.unreachable') return { rank: 210, cause: 'reach:25' }
    if (c === 'smtp.unreachable_checklist') return { rank: 210, cause: 'reach:25' }
    if (port === 25) return { rank: c === 'ports.silent' || c === 'net.silent' || c === 'net.closed' ? 212 : 210, cause: 'reach:25' }
    return { rank: 250 + port / 1000, cause: `reach:${port}` }
  }
  // 3. The server: greeting, EHLO, TLS, certificate, PTR
  const server: Record<string, number> = {
    'smtp.banner_refused': 300,
    'net.protocol': 301,
    'net.byte_cap': 302,
    'smtp.helo_only': 305,
    'smtp.starttls_failed': 310,
    'smtp.tls_broken_receive': 310,
    'net.tls': 311,
    'ports.tls_failed': 312,
    'smtp.cert_expired': 320,
    'smtp.no_starttls': 322,
    'smtp.cert_name_mismatch': 325,
    'smtp.cert_untrusted': 326,
    'smtp.cert_self_signed': 327,
    'smtp.cert_expiring': 328,
    'smtp.mail_refused': 330,
    'smtp.size_small': 340,
    'dns.ptr_missing': 350,
    'dns.ptr_unconfirmed': 351,
    'smtp.utf8_unsupported': 355
  }
  if (c in server) {
    const cause = c === 'smtp.tls_broken_receive' || c === 'net.tls' ? 'server:starttls_failed' : `server:${c.split('.')[1]}`
    return { rank: server[c], cause }
  }
  // 4. Mailboxes and relay (an open relay first: it gets the IP blacklisted within hours)
  const last: Record<string, number> = {
    'relay.open': 400,
    'relay.open_trick': 401,
    'relay.mynetworks_hint': 402,
    'relay.auth_required': 405,
    'roles.auth_required': 405,
    'smtp.rcpt_unknown': 410,
    'smtp.rcpt_refused': 411,
    'smtp.data_refused': 412,
    'smtp.postmaster_refused': 420,
    'roles.required_missing': 421,
    'smtp.greylisted': 430,
    'roles.temporary': 431,
    'relay.temporary': 432,
    'roles.recommended_missing': 440
  }
  if (c in last) {
    const cause = c === 'roles.auth_required'
      ? 'mail:relay.auth_required'
      : c === 'smtp.postmaster_refused'
        ? 'mail:roles.required_missing:postmaster'
        : c === 'roles.required_missing'
          ? `mail:roles.required_missing:${String((a.params as { local?: unknown } | undefined)?.local ?? '')}`
          : c === 'relay.open' || c === 'relay.open_trick' ? 'mail:relay.open' : `mail:${c}`
    return { rank: last[c], cause }
  }
  if (c.startsWith('pop3.') || c.startsWith('ports.cleartext')) return { rank: 500, cause: `pop3:${c}` }
  // Codes this table does not know yet (other areas add them): by area, after the known ones of it.
  if (c.startsWith('receive.')) return { rank: 415, cause: `mail:${c}` }
  if (c.startsWith('relay.')) return { rank: 403, cause: `mail:${c}` }
  if (c.startsWith('smtp.')) return { rank: 360, cause: `server:${c}` }
  if (c.startsWith('dns.')) return { rank: 140, cause: `dns:${c}` }
  return { rank: 600, cause: `other:${c}` }
}

/** Children in the order their wording is preferred for a shared cause. */
const PREFERRED = ['dns', 'ports', 'smtp', 'roles', 'relay', 'receive', 'pop3']

/** The merged, ordered fix-first list of the given child reports (in the report's language). */
export function fixFirst (children: Array<Pick<Report, 'id' | 'type' | 'advice' | 'status'>>, lang: 'ja' | 'en'): FixItem[] {
  return fixFirstAdvice(children, lang).map((x) => x.item)
}

/** The same, each item with the advice it came from. */
export function fixFirstAdvice (children: Array<Pick<Report, 'id' | 'type' | 'advice' | 'status'>>, lang: 'ja' | 'en'): Array<{ item: FixItem, advice: Advice }> {
  const seen = new Map<string, { rank: number, order: number, item: FixItem, advice: Advice }>()
  let order = 0
  const sorted = [...children].sort((a, b) => idx(a.type) - idx(b.type))
  for (const ch of sorted) {
    for (const a of ch.advice ?? []) {
      const k = classify(a)
      if (!k) continue
      if (seen.has(k.cause)) continue
      const message = (lang === 'ja' ? a.ja : a.en) ?? a.message
      seen.set(k.cause, { rank: k.rank, order: order++, item: { check: ch.type, code: a.code, message, id: ch.id }, advice: a })
    }
  }
  return [...seen.values()].sort((a, b) => a.rank - b.rank || a.order - b.order).map((x) => ({ item: x.item, advice: x.advice }))
}

function idx (type: string): number {
  const i = PREFERRED.indexOf(type)
  return i < 0 ? PREFERRED.length : i
}
