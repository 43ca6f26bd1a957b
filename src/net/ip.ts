// IP literals as numbers, so that range checks are plain integer comparisons
// we can test at every edge, instead of string tricks or a library's guesses.

export type Family = 4 | 6

export interface Ip {
  family: Family
  /** 32-bit (v4) or 128-bit (v6) value */
  value: bigint
  /** canonical text: dotted quad, or RFC 5952 compressed IPv6 */
  text: string
}

const V4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

/** Strict dotted-quad IPv4: four decimal parts 0..255, no leading zeros, no octal/hex/short forms. */
export function parseIpv4 (s: string): bigint | null {
  const parts = s.split('.')
  if (parts.length !== 4) return null
  let v = 0n
  for (const p of parts) {
    if (!V4_PART.test(p)) return null
    v = (v << 8n) | BigInt(Number(p))
  }
  return v
}

/** IPv6 in any RFC 4291 text form, including an embedded dotted quad; no zone ids. */
export function parseIpv6 (s: string): bigint | null {
  if (s.length === 0 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return null
  let tail: bigint[] = []
  let str = s
  const lastColon = str.lastIndexOf(':')
  if (str.includes('.')) {
    const v4 = parseIpv4(str.slice(lastColon + 1))
    if (v4 === null) return null
    str = str.slice(0, lastColon + 1) + '0:0'
    tail = [v4 >> 16n, v4 & 0xffffn]
  }
  const dbl = str.indexOf('::')
  if (dbl !== -1 && str.indexOf('::', dbl + 1) !== -1) return null
  let groups: string[]
  if (dbl !== -1) {
    const head = str.slice(0, dbl) === '' ? [] : str.slice(0, dbl).split(':')
    const rest = str.slice(dbl + 2) === '' ? [] : str.slice(dbl + 2).split(':')
    const missing = 8 - head.length - rest.length
    if (missing < 1) return null
    groups = [...head, ...Array(missing).fill('0'), ...rest]
  } else {
    groups = str.split(':')
  }
  if (groups.length !== 8) return null
  let v = 0n
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null
    v = (v << 16n) | BigInt(parseInt(g, 16))
  }
  if (tail.length) v = (v >> 32n << 32n) | (tail[0] << 16n) | tail[1]
  return v
}

export function formatIpv4 (v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.')
}

/** RFC 5952: lower case, longest run (>1) of zero groups compressed, first such run on ties. */
export function formatIpv6 (v: bigint): string {
  const g: number[] = []
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn))
  let bestStart = -1; let bestLen = 0
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (bestStart === -1) return hex.join(':')
  const left = hex.slice(0, bestStart).join(':')
  const right = hex.slice(bestStart + bestLen).join(':')
  return `${left}::${right}`
}

/** the upper 96 bits of ::ffff:0:0/96 */
const V4_MAPPED_PREFIX = 0xffffn

/**
 * Parse an IP literal; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes the IPv4
 * address, because a dual-stack socket reports IPv4 peers that way and the
 * same caller must be the same caller everywhere.
 */
export function parseIp (input: string): Ip | null {
  if (typeof input !== 'string') return null
  const s = input.trim()
  const v4 = parseIpv4(s)
  if (v4 !== null) return { family: 4, value: v4, text: formatIpv4(v4) }
  const v6 = parseIpv6(s)
  if (v6 === null) return null
  if ((v6 >> 32n) === V4_MAPPED_PREFIX) {
    const inner = v6 & 0xffffffffn
    return { family: 4, value: inner, text: formatIpv4(inner) }
  }
  return { family: 6, value: v6, text: formatIpv6(v6) }
}

/** Canonical text of an IP literal, or null. */
export function normalizeIp (input: string): string | null {
  return parseIp(input)?.text ?? null
}

export interface Cidr {
  family: Family
  base: bigint
  prefix: number
  text: string
}

export function parseCidr (input: string): Cidr | null {
  const s = input.trim()
  const slash = s.indexOf('/')
  const addr = slash === -1 ? s : s.slice(0, slash)
  // Parse without v4-mapped folding: a CIDR says exactly which family it means.
  const v4 = parseIpv4(addr)
  const v6 = v4 === null ? parseIpv6(addr) : null
  if (v4 === null && v6 === null) return null
  const family: Family = v4 !== null ? 4 : 6
  const bits = family === 4 ? 32 : 128
  let prefix = bits
  if (slash !== -1) {
    const p = s.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p)) return null
    prefix = Number(p)
    if (prefix > bits) return null
  }
  const value = (v4 ?? v6) as bigint
  const base = mask(value, prefix, bits)
  const text = `${family === 4 ? formatIpv4(base) : formatIpv6(base)}/${prefix}`
  return { family, base, prefix, text }
}

function mask (v: bigint, prefix: number, bits: number): bigint {
  if (prefix === 0) return 0n
  const hostBits = BigInt(bits - prefix)
  return (v >> hostBits) << hostBits
}

export function cidrContains (c: Cidr, ip: Ip): boolean {
  if (c.family !== ip.family) return false
  return mask(ip.value, c.prefix, c.family === 4 ? 32 : 128) === c.base
}

/** The key under which a caller is rate-limited: the address for IPv4, its /64 for IPv6 (one home gets a /64 or more). */
export function rateLimitKey (ip: Ip): string {
  if (ip.family === 4) return ip.text
  return `${formatIpv6(mask(ip.value, 64, 128))}/64`
}

export function sameIp (a: string, b: string): boolean {
  const x = parseIp(a); const y = parseIp(b)
  return x !== null && y !== null && x.family === y.family && x.value === y.value
}
