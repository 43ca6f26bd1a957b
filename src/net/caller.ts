// Who the caller is, as addresses mxprobe may connect to: the connection's
// own address, plus each address the same caller proved by a valid proof
// (src/net/proof.ts) fetched over the other address family. IPv4 counts
// exactly (a home shares one address behind NAT); IPv6 counts by the home's
// prefix (IPV6_HOME_PREFIX, default /64): the PC that opened the page has a
// temporary privacy address and the mail server another one in the same /64.
import { parseIp, parseCidr, cidrContains, formatIpv6, type Cidr, type Family } from './ip.js'

export const DEFAULT_IPV6_HOME_PREFIX = 64

/**
 * The URLs where this same service answers over one family only
 * (IPV4_ORIGIN, IPV6_ORIGIN): where a caller proves its address of that family.
 */
export interface FamilyOrigins { 4?: string | null, 6?: string | null, /** PUBLIC_ORIGIN: the service's own dual-stack URL */ public?: string | null }

export interface ProvenAddress {
  /** canonical text of the address that asked */
  ip: string
  family: Family
  /** the TCP peer (or trusted X-Forwarded-For) of this request, or a proof from the other origin */
  via: 'connection' | 'proof'
  /** IPv6 only: the home prefix length this address stands for */
  prefix?: number
  /** IPv6 only: the home prefix as CIDR text (2001:db8:1:2::/64) */
  home?: string
}

export class CallerAddresses {
  /** the connection's own address (canonical): what `callerIp` always was */
  readonly connectionIp: string
  readonly connectionFamily: Family | null
  /** the connection's address first, then each proven address once */
  readonly addresses: readonly ProvenAddress[]
  readonly ipv6HomePrefix: number
  private readonly nets: Array<{ cidr: Cidr, addr: ProvenAddress }>

  constructor (connectionIp: string, proven: readonly string[] = [], ipv6HomePrefix = DEFAULT_IPV6_HOME_PREFIX) {
    if (!Number.isInteger(ipv6HomePrefix) || ipv6HomePrefix < 1 || ipv6HomePrefix > 128) throw new Error(`IPV6_HOME_PREFIX must be 1..128, got ${ipv6HomePrefix}`)
    this.ipv6HomePrefix = ipv6HomePrefix
    const conn = parseIp(connectionIp)
    this.connectionIp = conn ? conn.text : connectionIp
    this.connectionFamily = conn ? conn.family : null
    const list: ProvenAddress[] = []
    this.nets = []
    const add = (text: string, via: ProvenAddress['via']): void => {
      const ip = parseIp(text)
      if (!ip) return
      const prefix = ip.family === 4 ? 32 : ipv6HomePrefix
      const cidr = parseCidr(`${ip.text}/${prefix}`)!
      // The same home twice (a second proof from the same /64, or a proof of the connection's own address) counts once.
      if (this.nets.some((n) => n.cidr.family === cidr.family && n.cidr.base === cidr.base && n.cidr.prefix === cidr.prefix)) return
      const addr: ProvenAddress = ip.family === 4
        ? { ip: ip.text, family: 4, via }
        : { ip: ip.text, family: 6, via, prefix, home: `${formatIpv6(cidr.base)}/${prefix}` }
      list.push(addr)
      this.nets.push({ cidr, addr })
    }
    add(connectionIp, 'connection')
    for (const p of proven) add(p, 'proof')
    this.addresses = list
  }

  /** Caller addresses from the connection alone (no proofs): the rule as it was for one-family homes. */
  static of (connectionIp: string, proven: readonly string[] = [], ipv6HomePrefix = DEFAULT_IPV6_HOME_PREFIX): CallerAddresses {
    return new CallerAddresses(connectionIp, proven, ipv6HomePrefix)
  }

  /** Accept either form where the old interface took a plain caller IP. */
  static from (caller: CallerAddresses | string): CallerAddresses {
    return typeof caller === 'string' ? new CallerAddresses(caller) : caller
  }

  /** The proven address whose home contains `ip` (IPv4 exactly, IPv6 by home prefix), or null. */
  ownerOf (ipText: string): ProvenAddress | null {
    const ip = parseIp(ipText)
    if (!ip) return null
    return this.nets.find((n) => cidrContains(n.cidr, ip))?.addr ?? null
  }

  /** Is `ip` one of the caller's own addresses? */
  owns (ipText: string): boolean {
    return this.ownerOf(ipText) !== null
  }

  /** Did the caller prove an address of this family (by the connection or a proof)? */
  has (family: Family): boolean {
    return this.addresses.some((a) => a.family === family)
  }

  /** The proven addresses of one family. */
  of (family: Family): ProvenAddress[] {
    return this.addresses.filter((a) => a.family === family)
  }

  /** The proven addresses as people read them: 203.0.113.5, 2001:db8:1:2::/64 (from 2001:db8:1:2::9). */
  describe (): string {
    return this.addresses.map(describeAddress).join(', ')
  }

  /** A stable key of who asks (repeat cache): the homes, sorted. */
  key (): string {
    return this.addresses.map((a) => a.home ?? a.ip).sort().join(',')
  }

  toJSON (): { connectionIp: string, addresses: readonly ProvenAddress[] } {
    return { connectionIp: this.connectionIp, addresses: this.addresses }
  }
}

/** One proven address for messages: the IPv4 address, or the IPv6 home prefix with the address that asked. */
export function describeAddress (a: ProvenAddress): string {
  return a.family === 4 ? a.ip : `${a.home} (${a.ip})`
}
