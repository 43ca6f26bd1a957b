// A certificate chain as a sender judges it: built from what the server
// sent (not from what a browser could fetch), up to a trust root (node's
// bundled roots, plus the PEM file NODE_EXTRA_CA_CERTS names, read when
// asked so a private CA counts), and what is wrong with it in words a home
// server's owner can act on: the intermediate missing (cert.pem served
// instead of fullchain.pem), self-signed, a private root nobody trusts,
// expired or not yet valid, the wrong name. Pure: no sockets.
import { X509Certificate, createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import tls from 'node:tls'

export type ChainProblem =
  | 'missing_intermediate'
  | 'incomplete_chain'
  | 'self_signed'
  | 'untrusted_root'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_name'
  | 'bad_signature'

export interface CertFacts {
  subject: string
  subjectCN: string | null
  issuer: string
  san: string[]
  validFrom: string
  validTo: string
  /** whole days left (negative: expired) */
  daysLeft: number
  /** the certificate's whole lifetime in days */
  lifetimeDays: number
  fingerprint256: string
  /** SHA-256 of the SubjectPublicKeyInfo (what DANE 3 1 1 and HPKP-style pins name) */
  spki256: string
  keyType: string
  /** RSA modulus bits, or the curve's bits */
  keyBits: number | null
  curve: string | null
  selfIssued: boolean
}

export interface ChainVerdict {
  /** the chain reaches a trusted root and every certificate in it is valid now */
  trusted: boolean
  /** the leaf names the host */
  nameMatches: boolean
  problems: ChainProblem[]
  /** the certificates the server sent, leaf first */
  sent: CertFacts[]
  /** the trust root the path ended at, if any */
  root: string | null
}

const MS_DAY = 86_400_000

function printable (s: string, max = 200): string {
  const v = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return v.length > max ? `${v.slice(0, max)}…` : v
}

export function certFacts (c: X509Certificate, now = Date.now()): CertFacts {
  const from = new Date(c.validFrom).getTime()
  const to = new Date(c.validTo).getTime()
  const key = c.publicKey
  const d = key.asymmetricKeyDetails ?? {}
  const curve = d.namedCurve ?? null
  const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 }
  const keyBits = d.modulusLength ?? (curve ? curveBits[curve] ?? null : key.asymmetricKeyType === 'ed25519' ? 256 : key.asymmetricKeyType === 'ed448' ? 456 : null)
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1]
  return {
    subject: printable(c.subject.replace(/\n/g, ', ')),
    subjectCN: cn ? printable(cn) : null,
    issuer: printable(c.issuer.replace(/\n/g, ', ')),
    san: (c.subjectAltName ?? '').split(/,\s*/).filter(Boolean).map((x) => printable(x)).slice(0, 50),
    validFrom: new Date(from).toISOString(),
    validTo: new Date(to).toISOString(),
    daysLeft: Math.floor((to - now) / MS_DAY),
    lifetimeDays: Math.round((to - from) / MS_DAY),
    fingerprint256: c.fingerprint256,
    spki256: createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex'),
    keyType: key.asymmetricKeyType ?? 'unknown',
    keyBits,
    curve,
    selfIssued: c.checkIssued(c) && safeVerify(c, c)
  }
}

function safeVerify (c: X509Certificate, issuer: X509Certificate): boolean {
  try { return c.verify(issuer.publicKey) } catch { return false }
}

function issuedBy (c: X509Certificate, issuer: X509Certificate): boolean {
  return c.checkIssued(issuer) && safeVerify(c, issuer)
}

let cached: { key: string, roots: X509Certificate[] } | null = null

function parsePemBundle (text: string): X509Certificate[] {
  const out: X509Certificate[] = []
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
    try { out.push(new X509Certificate(m[0])) } catch { /* a broken entry in a bundle is skipped, not fatal */ }
  }
  return out
}

/** node's bundled roots and the certificates of NODE_EXTRA_CA_CERTS (re-read when the file changes). */
export function trustRoots (): X509Certificate[] {
  const extra = process.env.NODE_EXTRA_CA_CERTS
  let key = 'none'
  if (extra) {
    try { const s = statSync(extra); key = `${extra}:${s.mtimeMs}:${s.size}` } catch { key = `${extra}:missing` }
  }
  if (cached && cached.key === key) return cached.roots
  const roots = tls.rootCertificates.flatMap(parsePemBundle)
  if (extra) {
    try { roots.push(...parsePemBundle(readFileSync(extra, 'utf8'))) } catch { /* unreadable: no extra roots */ }
  }
  cached = { key, roots }
  return roots
}

/** The leaf first, then what the server sent after it (node links them through issuerCertificate). */
export function sentChain (leaf: X509Certificate | undefined): X509Certificate[] {
  const out: X509Certificate[] = []
  const seen = new Set<string>()
  let c: X509Certificate | undefined = leaf
  while (c && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256)
    out.push(c)
    c = c.issuerCertificate
  }
  return out
}

/**
 * Build a path from the leaf through the sent certificates to a root and
 * say what is wrong. `name` is the host name clients use (the MX host).
 */
export function verifyChain (sent: X509Certificate[], name: string, roots: X509Certificate[] = trustRoots(), now = Date.now()): ChainVerdict {
  const problems = new Set<ChainProblem>()
  const facts = sent.map((c) => certFacts(c, now))
  if (!sent.length) return { trusted: false, nameMatches: false, problems: [], sent: [], root: null }
  const leaf = sent[0]
  const nameMatches = leaf.checkHost(name.replace(/\.$/, '')) !== undefined
  if (!nameMatches) problems.add('wrong_name')
  const path: X509Certificate[] = [leaf]
  let root: X509Certificate | null = null
  for (let cur = leaf; path.length <= 10;) {
    const trusted = roots.find((r) => r.fingerprint256 === cur.fingerprint256) ?? roots.find((r) => issuedBy(cur, r))
    if (trusted) { root = trusted; break }
    const next = sent.find((c) => !path.includes(c) && issuedBy(cur, c) && c.ca)
    if (next) { path.push(next); cur = next; continue }
    if (cur.checkIssued(cur)) {
      if (!safeVerify(cur, cur)) problems.add('bad_signature')
      else problems.add(cur === leaf ? 'self_signed' : 'untrusted_root')
    } else if (sent.some((c) => cur.checkIssued(c))) {
      problems.add('bad_signature')
    } else {
      problems.add(cur === leaf ? 'missing_intermediate' : 'incomplete_chain')
    }
    break
  }
  for (const c of [...path, ...(root ? [root] : [])]) {
    if (new Date(c.validTo).getTime() < now) problems.add('expired')
    if (new Date(c.validFrom).getTime() > now) problems.add('not_yet_valid')
  }
  const chainOk = root !== null && !problems.has('expired') && !problems.has('not_yet_valid')
  return {
    trusted: chainOk,
    nameMatches,
    problems: [...problems],
    sent: facts,
    root: root ? printable(root.subject.replace(/\n/g, ', ')) : null
  }
}

/** Expiry by the one rule: warn with less than a third of the lifetime left (where ACME clients renew), fail when over. */
export function expiryState (c: Pick<CertFacts, 'daysLeft' | 'lifetimeDays' | 'validTo'>, now = Date.now()): 'ok' | 'expiring' | 'expired' {
  const left = new Date(c.validTo).getTime() - now
  if (left <= 0) return 'expired'
  return left < (c.lifetimeDays * MS_DAY) / 3 ? 'expiring' : 'ok'
}
