// Address proofs: "this address asked this service, at this time", signed.
// GET /api/v1/ip on the IPv4-only and the IPv6-only origin (IPV4_ORIGIN,
// IPV6_ORIGIN) hands one out; a check body carries them back in `proofs`,
// and each valid one adds its address to the caller's addresses
// (src/net/caller.ts). The token is opaque base64url:
//
//   version (1) | family (4 or 6) | address (4 or 16 bytes) | issued (uint32, s) | HMAC-SHA256 (32)
//
// The MAC key is derived from PROOF_SECRET for this one purpose, and the MAC
// covers a purpose label before the bytes, so a proof is good for nothing
// but proving an address to this service: no other token mxprobe makes
// (report ids, one-time addresses, rate-limit keys) can pass for one, nor a
// proof for any of them. Instances behind one balancer share PROOF_SECRET;
// without it, a random key is made at start (proofs then last until a restart
// and work on that instance only).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { parseIp, formatIpv4, formatIpv6, type Family } from './ip.js'

/** A check body takes at most this many proofs … */
export const MAX_PROOFS = 4
/** … of at most this many bytes each (a proof is 56 or 72 characters). */
export const MAX_PROOF_BYTES = 512
export const DEFAULT_PROOF_TTL_SECONDS = 300

const VERSION = 1
const MAC_BYTES = 32
const PURPOSE = 'mxprobe address proof v1\0'
const KEY_LABEL = 'mxprobe/proof-key/v1'
/** instances' clocks may differ this much: a proof "from the future" within it is fine */
const SKEW_SECONDS = 30

export type ProofFailure =
  /** not base64url, or not the length of a proof */
  | 'malformed'
  /** the MAC does not match: made up, altered, or signed with another PROOF_SECRET */
  | 'forged'
  /** older than the proof lifetime */
  | 'expired'
  /** issued later than now (beyond clock skew) */
  | 'future'
  /** the family byte does not fit the address (or an IPv4-mapped address given as IPv6) */
  | 'family'

export type ProofResult =
  | { ok: true, ip: string, family: Family, issuedAt: number }
  | { ok: false, reason: ProofFailure }

export interface ProofOptions {
  /** PROOF_SECRET; null or empty: a random key for this process */
  secret?: string | null
  ttlSeconds?: number
  /** the clock, epoch ms (tests inject one) */
  now?: () => number
}

export class AddressProofs {
  readonly ttlSeconds: number
  /** false when no PROOF_SECRET was given: the key is this process's own */
  readonly shared: boolean
  private readonly key: Buffer
  private readonly now: () => number

  constructor (o: ProofOptions = {}) {
    const secret = o.secret ? Buffer.from(o.secret, 'utf8') : randomBytes(32)
    this.shared = !!o.secret
    this.key = createHmac('sha256', secret).update(KEY_LABEL).digest()
    this.ttlSeconds = o.ttlSeconds ?? DEFAULT_PROOF_TTL_SECONDS
    this.now = o.now ?? Date.now
  }

  /** A proof of `ip` (any IP literal; canonical form), issued now. */
  issue (ip: string): string {
    const p = parseIp(ip)
    if (!p) throw new Error(`not an IP literal: ${ip}`)
    const addr = Buffer.alloc(p.family === 4 ? 4 : 16)
    let v = p.value
    for (let i = addr.length - 1; i >= 0; i--) { addr[i] = Number(v & 0xffn); v >>= 8n }
    const issued = Buffer.alloc(4)
    issued.writeUInt32BE(Math.floor(this.now() / 1000))
    return this.seal(Buffer.concat([Buffer.from([VERSION, p.family]), addr, issued]))
  }

  /**
   * Sign raw payload bytes as a proof. `issue()` is the way to make one; this
   * is its last step, public so tests can make proofs with wrong insides.
   */
  seal (payload: Buffer): string {
    return Buffer.concat([payload, this.mac(payload)]).toString('base64url')
  }

  /** What a proof proves, or why it proves nothing. Never throws. */
  verify (token: unknown): ProofResult {
    if (typeof token !== 'string' || token.length > MAX_PROOF_BYTES || !/^[A-Za-z0-9_-]+$/.test(token)) return { ok: false, reason: 'malformed' }
    const raw = Buffer.from(token, 'base64url')
    // base64url round trip: no stray trailing bits, exactly one encoding per proof
    if (raw.toString('base64url') !== token) return { ok: false, reason: 'malformed' }
    if (raw.length !== 2 + 4 + 4 + MAC_BYTES && raw.length !== 2 + 16 + 4 + MAC_BYTES) return { ok: false, reason: 'malformed' }
    const payload = raw.subarray(0, raw.length - MAC_BYTES)
    const mac = raw.subarray(raw.length - MAC_BYTES)
    if (!timingSafeEqual(mac, this.mac(payload))) return { ok: false, reason: 'forged' }
    // Only this service could have written what follows.
    if (payload[0] !== VERSION) return { ok: false, reason: 'malformed' }
    const family = payload[1]
    const addr = payload.subarray(2, payload.length - 4)
    if ((family !== 4 && family !== 6) || addr.length !== (family === 4 ? 4 : 16)) return { ok: false, reason: 'family' }
    let value = 0n
    for (const b of addr) value = (value << 8n) | BigInt(b)
    const text = family === 4 ? formatIpv4(value) : formatIpv6(value)
    // An IPv4-mapped address (::ffff:a.b.c.d) is IPv4 to everyone else: never an IPv6 proof.
    if (parseIp(text)?.family !== family) return { ok: false, reason: 'family' }
    const issuedAt = payload.readUInt32BE(payload.length - 4) * 1000
    const now = this.now()
    if (issuedAt > now + SKEW_SECONDS * 1000) return { ok: false, reason: 'future' }
    if (now - issuedAt > this.ttlSeconds * 1000) return { ok: false, reason: 'expired' }
    return { ok: true, ip: text, family, issuedAt }
  }

  private mac (payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update(PURPOSE).update(payload).digest()
  }
}
