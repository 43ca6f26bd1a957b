// Where mail for a domain goes, as a sender on the internet would see it:
// MX by preference, the addresses of each MX host, the implicit MX when
// there is none, null MX. Shared by the DNS check and every mail test.
import { DnsLookupError, type DnsClient, type AddressRecord } from '../dns/resolver.js'
import { specialRangeOf } from '../net/special.js'
import { sameIp } from '../net/ip.js'
import { RefusalError } from '../errors.js'
import type { CheckContext } from './context.js'
import { adviceText, bi, type Lang } from '../i18n/index.js'

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

/** One classic mistake found in the DNS facts, in the caller's language. */
export interface RefusalFinding { code: string, message: string, params: Record<string, unknown> }

/** What a refusal offers the page: try again, after this many seconds (a TTL to wait out, or 0). */
export interface RetryHint { possible: boolean, afterSeconds: number, message: string }

/**
 * Why the caller's IP is not a target, told as the classic home-server
 * mistakes, from the DNS facts already at hand (no further lookups, no
 * socket): an MX at a private address (a LAN address registered in dynamic
 * DNS), a dynamic DNS entry not yet updated (both addresses and the TTL to
 * wait), no MX at all, an MX host without an address.
 */
export function diagnoseRefusal (mh: MailHosts | null, callerIp: string, lang: Lang, isForbidden: (ip: string) => boolean, domain: string, dnsError?: string): { findings: RefusalFinding[], retry: RetryHint } {
  const findings: RefusalFinding[] = []
  const add = (code: string, params: Record<string, unknown>): void => { findings.push({ code, params, message: adviceText(code, lang, params) }) }
  let wait = 0
  if (!mh) {
    add(dnsError === 'NXDOMAIN' ? 'refusal.nxdomain' : 'refusal.dns_failed', { domain, code: dnsError ?? 'OTHER' })
  } else if (mh.nullMx) {
    add('refusal.null_mx', { domain })
  } else {
    if (mh.implicit && mh.hosts.every((h) => h.addresses.length === 0)) add('refusal.no_mx', { domain, callerIp })
    const publicAddrs: Array<{ host: string, address: string, ttl: number }> = []
    for (const h of mh.hosts) {
      if (h.addresses.length === 0 && !mh.implicit) add('refusal.mx_no_address', { host: h.host, error: h.error ?? null })
      for (const a of h.addresses) {
        if (a.special && isForbidden(a.address)) {
          add('refusal.mx_private', { host: h.host, ip: a.address, range: a.special.cidr, kind: a.special.kind, callerIp, lan: ['private', 'link-local', 'loopback', 'this-network'].includes(a.special.kind), cgnat: a.special.kind === 'cgnat' })
        } else if (!sameIp(a.address, callerIp)) {
          publicAddrs.push({ host: h.host, address: a.address, ttl: a.ttl })
        }
      }
    }
    if (publicAddrs.length && !matchCaller(mh, callerIp)) {
      const ttl = Math.max(...publicAddrs.map((a) => a.ttl))
      wait = ttl
      add(mh.implicit ? 'refusal.no_mx_stale' : 'refusal.ddns_stale', {
        domain,
        host: publicAddrs[0].host,
        dnsIps: [...new Set(publicAddrs.map((a) => a.address))],
        callerIp,
        ttl,
        ttlMinutes: Math.max(1, Math.ceil(ttl / 60))
      })
    }
  }
  const retry: RetryHint = {
    possible: true,
    afterSeconds: wait,
    message: wait > 0
      ? bi(lang, `DNS を直したら、約 ${Math.max(1, Math.ceil(wait / 60))} 分 (TTL ${wait} 秒) 待ってからもう一度テストしてください。`, `After fixing DNS, wait about ${Math.max(1, Math.ceil(wait / 60))} min (TTL ${wait} s) and test again.`)
      : bi(lang, 'DNS を直したら、もう一度テストしてください。', 'Fix DNS, then test again.')
  }
  return { findings, retry }
}

function refusal (code: 'ip_mismatch' | 'target_forbidden', head: string, callerIp: string, facts: unknown, d: { findings: RefusalFinding[], retry: RetryHint }): RefusalError {
  const message = [head, ...d.findings.map((f) => f.message)].join(' ')
  return new RefusalError(code, message, callerIp, facts, { diagnosis: d.findings.map((f) => ({ code: f.code, message: f.message })), retry: d.retry })
}

/**
 * The rule for mail tests: the caller's IP must be an address of an MX host
 * of the domain (or of the domain itself with no MX). Returns the matched
 * host, or throws a 403 refusal that explains, in the report's language, what
 * DNS says and which classic mistake that looks like. No socket is opened
 * either way.
 */
/** What the target rule needs of a check: the caller, the resolver, the connector's address verdicts and the language. */
export type TargetRuleContext = Pick<CheckContext, 'callerIp' | 'dns' | 'connector' | 'lang'>

export async function mailTargetFor (ctx: TargetRuleContext, domain: string): Promise<{ mailHosts: MailHosts, match: CallerMatch }> {
  const lang = ctx.lang
  const forbidden = (ip: string): boolean => !ctx.connector.addressVerdict(ip).ok
  let mh: MailHosts
  try {
    mh = await resolveMailHosts(ctx.dns, domain)
  } catch (err) {
    if (err instanceof DnsLookupError && err.dnsCode === 'NXDOMAIN') {
      throw refusal('ip_mismatch', bi(lang, `${domain} は DNS に存在しないため、あなたの IP ${ctx.callerIp} と一致する MX のアドレスがありません。`, `${domain} does not exist in DNS, so it has no MX address that could match your IP ${ctx.callerIp}.`),
        ctx.callerIp, { domain, error: 'NXDOMAIN' }, diagnoseRefusal(null, ctx.callerIp, lang, forbidden, domain, 'NXDOMAIN'))
    }
    throw err
  }
  const facts = dnsFacts(mh)
  if (mh.nullMx) {
    throw refusal('ip_mismatch', bi(lang, `${domain} は null MX (メールを受け取らない宣言) を公開しているため、あなたの IP ${ctx.callerIp} と一致するアドレスがありません。`, `${domain} publishes a null MX (it accepts no mail), so no address of it can match your IP ${ctx.callerIp}.`),
      ctx.callerIp, facts, diagnoseRefusal(mh, ctx.callerIp, lang, forbidden, domain))
  }
  const match = matchCaller(mh, ctx.callerIp)
  if (!match) {
    const all = mh.hosts.flatMap((h) => h.addresses.map((a) => `${h.host} ${a.address}`))
    const dnsSays = all.length ? all.join(', ') : bi(lang, 'アドレスなし', 'no addresses')
    throw refusal('ip_mismatch', bi(lang,
      `あなたの IP ${ctx.callerIp} は ${mh.implicit ? `${domain} (MX がないためドメイン自身のアドレスを使用)` : `${domain} のどの MX ホスト`}のアドレスでもありません (DNS の値: ${dnsSays})。mxprobe はメールサーバーと同じネットワークからのテストしか受け付けません。`,
      `your IP ${ctx.callerIp} is not an address of ${mh.implicit ? domain + ' (no MX, so its own address is used)' : 'any MX host of ' + domain} (DNS: ${dnsSays}); mxprobe only tests a mail server from its own network.`),
    ctx.callerIp, facts, diagnoseRefusal(mh, ctx.callerIp, lang, forbidden, domain))
  }
  const v = ctx.connector.check(ctx.callerIp, match.address.address, 25)
  if (!v.ok) {
    const d = diagnoseRefusal(mh, ctx.callerIp, lang, forbidden, domain)
    throw refusal(v.code, bi(lang, `${match.address.address} はテストできません: ${v.reason}。mxprobe はプライベート、ループバック、予約済み、またはテスト拒否が登録されたネットワークには接続しません。`, `${match.address.address}: ${v.reason}; mxprobe never connects to private, loopback, reserved or opted-out networks.`),
      ctx.callerIp, facts, d)
  }
  return { mailHosts: mh, match }
}
