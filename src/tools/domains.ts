// "Same organisation": the registrable domain of a name by the Public Suffix
// List (tldts, ICANN and private sections), so mx1.example.co.jp and
// mail.example.co.jp are one organisation while alice.github.io and
// bob.github.io, or two cities under tokyo.jp, are not. Names that only
// exist inside a LAN (localhost, *.local, *.lan, *.home.arpa …) belong to no
// organisation.
import { parse as parseDomain } from 'tldts'
import { parseIp } from '../net/ip.js'

const LOCAL_SUFFIXES = /(?:^|\.)(?:localhost|localdomain|local|lan|home|internal|intranet|corp|private|invalid|home\.arpa|in-addr\.arpa|ip6\.arpa)$/

export function organisationalDomain (host: string | null | undefined): string | null {
  if (!host) return null
  const h = host.toLowerCase().replace(/\.$/, '').replace(/^\[|\]$/g, '')
  if (!h || h.length > 253 || parseIp(h) || !h.includes('.') || !/^[a-z0-9._-]+$/.test(h)) return null
  if (LOCAL_SUFFIXES.test(h)) return null
  const d = parseDomain(h, { allowPrivateDomains: true, validateHostname: false })
  return d.domain ?? null
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
