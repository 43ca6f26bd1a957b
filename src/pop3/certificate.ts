// What a POP3 server's certificate says, in the flat shape the POP3 report
// has always used: a view of the one TLS/certificate description that SMTP
// uses too (src/core/tls.ts). Reported, not enforced.
import type tls from 'node:tls'
import { describeTls } from '../core/tls.js'

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

export function describeCertificate (socket: tls.TLSSocket, host: string | null): CertificateInfo | null {
  const t = describeTls(socket, host)
  const c = t.cert
  if (!c) return null
  return {
    subject: c.subject,
    subjectAltNames: c.san,
    issuer: c.issuer,
    validFrom: c.validFrom,
    validTo: c.validTo,
    expired: c.daysLeft < 0 || Date.parse(c.validTo) < Date.now(),
    selfSigned: c.selfSigned,
    trusted: t.authorized,
    verifyError: t.authorizationError,
    nameMatches: t.nameMatches,
    fingerprint256: c.fingerprint256,
    protocol: t.protocol,
    cipher: t.cipher
  }
}
