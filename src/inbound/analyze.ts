// What a receiving mail server sees of a mail the visitor's server sent:
// the connecting IP and its reverse DNS, the HELO name, TLS, the envelope
// sender, SPF/DKIM/DMARC (mailauth, through mxprobe's own DnsClient so
// DNS_SERVERS applies), DNS block lists, and the header tool's analysis of
// the message. Every lookup starts at once and has its own time limit: the
// report is ready a few hundred milliseconds after the sender's 250.
import { authenticate, type Resolver } from 'mailauth'
import { spf as spfVerify } from 'mailauth/lib/spf/index.js'
import type { DnsClient } from '../dns/resolver.js'
import { resolveMailHosts } from '../checks/mailhosts.js'
import { parseIp, sameIp } from '../net/ip.js'
import { analyzeHeaders, decodeHeaderValue, type HeaderAnalysis } from '../tools/headers.js'

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

export interface DnsblResult { zone: string, listed: boolean, answer: string | null, reason: string | null, dynamic: boolean, error?: string }

export interface CharsetInfo {
  /** every text part that carries non-ASCII (or ISO-2022-JP escapes) declares its charset */
  declared: boolean
  charsets: string[]
  /** text parts with non-ASCII content and no charset */
  undeclaredParts: number
}

export interface InboundFindings {
  address: string
  connectingIp: string
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
  spf: { result: string, domain: string, reason?: string }
  spfHelo: { result: string, domain: string } | null
  dkim: Array<{ result: string, domain: string | null, selector: string | null, reason?: string, aligned?: boolean }>
  dmarc: { result: string, policy: string | null, domain: string | null }
  dnsbl: DnsblResult[]
  headers: HeaderAnalysis | null
  subject: string | null
  size: number
  charset: CharsetInfo
  /** the first bytes of the body, as text (the rest of the message is not kept) */
  excerpt: string
  /** ms the lookups took */
  lookupMs: number
}

export interface AnalyzeDeps {
  dns: DnsClient
  dnsblZones: string[]
  /** name of the receiving MTA in Authentication-Results */
  mta: string
  /** per lookup group */
  timeoutMs?: number
}

const HEADER_CAP = 64 * 1024
const EXCERPT_CHARS = 2000

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

/** mailauth's resolver: our DnsClient (DNS_SERVERS), node's error codes kept. */
export function mailauthResolver (dns: DnsClient): Resolver {
  return async (name: string, rrtype: string) => await dns.resolve(name, rrtype)
}

/** The header block of a raw message (capped), and where the body starts. */
export function splitMessage (raw: Buffer): { header: string, body: Buffer } {
  let end = raw.indexOf('\r\n\r\n')
  let skip = 4
  const lf = raw.indexOf('\n\n')
  if (end < 0 || (lf >= 0 && lf < end)) { end = lf; skip = 2 }
  if (end < 0) return { header: raw.subarray(0, HEADER_CAP).toString('latin1'), body: Buffer.alloc(0) }
  const head = raw.subarray(0, Math.min(end, HEADER_CAP))
  // Header bytes beyond ASCII are UTF-8 (SMTPUTF8) or raw legacy bytes; decode as UTF-8 when valid.
  let header = head.toString('utf8')
  if (header.includes('\ufffd')) header = head.toString('latin1')
  return { header, body: raw.subarray(end + skip) }
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

/** Is every non-ASCII text part's charset declared? A light MIME walk (top level and one level of parts). */
export function charsetInfo (header: string, body: Buffer): CharsetInfo {
  const charsets = new Set<string>()
  let undeclared = 0
  const typeOf = (h: string): string => (/^content-type:\s*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(h)?.[1] ?? '').replace(/\r?\n[ \t]+/g, ' ')
  const encodingOf = (h: string): string => (/^content-transfer-encoding:\s*([^\s;]+)/im.exec(h)?.[1] ?? '7bit').toLowerCase()
  // A native latin1 decode and one regex scan: a per-byte callback cost ~4 ms per 64 KiB (bench:inbound).
  const high = (b: Buffer): boolean => /[\u0080-\u00ff\u001b]/.test(b.toString('latin1'))
  const nonAscii = (text: Buffer, enc: string): boolean => {
    if (enc === 'base64') return high(Buffer.from(text.subarray(0, 96 * 1024).toString('latin1'), 'base64'))
    if (enc === 'quoted-printable' && /=(?:[89A-Fa-f][0-9A-Fa-f]|1[Bb])/.test(text.toString('latin1'))) return true
    return high(text)
  }
  const visit = (h: string, content: Buffer, depth: number): void => {
    const ct = typeOf(h)
    const mime = (ct.split(';')[0].trim() || 'text/plain').toLowerCase()
    if (mime.startsWith('multipart/') && depth < 2) {
      const boundary = /boundary="?([^";\r\n]+)"?/i.exec(ct)?.[1]
      if (!boundary) return
      const parts = content.toString('latin1').split(`--${boundary}`).slice(1, 51)
      for (const part of parts) {
        if (part.startsWith('--')) break
        const p = part.replace(/^\r?\n/, '')
        const cut = p.search(/\r?\n\r?\n/)
        const ph = cut < 0 ? p : p.slice(0, cut)
        const pb = cut < 0 ? '' : p.slice(cut).replace(/^\r?\n\r?\n/, '')
        visit(ph, Buffer.from(pb, 'latin1'), depth + 1)
      }
      return
    }
    if (!mime.startsWith('text/')) return
    const cs = /charset="?([^";\s]+)"?/i.exec(ct)?.[1]
    if (cs) { charsets.add(cs.toLowerCase()); return }
    if (nonAscii(content, encodingOf(h))) undeclared++
  }
  visit(header, body, 0)
  return { declared: undeclared === 0, charsets: [...charsets], undeclaredParts: undeclared }
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
  const resolver = mailauthResolver(dns)
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

  const authP = within(authenticate(mail.raw, {
    ip,
    helo: helo ?? undefined,
    sender: mail.mailFrom || undefined,
    mta: deps.mta,
    resolver,
    disableBimi: true
  }).catch(() => null), ms * 2, null)

  const spfHeloP = within((async () => {
    if (!heloFqdn || !helo) return null
    const r = await spfVerify({ sender: `postmaster@${helo.replace(/\.$/, '')}`, ip, helo, mta: deps.mta, resolver })
    return { result: r.status.result, domain: r.domain }
  })(), ms, null)

  const dnsblP = Promise.all(deps.dnsblZones.map((z) => within(dnsblLookup(dns, ip, z), ms, { zone: z, listed: false, answer: null, reason: null, dynamic: false, error: 'TIMEOUT' })))

  // The header tool's analysis runs while the lookups are out.
  const { header, body } = splitMessage(mail.raw)
  let headers: HeaderAnalysis | null = null
  try { headers = analyzeHeaders(header.endsWith('\n') ? header : header + '\n') } catch { headers = null }
  const subjectRaw = headers?.headers.find((h) => h.name.toLowerCase() === 'subject')?.value ?? null
  const subject = subjectRaw === null ? null : decodeHeaderValue(subjectRaw)
  const charset = charsetInfo(header, body)
  let excerpt = body.subarray(0, EXCERPT_CHARS * 2).toString('utf8')
  if (excerpt.includes('\ufffd')) excerpt = body.subarray(0, EXCERPT_CHARS).toString('latin1')
  excerpt = excerpt.slice(0, EXCERPT_CHARS)

  const [ptr, heloResolves, mxAddresses, auth, spfHelo, dnsbl] = await Promise.all([ptrP, heloP, mxP, authP, spfHeloP, dnsblP])

  const senderDomain = domainOf(mail.mailFrom) || (helo ?? '').replace(/\.$/, '').toLowerCase()
  const spf = auth?.spf
    ? { result: auth.spf.status.result, domain: auth.spf.domain, ...(auth.spf.status.comment ? { reason: String(auth.spf.status.comment) } : {}) }
    : { result: 'temperror', domain: senderDomain }
  const dkim = (auth?.dkim.results ?? [])
    .filter((d) => d.status.result !== 'none')
    .map((d) => ({
      // A body that no longer matches its signature is a failed signature (RFC 6376 6.1.3:
      // PERMFAIL); mailauth, like Gmail, words it "neutral (body hash did not verify)".
      result: d.status.result === 'neutral' && /body hash did not verify/i.test(String(d.status.comment ?? '')) ? 'fail' : d.status.result,
      domain: d.signingDomain ?? null,
      selector: d.selector ?? null,
      ...(d.status.comment ? { reason: String(d.status.comment) } : {}),
      aligned: !!d.status.aligned
    }))
  const dm = auth?.dmarc
  const dmarc = dm
    ? { result: dm.status.result, policy: dm.policy ?? dm.p ?? null, domain: dm.domain ?? null }
    : { result: auth ? 'none' : 'temperror', policy: null, domain: null }

  return {
    address: target.address,
    connectingIp: ip,
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
    dkim,
    dmarc,
    dnsbl,
    headers,
    subject,
    size: mail.size,
    charset,
    excerpt,
    lookupMs: Date.now() - t0
  }
}
