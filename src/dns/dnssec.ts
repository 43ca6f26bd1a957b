// DNSSEC as a validating resolver sees it: secure (the AD bit), insecure
// (an answer without AD), bogus (SERVFAIL that an answer with CD set
// turns into data: the chain fails to validate, RFC 4035 §3.2.2), or a
// plain failure. The AD bit is only believed from a resolver the operator
// named (DNSSEC_RESOLVERS, else DNS_SERVERS) or one on loopback: from
// anything else (the system's resolver over a LAN) it proves nothing, and
// the answer is "unknown".
import net from 'node:net'
import { getServers } from 'node:dns'
import { ask, TYPES, WireError, type TypeName, type WireAnswer, type WireRecord, type ExtendedError, type TlsaData } from './wire.js'

export type DnssecStatus = 'secure' | 'insecure' | 'bogus' | 'unknown'

export interface DnssecServer { host: string, port: number, trusted: boolean }

export interface DnssecOptions {
  /** "ip", "ip:port" or "[ipv6]:port"; the operator named them, so their AD bit is believed */
  servers: string[]
  /** the system's resolvers (used when no servers were named): believed only on loopback */
  systemServers?: string[]
  timeoutMs?: number
}

export interface DnssecAnswer {
  name: string
  type: TypeName
  /** secure / insecure / bogus; unknown when no trusted resolver answered */
  status: DnssecStatus
  rcode: string
  records: WireRecord[]
  /** RFC 8914 extended errors the resolver gave (the reason for a bogus answer, where given) */
  ede: ExtendedError[]
  /** the resolver that answered */
  server: string
  /** why the status is unknown or the lookup failed, in plain words (English; the check words it for people) */
  reason?: string
}

/** RFC 8914 §5.2 INFO-CODEs, for the report's wording */
export const EDE_NAMES: Record<number, string> = {
  0: 'Other',
  1: 'Unsupported DNSKEY Algorithm',
  2: 'Unsupported DS Digest Type',
  3: 'Stale Answer',
  4: 'Forged Answer',
  5: 'DNSSEC Indeterminate',
  6: 'DNSSEC Bogus',
  7: 'Signature Expired',
  8: 'Signature Not Yet Valid',
  9: 'DNSKEY Missing',
  10: 'RRSIGs Missing',
  11: 'No Zone Key Bit Set',
  12: 'NSEC Missing',
  13: 'Cached Error',
  14: 'Not Ready',
  15: 'Blocked',
  16: 'Censored',
  17: 'Filtered',
  18: 'Prohibited',
  19: 'Stale NXDOMAIN Answer',
  20: 'Not Authoritative',
  21: 'Not Supported',
  22: 'No Reachable Authority',
  23: 'Network Error',
  24: 'Invalid Data'
}

export function parseServer (text: string, trusted: boolean): DnssecServer {
  const s = text.trim()
  let host = s
  let port = 53
  const v6 = s.match(/^\[([^\]]+)\](?::(\d+))?$/)
  if (v6) { host = v6[1]; if (v6[2]) port = Number(v6[2]) } else if (net.isIPv4(s.split(':')[0]) && s.includes(':')) {
    const [h, p] = s.split(':')
    host = h
    port = Number(p)
  }
  if (!net.isIP(host) || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${text}" is not an ip, ip:port or [ipv6]:port`)
  return { host, port, trusted: trusted || isLoopback(host) }
}

function isLoopback (ip: string): boolean {
  return net.isIPv4(ip) ? ip.startsWith('127.') : ip === '::1'
}

export class DnssecClient {
  readonly servers: DnssecServer[]
  private readonly timeoutMs: number

  constructor (opts: DnssecOptions) {
    this.servers = opts.servers.length
      ? opts.servers.map((s) => parseServer(s, true))
      : (opts.systemServers ?? []).flatMap((s) => { try { return [parseServer(s, false)] } catch { return [] } })
    this.timeoutMs = opts.timeoutMs ?? 2000
  }

  /** Is there any resolver whose AD bit mxprobe believes? */
  get validating (): boolean { return this.servers.some((s) => s.trusted) }

  /**
   * One question, with its DNSSEC status. Asks the trusted resolvers in
   * order (a timeout or network error moves on to the next); a SERVFAIL is
   * asked again with CD set to tell a failed validation from a broken zone.
   */
  async query (name: string, type: TypeName): Promise<DnssecAnswer> {
    const qname = name.replace(/\.$/, '').toLowerCase()
    const usable = this.servers.filter((s) => s.trusted)
    if (!usable.length) {
      return { name: qname, type, status: 'unknown', rcode: 'NONE', records: [], ede: [], server: '', reason: 'no validating resolver is configured (DNSSEC_RESOLVERS), and the system resolver is not on loopback' }
    }
    let lastErr: Error | null = null
    for (const s of usable) {
      const where = `${s.host}:${s.port}`
      let a: WireAnswer
      try {
        a = await ask({ host: s.host, port: s.port, name: qname, type, timeoutMs: this.timeoutMs })
      } catch (err) {
        lastErr = err as Error
        continue
      }
      const records = a.answers.filter((r) => r.type === TYPES[type] && r.name === qname)
      if (a.rcodeName === 'NOERROR' || a.rcodeName === 'NXDOMAIN') {
        return { name: qname, type, status: a.flags.ad ? 'secure' : 'insecure', rcode: a.rcodeName, records: answerRecords(a, qname, type), ede: a.ede, server: where }
      }
      if (a.rcodeName === 'SERVFAIL') {
        let cd: WireAnswer | null = null
        try { cd = await ask({ host: s.host, port: s.port, name: qname, type, cd: true, timeoutMs: this.timeoutMs }) } catch (err) { lastErr = err as Error }
        if (cd && (cd.rcodeName === 'NOERROR' || cd.rcodeName === 'NXDOMAIN')) {
          // The data is there, only validation fails: bogus. The records are what CD let through, not to be used.
          return { name: qname, type, status: 'bogus', rcode: 'SERVFAIL', records: answerRecords(cd, qname, type), ede: a.ede.length ? a.ede : cd.ede, server: where, reason: edeText(a.ede) ?? 'the resolver could not validate the answer' }
        }
        return { name: qname, type, status: 'unknown', rcode: 'SERVFAIL', records, ede: a.ede, server: where, reason: edeText(a.ede) ?? 'the resolver answered SERVFAIL with and without checking (the zone itself does not answer)' }
      }
      return { name: qname, type, status: 'unknown', rcode: a.rcodeName, records, ede: a.ede, server: where, reason: `the resolver answered ${a.rcodeName}` }
    }
    const why = lastErr instanceof WireError ? lastErr.message : String(lastErr)
    return { name: qname, type, status: 'unknown', rcode: 'TIMEOUT', records: [], ede: [], server: usable.map((s) => `${s.host}:${s.port}`).join(', '), reason: why }
  }

  async tlsa (name: string): Promise<DnssecAnswer & { tlsa: TlsaData[] }> {
    const a = await this.query(name, 'TLSA')
    return { ...a, tlsa: a.records.map((r) => r.value as TlsaData | null).filter((v): v is TlsaData => v !== null) }
  }
}

/** The answer's records of the type asked, following a CNAME chain within the answer. */
function answerRecords (a: WireAnswer, qname: string, type: TypeName): WireRecord[] {
  let name = qname
  for (let i = 0; i < 8; i++) {
    const direct = a.answers.filter((r) => r.name === name && r.type === TYPES[type])
    if (direct.length) return direct
    const cname = a.answers.find((r) => r.name === name && r.type === TYPES.CNAME)
    if (!cname || typeof cname.value !== 'string') return []
    name = cname.value
  }
  return []
}

export function edeText (ede: ExtendedError[]): string | null {
  if (!ede.length) return null
  return ede.map((e) => `${EDE_NAMES[e.code] ?? `EDE ${e.code}`}${e.text ? `: ${e.text}` : ''}`).join('; ')
}

/** The system's resolvers (from /etc/resolv.conf), believed only when on loopback. */
export function systemServers (): string[] {
  return getServers()
}
