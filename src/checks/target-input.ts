// Forgiving input: people paste what they have. A mail address, a URL or a
// host with a path typed into a "domain" field is understood, and the report
// says what was taken from it. Everything still ends in validateDomain /
// parseMailbox, so nothing unvalidated reaches DNS or an SMTP command.
import { validateDomain, assertNoControl, type DomainName } from '../dns/names.js'
import { parseMailbox, type Mailbox } from '../smtp/address.js'
import { BadInputError } from '../errors.js'
import { parseIp } from '../net/ip.js'
import { bi, type Lang } from '../i18n/index.js'
import type { ReportBuilder } from '../core/report.js'

export type TargetKind = 'domain' | 'address' | 'url'

export interface UnderstoodTarget {
  /** what was typed (trimmed, at most 300 characters kept) */
  input: string
  kind: TargetKind
  domain: DomainName
  /** the mailbox, when an address was given */
  address: Mailbox | null
}

/**
 * A domain, `user@domain` (also `mailto:`), or a URL (`https://www.example.com/x`,
 * `example.com/x`, `example.com:25`): its domain, and the mailbox when there is one.
 */
export function understandTarget (input: unknown, field = 'target'): UnderstoodTarget {
  if (typeof input !== 'string') throw new BadInputError(`${field} must be a string`, field)
  assertNoControl(input, field)
  let s = input.trim()
  if (!s) throw new BadInputError(`${field} is empty`, field)
  if (s.length > 1024) throw new BadInputError(`${field} is too long`, field)
  const shown = s.slice(0, 300)
  // Angle brackets around an address ("Taro <taro@example.jp>"): take what is inside.
  const angle = s.match(/<([^<>]+)>\s*$/)
  if (angle) s = angle[1].trim()
  if (/^mailto:/i.test(s)) {
    s = decodeURIComponentSafe(s.slice(7).split('?')[0])
    return { input: shown, kind: 'address', address: parseMailbox(s, field), domain: parseMailbox(s, field).domain }
  }
  // An IP address (also [v6]) is refused by validateDomain with its own message, not read as host:port.
  if (s.startsWith('[') || parseIp(s)) return { input: shown, kind: 'domain', address: null, domain: validateDomain(s, field) }
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s)
  if (scheme || /^[^@/\s]+[/:?#]/.test(s)) {
    let host: string
    try {
      const u = new URL(scheme ? s : `http://${s}`)
      host = u.hostname
    } catch {
      throw new BadInputError(`${field} "${shown}" is not a domain, a mail address or a URL`, field)
    }
    if (!host) throw new BadInputError(`${field} "${shown}" has no host name`, field)
    // A web address of the same site: www.example.jp receives no mail, example.jp does.
    if (/^www\.[^.]+\.[^.]+/i.test(host)) host = host.slice(4)
    return { input: shown, kind: 'url', address: null, domain: validateDomain(host, field) }
  }
  if (s.includes('@')) {
    const m = parseMailbox(s, field)
    return { input: shown, kind: 'address', address: m, domain: m.domain }
  }
  return { input: shown, kind: 'domain', address: null, domain: validateDomain(s, field) }
}

function decodeURIComponentSafe (s: string): string {
  try { return decodeURIComponent(s) } catch { return s }
}

/** The domain of whatever was typed into a domain field (validated). */
export function understandDomain (input: unknown, field = 'domain'): UnderstoodTarget {
  return understandTarget(input, field)
}

/** For the per-domain rate limit of a route: the A-label domain, or undefined when the input is bad (refused later). */
export function domainKeyOf (input: unknown): string | undefined {
  try { return understandTarget(input).domain.ascii } catch { return undefined }
}

/**
 * When the input was not a bare domain, say what was taken from it: in the
 * report (`understood`) and as a transcript note, in the report's language.
 */
export function noteUnderstood (r: ReportBuilder, u: UnderstoodTarget): void {
  r.set('understood', { input: u.input, kind: u.kind, domain: u.domain.ascii, address: u.address?.address ?? null })
  if (u.kind === 'domain' && u.input.toLowerCase().replace(/\.$/, '') === u.domain.ascii) return
  r.info(understoodText(r.lang, u))
}

export function understoodText (lang: Lang, u: UnderstoodTarget): string {
  const d = u.domain.unicode === u.domain.ascii ? u.domain.ascii : `${u.domain.unicode} (${u.domain.ascii})`
  switch (u.kind) {
    case 'address': return bi(lang, `入力「${u.input}」はメールアドレスなので、ドメイン ${d} をテストします`, `"${u.input}" is a mail address: testing its domain ${d}`)
    case 'url': return bi(lang, `入力「${u.input}」は URL なので、ホスト名 ${d} をドメインとしてテストします`, `"${u.input}" is a URL: testing its host name ${d} as the domain`)
    default: return bi(lang, `入力「${u.input}」をドメイン ${d} としてテストします`, `testing "${u.input}" as the domain ${d}`)
  }
}
