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
    /** the ARC chain found while verifying (non-enumerable): the input of arc() */
    arc?: { chain?: unknown[] | false, lastEntry?: unknown, error?: unknown }
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

declare module 'mailauth/lib/arc/index.js' {
  import type { Resolver, AuthStatus } from 'mailauth'
  /** the chain: dkimVerify's non-enumerable `arc` property ({ chain, lastEntry, error }) */
  export function arc (data: unknown, opts: { resolver?: Resolver, minBitLength?: number }): Promise<{ status: AuthStatus & { shouldSeal?: boolean }, i?: number | false }>
  /** the ARC set (AAR, AMS, AS) a forwarder adds; the tests forward with it */
  export function sealMessage (input: Buffer | string, seal: { signingDomain: string, selector: string, privateKey: string, authResults: string, cv: string, i?: number }): Promise<Buffer>
}
