// SMTP reply parsing (RFC 5321 §4.2), written for servers that may be
// broken or hostile: every line is capped at 512 octets (longer lines are
// cut and flagged, the rest of the line is skipped without being kept),
// every reply has a cap on its lines and bytes, and anything that is not
// "three digits 200-599, then space, hyphen or end of line" stops the
// dialogue with a ProbeError instead of being guessed at.
import { ProbeError } from '../errors.js'

export interface Reply {
  /** 200-599 */
  code: number
  /** RFC 3463 enhanced status code ("5.1.1") when the text starts with one of the reply's class */
  enhanced: string | null
  /** the text of each line, after the code, separator and enhanced code */
  lines: string[]
  /** each line as received (printable; controls escaped), for the transcript */
  raw: string[]
  /** some line was longer than the line cap and was cut */
  truncated: boolean
}

export interface ReplyLimits {
  /** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including CRLF */
  maxLineOctets: number
  /** continuation lines one reply may have */
  maxLinesPerReply: number
  /** octets one reply may take, counting skipped parts of over-long lines */
  maxBytesPerReply: number
}

export const DEFAULT_REPLY_LIMITS: ReplyLimits = { maxLineOctets: 512, maxLinesPerReply: 200, maxBytesPerReply: 64 * 1024 }

/** Text of a reply (all lines joined with a space), for summaries. */
export function replyText (r: Reply): string {
  return r.lines.join(' ').trim()
}

/** "550 5.1.1 User unknown" — first line with code, as people quote it. */
export function replyHeadline (r: Reply): string {
  return r.raw[0] ?? String(r.code)
}

export function isPositive (r: Reply): boolean { return r.code >= 200 && r.code < 400 }

/**
 * Makes server bytes safe to keep and show: UTF-8 where valid, controls
 * (other than tab) as \xNN. HTML escaping is the renderer's job.
 */
export function printable (buf: Buffer): string {
  return buf.toString('utf8').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

const LINE = /^(\d{3})([ -]|$)(.*)$/s

export interface ParsedLine { code: number, more: boolean, text: string }

/** One reply line; throws ProbeError('protocol') when it is not a reply line at all. */
export function parseReplyLine (line: string): ParsedLine {
  const m = LINE.exec(line)
  if (!m) throw new ProbeError('protocol', `the server sent a line that is not an SMTP reply: "${line.slice(0, 80)}"`)
  const code = Number(m[1])
  if (code < 200 || code > 599) throw new ProbeError('protocol', `the server sent reply code ${m[1]}, outside 200-599`)
  return { code, more: m[2] === '-', text: m[3] }
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/

function enhancedOf (code: number, text: string): string | null {
  const m = ENHANCED.exec(text)
  if (!m || Number(m[1]) !== Math.floor(code / 100)) return null
  return `${m[1]}.${Number(m[2])}.${Number(m[3])}`
}

/**
 * Incremental parser. `push(bytes)` returns the replies completed by those
 * bytes; state between calls is at most one capped line and one capped reply.
 */
export class ReplyParser {
  private line: Buffer[] = []
  private lineBytes = 0
  private lineCut = false
  private pending: { code: number, lines: string[], raw: string[], truncated: boolean, bytes: number } | null = null
  private replyBytes = 0
  readonly limits: ReplyLimits

  /** `onLine` sees every line as it completes (before it is judged), for a live transcript */
  constructor (limits: Partial<ReplyLimits> = {}, private readonly onLine: (text: string) => void = () => {}) {
    this.limits = { ...DEFAULT_REPLY_LIMITS, ...limits }
  }

  /** bytes received that do not yet form a complete reply (STARTTLS injection check) */
  get buffered (): number {
    return this.lineBytes + (this.pending ? this.pending.bytes : 0)
  }

  /** forget everything (after STARTTLS, nothing from before the handshake may be used) */
  reset (): void {
    this.line = []
    this.lineBytes = 0
    this.lineCut = false
    this.pending = null
    this.replyBytes = 0
  }

  push (chunk: Buffer): Reply[] {
    const out: Reply[] = []
    let start = 0
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start)
      const end = lf === -1 ? chunk.length : lf
      this.take(chunk.subarray(start, end))
      if (lf === -1) break
      const r = this.endLine()
      if (r) out.push(r)
      start = lf + 1
    }
    return out
  }

  private take (part: Buffer): void {
    this.replyBytes += part.length
    if (this.replyBytes > this.limits.maxBytesPerReply) {
      throw new ProbeError(this.lineBytes + part.length > this.limits.maxLineOctets ? 'line_too_long' : 'protocol',
        this.lineBytes + part.length > this.limits.maxLineOctets
          ? `the server sent a reply line longer than ${this.limits.maxBytesPerReply} bytes`
          : `the server sent a reply longer than ${this.limits.maxBytesPerReply} bytes`)
    }
    const room = this.limits.maxLineOctets - 2 - this.lineBytes
    if (room <= 0) { if (part.length) this.lineCut = true; return }
    if (part.length > room) {
      this.lineCut = true
      part = part.subarray(0, room)
    }
    // Copy: the caller's chunk may be reused by the stream.
    this.line.push(Buffer.from(part))
    this.lineBytes += part.length
  }

  private endLine (): Reply | null {
    let buf = Buffer.concat(this.line)
    const cut = this.lineCut
    this.line = []
    this.lineBytes = 0
    this.lineCut = false
    this.replyBytes += 1
    if (buf.length && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1)
    const text = printable(buf)
    this.onLine(cut ? `${text} [… cut at ${this.limits.maxLineOctets} octets]` : text)
    const p = parseReplyLine(text)
    if (this.pending && this.pending.code !== p.code) {
      throw new ProbeError('protocol', `a multi-line reply changed its code from ${this.pending.code} to ${p.code}`)
    }
    const pend = this.pending ?? { code: p.code, lines: [], raw: [], truncated: false, bytes: 0 }
    pend.lines.push(p.text)
    pend.raw.push(cut ? `${text} [… cut at ${this.limits.maxLineOctets} octets]` : text)
    pend.truncated ||= cut
    pend.bytes = this.replyBytes
    if (pend.lines.length > this.limits.maxLinesPerReply) {
      throw new ProbeError('protocol', `the server sent more than ${this.limits.maxLinesPerReply} lines in one reply`)
    }
    if (p.more) {
      this.pending = pend
      return null
    }
    this.pending = null
    this.replyBytes = 0
    const enhanced = enhancedOf(pend.code, pend.lines[0])
    const lines = enhanced ? pend.lines.map((l) => l.replace(ENHANCED, '').trimStart()) : pend.lines
    return { code: pend.code, enhanced, lines, raw: pend.raw, truncated: pend.truncated }
  }
}

/** EHLO keywords and their parameters, upper-cased keyword → params (RFC 5321 §4.1.1.1). */
export function parseEhlo (r: Reply): Map<string, string[]> {
  const ext = new Map<string, string[]>()
  // The first line is the server's name and greeting, not an extension.
  for (const l of r.lines.slice(1)) {
    const parts = l.trim().split(/\s+/).filter(Boolean)
    if (!parts.length || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(parts[0])) continue
    ext.set(parts[0].toUpperCase(), parts.slice(1))
  }
  return ext
}
