// DANE for SMTP (RFC 7672, RFC 7671, RFC 6698): the TLSA records at
// _25._tcp.<mx host>, matched against the chain the server presented in
// STARTTLS. Usages 3 (DANE-EE: the server's own certificate or key, no CA,
// no name or date checks) and 2 (DANE-TA: a CA certificate the server
// sends in its chain); selectors 0 (whole certificate) and 1 (its public
// key); matching types 0 (exact), 1 (SHA-256), 2 (SHA-512). Usages 0 and 1
// (PKIX-TA/EE) are unusable for SMTP (RFC 7672 §3.1.3). Pure: no DNS, no sockets.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto'
import type { TlsaData } from '../dns/wire.js'

export type TlsaVerdict = 'match' | 'no_match' | 'unusable'

export interface TlsaResult {
  usage: number
  selector: number
  matchingType: number
  /** the association data as hex (shortened for full certificates) */
  data: string
  verdict: TlsaVerdict
  /** why unusable, or which certificate matched (0 = leaf) */
  reason: string | null
  matchedDepth: number | null
}

export interface DaneVerdict {
  /** at least one usable record matches: DANE senders deliver */
  matched: boolean
  usable: number
  records: TlsaResult[]
}

function selected (c: X509Certificate, selector: number): Buffer {
  return selector === 0 ? c.raw : c.publicKey.export({ type: 'spki', format: 'der' })
}

function digest (data: Buffer, matchingType: number): Buffer | null {
  if (matchingType === 0) return data
  if (matchingType === 1) return createHash('sha256').update(data).digest()
  if (matchingType === 2) return createHash('sha512').update(data).digest()
  return null
}

/** The association data a certificate of the chain would need, as `usage selector type hex` (for advice: "publish this"). */
export function tlsaFor (c: X509Certificate, usage: number, selector: number, matchingType: number): string {
  const d = digest(selected(c, selector), matchingType)
  return `${usage} ${selector} ${matchingType} ${d ? d.toString('hex') : ''}`
}

/** One record against the chain (leaf first, as sent). */
export function matchTlsa (r: TlsaData, chain: X509Certificate[]): TlsaResult {
  const hex = r.data.toString('hex')
  const base = { usage: r.usage, selector: r.selector, matchingType: r.matchingType, data: hex.length > 80 ? `${hex.slice(0, 72)}…` : hex }
  const unusable = (reason: string): TlsaResult => ({ ...base, verdict: 'unusable', reason, matchedDepth: null })
  if (r.usage === 0 || r.usage === 1) return unusable(`usage ${r.usage} (PKIX-${r.usage === 0 ? 'TA' : 'EE'}) is not used for SMTP (RFC 7672 §3.1.3)`)
  if (r.usage !== 2 && r.usage !== 3) return unusable(`unknown usage ${r.usage}`)
  if (r.selector !== 0 && r.selector !== 1) return unusable(`unknown selector ${r.selector}`)
  if (r.matchingType !== 0 && r.matchingType !== 1 && r.matchingType !== 2) return unusable(`unknown matching type ${r.matchingType}`)
  const expectLen = r.matchingType === 1 ? 32 : r.matchingType === 2 ? 64 : null
  if (expectLen !== null && r.data.length !== expectLen) return unusable(`the data is ${r.data.length} bytes, a SHA-${r.matchingType === 1 ? 256 : 512} digest is ${expectLen}`)
  if (!chain.length) return { ...base, verdict: 'no_match', reason: 'no certificate was presented', matchedDepth: null }
  // DANE-EE names the leaf; DANE-TA a CA certificate above it, which the server must send (RFC 7671 §5.2.2).
  const candidates = r.usage === 3 ? [0] : chain.map((_, i) => i).filter((i) => i > 0 && chain[i].ca)
  for (const i of candidates) {
    const d = digest(selected(chain[i], r.selector), r.matchingType)
    if (d && d.equals(r.data)) {
      // DANE-TA: the chain from the leaf up to the matched CA must hold together.
      if (r.usage === 2 && !chainHolds(chain, i)) return { ...base, verdict: 'no_match', reason: 'the CA named matches, but the leaf is not issued under it', matchedDepth: null }
      return { ...base, verdict: 'match', reason: null, matchedDepth: i }
    }
  }
  // DANE-TA with the whole certificate or key in DNS (2 0 0, 2 1 0): the server need not send
  // the trust anchor; it is enough that a certificate of the chain is issued under it (RFC 7671 §5.2.2).
  if (r.usage === 2 && r.matchingType === 0) {
    const key = anchorKey(r)
    if (key) {
      for (let i = 0; i < chain.length; i++) {
        let signed = false
        try { signed = chain[i].verify(key.publicKey) && (!key.cert || chain[i].checkIssued(key.cert)) } catch { signed = false }
        if (signed && chainHolds(chain, i)) return { ...base, verdict: 'match', reason: 'the trust anchor is not sent; the chain is issued under the one in DNS', matchedDepth: i + 1 }
      }
    }
  }
  return { ...base, verdict: 'no_match', reason: r.usage === 2 ? 'no CA certificate in the presented chain matches' : 'the presented certificate does not match', matchedDepth: null }
}

/** The trust anchor a 2 0 0 or 2 1 0 record carries whole, or null when its data is not one. */
function anchorKey (r: TlsaData): { publicKey: KeyObject, cert: X509Certificate | null } | null {
  try {
    if (r.selector === 0) {
      const cert = new X509Certificate(r.data)
      return cert.ca ? { publicKey: cert.publicKey, cert } : null
    }
    return { publicKey: createPublicKey({ key: r.data, format: 'der', type: 'spki' }), cert: null }
  } catch {
    return null
  }
}

function chainHolds (chain: X509Certificate[], upTo: number): boolean {
  for (let i = 0; i < upTo; i++) {
    try {
      if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) return false
    } catch { return false }
  }
  return true
}

export function matchDane (records: TlsaData[], chain: X509Certificate[]): DaneVerdict {
  const results = records.map((r) => matchTlsa(r, chain))
  return { matched: results.some((r) => r.verdict === 'match'), usable: results.filter((r) => r.verdict !== 'unusable').length, records: results }
}
