// The part of the send test's analysis that reads the message itself: DKIM,
// DMARC (given the SPF result found on the main thread), the header tool's
// analysis, the charset declarations and an excerpt. It is the part an
// attacker controls, so it runs in a worker thread (./worker.ts, under a hard
// time budget) and only on the bounded message (./bound.ts). Its DNS goes
// through the resolver it is given: the main thread answers and counts.
import { dkimVerify } from 'mailauth/lib/dkim/verify.js'
import { dmarc as dmarcVerify } from 'mailauth/lib/dmarc/index.js'
import { arc as arcVerify } from 'mailauth/lib/arc/index.js'
import type { Resolver } from 'mailauth'
import { analyzeHeaders, decodeHeaderValue, type HeaderAnalysis } from '../tools/headers.js'
import { boundMessage, type Bounds } from './bound.js'

const EXCERPT_CHARS = 2000

export interface CharsetInfo {
  /** every text part that carries non-ASCII (or ISO-2022-JP escapes) declares its charset */
  declared: boolean
  charsets: string[]
  /** text parts with non-ASCII content and no charset */
  undeclaredParts: number
}

export interface DkimFinding { result: string, domain: string | null, selector: string | null, reason?: string, aligned?: boolean }
export interface DmarcFinding { result: string, policy: string | null, domain: string | null }
/** the ARC chain the mail carries (RFC 8617): result of the chain, the last instance, and why it failed */
export interface ArcFinding { result: string, sets: number, i: number | null, reason?: string }

/** What receivers check of the message's form (RFC 5322 3.6, RFC 8058), from the header block alone. */
export interface FormatFacts {
  /** one Message-ID, of the form <left@right> */
  messageId: boolean
  /** one Date, of RFC 5322's date-time form */
  date: boolean
  /** one From, with an address */
  from: boolean
  /** the From address's domain, lower case; '' when none */
  fromDomain: string
  /** a List-Unsubscribe field */
  listUnsubscribe: boolean
  /** RFC 8058 one-click: List-Unsubscribe with an https URI and List-Unsubscribe-Post: List-Unsubscribe=One-Click */
  oneClick: boolean
}

export interface ContentFindings {
  dkim: DkimFinding[]
  dmarc: DmarcFinding
  headers: HeaderAnalysis | null
  subject: string | null
  charset: CharsetInfo
  excerpt: string
  bounds: Bounds
  format: FormatFacts
  /** null when the mail carries no ARC set */
  arc: ArcFinding | null
}

export interface ContentOptions {
  /** the envelope sender ('' for <>) */
  sender: string
  /** the SPF-authenticated domain (SPF pass), for DMARC; null otherwise */
  spfPassDomain: string | null
  resolver: Resolver
}

/** The header block as text: UTF-8 when it is valid UTF-8 (SMTPUTF8), else the raw legacy bytes. */
export function headerText (head: Buffer): string {
  const header = head.toString('utf8')
  return header.includes('\ufffd') ? head.toString('latin1') : header
}

// RFC 5322 3.3 date-time, with the obsolete zone names (GMT, EST …) that 4.3 still asks a reader to accept
const DATE_TIME = /^\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s*,\s*)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|UT|GMT|[ECMP][SD]T|[A-IK-Za-ik-z])(?:\s*\([^()]*\))?\s*$/

/** The message's form as the big receivers check it: one field each, well formed. Linear in the header block. */
export function formatFacts (header: string): FormatFacts {
  const values = new Map<string, string[]>()
  for (const field of header.split(/\r?\n(?![ \t])/)) {
    const colon = field.indexOf(':')
    if (colon <= 0 || colon > 76) continue
    const name = field.slice(0, colon).trim().toLowerCase()
    if (!['message-id', 'date', 'from', 'list-unsubscribe', 'list-unsubscribe-post'].includes(name)) continue
    const list = values.get(name) ?? []
    list.push(field.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').slice(0, 4096))
    values.set(name, list)
  }
  const one = (n: string): string | null => values.get(n)?.length === 1 ? values.get(n)![0] : null
  const from = one('from')
  const addr = from === null ? null : (/<([^<>\s]+@[^<>\s]+)>/.exec(from) ?? /([^\s<>,;:"]+@[^\s<>,;:"]+)/.exec(from))
  const unsub = one('list-unsubscribe')
  return {
    messageId: /^\s*<[^<>\s@]+@[^<>\s@]+>\s*$/.test(one('message-id') ?? ''),
    date: DATE_TIME.test(one('date') ?? ''),
    from: addr !== null,
    fromDomain: addr ? addr[1].slice(addr[1].lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '') : '',
    listUnsubscribe: values.has('list-unsubscribe'),
    oneClick: unsub !== null && /<https:\/\/[^<>\s]+>/i.test(unsub) && /^\s*List-Unsubscribe=One-Click\s*$/i.test(one('list-unsubscribe-post') ?? '')
  }
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

export async function analyzeContent (raw: Buffer, o: ContentOptions): Promise<ContentFindings> {
  const { message, header: head, body, bounds } = boundMessage(raw)
  const header = headerText(head)
  let headers: HeaderAnalysis | null = null
  try { headers = analyzeHeaders(header.endsWith('\n') ? header : header + '\n') } catch { headers = null }
  const subjectRaw = headers?.headers.find((h) => h.name.toLowerCase() === 'subject')?.value ?? null
  const subject = subjectRaw === null ? null : decodeHeaderValue(subjectRaw)
  const charset = charsetInfo(header, body)
  let excerpt = body.subarray(0, EXCERPT_CHARS * 2).toString('utf8')
  if (excerpt.includes('\ufffd')) excerpt = body.subarray(0, EXCERPT_CHARS).toString('latin1')
  excerpt = excerpt.slice(0, EXCERPT_CHARS)

  // DKIM over the bounded message, then DMARC with the SPF result (mailauth's authenticate()
  // without its SPF, which the main thread did, and without ARC and BIMI, which the report does not show).
  let dkim: DkimFinding[] = []
  let dmarc: DmarcFinding = { result: 'temperror', policy: null, domain: null }
  const format = formatFacts(header)
  let arc: ArcFinding | null = bounds.arcSets ? { result: bounds.arcDropped ? 'not_checked' : 'temperror', sets: bounds.arcSets, i: null } : null
  try {
    const v = await dkimVerify(message, { resolver: o.resolver, sender: o.sender || undefined })
    const results = v.results ?? []
    dkim = results
      .filter((d) => d.status.result !== 'none')
      .map((d) => ({
        // A body that no longer matches its signature is a failed signature (RFC 6376 6.1.3:
        // PERMFAIL); mailauth, like Gmail, words it "neutral (body hash did not verify)".
        result: d.status.result === 'neutral' && /body hash did not verify/i.test(String(d.status.comment ?? '')) ? 'fail' : d.status.result,
        domain: d.signingDomain ?? null,
        selector: d.selector ?? null,
        ...(d.status.comment ? { reason: String(d.status.comment).slice(0, 300) } : {}),
        aligned: !!d.status.aligned
      }))
    // ARC (RFC 8617), only when the mail carries a chain that the bounds kept: mailauth checks
    // the seals of every set and the last message signature, through the same counted resolver.
    if (arc && !bounds.arcDropped && v.arc?.chain) {
      try {
        const a = await arcVerify(v.arc, { resolver: o.resolver })
        const comment = a.status.comment
        arc = { result: a.status.result, sets: bounds.arcSets, i: typeof a.i === 'number' ? a.i : null, ...(comment ? { reason: String(comment).slice(0, 300) } : {}) }
      } catch {
        arc = { result: 'temperror', sets: bounds.arcSets, i: null }
      }
    }
    if (v.headerFrom) {
      const dm = await dmarcVerify({
        headerFrom: v.headerFrom,
        spfDomains: o.spfPassDomain ? [o.spfPassDomain] : [],
        dkimDomains: results.filter((r) => r.status.result === 'pass').map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized })),
        resolver: o.resolver
      })
      dmarc = dm ? { result: dm.status.result, policy: dm.policy ?? dm.p ?? null, domain: dm.domain ?? null } : { result: 'none', policy: null, domain: null }
    } else {
      dmarc = { result: 'none', policy: null, domain: null }
    }
  } catch {
    // a message mailauth cannot parse: no verdict beyond temperror
  }
  return { dkim, dmarc, headers, subject, charset, excerpt, bounds, format, arc }
}
