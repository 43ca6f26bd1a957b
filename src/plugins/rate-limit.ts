// Per-caller and per-domain limits (@fastify/rate-limit), counted in the
// shared store's Redis when there is one. Every failure of that Redis —
// refused, closed, timed out, a reply error, whatever host and port — comes
// out as the store's own StoreDownError, so the error handler fails closed
// with 503 without guessing from an error message.
import { createRequire } from 'node:module'
import type { FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { Redis, Cluster } from 'ioredis'
import { StoreDownError } from '../errors.js'
import type { Metrics } from './metrics.js'

type Cb = (err: Error | null, res: { current: number, ttl: number } | null) => void
interface RlStore {
  incr: (key: string, cb: Cb, timeWindow: number, max: number) => void
  read?: (key: string, cb: Cb, timeWindow: number, max: number) => void
  child: (routeOptions: unknown) => RlStore
}

const PluginRedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: unknown, key?: string) => RlStore

function wrapped (err: Error | null): Error | null {
  if (!err || err instanceof StoreDownError) return err
  return new StoreDownError(`the shared store (Redis) failed: ${err.message}`)
}

/** The plugin's own Redis store, with every error turned into StoreDownError. */
class GuardedStore implements RlStore {
  constructor (private readonly inner: RlStore) {}
  incr (key: string, cb: Cb, timeWindow: number, max: number): void {
    try {
      this.inner.incr(key, (err, res) => cb(wrapped(err), res), timeWindow, max)
    } catch (err) {
      cb(wrapped(err as Error), null)
    }
  }

  read (key: string, cb: Cb, timeWindow: number, max: number): void {
    try {
      this.inner.read!(key, (err, res) => cb(wrapped(err), res), timeWindow, max)
    } catch (err) {
      cb(wrapped(err as Error), null)
    }
  }

  child (routeOptions: unknown): RlStore { return new GuardedStore(this.inner.child(routeOptions)) }
}

export interface RateLimitPluginOptions {
  redis: Redis | Cluster | null
  nameSpace: string
  metrics: Metrics
}

export default async function rateLimitPlugin (app: FastifyInstance, o: RateLimitPluginOptions): Promise<void> {
  const redis = o.redis
  const store = redis
    ? class {
      constructor (params: { continueExceeding?: boolean, exponentialBackoff?: boolean }) {
        return new GuardedStore(new PluginRedisStore(!!params.continueExceeding, !!params.exponentialBackoff, redis, o.nameSpace))
      }
    }
    : undefined
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    ...(store ? { store: store as never } : {}),
    errorResponseBuilder: (_req, ctx) => {
      o.metrics.rateLimited()
      const e = new Error(`rate limit exceeded: at most ${ctx.max} such checks per window; try again in ${ctx.after}`) as Error & { statusCode: number, code: string, retryAfter: number }
      e.statusCode = 429
      e.code = 'rate_limited'
      e.retryAfter = Math.max(1, Math.ceil(ctx.ttl / 1000))
      return e
    }
  })
}
;(rateLimitPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true
