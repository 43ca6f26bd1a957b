// The DNS lookups one received mail may cause, bounded in all. Every lookup
// of the send test's analysis goes through one MailDnsBudget: each part has
// its own allowance (SPF keeps RFC 7208's 10-lookup rule inside mailauth;
// its allowance here also bounds the A/AAAA lookups of its mx and ptr
// mechanisms), and past an allowance the lookup fails at once (ELIMIT) without
// a packet sent. The counts go into the report. (The other lookups, PTR, HELO,
// the named domain's MX and the block lists, are fixed in number by the
// configuration, not by the mail.)
import type { Resolver } from 'mailauth'
import type { DnsClient } from '../dns/resolver.js'
import { MAX_SIGNATURES } from './bound.js'

export type LookupPart = 'spf' | 'spfHelo' | 'dkim' | 'dmarc'

/** Lookups allowed per part of the analysis, for one mail. */
export const LOOKUP_CAPS: Record<LookupPart, number> = {
  // 10 lookup mechanisms (RFC 7208 4.6.4) plus the A/AAAA of at most 10 mx or ptr names each, bounded here in all
  spf: 40,
  spfHelo: 20,
  // one key per verified signature
  dkim: MAX_SIGNATURES,
  // _dmarc of the From domain and of its organisational domain
  dmarc: 4
}

export class LimitError extends Error {
  code = 'ELIMIT'
  constructor (part: LookupPart) { super(`DNS lookup limit of this mail reached (${part}: ${LOOKUP_CAPS[part]})`) }
}

export class MailDnsBudget {
  readonly used: Record<LookupPart, number> = { spf: 0, spfHelo: 0, dkim: 0, dmarc: 0 }
  /** lookups refused for being over an allowance */
  refused = 0

  constructor (private readonly dns: DnsClient) {}

  get total (): number { return Object.values(this.used).reduce((a, b) => a + b, 0) }

  private take (part: LookupPart): void {
    if (this.used[part] >= LOOKUP_CAPS[part]) { this.refused++; throw new LimitError(part) }
    this.used[part]++
  }

  async resolve (part: LookupPart, name: string, type: string): Promise<unknown[]> {
    this.take(part)
    return await this.dns.resolve(name, type)
  }

  /** for mailauth's SPF: one part */
  resolver (part: LookupPart): Resolver {
    return async (name: string, type: string) => await this.resolve(part, name, type)
  }

  /** for the worker's questions: DKIM keys and DMARC records; anything else it asks counts as dmarc */
  workerResolve (name: string, type: string): Promise<unknown[]> {
    return this.resolve(/\._domainkey\./i.test(name) ? 'dkim' : 'dmarc', name, type)
  }
}
