// mxprobe's own inbound SMTP listener for the send test (smtp-server). It
// only listens: RCPT is accepted for a live one-time address and nothing
// else (550), so it can never relay; it delivers nowhere; the message is
// held in memory only until the analysis has taken its headers and an
// excerpt. Caps: message size (552 above it), connections per IP and in
// all, commands per session, an idle limit and an absolute session time.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerSession, type SMTPServerAddress, type SMTPServerDataStream } from 'smtp-server'
import type { Logger } from 'pino'
import type { InboundSettings } from '../config.js'
import type { InboundAddress } from '../store/types.js'
import { normalizeIp } from '../net/ip.js'
import { TOKEN_RE, type SendService } from './service.js'
import type { DialogueLine } from './analyze.js'

const MAX_DIALOGUE = 300
const MAX_LINE = 512

interface Session {
  id: string
  ip: string
  connectedAt: number
  helo: string | null
  tls: { version: string, cipher: string } | null
  commands: number
  dialogue: DialogueLine[]
  rec: InboundAddress | null
  mailFrom: string
  delivered: boolean
  timer: NodeJS.Timeout
  /** why the session is being closed by us, for the report's note */
  endReason: string | null
}

export interface InboundListener {
  host: string
  port: number
  /** sessions open now */
  sessions: () => number
  close: () => Promise<void>
}

/** A self-signed certificate for STARTTLS, made at start with openssl (none configured). */
export function generateCertificate (name: string): { key: string, cert: string } | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'mxprobe-inbound-'))
  try {
    const key = path.join(dir, 'key.pem')
    const cert = path.join(dir, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '365',
      '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { stdio: 'ignore', timeout: 10_000 })
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') }
  } catch {
    return null
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function smtpError (code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code })
}

export async function startInboundListener (service: SendService, o: InboundSettings & { heloName: string }, log: Logger): Promise<InboundListener> {
  if (!o.listen) throw new Error('INBOUND_LISTEN is not set')
  const sessions = new Map<string, Session>()
  const perIp = new Map<string, number>()
  let tlsFiles: { key: string, cert: string } | null = null
  if (o.tlsCertFile && o.tlsKeyFile) tlsFiles = { key: readFileSync(o.tlsKeyFile, 'utf8'), cert: readFileSync(o.tlsCertFile, 'utf8') }
  else tlsFiles = generateCertificate(o.heloName)
  if (!tlsFiles) log.warn('openssl could not make a certificate; the inbound listener uses smtp-server\'s built-in one for STARTTLS')

  const push = (s: Session | undefined, dir: 'C' | 'S' | 'I', text: string): void => {
    if (!s) return
    for (const l of text.split(/\r?\n/)) {
      if (s.dialogue.length >= MAX_DIALOGUE) {
        if (s.dialogue.length === MAX_DIALOGUE) s.dialogue.push({ at: Date.now(), dir: 'I', text: `… dialogue cut at ${MAX_DIALOGUE} lines` })
        return
      }
      // What the visitor's server sent stays as sent, but without control characters and bounded.
      const clean = l.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
      s.dialogue.push({ at: Date.now(), dir, text: clean.length > MAX_LINE ? clean.slice(0, MAX_LINE) + '…' : clean })
    }
  }

  // eslint-disable-next-line prefer-const
  let server: SMTPServer
  const kick = (id: string, code: number, text: string): void => {
    const s = sessions.get(id)
    if (s) s.endReason = text
    const conn = [...(server as unknown as { connections: Set<{ id: string, send: (c: number, t: string) => void, close: () => void }> }).connections].find((c) => c.id === id)
    if (!conn) return
    try { conn.send(code, text) } catch { /* gone */ }
    try { conn.close() } catch { /* gone */ }
  }

  // smtp-server logs every line it reads and writes; that is our transcript, and our command counter.
  const logLine = (entry: Record<string, unknown>, _fmt: unknown, ...args: unknown[]): void => {
    const s = sessions.get(String(entry?.cid ?? ''))
    if (!s) return
    if (entry.tnx === 'command') {
      push(s, 'S', String(args[0] ?? ''))
      s.commands++
      if (s.commands > o.maxCommands) kick(s.id, 421, `4.7.0 too many commands (more than ${o.maxCommands}); closing`)
    } else if (entry.tnx === 'send') {
      push(s, 'C', String(args[0] ?? ''))
    } else if (entry.tnx === 'data') {
      push(s, 'S', `<${String(args[0] ?? '')} bytes of message>`)
    }
  }
  const quiet = (): void => {}

  server = new SMTPServer({
    name: o.heloName,
    banner: 'mxprobe send test: mail for one-time addresses only',
    size: o.maxMessageBytes,
    authOptional: true,
    disabledCommands: ['AUTH'],
    disableReverseLookup: true,
    // mxprobe's own limits below; smtp-server's in-built refusal of unauthenticated commands does not apply (no AUTH)
    maxClients: o.maxConnections,
    socketTimeout: o.idleMs,
    closeTimeout: 2000,
    hidePIPELINING: false,
    ...(tlsFiles ? { key: tlsFiles.key, cert: tlsFiles.cert } : {}),
    logger: { debug: logLine, info: quiet, warn: quiet, error: quiet, trace: quiet, fatal: quiet, level: () => {} } as never,
    onConnect (session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const ip = normalizeIp(session.remoteAddress) ?? session.remoteAddress
      const n = perIp.get(ip) ?? 0
      if (n >= o.maxConnectionsPerIp) {
        cb(smtpError(421, `4.7.0 too many connections from ${ip}; try again later`))
        return
      }
      perIp.set(ip, n + 1)
      const s: Session = {
        id: session.id,
        ip,
        connectedAt: Date.now(),
        helo: null,
        tls: null,
        commands: 0,
        dialogue: [],
        rec: null,
        mailFrom: '',
        delivered: false,
        endReason: null,
        timer: setTimeout(() => kick(session.id, 421, `4.4.2 session time limit (${Math.round(o.sessionMaxMs / 1000)} s) reached; closing`), o.sessionMaxMs)
      }
      s.timer.unref()
      sessions.set(session.id, s)
      cb()
      // smtp-server writes its greeting after this callback; its log line records it.
    },
    onSecure (socket: tls.TLSSocket, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const s = sessions.get(session.id)
      if (s) {
        const c = socket.getCipher?.()
        s.tls = { version: socket.getProtocol?.() ?? c?.version ?? 'TLS', cipher: c?.standardName ?? c?.name ?? '' }
        push(s, 'I', `TLS: ${s.tls.version} ${s.tls.cipher}`)
      }
      cb()
    },
    onMailFrom (address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const s = sessions.get(session.id)
      if (s) {
        s.helo = session.hostNameAppearsAs || null
        s.mailFrom = address.address ?? ''
        // A new transaction after a failed one (552, RSET): the address taken before is free again.
        if (s.rec) {
          service.release(s.rec, { ip: s.ip, reason: s.endReason ?? 'the transaction was abandoned' }).catch(() => {})
          s.rec = null
          s.endReason = null
        }
      }
      cb()
    },
    onRcptTo (address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const s = sessions.get(session.id)
      if (!s) { cb(smtpError(451, '4.3.0 session state lost')); return }
      if (s.rec) { cb(smtpError(452, '4.5.3 one recipient per message')); return }
      const rcpt = String(address.address ?? '')
      const at = rcpt.lastIndexOf('@')
      const local = at > 0 ? rcpt.slice(0, at).toLowerCase() : rcpt.toLowerCase()
      const domain = at > 0 ? rcpt.slice(at + 1).toLowerCase().replace(/\.$/, '') : ''
      if (domain !== o.domain) {
        cb(smtpError(550, `5.7.1 relaying denied: mxprobe accepts mail only for its one-time addresses @${o.domain}`))
        return
      }
      const m = TOKEN_RE.exec(local)
      if (!m) { cb(smtpError(550, '5.1.1 no such one-time address; start a send test to get one')); return }
      service.claim(m[1]).then((r) => {
        if (r.ok) {
          s.rec = r.rec
          cb()
          return
        }
        const text = r.why === 'expired'
          ? '5.1.1 this one-time address has expired; start a new send test'
          : r.why === 'used'
            ? '5.1.1 this one-time address was already used; start a new send test'
            : r.why === 'busy' ? '' : '5.1.1 no such one-time address; start a send test to get one'
        cb(r.why === 'busy' ? smtpError(451, '4.5.0 another session is delivering to this address; try again later') : smtpError(550, text))
      }, () => cb(smtpError(451, '4.3.0 temporary failure (the shared store is unavailable); try again later')))
    },
    onData (stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void) {
      const s = sessions.get(session.id)
      const chunks: Buffer[] = []
      let bytes = 0
      stream.on('data', (chunk: Buffer) => {
        // Beyond the cap nothing is kept; smtp-server answers 552 at the end.
        if (bytes + chunk.length <= o.maxMessageBytes) chunks.push(chunk)
        bytes += chunk.length
      })
      stream.on('end', () => {
        if (!s || !s.rec) { cb(smtpError(554, '5.5.1 no valid recipient')); return }
        if (stream.sizeExceeded || bytes > o.maxMessageBytes) {
          s.endReason = `552 the message is larger than ${o.maxMessageBytes} bytes`
          cb(smtpError(552, `5.3.4 message too big: the send test takes at most ${o.maxMessageBytes} bytes`))
          return
        }
        const rec = s.rec
        const acceptedAt = Date.now()
        s.delivered = true
        s.helo = session.hostNameAppearsAs || s.helo
        cb(null, `2.0.0 Ok: received by mxprobe; the report is ready in a moment (${rec.reportId})`)
        // The 250 line is logged synchronously by the callback above: the dialogue is complete up to it.
        service.accepted(rec, {
          token: rec.token,
          remoteIp: s.ip,
          helo: s.helo,
          tls: s.tls,
          mailFrom: s.mailFrom,
          rcptTo: service.addressOf(rec.token),
          raw: Buffer.concat(chunks),
          size: bytes,
          dialogue: s.dialogue.slice(),
          connectedAt: s.connectedAt,
          acceptedAt
        }).catch(() => {})
        chunks.length = 0
        s.rec = null
      })
    },
    onClose (session: SMTPServerSession) {
      const s = sessions.get(session.id)
      if (!s) return
      sessions.delete(session.id)
      clearTimeout(s.timer)
      const n = (perIp.get(s.ip) ?? 1) - 1
      if (n <= 0) perIp.delete(s.ip)
      else perIp.set(s.ip, n)
      if (s.rec) service.release(s.rec, { ip: s.ip, reason: s.endReason ?? 'the connection closed' }).catch(() => {})
    }
  })
  server.on('error', (err: Error) => log.warn({ err }, 'inbound listener error'))
  await new Promise<void>((resolve, reject) => {
    const onErr = (err: Error): void => reject(err)
    server.server.once('error', onErr)
    server.listen(o.listen!.port, o.listen!.host, () => { server.server.off('error', onErr); resolve() })
  })
  const addr = server.server.address() as AddressInfo
  log.info({ host: addr.address, port: addr.port, domain: o.domain }, 'send test: inbound listener ready')
  return {
    host: addr.address,
    port: addr.port,
    sessions: () => sessions.size,
    close: async () => { await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}
