// One resolver for mxprobe: every DNS question goes through here, with the
// servers from DNS_SERVERS and short timeouts, so a slow zone cannot hold a
// check and tests can point the whole service at a DNS server on loopback.
import { Resolver } from 'node:dns/promises'

export interface MxRecord { exchange: string, priority: number }
export interface AddressRecord { address: string, ttl: number, family: 4 | 6 }

export interface DnsOptions {
  servers?: string[]
  timeoutMs?: number
  tries?: number
}

export type DnsErrorCode = 'NXDOMAIN' | 'NODATA' | 'TIMEOUT' | 'SERVFAIL' | 'REFUSED' | 'OTHER'

export class DnsLookupError extends Error {
  constructor (public dnsCode: DnsErrorCode, public qname: string, public qtype: string, message: string) { super(message) }
}

function mapCode (code: string | undefined): DnsErrorCode | 'EMPTY' {
  switch (code) {
    case 'ENOTFOUND': return 'NXDOMAIN'
    case 'ENODATA': return 'EMPTY'
    case 'ETIMEOUT': return 'TIMEOUT'
    case 'ESERVFAIL': return 'SERVFAIL'
    case 'EREFUSED': return 'REFUSED'
    default: return 'OTHER'
  }
}

export class DnsClient {
  private readonly resolver: Resolver
  constructor (opts: DnsOptions = {}) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 })
    if (opts.servers && opts.servers.length) this.resolver.setServers(opts.servers)
  }

  /** Runs a query; "no records" is an empty list, NXDOMAIN and failures are DnsLookupError. */
  private async ask<T> (qname: string, qtype: string, fn: () => Promise<T[]>): Promise<T[]> {
    try {
      return await fn()
    } catch (err) {
      const code = mapCode((err as { code?: string }).code)
      if (code === 'EMPTY') return []
      throw new DnsLookupError(code, qname, qtype, `${qtype} ${qname}: ${code}`)
    }
  }

  async mx (name: string): Promise<MxRecord[]> {
    const r = await this.ask(name, 'MX', () => this.resolver.resolveMx(name))
    return r.map((m) => ({ exchange: m.exchange.replace(/\.$/, '').toLowerCase(), priority: m.priority }))
      .sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange))
  }

  async addresses (name: string): Promise<AddressRecord[]> {
    const [v4, v6] = await Promise.allSettled([
      this.ask(name, 'A', () => this.resolver.resolve4(name, { ttl: true })),
      this.ask(name, 'AAAA', () => this.resolver.resolve6(name, { ttl: true }))
    ])
    if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason
    const out: AddressRecord[] = []
    if (v4.status === 'fulfilled') out.push(...v4.value.map((a) => ({ address: a.address, ttl: a.ttl, family: 4 as const })))
    if (v6.status === 'fulfilled') out.push(...v6.value.map((a) => ({ address: a.address, ttl: a.ttl, family: 6 as const })))
    return out
  }

  async ptr (ip: string): Promise<string[]> {
    try {
      const names = await this.resolver.reverse(ip)
      return names.map((n) => n.replace(/\.$/, '').toLowerCase())
    } catch (err) {
      const code = mapCode((err as { code?: string }).code)
      if (code === 'EMPTY' || code === 'NXDOMAIN') return []
      throw new DnsLookupError(code, ip, 'PTR', `PTR ${ip}: ${code}`)
    }
  }

  /**
   * Any record type, answered like node's dns.promises.resolve (errors keep
   * node's codes: ENOTFOUND, ENODATA …). For libraries that take a resolver
   * function (mailauth), so their lookups also go to DNS_SERVERS.
   */
  async resolve (name: string, rrtype: string): Promise<unknown[]> {
    return await this.resolver.resolve(name, rrtype) as unknown[]
  }

  async txt (name: string): Promise<string[]> {
    const r = await this.ask(name, 'TXT', () => this.resolver.resolveTxt(name))
    return r.map((parts) => parts.join(''))
  }
}
