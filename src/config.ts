// Configuration from the environment, validated once at start-up: a bad
// value stops the process with a message naming the variable.
import os from 'node:os'
import { parseCidrList } from './net/policy.js'
import { parseIp, type Cidr } from './net/ip.js'
import { readFileSync } from 'node:fs'
import { parseLineRules, NO_LINE_RULES, type LineRules } from './net/line.js'

/** LINE_RULES_FILE: a JSON file of MAP-E rules and DS-Lite ranges, each with its source; a bad file stops the start. */
function lineRules (file: string | undefined): LineRules {
  if (!file?.trim()) return NO_LINE_RULES
  let json: unknown
  try { json = JSON.parse(readFileSync(file.trim(), 'utf8')) } catch (err) { throw new Error(`LINE_RULES_FILE ${file}: ${(err as Error).message}`) }
  return parseLineRules(json)
}
import type { CheckSettings } from './checks/context.js'
import { parseClusterUrl } from './store/redis.js'

export interface RateRule { max: number, windowSeconds: number }

/** Check types that have their own limits; `mail` tests send or attempt mail. */
export const CHECK_TYPES = ['dns', 'ports', 'smtp', 'receive', 'relay', 'roles', 'pop3', 'tools', 'send', 'tls'] as const
export type LimitedType = typeof CHECK_TYPES[number]

export interface Config {
  port: number
  host: string
  redisUrl: string | null
  redisPrefix: string
  trustProxy: string[]
  dnsServers: string[]
  /** DNSSEC_RESOLVERS: validating resolvers whose AD bit is believed (empty: DNS_SERVERS) */
  dnssecResolvers: string[]
  dnsTimeoutMs: number
  allowCidrs: Cidr[]
  denyCidrs: Cidr[]
  reportTtlSeconds: number
  logLevel: string
  /** per caller IP (IPv6: per /64), per check type */
  rateLimits: Record<LimitedType, RateRule>
  /** per target domain, per check type */
  domainRateLimits: Record<LimitedType, RateRule>
  concurrencyPerCaller: number
  concurrencyTotal: number
  /** identical relay/ports check from the same caller within this many seconds is answered from the recent report */
  repeatWindowSeconds: number
  bodyLimitBytes: number
  /** /readyz answers 503 while the event-loop delay (sampled by @fastify/under-pressure) exceeds this */
  readyMaxEventLoopDelayMs: number
  /** after start-up, event-loop pressure does not make /readyz fail for this long (warm-up) */
  readyWarmupMs: number
  check: CheckSettings
  /** live-event streams: per caller (IPv6: per /64), in all (shared through the store), longest life */
  sse: SseSettings
  /** the forensics tools' worker pool */
  tools: ToolsSettings
  /** who may read /metrics (the caller IP as mxprobe sees it) */
  metricsAllowCidrs: Cidr[]
  /** the HTTP server's own limits against slow clients */
  http: HttpSettings
  /** the send test's inbound SMTP listener */
  inbound: InboundSettings
  /** address proofs (src/net/proof.ts): PROOF_SECRET (null: random at start), their lifetime */
  proof: { secret: string | null, ttlSeconds: number }
  /** IPV6_HOME_PREFIX: an IPv6 caller's home is its address's /N (the rate limits' unit, 64) */
  ipv6HomePrefix: number
}

export interface SseSettings { perCaller: number, total: number, maxSeconds: number }
export interface ToolsSettings { threads: number, queue: number, timeoutMs: number, nice: number }
export interface HttpSettings { headersTimeoutMs: number, requestTimeoutMs: number, keepAliveTimeoutMs: number }

/** pino's levels, and silent */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

function logLevel (v: string | undefined): string {
  const level = v?.trim().toLowerCase() || 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`)
  return level
}

export interface InboundSettings {
  /** INBOUND_LISTEN: where the listeners accept mail (one each); null: the send test is off */
  listen: Array<{ host: string, port: number }> | null
  /** one-time addresses are t-<token>@domain */
  domain: string
  /** PEM files for STARTTLS; null: a self-signed certificate generated at start */
  tlsCertFile: string | null
  tlsKeyFile: string | null
  /** how long a send test waits for the mail (SEND_WAIT_SECONDS) */
  waitSeconds: number
  /** largest message accepted (552 above it) */
  maxMessageBytes: number
  /** open connections per client IP (per /64 for IPv6), and in all, per instance */
  maxConnectionsPerIp: number
  maxConnections: number
  /** commands one session may send */
  maxCommands: number
  /** absolute time limit of one session, and the idle limit between commands */
  sessionMaxMs: number
  idleMs: number
  /** live one-time addresses per caller and in all (shared through the store) */
  addressesPerCaller: number
  addressesTotal: number
  /** DNS block-list zones the connecting IP is looked up in */
  dnsblZones: string[]
  /** worker threads that read received messages, and one message's time budget there */
  analysisThreads: number
  analysisBudgetMs: number
  /** added to those threads' nice value (TOOLS_NICE) */
  analysisNice: number
}

/** Public zones looked up by default: the widely used ones that answer any resolver for free at small volume. */
export const DEFAULT_DNSBL_ZONES = ['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org']

export class ConfigError extends Error {}

const DEFAULT_RATES: Record<LimitedType, RateRule> = {
  dns: { max: 60, windowSeconds: 600 },
  ports: { max: 20, windowSeconds: 600 },
  smtp: { max: 20, windowSeconds: 600 },
  receive: { max: 10, windowSeconds: 600 },
  relay: { max: 10, windowSeconds: 600 },
  roles: { max: 20, windowSeconds: 600 },
  pop3: { max: 20, windowSeconds: 600 },
  tools: { max: 120, windowSeconds: 600 },
  send: { max: 10, windowSeconds: 600 },
  tls: { max: 20, windowSeconds: 600 }
}

const DEFAULT_DOMAIN_RATES: Record<LimitedType, RateRule> = {
  dns: { max: 120, windowSeconds: 600 },
  ports: { max: 40, windowSeconds: 600 },
  smtp: { max: 30, windowSeconds: 600 },
  receive: { max: 15, windowSeconds: 600 },
  relay: { max: 15, windowSeconds: 600 },
  roles: { max: 30, windowSeconds: 600 },
  pop3: { max: 30, windowSeconds: 600 },
  tools: { max: 1000, windowSeconds: 600 },
  send: { max: 15, windowSeconds: 600 },
  tls: { max: 30, windowSeconds: 600 }
}

function int (env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const v = env[name]
  if (v === undefined || v === '') return def
  if (!/^\d+$/.test(v.trim())) throw new ConfigError(`${name} must be a whole number, got "${v}"`)
  const n = Number(v)
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`)
  return n
}

function list (v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}

/** "receive=10/600,dns=60/600": max requests per window seconds, by check type. */
function rates (env: NodeJS.ProcessEnv, name: string, defaults: Record<LimitedType, RateRule>): Record<LimitedType, RateRule> {
  const out = { ...defaults }
  for (const item of list(env[name])) {
    const m = item.match(/^([a-z0-9]+)=(\d+)\/(\d+)$/)
    if (!m || !(CHECK_TYPES as readonly string[]).includes(m[1])) {
      throw new ConfigError(`${name}: "${item}" must look like type=max/seconds with type one of ${CHECK_TYPES.join(', ')}`)
    }
    if (Number(m[3]) < 1) throw new ConfigError(`${name}: window of "${item}" must be at least 1 second`)
    out[m[1] as LimitedType] = { max: Number(m[2]), windowSeconds: Number(m[3]) }
  }
  return out
}

/** "0.0.0.0:25,[::]:25": one listener each (both families); null when unset. */
function inboundListen (v: string | undefined): Array<{ host: string, port: number }> | null {
  const items = list(v)
  if (!items.length) return null
  const out = items.map((s) => {
    const m = s.match(/^(?:\[([0-9a-fA-F:.]+)\]|([\d.]+)):(\d{1,5})$/)
    const host = m ? (m[1] ?? m[2]) : ''
    const port = m ? Number(m[3]) : NaN
    if (!m || !parseIp(host) || !(port >= 0 && port <= 65535)) throw new ConfigError(`INBOUND_LISTEN must be a comma list of ip:port or [ipv6]:port (port 0: any free port), got "${s}"`)
    return { host, port }
  })
  const seen = new Set<string>()
  for (const a of out) {
    const k = `${parseIp(a.host)!.text}|${a.port}`
    if (a.port !== 0 && seen.has(k)) throw new ConfigError(`INBOUND_LISTEN names ${a.host}:${a.port} twice`)
    seen.add(k)
  }
  return out
}

/** An origin URL (scheme://host[:port]), as a browser writes it in an Origin header; null when unset. */
function origin (env: NodeJS.ProcessEnv, name: string): string | null {
  const v = env[name]?.trim()
  if (!v) return null
  let u: URL
  try { u = new URL(v) } catch { throw new ConfigError(`${name} must be a URL like https://v4.example.net, got "${v}"`) }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    throw new ConfigError(`${name} must be an http(s) origin without path, query or credentials, like https://v4.example.net, got "${v}"`)
  }
  // A page's Content-Security-Policy (connect-src) cannot name an IPv6 literal: the page could never ask it.
  if (u.hostname.startsWith('[')) throw new ConfigError(`${name} must name its host (one with only an A or only an AAAA record), not an IP literal: browsers cannot allow an IPv6 literal in a page's connect-src, got "${v}"`)
  return u.origin
}

function proofSecret (v: string | undefined): string | null {
  const s = v ?? ''
  if (!s) return null
  if (s.length < 16) throw new ConfigError('PROOF_SECRET must be at least 16 characters (instances behind one balancer share it); leave it unset for a random one')
  return s
}

function hostName (name: string, v: string): string {
  const s = v.trim().toLowerCase().replace(/\.$/, '')
  if (!/^[a-z0-9]([a-z0-9-]{0,62}(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)?$/.test(s) || s.length > 253) throw new ConfigError(`${name} "${v}" is not a domain name`)
  return s
}

function dnsServers (v: string | undefined, name = 'DNS_SERVERS'): string[] {
  return list(v).map((s) => {
    // ip, ip:port, [v6]:port, v6
    if (parseIp(s)) return s
    const v4port = s.match(/^([\d.]+):(\d{1,5})$/)
    if (v4port && parseIp(v4port[1]) && Number(v4port[2]) > 0 && Number(v4port[2]) < 65536) return s
    const v6port = s.match(/^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/)
    if (v6port && parseIp(v6port[1]) && Number(v6port[2]) > 0 && Number(v6port[2]) < 65536) return s
    throw new ConfigError(`${name}: "${s}" must be ip, ip:port or [ipv6]:port`)
  })
}

/** Braces would become the Redis Cluster hash tag instead of the report id's `{id}`. */
function redisPrefix (v: string | undefined): string {
  const p = v?.trim() || 'mxprobe:'
  if (/[{}\s]/.test(p)) throw new ConfigError(`REDIS_PREFIX must not contain braces or spaces, got "${p}"`)
  return p
}

export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  let trustProxy: string[]
  let allowCidrs: Cidr[]
  let denyCidrs: Cidr[]
  let metricsAllowCidrs: Cidr[]
  try {
    metricsAllowCidrs = parseCidrList(env.METRICS_ALLOW_CIDRS ?? '127.0.0.0/8,::1/128', 'METRICS_ALLOW_CIDRS')
    trustProxy = parseCidrList(env.TRUST_PROXY, 'TRUST_PROXY').map((c) => c.text)
    allowCidrs = parseCidrList(env.TARGET_ALLOW_CIDRS, 'TARGET_ALLOW_CIDRS')
    denyCidrs = parseCidrList(env.TARGET_DENY_CIDRS, 'TARGET_DENY_CIDRS')
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const heloName = (env.HELO_NAME || os.hostname() || 'localhost').trim().toLowerCase()
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(heloName)) throw new ConfigError(`HELO_NAME "${heloName}" is not a host name`)
  const mailFrom = (env.MAIL_FROM || `mxprobe@${heloName}`).trim()
  if (!/^[^\s<>@\u0000-\u001f]{1,64}@[a-z0-9.-]{1,253}$/i.test(mailFrom)) throw new ConfigError(`MAIL_FROM "${mailFrom}" is not a plain address`)
  const heloLabels = heloName.split('.')
  const relayProbeDomain = (env.RELAY_PROBE_DOMAIN || (heloLabels.length > 2 ? heloLabels.slice(1).join('.') : heloName)).trim().toLowerCase()
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(relayProbeDomain)) throw new ConfigError(`RELAY_PROBE_DOMAIN "${relayProbeDomain}" is not a domain name`)
  // A Redis Cluster is either REDIS_URL=redis+cluster://h:p,h:p or REDIS_CLUSTER_NODES=h:p,h:p
  // (then REDIS_URL, if set, may only carry the password: redis://:pass@ignored).
  let redisUrl = env.REDIS_URL?.trim() || null
  const clusterNodes = list(env.REDIS_CLUSTER_NODES)
  if (clusterNodes.length) {
    const auth = redisUrl?.match(/^rediss?:\/\/([^@/]*@)/)?.[1] ?? ''
    const scheme = redisUrl?.startsWith('rediss:') ? 'rediss' : 'redis'
    redisUrl = `${scheme}+cluster://${auth}${clusterNodes.join(',')}`
  }
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl) && !parseClusterUrl(redisUrl)) {
    throw new ConfigError(`REDIS_URL must start with redis://, rediss:// or redis+cluster://host:port,host:port, got "${redisUrl.replace(/:[^:@/]*@/, ':***@')}"`)
  }
  const checkDeadlineMs = int(env, 'CHECK_DEADLINE_MS', 40_000, 1000, 120_000)
  const requestTimeoutMs = int(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000)
  const headersTimeoutMs = int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 500, 600_000)
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError(`HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`)
  const tlsCertFile = env.INBOUND_TLS_CERT?.trim() || null
  const tlsKeyFile = env.INBOUND_TLS_KEY?.trim() || null
  if (!!tlsCertFile !== !!tlsKeyFile) throw new ConfigError('INBOUND_TLS_CERT and INBOUND_TLS_KEY go together: set both or neither')
  const inbound: InboundSettings = {
    listen: inboundListen(env.INBOUND_LISTEN),
    domain: hostName('INBOUND_DOMAIN', env.INBOUND_DOMAIN || (heloLabels.length > 2 ? heloLabels.slice(1).join('.') : heloName)),
    tlsCertFile,
    tlsKeyFile,
    waitSeconds: int(env, 'SEND_WAIT_SECONDS', 900, 1, 86_400),
    maxMessageBytes: int(env, 'INBOUND_MAX_MESSAGE_BYTES', 1024 * 1024, 1024, 50 * 1024 * 1024),
    maxConnectionsPerIp: int(env, 'INBOUND_MAX_CONNECTIONS_PER_IP', 3, 1, 10_000),
    maxConnections: int(env, 'INBOUND_MAX_CONNECTIONS', 500, 1, 100_000),
    maxCommands: int(env, 'INBOUND_MAX_COMMANDS', 50, 5, 10_000),
    sessionMaxMs: int(env, 'INBOUND_SESSION_MAX_MS', 120_000, 1000, 3_600_000),
    idleMs: int(env, 'INBOUND_IDLE_MS', 30_000, 500, 600_000),
    analysisThreads: int(env, 'INBOUND_ANALYSIS_THREADS', Math.max(1, Math.min(2, (os.availableParallelism?.() ?? os.cpus().length))), 1, 64),
    analysisBudgetMs: int(env, 'INBOUND_ANALYSIS_MS', 10_000, 100, 120_000),
    analysisNice: int(env, 'TOOLS_NICE', 10, 0, 19),
    addressesPerCaller: int(env, 'SEND_ADDRESSES_PER_CALLER', 3, 1, 10_000),
    addressesTotal: int(env, 'SEND_ADDRESSES_TOTAL', 5000, 1, 1_000_000),
    dnsblZones: (env.DNSBL_ZONES === undefined ? DEFAULT_DNSBL_ZONES : list(env.DNSBL_ZONES)).map((z) => hostName('DNSBL_ZONES', z))
  }
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    redisUrl,
    redisPrefix: redisPrefix(env.REDIS_PREFIX),
    trustProxy,
    dnsServers: dnsServers(env.DNS_SERVERS),
    dnssecResolvers: dnsServers(env.DNSSEC_RESOLVERS, 'DNSSEC_RESOLVERS'),
    dnsTimeoutMs: int(env, 'DNS_TIMEOUT_MS', 2000, 100, 30_000),
    allowCidrs,
    denyCidrs,
    reportTtlSeconds: int(env, 'REPORT_TTL_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    logLevel: logLevel(env.LOG_LEVEL),
    rateLimits: rates(env, 'RATE_LIMITS', DEFAULT_RATES),
    domainRateLimits: rates(env, 'DOMAIN_RATE_LIMITS', DEFAULT_DOMAIN_RATES),
    concurrencyPerCaller: int(env, 'CONCURRENCY_PER_CALLER', 3, 1, 10_000),
    concurrencyTotal: int(env, 'CONCURRENCY_TOTAL', 200, 1, 100_000),
    // Off unless the operator sets it: a person fixing a server re-runs the
    // same check right after changing something and must see the new state.
    repeatWindowSeconds: int(env, 'REPEAT_WINDOW_SECONDS', 0, 0, 3600),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 16 * 1024, 1024, 1024 * 1024),
    readyMaxEventLoopDelayMs: int(env, 'READY_MAX_EVENT_LOOP_DELAY_MS', 1000, 10, 60_000),
    readyWarmupMs: int(env, 'READY_WARMUP_MS', 15_000, 0, 600_000),
    sse: {
      perCaller: int(env, 'SSE_PER_CALLER', 10, 1, 100_000),
      total: int(env, 'SSE_TOTAL', 2000, 1, 1_000_000),
      maxSeconds: int(env, 'SSE_MAX_SECONDS', 600, 5, 86_400)
    },
    tools: {
      threads: int(env, 'TOOLS_THREADS', Math.max(1, Math.min(4, (os.availableParallelism?.() ?? os.cpus().length) - 1)), 1, 64),
      queue: int(env, 'TOOLS_QUEUE', 8, 0, 10_000),
      timeoutMs: int(env, 'TOOLS_TIMEOUT_MS', 10_000, 100, 120_000),
      nice: int(env, 'TOOLS_NICE', 10, 0, 19)
    },
    metricsAllowCidrs,
    http: {
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: int(env, 'HTTP_KEEPALIVE_TIMEOUT_MS', 10_000, 1000, 600_000)
    },
    check: {
      heloName,
      mailFrom,
      relayProbeDomain,
      connectTimeoutMs: int(env, 'CONNECT_TIMEOUT_MS', 10_000, 100, 60_000),
      bannerTimeoutMs: int(env, 'BANNER_TIMEOUT_MS', 15_000, 100, 300_000),
      commandTimeoutMs: int(env, 'COMMAND_TIMEOUT_MS', 15_000, 100, 300_000),
      checkDeadlineMs,
      maxBytesPerConnection: int(env, 'MAX_BYTES_PER_CONNECTION', 256 * 1024, 1024, 16 * 1024 * 1024),
      parallelConnections: int(env, 'CONCURRENCY_PER_CALLER', 3, 1, 10_000),
      origins: { 4: origin(env, 'IPV4_ORIGIN'), 6: origin(env, 'IPV6_ORIGIN'), public: origin(env, 'PUBLIC_ORIGIN') },
      lineRules: lineRules(env.LINE_RULES_FILE)
    },
    inbound,
    proof: { secret: proofSecret(env.PROOF_SECRET), ttlSeconds: int(env, 'PROOF_TTL_SECONDS', 300, 30, 3600) },
    ipv6HomePrefix: int(env, 'IPV6_HOME_PREFIX', 64, 48, 128)
  }
}
