// The send test's input, bounded before any of it is verified, the way
// receiving servers bound it: the header block at 64 KiB (cut at a field
// boundary), at most a few DKIM signatures (those of the From domain
// first, then those of its parents and subdomains, so a flood of junk signatures cannot hide the one that matters),
// each with a bounded h= list. What is cut is counted, so the report can
// say "N more not checked". Pure: no I/O, linear in the input.

/** the header block kept for analysis, as the header tool bounds it */
export const HEADER_CAP = 64 * 1024
/** DKIM signatures verified per mail */
export const MAX_SIGNATURES = 5
/** names in one signature's h= list; real signatures list 5–40 (oversigning included) */
export const MAX_SIGNED_HEADERS = 100
/** header fields kept: a real mail has a few dozen; each signature's header selection walks them all */
export const MAX_FIELDS = 1000
/** one header field's bytes (folded lines included); longer fields are dropped, as Postfix's header_size_limit does */
export const MAX_FIELD_BYTES = 16 * 1024
/**
 * ARC sets verified per mail. RFC 8617 allows 50 hops; real mail carries one to three
 * (a list, a gateway). Past this, or with an ARC-Message-Signature whose h= list is past
 * MAX_SIGNED_HEADERS, the ARC fields are dropped before verification and the chain reported
 * as not checked: each set costs a signature check and DNS lookups.
 */
export const MAX_ARC_SETS = 5
const ARC_FIELDS = new Set(['arc-seal', 'arc-message-signature', 'arc-authentication-results'])

export interface SkippedSignature { domain: string | null, selector: string | null, why: 'h_list' | 'not_checked' }

export interface Bounds {
  /** bytes of the header block as received */
  headerBytes: number
  /** the header block was cut (at HEADER_CAP bytes or MAX_FIELDS fields) or lost fields longer than MAX_FIELD_BYTES */
  headerTruncated: boolean
  /** DKIM-Signature fields in the message */
  signatures: number
  /** how many of them go to verification */
  checked: number
  /** signatures not verified, and why (at most MAX_SIGNATURES + a few listed; the count is `signatures - checked`) */
  skipped: SkippedSignature[]
  /** ARC-Seal fields in the message */
  arcSets: number
  /** the ARC fields were dropped before verification (more than MAX_ARC_SETS sets, or an over-long h= list) */
  arcDropped: boolean
}

export interface BoundedMessage {
  /** the message to verify: kept header fields, the separator, the body */
  message: Buffer
  /** the kept header block (bytes) */
  header: Buffer
  body: Buffer
  bounds: Bounds
}

/** Where the header block ends and the body begins (CRLF CRLF, or a bare LF LF first). */
export function headerEnd (raw: Buffer): { end: number, skip: number } {
  let end = raw.indexOf('\r\n\r\n')
  let skip = 4
  const lf = raw.indexOf('\n\n')
  if (end < 0 || (lf >= 0 && lf < end)) { end = lf; skip = 2 }
  if (end < 0) return { end: raw.length, skip: 0 }
  return { end, skip }
}

interface Field { start: number, end: number, name: string }

/** Header fields as byte ranges (each with its line ending); a field begins at a line not starting with WSP. */
function fields (head: Buffer): Field[] {
  const out: Field[] = []
  let i = 0
  while (i < head.length) {
    const start = i
    // to the end of this field: lines whose next line starts with space or tab belong to it
    for (;;) {
      const nl = head.indexOf(10, i)
      i = nl < 0 ? head.length : nl + 1
      if (i >= head.length || (head[i] !== 0x20 && head[i] !== 0x09)) break
    }
    // the name: up to the colon, looked for within this field only (and in its first 256 bytes)
    const colon = head.subarray(start, Math.min(i, start + 256)).indexOf(58)
    const name = colon > 0 ? head.subarray(start, start + colon).toString('latin1').trim().toLowerCase() : ''
    out.push({ start, end: i, name })
  }
  return out
}

/** A DKIM-Signature's tags (only those that decide the bounds). */
function tags (value: string): { d: string | null, s: string | null, hCount: number } {
  const get = (k: string): string | null => {
    const m = new RegExp(`(?:^|;)\\s*${k}\\s*=\\s*([^;]*)`, 'i').exec(value)
    return m ? m[1].replace(/\s+/g, '') : null
  }
  const h = get('h')
  return { d: get('d')?.toLowerCase().slice(0, 253) ?? null, s: get('s')?.slice(0, 63) ?? null, hCount: h ? h.split(':').length : 0 }
}

/** The From field's domain (first address), lower case; '' when none. */
function fromDomain (value: string): string {
  const m = /<[^<>@\s]*@([^<>\s]+)>/.exec(value) ?? /@([a-z0-9.-]+)/i.exec(value)
  return m ? m[1].toLowerCase().replace(/\.$/, '') : ''
}

/**
 * How well d= matches the From domain: 0 the same domain, 1 a parent or a subdomain of it
 * (relaxed alignment, without the public suffix list), 2 another domain.
 */
function alignment (d: string | null, from: string): number {
  if (!d || !from) return 2
  if (d === from) return 0
  return from.endsWith(`.${d}`) || d.endsWith(`.${from}`) ? 1 : 2
}

export function boundMessage (raw: Buffer): BoundedMessage {
  const { end, skip } = headerEnd(raw)
  const fullHead = raw.subarray(0, end + (skip ? skip / 2 : 0))
  const body = raw.subarray(end + skip)
  const all = fields(fullHead)
  // The signatures are chosen first, over the whole header block, so that a flood of them cannot
  // push the From field or the one valid signature out of the kept block; they do not count
  // against its cap.
  const fromField = all.find((f) => f.name === 'from')
  const from = fromField ? fromDomain(fullHead.subarray(fromField.start, Math.min(fromField.end, fromField.start + MAX_FIELD_BYTES)).toString('latin1')) : ''
  const sigFields = all.filter((f) => f.name === 'dkim-signature')
  const skipped: SkippedSignature[] = []
  const note = (x: SkippedSignature): void => { if (skipped.length < MAX_SIGNATURES * 2) skipped.push(x) }
  const usable: Array<{ f: Field, d: string | null, s: string | null }> = []
  for (const f of sigFields) {
    const tg = tags(fullHead.subarray(f.start, Math.min(f.end, f.start + MAX_FIELD_BYTES)).toString('latin1').replace(/^[^:]*:/, ''))
    if (f.end - f.start > MAX_FIELD_BYTES || tg.hCount > MAX_SIGNED_HEADERS) note({ domain: tg.d, selector: tg.s, why: 'h_list' })
    else usable.push({ f, d: tg.d, s: tg.s })
  }
  const arcSets = all.filter((f) => f.name === 'arc-seal').length
  const arcDropped = arcSets > MAX_ARC_SETS || all.some((f) => f.name === 'arc-message-signature' &&
    (f.end - f.start > MAX_FIELD_BYTES || tags(fullHead.subarray(f.start, Math.min(f.end, f.start + MAX_FIELD_BYTES)).toString('latin1').replace(/^[^:]*:/, '')).hCount > MAX_SIGNED_HEADERS))
  const chosen = new Set<Field>()
  for (const x of [0, 1, 2].flatMap((rank) => usable.filter((u) => alignment(u.d, from) === rank))) {
    if (chosen.size < MAX_SIGNATURES) chosen.add(x.f)
    else note({ domain: x.d, selector: x.s, why: 'not_checked' })
  }
  // The other fields, in order, within the caps; the chosen signatures in their places.
  const parts: Buffer[] = []
  let bytes = 0
  let count = 0
  let truncated = false
  for (const f of all) {
    if (f.name === 'dkim-signature') {
      if (chosen.has(f)) parts.push(fullHead.subarray(f.start, f.end))
      continue
    }
    if (arcDropped && ARC_FIELDS.has(f.name)) continue
    const len = f.end - f.start
    if (len > MAX_FIELD_BYTES || bytes + len > HEADER_CAP || count >= MAX_FIELDS) { truncated = true; continue }
    parts.push(fullHead.subarray(f.start, f.end))
    bytes += len
    count++
  }
  const header = Buffer.concat(parts)
  const eol = skip === 2 ? '\n' : '\r\n'
  const message = Buffer.concat([header, Buffer.from(skip ? eol : ''), body])
  return {
    message,
    header,
    body,
    bounds: { headerBytes: end, headerTruncated: truncated, signatures: sigFields.length, checked: chosen.size, skipped, arcSets, arcDropped }
  }
}
