// The one rule every outbound connection obeys: only the caller's own
// address, never a special-purpose range (unless the operator exempts it),
// never an opted-out network, only the mail ports.
import { parseIp, parseCidr, cidrContains, type Cidr, type Ip } from './ip.js'
import { specialRangeOf, type SpecialRange } from './special.js'

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

/** The full rule: the target must be the caller's own address, and permissible, on a mail port. */
export function targetVerdict (callerIp: string, targetIp: string, port: number, opts: PolicyOptions): PolicyVerdict {
  if (!ALLOWED_PORTS.includes(port)) return { ok: false, code: 'target_forbidden', reason: `port ${port} is not a mail port mxprobe tests` }
  const caller = parseIp(callerIp)
  const target = parseIp(targetIp)
  if (!caller || !target) return { ok: false, code: 'target_forbidden', reason: 'not an IP literal' }
  if (caller.family !== target.family || caller.value !== target.value) {
    return { ok: false, code: 'ip_mismatch', reason: `${target.text} is not the caller's address ${caller.text}` }
  }
  return addressVerdict(target.text, opts)
}
