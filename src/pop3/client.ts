// A small POP3 client (RFC 1939, CAPA/STLS RFC 2449/2595, SASL PLAIN RFC
// 5034) over a guarded socket. It speaks only what a check needs and
// refuses everything else: no RETR, TOP, DELE, LIST or UIDL can ever be
// sent, so a login test cannot read or delete mail. Every line in either
// direction goes to the transcript; a password never does.
import type tls from 'node:tls'
import type { GuardedSocket } from '../net/connect.js'
import { ProbeError } from '../errors.js'
import type { Dir } from '../core/report.js'
import { LineReader, visible } from './lines.js'
import { bi, type Lang } from '../i18n/index.js'

/** The shortest piece of a password that makes a server line suspect. */
export const PASSWORD_RUN = 4

/**
 * Does `text` hold a run of PASSWORD_RUN or more characters of `password`, in
 * any letter case, forwards or backwards? (A password shorter than that
 * counts whole.) Such a server line may be the password in another form:
 * upper-cased, reversed, or cut into pieces.
 */
export function holdsPasswordRun (text: string, password: string): boolean {
  if (!password) return false
  const chars = [...password.toLowerCase()]
  const n = Math.min(PASSWORD_RUN, chars.length)
  const hay = text.toLowerCase()
  const reversed = [...chars].reverse()
  for (const seq of [chars, reversed]) {
    for (let i = 0; i + n <= seq.length; i++) {
      if (hay.includes(seq.slice(i, i + n).join(''))) return true
    }
  }
  return false
}

/** The only verbs this client will send. */
const ALLOWED_VERBS = new Set(['CAPA', 'STLS', 'USER', 'PASS', 'AUTH', 'STAT', 'NOOP', 'QUIT'])

export interface Pop3Reply {
  ok: boolean
  /** the status line (+OK … / -ERR …), made printable */
  line: string
  /** multi-line body, dot-unstuffed, without the terminating "." */
  lines: string[]
}

export interface Pop3Options {
  port: number
  /** where transcript lines go */
  log: (dir: Dir, text: string) => void
  commandTimeoutMs: number
  /** longest line accepted */
  maxLine?: number
  /** most lines in one multi-line answer */
  maxLines?: number
  /** language of mxprobe's own notes in the transcript */
  lang?: Lang
}

export class Pop3Client {
  readonly reader: LineReader
  private readonly maxLines: number
  /** strings that must never be shown, even when the server echoes them back */
  private readonly secrets: string[] = []
  /** the password, once PASS or AUTH has been sent: every server line after that is suspect */
  private password: string | null = null
  /** the last status line as received: only ever parsed for numbers, never shown */
  private lastStatus = ''

  constructor (readonly guarded: GuardedSocket, private readonly o: Pop3Options) {
    this.reader = new LineReader(guarded.socket, { maxLine: o.maxLine ?? 2048 })
    this.maxLines = o.maxLines ?? 200
  }

  private log (dir: Dir, text: string): void { this.o.log(dir, `[${this.o.port}] ${text}`) }

  /** A hostile or careless server may echo the password ("-ERR bad password hunter2"): hide it everywhere. */
  private scrub (text: string): string {
    let out = text
    for (const s of this.secrets) if (s) out = out.split(s).join('********')
    return out
  }

  /**
   * A received line as it may be shown: secrets hidden in the whole raw line
   * first, because visible() shortens long lines and a cut through an echoed
   * password would leave its first part unmatched; then again after, for the
   * password as visible() escapes it.
   */
  private shown (raw: string, max?: number): string {
    if (this.password !== null && (holdsPasswordRun(raw, this.password) || holdsPasswordRun(visible(raw, Infinity), this.password))) {
      // Only the status and mxprobe's own explanation are kept.
      const status = raw.startsWith('+OK') ? '+OK ' : raw.startsWith('-ERR') ? '-ERR ' : ''
      return `${status}[${bi(this.o.lang ?? 'en', 'mxprobe: サーバーの応答にパスワードの一部が含まれているおそれがあるため、本文は表示しません', 'mxprobe: the server\'s text is withheld: it may contain part of the password')}]`
    }
    return this.scrub(visible(this.scrub(raw), max))
  }

  private async statusLine (timeoutMs: number, what: string): Promise<{ ok: boolean, line: string }> {
    const raw = await this.reader.next(timeoutMs, what)
    this.lastStatus = raw
    const line = this.shown(raw)
    this.log('S', line)
    if (raw.startsWith('+OK')) return { ok: true, line }
    if (raw.startsWith('-ERR')) return { ok: false, line }
    throw new ProbeError('protocol', `expected +OK or -ERR, got "${this.shown(raw, 120)}"`, this.o.port)
  }

  /** The server greets first: +OK (RFC 1939 §4). */
  async greeting (timeoutMs: number): Promise<Pop3Reply> {
    const raw = await this.reader.next(timeoutMs, 'greeting')
    const line = visible(raw)
    this.log('S', line)
    return { ok: raw.startsWith('+OK'), line, lines: [] }
  }

  /**
   * Send one command and read its answer. `shown` replaces the command in
   * the transcript (passwords); `multi` reads a dot-terminated body after +OK.
   */
  async command (cmd: string, opts: { multi?: boolean, shown?: string } = {}): Promise<Pop3Reply> {
    const verb = cmd.split(' ')[0].toUpperCase()
    if (!ALLOWED_VERBS.has(verb)) throw new Error(`POP3 client refuses to send ${verb}`)
    if (/[\r\n\0]/.test(cmd)) throw new Error('POP3 command contains CR, LF or NUL')
    this.guarded.socket.write(cmd + '\r\n')
    this.log('C', opts.shown ?? cmd)
    const st = await this.statusLine(this.o.commandTimeoutMs, `answer to ${verb}`)
    const lines: string[] = []
    if (st.ok && opts.multi) {
      for (;;) {
        const l = await this.reader.next(this.o.commandTimeoutMs, `rest of the ${verb} list`)
        if (l === '.') break
        if (lines.length >= this.maxLines) throw new ProbeError('protocol', `the ${verb} answer has more than ${this.maxLines} lines`, this.o.port)
        const un = l.startsWith('..') ? l.slice(1) : l
        lines.push(this.shown(un, 300))
        this.log('S', this.shown(un))
      }
    }
    return { ...st, lines }
  }

  /** CAPA list (upper-cased keywords with their arguments), or null when the server does not know CAPA. */
  async capa (): Promise<string[] | null> {
    const r = await this.command('CAPA', { multi: true })
    return r.ok ? r.lines : null
  }

  /** STLS, then the TLS handshake on the same connection; null when the server said -ERR. */
  async stls (servername?: string): Promise<tls.TLSSocket | { refused: string }> {
    const r = await this.command('STLS')
    if (!r.ok) return { refused: r.line }
    if (this.reader.pendingBytes() > 0) {
      // Bytes after +OK and before the handshake could be injected plaintext (the STARTTLS injection flaw).
      throw new ProbeError('protocol', 'the server sent data after +OK to STLS, before the TLS handshake', this.o.port)
    }
    this.reader.detach()
    const t = await this.guarded.startTls(servername)
    this.reader.attach(t)
    this.log('I', `TLS established: ${t.getProtocol() ?? '?'} ${t.getCipher()?.name ?? ''}`.trim())
    return t
  }

  /**
   * Log in and nothing else. USER/PASS when offered, else SASL PLAIN. The
   * transcript shows the user name and asterisks, never the password.
   */
  async login (user: string, password: string, caps: string[] | null): Promise<{ ok: boolean, reply: string, method: string }> {
    const upper = (caps ?? []).map((c) => c.toUpperCase())
    const sasl = upper.find((c) => c.startsWith('SASL '))?.split(/\s+/).slice(1) ?? []
    const hasUser = caps === null || upper.some((c) => c === 'USER' || c.startsWith('USER '))
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64')
    this.secrets.push(password, visible(password), token)
    if (hasUser) {
      const u = await this.command(`USER ${user}`)
      if (!u.ok) return { ok: false, reply: u.line, method: 'USER/PASS' }
      this.password = password
      const p = await this.command(`PASS ${password}`, { shown: 'PASS ********' })
      return { ok: p.ok, reply: p.line, method: 'USER/PASS' }
    }
    if (sasl.includes('PLAIN')) {
      this.password = password
      const r = await this.command(`AUTH PLAIN ${token}`, { shown: 'AUTH PLAIN ********' })
      return { ok: r.ok, reply: r.line, method: 'SASL PLAIN' }
    }
    return { ok: false, reply: 'the server offers neither USER nor SASL PLAIN', method: 'none' }
  }

  /** STAT: message count and size; the only mailbox command mxprobe runs. */
  async stat (): Promise<{ ok: boolean, messages?: number, octets?: number, reply: string }> {
    const r = await this.command('STAT')
    // The numbers from the line as received (its text may be withheld), unless they are the password's.
    const m = this.lastStatus.match(/^\+OK (\d+) (\d+)/)
    if (m && this.password !== null && holdsPasswordRun(`${m[1]} ${m[2]}`, this.password)) return { ok: r.ok, reply: r.line }
    return m ? { ok: true, messages: Number(m[1]), octets: Number(m[2]), reply: r.line } : { ok: r.ok, reply: r.line }
  }

  /** QUIT and wait for +OK and the close; says what was unclean, if anything. */
  async quit (): Promise<{ clean: boolean, reason?: string }> {
    try {
      const r = await this.command('QUIT')
      if (!r.ok) return { clean: false, reason: r.line }
      try {
        const extra = await this.reader.next(Math.min(this.o.commandTimeoutMs, 2000), 'close after QUIT')
        return { clean: false, reason: `data after QUIT: ${this.shown(extra, 80)}` }
      } catch (err) {
        if (err instanceof ProbeError && err.kind === 'closed') return { clean: true }
        if (err instanceof ProbeError && err.kind === 'silent') return { clean: false, reason: 'the connection stayed open after +OK to QUIT' }
        throw err
      }
    } catch (err) {
      return { clean: false, reason: (err as Error).message }
    } finally {
      this.close()
    }
  }

  close (): void {
    this.reader.detach()
    this.guarded.close()
  }
}
