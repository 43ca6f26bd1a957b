// Redis store: several mxprobe instances share reports, live events and
// concurrency slots. Keys carry a hash tag per report ({id}) so that a
// Redis Cluster keeps a report and its events on one shard; every other
// command touches exactly one key (slots, recent, rate-limit counters), so
// the same code runs against one Redis or a Cluster.
// A cluster is configured as `redis+cluster://[:password@]host:port,host:port`
// (config.ts also turns REDIS_CLUSTER_NODES into that form).
import { Redis, Cluster, type RedisOptions } from 'ioredis'
import type { Store, InboundAddress, InboundTransitionOptions } from './types.js'
import type { Report, ReportEvent } from '../core/report.js'
import { StoreDownError } from '../errors.js'

/**
 * Client options that fail fast: with ioredis defaults a request waits for
 * reconnects for many seconds while Redis is down. We want an error within
 * a second (the probe endpoints answer 503) and reconnection in the background.
 */
export function redisOptions (extra: RedisOptions = {}): RedisOptions {
  return {
    maxRetriesPerRequest: 1,
    connectTimeout: 500,
    commandTimeout: 1000,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
    // Commands issued in the same tick go out in one write: under load (500 checks
    // starting at once, bench:tarpit) one syscall per command was the main CPU cost.
    enableAutoPipelining: true,
    ...extra
  }
}

// Acquire a slot in a sorted set scored by expiry: expired entries are
// dropped first, so a crashed instance cannot leak capacity for ever.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`

// Move a one-time address between states in one step, so that of several
// instances (RCPT on one, the expiry sweep on another) exactly one wins.
// ARGV: from-states (comma list), to, now, staleClaimMs (-1: none), requireLive (0/1)
const TRANSITION = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {0, false} end
local rec = cjson.decode(raw)
local now = tonumber(ARGV[3])
local stale = tonumber(ARGV[4])
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == rec.state then allowed = true end end
if not allowed and stale >= 0 and rec.state == 'receiving' and (tonumber(rec.claimedAt) or 0) + stale <= now then allowed = true end
if ARGV[5] == '1' and now >= tonumber(rec.expiresAt) then allowed = false end
if not allowed then return {0, raw} end
rec.state = ARGV[2]
if ARGV[2] == 'receiving' then rec.claimedAt = now end
local out = cjson.encode(rec)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return {1, out}`

/** Parse `redis+cluster://[:pass@]h:p,h:p[/]` (rediss+cluster for TLS); null for a plain URL. */
export function parseClusterUrl (url: string): { nodes: Array<{ host: string, port: number }>, password?: string, username?: string, tls: boolean } | null {
  const m = url.match(/^(rediss?)\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)\/?$/)
  if (!m) return null
  const nodes = m[4].split(',').map((hp) => {
    const v6 = hp.match(/^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/)
    const [host, port] = v6 ? [v6[1], v6[2]] : hp.split(':')
    return { host, port: Number(port ?? 6379) }
  })
  if (!nodes.length || nodes.some((n) => !n.host || !Number.isInteger(n.port) || n.port < 1 || n.port > 65535)) return null
  return {
    nodes,
    username: m[2] ? decodeURIComponent(m[2]) : undefined,
    password: m[3] ? decodeURIComponent(m[3]) : undefined,
    tls: m[1] === 'rediss'
  }
}

/** Hash tag of a report id: `{id}` (ids are base64url, never contain braces). */
export function tag (id: string): string { return `{${id}}` }

export class RedisStore implements Store {
  readonly kind = 'redis' as const
  /** a single Redis or a Cluster; both speak the commands used here (and @fastify/rate-limit's) */
  readonly client: Redis | Cluster
  readonly cluster: boolean
  private sub: Redis | Cluster | null = null
  /**
   * Followers of each report on this instance, sharing one SUBSCRIBE. A
   * follower is counted before the SUBSCRIBE is answered, so one leaving
   * meanwhile cannot unsubscribe the channel under another still joining.
   */
  private readonly followers = new Map<string, { fns: Set<(ev: ReportEvent) => void>, ready: Promise<unknown> }>()
  private readonly prefix: string

  constructor (url: string, prefix = 'mxprobe:') {
    this.prefix = prefix
    const c = parseClusterUrl(url)
    this.cluster = !!c
    if (c) {
      const nodeOptions = redisOptions({ password: c.password, username: c.username, ...(c.tls ? { tls: {} } : {}) })
      this.client = new Cluster(c.nodes, {
        redisOptions: nodeOptions,
        enableOfflineQueue: false,
        clusterRetryStrategy: (times) => Math.min(times * 100, 1000),
        slotsRefreshTimeout: 1000
      })
    } else {
      this.client = new Redis(url, redisOptions())
    }
    // Errors are reported through commands (mapped to 503); the event would otherwise crash the process.
    this.client.on('error', () => {})
  }

  private k (...parts: string[]): string { return this.prefix + parts.join(':') }

  isReady () { return this.client.status === 'ready' }

  /**
   * Wait (at most `ms`) for the first connection, so a freshly started instance
   * does not answer 503 to its first requests. False when Redis is not there
   * yet: start-up goes on, probe endpoints fail closed until it answers.
   */
  async waitReady (ms: number): Promise<boolean> {
    if (this.isReady()) return true
    return await new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => { clearTimeout(timer); this.client.off('ready', onReady); resolve(ok) }
      const onReady = () => done(true)
      const timer = setTimeout(() => done(this.isReady()), ms)
      this.client.on('ready', onReady)
    })
  }

  private async guard<T> (fn: () => Promise<T>): Promise<T> {
    if (!this.isReady()) throw new StoreDownError()
    try {
      return await fn()
    } catch (err) {
      if (err instanceof StoreDownError) throw err
      throw new StoreDownError(`the shared store (Redis) failed: ${(err as Error).message}`)
    }
  }

  async ping () { await this.guard(() => this.client.ping()) }

  async saveReport (report: Report, ttlSeconds: number) {
    await this.guard(() => this.client.set(this.k('report', tag(report.id)), JSON.stringify(report), 'EX', ttlSeconds))
  }

  async getReport (id: string) {
    const s = await this.guard(() => this.client.get(this.k('report', tag(id))))
    return s ? JSON.parse(s) as Report : null
  }

  async appendEvent (id: string, ev: ReportEvent, ttlSeconds: number) {
    const key = this.k('events', tag(id))
    const payload = JSON.stringify(ev)
    // PUBLISH has no key, so in a Cluster the transaction stays on the events key's shard;
    // classic pub/sub messages reach subscribers connected to any node of the cluster.
    await this.guard(() => this.client.multi()
      .rpush(key, payload)
      .expire(key, ttlSeconds)
      .publish(this.k('ev', id), payload)
      .exec())
  }

  async appendEvents (id: string, evs: ReportEvent[], ttlSeconds: number) {
    if (!evs.length) return
    const key = this.k('events', tag(id))
    const channel = this.k('ev', id)
    const payloads = evs.map((ev) => JSON.stringify(ev))
    // One transaction, one round trip: the events in order, then one message per event
    // (followers on every instance see each event as appendEvent would publish it).
    const m = this.client.multi().rpush(key, ...payloads).expire(key, ttlSeconds)
    for (const p of payloads) m.publish(channel, p)
    await this.guard(() => m.exec())
  }

  async getEvents (id: string, after: number) {
    const raw = await this.guard(() => this.client.lrange(this.k('events', tag(id)), 0, -1))
    return raw.map((s) => JSON.parse(s) as ReportEvent).filter((e) => e.seq > after)
  }

  private async subscriber (): Promise<Redis | Cluster> {
    if (this.sub) return this.sub
    // The subscriber queues commands while (re)connecting: ioredis resubscribes by itself after a reconnect.
    const sub = this.client instanceof Cluster
      ? this.client.duplicate(undefined, { enableOfflineQueue: true })
      : this.client.duplicate(redisOptions({ enableOfflineQueue: true }))
    sub.on('error', () => {})
    sub.on('message', (channel: string, message: string) => {
      const id = channel.slice(this.k('ev', '').length)
      const set = this.followers.get(id)?.fns
      if (!set) return
      const ev = JSON.parse(message) as ReportEvent
      for (const f of set) f(ev)
    })
    this.sub = sub
    return sub
  }

  async subscribe (id: string, onEvent: (ev: ReportEvent) => void) {
    if (!this.isReady()) throw new StoreDownError()
    const sub = await this.subscriber()
    const channel = this.k('ev', id)
    let entry = this.followers.get(id)
    if (!entry) {
      entry = { fns: new Set(), ready: sub.subscribe(channel) }
      this.followers.set(id, entry)
    }
    const mine = entry
    mine.fns.add(onEvent)
    const leave = async (): Promise<void> => {
      if (!mine.fns.delete(onEvent)) return
      if (mine.fns.size === 0 && this.followers.get(id) === mine) {
        this.followers.delete(id)
        // Commands on one connection run in order: this follows any SUBSCRIBE still in flight.
        await sub.unsubscribe(channel).catch(() => {})
      }
    }
    try {
      await mine.ready
    } catch (err) {
      await leave()
      throw err
    }
    return leave
  }

  async acquireSlot (key: string, token: string, max: number, ttlMs: number) {
    const now = Date.now()
    const r = await this.guard(() => this.client.eval(ACQUIRE, 1, this.k('slots', key), String(now), String(now + ttlMs), String(max), token, String(ttlMs * 2)))
    return r === 1
  }

  async releaseSlot (key: string, token: string) {
    await this.guard(() => this.client.zrem(this.k('slots', key), token))
  }

  async setRecent (key: string, value: string, ttlSeconds: number) {
    await this.guard(() => this.client.set(this.k('recent', key), value, 'EX', ttlSeconds))
  }

  async getRecent (key: string) {
    return await this.guard(() => this.client.get(this.k('recent', key)))
  }

  async inboundCreate (rec: InboundAddress, ttlSeconds: number) {
    await this.guard(() => this.client.set(this.k('inbound', rec.token), JSON.stringify(rec), 'EX', ttlSeconds))
    await this.guard(() => this.client.zadd(this.k('inbound-due'), rec.expiresAt, rec.token))
  }

  async inboundGet (token: string) {
    const s = await this.guard(() => this.client.get(this.k('inbound', token)))
    return s ? JSON.parse(s) as InboundAddress : null
  }

  async inboundTransition (token: string, from: Array<InboundAddress['state']>, to: InboundAddress['state'], now: number, opts: InboundTransitionOptions = {}) {
    const r = await this.guard(() => this.client.eval(TRANSITION, 1, this.k('inbound', token), from.join(','), to, String(now), String(opts.staleClaimMs ?? -1), opts.requireLive ? '1' : '0')) as [number, string | null]
    return { ok: r[0] === 1, rec: r[1] ? JSON.parse(r[1]) as InboundAddress : null }
  }

  async inboundDue (now: number, limit: number) {
    return await this.guard(() => this.client.zrangebyscore(this.k('inbound-due'), '-inf', String(now), 'LIMIT', 0, limit))
  }

  async inboundSettled (token: string) {
    await this.guard(() => this.client.zrem(this.k('inbound-due'), token))
  }

  async inboundDueAt (token: string, at: number) {
    await this.guard(() => this.client.zadd(this.k('inbound-due'), at, token))
  }

  async close () {
    await Promise.allSettled([this.client.quit(), this.sub?.quit()])
    this.client.disconnect()
    this.sub?.disconnect()
  }
}
