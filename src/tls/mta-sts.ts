// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the `_mta-sts` TXT record,
// the policy file at https://mta-sts.<domain>/.well-known/mta-sts.txt,
// whether every MX host matches one of its `mx` patterns, and the
// `_smtp._tls` reporting record. The policy fetch is the one connection
// mxprobe makes to an address that is not the caller's: it goes through the
// guarded connector's connectPolicyHost (port 443, a permissible address
// only), sends exactly one GET of that path, follows no redirect (RFC 8461
// §3.3), reads at most 64 KiB, and gives up after 10 s.
import type tls from 'node:tls'
import type { GuardedConnector } from '../net/connect.js'
import type { TranscriptSink } from '../core/report.js'
import { sentChain, verifyChain, type ChainVerdict } from './chain.js'

export const POLICY_PATH = '/.well-known/mta-sts.txt'
export const POLICY_MAX_BYTES = 64 * 1024
export const POLICY_TIMEOUT_MS = 10_000

export interface StsRecord { valid: boolean, id: string | null, problem: string | null, raw: string }

/** RFC 8461 §3.1: "v=STSv1; id=<1-32 alphanumerics>;", exactly one such record. */
export function parseStsRecord (txts: string[]): StsRecord | null {
  const recs = txts.filter((t) => /^v=STSv1\s*(;|$)/.test(t))
  if (!recs.length) return null
  if (recs.length > 1) return { valid: false, id: null, problem: 'more than one v=STSv1 record (senders then use none)', raw: recs.join(' | ') }
  const raw = recs[0]
  const fields = new Map(raw.split(';').map((f) => f.trim()).filter(Boolean).map((f) => { const i = f.indexOf('='); return [f.slice(0, i).trim(), f.slice(i + 1).trim()] as [string, string] }))
  const id = fields.get('id') ?? null
  if (!id) return { valid: false, id: null, problem: 'the record has no id=', raw }
  if (!/^[A-Za-z0-9]{1,32}$/.test(id)) return { valid: false, id, problem: 'id= must be 1 to 32 letters and digits', raw }
  return { valid: true, id, problem: null, raw }
}

export type StsMode = 'enforce' | 'testing' | 'none'

export interface StsPolicy {
  mode: StsMode | null
  mx: string[]
  maxAge: number | null
  problems: string[]
}

/** RFC 8461 §3.2: key: value lines, version STSv1, mode, one or more mx, max_age up to 31557600. */
export function parsePolicy (text: string): StsPolicy {
  const problems: string[] = []
  const mx: string[] = []
  let version: string | null = null
  let mode: StsMode | null = null
  let maxAge: number | null = null
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue
    const m = /^([A-Za-z0-9_]+):[ \t]*(.*?)[ \t]*$/.exec(line)
    if (!m) { problems.push(`a line that is not "key: value": ${line.slice(0, 80)}`); continue }
    const [, key, value] = m
    if (key === 'version') version = value
    else if (key === 'mode') {
      if (value === 'enforce' || value === 'testing' || value === 'none') mode = value
      else problems.push(`mode "${value.slice(0, 40)}" is not enforce, testing or none`)
    } else if (key === 'mx') mx.push(value.toLowerCase())
    else if (key === 'max_age') {
      if (/^\d{1,10}$/.test(value) && Number(value) <= 31_557_600) maxAge = Number(value)
      else problems.push(`max_age "${value.slice(0, 20)}" is not a number of seconds up to 31557600`)
    }
  }
  if (version !== 'STSv1') problems.push(version === null ? 'no "version: STSv1" line' : `version "${version.slice(0, 20)}" is not STSv1`)
  if (mode === null && !problems.some((p) => p.startsWith('mode'))) problems.push('no mode line')
  if (maxAge === null && !problems.some((p) => p.startsWith('max_age'))) problems.push('no max_age line')
  if (mode !== 'none' && mx.length === 0) problems.push('no mx line')
  return { mode, mx, maxAge, problems }
}

/** RFC 8461 §4.1: a pattern is a host name, or "*." and a name standing for exactly one more label. */
export function mxMatches (host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '')
  const p = pattern.toLowerCase().replace(/\.$/, '')
  if (p.startsWith('*.')) {
    const rest = p.slice(2)
    const i = h.indexOf('.')
    return i > 0 && h.slice(i + 1) === rest
  }
  return h === p
}

export interface TlsRptRecord { valid: boolean, rua: string[], problems: string[], raw: string }

/** RFC 8460 §3: "v=TLSRPTv1; rua=mailto:…,https://…" */
export function parseTlsRpt (txts: string[]): TlsRptRecord | null {
  const recs = txts.filter((t) => /^v=TLSRPTv1\s*(;|$)/.test(t))
  if (!recs.length) return null
  const raw = recs[0]
  const problems: string[] = []
  if (recs.length > 1) problems.push('more than one v=TLSRPTv1 record')
  const fields = new Map(raw.split(';').map((f) => f.trim()).filter(Boolean).map((f) => { const i = f.indexOf('='); return [f.slice(0, i).trim(), f.slice(i + 1).trim()] as [string, string] }))
  const rua = (fields.get('rua') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (!rua.length) problems.push('no rua= (where reports go)')
  for (const u of rua) {
    if (/^mailto:/i.test(u)) {
      if (!/^mailto:[^@\s,;!]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/i.test(u.replace(/!\d+[kmgt]?$/i, ''))) problems.push(`"${u.slice(0, 80)}" is not a mailto: address`)
    } else if (/^https:\/\//i.test(u)) {
      try { new URL(u) } catch { problems.push(`"${u.slice(0, 80)}" is not a URL`) } // eslint-disable-line no-new
    } else {
      problems.push(`"${u.slice(0, 80)}" is neither mailto: nor https:`)
    }
  }
  return { valid: problems.length === 0, rua: rua.map((u) => u.slice(0, 200)), problems, raw }
}

export interface PolicyFetch {
  ok: boolean
  ip: string
  status: number | null
  /** a redirect that was not followed */
  location: string | null
  contentType: string | null
  body: string | null
  certificate: ChainVerdict | null
  /** why there is no usable policy */
  problem: string | null
  ms: number
}

export interface FetchContext {
  connector: GuardedConnector
  callerIp: string
  checkId?: string
  report: TranscriptSink
  /** the check's own deadline (the fetch ends at the earlier of it and 10 s) */
  deadline: number
}

/**
 * One HTTPS GET of the policy from one address of mta-sts.<domain>. The
 * certificate must be valid for that name under the public roots
 * (RFC 8461 §3.3); it is judged here, the answer read either way.
 */
export async function fetchPolicy (ctx: FetchContext, domain: string, ip: string): Promise<PolicyFetch> {
  const host = `mta-sts.${domain}`
  const started = Date.now()
  const deadline = Math.min(ctx.deadline, started + POLICY_TIMEOUT_MS)
  const out = (o: Partial<PolicyFetch>): PolicyFetch => ({ ok: false, ip, status: null, location: null, contentType: null, body: null, certificate: null, problem: null, ms: Date.now() - started, ...o })
  ctx.report.line('I', `GET https://${host}${POLICY_PATH} (${ip} port 443)`)
  let gs
  try {
    gs = await ctx.connector.connectPolicyHost({ callerIp: ctx.callerIp, ip, servername: host, connectTimeoutMs: Math.min(5000, deadline - Date.now()), deadline, maxBytes: POLICY_MAX_BYTES + 32 * 1024, checkId: ctx.checkId, checkType: 'tls', purpose: 'mta-sts' })
  } catch (err) {
    return out({ problem: (err as Error).message })
  }
  const t = gs.socket as tls.TLSSocket
  const certificate = verifyChain(sentChain(t.getPeerX509Certificate()), host)
  try {
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = []
      let n = 0
      t.on('data', (d: Buffer) => {
        n += d.length
        chunks.push(d)
        if (n > POLICY_MAX_BYTES + 8192) { t.destroy(); reject(new Error(`the answer is longer than ${POLICY_MAX_BYTES} bytes`)) }
      })
      t.once('end', () => resolve(Buffer.concat(chunks)))
      t.once('close', () => resolve(Buffer.concat(chunks)))
      t.once('error', (e) => reject(e))
      t.write(`GET ${POLICY_PATH} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: mxprobe\r\nAccept: text/plain\r\nConnection: close\r\n\r\n`)
    })
    const head = raw.indexOf('\r\n\r\n')
    if (head < 0) return out({ certificate, problem: 'no complete HTTP answer' })
    const lines = raw.subarray(0, head).toString('latin1').split('\r\n')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? NaN)
    const headers = new Map(lines.slice(1).map((l) => { const i = l.indexOf(':'); return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as [string, string] }))
    ctx.report.line('S', lines[0].slice(0, 200))
    if (!Number.isFinite(status)) return out({ certificate, problem: 'not an HTTP answer' })
    let body = raw.subarray(head + 4)
    if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) body = dechunk(body)
    if (body.length > POLICY_MAX_BYTES) return out({ status, certificate, problem: `the policy is longer than ${POLICY_MAX_BYTES} bytes` })
    const contentType = headers.get('content-type') ?? null
    if (status >= 300 && status < 400) return out({ status, certificate, contentType, location: (headers.get('location') ?? '').slice(0, 300), problem: 'redirect' })
    if (status !== 200) return out({ status, certificate, contentType, problem: `HTTP ${status}` })
    return out({ ok: true, status, certificate, contentType, body: body.toString('utf8') })
  } catch (err) {
    return out({ certificate, problem: (err as Error).message })
  } finally {
    gs.close()
  }
}

function dechunk (b: Buffer): Buffer {
  const parts: Buffer[] = []
  let i = 0
  while (i < b.length) {
    const eol = b.indexOf('\r\n', i)
    if (eol < 0) break
    const n = parseInt(b.subarray(i, eol).toString('latin1'), 16)
    if (!Number.isFinite(n) || n <= 0) break
    parts.push(b.subarray(eol + 2, eol + 2 + n))
    i = eol + 2 + n + 2
  }
  return Buffer.concat(parts)
}
