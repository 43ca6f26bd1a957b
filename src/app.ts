// Builds the fastify application: external plugins, our own services
// (store, DNS, guarded connector, check runner), then the routes. Tests
// build it with `buildApp()` and `inject()` requests; server.ts listens.
import Fastify, { LogController, type FastifyInstance, type FastifyError } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import formbody from '@fastify/formbody'
import underPressure from '@fastify/under-pressure'
import { pino, type Logger } from 'pino'
import type { Config } from './config.js'
import type { Store } from './store/types.js'
import { MemoryStore } from './store/memory.js'
import { RedisStore } from './store/redis.js'
import { DnsClient } from './dns/resolver.js'
import { GuardedConnector, type AuditRecord } from './net/connect.js'
import { CheckRunner } from './checks/runner.js'
import { RateLimitedError, httpAnswer } from './errors.js'
import { Metrics } from './plugins/metrics.js'
import { checkAuditRecord } from './plugins/audit.js'
import apiRoutes from '../routes/api.js'
import mailCheckRoutes from '../routes/checks-mail.js'
import opsRoutes from '../routes/ops.js'
import probeRoutes from '../routes/checks-probes.js'
import toolsRoutes from '../routes/tools.js'
import webRoutes, { htmlNotFound } from '../routes/web.js'
import embedRoutes, { corsForReads } from '../routes/embed.js'

/** Paths whose requests are not logged one by one (errors still are). */
const QUIET_PATHS = new Set(['/api/v1/ip', '/healthz', '/readyz', '/metrics'])

export interface Services {
  config: Config
  store: Store
  dns: DnsClient
  connector: GuardedConnector
  runner: CheckRunner
  metrics: Metrics
  log: Logger
}

declare module 'fastify' {
  interface FastifyInstance { mx: Services }
}

/** Log redaction: a POP3 password given for a login test must never reach a log line. */
export const LOG_REDACT = { paths: ['req.body.password', 'body.password', 'password', '*.password'], censor: '[redacted]' }

export interface BuildOptions {
  /** a store to share between app instances in one process (tests) */
  store?: Store
  /** a logger (tests pass a silent one) */
  logger?: Logger
}

export async function buildApp (config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const log = opts.logger ?? pino({ level: config.logLevel, redact: LOG_REDACT })
  const store: Store = opts.store ?? (config.redisUrl ? new RedisStore(config.redisUrl, config.redisPrefix) : new MemoryStore())
  const ownsStore = !opts.store
  // A first connection within a second, so the first requests after start-up are not 503s (ops).
  if (store instanceof RedisStore) await store.waitReady(3000)
  const metrics = new Metrics()
  const audit = log.child({ audit: 'probe' })
  const connector = new GuardedConnector({ allowCidrs: config.allowCidrs, denyCidrs: config.denyCidrs }, {
    audit: (rec: AuditRecord) => {
      metrics.outbound(rec)
      audit.info(rec, 'outbound probe')
    }
  })
  const dns = new DnsClient({ servers: config.dnsServers, timeoutMs: config.dnsTimeoutMs })
  const runner = new CheckRunner({
    store,
    dns,
    connector,
    log,
    settings: config.check,
    reportTtlSeconds: config.reportTtlSeconds,
    concurrencyPerCaller: config.concurrencyPerCaller,
    concurrencyTotal: config.concurrencyTotal,
    onFinish: (r) => {
      metrics.checkFinished(r)
      // One audit line per check: who asked, what was probed, which commands were sent (secrets redacted).
      audit.info(checkAuditRecord(r), 'check finished')
    }
  })

  const app = Fastify({
    loggerInstance: log,
    // Polled endpoints (load balancers, Prometheus, pages and scripts asking for
    // their IP) get no info line per request: it cost a third of /api/v1/ip's
    // throughput (bench:http). A per-route logLevel would be worse: pino rebuilds
    // every log method of each request's child logger for a level change.
    logController: new LogController({ disableRequestLogging: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) }),
    trustProxy: config.trustProxy.length ? config.trustProxy : false,
    bodyLimit: config.bodyLimitBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('mx', { config, store, dns, connector, runner, metrics, log })

  await app.register(swagger, {
    openapi: {
      info: { title: 'mxprobe', description: 'Test your own home mail server from the outside: DNS/MX, ports, SMTP, a real receive test, open relay, role mailboxes, POP3.', version: '0.1.0' }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  await app.register(formbody, { bodyLimit: config.bodyLimitBytes })
  // Samples event-loop delay and memory only: no thresholds are set, so it never answers 503
  // on its own (a busy instance must still serve running SSE streams and /api/v1/ip);
  // /readyz reads app.memoryUsage() and takes the instance out of the load balancer instead.
  await app.register(underPressure, { sampleInterval: 500 })
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    ...(store instanceof RedisStore ? { redis: store.client, nameSpace: `${config.redisPrefix}rl:` } : {}),
    errorResponseBuilder: (_req, ctx) => {
      metrics.rateLimited()
      return new RateLimitedError(`rate limit exceeded: at most ${ctx.max} such checks per window; try again in ${ctx.after}`, Math.ceil(ctx.ttl / 1000))
    }
  })

  // One error handler: the typed errors of src/errors.ts decide what a client sees (httpAnswer).
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const a = httpAnswer(err)
    if (a.status >= 500 && a.body.error === 'internal') req.log.error({ err }, 'request failed')
    return reply.code(a.status).headers(a.headers).send(a.body)
  })

  app.setNotFoundHandler((req, reply) => {
    // People get a page; programs (the API, anything asking for JSON) keep the JSON answer.
    const path = req.url.split('?')[0]
    if (!path.startsWith('/api/') && req.method === 'GET' && /text\/html/.test(String(req.headers.accept ?? ''))) return htmlNotFound(req, reply)
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` })
  })

  await app.register(corsForReads)
  await app.register(opsRoutes)
  await app.register(apiRoutes)
  await app.register(probeRoutes)
  await app.register(mailCheckRoutes)
  await app.register(toolsRoutes)
  await app.register(webRoutes)
  await app.register(embedRoutes)

  app.addHook('onClose', async () => {
    // Let running checks end (each has its own deadline), then close the store.
    await Promise.allSettled([...runner.running])
    if (ownsStore) await store.close()
  })
  return app as unknown as FastifyInstance
}
