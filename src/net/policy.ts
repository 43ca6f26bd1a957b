// The one rule every outbound connection obeys: only an address inside the
// caller's proven addresses (the connection's own address plus each address
// proven by a valid proof; IPv4 exactly, IPv6 by home prefix), never a
// special-purpose range (unless the operator exempts it), never an
// opted-out network, only the mail ports.
import { parseIp, parseCidr, cidrContains, type Cidr, type Ip } from './ip.js'
import { specialRangeOf, type SpecialRange } from './special.js'
import { CallerAddresses } from './caller.js'

export const ALLOWED_PORTS: readonly number[] = [25, 110, 143, 465, 587, 993, 995]

export type RefusalCode = 'ip_mismatch' | 'target_forbidden'

export interface PolicyOptions {
  /** CIDRs exempt from the special-purpose block list (lab or LAN installs) */
  allowCidrs: Cidr[]
  /** networks that asked never to be probed (operator opt-out list) */
  denyCidrs: Cidr[]
}

export type PolicyVerdict =
  | { ok: true, ip: Ip }
  | { ok: false, code: RefusalCode, reason: string, range?: SpecialRange }

export function parseCidrList (text: string | undefined, what: string): Cidr[] {
  if (!text || !text.trim()) return []
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const c = parseCidr(s)
    if (!c) throw new Error(`${what}: "${s}" is not an IP address or CIDR`)
    return c
  })
}

/** Is `ip` a permissible target at all, independent of who asks? */
export function addressVerdict (ipText: string, opts: PolicyOptions): PolicyVerdict {
  const ip = parseIp(ipText)
  if (!ip) return { ok: false, code: 'target_forbidden', reason: 'not an IP literal' }
  if (opts.denyCidrs.some((c) => cidrContains(c, ip))) {
    return { ok: false, code: 'target_forbidden', reason: 'this network asked not to be probed (operator opt-out list)' }
  }
  const range = specialRangeOf(ip)
  if (range && !opts.allowCidrs.some((c) => cidrContains(c, ip))) {
    return { ok: false, code: 'target_forbidden', reason: `${ip.text} is in ${range.cidr} (${range.name}, ${range.rfc}), which is never a target`, range }
  }
  return { ok: true, ip }
}

/**
 * The full rule: the target must lie inside the caller's proven addresses
 * (IPv4 exactly, IPv6 within the proven home prefix), be permissible
 * (special ranges, TARGET_ALLOW_CIDRS, the opt-out list), on a mail port.
 * A plain string is the connection's address alone.
 */
export function targetVerdict (caller: CallerAddresses | string, targetIp: string, port: number, opts: PolicyOptions): PolicyVerdict {
  if (!ALLOWED_PORTS.includes(port)) return { ok: false, code: 'target_forbidden', reason: `port ${port} is not a mail port mxprobe tests` }
  const who = CallerAddresses.from(caller)
  const target = parseIp(targetIp)
  if (!target || who.connectionFamily === null) return { ok: false, code: 'target_forbidden', reason: 'not an IP literal' }
  if (!who.owns(target.text)) {
    return { ok: false, code: 'ip_mismatch', reason: `${target.text} is not one of the caller's addresses (${who.describe()})` }
  }
  return addressVerdict(target.text, opts)
}
