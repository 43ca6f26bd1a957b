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
  const bare = bareAddress(v)
  return bare ? { name: '', address: bare } : { name: v, address: null }
}

function addrChar (c: number): boolean {
  // not white space, < > " ( ) , ; : @
  return c > 0x20 && c !== 0x3c && c !== 0x3e && c !== 0x22 && c !== 0x28 && c !== 0x29 && c !== 0x2c && c !== 0x3b && c !== 0x3a && c !== 0x40 && c !== 0x7f
}

/**
 * The first local@domain in a text, found from each "@" outwards, so a long
 * value without one costs a single scan (a regex would retry at every position).
 */
export function bareAddress (v: string): string | null {
  let at = v.indexOf('@')
  while (at >= 0) {
    let a = at
    let b = at
    while (a > 0 && addrChar(v.charCodeAt(a - 1))) a--
    while (b + 1 < v.length && addrChar(v.charCodeAt(b + 1))) b++
    if (a < at && b > at) return v.slice(a, b + 1)
    at = v.indexOf('@', at + 1)
  }
  return null
}
