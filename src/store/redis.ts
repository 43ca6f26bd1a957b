// Redis store: several mxprobe instances share reports, live events and
// concurrency slots. Keys carry a hash tag per report ({id}) so that a
// Redis Cluster keeps a report and its events on one shard.
import { Redis, type RedisOptions } from 'ioredis'
import type { Store } from './types.js'
import type { Report, ReportEvent } from '../checks/report.js'
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

export class RedisStore implements Store {
  readonly kind = 'redis' as const
  readonly client: Redis
  private sub: Redis | null = null
  /**
   * Followers of each report on this instance, sharing one SUBSCRIBE. A
   * follower is counted before the SUBSCRIBE is answered, so one leaving
   * meanwhile cannot unsubscribe the channel under another still joining.
   */
  private readonly followers = new Map<string, { fns: Set<(ev: ReportEvent) => void>, ready: Promise<unknown> }>()
  private readonly prefix: string

  constructor (url: string, prefix = 'mxprobe:') {
    this.prefix = prefix
    this.client = new Redis(url, redisOptions())
    // Errors are reported through commands (mapped to 503); the event would otherwise crash the process.
    this.client.on('error', () => {})
  }

  private k (...parts: string[]): string { return this.prefix + parts.join(':') }

  isReady () { return this.client.status === 'ready' }

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
    await this.guard(() => this.client.set(this.k('report', `{${report.id}}`), JSON.stringify(report), 'EX', ttlSeconds))
  }

  async getReport (id: string) {
    const s = await this.guard(() => this.client.get(this.k('report', `{${id}}`)))
    return s ? JSON.parse(s) as Report : null
  }

  async appendEvent (id: string, ev: ReportEvent, ttlSeconds: number) {
    const key = this.k('events', `{${id}}`)
    const payload = JSON.stringify(ev)
    await this.guard(() => this.client.multi()
      .rpush(key, payload)
      .expire(key, ttlSeconds)
      .publish(this.k('ev', id), payload)
      .exec())
  }

  async getEvents (id: string, after: number) {
    const raw = await this.guard(() => this.client.lrange(this.k('events', `{${id}}`), 0, -1))
    return raw.map((s) => JSON.parse(s) as ReportEvent).filter((e) => e.seq > after)
  }

  private async subscriber (): Promise<Redis> {
    if (this.sub) return this.sub
    const sub = this.client.duplicate(redisOptions({ enableOfflineQueue: true }))
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

  async close () {
    await Promise.allSettled([this.client.quit(), this.sub?.quit()])
    this.client.disconnect()
    this.sub?.disconnect()
  }
}
