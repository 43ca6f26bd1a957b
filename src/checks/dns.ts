// The DNS check: where does mail for this domain go, and is that you?
// No socket beyond DNS is opened. This is the first thing a home-server
// owner should run: most "I cannot receive mail" problems are here.
import type { CheckContext, CheckDefinition } from './context.js'
import type { DomainName } from '../dns/names.js'
import { DnsLookupError } from '../dns/resolver.js'
import { resolveMailHosts, matchCaller, dnsFacts } from './mailhosts.js'
import { isLanLike } from '../net/special.js'
import { sameIp } from '../net/ip.js'
import type { ReportBuilder } from '../core/report.js'
import { understandDomain, noteUnderstood } from './target-input.js'
import { bi } from '../i18n/index.js'

export interface DnsInput { domain: string }

export interface PtrFacts { names: string[], confirmed: string | null, error?: string }

export async function forwardConfirmedPtr (ctx: CheckContext, ip: string): Promise<PtrFacts> {
  try {
    const names = (await ctx.dns.ptr(ip)).slice(0, 5)
    for (const n of names) {
      try {
        const back = await ctx.dns.addresses(n)
        if (back.some((a) => sameIp(a.address, ip))) return { names, confirmed: n }
      } catch { /* a PTR name that does not resolve is simply unconfirmed */ }
    }
    return { names, confirmed: null }
  } catch (err) {
    return { names: [], confirmed: null, error: (err as DnsLookupError).dnsCode ?? 'OTHER' }
  }
}

/**
 * The PTR step and its advice, the same in every check that looks at the
 * mail server's reverse DNS.
 */
export function reportPtr (r: ReportBuilder, ip: string, ptr: PtrFacts): void {
  if (ptr.error) {
    r.step('ptr', 'warn', bi(r.lang, `${ip} の逆引きに失敗しました: ${ptr.error}`, `PTR lookup for ${ip} failed: ${ptr.error}`))
    return
  }
  if (ptr.names.length === 0) {
    r.step('ptr', 'warn', bi(r.lang, `${ip} には逆引き (PTR) がありません`, `${ip} has no PTR record`))
    r.advise('dns.ptr_missing', { ip })
    return
  }
  if (!ptr.confirmed) {
    r.step('ptr', 'warn', bi(r.lang, `逆引き ${ptr.names.join(', ')} を正引きしても ${ip} になりません`, `PTR ${ptr.names.join(', ')} does not resolve back to ${ip}`))
    r.advise('dns.ptr_unconfirmed', { ip, names: ptr.names })
    return
  }
  r.step('ptr', 'pass', bi(r.lang, `${ip} → ${ptr.confirmed} → ${ip} (正引きと逆引きが一致)`, `${ip} → ${ptr.confirmed} → ${ip} (forward-confirmed)`))
}

export const dnsCheck: CheckDefinition<DnsInput, DomainName> = {
  type: 'dns',
  probes: false,
  async prepare (ctx, input) {
    const u = understandDomain(input.domain)
    const d = u.domain
    ctx.report.target({ domain: d.ascii })
    noteUnderstood(ctx.report, u)
    return d
  },
  async run (ctx, d) {
    const r = ctx.report
    const lang = r.lang
    const domain = d.ascii
    let mh
    try {
      mh = await resolveMailHosts(ctx.dns, domain)
    } catch (err) {
      const e = err as DnsLookupError
      if (e.dnsCode === 'NXDOMAIN') {
        r.step('mx', 'fail', `${domain}: NXDOMAIN`)
        r.advise('dns.nxdomain', { domain })
        r.finish(bi(lang, `${domain} は DNS に存在しません`, `${domain} does not exist in DNS`))
        return
      }
      r.step('mx', 'error', `MX ${domain}: ${e.dnsCode ?? e.message}`)
      r.advise('dns.lookup_failed', { name: domain, code: e.dnsCode ?? 'OTHER' })
      r.finish(bi(lang, `${domain} の DNS 問い合わせに失敗しました`, `DNS lookup for ${domain} failed`))
      return
    }
    r.set('dns', dnsFacts(mh))
    if (mh.nullMx) {
      r.step('mx', 'fail', bi(lang, `${domain} には null MX (RFC 7505) が設定されています`, `${domain} has a null MX (RFC 7505)`))
      r.advise('dns.null_mx', { domain })
      r.finish(bi(lang, `${domain} はメールを受け取らない設定です (null MX)`, `${domain} accepts no mail (null MX)`))
      return
    }
    if (mh.implicit) {
      if (mh.hosts[0].addresses.length === 0) {
        r.step('mx', 'fail', bi(lang, `${domain} には MX も A/AAAA もありません`, `${domain} has no MX and no A/AAAA`))
        r.advise('dns.no_mail_host', { domain })
        r.finish(bi(lang, `${domain} には MX もアドレスもありません`, `${domain} has no MX and no address`))
        return
      }
      r.step('mx', 'warn', bi(lang, `MX レコードがありません。${domain} 自身のアドレスが使われます`, `no MX record; implicit MX is ${domain} itself`))
      r.advise('dns.no_mx_implicit', { domain })
    } else {
      r.step('mx', 'pass', mh.hosts.map((h) => `${h.priority} ${h.host}`).join(', '))
    }

    for (const h of mh.hosts) {
      if (h.error) {
        r.step(`address ${h.host}`, 'warn', bi(lang, `A/AAAA の問い合わせに失敗しました: ${h.error}`, `A/AAAA lookup failed: ${h.error}`))
        r.advise('dns.lookup_failed', { name: h.host, code: h.error })
        continue
      }
      if (h.addresses.length === 0) {
        r.step(`address ${h.host}`, 'fail', bi(lang, 'A/AAAA レコードがありません', 'no A/AAAA record'))
        r.advise('dns.mx_no_address', { host: h.host })
        continue
      }
      for (const a of h.addresses) {
        // An operator's TARGET_ALLOW_CIDRS (a lab or LAN install) makes such an address legitimate.
        if (a.special && !ctx.connector.addressVerdict(a.address).ok) {
          r.step(`address ${h.host}`, 'fail', bi(lang, `${a.address} は ${a.special.cidr} (${isLanLike(a.special.kind as never) ? 'プライベートアドレス' : a.special.name}) で、インターネットから届きません。TTL ${a.ttl} 秒`, `${a.address} is ${a.special.name} (${a.special.cidr}), TTL ${a.ttl} s`))
          r.advise('dns.mx_private', { host: h.host, ip: a.address, kind: isLanLike(a.special.kind as never) ? 'private/LAN' : a.special.kind, range: a.special.cidr })
        } else {
          r.step(`address ${h.host}`, 'pass', bi(lang, `${a.address}、TTL ${a.ttl} 秒`, `${a.address}, TTL ${a.ttl} s`))
        }
      }
    }

    const match = matchCaller(mh, ctx.callerIp)
    const all = mh.hosts.flatMap((h) => h.addresses)
    if (!match) {
      const ttl = all.length ? Math.max(...all.map((a) => a.ttl)) : 0
      r.step('caller ip', 'fail', bi(lang, `${ctx.callerIp} は ${all.map((a) => a.address).join(', ') || '(アドレスなし)'} のどれとも一致しません`, `${ctx.callerIp} is not among ${all.map((a) => a.address).join(', ') || 'no addresses'}`))
      r.advise('dns.ip_mismatch', { callerIp: ctx.callerIp, domain, addresses: all.map((a) => a.address), ttl, ttlMinutes: Math.ceil(ttl / 60) })
    } else {
      r.target({ host: match.host.host, ip: match.address.address })
      if (match.primary) {
        r.step('caller ip', 'pass', bi(lang, `${ctx.callerIp} は ${match.host.host} (優先度 ${match.host.priority}) のアドレスです`, `${ctx.callerIp} is an address of ${match.host.host} (preference ${match.host.priority})`))
      } else {
        const primary = mh.hosts[0]
        r.step('caller ip', 'warn', bi(lang, `${ctx.callerIp} はバックアップ MX ${match.host.host} (優先度 ${match.host.priority}) のアドレスです`, `${ctx.callerIp} is an address of backup MX ${match.host.host} (preference ${match.host.priority})`))
        r.advise('dns.backup_mx_only', { callerIp: ctx.callerIp, host: match.host.host, priority: match.host.priority, primary: primary.host })
      }
    }
    r.set('callerInMx', !!match)

    const ptr = await forwardConfirmedPtr(ctx, ctx.callerIp)
    r.set('ptr', ptr)
    reportPtr(r, ctx.callerIp, ptr)

    const status = r.verdict()
    const summary = status === 'pass'
      ? bi(lang, `${domain}: あなたの IP ${ctx.callerIp} はプライマリ MX ${match!.host.host} のアドレスです`, `${domain}: your IP ${ctx.callerIp} is the address of the primary MX ${match!.host.host}`)
      : !match
          ? bi(lang, `${domain}: あなたの IP ${ctx.callerIp} は MX のアドレスではありません`, `${domain}: your IP ${ctx.callerIp} is not an address of its MX`)
          : status === 'fail'
            ? bi(lang, `${domain}: MX に問題があります`, `${domain}: MX has problems`)
            : bi(lang, `${domain}: MX はあなたの IP と一致しますが、注意点があります`, `${domain}: MX matches your IP, with warnings`)
    r.finish(summary)
  }
}
