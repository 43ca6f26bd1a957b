// The part of the send test's analysis that reads the message itself: DKIM,
// DMARC (given the SPF result found on the main thread), the header tool's
// analysis, the charset declarations and an excerpt. It is the part an
// attacker controls, so it runs in a worker thread (./worker.ts, under a hard
// time budget) and only on the bounded message (./bound.ts). Its DNS goes
// through the resolver it is given: the main thread answers and counts.
import { dkimVerify } from 'mailauth/lib/dkim/verify.js'
import { dmarc as dmarcVerify } from 'mailauth/lib/dmarc/index.js'
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

export interface ContentFindings {
  dkim: DkimFinding[]
  dmarc: DmarcFinding
  headers: HeaderAnalysis | null
  subject: string | null
  charset: CharsetInfo
  excerpt: string
  bounds: Bounds
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
  return { dkim, dmarc, headers, subject, charset, excerpt, bounds }
}
