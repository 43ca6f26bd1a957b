// Per-caller and per-domain limits (@fastify/rate-limit), counted in the
// shared store's Redis when there is one. Routes make their limiters with
// `app.createRateLimit()` and throw `RateLimitedError.over()` (src/errors.ts):
// one 429, answered by the app's error handler. Every failure of that Redis —
// refused, closed, timed out, a reply error, whatever host and port — comes
// out as the store's own StoreDownError, so the error handler fails closed
// with 503 without guessing from an error message.
import { createRequire } from 'node:module'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { Redis, Cluster } from 'ioredis'
import { RateLimitedError, StoreDownError } from '../errors.js'
import type { Metrics } from './metrics.js'

type Cb = (err: Error | null, res: { current: number, ttl: number } | null) => void
interface RlStore {
  incr: (key: string, cb: Cb, timeWindow: number, max: number) => void
  read: (key: string, cb: Cb, timeWindow: number, max: number) => void
}
/** What the plugin hands a store and its children: the merged limiter options (route-less for createRateLimit()). */
interface StoreParams { continueExceeding?: boolean, exponentialBackoff?: boolean, routeInfo?: { method?: string, url?: string } }

// The plugin ships its Redis store as CommonJS without a type declaration: its constructor, typed here.
const PluginRedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis | Cluster, key: string) => RlStore

function wrapped (err: Error | null): Error | null {
  if (!err || err instanceof StoreDownError) return err
  return new StoreDownError(`the shared store (Redis) failed: ${err.message}`)
}

/**
 * The plugin's own Redis store, with every error turned into StoreDownError,
 * and keys that read: `<REDIS_PREFIX>rl:ip:dns:192.0.2.1`. The plugin's own
 * child store names a limiter by its route's method and URL; a limiter made by
 * `app.createRateLimit()` has no route, so its keys read
 * `rl:undefinedundefined-ip:dns:…`. Here such a limiter keeps the name space,
 * and its keyGenerator names it (`ip:<check>:`, `domain:<check>:`,
 * `ip:tools:`); a route's own `config.rateLimit` gets `<METHOD>:<url>:`.
 */
class GuardedStore implements RlStore {
  private readonly inner: RlStore
  constructor (private readonly redis: Redis | Cluster, private readonly prefix: string, params: StoreParams) {
    this.inner = new PluginRedisStore(!!params.continueExceeding, !!params.exponentialBackoff, redis, prefix)
  }

  incr (key: string, cb: Cb, timeWindow: number, max: number): void {
    try {
      this.inner.incr(key, (err, res) => cb(wrapped(err), res), timeWindow, max)
    } catch (err) {
      cb(wrapped(err instanceof Error ? err : new Error(String(err))), null)
    }
  }

  read (key: string, cb: Cb, timeWindow: number, max: number): void {
    try {
      this.inner.read(key, (err, res) => cb(wrapped(err), res), timeWindow, max)
    } catch (err) {
      cb(wrapped(err instanceof Error ? err : new Error(String(err))), null)
    }
  }

  child (params: StoreParams): RlStore {
    const route = params.routeInfo?.url ? `${params.routeInfo.method}:${params.routeInfo.url}:` : ''
    return new GuardedStore(this.redis, this.prefix + route, params)
  }
}

/** The plugin takes a store class and calls `new Store(globalParams)`. */
function storeClass (redis: Redis | Cluster, nameSpace: string) {
  return class extends GuardedStore { constructor (params: StoreParams) { super(redis, nameSpace, params) } }
}

export interface RateLimitPluginOptions {
  redis: Redis | Cluster | null
  nameSpace: string
  metrics: Metrics
}

async function rateLimitPlugin (app: FastifyInstance, o: RateLimitPluginOptions): Promise<void> {
  const store = o.redis ? storeClass(o.redis, o.nameSpace) : undefined
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    ...(store ? { store: store as never } : {}),
    // Only a route's own config.rateLimit reaches this builder (the check and tool routes
    // call their createRateLimit() limiters and throw RateLimitedError.over themselves):
    // the same 429, whose text the error handler writes in the caller's language.
    errorResponseBuilder: (req, ctx) => {
      o.metrics.rateLimited()
      const window = (req.routeOptions.config as { rateLimit?: { timeWindow?: unknown } }).rateLimit?.timeWindow
      return RateLimitedError.over({ kind: 'check', max: ctx.max, windowSeconds: typeof window === 'number' ? Math.round(window / 1000) : 60 }, Math.ceil(ctx.ttl / 1000))
    }
  })
}
// Not encapsulated (fp): app.createRateLimit() is the routes' way to a limiter.
export default fp(rateLimitPlugin, { name: 'mxprobe-rate-limit' })
