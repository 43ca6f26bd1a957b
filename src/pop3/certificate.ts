// What a TLS peer certificate says, in the terms a mail-server owner needs:
// who it names, who issued it, until when, whether it is self-signed and
// whether it fits the host name mail programs connect to. Reported, not
// enforced: a probe always completes the handshake to be able to say this.
import tls from 'node:tls'
import { visible } from './lines.js'

export interface CertificateInfo {
  subject: string
  subjectAltNames: string[]
  issuer: string
  validFrom: string
  validTo: string
  expired: boolean
  selfSigned: boolean
  /** the chain verifies against Node's CA store */
  trusted: boolean
  verifyError: string | null
  /** the certificate names the host we expected (null: no host to compare with) */
  nameMatches: boolean | null
  fingerprint256: string
  protocol: string | null
  cipher: string | null
}

function dn (x: Record<string, unknown> | undefined): string {
  if (!x) return ''
  return Object.entries(x).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`).map((s) => visible(s, 200)).join(', ')
}

export function describeCertificate (socket: tls.TLSSocket, host: string | null): CertificateInfo | null {
  const c = socket.getPeerCertificate(false)
  if (!c || Object.keys(c).length === 0) return null
  const sans = (c.subjectaltname ?? '').split(/,\s*/).filter(Boolean).map((s) => visible(s, 200)).slice(0, 50)
  const err = socket.authorizationError ? String(socket.authorizationError) : null
  const selfSigned = err === 'DEPTH_ZERO_SELF_SIGNED_CERT' || (dn(c.subject as never) === dn(c.issuer as never) && err !== null)
  const validTo = new Date(c.valid_to)
  let nameMatches: boolean | null = null
  if (host) nameMatches = tls.checkServerIdentity(host.replace(/\.$/, ''), c) === undefined
  const cipher = socket.getCipher()
  return {
    subject: dn(c.subject as never),
    subjectAltNames: sans,
    issuer: dn(c.issuer as never),
    validFrom: new Date(c.valid_from).toISOString(),
    validTo: validTo.toISOString(),
    expired: validTo.getTime() < Date.now(),
    selfSigned,
    trusted: socket.authorized,
    verifyError: err,
    nameMatches,
    fingerprint256: c.fingerprint256,
    protocol: socket.getProtocol(),
    cipher: cipher?.name ?? null
  }
}
