// The TLS services of a mail server, one connection each, through the
// guarded connector only: implicit TLS (465, 993, 995) or the plain
// dialogue up to STARTTLS (25, 587 SMTP; 143 IMAP; 110 POP3 STLS), every
// line to the transcript. Two kinds of probe on the same way in:
//   - handshake(): node's own TLS handshake; the certificates the server
//     sent, the version and cipher it chose;
//   - hello(): a hand-made ClientHello (src/tls/hello.ts) after the same
//     dialogue, reading only the server's first answer: does it accept
//     SSLv3, TLS 1.0/1.1, or weak ciphers.
import type tls from 'node:tls'
import type { HandshakeFacts } from '../core/handshakes.js'
import type { ProbeSession } from '../core/session.js'
import type { GuardedSocket } from '../net/connect.js'
import { ProbeError } from '../errors.js'
import { clientHello, readServerAnswer, type HelloAnswer, type HelloOptions } from './hello.js'
import { sentChain } from './chain.js'

export type Proto = 'smtp' | 'imap' | 'pop3'

export interface TlsService { port: number, proto: Proto, starttls: boolean }

/** Every TLS service of a home mail server, in the order they are reported. */
export const TLS_SERVICES: readonly TlsService[] = [
  { port: 25, proto: 'smtp', starttls: true },
  { port: 465, proto: 'smtp', starttls: false },
  { port: 587, proto: 'smtp', starttls: true },
  { port: 993, proto: 'imap', starttls: false },
  { port: 995, proto: 'pop3', starttls: false },
  { port: 143, proto: 'imap', starttls: true },
  { port: 110, proto: 'pop3', starttls: true }
]

/** What one handshake showed (src/core/handshakes.ts: a diagnosis shares them between its checks). */
export type HandshakeResult = HandshakeFacts

/** The facts of a finished TLS socket: version, cipher, chain as sent, group. */
export function handshakeFacts (t: tls.TLSSocket, ms: number): HandshakeResult {
  const c = t.getCipher()
  const eph = t.getEphemeralKeyInfo() as { type?: string, name?: string } | null
  return {
    protocol: t.getProtocol() ?? null,
    cipher: c ? c.standardName ?? c.name : null,
    chain: sentChain(t.getPeerX509Certificate()),
    group: eph && 'name' in eph && eph.name ? eph.name : null,
    ms
  }
}

const MAX_LINE = 2048

/** Lines from a plain socket, with a time limit per reply. */
class Lines {
  private buf = ''
  private waiting: ((err: Error | null) => void) | null = null
  private ended: Error | null = null
  private readonly onData = (d: Buffer): void => {
    this.buf += d.toString('latin1')
    if (this.buf.length > 64 * 1024) this.ended = new ProbeError('line_too_long', 'the server sent more than 64 KiB before TLS')
    this.waiting?.(null)
  }

  private readonly onEnd = (err?: Error): void => {
    this.ended = err instanceof ProbeError ? err : new ProbeError('closed', 'the server closed the connection')
    this.waiting?.(this.ended)
  }

  constructor (private readonly sock: GuardedSocket['socket'], private readonly session: ProbeSession, private readonly port: number) {
    sock.on('data', this.onData)
    sock.once('close', () => this.onEnd())
    sock.once('error', (e) => this.onEnd(e))
  }

  /** Stop reading: the socket is handed to TLS (or the hello probe) from here. */
  detach (): void {
    this.sock.removeListener('data', this.onData)
  }

  private async line (timeoutMs: number): Promise<string> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const i = this.buf.indexOf('\n')
      if (i >= 0) {
        const l = this.buf.slice(0, i).replace(/\r$/, '')
        this.buf = this.buf.slice(i + 1)
        if (l.length > MAX_LINE) throw new ProbeError('line_too_long', `a line of more than ${MAX_LINE} characters on port ${this.port}`, this.port)
        this.session.report.line('S', l)
        return l
      }
      if (this.ended) throw this.ended
      const left = until - Date.now()
      if (left <= 0) throw new ProbeError('timeout', `no reply on port ${this.port} within ${timeoutMs} ms`, this.port)
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => { this.waiting = null; resolve() }, left)
        this.waiting = (err) => { clearTimeout(t); this.waiting = null; if (err) reject(err); else resolve() }
      })
    }
  }

  /** An SMTP reply (all its lines); a POP3 or IMAP greeting is one line. */
  async smtpReply (timeoutMs: number): Promise<{ code: number, lines: string[] }> {
    const lines: string[] = []
    for (;;) {
      const l = await this.line(timeoutMs)
      lines.push(l.slice(4))
      const m = /^(\d{3})([ -]?)/.exec(l)
      if (!m) throw new ProbeError('protocol', `not an SMTP reply on port ${this.port}: ${l.slice(0, 80)}`, this.port)
      if (m[2] !== '-') return { code: Number(m[1]), lines }
      if (lines.length > 100) throw new ProbeError('protocol', 'an endless SMTP reply', this.port)
    }
  }

  async oneLine (timeoutMs: number): Promise<string> { return await this.line(timeoutMs) }

  /** IMAP: lines until the tagged reply */
  async tagged (tag: string, timeoutMs: number): Promise<string> {
    for (let n = 0; n < 50; n++) {
      const l = await this.line(timeoutMs)
      if (l.startsWith(`${tag} `)) return l
    }
    throw new ProbeError('protocol', 'no tagged IMAP reply', this.port)
  }

  send (text: string): void {
    this.session.report.line('C', text)
    this.sock.write(`${text}\r\n`)
  }
}

/** Why a STARTTLS dialogue did not get as far as TLS (the server's own words kept). */
export class NoStartTls extends Error {
  constructor (public port: number, public reply: string) { super(`port ${port}: ${reply}`) }
}

/** Connect and, for STARTTLS services, talk up to the point where TLS begins. Implicit TLS services come back plain, not yet TLS. */
async function openPlain (session: ProbeSession, ip: string, svc: TlsService): Promise<GuardedSocket> {
  const gs = await session.connect(ip, svc.port, { tls: false })
  if (!svc.starttls) return gs
  const lines = new Lines(gs.socket, session, svc.port)
  const t = session.settings.commandTimeoutMs
  try {
    if (svc.proto === 'smtp') {
      const banner = await lines.smtpReply(session.settings.bannerTimeoutMs)
      if (banner.code !== 220) throw new NoStartTls(svc.port, `${banner.code} ${banner.lines[0] ?? ''}`)
      lines.send(`EHLO ${session.settings.heloName}`)
      const ehlo = await lines.smtpReply(t)
      if (ehlo.code !== 250) throw new NoStartTls(svc.port, `EHLO: ${ehlo.code} ${ehlo.lines[0] ?? ''}`)
      if (!ehlo.lines.some((l) => /^STARTTLS\b/i.test(l))) throw new NoStartTls(svc.port, 'STARTTLS is not offered')
      lines.send('STARTTLS')
      const go = await lines.smtpReply(t)
      if (go.code !== 220) throw new NoStartTls(svc.port, `STARTTLS: ${go.code} ${go.lines[0] ?? ''}`)
    } else if (svc.proto === 'imap') {
      const greet = await lines.oneLine(session.settings.bannerTimeoutMs)
      if (!/^\* (OK|PREAUTH)/i.test(greet)) throw new NoStartTls(svc.port, greet.slice(0, 200))
      lines.send('a1 STARTTLS')
      const go = await lines.tagged('a1', t)
      if (!/^a1 OK/i.test(go)) throw new NoStartTls(svc.port, go.slice(0, 200))
    } else {
      const greet = await lines.oneLine(session.settings.bannerTimeoutMs)
      if (!greet.startsWith('+OK')) throw new NoStartTls(svc.port, greet.slice(0, 200))
      lines.send('STLS')
      const go = await lines.oneLine(t)
      if (!go.startsWith('+OK')) throw new NoStartTls(svc.port, go.slice(0, 200))
    }
    lines.detach()
    return gs
  } catch (err) {
    gs.close()
    throw err
  }
}

/** node's TLS handshake on one service: what the server sent and chose. */
export async function handshake (session: ProbeSession, ip: string, host: string, svc: TlsService): Promise<HandshakeResult> {
  const started = Date.now()
  let gs: GuardedSocket
  let t: tls.TLSSocket
  if (svc.starttls) {
    gs = await openPlain(session, ip, svc)
    try { t = await gs.startTls(host) } catch (err) { gs.close(); throw err }
  } else {
    gs = await session.connect(ip, svc.port, { tls: true, servername: host })
    t = gs.socket as tls.TLSSocket
  }
  try {
    return handshakeFacts(t, Date.now() - started)
  } finally {
    gs.close()
  }
}

/** A hand-made ClientHello on one service; the server's first answer. */
export async function hello (session: ProbeSession, ip: string, svc: TlsService, o: HelloOptions): Promise<HelloAnswer> {
  const gs = await openPlain(session, ip, svc)
  const sock = gs.socket
  try {
    return await new Promise<HelloAnswer>((resolve, reject) => {
      let buf = Buffer.alloc(0)
      const timer = setTimeout(() => done(null, { kind: 'other', reason: `no answer to the ClientHello within ${session.settings.commandTimeoutMs} ms` }), session.settings.commandTimeoutMs)
      const done = (err: Error | null, a?: HelloAnswer): void => {
        clearTimeout(timer)
        sock.removeAllListeners('data')
        if (err) reject(err)
        else resolve(a!)
      }
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        const a = readServerAnswer(buf)
        if (a) done(null, a)
      })
      // A server that hangs up on the hello refuses it.
      sock.once('close', () => done(null, readServerAnswer(buf) ?? (buf.length ? { kind: 'other', reason: 'a partial answer, then the server closed the connection' } : { kind: 'closed' })))
      sock.once('error', () => { /* close follows */ })
      sock.write(clientHello(o))
    })
  } finally {
    gs.close()
  }
}
