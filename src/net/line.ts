// What kind of line the caller is on, from the addresses it proved: MAP-E
// (the proven IPv4 address follows from the proven IPv6 prefix by a known
// rule, RFC 7597) or DS-Lite (an address in a known range of a DS-Lite
// service). Either way, IPv4 port 25 can never reach the home. Only rules
// whose source can be named are known: the operator's LINE_RULES_FILE (JSON,
// the shape of LineRules below); mxprobe itself ships none, because the
// providers push their rules to the routers they rent and what circulates
// are copies users made (docs/LINE-RULES.md says how to add one).
import { mapAddress, ownsPort, type MapRule, type PortRange } from './map-e.js'
import { parseCidr, parseIp, cidrContains } from './ip.js'
import type { CallerAddresses } from './caller.js'

export interface MapERule extends MapRule {
  /** the service as people call it, e.g. "v6プラス" */
  service: string
  /** where the rule was published (required: no unsourced rule is used) */
  source: string
}

export interface DsLiteRange {
  service: string
  source: string
  /** IPv6 prefixes of the service's homes, and/or IPv4 prefixes of its AFTR address pool */
  prefixes: string[]
}

export interface LineRules { mapE: MapERule[], dsLite: DsLiteRange[] }

export type LineFacts =
  | { kind: 'map-e', service: string, source: string, ipv4: string, ipv6Prefix: string, psid: number, ports: PortRange[], portCount: number, port25: boolean }
  | { kind: 'ds-lite', service: string, source: string, address: string }
  /** both families proven, no rule matched: the line type could not be determined */
  | { kind: 'unknown' }

export const NO_LINE_RULES: LineRules = { mapE: [], dsLite: [] }

/** The rules of an operator's file, each checked; a rule without a source or with impossible numbers is an error. */
export function parseLineRules (json: unknown): LineRules {
  const o = (json ?? {}) as { mapE?: unknown, dsLite?: unknown }
  const list = (v: unknown, name: string): Array<Record<string, unknown>> => {
    if (v === undefined) return []
    if (!Array.isArray(v)) throw new Error(`LINE_RULES_FILE: ${name} must be a list`)
    return v as Array<Record<string, unknown>>
  }
  const text = (x: Record<string, unknown>, k: string, where: string): string => {
    if (typeof x[k] !== 'string' || !(x[k] as string).trim()) throw new Error(`LINE_RULES_FILE: ${where} needs "${k}"`)
    return (x[k] as string).trim()
  }
  const mapE = list(o.mapE, 'mapE').map((x, i): MapERule => {
    const where = `mapE[${i}]`
    const rule: MapERule = { service: text(x, 'service', where), source: text(x, 'source', where), ipv6Prefix: text(x, 'ipv6Prefix', where), ipv4Prefix: text(x, 'ipv4Prefix', where), eaBits: Number(x.eaBits), ...(x.psidOffset === undefined ? {} : { psidOffset: Number(x.psidOffset) }) }
    if (!mapAddressable(rule)) throw new Error(`LINE_RULES_FILE: ${where} is not a valid MAP rule (RFC 7597 section 5)`)
    return rule
  })
  const dsLite = list(o.dsLite, 'dsLite').map((x, i): DsLiteRange => {
    const where = `dsLite[${i}]`
    const prefixes = Array.isArray(x.prefixes) ? x.prefixes.map(String) : []
    if (!prefixes.length || prefixes.some((p) => !parseCidr(p))) throw new Error(`LINE_RULES_FILE: ${where} needs "prefixes", a list of CIDRs`)
    return { service: text(x, 'service', where), source: text(x, 'source', where), prefixes }
  })
  return { mapE, dsLite }
}

function mapAddressable (r: MapRule): boolean {
  const v6 = parseCidr(r.ipv6Prefix)
  return !!v6 && v6.family === 6 && mapAddress(r, r.ipv6Prefix.split('/')[0]) !== null
}

/** The caller's line, when it proved both families; null when it proved only one (nothing can be said). */
export function recognizeLine (caller: CallerAddresses, rules: LineRules): LineFacts | null {
  const v4 = caller.of(4)
  const v6 = caller.of(6)
  if (!v4.length || !v6.length) return null
  for (const rule of rules.mapE) {
    for (const a6 of v6) {
      const m = mapAddress(rule, a6.ip)
      if (m && v4.some((a4) => a4.ip === m.ipv4)) {
        return { kind: 'map-e', service: rule.service, source: rule.source, ipv4: m.ipv4, ipv6Prefix: m.endUserPrefix, psid: m.psid, ports: m.ports, portCount: m.portCount, port25: ownsPort(m, 25) }
      }
    }
  }
  for (const range of rules.dsLite) {
    for (const a of [...v6, ...v4]) {
      const ip = parseIp(a.ip)
      if (ip && range.prefixes.some((p) => { const c = parseCidr(p); return !!c && cidrContains(c, ip) })) {
        return { kind: 'ds-lite', service: range.service, source: range.source, address: a.ip }
      }
    }
  }
  return { kind: 'unknown' }
}

/** Port ranges as people read them: 4112-4127, 8208-8223, … (first few, then the count). */
export function portsText (ports: PortRange[], max = 4): string {
  const shown = ports.slice(0, max).map((r) => r.from === r.to ? String(r.from) : `${r.from}-${r.to}`).join(', ')
  return ports.length > max ? `${shown}, …` : shown
}
