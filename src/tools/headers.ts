// The header analyzer: a pasted header block (or whole message) becomes the
// delivery path (Received chain, oldest first, with delays and clock
// problems), the likely origin, the authentication verdicts, the sender
// address mismatches and every header decoded for display.
//
// Pure function of its input except for one optional reverse-DNS lookup of
// the origin address through the app's DnsClient (lookupOriginPtr); it
// never opens a socket of its own.
import libmime from 'libmime'
import { registerAdvice, adviceText, type Lang } from '../i18n/index.js'
import { TOOLS_ADVICE } from '../i18n/advice/tools.js'
import type { DnsClient } from '../dns/resolver.js'
import { specialRangeOf } from '../net/special.js'
import { assertToolText } from './input.js'
import { decodeIso2022Jp } from './jis.js'
import { parseReceived, parseMailDate, type Hop } from './received.js'
import {
  parseAuthenticationResults, parseReceivedSpf, parseDkimSignature, summarizeArc,
  type AuthenticationResults, type ReceivedSpf, type DkimSignature, type ArcSet
} from './authresults.js'
import { organisationalDomain, sameOrganisation, domainOfAddress, firstAddress, bareAddress } from './domains.js'

registerAdvice(TOOLS_ADVICE)

export type { Hop } from './received.js'

/** At most this many header fields are analysed; a real message has a few dozen. */
export const MAX_HEADER_FIELDS = 1000
/** Long decoded values are cut for display beyond this many characters. */
const MAX_DISPLAY_VALUE = 16 * 1024

export interface HeaderField {
  name: string
  /** unfolded, as pasted */
  value: string
  /** RFC 2047 encoded-words decoded (any charset, ISO-2022-JP included); equal to value when there were none */
  decoded: string
}

export interface Finding {
  code: string
  severity: 'info' | 'warn'
  params: Record<string, unknown>
  ja: string
  en: string
}

export interface Origin {
  /** the hop (index, oldest = 1) whose sender is the first outside the recipient's servers */
  hop: number
  ip: string | null
  host: string | null
  helo: string | null
  rdns: string | null
  /** set by lookupOriginPtr: PTR names of ip, [] when there are none, null when not looked up */
  ptr: string[] | null
  ptrError: string | null
  /** the domain taken as "the recipient's own servers" */
  recipientDomain: string | null
  /** every organisational domain found inside the recipient's boundary (its MX, its mailbox provider after a retrieval) */
  recipientDomains: string[]
  /** true: the entry hop names several addresses and its format does not say which one the receiver saw; ip is null */
  ambiguous: boolean
  /** the addresses the entry hop names (the choice when ambiguous) */
  candidates: string[]
  /** why this hop is the entry: external-peer, provider-edge, ambiguous, no-address */
  reason: string
  /** the newer hops walked past as the recipient's own, and why (local, private-ip, retrieval, same-organisation, provider-internal, own-address) */
  walked: Array<{ hop: number, why: string }>
}

export interface HeaderAnalysis {
  /** number of header fields found */
  fieldCount: number
  headers: HeaderField[]
  /** lines that were neither a header field nor a continuation: kept, never dropped */
  unparsedLines: string[]
  /** true when the paste went on after the header block (a body was there; it is not analysed) */
  hadBody: boolean
  subject: string | null
  date: string | null
  messageId: string | null
  from: { name: string, address: string | null, domain: string | null } | null
  returnPath: string | null
  replyTo: string | null
  /** Received chain, oldest first */
  hops: Hop[]
  origin: Origin | null
  /** X-Originating-IP and similar webmail hints, as written */
  originatingIp: string | null
  authenticationResults: AuthenticationResults[]
  receivedSpf: ReceivedSpf[]
  dkim: DkimSignature[]
  arc: ArcSet[]
  /** spf/dkim/dmarc/arc verdicts of the topmost Authentication-Results (the recipient's own server) */
  verdicts: Record<string, string>
  findings: Finding[]
}

/** Decodes encoded-words; a broken one stays as written rather than failing the whole analysis. */
export function decodeHeaderValue (value: string): string {
  let v = value
  // Old Japanese mailers put raw ISO-2022-JP (ESC $ B … ESC ( B) into headers without encoded-words.
  if (v.includes('\u001b')) v = decodeIso2022Jp(v)?.text ?? v
  if (!v.includes('=?')) return v
  try {
    return libmime.decodeWords(v)
  } catch {
    return v
  }
}

interface Block { fields: Array<{ name: string, value: string }>, unparsed: string[], hadBody: boolean, truncated: boolean }

/** Header block → unfolded fields. Leading blank lines and an mbox "From " line are skipped. */
export function unfoldHeaders (raw: string): Block {
  const lines = raw.replace(/\r\n?/g, '\n').split('\n')
  let i = 0
  while (i < lines.length && lines[i].trim() === '') i++
  if (i < lines.length && /^From \S/.test(lines[i])) i++
  const fields: Array<{ name: string, value: string }> = []
  const unparsed: string[] = []
  let hadBody = false
  let truncated = false
  for (; i < lines.length; i++) {
    const line = lines[i]
    if (line.trim() === '') {
      hadBody = lines.slice(i + 1).some((l) => l.trim() !== '')
      break
    }
    if (/^[ \t]/.test(line)) {
      const last = fields[fields.length - 1]
      if (last) last.value += ' ' + line.trim()
      else unparsed.push(line)
      continue
    }
    const m = line.match(/^([!-9;-~]{1,128}):[ \t]?(.*)$/)
    if (m) {
      if (fields.length >= MAX_HEADER_FIELDS) { truncated = true; break }
      fields.push({ name: m[1], value: m[2].trim() })
    } else {
      unparsed.push(line)
    }
  }
  return { fields, unparsed, hadBody, truncated }
}

function finding (code: string, severity: 'info' | 'warn', params: Record<string, unknown> = {}): Finding {
  return { code, severity, params, ja: adviceText(code, 'ja', params), en: adviceText(code, 'en', params) }
}

function cut (s: string): string {
  return s.length > MAX_DISPLAY_VALUE ? s.slice(0, MAX_DISPLAY_VALUE) + ' …' : s
}

/** Inbound edges of the big providers: whatever hands mail to them comes from outside the recipient's mailbox. */
const PROVIDER_EDGE = /^(?:mx\.google\.com|[a-z0-9-]+\.mail\.protection\.outlook\.com|mx\.icloud\.com|mta\d*\.[a-z0-9.]*\.mail\.(?:yahoo|aol)\.com)$/i
/** Microsoft 365 talks between its own servers from 2603:10xx::/ addresses under these domains. */
const MICROSOFT_DOMAINS = new Set(['outlook.com', 'office365.com', 'exchangelabs.com', 'microsoft.com'])

function isLocalName (h: string | null): boolean {
  if (!h) return true
  return !h.includes('.') || /^localhost\b/i.test(h) || organisationalDomain(h) === null
}

/**
 * The origin: walk from the newest hop (written by the recipient's own
 * server) down while the sender is provably one of the recipient's own
 * servers, by what the receiving side recorded:
 * - no sender at all, or a local hand-over (qmail "invoked", "with local", Gmail's internal "by 2002:…");
 * - a LAN or loopback address as the TCP peer;
 * - a retrieval by the recipient's own fetchmail, getmail or a webmail's POP3 fetcher (the mailbox provider joins the boundary);
 * - a forward-confirmed reverse DNS the receiver recorded in the recipient's organisation (Public Suffix List), never a HELO;
 * - Microsoft 365's own 2603:10xx:: hops between its servers;
 * - an address a newer trusted hop named as its own.
 * The first hop whose sender is none of these is where the mail entered;
 * its recorded peer is the origin. Hops below it were written by the sender's
 * side and prove nothing. A hop whose peer cannot be told apart is reported
 * as ambiguous, with its addresses, rather than guessed.
 */
export function findOrigin (hops: Hop[]): Origin | null {
  const newestFirst = [...hops].reverse().filter((h) => h.parsed)
  const orgs = new Set<string>()
  // "us" is only what a trusted receiver calls itself: an MX that calls itself localhost names no organisation,
  // and a by-host further down (written by the sender's side) never does
  let recipientDomain: string | null = null
  const ownIps = new Set<string>()
  const walked: Array<{ hop: number, why: string }> = []
  const inside = (name: string | null): boolean => {
    const o = organisationalDomain(name)
    return o !== null && orgs.has(o)
  }
  for (let k = 0; k < newestFirst.length; k++) {
    const h = newestFirst[k]
    // this hop's receiver is trusted (the newest by definition, the others because their sender was): what it calls itself counts
    const byOrg = organisationalDomain(h.byHost)
    if (byOrg) { orgs.add(byOrg); recipientDomain = recipientDomain ?? byOrg }
    const older = newestFirst[k + 1]
    if (h.byIp) ownIps.add(h.byIp)
    const edge = PROVIDER_EDGE.test(h.byHost ?? '')
    let why: string | null = null
    if (!h.fromIp && !h.peerAmbiguous) {
      if (h.retrieval) why = 'retrieval'
      else if (!h.fromHost || h.protocol === 'LOCAL' || h.protocol === 'LMTP' || isLocalName(h.fromHost) ||
        (h.byHost && h.fromHost.toLowerCase() === h.byHost.toLowerCase())) why = 'local'
    } else if (h.retrieval) {
      why = 'retrieval'
    } else if (h.flags.includes('private-ip')) {
      why = 'private-ip'
    } else if (h.fromIp && ownIps.has(h.fromIp) && !edge) {
      why = 'own-address'
    } else if (!edge && h.fromRdns && h.rdnsVerified === true && inside(h.fromRdns) && inside(h.byHost)) {
      why = 'same-organisation'
    } else if (!edge && h.format === 'microsoft' && h.fromIp && /^2603:10[0-9a-f]{2}:/i.test(h.fromIp) &&
      MICROSOFT_DOMAINS.has(organisationalDomain(h.fromHost) ?? '') && MICROSOFT_DOMAINS.has(organisationalDomain(h.byHost) ?? '')) {
      why = 'provider-internal'
    } else if (!edge && older && h.fromIp && h.for && older.for && domainOfAddress(h.for) !== domainOfAddress(older.for) &&
      ((h.fromRdns && h.rdnsVerified === true && sameOrganisation(h.fromRdns, older.byHost)) || (older.byIp !== null && older.byIp === h.fromIp))) {
      // the recipient's own forwarder: the server that handed the mail over is the one that received it
      // for another address of the recipient (an alias at a university or an old provider)
      why = 'forwarder'
    }
    if (why) {
      walked.push({ hop: h.index, why })
      if (why === 'retrieval' || why === 'forwarder') {
        const o = organisationalDomain(h.fromRdns ?? h.fromHost)
        if (o) orgs.add(o)
      }
      continue
    }
    return {
      hop: h.index,
      ip: h.fromIp,
      host: h.fromRdns ?? h.fromHelo ?? h.fromHost,
      helo: h.fromHelo,
      rdns: h.fromRdns,
      ptr: null,
      ptrError: null,
      recipientDomain,
      recipientDomains: [...orgs],
      ambiguous: h.peerAmbiguous,
      candidates: h.fromIpCandidates,
      reason: h.peerAmbiguous ? 'ambiguous' : !h.fromIp ? 'no-address' : edge ? 'provider-edge' : 'external-peer',
      walked
    }
  }
  return null
}

export interface AnalyzeOptions {
  /** "now" for the future-date check (tests pin it) */
  now?: Date
}

export function analyzeHeaders (raw: string, opts: AnalyzeOptions = {}): HeaderAnalysis {
  // A NUL byte (a paste through a broken clipboard, a mailbox file with padding) does not refuse the
  // paste: the header block is analysed with each NUL shown as U+FFFD, and the damage is reported.
  const nulCount = raw.includes('\u0000') ? raw.split('\u0000').length - 1 : 0
  if (nulCount) raw = raw.replace(/\u0000/g, '\ufffd')
  assertToolText(raw, 'raw')
  const now = (opts.now ?? new Date()).getTime()
  const block = unfoldHeaders(raw)
  const findings: Finding[] = []
  const headers: HeaderField[] = block.fields.map((f) => ({ name: f.name, value: cut(f.value), decoded: cut(decodeHeaderValue(f.value)) }))
  const all = (name: string): HeaderField[] => headers.filter((h) => h.name.toLowerCase() === name)
  const one = (name: string): HeaderField | undefined => all(name)[0]

  // Received headers are prepended by each server: the top one is the newest.
  const receivedRaw = block.fields.filter((f) => f.name.toLowerCase() === 'received').map((f) => f.value)
  const hops = receivedRaw.reverse().map((v) => parseReceived(v))
  hops.forEach((h, i) => { h.index = i + 1 })

  const dateHeader = one('date')
  const sentAt = dateHeader ? parseMailDate(dateHeader.value) : null
  let prev: number | null = sentAt ? sentAt.getTime() : null
  for (const h of hops) {
    if (!h.date) continue
    const t = Date.parse(h.date)
    if (prev !== null) {
      const d = Math.round((t - prev) / 1000)
      h.delaySeconds = d
      if (d < 0) {
        const seconds = -d
        if (seconds > 120) {
          h.flags.push('clock-skew')
          findings.push(finding('tools.headers.clock_skew', 'warn', { hop: h.index, seconds, minutes: Math.round(seconds / 60) }))
        } else {
          h.flags.push('out-of-order')
          findings.push(finding('tools.headers.out_of_order', 'info', { hop: h.index, seconds }))
        }
      } else if (d > 30 * 60) {
        h.flags.push('long-delay')
        findings.push(finding('tools.headers.long_delay', 'info', { hop: h.index, minutes: Math.round(d / 60) }))
      }
    }
    if (t > now + 15 * 60_000) {
      h.flags.push('future-date')
      findings.push(finding('tools.headers.future_date', 'warn', { hop: h.index, date: h.date }))
    }
    prev = t
  }

  if (!hops.length) findings.push(finding('tools.headers.no_received', 'warn'))
  const unparsedHops = hops.filter((h) => !h.parsed).length
  if (unparsedHops) findings.push(finding('tools.headers.unparsed_received', 'info', { count: unparsedHops }))
  for (const h of hops) {
    if (h.fromIpRange && h.fromIp) {
      const code = h.flags.includes('private-ip') ? 'tools.headers.private_ip' : 'tools.headers.reserved_ip'
      findings.push(finding(code, 'info', { hop: h.index, ip: h.fromIp, range: `${h.fromIpRange.name}, ${h.fromIpRange.rfc}` }))
    }
  }

  const origin = findOrigin(hops)
  if (origin && origin.ip) findings.push(finding('tools.headers.origin', 'info', { hop: origin.hop, ip: origin.ip, host: origin.host ?? '' }))
  else if (hops.some((h) => h.parsed) && !origin) findings.push(finding('tools.headers.origin_internal', 'info'))

  // Authentication: the topmost header of each kind is the recipient's own; lower ones prove nothing.
  const authenticationResults = all('authentication-results').map((h) => parseAuthenticationResults(h.value))
  const receivedSpf = all('received-spf').map((h) => parseReceivedSpf(h.value))
  const dkim = all('dkim-signature').map((h) => parseDkimSignature(h.value))
  const arc = summarizeArc(headers)
  const verdicts: Record<string, string> = {}
  const top = authenticationResults[0]
  if (top) {
    for (const r of top.results) {
      if (!(r.method in verdicts)) verdicts[r.method] = r.result
      if (['fail', 'softfail', 'permerror', 'temperror'].includes(r.result) && ['spf', 'dkim', 'dmarc', 'arc'].includes(r.method)) {
        findings.push(finding('tools.headers.auth_fail', r.result === 'fail' ? 'warn' : 'info', { authserv: top.authservId || 'Authentication-Results', method: r.method, result: r.result, reason: r.reason ?? '' }))
      }
    }
    const ids = [...new Set(authenticationResults.map((a) => a.authservId.toLowerCase()))]
    if (ids.length > 1) findings.push(finding('tools.headers.several_authserv', 'info', { ids: ids.join(', ') }))
  }
  if (!('spf' in verdicts) && receivedSpf[0]) verdicts.spf = receivedSpf[0].result
  if (!('arc' in verdicts) && arc.length) verdicts.arc = arc[arc.length - 1].chainValidation ?? 'none'

  // Who the mail claims to be from, and where replies and bounces go.
  const fromField = one('from')
  const fromAddr = fromField ? firstAddress(fromField.decoded) : null
  const fromDomain = domainOfAddress(fromAddr?.address)
  const returnPath = one('return-path') ? firstAddress(one('return-path')!.decoded)?.address ?? null : null
  const replyTo = one('reply-to') ? firstAddress(one('reply-to')!.decoded)?.address ?? null : null
  const rpDomain = domainOfAddress(returnPath)
  const rtDomain = domainOfAddress(replyTo)
  if (fromDomain && rpDomain && !sameOrganisation(fromDomain, rpDomain)) {
    findings.push(finding('tools.headers.from_return_path_mismatch', 'info', { from: fromDomain, returnPath: returnPath ?? '' }))
  }
  if (fromDomain && rtDomain && !sameOrganisation(fromDomain, rtDomain)) {
    findings.push(finding('tools.headers.reply_to_differs', 'warn', { from: fromAddr?.address ?? fromDomain, replyTo: replyTo ?? '' }))
  }
  if (fromAddr?.name && fromAddr.address) {
    const shown = bareAddress(fromAddr.name.replace(/'/g, ' '))
    if (shown && /\.[A-Za-z]{2,}$/.test(shown) && domainOfAddress(shown) !== fromDomain) {
      findings.push(finding('tools.headers.display_name_address', 'warn', { shown, address: fromAddr.address }))
    }
  }
  if (fromDomain) {
    if (!dkim.length) {
      findings.push(finding('tools.headers.no_dkim', 'info'))
    } else if (!dkim.some((d) => d.domain && sameOrganisation(d.domain, fromDomain))) {
      findings.push(finding('tools.headers.dkim_not_aligned', 'warn', { from: fromDomain, domains: dkim.map((d) => d.domain ?? '?').join(', ') }))
    }
  }
  if (nulCount) {
    const inHeader = headers.reduce((n, f) => n + (f.value.split('\ufffd').length - 1), 0) + block.unparsed.reduce((n, l) => n + (l.split('\ufffd').length - 1), 0)
    findings.push(finding('tools.headers.nul_bytes', 'warn', { count: nulCount, inHeader: Math.min(inHeader, nulCount) }))
  }
  const ambiguousHops = hops.filter((h) => h.peerAmbiguous)
  for (const h of ambiguousHops) findings.push(finding('tools.headers.ambiguous_peer', 'warn', { hop: h.index, ips: h.fromIpCandidates.join(', ') }))
  for (const h of hops) {
    if (h.heloIp && h.fromIp) findings.push(finding('tools.headers.helo_ip', 'info', { hop: h.index, heloIp: h.heloIp, ip: h.fromIp }))
  }
  if (block.truncated) findings.push(finding('tools.headers.truncated', 'info', { max: MAX_HEADER_FIELDS }))

  const xo = one('x-originating-ip') ?? one('x-sender-ip') ?? one('x-forwarded-for')
  const originatingIp = xo ? xo.value.replace(/^\[|\]$/g, '').trim().slice(0, 100) : null

  return {
    fieldCount: headers.length,
    headers,
    unparsedLines: block.unparsed.map(cut),
    hadBody: block.hadBody,
    subject: one('subject')?.decoded ?? null,
    date: sentAt ? sentAt.toISOString() : (dateHeader?.value ?? null),
    messageId: one('message-id')?.value ?? null,
    from: fromAddr ? { name: fromAddr.name, address: fromAddr.address, domain: fromDomain } : null,
    returnPath,
    replyTo,
    hops,
    origin,
    originatingIp,
    authenticationResults,
    receivedSpf,
    dkim,
    arc,
    verdicts,
    findings
  }
}

/**
 * Adds the reverse DNS of the origin address, through the app's resolver,
 * only for a global address, with its own short deadline. Any failure is
 * recorded, never thrown: the analysis stands without it.
 */
export async function lookupOriginPtr (a: Pick<HeaderAnalysis, 'origin'>, dns: DnsClient, timeoutMs = 3000): Promise<void> {
  const o = a.origin
  if (!o || !o.ip || specialRangeOf(o.ip)) return
  let timer: NodeJS.Timeout | undefined
  try {
    const names = await Promise.race([
      dns.ptr(o.ip),
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('TIMEOUT')), timeoutMs) })
    ])
    o.ptr = names.slice(0, 10)
  } catch (err) {
    o.ptr = null
    o.ptrError = (err as { dnsCode?: string }).dnsCode ?? (err as Error).message
  } finally {
    if (timer) clearTimeout(timer)
  }
}

/** Findings' messages in one language, for a report or a page. */
export function findingMessages (findings: Finding[], lang: Lang): Array<{ code: string, message: string, severity: string }> {
  return findings.map((f) => ({ code: f.code, message: lang === 'ja' ? f.ja : f.en, severity: f.severity }))
}
