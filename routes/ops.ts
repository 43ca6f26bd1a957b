// For operators: liveness, readiness, Prometheus metrics.
// /healthz says only "the process answers" (a restart is the cure when it does
// not); /readyz says "send me traffic": the shared store answers and the event
// loop is not saturated (src/plugins/pressure.ts, the one event-loop monitor). A load balancer
// takes a not-ready instance out of rotation without killing its running checks.
import type { FastifyInstance } from 'fastify'
import { callerIp } from './helpers.js'
import { parseIp, cidrContains } from '../src/net/ip.js'

// Probed every few seconds by load balancers and Prometheus: app.ts does not
// log these requests one by one (QUIET_PATHS).
export default async function opsRoutes (app: FastifyInstance): Promise<void> {
  // The first event-loop samples after start-up measure module loading and
  // JIT warm-up, not load: a fresh instance is not "under pressure" for them.
  const warmUntil = Date.now() + app.mx.config.readyWarmupMs
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const store = app.mx.store.kind
    const limit = app.mx.config.readyMaxEventLoopDelayMs
    const eventLoopDelayMs = Math.round(app.mx.loop.delayMs * 10) / 10
    const running = app.mx.runner.running.size
    try {
      await app.mx.store.ping()
    } catch {
      return reply.code(503).send({ status: 'unavailable', store, eventLoopDelayMs, running, message: 'the shared store is unreachable' })
    }
    if (eventLoopDelayMs > limit && Date.now() > warmUntil) {
      return reply.code(503).send({ status: 'under_pressure', store, eventLoopDelayMs, running, message: `event-loop delay ${eventLoopDelayMs} ms is over ${limit} ms` })
    }
    return { status: 'ready', store, eventLoopDelayMs, running }
  })

  // Metrics tell an outsider how busy mxprobe is and what it probed: only for METRICS_ALLOW_CIDRS
  // (default loopback), judged on the caller IP as mxprobe sees it (a request through a trusted
  // proxy counts as the client's, not the proxy's own loopback address).
  const allowed = app.mx.config.metricsAllowCidrs
  app.get('/metrics', {
    schema: { hide: true },
    onRequest: async (req, reply) => {
      const ip = parseIp(callerIp(req))
      if (!ip || !allowed.some((c) => cidrContains(c, ip))) {
        return reply.code(403).send({ error: 'forbidden', message: 'metrics are served only to the addresses in METRICS_ALLOW_CIDRS' })
      }
    }
  }, async (_req, reply) => {
    reply.header('content-type', app.mx.metrics.registry.contentType)
    return await app.mx.metrics.registry.metrics()
  })
}
