// Builds the fastify application: external plugins, our own services
// (store, DNS, guarded connector, check runner), then the routes. Tests
// build it with `buildApp()` and `inject()` requests; server.ts listens.
import Fastify, { LogController, type FastifyInstance, type FastifyError, type FastifyRequest } from 'fastify'
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
import { CheckRunner, TooBusyError } from './checks/runner.js'
import { RefusalError, StoreDownError } from './errors.js'
import { Metrics } from './plugins/metrics.js'
import { bi, pickLang, type Lang } from './i18n/index.js'
import { errorText } from './i18n/errors.js'
import { checkAuditRecord } from './plugins/audit.js'
import apiRoutes from '../routes/api.js'
import mailCheckRoutes from '../routes/checks-mail.js'
import allCheckRoutes from '../routes/checks-all.js'
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
    errorResponseBuilder: (req, ctx) => {
      metrics.rateLimited()
      const lang = reqLang(req)
      const e = new Error(bi(lang, `テストの回数が上限に達しました (同じテストは一定時間に ${ctx.max} 回まで)。${Math.max(1, Math.ceil(ctx.ttl / 1000))} 秒後にもう一度お試しください。`, `rate limit exceeded: at most ${ctx.max} such checks per window; try again in ${ctx.after}`)) as Error & { statusCode: number, code: string, retryAfter: number }
      e.statusCode = 429
      e.code = 'rate_limited'
      e.retryAfter = Math.max(1, Math.ceil(ctx.ttl / 1000))
      return e
    }
  })

  app.setErrorHandler((err: FastifyError & { retryAfter?: number, callerIp?: string, dns?: unknown }, req, reply) => {
    if (err instanceof RefusalError) {
      return reply.code(403).send({ ...err.extra, error: err.code, message: err.message, callerIp: err.callerIp, dns: err.dns })
    }
    if (err instanceof TooBusyError) {
      return reply.code(429).header('retry-after', String(err.retryAfterSeconds)).send({ error: err.code, message: err.message })
    }
    if (err.statusCode === 429) {
      return reply.code(429).header('retry-after', String(err.retryAfter ?? 60)).send({ error: 'rate_limited', message: err.message })
    }
    const lang = reqLang(req)
    if (err instanceof StoreDownError || isRedisError(err)) {
      return reply.code(503).header('retry-after', '5').send({ error: 'store_unavailable', message: bi(lang, 'mxprobe の共有ストア (Redis) が使えないため、テストを始めませんでした。しばらくしてからもう一度お試しください。', 'the shared store (Redis) is unavailable; no probe was started') })
    }
    if (err.validation) {
      return reply.code(400).send({ error: 'bad_input', message: errorText(lang, `${err.validationContext ?? 'input'}${err.message.replace(/^(body|querystring|params)/, '')}`) })
    }
    const status = err.statusCode ?? 500
    if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: 'too_large', message: bi(lang, '送られたデータが大きすぎます。', 'the request body is larger than mxprobe accepts') })
    }
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: typeof err.code === 'string' && !err.code.startsWith('FST_') ? err.code : 'bad_request', message: status === 400 ? errorText(lang, err.message) : err.message })
    }
    req.log.error({ err }, 'request failed')
    return reply.code(500).send({ error: 'internal', message: bi(lang, 'mxprobe 内部のエラーです。', 'internal error') })
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
  await app.register(allCheckRoutes)
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

/** The caller's language for error answers: ?lang=, else Accept-Language, else English (like langOf). */
function reqLang (req: FastifyRequest): Lang {
  return pickLang((req.query as Record<string, unknown> | undefined)?.lang, req.headers['accept-language'], 'en')
}

function isRedisError (err: Error): boolean {
  const n = err.name ?? ''
  return n === 'MaxRetriesPerRequestError' || (n === 'ReplyError' && /redis/i.test(err.message)) ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED 127.*6379|Stream isn't writeable/i.test(err.message ?? '')
}
