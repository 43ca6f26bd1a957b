// Where mail for a domain goes, as a sender on the internet would see it:
// MX by preference, the addresses of each MX host, the implicit MX when
// there is none, null MX. Shared by the DNS check and every mail test.
import { DnsLookupError, type DnsClient, type AddressRecord } from '../dns/resolver.js'
import { specialRangeOf } from '../net/special.js'
import { parseIp, type Family } from '../net/ip.js'
import { CallerAddresses, describeAddress, type FamilyOrigins } from '../net/caller.js'
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

/**
 * Every MX address inside the caller's proven addresses (IPv4 exactly, IPv6
 * by home prefix), in MX preference order; within a host, the connection's
 * own family first. A plain string is the connection's address alone.
 */
export function matchAll (mh: MailHosts, caller: CallerAddresses | string): CallerMatch[] {
  const who = CallerAddresses.from(caller)
  if (!mh.hosts.length) return []
  const best = Math.min(...mh.hosts.map((h) => h.priority))
  const hosts = [...mh.hosts].sort((a, b) => a.priority - b.priority)
  const out: CallerMatch[] = []
  for (const host of hosts) {
    const own = host.addresses.filter((a) => who.owns(a.address))
    own.sort((a, b) => Number(familyOf(b.address) === who.connectionFamily) - Number(familyOf(a.address) === who.connectionFamily))
    for (const address of own) out.push({ host, address, primary: host.priority === best })
  }
  return out
}

/** The first of matchAll(): the target of a check that tests one address. */
export function matchCaller (mh: MailHosts, caller: CallerAddresses | string): CallerMatch | null {
  return matchAll(mh, caller)[0] ?? null
}

function familyOf (ip: string): Family | null {
  return parseIp(ip)?.family ?? null
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
export function diagnoseRefusal (mh: MailHosts | null, caller: CallerAddresses | string, lang: Lang, isForbidden: (ip: string) => boolean, domain: string, dnsError?: string, origins: FamilyOrigins = {}): { findings: RefusalFinding[], retry: RetryHint } {
  const who = CallerAddresses.from(caller)
  const callerIp = who.connectionIp
  const findings: RefusalFinding[] = []
  const add = (code: string, params: Record<string, unknown>): void => { findings.push({ code, params, message: adviceText(code, lang, params) }) }
  let wait = 0
  if (!mh) {
    add(dnsError === 'NXDOMAIN' ? 'refusal.nxdomain' : 'refusal.dns_failed', { domain, code: dnsError ?? 'OTHER' })
  } else if (mh.nullMx) {
    add('refusal.null_mx', { domain })
  } else {
    if (mh.implicit && mh.hosts.every((h) => h.addresses.length === 0)) add('refusal.no_mx', { domain, callerIp })
    const publicAddrs: Array<{ host: string, address: string, ttl: number, family: Family }> = []
    for (const h of mh.hosts) {
      if (h.addresses.length === 0 && !mh.implicit) add('refusal.mx_no_address', { host: h.host, error: h.error ?? null })
      for (const a of h.addresses) {
        if (a.special && isForbidden(a.address)) {
          add('refusal.mx_private', { host: h.host, ip: a.address, range: a.special.cidr, kind: a.special.kind, callerIp, lan: ['private', 'link-local', 'loopback', 'this-network'].includes(a.special.kind), cgnat: a.special.kind === 'cgnat' })
        } else if (!who.owns(a.address)) {
          const family = familyOf(a.address)
          if (family) publicAddrs.push({ host: h.host, address: a.address, ttl: a.ttl, family })
        }
      }
    }
    if (publicAddrs.length && !matchCaller(mh, who)) {
      // Family by family: an address of a family the caller proved, yet outside it, is stale DNS;
      // an address of a family the caller did not prove is no mistake at all (the visit came over the other family).
      for (const family of [4, 6] as const) {
        const fam = publicAddrs.filter((a) => a.family === family)
        if (!fam.length) continue
        const dnsIps = [...new Set(fam.map((a) => a.address))]
        if (who.has(family)) {
          const ttl = Math.max(...fam.map((a) => a.ttl))
          wait = Math.max(wait, ttl)
          add(mh.implicit ? 'refusal.no_mx_stale' : 'refusal.ddns_stale', {
            domain,
            host: fam[0].host,
            family,
            dnsIps,
            callerIp: who.of(family).map(describeAddress).join(', '),
            ttl,
            ttlMinutes: Math.max(1, Math.ceil(ttl / 60))
          })
        } else {
          const other: Family = family === 4 ? 6 : 4
          add('refusal.other_family', {
            domain,
            host: fam[0].host,
            family,
            dnsIps,
            callerFamily: other,
            callerIp: who.of(other).map(describeAddress).join(', ') || callerIp,
            // only this family's addresses in DNS: nothing of the family the caller came over
            only: !mh.hosts.some((h) => h.addresses.some((a) => familyOf(a.address) === other)),
            origin: origins[family] ?? null,
            site: origins.public ?? null
          })
        }
      }
    }
  }
  const retry: RetryHint = {
    possible: true,
    afterSeconds: wait,
    message: wait > 0
      ? bi(lang, `DNS を直したら、約 ${Math.max(1, Math.ceil(wait / 60))} 分 (TTL ${wait} 秒) 待ってからもう一度テストしてください。`, `After fixing DNS, wait about ${Math.max(1, Math.ceil(wait / 60))} min (TTL ${wait} s) and test again.`)
      : findings.some((f) => f.code === 'refusal.other_family')
        ? bi(lang, 'もう一方のアドレスを確認できたら、もう一度テストしてください。', 'Once your other address is proven, test again.')
        : bi(lang, 'DNS を直したら、もう一度テストしてください。', 'Fix DNS, then test again.')
  }
  return { findings, retry }
}

function refusal (code: 'ip_mismatch' | 'target_forbidden', head: string, callerIp: string, facts: unknown, d: { findings: RefusalFinding[], retry: RetryHint }): RefusalError {
  const message = [head, ...d.findings.map((f) => f.message)].join(' ')
  const err = new RefusalError(code, message, callerIp, facts, { diagnosis: d.findings.map((f) => ({ code: f.code, message: f.message })), retry: d.retry })
  err.findings = d.findings.map((f) => ({ code: f.code, params: f.params }))
  return err
}

/**
 * The rule for mail tests: the caller's IP must be an address of an MX host
 * of the domain (or of the domain itself with no MX). Returns the matched
 * host, or throws a 403 refusal that explains, in the report's language, what
 * DNS says and which classic mistake that looks like. No socket is opened
 * either way.
 */
/** What the target rule needs of a check: the caller, the resolver, the connector's address verdicts and the language. */
export type TargetRuleContext = Pick<CheckContext, 'callerIp' | 'dns' | 'connector' | 'lang'> & {
  /** the caller's proven addresses; without it, `callerIp` alone */
  caller?: CallerAddresses
  /** where the caller can prove the other family (IPV4_ORIGIN, IPV6_ORIGIN), for the refusal's advice; default: `settings.origins` */
  origins?: FamilyOrigins
  settings?: Pick<CheckContext['settings'], 'origins'>
}

/** What the rule found: the first matched MX address (`match`, the one-address checks' target) and every permissible one (`matches`). */
export interface MailTarget { mailHosts: MailHosts, match: CallerMatch, matches: CallerMatch[] }

export async function mailTargetFor (ctx: TargetRuleContext, domain: string): Promise<MailTarget> {
  const lang = ctx.lang
  const who = ctx.caller ?? CallerAddresses.from(ctx.callerIp)
  const origins = ctx.origins ?? ctx.settings?.origins ?? {}
  const forbidden = (ip: string): boolean => !ctx.connector.addressVerdict(ip).ok
  let mh: MailHosts
  try {
    mh = await resolveMailHosts(ctx.dns, domain)
  } catch (err) {
    if (err instanceof DnsLookupError && err.dnsCode === 'NXDOMAIN') {
      throw refusal('ip_mismatch', bi(lang, `${domain} は DNS に存在しないため、あなたの IP ${ctx.callerIp} と一致する MX のアドレスがありません。`, `${domain} does not exist in DNS, so it has no MX address that could match your IP ${ctx.callerIp}.`),
        ctx.callerIp, { domain, error: 'NXDOMAIN' }, diagnoseRefusal(null, who, lang, forbidden, domain, 'NXDOMAIN', origins))
    }
    throw err
  }
  const facts = dnsFacts(mh)
  if (mh.nullMx) {
    throw refusal('ip_mismatch', bi(lang, `${domain} は null MX (メールを受け取らない宣言) を公開しているため、あなたの IP ${ctx.callerIp} と一致するアドレスがありません。`, `${domain} publishes a null MX (it accepts no mail), so no address of it can match your IP ${ctx.callerIp}.`),
      ctx.callerIp, facts, diagnoseRefusal(mh, who, lang, forbidden, domain, undefined, origins))
  }
  const all = matchAll(mh, who)
  if (!all.length) {
    const listed = mh.hosts.flatMap((h) => h.addresses.map((a) => `${h.host} ${a.address}`))
    const dnsSays = listed.length ? listed.join(', ') : bi(lang, 'アドレスなし', 'no addresses')
    const yours = who.describe()
    throw refusal('ip_mismatch', bi(lang,
      `あなたのアドレス (${yours}) は ${mh.implicit ? `${domain} (MX がないためドメイン自身のアドレスを使用)` : `${domain} のどの MX ホスト`}のアドレスでもありません (DNS の値: ${dnsSays})。mxprobe はメールサーバーと同じネットワークからのテストしか受け付けません。`,
      `your address (${yours}) is not an address of ${mh.implicit ? domain + ' (no MX, so its own address is used)' : 'any MX host of ' + domain} (DNS: ${dnsSays}); mxprobe only tests a mail server from its own network.`),
    ctx.callerIp, facts, diagnoseRefusal(mh, who, lang, forbidden, domain, undefined, origins))
  }
  const matches = all.filter((m) => ctx.connector.check(who, m.address.address, 25).ok)
  if (!matches.length) {
    const first = all[0].address.address
    const v = ctx.connector.check(who, first, 25)
    const reason = v.ok ? '' : v.reason
    const d = diagnoseRefusal(mh, who, lang, forbidden, domain, undefined, origins)
    throw refusal(v.ok ? 'target_forbidden' : v.code, bi(lang, `${first} はテストできません: ${reason}。mxprobe はプライベート、ループバック、予約済み、またはテスト拒否が登録されたネットワークには接続しません。`, `${first}: ${reason}; mxprobe never connects to private, loopback, reserved or opted-out networks.`),
      ctx.callerIp, facts, d)
  }
  return { mailHosts: mh, match: matches[0], matches }
}
