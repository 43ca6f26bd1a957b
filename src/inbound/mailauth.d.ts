// The parts of mailauth (postalsys, CommonJS, untyped) that the send test uses.
declare module 'mailauth' {
  export type Resolver = (name: string, rrtype: string) => Promise<unknown[]>
  export interface AuthStatus { result: string, comment?: string | false, aligned?: string | false, underSized?: number | false, policy?: Record<string, unknown> }
  export interface DkimResult {
    signingDomain?: string
    selector?: string
    algo?: string
    format?: string
    status: AuthStatus
    info?: string
  }
  export interface AuthenticateResult {
    dkim: { headerFrom?: string[], envelopeFrom?: string | false, results?: DkimResult[] }
    spf: { domain: string, status: AuthStatus, info?: string } | false
    dmarc: { domain?: string, policy?: string, p?: string, sp?: string, status: AuthStatus & { header?: Record<string, unknown> }, alignment?: Record<string, unknown>, info?: string } | false
    arc?: unknown
    headers?: string
  }
  export function authenticate (input: Buffer | string, opts: {
    ip: string
    helo?: string
    sender?: string
    mta?: string
    resolver?: Resolver
    disableBimi?: boolean
    disableArc?: boolean
    minBitLength?: number
  }): Promise<AuthenticateResult>
}

declare module 'mailauth/lib/dkim/sign.js' {
  export function dkimSign (input: Buffer | string, opts: {
    signatureData: Array<{ signingDomain: string, selector: string, privateKey: string, algorithm?: string, canonicalization?: string }>
  }): Promise<{ signatures: string, errors: unknown[] }>
}

declare module 'mailauth/lib/spf/index.js' {
  import type { Resolver, AuthStatus } from 'mailauth'
  export function spf (opts: { sender?: string, ip: string, helo?: string, mta?: string, resolver?: Resolver }): Promise<{ domain: string, status: AuthStatus, info?: string }>
}

declare module 'mailauth/lib/dkim/verify.js' {
  import type { Resolver, DkimResult } from 'mailauth'
  export function dkimVerify (input: Buffer | string, opts: { resolver?: Resolver, sender?: string, minBitLength?: number }): Promise<{
    headerFrom?: string[]
    envelopeFrom?: string | false
    results?: Array<DkimResult & { id?: string }>
  }>
}

declare module 'mailauth/lib/dmarc/index.js' {
  import type { Resolver, AuthStatus } from 'mailauth'
  export function dmarc (opts: {
    headerFrom: string[] | string
    spfDomains: string[]
    dkimDomains: Array<{ id?: string, domain?: string, aligned?: string | false, underSized?: number | false }>
    resolver?: Resolver
  }): Promise<{ domain?: string, policy?: string, p?: string, status: AuthStatus } | false>
}
