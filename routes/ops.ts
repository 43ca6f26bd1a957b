// For operators: liveness, readiness, Prometheus metrics.
import type { FastifyInstance } from 'fastify'

export default async function opsRoutes (app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await app.mx.store.ping()
      return { status: 'ready', store: app.mx.store.kind }
    } catch {
      return reply.code(503).send({ status: 'unavailable', store: app.mx.store.kind, message: 'the shared store is unreachable' })
    }
  })

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', app.mx.metrics.registry.contentType)
    return await app.mx.metrics.registry.metrics()
  })
}
