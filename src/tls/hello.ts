// A hand-made TLS ClientHello for what node's OpenSSL will not offer
// (SSLv3, TLS 1.0/1.1 at its default security level, RC4, 3DES, NULL,
// EXPORT), and the reading of the server's first answer: a ServerHello
// (which version and cipher it chose) or an alert. The handshake is never
// completed: the ServerHello alone answers "does the server accept this".
// Pure: bytes in, bytes out (RFC 5246 §7.4, RFC 6101 §5.6).
import { randomBytes } from 'node:crypto'

export const VERSIONS: Record<number, string> = { 0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' }

export type WeakKind = 'RC4' | '3DES' | 'NULL' | 'EXPORT' | 'DES'

/** Cipher suites nobody should accept any more, by IANA code. */
export const WEAK_SUITES: Record<number, { name: string, kind: WeakKind }> = {
  0x0001: { name: 'TLS_RSA_WITH_NULL_MD5', kind: 'NULL' },
  0x0002: { name: 'TLS_RSA_WITH_NULL_SHA', kind: 'NULL' },
  0x003b: { name: 'TLS_RSA_WITH_NULL_SHA256', kind: 'NULL' },
  0xc006: { name: 'TLS_ECDHE_ECDSA_WITH_NULL_SHA', kind: 'NULL' },
  0xc010: { name: 'TLS_ECDHE_RSA_WITH_NULL_SHA', kind: 'NULL' },
  0x0003: { name: 'TLS_RSA_EXPORT_WITH_RC4_40_MD5', kind: 'EXPORT' },
  0x0006: { name: 'TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5', kind: 'EXPORT' },
  0x0008: { name: 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA', kind: 'EXPORT' },
  0x0014: { name: 'TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA', kind: 'EXPORT' },
  0x0004: { name: 'TLS_RSA_WITH_RC4_128_MD5', kind: 'RC4' },
  0x0005: { name: 'TLS_RSA_WITH_RC4_128_SHA', kind: 'RC4' },
  0xc007: { name: 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', kind: 'RC4' },
  0xc011: { name: 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', kind: 'RC4' },
  0x0009: { name: 'TLS_RSA_WITH_DES_CBC_SHA', kind: 'DES' },
  0x0015: { name: 'TLS_DHE_RSA_WITH_DES_CBC_SHA', kind: 'DES' },
  0x000a: { name: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', kind: '3DES' },
  0x0016: { name: 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA', kind: '3DES' },
  0xc008: { name: 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA', kind: '3DES' },
  0xc012: { name: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', kind: '3DES' }
}

/** Suites a TLS 1.0/1.1 server of the last fifteen years has: CBC with SHA-1, ECDHE and plain RSA. */
export const LEGACY_SUITES: Record<number, string> = {
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  0xc009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  0xc00a: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  0x0033: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA',
  0x0039: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA',
  0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
  0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA'
}

export function suiteName (code: number): string {
  return WEAK_SUITES[code]?.name ?? LEGACY_SUITES[code] ?? `0x${code.toString(16).padStart(4, '0')}`
}

function u16 (n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b }
function vec16 (b: Buffer): Buffer { return Buffer.concat([u16(b.length), b]) }
function ext (type: number, body: Buffer): Buffer { return Buffer.concat([u16(type), vec16(body)]) }

export interface HelloOptions {
  /** client_version: 0x0300 SSLv3 … 0x0303 TLS 1.2 */
  version: number
  suites: number[]
  /** SNI (omitted for SSLv3, which has no extensions) */
  servername?: string
}

/** One ClientHello record. */
export function clientHello (o: HelloOptions): Buffer {
  const suites = Buffer.concat([...o.suites, 0x00ff].map(u16)) // + TLS_EMPTY_RENEGOTIATION_INFO_SCSV
  const parts: Buffer[] = [u16(o.version), randomBytes(32), Buffer.from([0]), vec16(suites), Buffer.from([1, 0])]
  if (o.version > 0x0300) {
    const exts: Buffer[] = []
    if (o.servername) {
      const n = Buffer.from(o.servername, 'ascii')
      exts.push(ext(0, vec16(Buffer.concat([Buffer.from([0]), vec16(n)]))))
    }
    exts.push(ext(10, vec16(Buffer.concat([0x001d, 0x0017, 0x0018].map(u16))))) // supported_groups: x25519, P-256, P-384
    exts.push(ext(11, Buffer.from([1, 0]))) // ec_point_formats: uncompressed
    if (o.version >= 0x0303) {
      // signature_algorithms: ecdsa/rsa with SHA-256/384/1, rsa-pss
      exts.push(ext(13, vec16(Buffer.concat([0x0403, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501, 0x0201, 0x0203].map(u16)))))
    }
    parts.push(vec16(Buffer.concat(exts)))
  }
  const body = Buffer.concat(parts)
  const hs = Buffer.concat([Buffer.from([1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]), body])
  // The record layer says TLS 1.0 (SSLv3 for an SSLv3 hello): what old servers expect.
  return Buffer.concat([Buffer.from([22]), u16(Math.min(o.version, 0x0301)), vec16(hs)])
}

export type HelloAnswer =
  | { kind: 'server_hello', version: number, versionName: string, suite: number, suiteName: string }
  | { kind: 'alert', level: number, description: number }
  /** the server hung up on the hello without a word: a refusal too */
  | { kind: 'closed' }
  | { kind: 'other', reason: string }

/** Alerts a server sends to a hello it will not take, by number. */
export const ALERTS: Record<number, string> = { 0: 'close_notify', 10: 'unexpected_message', 40: 'handshake_failure', 47: 'illegal_parameter', 50: 'decode_error', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error', 86: 'inappropriate_fallback', 112: 'unrecognized_name' }

/**
 * The server's first answer, once enough bytes are in: null while more are
 * needed. Reads the first record only (a ServerHello fits in one).
 */
export function readServerAnswer (buf: Buffer): HelloAnswer | null {
  if (buf.length < 5) return null
  const type = buf[0]
  const len = buf.readUInt16BE(3)
  if (type !== 21 && type !== 22) return { kind: 'other', reason: `not a TLS record (first byte 0x${type.toString(16)})` }
  if (len > 16_384 + 2048) return { kind: 'other', reason: 'record too long' }
  if (buf.length < 5 + len) return null
  const rec = buf.subarray(5, 5 + len)
  if (type === 21) return rec.length >= 2 ? { kind: 'alert', level: rec[0], description: rec[1] } : { kind: 'other', reason: 'short alert' }
  if (rec.length < 4 || rec[0] !== 2) return { kind: 'other', reason: 'handshake record that is not a ServerHello' }
  const body = rec.subarray(4)
  if (body.length < 2 + 32 + 1) return { kind: 'other', reason: 'short ServerHello' }
  let version = body.readUInt16BE(0)
  const sidLen = body[34]
  if (body.length < 35 + sidLen + 3) return { kind: 'other', reason: 'short ServerHello' }
  const suite = body.readUInt16BE(35 + sidLen)
  // TLS 1.3 says 0x0303 here and the real version in supported_versions (RFC 8446 §4.2.1).
  let i = 35 + sidLen + 3
  if (i + 2 <= body.length) {
    const end = Math.min(body.length, i + 2 + body.readUInt16BE(i))
    i += 2
    while (i + 4 <= end) {
      const t = body.readUInt16BE(i)
      const l = body.readUInt16BE(i + 2)
      if (t === 43 && l === 2 && i + 6 <= end) version = body.readUInt16BE(i + 4)
      i += 4 + l
    }
  }
  return { kind: 'server_hello', version, versionName: VERSIONS[version] ?? `0x${version.toString(16)}`, suite, suiteName: suiteName(suite) }
}
