// Builds the fastify application: external plugins, our own services
// (store, DNS, guarded connector, check runner), then the routes. Tests
// build it with `buildApp()` and `inject()` requests; server.ts listens.
import Fastify, { LogController, type FastifyInstance, type FastifyError, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { pino, type Logger } from 'pino'
import type { Config } from './config.js'
import type { Store } from './store/types.js'
import { MemoryStore } from './store/memory.js'
import { RedisStore } from './store/redis.js'
import { DnsClient } from './dns/resolver.js'
import { DnssecClient, systemServers } from './dns/dnssec.js'
import { GuardedConnector, type AuditRecord } from './net/connect.js'
import { CheckRunner } from './checks/runner.js'
import { httpAnswer } from './errors.js'
import { Metrics } from './plugins/metrics.js'
import { pickLang, type Lang } from './i18n/index.js'
import { checkAuditRecord } from './plugins/audit.js'
import swaggerPlugin from './plugins/swagger.js'
import formBodyPlugin from './plugins/form-body.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import pressurePlugin, { LoopMonitor } from './plugins/pressure.js'
import ssePlugin from './plugins/sse.js'
import requestLogPlugin from './plugins/request-log.js'
import { ToolsPool } from './tools/pool.js'
import apiRoutes from '../routes/api.js'
import mailCheckRoutes from '../routes/checks-mail.js'
import tlsCheckRoutes from '../routes/checks-tls.js'
import allCheckRoutes from '../routes/checks-all.js'
import opsRoutes from '../routes/ops.js'
import probeRoutes from '../routes/checks-probes.js'
import toolsRoutes from '../routes/tools.js'
import webRoutes, { htmlNotFound } from '../routes/web.js'
import embedRoutes, { corsForReads } from '../routes/embed.js'
import docsRoutes from '../routes/docs.js'
import sendRoutes from '../routes/checks-send.js'
import { SendService } from './inbound/service.js'
import { AddressProofs } from './net/proof.js'
import { startInboundListener, type InboundListener } from './inbound/listener.js'

export interface Services {
  config: Config
  store: Store
  dns: DnsClient
  connector: GuardedConnector
  runner: CheckRunner
  metrics: Metrics
  /** the one event-loop monitor (/readyz, /metrics) */
  loop: LoopMonitor
  /** worker threads for the CPU-bound text tools */
  tools: ToolsPool
  log: Logger
  /** the send test (one-time addresses, completion, expiry sweep) */
  send: SendService
  /** this instance's inbound SMTP listener (INBOUND_LISTEN), if any */
  inbound: InboundListener | null
  /** issues and verifies address proofs (GET /api/v1/ip, `proofs` in check bodies) */
  proofs: AddressProofs
}

declare module 'fastify' {
  interface FastifyInstance { mx: Services }
}

/** Log redaction: a POP3 password given for a login test must never reach a log line. */
/** Nor an address proof (it proves the caller's address to this service for a few minutes). */
export const LOG_REDACT = { paths: ['req.body.password', 'body.password', 'password', '*.password', 'req.body.proofs', 'body.proofs', 'proofs', '*.proofs', 'proof', '*.proof'], censor: '[redacted]' }

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
  const loop = new LoopMonitor(200)
  const metrics = new Metrics(loop)
  const tools = new ToolsPool({ ...config.tools, onError: (err) => log.error({ err }, 'tools worker failed') })
  const audit = log.child({ audit: 'probe' })
  const connector = new GuardedConnector({ allowCidrs: config.allowCidrs, denyCidrs: config.denyCidrs }, {
    audit: (rec: AuditRecord) => {
      metrics.outbound(rec)
      audit.info(rec, 'outbound probe')
    }
  })
  const dns = new DnsClient({ servers: config.dnsServers, timeoutMs: config.dnsTimeoutMs })
  // The AD bit is believed from the resolvers the operator named (DNSSEC_RESOLVERS, else DNS_SERVERS), or the system's on loopback.
  const dnssec = new DnssecClient({ servers: config.dnssecResolvers.length ? config.dnssecResolvers : config.dnsServers, systemServers: systemServers(), timeoutMs: config.dnsTimeoutMs })
  const runner = new CheckRunner({
    store,
    dns,
    dnssec,
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

  const send = new SendService({
    store,
    dns,
    connector,
    log: log.child({ check: 'send' }),
    settings: config.check,
    inbound: config.inbound,
    reportTtlSeconds: config.reportTtlSeconds,
    onFinish: (r) => {
      metrics.checkFinished(r)
      audit.info(checkAuditRecord(r), 'check finished')
    }
  })
  let inbound: InboundListener | null = null
  if (send.enabled) {
    inbound = await startInboundListener(send, { ...config.inbound, heloName: config.check.heloName }, log.child({ inbound: true }))
    send.startSweeper()
  }

  const app = Fastify({
    loggerInstance: log,
    // No per-request child logger and no automatic request lines: they cost about a third of
    // /api/v1/ip's throughput (bench:http). req.log is the app's logger; src/plugins/request-log.ts
    // writes one line where a line is useful (checks, tools, errors), with query strings redacted.
    childLoggerFactory: (logger) => logger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy.length ? config.trustProxy : false,
    bodyLimit: config.bodyLimitBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // The server's own limits, so `npm start` without a proxy survives slow clients:
    // a request's headers must arrive within headersTimeout, the whole request within
    // requestTimeout (an event stream's response is not limited by either).
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    http: { headersTimeout: config.http.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs) } as never
  }).withTypeProvider<TypeBoxTypeProvider>()

  const proofs = new AddressProofs({ secret: config.proof.secret, ttlSeconds: config.proof.ttlSeconds })
  app.decorate('mx', { config, store, dns, connector, runner, metrics, loop, tools, log, send, inbound, proofs })

  await app.register(requestLogPlugin)
  await app.register(swaggerPlugin)
  await app.register(formBodyPlugin, { bodyLimit: config.bodyLimitBytes })
  // One event-loop monitor; it never answers 503 on its own (a busy instance must still serve
  // running SSE streams and /api/v1/ip): /readyz takes the instance out of the load balancer.
  await app.register(pressurePlugin, { monitor: loop })
  await app.register(rateLimitPlugin, {
    redis: store instanceof RedisStore ? store.client : null,
    nameSpace: `${config.redisPrefix}rl:`,
    metrics
  })

  // One error handler: the typed errors of src/errors.ts decide what a client sees (httpAnswer).
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const a = httpAnswer(err, reqLang(req))
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
  await app.register(ssePlugin, config.sse)
  await app.register(probeRoutes)
  await app.register(mailCheckRoutes)
  await app.register(tlsCheckRoutes)
  await app.register(allCheckRoutes)
  await app.register(toolsRoutes)
  await app.register(webRoutes)
  await app.register(embedRoutes)
  await app.register(docsRoutes)
  await app.register(sendRoutes)

  app.addHook('onClose', async () => {
    // Let running checks end (each has its own deadline), then close the store.
    await Promise.allSettled([...runner.running])
    await tools.close()
    // The listener stops taking mail; mail already accepted is analysed and its report stored.
    await inbound?.close()
    await send.close()
    if (ownsStore) await store.close()
  })
  return app as unknown as FastifyInstance
}

/** The caller's language for error answers: ?lang=, else Accept-Language, else English (like langOf). */
function reqLang (req: FastifyRequest): Lang {
  return pickLang((req.query as Record<string, unknown> | undefined)?.lang, req.headers['accept-language'], 'en')
}
