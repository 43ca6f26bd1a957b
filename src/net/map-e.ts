// MAP-E (RFC 7597): which shared IPv4 address and which ports a home owns,
// from its IPv6 prefix and the provider's Basic Mapping Rule. Pure integer
// arithmetic over the address bits, tested against RFC 7597 Appendix A.
//
// A rule: the Rule IPv6 prefix (r6 bits), the Rule IPv4 prefix (r4 bits),
// the EA-bits length (o) and the PSID offset (a, default 6). The o bits of
// the home's IPv6 prefix right after the rule prefix are the EA bits: their
// first p = 32 - r4 bits complete the IPv4 address, the remaining
// k = o - p bits are the PSID (Port Set ID). The home owns the ports whose
// bits after the first a are the PSID: for every A in 1 .. 2^a - 1, the
// range A·2^(16-a) + PSID·2^m … + 2^m - 1, with m = 16 - a - k (section 5.1).
import { parseCidr, parseIp, formatIpv4, formatIpv6, type Cidr } from './ip.js'

export interface MapRule {
  /** Rule IPv6 prefix, e.g. 2001:db8::/40 */
  ipv6Prefix: string
  /** Rule IPv4 prefix, e.g. 192.0.2.0/24 */
  ipv4Prefix: string
  /** EA-bits length (o), 0..48 */
  eaBits: number
  /** PSID offset (a), default 6 (section 5.1) */
  psidOffset?: number
}

export interface PortRange { from: number, to: number }

export interface MapResult {
  ipv4: string
  psid: number
  /** PSID length k (bits); the sharing ratio is 2^k */
  psidLength: number
  /** the end-user IPv6 prefix (r6 + o bits) the rule maps */
  endUserPrefix: string
  /** ports the home owns, in order */
  ports: PortRange[]
  /** how many ports that is */
  portCount: number
}

interface Parsed { v6: Cidr, v4: Cidr, o: number, a: number, p: number, k: number }

/** The rule's numbers, checked against RFC 7597 section 5's constraints; null for an impossible rule. */
export function parseRule (rule: MapRule): Parsed | null {
  const v6 = parseCidr(rule.ipv6Prefix)
  const v4 = parseCidr(rule.ipv4Prefix)
  if (!v6 || v6.family !== 6 || !v4 || v4.family !== 4) return null
  const o = rule.eaBits
  const a = rule.psidOffset ?? 6
  if (!Number.isInteger(o) || o < 0 || o > 48 || !Number.isInteger(a) || a < 0 || a > 15) return null
  const p = 32 - v4.prefix
  const k = o - p
  // the EA bits must fit in the /64 (section 5.2: r6 + o <= 64) and cover the IPv4 suffix
  if (v6.prefix + o > 64 || k < 0 || a + k > 16) return null
  return { v6, v4, o, a, p, k }
}

/** The ports of one PSID: every A from 1 (A = 0 would be ports 0–1023 with a = 6) to 2^a − 1. */
export function portSet (psid: number, psidLength: number, psidOffset = 6): PortRange[] {
  const m = 16 - psidOffset - psidLength
  if (m < 0) return []
  // with no offset the PSID's ports are one run from 0; else A from 1 to 2^a - 1
  if (psidOffset === 0) return [{ from: psid * 2 ** m, to: psid * 2 ** m + 2 ** m - 1 }]
  const out: PortRange[] = []
  const last = 2 ** psidOffset
  for (let A = 1; A < last; A++) {
    const from = A * 2 ** (16 - psidOffset) + psid * 2 ** m
    out.push({ from, to: from + 2 ** m - 1 })
  }
  return out
}

/** What the rule maps the home's IPv6 address (any address of its prefix) to; null when the rule does not cover it. */
export function mapAddress (rule: MapRule, ipv6: string): MapResult | null {
  const r = parseRule(rule)
  const ip = parseIp(ipv6)
  if (!r || !ip || ip.family !== 6) return null
  const hostBits = 128n - BigInt(r.v6.prefix)
  if ((ip.value >> hostBits) !== (r.v6.base >> hostBits)) return null
  const ea = (ip.value >> BigInt(128 - r.v6.prefix - r.o)) & ((1n << BigInt(r.o)) - 1n)
  const suffix = r.k ? ea >> BigInt(r.k) : ea
  const psid = Number(ea & ((1n << BigInt(r.k)) - 1n))
  const ipv4 = formatIpv4(r.v4.base | suffix)
  const endBits = r.v6.prefix + r.o
  const end = (ip.value >> BigInt(128 - endBits)) << BigInt(128 - endBits)
  const ports = r.k ? portSet(psid, r.k, r.a) : [{ from: 0, to: 65535 }]
  return { ipv4, psid, psidLength: r.k, endUserPrefix: `${formatIpv6(end)}/${endBits}`, ports, portCount: ports.reduce((n, x) => n + x.to - x.from + 1, 0) }
}

/** The PSID a port belongs to under a rule's offset and PSID length (section 5.1, read backwards). */
export function psidOfPort (port: number, psidLength: number, psidOffset = 6): number {
  const m = 16 - psidOffset - psidLength
  return (port >> m) & (2 ** psidLength - 1)
}

/**
 * The MAP CE's own IPv6 address (section 6): the end-user prefix, then the interface ID
 * 16 zero bits, the IPv4 address, the PSID (right-aligned in 16 bits).
 */
export function ceAddress (rule: MapRule, ipv6: string): string | null {
  const m = mapAddress(rule, ipv6)
  if (!m) return null
  const prefix = parseCidr(m.endUserPrefix)!
  const subnet = (prefix.base >> 64n) << 64n
  const v4 = parseIp(m.ipv4)!.value
  return formatIpv6(subnet | (v4 << 16n) | BigInt(m.psid))
}

/** Does a port belong to the home under this rule (for "is 25 yours": never, with a = 6 and A ≥ 1). */
export function ownsPort (m: MapResult, port: number): boolean {
  return m.ports.some((r) => port >= r.from && port <= r.to)
}
