// THE guarded connector: the only place in mxprobe that opens a TCP or TLS
// connection to the outside. It takes an IP literal that the caller owns, a
// mail port, and returns a socket that dies at an absolute deadline or when
// it has read more bytes than allowed. Everything that wants the network
// asks here, so no code path can reach an address the policy did not approve.
import net from 'node:net'
import tls from 'node:tls'
import { targetVerdict, addressVerdict, type PolicyOptions } from './policy.js'
import { CallerAddresses } from './caller.js'
import { ProbeError, RefusalError } from '../errors.js'
import type { Ip } from './ip.js'

export interface ConnectRequest {
  /** the connection's own address of the caller (audit, refusal) */
  callerIp: string
  /** the caller's proven addresses; without it, `callerIp` alone */
  caller?: CallerAddresses
  /** an IP literal, never a name */
  ip: string
  port: number
  /** implicit TLS (465/993/995) */
  tls?: boolean
  /** SNI / certificate name to present and verify against (reported, not enforced) */
  servername?: string
  /** ms allowed for the TCP (and TLS) handshake */
  connectTimeoutMs: number
  /** absolute deadline (epoch ms): the socket is destroyed then, whatever it is doing */
  deadline: number
  /** the most bytes mxprobe will read from this socket */
  maxBytes: number
  /** who is asking, for the audit record */
  checkId?: string
  checkType?: string
}

export interface AuditRecord {
  at: string
  checkId?: string
  checkType?: string
  callerIp: string
  ip: string
  port: number
  allowed: boolean
  reason?: string
  outcome?: string
  ms?: number
  /** why a connection goes somewhere other than the caller (the MTA-STS policy fetch) */
  purpose?: string
}

export interface ConnectorHooks {
  audit?: (rec: AuditRecord) => void
}

export interface GuardedSocket {
  socket: net.Socket | tls.TLSSocket
  /** raw TCP socket (bytes counted here) */
  raw: net.Socket
  /** bytes read so far on the raw socket */
  bytesRead: () => number
  /** upgrade in place to TLS (STARTTLS/STLS); resolves with the TLS socket */
  startTls: (servername?: string) => Promise<tls.TLSSocket>
  close: () => void
}

export class GuardedConnector {
  /** every decision, in order: tests assert here that a refusal opened nothing */
  readonly decisions: AuditRecord[] = []
  private readonly keepDecisions: number

  constructor (private readonly policy: PolicyOptions, private readonly hooks: ConnectorHooks = {}, keepDecisions = 1000) {
    this.keepDecisions = keepDecisions
  }

  private record (rec: AuditRecord): void {
    this.decisions.push(rec)
    if (this.decisions.length > this.keepDecisions) this.decisions.shift()
    this.hooks.audit?.(rec)
  }

  /** Is this address a permissible target at all (special ranges, TARGET_ALLOW_CIDRS, opt-out list)? */
  addressVerdict (ip: string) {
    return addressVerdict(ip, this.policy)
  }

  /** Would a connection be allowed? Same rule as connect(), no socket. */
  check (caller: CallerAddresses | string, ip: string, port: number) {
    return targetVerdict(caller, ip, port, this.policy)
  }

  async connect (req: ConnectRequest): Promise<GuardedSocket> {
    const verdict = targetVerdict(req.caller ?? CallerAddresses.from(req.callerIp), req.ip, req.port, this.policy)
    const base: AuditRecord = { at: new Date().toISOString(), checkId: req.checkId, checkType: req.checkType, callerIp: req.callerIp, ip: req.ip, port: req.port, allowed: verdict.ok }
    if (!verdict.ok) {
      this.record({ ...base, reason: verdict.reason, outcome: 'refused_by_policy' })
      throw new RefusalError(verdict.code, verdict.reason, req.callerIp, null)
    }
    return await this.open(req, verdict.ip, base)
  }

  /**
   * THE one exception to "only the caller's own address": the tls check's
   * MTA-STS policy fetch (RFC 8461 §3.3). HTTPS on port 443 only, to an
   * address that is permissible at all (the special-purpose table applies,
   * TARGET_ALLOW_CIDRS exempts), recorded with its purpose. The caller
   * (src/tls/mta-sts.ts) sends one GET of the well-known path, follows no
   * redirect and reads at most 64 KiB within 10 s.
   */
  async connectPolicyHost (req: Omit<ConnectRequest, 'port' | 'tls'> & { purpose: 'mta-sts' }): Promise<GuardedSocket> {
    const verdict = addressVerdict(req.ip, this.policy)
    const base: AuditRecord = { at: new Date().toISOString(), checkId: req.checkId, checkType: req.checkType, callerIp: req.callerIp, ip: req.ip, port: 443, allowed: verdict.ok, purpose: req.purpose }
    if (!verdict.ok) {
      this.record({ ...base, reason: verdict.reason, outcome: 'refused_by_policy' })
      throw new RefusalError(verdict.code, verdict.reason, req.callerIp, null)
    }
    return await this.open({ ...req, port: 443, tls: true }, verdict.ip, base)
  }

  private async open (req: ConnectRequest, ip: Ip, base: AuditRecord): Promise<GuardedSocket> {
    const verdict = { ip }
    const started = Date.now()
    const remaining = req.deadline - started
    if (remaining <= 0) throw new ProbeError('deadline', 'the check ran out of time before connecting')
    const host = verdict.ip.text
    const raw = new net.Socket()
    let settled = false

    // Absolute deadline: inactivity timers alone let a server trickle one byte a second forever.
    const killer = setTimeout(() => raw.destroy(new ProbeError('deadline', `deadline reached after ${Date.now() - started} ms`)), remaining)
    killer.unref?.()
    raw.on('close', () => clearTimeout(killer))
    // The byte cap counts what the kernel handed us on the raw TCP socket
    // (raw.bytesRead), checked whenever either layer delivers data: once TLS
    // wraps the socket, 'data' events fire on the TLS socket only, but
    // raw.bytesRead still counts every encrypted byte.
    const capCheck = (): void => {
      if (raw.bytesRead > req.maxBytes) raw.destroy(new ProbeError('byte_cap', `the server sent more than ${req.maxBytes} bytes`))
    }
    raw.on('data', capCheck)
    const watchTls = (t: tls.TLSSocket): tls.TLSSocket => {
      t.on('data', capCheck)
      // Destroying the raw socket (deadline, cap) must surface on the TLS socket the protocol client reads.
      raw.once('close', () => { if (!t.destroyed) t.destroy((raw as net.Socket & { errored?: Error }).errored ?? undefined) })
      return t
    }

    const finish = (outcome: string): void => {
      this.record({ ...base, outcome, ms: Date.now() - started })
    }

    const connected = new Promise<net.Socket | tls.TLSSocket>((resolve, reject) => {
      const fail = (err: Error & { code?: string }) => {
        if (settled) return
        settled = true
        clearTimeout(handshakeTimer)
        raw.destroy()
        const pe = classifyConnectError(err, req)
        finish(pe.kind)
        reject(pe)
      }
      const handshakeTimer = setTimeout(() => fail(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), Math.min(req.connectTimeoutMs, remaining))
      raw.once('error', fail)
      raw.connect({ host, port: req.port, family: verdict.ip.family }, () => {
        if (!req.tls) {
          settled = true
          clearTimeout(handshakeTimer)
          raw.removeListener('error', fail)
          finish('connected')
          resolve(raw)
          return
        }
        const t = watchTls(tls.connect({ socket: raw, servername: sni(req.servername), rejectUnauthorized: false }))
        t.once('secureConnect', () => {
          if (settled) return
          settled = true
          clearTimeout(handshakeTimer)
          raw.removeListener('error', fail)
          t.removeListener('error', fail)
          finish('connected_tls')
          resolve(t)
        })
        t.once('error', (e) => fail(Object.assign(e, { tlsFailure: true })))
      })
    })

    const socket = await connected
    let current: net.Socket | tls.TLSSocket = socket
    return {
      get socket () { return current },
      raw,
      bytesRead: () => raw.bytesRead,
      startTls: (servername?: string) => new Promise<tls.TLSSocket>((resolve, reject) => {
        const t = watchTls(tls.connect({ socket: raw, servername: sni(servername ?? req.servername), rejectUnauthorized: false }))
        const onErr = (e: Error) => reject(new ProbeError('tls', `TLS handshake failed: ${e.message}`))
        t.once('error', onErr)
        t.once('secureConnect', () => { t.removeListener('error', onErr); current = t; resolve(t) })
      }),
      close: () => { current.destroy(); raw.destroy() }
    } as GuardedSocket
  }
}

/** SNI must be a host name, never an IP literal (RFC 6066 §3). */
function sni (name?: string): string | undefined {
  if (!name || net.isIP(name)) return undefined
  return name.replace(/\.$/, '')
}

function classifyConnectError (err: Error & { code?: string, tlsFailure?: boolean }, req: ConnectRequest): ProbeError {
  if (err instanceof ProbeError) { err.port ??= req.port; return err }
  const where = `${req.ip} port ${req.port}`
  const p = req.port
  if (err.tlsFailure) return new ProbeError('tls', `TLS handshake with ${where} failed: ${err.message}`, p)
  switch (err.code) {
    case 'ECONNREFUSED': return new ProbeError('refused', `connection to ${where} was refused`, p)
    case 'ETIMEDOUT': return new ProbeError('timeout', `no answer from ${where} within ${req.connectTimeoutMs} ms`, p)
    case 'EHOSTUNREACH': case 'ENETUNREACH': return new ProbeError('unreachable', `${where} is unreachable (${err.code})`, p)
    case 'ECONNRESET': return new ProbeError('closed', `${where} reset the connection`, p)
    default: return new ProbeError('other', `connecting to ${where} failed: ${err.message}`, p)
  }
}
