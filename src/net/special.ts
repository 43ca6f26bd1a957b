// The IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
// later updates), kept here as data so every edge is visible and tested.
// mxprobe must never become a way to reach a LAN, the host itself, a cloud
// metadata address, or someone else's translation gateway.
import { parseCidr, cidrContains, parseIp, type Cidr, type Ip } from './ip.js'

export type RangeKind =
  | 'this-network' | 'private' | 'cgnat' | 'loopback' | 'link-local' | 'protocol'
  | 'documentation' | 'benchmarking' | 'multicast' | 'reserved' | 'broadcast'
  | 'translation' | 'anycast' | 'discard' | 'ula' | 'site-local' | 'unassigned'

export interface SpecialRange {
  cidr: string
  kind: RangeKind
  name: string
  rfc: string
}

export const SPECIAL_RANGES: readonly SpecialRange[] = [
  // IPv4
  { cidr: '0.0.0.0/8', kind: 'this-network', name: '"This network"', rfc: 'RFC 791' },
  { cidr: '10.0.0.0/8', kind: 'private', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '100.64.0.0/10', kind: 'cgnat', name: 'Shared Address Space (carrier-grade NAT)', rfc: 'RFC 6598' },
  { cidr: '127.0.0.0/8', kind: 'loopback', name: 'Loopback', rfc: 'RFC 1122' },
  { cidr: '169.254.0.0/16', kind: 'link-local', name: 'Link Local', rfc: 'RFC 3927' },
  { cidr: '172.16.0.0/12', kind: 'private', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '192.0.0.0/24', kind: 'protocol', name: 'IETF Protocol Assignments', rfc: 'RFC 6890' },
  { cidr: '192.0.0.0/29', kind: 'translation', name: 'IPv4 Service Continuity Prefix (DS-Lite)', rfc: 'RFC 7335' },
  { cidr: '192.0.2.0/24', kind: 'documentation', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737' },
  { cidr: '192.31.196.0/24', kind: 'anycast', name: 'AS112-v4', rfc: 'RFC 7535' },
  { cidr: '192.52.193.0/24', kind: 'anycast', name: 'AMT', rfc: 'RFC 7450' },
  { cidr: '192.88.99.0/24', kind: 'translation', name: 'Deprecated 6to4 Relay Anycast', rfc: 'RFC 7526' },
  { cidr: '192.168.0.0/16', kind: 'private', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '192.175.48.0/24', kind: 'anycast', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534' },
  { cidr: '198.18.0.0/15', kind: 'benchmarking', name: 'Benchmarking', rfc: 'RFC 2544' },
  { cidr: '198.51.100.0/24', kind: 'documentation', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737' },
  { cidr: '203.0.113.0/24', kind: 'documentation', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737' },
  { cidr: '224.0.0.0/4', kind: 'multicast', name: 'Multicast', rfc: 'RFC 5771' },
  { cidr: '240.0.0.0/4', kind: 'reserved', name: 'Reserved', rfc: 'RFC 1112' },
  { cidr: '255.255.255.255/32', kind: 'broadcast', name: 'Limited Broadcast', rfc: 'RFC 919' },
  // IPv6
  { cidr: '::/128', kind: 'this-network', name: 'Unspecified Address', rfc: 'RFC 4291' },
  { cidr: '::1/128', kind: 'loopback', name: 'Loopback Address', rfc: 'RFC 4291' },
  { cidr: '::/96', kind: 'translation', name: 'IPv4-compatible IPv6 (deprecated)', rfc: 'RFC 4291' },
  { cidr: '::ffff:0:0/96', kind: 'translation', name: 'IPv4-mapped Address', rfc: 'RFC 4291' },
  { cidr: '64:ff9b::/96', kind: 'translation', name: 'IPv4-IPv6 Translation (NAT64)', rfc: 'RFC 6052' },
  { cidr: '64:ff9b:1::/48', kind: 'translation', name: 'IPv4-IPv6 Translation, local use', rfc: 'RFC 8215' },
  { cidr: '100::/64', kind: 'discard', name: 'Discard-Only Address Block', rfc: 'RFC 6666' },
  { cidr: '100:0:0:1::/64', kind: 'reserved', name: 'Dummy IPv6 Prefix', rfc: 'RFC 9780' },
  { cidr: '2001::/23', kind: 'protocol', name: 'IETF Protocol Assignments', rfc: 'RFC 2928' },
  { cidr: '2001::/32', kind: 'translation', name: 'TEREDO', rfc: 'RFC 4380' },
  { cidr: '2001:2::/48', kind: 'benchmarking', name: 'Benchmarking', rfc: 'RFC 5180' },
  { cidr: '2001:db8::/32', kind: 'documentation', name: 'Documentation', rfc: 'RFC 3849' },
  { cidr: '2002::/16', kind: 'translation', name: '6to4', rfc: 'RFC 3056' },
  { cidr: '2620:4f:8000::/48', kind: 'anycast', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534' },
  { cidr: '3fff::/20', kind: 'documentation', name: 'Documentation', rfc: 'RFC 9637' },
  { cidr: '5f00::/16', kind: 'reserved', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602' },
  { cidr: 'fc00::/7', kind: 'ula', name: 'Unique-Local', rfc: 'RFC 4193' },
  { cidr: 'fe80::/10', kind: 'link-local', name: 'Link-Local Unicast', rfc: 'RFC 4291' },
  { cidr: 'fec0::/10', kind: 'site-local', name: 'Site-Local (deprecated)', rfc: 'RFC 3879' },
  { cidr: 'ff00::/8', kind: 'multicast', name: 'Multicast', rfc: 'RFC 4291' },
  // Everything outside 2000::/3 is unassigned unicast space today: no home server lives there.
  { cidr: '::/3', kind: 'unassigned', name: 'Not global unicast (outside 2000::/3)', rfc: 'RFC 4291' },
  { cidr: '4000::/2', kind: 'unassigned', name: 'Not global unicast (outside 2000::/3)', rfc: 'RFC 4291' },
  { cidr: '8000::/1', kind: 'unassigned', name: 'Not global unicast (outside 2000::/3)', rfc: 'RFC 4291' }
]

const COMPILED: Array<SpecialRange & { c: Cidr }> = SPECIAL_RANGES.map((r) => {
  const c = parseCidr(r.cidr)
  if (!c) throw new Error(`bad special range ${r.cidr}`)
  return { ...r, c }
})

/** The most specific special-purpose range that contains ip, or null for a global unicast address. */
export function specialRangeOf (ip: Ip | string): SpecialRange | null {
  const p = typeof ip === 'string' ? parseIp(ip) : ip
  if (!p) return null
  let best: (SpecialRange & { c: Cidr }) | null = null
  for (const r of COMPILED) {
    if (cidrContains(r.c, p) && (!best || r.c.prefix > best.c.prefix)) best = r
  }
  if (!best) return null
  return { cidr: best.cidr, kind: best.kind, name: best.name, rfc: best.rfc }
}

/** Private-looking kinds that a home user typically registers by mistake (the LAN address of the server). */
export function isLanLike (kind: RangeKind): boolean {
  return kind === 'private' || kind === 'cgnat' || kind === 'link-local' || kind === 'ula' || kind === 'loopback'
}
