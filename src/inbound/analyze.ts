// What a receiving mail server sees of a mail the visitor's server sent:
// the connecting IP and its reverse DNS, the HELO name, TLS, the envelope
// sender and SPF, DNS block lists (here, on the main thread: none of it
// reads the message), then DKIM/DMARC and the header tool's analysis of the
// message (./content.ts, in a worker thread under a hard time budget, on the
// bounded message). Lookups go through mxprobe's own DnsClient (DNS_SERVERS
// applies), each with its own time limit and all within the mail's lookup
// budget (./dns-budget.ts): the report is ready a few hundred milliseconds
// after the sender's 250.
import { isIP } from 'node:net'
import { spf as spfVerify } from 'mailauth/lib/spf/index.js'
import type { DnsClient } from '../dns/resolver.js'
import { resolveMailHosts } from '../checks/mailhosts.js'
import { parseIp, sameIp } from '../net/ip.js'
import type { HeaderAnalysis } from '../tools/headers.js'
import type { Bounds } from './bound.js'
import type { ArcFinding, CharsetInfo, ContentFindings, DkimFinding, DmarcFinding, FormatFacts } from './content.js'
import { MailDnsBudget, type LookupPart } from './dns-budget.js'
import { AnalysisTimeoutError, type AnalysisPool } from './pool.js'

/** One line of the inbound dialogue. C: mxprobe's listener said it, S: the visitor's server said it. */
export interface DialogueLine { at: number, dir: 'C' | 'S' | 'I', text: string }

/** A mail as the listener took it, before analysis. Only headers and an excerpt survive into the report. */
export interface ReceivedMail {
  token: string
  remoteIp: string
  helo: string | null
  tls: { version: string, cipher: string } | null
  /** envelope sender; '' for MAIL FROM:<> */
  mailFrom: string
  rcptTo: string
  raw: Buffer
  size: number
  dialogue: DialogueLine[]
  connectedAt: number
  /** epoch ms of the listener's 250 after DATA */
  acceptedAt: number
}

/** What the top SPF record of the sender's domain lists, looked up when a mail over IPv6 did not pass SPF. */
export interface SpfRecordFacts {
  /** the record has ip4: mechanisms */
  ip4: boolean
  /** the record has ip6: mechanisms */
  ip6: boolean
  /** it has mechanisms that may cover IPv6 too (a, mx, include, exists, ptr, redirect) */
  other: boolean
}

/** The mechanisms of one SPF record, for the IPv6 advice; null when the text is no SPF record. */
export function spfRecordFacts (record: string): SpfRecordFacts | null {
  const terms = record.trim().split(/\s+/)
  if (!/^v=spf1$/i.test(terms[0] ?? '')) return null
  const names = terms.slice(1).map((x) => x.replace(/^[-+~?]/, '').toLowerCase().split(/[:=/]/)[0])
  return { ip4: names.includes('ip4'), ip6: names.includes('ip6'), other: names.some((n) => ['a', 'mx', 'include', 'exists', 'ptr', 'redirect'].includes(n)) }
}

export interface DnsblResult { zone: string, listed: boolean, answer: string | null, reason: string | null, dynamic: boolean, error?: string }

export type { CharsetInfo }

export interface InboundFindings {
  address: string
  connectingIp: string
  /** the family the mail came over */
  family: 4 | 6
  callerIp: string
  /** the mail came from the IP that started the test */
  isCallerIp: boolean
  /** the connecting IP is an address of an MX host of the named domain */
  isMxAddress: boolean
  mxAddresses: string[]
  ptr: string | null
  ptrNames: string[]
  /** the PTR name resolves back to the connecting IP; null without PTR */
  fcrdns: boolean | null
  /** the PTR looks like an ISP's generic name for a home line */
  ptrGeneric: boolean
  helo: string | null
  /** the HELO name (or literal) is the connecting IP; null without HELO */
  heloResolves: boolean | null
  heloFqdn: boolean
  tls: { version: string, cipher: string } | null
  mailFrom: string
  spf: { result: string, domain: string, reason?: string, record?: SpfRecordFacts }
  spfHelo: { result: string, domain: string } | null
  dkim: DkimFinding[]
  dmarc: DmarcFinding
  /** the ARC chain, when the mail carries one (null too when the analysis was stopped) */
  arc: ArcFinding | null
  /** Message-ID, Date, From, List-Unsubscribe as receivers check them; null when the analysis was stopped */
  format: FormatFacts | null
  dnsbl: DnsblResult[]
  headers: HeaderAnalysis | null
  subject: string | null
  size: number
  charset: CharsetInfo
  /** the first bytes of the body, as text (the rest of the message is not kept) */
  excerpt: string
  /** ms the lookups took */
  lookupMs: number
  /** what was cut before verification; null when the message's analysis was stopped */
  bounds: Bounds | null
  /** the message's analysis (DKIM, DMARC, headers) ran past its budget and was stopped */
  stopped: boolean
  /** the budget it had, ms */
  budgetMs: number
  /** lookups caused by the mail's own content, per part, and those refused over an allowance */
  lookups: Record<LookupPart, number> & { refused: number }
}

export interface AnalyzeDeps {
  dns: DnsClient
  dnsblZones: string[]
  /** name of the receiving MTA in Authentication-Results */
  mta: string
  /** the worker threads that read the message */
  pool: AnalysisPool
  /** per lookup group */
  timeoutMs?: number
}

async function within<T> (p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback), ms) })])
  } catch {
    return fallback
  } finally {
    if (timer) clearTimeout(timer)
  }
}

/** Spamhaus-style and named policy lists: the address is a home line, not a spammer. */
function isDynamicListing (zone: string, answer: string | null, reason: string | null): boolean {
  if (/\b(pbl|dynamic|dyn|dial-?up|residential|end-?user|policy|dhcp|dul)\b/i.test(reason ?? '')) return true
  if (/spamhaus\.org$/i.test(zone) && (answer === '127.0.0.10' || answer === '127.0.0.11')) return true
  return /(^|\.)(pbl|dul|dyna?)\./i.test(zone)
}

/** The reversed form of an address for a DNSBL query. */
export function dnsblName (ip: string, zone: string): string | null {
  const p = parseIp(ip)
  if (!p) return null
  if (p.family === 4) return `${p.text.split('.').reverse().join('.')}.${zone}`
  const hex = p.value.toString(16).padStart(32, '0')
  return `${hex.split('').reverse().join('.')}.${zone}`
}

async function dnsblLookup (dns: DnsClient, ip: string, zone: string): Promise<DnsblResult> {
  const name = dnsblName(ip, zone)
  if (!name) return { zone, listed: false, answer: null, reason: null, dynamic: false, error: 'bad address' }
  try {
    const answers = await dns.resolve(name, 'A') as string[]
    const answer = answers[0] ?? null
    if (!answer) return { zone, listed: false, answer: null, reason: null, dynamic: false }
    // 127.255.255.x: the list refuses to answer this resolver (public resolvers, over quota): not a listing.
    if (/^127\.255\.255\./.test(answer)) return { zone, listed: false, answer, reason: null, dynamic: false, error: 'the list refused the query (resolver blocked or over quota)' }
    let reason: string | null = null
    try { reason = (await dns.txt(name))[0]?.slice(0, 300) ?? null } catch { reason = null }
    return { zone, listed: true, answer, reason, dynamic: isDynamicListing(zone, answer, reason) }
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { zone, listed: false, answer: null, reason: null, dynamic: false }
    return { zone, listed: false, answer: null, reason: null, dynamic: false, error: code ?? (err as Error).message }
  }
}

/**
 * Does this PTR look like the ISP's generic name for a home line
 * ("p1234567-ipngn1001.tokyo.ocn.ne.jp", "softbank126012034056.bbtec.net",
 * "123-45-67-89.dynamic.example.net")?
 */
export function looksGeneric (ptr: string, ip: string): boolean {
  const name = ptr.toLowerCase()
  const p = parseIp(ip)
  if (p?.family === 4) {
    const o = p.text.split('.')
    // all four octets in the name, in either order, or as one run of digits
    if (o.every((x) => new RegExp(`(^|\\D)0*${x}(\\D|$)`).test(name)) && /\d+[-.x_]\d+[-.x_]\d+/.test(name)) return true
    if (name.includes(o.map((x) => x.padStart(3, '0')).join(''))) return true
  }
  if (/\d{7,}/.test(name)) return true
  return /(^|[.-])(dynamic|dyn|dhcp|ppp|pppoe|pool|dsl|adsl|vdsl|ftth|cable|dialup|dial|client|customer|cust|bbtec|ipngn|flets|dion|ocn|nttpc)[0-9]*([.-]|$)/.test(name)
}

function domainOf (address: string): string {
  const at = address.lastIndexOf('@')
  return at >= 0 ? address.slice(at + 1).toLowerCase() : ''
}

export async function analyzeMail (mail: ReceivedMail, target: { address: string, callerIp: string, domain: string }, deps: AnalyzeDeps): Promise<InboundFindings> {
  const t0 = Date.now()
  const { dns } = deps
  const ms = deps.timeoutMs ?? 5000
  const ip = mail.remoteIp
  const budget = new MailDnsBudget(dns)
  const helo = mail.helo
  const heloLiteral = helo ? /^\[(?:ipv6:)?([0-9a-f:.]+)\]$/i.exec(helo)?.[1] ?? null : null
  const heloFqdn = !!helo && !heloLiteral && /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i.test(helo)

  const ptrP = within((async () => {
    const names = (await dns.ptr(ip)).slice(0, 5)
    const confirmed = await Promise.all(names.slice(0, 3).map(async (n) => {
      try { return (await dns.addresses(n)).some((a) => sameIp(a.address, ip)) } catch { return false }
    }))
    return { names, fcrdns: names.length ? confirmed.some(Boolean) : null }
  })(), ms, { names: [] as string[], fcrdns: null as boolean | null })

  const heloP = within((async (): Promise<boolean | null> => {
    if (!helo) return null
    if (heloLiteral) return sameIp(heloLiteral, ip)
    if (!heloFqdn) return false
    try { return (await dns.addresses(helo.replace(/\.$/, ''))).some((a) => sameIp(a.address, ip)) } catch { return false }
  })(), ms, false as boolean | null)

  const mxP = within((async () => {
    const mh = await resolveMailHosts(dns, target.domain)
    return mh.hosts.flatMap((h) => h.addresses.map((a) => a.address))
  })(), ms, [] as string[])

  // SPF on the main thread (it does not read the message; RFC 7208's limits inside mailauth,
  // the mail's lookup budget around them), so a report whose message analysis is stopped still has it.
  const senderDomain = domainOf(mail.mailFrom) || (helo ?? '').replace(/\.$/, '').toLowerCase()
  const spfHeloArg = !helo ? `[${ip}]` : isIP(helo) ? `[${helo}]` : helo
  const family = parseIp(ip)?.family ?? 4
  const spfP = within((async () => {
    const r = await spfVerify({ sender: mail.mailFrom || undefined, ip, helo: spfHeloArg, mta: deps.mta, resolver: budget.resolver('spf') })
    const out: InboundFindings['spf'] = { result: r.status.result, domain: r.domain, ...(r.status.comment ? { reason: String(r.status.comment).slice(0, 300) } : {}) }
    // Over IPv6 without a pass: does the record list IPv6 at all? (the classic ip4:-only record)
    if (family === 6 && r.domain && !['pass', 'none', 'temperror', 'permerror'].includes(out.result)) {
      try {
        const txt = (await budget.resolve('spf', r.domain, 'TXT') as string[][]).map((x) => Array.isArray(x) ? x.join('') : String(x))
        const facts = txt.map(spfRecordFacts).find((x) => x !== null)
        if (facts) out.record = facts
      } catch { /* no record facts: the plain SPF advice */ }
    }
    return out
  })(), ms * 2, { result: 'temperror', domain: senderDomain })

  const spfHeloP = within((async () => {
    if (!heloFqdn || !helo) return null
    const r = await spfVerify({ sender: `postmaster@${helo.replace(/\.$/, '')}`, ip, helo, mta: deps.mta, resolver: budget.resolver('spfHelo') })
    return { result: r.status.result, domain: r.domain }
  })(), ms, null)

  const dnsblP = Promise.all(deps.dnsblZones.map((z) => within(dnsblLookup(dns, ip, z), ms, { zone: z, listed: false, answer: null, reason: null, dynamic: false, error: 'TIMEOUT' })))

  // The message itself, in a worker, once SPF is known (DMARC needs it). The budget is the
  // pool's: past it the thread is terminated and the report says what was known.
  const contentP = spfP.then(async (spf): Promise<ContentFindings | null> => {
    try {
      return await deps.pool.analyze(mail.raw, { sender: mail.mailFrom, spfPassDomain: spf.result === 'pass' ? spf.domain : null }, async (name, type) => await budget.workerResolve(name, type))
    } catch (err) {
      if (err instanceof AnalysisTimeoutError) return null
      throw err
    }
  })

  const [ptr, heloResolves, mxAddresses, spf, spfHelo, dnsbl, content] = await Promise.all([ptrP, heloP, mxP, spfP, spfHeloP, dnsblP, contentP])
  const stopped = content === null

  return {
    address: target.address,
    connectingIp: ip,
    family,
    callerIp: target.callerIp,
    isCallerIp: sameIp(ip, target.callerIp),
    isMxAddress: mxAddresses.some((a) => sameIp(a, ip)),
    mxAddresses,
    ptr: ptr.names[0] ?? null,
    ptrNames: ptr.names,
    fcrdns: ptr.fcrdns,
    ptrGeneric: ptr.names.length ? looksGeneric(ptr.names[0], ip) : false,
    helo,
    heloResolves,
    heloFqdn,
    tls: mail.tls,
    mailFrom: mail.mailFrom,
    spf,
    spfHelo,
    dkim: content?.dkim ?? [],
    dmarc: content?.dmarc ?? { result: 'temperror', policy: null, domain: null },
    arc: content?.arc ?? null,
    format: content?.format ?? null,
    dnsbl,
    headers: content?.headers ?? null,
    subject: content?.subject ?? null,
    size: mail.size,
    charset: content?.charset ?? { declared: true, charsets: [], undeclaredParts: 0 },
    excerpt: content?.excerpt ?? '',
    lookupMs: Date.now() - t0,
    bounds: content?.bounds ?? null,
    stopped,
    budgetMs: deps.pool.o.budgetMs,
    lookups: { ...budget.used, refused: budget.refused }
  }
}
