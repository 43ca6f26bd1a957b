// mxprobe's own SMTP dialogue client: the one SMTP engine of every probe
// and of the receive test's delivery. nodemailer's send() pipelines the
// whole transaction and hides the replies we need to judge one by one,
// hence this small client. DATA exists in exactly one method,
// sendMessage(), which the relay and role probes never call: they use
// envelopeBatch(), which ends every envelope with RSET.
//
// API (stable; the relay/roles checks build on it):
//
//   const c = await SmtpClient.open(ctx, ip, { servername: mxHost })
//       connects through ctx.connect (the guarded connector) and reads the
//       greeting; c.banner is the 220 (or whatever the server said).
//   await c.ehlo()                 EHLO HELO_NAME, falls back to HELO on 5xx;
//                                  c.extensions (Map KEYWORD → params), c.supports('PIPELINING')
//   await c.startTls()             STARTTLS → TLS via guarded.startTls() → re-EHLO;
//                                  returns { reply, tls: TlsInfo | null }; throws on injection
//   await c.mailFrom(path|null, params?)   MAIL FROM:<…> (null = <>)
//   await c.rcptTo(path)           RCPT TO:<…>
//   await c.rset(); await c.noop()
//   await c.envelopeBatch(from, [rcpt…])   MAIL + RCPT… + RSET, pipelined (one write)
//                                  when PIPELINING is advertised, one by one otherwise
//   await c.sendMessage(from, to, message, opts)   MAIL + RCPT + DATA (one pipelined write
//                                  when PIPELINING is advertised, RFC 2920: DATA last), then the
//                                  dot-stuffed message; capped in bytes; the transcript shows the
//                                  header lines and a note for the body (opts.bodyNote)
//   await c.quit()                 QUIT, waits briefly for 221, closes. c.close() just closes.
//   await c.flight([{ kind: 'mail', from }, { kind: 'rcpt', to }, { kind: 'rset' }], { quit })
//                                  one pipelined write, replies in order, never throws ({ replies, error })
//   c.leave() (= c.quitNoWait())   QUIT without waiting for 221 (half-close, drain, destroy later)
//   c.timings                      [{ stage, ms }] per command (and connect, banner, tls)
//   c.replies                      [{ stage, reply }] every reply in order; explainReplies(report, c.replies)
//                                  in src/checks/smtp.ts turns each 4xx/5xx into advice (ja/en)
//
// Check helpers for mail checks, in src/checks/smtp.ts: prepareMailTarget(ctx, domain)
// (validate, MX, caller-IP rule → { domain, host, ip }, 403 before any socket),
// noteDeadlines(ctx) (the RFC 5321 §4.5.3.2 info step), explainReplies(report, replies),
// adviseUnreachable(ctx, err, ip) (the refused/filtered/silent checklist).
//
// Paths: only a `Mailbox` from parseMailbox() (user input, fully validated)
// or a `ProbePath` from probePath() (addresses mxprobe composes itself, e.g.
// relay vectors, checked for printable ASCII without <>, ≤ 256 octets) can
// become a MAIL/RCPT argument. Every command line is asserted to contain no
// CR, LF or NUL and to end in exactly one CRLF, and to fit in 512 octets.
//
// Limits: per-reply line/byte caps (reply.ts), a line and byte cap for the
// whole session, a timeout per reply that is also absolute (a server that
// trickles one byte a second is still cut off), the banner timeout, and the
// check's absolute deadline. Every failure is a ProbeError whose kind tells
// the report what happened: silent, closed, timeout, deadline, byte_cap,
// line_too_long, protocol, tls.
import tls from 'node:tls'
import type net from 'node:net'
import { ProbeError } from '../errors.js'
import type { ProbeSession, TranscriptSink } from '../core/session.js'
import type { GuardedSocket } from '../net/connect.js'
import { ReplyParser, parseEhlo, replyHeadline, type Reply, type ReplyLimits } from './reply.js'
import { isMailbox, type Mailbox } from './address.js'
import { describeTls, tlsSummary, type TlsInfo } from '../core/tls.js'
import { bi, type Lang } from '../i18n/index.js'

export type { TranscriptSink }

export interface SmtpClientOptions {
  heloName: string
  bannerTimeoutMs: number
  commandTimeoutMs: number
  /** epoch ms: nothing of this session outlives it */
  deadline: number
  /** bytes read from the server in the whole session */
  maxSessionBytes: number
  /** reply lines in the whole session */
  maxSessionLines: number
  /** name for SNI and certificate matching (the MX host name) */
  servername?: string
  replyLimits?: Partial<ReplyLimits>
  /** language of the notes ("I" lines) the client adds to the transcript (default en) */
  lang?: Lang
}

export interface StageTiming { stage: string, ms: number }

// The TLS/certificate description is shared with POP3: src/core/tls.ts.
export type { CertInfo, TlsInfo } from '../core/tls.js'
export { describeTls, tlsSummary }

const BRAND: unique symbol = Symbol('probe path')
/** An address mxprobe composes itself (relay vectors, postmaster). */
export interface ProbePath { readonly [BRAND]: true, readonly text: string }

/** Printable ASCII, no space, no <>, ≤ 254 octets (256 with the brackets): safe between < and >. */
export function probePath (text: string): ProbePath {
  if (!/^[\x21-\x3b\x3d\x3f-\x7e]{1,254}$/.test(text)) throw new Error(`probe path ${JSON.stringify(text).slice(0, 80)} is not printable ASCII without <>, at most 254 octets`)
  return { [BRAND]: true, text }
}

/** RFC 5321 §4.5.1: every server must accept mail for "postmaster" without a domain. */
export const POSTMASTER: ProbePath = probePath('postmaster')

export type Path = Mailbox | ProbePath

function pathText (p: Path): string {
  if (isMailbox(p)) return p.address
  if ((p as ProbePath)[BRAND] === true) return (p as ProbePath).text
  throw new Error('SMTP path was not validated')
}

/** A command of a pipelined flight (no DATA: flights are for probes; DATA lives in sendMessage() only). */
export type FlightCommand = { kind: 'mail', from: Path | null } | { kind: 'rcpt', to: Path } | { kind: 'rset' }

export type MailParam = 'SMTPUTF8' | 'BODY=8BITMIME' | { size: number }

type Verb = 'EHLO' | 'HELO' | 'STARTTLS' | 'MAIL FROM:' | 'RCPT TO:' | 'DATA' | 'RSET' | 'NOOP' | 'QUIT'

/**
 * The only way a command line is made. Arguments were validated where they
 * were built; this asserts it again at the last moment before the wire.
 */
export function commandLine (verb: Verb, arg?: string): string {
  const line = arg === undefined ? verb : verb.endsWith(':') ? verb + arg : `${verb} ${arg}`
  if (/[\r\n\0]/.test(line)) throw new Error(`refusing to send a command containing CR, LF or NUL: ${JSON.stringify(line).slice(0, 80)}`)
  const wire = line + '\r\n'
  if (wire.indexOf('\r') !== wire.length - 2 || wire.indexOf('\n') !== wire.length - 1) throw new Error('command line must end in exactly one CRLF')
  if (Buffer.byteLength(wire) > 512) throw new Error('command line longer than 512 octets (RFC 5321 §4.5.3.1.4)')
  return wire
}

export interface MessageOptions {
  params?: MailParam[]
  /** the most bytes of message mxprobe sends (dot-stuffed, with the final "."); larger is refused before MAIL */
  maxBytes?: number
  /** the transcript note that stands for the body: (lines, bytes) → text in the report's language */
  bodyNote?: (lines: number, bytes: number) => string
  /** ms to wait for the reply to the final "." (default: the command timeout) */
  endTimeoutMs?: number
  /**
   * With PIPELINING, QUIT follows the message in the same write (RFC 2920
   * §3.1) and the session is over once the final reply is read; end it
   * with quitNoWait(), which then sends no second QUIT.
   */
  quit?: boolean
}

export interface MessageResult {
  /** MAIL, RCPT and DATA went out in one write */
  pipelined: boolean
  mail: Reply | null
  rcpt: Reply | null
  data: Reply | null
  /** the reply to the final "." (null when DATA was refused or never reached) */
  end: Reply | null
  /** bytes written after the 354 */
  bytes: number
  /** the envelope and the message were accepted (2xx to the final ".") */
  accepted: boolean
}

/** What mxprobe sends as one message at most (its own test mails are a few kB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024

function isOk (r: Reply | null): boolean { return !!r && r.code >= 200 && r.code < 300 }

const CRLF = Buffer.from('\r\n')
const DOT = Buffer.from('.')
const END = Buffer.from('.\r\n')

/**
 * A message as it goes after DATA (RFC 5321 §4.5.2): every line ends in
 * CRLF (bare LF becomes CRLF), a line that starts with "." gets a second
 * one, and the ".\r\n" that ends the data follows. A bare CR or NUL or a
 * line longer than 998 octets is refused: mxprobe composes its messages
 * itself and never sends one a server could read two ways.
 */
export function dotStuff (message: Buffer): Buffer {
  const out: Buffer[] = []
  let start = 0
  while (start < message.length) {
    const lf = message.indexOf(0x0a, start)
    const end = lf === -1 ? message.length : lf
    const lineEnd = end > start && message[end - 1] === 0x0d ? end - 1 : end
    const line = message.subarray(start, lineEnd)
    if (line.includes(0x0d) || line.includes(0x00)) throw new Error('refusing to send a message with a bare CR or a NUL')
    if (line.length > 998) throw new Error('refusing to send a message line longer than 998 octets (RFC 5321 §4.5.3.1.6)')
    if (line.length && line[0] === 0x2e) out.push(DOT)
    out.push(line, CRLF)
    start = end + 1
  }
  out.push(END)
  return Buffer.concat(out)
}

/** What opening a session needs: the guarded connector, the limits, a transcript. */
/** What a session needs of its check: the narrow ProbeSession, and the report's language for mxprobe's own notes. */
export type SessionContext = ProbeSession & { lang?: Lang }

const HOSTNAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i

interface Waiter { resolve: (r: Reply) => void, reject: (e: Error) => void }

export class SmtpClient {
  banner: Reply | null = null
  ehloReply: Reply | null = null
  /** EHLO was refused and HELO used: no extensions */
  usedHelo = false
  extensions = new Map<string, string[]>()
  tls: TlsInfo | null = null
  /** the TLS socket once STARTTLS succeeded (a diagnosis shares its handshake: src/core/handshakes.ts) */
  tlsSocket: tls.TLSSocket | null = null
  readonly timings: StageTiming[] = []
  /** every reply of the session with the stage it answered, in order (reports explain the non-2xx ones) */
  readonly replies: Array<{ stage: string, reply: Reply }> = []
  /** time the TCP connection took (set by open) */
  connectMs = 0

  private sock: net.Socket | tls.TLSSocket
  private readonly parser: ReplyParser
  private readonly queue: Reply[] = []
  private waiter: Waiter | null = null
  private failure: Error | null = null
  private bytes = 0
  private lines = 0
  private closed = false
  /** QUIT already went out (pipelined after a flight or the message) */
  private quitSent = false
  private readonly deadlineTimer: NodeJS.Timeout
  private readonly onData = (chunk: Buffer): void => this.receive(chunk)
  private readonly onError = (err: Error): void => this.fail(err instanceof ProbeError ? err : new ProbeError(/ECONNRESET|EPIPE/.test((err as NodeJS.ErrnoException).code ?? '') ? 'closed' : 'other', `socket error: ${err.message}`))
  private readonly onClose = (): void => this.fail(new ProbeError('closed', 'the server closed the connection'))

  /** Connect to ip:25 (or opts.port) through the guarded connector and read the greeting. */
  static async open (ctx: SessionContext, ip: string, opts: { servername?: string, port?: number, sink?: TranscriptSink } = {}): Promise<SmtpClient> {
    const port = opts.port ?? 25
    const t0 = Date.now()
    const lang = ctx.lang ?? 'en'
    // A caller running several sessions at once (the relay battery) gives each its own sink.
    const sink = opts.sink ?? ctx.report
    sink.line('I', bi(lang, `${ip} の ${port} 番ポートに接続します`, `connecting to ${ip} port ${port}`))
    const guarded = await ctx.connect(ip, port, { servername: opts.servername })
    const connectMs = Date.now() - t0
    sink.line('I', bi(lang, `${ip} の ${port} 番ポートに ${connectMs} ミリ秒で接続しました`, `connected to ${ip} port ${port} in ${connectMs} ms`))
    const s = ctx.settings
    const c = new SmtpClient(guarded, sink, {
      heloName: s.heloName,
      bannerTimeoutMs: s.bannerTimeoutMs,
      commandTimeoutMs: s.commandTimeoutMs,
      deadline: ctx.deadline,
      maxSessionBytes: s.maxBytesPerConnection,
      maxSessionLines: 1000,
      servername: opts.servername,
      lang
    })
    c.connectMs = connectMs
    c.timings.push({ stage: 'connect', ms: connectMs })
    try {
      await c.readBanner()
    } catch (err) {
      c.close()
      throw err
    }
    return c
  }

  constructor (private readonly guarded: GuardedSocket, private readonly sink: TranscriptSink, private readonly opts: SmtpClientOptions) {
    if (!HOSTNAME.test(opts.heloName)) throw new Error(`HELO name ${opts.heloName} is not a host name`)
    this.parser = new ReplyParser(opts.replyLimits, (text) => {
      if (++this.lines > opts.maxSessionLines) throw new ProbeError('protocol', `the server sent more than ${opts.maxSessionLines} lines in one session`)
      this.sink.line('S', text)
    })
    this.sock = guarded.socket
    this.attach(this.sock)
    // The raw socket carries the connector's own deadline and byte cap; its errors are ours too.
    if (guarded.raw !== this.sock) guarded.raw.on('error', this.onError)
    const left = Math.max(0, opts.deadline - Date.now())
    this.deadlineTimer = setTimeout(() => this.fail(new ProbeError('deadline', 'the check\'s time limit was reached during the SMTP dialogue')), left)
    this.deadlineTimer.unref?.()
  }

  supports (keyword: string): boolean { return this.extensions.has(keyword.toUpperCase()) }

  /** SIZE parameter as a number (0 = no fixed limit), null when not advertised */
  get sizeLimit (): number | null {
    const p = this.extensions.get('SIZE')
    if (!p) return null
    return p.length && /^\d+$/.test(p[0]) ? Number(p[0]) : 0
  }

  get secure (): boolean { return this.tls !== null }

  private attach (s: net.Socket | tls.TLSSocket): void {
    s.on('data', this.onData)
    s.on('error', this.onError)
    s.on('close', this.onClose)
  }

  private detach (s: net.Socket | tls.TLSSocket): void {
    s.removeListener('data', this.onData)
    s.removeListener('error', this.onError)
    s.removeListener('close', this.onClose)
  }

  private receive (chunk: Buffer): void {
    if (this.failure) return
    this.bytes += chunk.length
    if (this.bytes > this.opts.maxSessionBytes) {
      this.fail(new ProbeError('byte_cap', `the server sent more than ${this.opts.maxSessionBytes} bytes in one session`))
      return
    }
    let replies: Reply[]
    try {
      replies = this.parser.push(chunk)
    } catch (err) {
      this.fail(err as Error)
      return
    }
    for (const r of replies) {
      if (this.waiter) {
        const w = this.waiter
        this.waiter = null
        w.resolve(r)
      } else {
        this.queue.push(r)
      }
    }
  }

  private fail (err: Error): void {
    if (this.failure) return
    this.failure = err
    if (!this.closed) this.sink.line('I', bi(this.opts.lang ?? 'en', `中断しました: ${err.message}`, `stopped: ${err.message}`))
    const w = this.waiter
    this.waiter = null
    this.close()
    w?.reject(err)
  }

  /** The next reply, within `timeoutMs` (and the session deadline), absolute. */
  private next (timeoutMs: number, what: string, kind: 'timeout' | 'silent' = 'timeout'): Promise<Reply> {
    const queued = this.queue.shift()
    if (queued) return Promise.resolve(queued)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise<Reply>((resolve, reject) => {
      const left = this.opts.deadline - Date.now()
      const byDeadline = left <= timeoutMs
      const timer = setTimeout(() => {
        this.fail(byDeadline
          ? new ProbeError('deadline', `the check's time limit was reached while waiting for ${what}`)
          : new ProbeError(kind, kind === 'silent' ? `the server sent no greeting within ${timeoutMs} ms` : `no complete reply to ${what} within ${timeoutMs} ms`))
      }, Math.max(0, Math.min(timeoutMs, left)))
      this.waiter = {
        resolve: (r) => { clearTimeout(timer); resolve(r) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      }
    })
  }

  private write (wire: string): void {
    if (this.failure) throw this.failure
    this.sink.line('C', wire.slice(0, -2))
    this.sock.write(wire)
  }

  private async readBanner (): Promise<Reply> {
    const t0 = Date.now()
    try {
      this.banner = await this.next(this.opts.bannerTimeoutMs, 'the greeting', 'silent')
    } catch (err) {
      if (err instanceof ProbeError && err.kind === 'closed') throw new ProbeError('closed', `the server closed the connection before its greeting (after ${Date.now() - t0} ms)`)
      throw err
    }
    this.timings.push({ stage: 'banner', ms: Date.now() - t0 })
    this.replies.push({ stage: 'banner', reply: this.banner })
    return this.banner
  }

  /** Send one command and wait for its reply, timing it under `stage`. */
  private async exchange (stage: string, wire: string, timeoutMs = this.opts.commandTimeoutMs): Promise<Reply> {
    const t0 = Date.now()
    this.write(wire)
    const r = await this.next(timeoutMs, wire.split(/[ :\r]/)[0])
    this.timings.push({ stage, ms: Date.now() - t0 })
    this.replies.push({ stage, reply: r })
    return r
  }

  async ehlo (): Promise<Reply> {
    const stage = this.secure ? 'ehlo (tls)' : 'ehlo'
    let r = await this.exchange(stage, commandLine('EHLO', this.opts.heloName))
    if (r.code >= 500 && r.code < 600) {
      // RFC 5321 §3.2: a server that does not know EHLO gets HELO.
      r = await this.exchange(this.secure ? 'helo (tls)' : 'helo', commandLine('HELO', this.opts.heloName))
      this.usedHelo = true
      this.extensions = new Map()
    } else if (r.code === 250) {
      this.extensions = parseEhlo(r)
    }
    this.ehloReply = r
    return r
  }

  /**
   * STARTTLS (RFC 3207). On 220 the TLS handshake runs over the same
   * connection through guarded.startTls(); everything learnt before it is
   * dropped and EHLO is sent again. A server (or a machine in between) that
   * sends anything after the 220 before the handshake is trying STARTTLS
   * command injection (CVE-2011-0411 class): that ends the session.
   */
  async startTls (): Promise<{ reply: Reply, tls: TlsInfo | null }> {
    const reply = await this.exchange('starttls', commandLine('STARTTLS'))
    if (reply.code !== 220) return { reply, tls: null }
    if (this.queue.length || this.parser.buffered > 0) {
      const extra = this.queue.length ? `${this.queue.length} more repl${this.queue.length === 1 ? 'y' : 'ies'}` : `${this.parser.buffered} bytes`
      this.fail(new ProbeError('protocol', `the server sent ${extra} after "220" to STARTTLS, before the TLS handshake (STARTTLS injection); mxprobe discards them and stops`))
      throw this.failure ?? new ProbeError('protocol', 'STARTTLS injection')
    }
    const plain = this.sock
    this.detach(plain)
    // Keep hearing about the plain socket's end while the handshake runs.
    plain.on('error', this.onError)
    const t0 = Date.now()
    let tlsSock: tls.TLSSocket
    try {
      tlsSock = await this.within(this.guarded.startTls(this.opts.servername), this.opts.commandTimeoutMs, 'the TLS handshake')
    } catch (err) {
      const e = err instanceof ProbeError ? err : new ProbeError('tls', `TLS handshake failed: ${(err as Error).message}`)
      this.fail(e)
      throw e
    }
    this.timings.push({ stage: 'tls', ms: Date.now() - t0 })
    // RFC 3207 §4.2: discard all knowledge obtained before TLS.
    this.parser.reset()
    this.queue.length = 0
    this.extensions = new Map()
    this.ehloReply = null
    this.usedHelo = false
    this.sock = tlsSock
    this.tlsSocket = tlsSock
    this.attach(tlsSock)
    this.tls = describeTls(tlsSock, this.opts.servername ?? null)
    this.sink.line('I', tlsSummary(this.tls, this.opts.lang ?? 'en'))
    await this.ehlo()
    return { reply, tls: this.tls }
  }

  private within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
    const left = this.opts.deadline - Date.now()
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(left <= ms
        ? new ProbeError('deadline', `the check's time limit was reached during ${what}`)
        : new ProbeError('tls', `${what} did not finish within ${ms} ms`)), Math.max(0, Math.min(ms, left)))
      p.then((v) => { clearTimeout(timer); resolve(v) }, (e) => { clearTimeout(timer); reject(e) })
    })
  }

  private mailWire (from: Path | null, params: MailParam[] = []): string {
    const ps = params.map((p) => typeof p === 'string' ? p : `SIZE=${Math.max(0, Math.floor(p.size))}`)
    return commandLine('MAIL FROM:', `<${from === null ? '' : pathText(from)}>${ps.length ? ' ' + ps.join(' ') : ''}`)
  }

  async mailFrom (from: Path | null, params: MailParam[] = []): Promise<Reply> {
    return await this.exchange('mail', this.mailWire(from, params))
  }

  async rcptTo (to: Path): Promise<Reply> {
    return await this.exchange('rcpt', commandLine('RCPT TO:', `<${pathText(to)}>`))
  }

  async rset (): Promise<Reply> { return await this.exchange('rset', commandLine('RSET')) }
  async noop (): Promise<Reply> { return await this.exchange('noop', commandLine('NOOP')) }

  /**
   * One envelope and its reset: MAIL FROM, each RCPT TO, RSET. With
   * PIPELINING advertised (RFC 2920) the batch goes out in one write and the
   * replies are read in order; otherwise command by command, and the RCPTs
   * are skipped when MAIL was refused. No DATA, ever.
   */
  async envelopeBatch (from: Path | null, rcpts: Path[], params: MailParam[] = []): Promise<{ pipelined: boolean, mail: Reply, rcpts: Array<Reply | null>, rset: Reply | null }> {
    if (this.supports('PIPELINING')) {
      const wires = [this.mailWire(from, params), ...rcpts.map((r) => commandLine('RCPT TO:', `<${pathText(r)}>`)), commandLine('RSET')]
      if (this.failure) throw this.failure
      for (const w of wires) this.sink.line('C', w.slice(0, -2))
      const t0 = Date.now()
      this.sock.write(wires.join(''))
      const mail = await this.next(this.opts.commandTimeoutMs, 'MAIL FROM')
      this.timings.push({ stage: 'mail', ms: Date.now() - t0 })
      const rr: Reply[] = []
      for (let i = 0; i < rcpts.length; i++) {
        rr.push(await this.next(this.opts.commandTimeoutMs, 'RCPT TO'))
        this.timings.push({ stage: 'rcpt', ms: Date.now() - t0 })
      }
      const rset = await this.next(this.opts.commandTimeoutMs, 'RSET')
      this.timings.push({ stage: 'rset', ms: Date.now() - t0 })
      this.replies.push({ stage: 'mail', reply: mail }, ...rr.map((reply) => ({ stage: 'rcpt', reply })), { stage: 'rset', reply: rset })
      return { pipelined: true, mail, rcpts: rr, rset }
    }
    const mail = await this.mailFrom(from, params)
    const rr: Array<Reply | null> = []
    for (const r of rcpts) rr.push(mail.code < 400 ? await this.rcptTo(r) : null)
    const rset = await this.rset()
    return { pipelined: false, mail, rcpts: rr, rset }
  }

  /** Wait for the reply to a command written earlier (pipelined), timing it from `t0`. */
  private async replyTo (stage: string, t0: number, what: string, timeoutMs = this.opts.commandTimeoutMs): Promise<Reply> {
    const r = await this.next(timeoutMs, what)
    this.timings.push({ stage, ms: Date.now() - t0 })
    // Kept as it arrives: when a later reply never comes, the report still explains this one.
    this.replies.push({ stage, reply: r })
    return r
  }

  /**
   * Deliver one message: MAIL FROM, RCPT TO, DATA, then the message and
   * its final ".". With PIPELINING (RFC 2920) the three commands go out in
   * one write, DATA last in the group, and all three replies are read; a
   * server that answers DATA with 354 although RCPT was refused gets the
   * lone "." RFC 2920 §3.1 asks for, not the message. Without PIPELINING
   * the transaction stops at the first refusal. The message is
   * dot-stuffed (RFC 5321 §4.5.2), its line ends made CRLF, and it is
   * refused before MAIL when it is larger than `maxBytes`. The transcript
   * shows the header lines as sent and one note (`bodyNote`) for the body.
   */
  async sendMessage (from: Path | null, to: Path, message: Buffer, opts: MessageOptions = {}): Promise<MessageResult> {
    const wire = dotStuff(message)
    const cap = opts.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    if (wire.length > cap) throw new Error(`the message is ${wire.length} bytes on the wire, more than the ${cap} bytes mxprobe sends`)
    const cmds = [this.mailWire(from, opts.params), commandLine('RCPT TO:', `<${pathText(to)}>`), commandLine('DATA')]
    const pipelined = this.supports('PIPELINING')
    const result: MessageResult = { pipelined, mail: null, rcpt: null, data: null, end: null, bytes: 0, accepted: false }
    if (pipelined) {
      if (this.failure) throw this.failure
      for (const w of cmds) this.sink.line('C', w.slice(0, -2))
      const t0 = Date.now()
      this.sock.write(cmds.join(''))
      result.mail = await this.replyTo('mail', t0, 'MAIL FROM')
      result.rcpt = await this.replyTo('rcpt', t0, 'RCPT TO')
      result.data = await this.replyTo('data', t0, 'DATA')
    } else {
      result.mail = await this.exchange('mail', cmds[0])
      if (result.mail.code >= 400) return result
      result.rcpt = await this.exchange('rcpt', cmds[1])
      if (result.rcpt.code >= 400) return result
      result.data = await this.exchange('data', cmds[2])
    }
    if (result.data.code !== 354) return result
    const envelopeOk = isOk(result.mail) && isOk(result.rcpt)
    let body = envelopeOk ? wire : Buffer.from('.\r\n')
    if (this.failure) throw this.failure
    if (envelopeOk) this.showMessage(wire, opts.bodyNote)
    else this.sink.line('C', '.')
    result.bytes = body.length
    // RFC 2920 §3.1: message content may start a group and QUIT may end it; saves the wait for 221.
    if (opts.quit && pipelined) {
      const quit = commandLine('QUIT')
      this.sink.line('C', quit.slice(0, -2))
      body = Buffer.concat([body, Buffer.from(quit)])
      this.quitSent = true
    }
    const t1 = Date.now()
    this.sock.write(body)
    result.end = await this.replyTo('end of data', t1, 'the end of the message', opts.endTimeoutMs)
    result.accepted = envelopeOk && isOk(result.end)
    return result
  }

  /** The header lines of a message as sent, one note for its body, then the final ".". */
  private showMessage (wire: Buffer, note: MessageOptions['bodyNote']): void {
    const blank = wire.indexOf('\r\n\r\n')
    const headEnd = blank === -1 ? 0 : blank
    const head = wire.subarray(0, headEnd).toString('utf8')
    if (headEnd > 0) for (const l of head.split('\r\n')) this.sink.line('C', l)
    // the body: everything after the blank line, without the final ".\r\n"
    const bodyStart = blank === -1 ? 0 : blank + 4
    const bodyBytes = Math.max(0, wire.length - 3 - bodyStart)
    const bodyLines = bodyBytes === 0 ? 0 : wire.subarray(bodyStart, wire.length - 3).toString('latin1').split('\r\n').length - 1
    if (headEnd > 0) this.sink.line('C', '')
    this.sink.line('I', note ? note(bodyLines, bodyBytes) : `(message body: ${bodyLines} lines, ${bodyBytes} bytes, not shown)`)
    this.sink.line('C', '.')
  }

  /**
   * One pipelined flight (RFC 2920): the commands go out in one write and
   * their replies are read in order. Only for a server that advertised
   * PIPELINING (or a single command). With `quit`, QUIT ends the flight and
   * its reply is not awaited: the session is over once the other replies
   * are in (see leave()). Never throws: a failure part-way (the server hung
   * up, a timeout) comes back as `error` beside the replies read before it.
   */
  async flight (cmds: FlightCommand[], opts: { quit?: boolean } = {}): Promise<{ replies: Reply[], error: Error | null }> {
    const wires = cmds.map((c) => c.kind === 'mail' ? this.mailWire(c.from) : c.kind === 'rcpt' ? commandLine('RCPT TO:', `<${pathText(c.to)}>`) : commandLine('RSET'))
    if (opts.quit) wires.push(commandLine('QUIT'))
    const replies: Reply[] = []
    if (this.failure) return { replies, error: this.failure }
    if (cmds.length > 1 && !this.supports('PIPELINING')) throw new Error('a flight of several commands needs PIPELINING')
    for (const w of wires) this.sink.line('C', w.slice(0, -2))
    const t0 = Date.now()
    this.sock.write(wires.join(''))
    if (opts.quit) this.quitSent = true
    try {
      for (const c of cmds) {
        const r = await this.next(this.opts.commandTimeoutMs, c.kind === 'mail' ? 'MAIL FROM' : c.kind === 'rcpt' ? 'RCPT TO' : 'RSET')
        replies.push(r)
        this.timings.push({ stage: c.kind, ms: Date.now() - t0 })
        this.replies.push({ stage: c.kind, reply: r })
        // 421: the server is closing the connection; nothing more will come.
        if (r.code === 421) break
      }
      return { replies, error: null }
    } catch (err) {
      return { replies, error: err as Error }
    }
  }

  /**
   * End the session without waiting for the server's goodbye: QUIT (unless
   * a flight already carried it), then a half-close. The 221 is read and
   * dropped; the socket is destroyed when the server closes, or after 2 s.
   */
  leave (): void {
    if (this.closed) return
    if (!this.failure && !this.quitSent) {
      try { this.write(commandLine('QUIT')) } catch { /* closing anyway */ }
    }
    this.closed = true
    clearTimeout(this.deadlineTimer)
    this.detach(this.sock)
    const sock = this.sock
    sock.on('error', () => {})
    this.guarded.raw.on('error', () => {})
    if (this.failure || sock.destroyed) { this.guarded.close(); return }
    // Read (and drop) whatever still comes, so the server can say goodbye without a reset.
    sock.on('data', () => {})
    const timer = setTimeout(() => this.guarded.close(), 2000)
    timer.unref?.()
    sock.once('close', () => { clearTimeout(timer); this.guarded.close() })
    sock.end()
  }

  /** QUIT without waiting for the reply (the receive test's name for leave()). Never throws. */
  quitNoWait (): void {
    if (this.closed) { this.close(); return }
    this.leave()
  }

  /** QUIT and close. Never throws: the session is over either way. */
  async quit (): Promise<Reply | null> {
    if (this.failure || this.closed) { this.close(); return null }
    try {
      // The session is over either way: a server slow to say goodbye does not hold the check.
      const r = await this.exchange('quit', commandLine('QUIT'), Math.min(2000, this.opts.commandTimeoutMs))
      return r
    } catch {
      return null
    } finally {
      this.closed = true
      this.close()
    }
  }

  close (): void {
    this.closed = true
    clearTimeout(this.deadlineTimer)
    this.detach(this.sock)
    // Late errors from a socket we are done with must not become uncaught exceptions.
    this.sock.on('error', () => {})
    this.guarded.raw.on('error', () => {})
    this.guarded.close()
  }

  /** How the session ended so far (for reports): the failure, if any. */
  get error (): Error | null { return this.failure }
}

export { replyHeadline }
