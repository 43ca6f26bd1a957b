// mxprobe's own inbound SMTP listener for the send test (smtp-server). It
// only listens: RCPT is accepted for a live one-time address and nothing
// else (550), so it can never relay; it delivers nowhere; the message is
// held in memory only until the analysis has taken its headers and an
// excerpt. Caps: message size (552 above it), connections per address (per
// /64 for IPv6) and in all, commands per session, an idle limit and an
// absolute session time. When every place is taken, the session idle the
// longest that has not named a live one-time address gives way to the new
// connection (as postscreen and anvil keep a port usable): a flood of idle
// connections cannot keep a real sender out. INBOUND_LISTEN may name several
// addresses (both families): one server each, all sharing these caps.
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
import { normalizeIp, parseIp, rateLimitKey } from '../net/ip.js'
import { TOKEN_RE, type SendService } from './service.js'
import type { DialogueLine } from './analyze.js'

const MAX_DIALOGUE = 300
const MAX_LINE = 512
/** a session idle this long without a live one-time address may be closed to make room */
export const EVICT_IDLE_MS = 1000
/** SMTP verbs: after AUTH, a client line that is none of them is an AUTH continuation (a credential) */
const VERB = /^(HELO|EHLO|LHLO|MAIL|RCPT|DATA|BDAT|RSET|NOOP|QUIT|VRFY|EXPN|HELP|STARTTLS|AUTH|XCLIENT|XFORWARD)\b/i

interface Session {
  id: string
  ip: string
  /** what the per-address cap counts: the address, or its /64 for IPv6 */
  slot: string
  server: SMTPServer
  /** epoch ms of the client's last command */
  lastActive: number
  /** AUTH was sent: what follows until the next verb is redacted */
  inAuth: boolean
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
  /** the first listener's address */
  host: string
  port: number
  /** every listener's address */
  addresses: Array<{ host: string, port: number, family: 4 | 6 }>
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

/** What the per-address cap counts: an IPv4 address, or the /64 an IPv6 address is in. */
export function connectionSlot (ip: string): string {
  const p = parseIp(ip)
  return p ? rateLimitKey(p) : ip
}

/** A client line for the transcript: AUTH's arguments and its continuations are credentials, never stored. */
function redactAuth (s: { inAuth: boolean }, line: string): string {
  const m = /^AUTH\s+(\S+)/i.exec(line)
  if (m) { s.inAuth = true; return `AUTH ${m[1].slice(0, 20)}${/^AUTH\s+\S+\s+\S/i.test(line) ? ' ***' : ''}` }
  if (s.inAuth && !VERB.test(line)) return '*** (AUTH data, not shown)'
  s.inAuth = false
  return line
}

export async function startInboundListener (service: SendService, o: InboundSettings & { heloName: string }, log: Logger): Promise<InboundListener> {
  if (!o.listen?.length) throw new Error('INBOUND_LISTEN is not set')
  const sessions = new Map<string, Session>()
  const perSlot = new Map<string, number>()
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

  const kick = (id: string, code: number, text: string): void => {
    const s = sessions.get(id)
    if (!s) return
    s.endReason = text
    const conn = [...(s.server as unknown as { connections: Set<{ id: string, send: (c: number, t: string) => void, close: () => void }> }).connections].find((c) => c.id === id)
    if (!conn) return
    try { conn.send(code, text) } catch { /* gone */ }
    try { conn.close() } catch { /* gone */ }
  }

  /**
   * Every place is taken: close the session idle the longest (at least EVICT_IDLE_MS) that holds
   * no live one-time address and delivered nothing, from the address with the most sessions
   * first. False when every session is busy or holds an address: then the new one is refused.
   */
  const makeRoom = (): boolean => {
    const now = Date.now()
    let victim: Session | null = null
    for (const s of sessions.values()) {
      if (s.rec || s.delivered || s.endReason || now - s.lastActive < EVICT_IDLE_MS) continue
      if (!victim) { victim = s; continue }
      const a = perSlot.get(s.slot) ?? 0
      const b = perSlot.get(victim.slot) ?? 0
      if (a > b || (a === b && s.lastActive < victim.lastActive)) victim = s
    }
    if (!victim) return false
    kick(victim.id, 421, '4.7.0 the listener is full and this session was idle; closing to make room for another sender')
    return true
  }

  // smtp-server logs every line it reads and writes; that is our transcript, and our command counter.
  const logLine = (entry: Record<string, unknown>, _fmt: unknown, ...args: unknown[]): void => {
    const s = sessions.get(String(entry?.cid ?? ''))
    if (!s) return
    if (entry.tnx === 'command') {
      push(s, 'S', redactAuth(s, String(args[0] ?? '')))
      s.commands++
      s.lastActive = Date.now()
      if (s.commands > o.maxCommands) kick(s.id, 421, `4.7.0 too many commands (more than ${o.maxCommands}); closing`)
    } else if (entry.tnx === 'send') {
      push(s, 'C', String(args[0] ?? ''))
    } else if (entry.tnx === 'data') {
      s.lastActive = Date.now()
      push(s, 'S', `<${String(args[0] ?? '')} bytes of message>`)
    }
  }
  const quiet = (): void => {}

  const makeServer = (): SMTPServer => {
    const server: SMTPServer = new SMTPServer({
      name: o.heloName,
      banner: 'mxprobe send test: mail for one-time addresses only',
      size: o.maxMessageBytes,
      authOptional: true,
      disabledCommands: ['AUTH'],
      disableReverseLookup: true,
      // mxprobe's own limits (onConnect) count across every listener; this is only a ceiling
      // above them, so a session being closed to make room never blocks the new one.
      maxClients: o.maxConnections * 2 + 10,
      socketTimeout: o.idleMs,
      closeTimeout: 2000,
      hidePIPELINING: false,
      ...(tlsFiles ? { key: tlsFiles.key, cert: tlsFiles.cert } : {}),
      logger: { debug: logLine, info: quiet, warn: quiet, error: quiet, trace: quiet, fatal: quiet, level: () => {} } as never,
      onConnect (session: SMTPServerSession, cb: (err?: Error | null) => void) {
        const ip = normalizeIp(session.remoteAddress) ?? session.remoteAddress
        const slot = connectionSlot(ip)
        const n = perSlot.get(slot) ?? 0
        if (n >= o.maxConnectionsPerIp) {
          cb(smtpError(421, `4.7.0 too many connections from ${slot.includes('/') ? slot : ip}; try again later`))
          return
        }
        if (sessions.size >= o.maxConnections && !makeRoom()) {
          cb(smtpError(421, '4.7.2 too many connections; try again later'))
          return
        }
        perSlot.set(slot, n + 1)
        const now = Date.now()
        const s: Session = {
          id: session.id,
          ip,
          slot,
          server,
          lastActive: now,
          inAuth: false,
          connectedAt: now,
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
          // The three texts differ on purpose: the sender's bounce reaches the person who ran
          // the test and tells them what to do (start a new test; their server sent twice).
          // With 80-bit tokens they reveal nothing an attacker could use.
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
          if (s) s.lastActive = Date.now()
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
          // Nothing that opens the report: whoever relays the mail (an ISP's smarthost) reads this line.
          cb(null, '2.0.0 queued')
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
        const n = (perSlot.get(s.slot) ?? 1) - 1
        if (n <= 0) perSlot.delete(s.slot)
        else perSlot.set(s.slot, n)
        if (s.rec) service.release(s.rec, { ip: s.ip, reason: s.endReason ?? 'the connection closed' }).catch(() => {})
      }
    })
    server.on('error', (err: Error) => log.warn({ err }, 'inbound listener error'))
    return server
  }

  const servers: SMTPServer[] = []
  const addresses: InboundListener['addresses'] = []
  const closeAll = async (): Promise<void> => { await Promise.all(servers.map(async (server) => await new Promise<void>((resolve) => server.close(() => resolve())))) }
  try {
    for (const l of o.listen) {
      const server = makeServer()
      await new Promise<void>((resolve, reject) => {
        const onErr = (err: Error): void => reject(err)
        server.server.once('error', onErr)
        // An IPv6 wildcard takes IPv6 only, so that "0.0.0.0:25,[::]:25" is two listeners, one per family.
        server.server.listen({ port: l.port, host: l.host, ipv6Only: l.host.includes(':') }, () => { server.server.off('error', onErr); resolve() })
      })
      servers.push(server)
      const addr = server.server.address() as AddressInfo
      addresses.push({ host: addr.address, port: addr.port, family: addr.family === 'IPv6' || (addr.family as unknown) === 6 ? 6 : 4 })
      log.info({ host: addr.address, port: addr.port, domain: o.domain }, 'send test: inbound listener ready')
    }
  } catch (err) {
    await closeAll()
    throw err
  }
  return {
    host: addresses[0].host,
    port: addresses[0].port,
    addresses,
    sessions: () => sessions.size,
    close: closeAll
  }
}
