// "Same organisation" without the whole Public Suffix List: the registrable
// part of a name is its last two labels, or three under the second-level
// suffixes that countries use for companies and providers (co.jp, ne.jp,
// co.uk, com.au …). Good enough to tell mx1.example.co.jp and
// mail.example.co.jp apart from a stranger; documented as a heuristic.
import { parseIp } from '../net/ip.js'

const SECOND_LEVEL = new Set([
  'co', 'ne', 'or', 'ac', 'ad', 'ed', 'go', 'gr', 'lg', 'com', 'net', 'org', 'gov', 'edu', 'mil', 'ltd', 'plc', 'nhs', 'sch', 'gob', 'nic', 'biz', 'info'
])

export function organisationalDomain (host: string | null | undefined): string | null {
  if (!host) return null
  const h = host.toLowerCase().replace(/\.$/, '').replace(/^\[|\]$/g, '')
  if (!h || parseIp(h) || !h.includes('.') || !/^[a-z0-9._-]+$/.test(h)) return null
  const labels = h.split('.').filter(Boolean)
  if (labels.length < 2) return null
  const tld = labels[labels.length - 1]
  const sld = labels[labels.length - 2]
  if (labels.length >= 3 && tld.length === 2 && SECOND_LEVEL.has(sld)) return labels.slice(-3).join('.')
  return labels.slice(-2).join('.')
}

export function sameOrganisation (a: string | null | undefined, b: string | null | undefined): boolean {
  const x = organisationalDomain(a)
  const y = organisationalDomain(b)
  return x !== null && x === y
}

/** The domain part of an address, lower case, or null. */
export function domainOfAddress (addr: string | null | undefined): string | null {
  if (!addr) return null
  const at = addr.lastIndexOf('@')
  if (at < 0) return null
  const d = addr.slice(at + 1).trim().toLowerCase().replace(/[>.]+$/, '')
  return d || null
}

export interface MailAddress { name: string, address: string | null }

/**
 * The first address of an address header (already RFC 2047-decoded): the
 * angle-bracket form wins, else a bare addr-spec. The display name is what
 * precedes the angle bracket, unquoted.
 */
export function firstAddress (value: string | null | undefined): MailAddress | null {
  if (!value) return null
  const v = value.trim()
  const angle = v.match(/<\s*([^<>\s]*)\s*>/)
  if (angle) {
    const name = v.slice(0, angle.index).trim().replace(/^"(.*)"$/s, '$1').replace(/\\(.)/g, '$1').trim()
    return { name, address: angle[1] || null }
  }
  const bare = v.match(/[^\s<>"(),;:@]+@[^\s<>"(),;:@]+/)
  return bare ? { name: '', address: bare[0] } : { name: v, address: null }
}
