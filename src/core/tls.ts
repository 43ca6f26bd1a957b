// One description of a TLS session and the server's certificate, for SMTP
// (STARTTLS on 25, the receive test) and POP3 (STLS on 110, 995) alike:
// who the certificate names, who issued it, until when, whether it is
// self-signed, whether the chain verifies and whether it fits the host name
// mail programs connect to. Reported, not enforced: a probe always completes
// the handshake to be able to say this. Every string a server put in its
// certificate is made printable before it reaches a report.
import tls from 'node:tls'
import type { Static } from '@sinclair/typebox'
import type { CertInfoSchema, TlsInfoSchema } from './report.js'
import { bi, type Lang } from '../i18n/index.js'
import { dayText } from '../i18n/dates.js'

export type CertInfo = Static<typeof CertInfoSchema>
export type TlsInfo = Static<typeof TlsInfoSchema>

/** Control characters and DEL as \xNN, at most `max` characters. */
function printable (s: string, max = 200): string {
  const v = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return v.length > max ? `${v.slice(0, max)}…` : v
}

function dn (o: Record<string, string | string[]> | undefined): string {
  if (!o) return ''
  return Object.entries(o).map(([k, v]) => printable(`${k}=${Array.isArray(v) ? v.join('+') : v}`)).join(', ')
}

/** What a TLS socket says about the session and the server's certificate. */
export function describeTls (s: tls.TLSSocket, expectedName: string | null): TlsInfo {
  const c = s.getPeerCertificate(false)
  const hasCert = !!c && Object.keys(c).length > 0
  let cert: CertInfo | null = null
  let nameMatches: boolean | null = null
  const authErr = s.authorizationError ? String(s.authorizationError) : null
  if (hasCert) {
    const san = (c.subjectaltname ?? '').split(/,\s*/).filter(Boolean).map((x) => printable(x)).slice(0, 50)
    const validTo = new Date(c.valid_to)
    const subject = dn(c.subject as unknown as Record<string, string>)
    const issuer = dn(c.issuer as unknown as Record<string, string>)
    const cn = (c.subject as unknown as Record<string, string> | undefined)?.CN
    cert = {
      subject,
      subjectCN: typeof cn === 'string' ? printable(cn) : null,
      san,
      issuer,
      validFrom: new Date(c.valid_from).toISOString(),
      validTo: validTo.toISOString(),
      daysLeft: Math.floor((validTo.getTime() - Date.now()) / 86_400_000),
      fingerprint256: c.fingerprint256,
      selfSigned: /SELF_SIGNED/.test(authErr ?? '') || (subject === issuer && authErr !== null)
    }
    if (expectedName) nameMatches = tls.checkServerIdentity(expectedName.replace(/\.$/, ''), c) === undefined
  }
  const cipher = s.getCipher()
  return {
    protocol: s.getProtocol() ?? null,
    cipher: cipher ? cipher.standardName ?? cipher.name : null,
    authorized: s.authorized,
    authorizationError: authErr,
    nameMatches,
    expectedName,
    cert
  }
}

/** One transcript info line about a fresh TLS session, in the report's language (the protocol and cipher names stay as they are). */
export function tlsSummary (t: TlsInfo, lang: Lang = 'en'): string {
  const parts = [bi(lang, `TLS 接続を確立しました (TLS established): ${t.protocol ?? '?'} ${t.cipher ?? ''}`, `TLS established: ${t.protocol ?? '?'} ${t.cipher ?? ''}`).trim()]
  if (t.cert) {
    parts.push(bi(lang, `証明書 ${t.cert.subjectCN ?? t.cert.subject}、発行者 ${t.cert.issuer}、有効期限 ${dayText(t.cert.validTo, 'ja')}`, `certificate ${t.cert.subjectCN ?? t.cert.subject}, issuer ${t.cert.issuer}, valid until ${dayText(t.cert.validTo, 'en')}`))
    parts.push(t.authorized ? bi(lang, '証明書チェーンを検証できました', 'chain verified') : bi(lang, `証明書チェーンを検証できません (${t.authorizationError ?? 'unknown'})`, `chain not verified (${t.authorizationError ?? 'unknown'})`))
    if (t.nameMatches !== null) parts.push(t.nameMatches ? bi(lang, `名前が ${t.expectedName} と一致します`, `name matches ${t.expectedName}`) : bi(lang, `名前が ${t.expectedName} と一致しません`, `name does not match ${t.expectedName}`))
  } else {
    parts.push(bi(lang, '証明書なし', 'no certificate'))
  }
  return parts.join('; ')
}
