// The reverse name of a caller's address for GET /api/v1/ip, which is hit on
// every page load and by scripts polling for their new dynamic address: a
// reverse lookup per request would make it DNS-bound (bench:http). In-flight
// lookups are shared; answers are kept PTR_CACHE_MS, failures (no PTR,
// timeout, SERVFAIL) a shorter while too, so a resolver that fails is not
// asked again on every request. The checks themselves always ask DNS afresh.
import type { DnsClient } from './resolver.js'

export interface PtrCacheOptions {
  /** how long an answer is kept */
  ttlMs?: number
  /** how long a failure is kept */
  failTtlMs?: number
  /** addresses remembered at most */
  max?: number
}

interface Entry { expires: number, ptr: Promise<string | null> }

export class PtrCache {
  private readonly map = new Map<string, Entry>()
  private readonly ttlMs: number
  private readonly failTtlMs: number
  private readonly max: number

  constructor (private readonly dns: Pick<DnsClient, 'ptr'>, o: PtrCacheOptions = {}) {
    this.ttlMs = o.ttlMs ?? 30_000
    this.failTtlMs = o.failTtlMs ?? 5_000
    this.max = o.max ?? 10_000
  }

  get size (): number { return this.map.size }

  lookup (ip: string): Promise<string | null> {
    const now = Date.now()
    const hit = this.map.get(ip)
    if (hit && now < hit.expires) return hit.ptr
    if (this.map.size >= this.max) {
      for (const [k, v] of this.map) if (now >= v.expires) this.map.delete(k)
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string)
    }
    const entry: Entry = { expires: now + this.ttlMs, ptr: Promise.resolve(null) }
    entry.ptr = this.dns.ptr(ip).then((names) => names[0] ?? null, () => {
      // Kept, but briefly: the next request after failTtlMs asks again.
      entry.expires = Math.min(entry.expires, Date.now() + this.failTtlMs)
      return null
    })
    this.map.set(ip, entry)
    return entry.ptr
  }
}
