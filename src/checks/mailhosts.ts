// Where mail for a domain goes, as a sender on the internet would see it:
// MX by preference, the addresses of each MX host, the implicit MX when
// there is none, null MX. Shared by the DNS check and every mail test.
import { DnsLookupError, type DnsClient, type AddressRecord } from '../dns/resolver.js'
import { specialRangeOf } from '../net/special.js'
import { sameIp } from '../net/ip.js'
import { RefusalError } from '../errors.js'
import type { CheckContext } from './context.js'

export interface MailHostAddress extends AddressRecord {
  /** special-purpose range the address falls in, if any */
  special: { cidr: string, kind: string, name: string } | null
}

export interface MailHost {
  host: string
  priority: number
  addresses: MailHostAddress[]
  error?: string
}

export interface MailHosts {
  domain: string
  /** no MX: the domain itself stands in as the MX (RFC 5321 §5.1) */
  implicit: boolean
  /** "MX 0 ." — the domain accepts no mail (RFC 7505) */
  nullMx: boolean
  hosts: MailHost[]
}

export async function resolveMailHosts (dns: DnsClient, domain: string): Promise<MailHosts> {
  const mx = await dns.mx(domain)
  if (mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.')) {
    return { domain, implicit: false, nullMx: true, hosts: [] }
  }
  const implicit = mx.length === 0
  const list = implicit ? [{ exchange: domain, priority: 0 }] : mx.filter((m) => m.exchange !== '')
  const hosts = await Promise.all(list.map(async (m): Promise<MailHost> => {
    try {
      const addrs = await dns.addresses(m.exchange)
      return { host: m.exchange, priority: m.priority, addresses: addrs.map((a) => ({ ...a, special: specialRangeOf(a.address) })) }
    } catch (err) {
      const e = err as DnsLookupError
      return { host: m.exchange, priority: m.priority, addresses: [], error: e.dnsCode ?? 'OTHER' }
    }
  }))
  return { domain, implicit, nullMx: false, hosts }
}

export interface CallerMatch {
  host: MailHost
  address: MailHostAddress
  /** the matched host has the lowest preference number of all MX hosts */
  primary: boolean
}

export function matchCaller (mh: MailHosts, callerIp: string): CallerMatch | null {
  const best = Math.min(...mh.hosts.map((h) => h.priority))
  for (const host of mh.hosts) {
    const address = host.addresses.find((a) => sameIp(a.address, callerIp))
    if (address) return { host, address, primary: host.priority === best }
  }
  return null
}

/** A compact statement of what DNS says, for refusals and reports. */
export function dnsFacts (mh: MailHosts) {
  return {
    domain: mh.domain,
    implicitMx: mh.implicit,
    nullMx: mh.nullMx,
    mx: mh.hosts.map((h) => ({ host: h.host, priority: h.priority, addresses: h.addresses.map((a) => a.address), ttl: h.addresses.length ? Math.min(...h.addresses.map((a) => a.ttl)) : null, error: h.error }))
  }
}

/**
 * The rule for mail tests: the caller's IP must be an address of an MX host
 * of the domain (or of the domain itself with no MX). Returns the matched
 * host, or throws a 403 refusal that explains what DNS says. No socket is
 * opened either way.
 */
export async function mailTargetFor (ctx: CheckContext, domain: string): Promise<{ mailHosts: MailHosts, match: CallerMatch }> {
  let mh: MailHosts
  try {
    mh = await resolveMailHosts(ctx.dns, domain)
  } catch (err) {
    if (err instanceof DnsLookupError && err.dnsCode === 'NXDOMAIN') {
      throw new RefusalError('ip_mismatch', `${domain} does not exist in DNS, so it has no MX address that could match your IP ${ctx.callerIp}`, ctx.callerIp, { domain, error: 'NXDOMAIN' })
    }
    throw err
  }
  const facts = dnsFacts(mh)
  if (mh.nullMx) {
    throw new RefusalError('ip_mismatch', `${domain} publishes a null MX (it accepts no mail), so no address of it can match your IP ${ctx.callerIp}`, ctx.callerIp, facts)
  }
  const match = matchCaller(mh, ctx.callerIp)
  if (!match) {
    const all = mh.hosts.flatMap((h) => h.addresses.map((a) => `${h.host} ${a.address}`))
    throw new RefusalError('ip_mismatch',
      `your IP ${ctx.callerIp} is not an address of ${mh.implicit ? domain + ' (no MX, so its own address is used)' : 'any MX host of ' + domain}` +
      ` (DNS: ${all.length ? all.join(', ') : 'no addresses'}); mxprobe only tests a mail server from its own network`, ctx.callerIp, facts)
  }
  const v = ctx.connector.check(ctx.callerIp, match.address.address, 25)
  if (!v.ok) throw new RefusalError(v.code, `${match.address.address}: ${v.reason}`, ctx.callerIp, facts)
  return { mailHosts: mh, match }
}
