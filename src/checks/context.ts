// What a check may use. Checks are plain async functions of (ctx, input):
// no HTTP, no fastify, so they run the same from a route, a script or a bench.
import type { Logger } from 'pino'
import type { DnsClient } from '../dns/resolver.js'
import type { DnssecClient } from '../dns/dnssec.js'
import type { GuardedConnector, GuardedSocket, ConnectRequest } from '../net/connect.js'
import type { CallerAddresses, FamilyOrigins } from '../net/caller.js'
import type { ReportBuilder } from '../core/report.js'
import type { Lang } from '../i18n/index.js'
import type { HandshakeMemo } from '../core/handshakes.js'
import type { LineRules } from '../net/line.js'

export interface CheckSettings {
  heloName: string
  mailFrom: string
  relayProbeDomain: string
  /** TCP (+TLS) handshake timeout */
  connectTimeoutMs: number
  /** time allowed for the greeting after connect */
  bannerTimeoutMs: number
  /** time allowed for any one reply */
  commandTimeoutMs: number
  /** whole-check budget: every socket dies at startedAt + this */
  checkDeadlineMs: number
  /** bytes mxprobe reads from one connection at most */
  maxBytesPerConnection: number
  /**
   * connections one check may hold open at once (CONCURRENCY_PER_CALLER): a caller's
   * budget is the same whether it is spent on checks or on one check's connections
   */
  parallelConnections?: number
  /** IPV4_ORIGIN / IPV6_ORIGIN: where a caller proves its other family's address (advice links) */
  origins?: FamilyOrigins
  /** LINE_RULES_FILE: the MAP-E rules and DS-Lite ranges the diagnosis recognises a line by (src/net/line.ts) */
  lineRules?: LineRules
}

export interface CheckContext {
  id: string
  type: string
  /** the connection's own address (what the report shows as `callerIp`) */
  callerIp: string
  /**
   * every address the caller owns: the connection's plus each proven by a
   * valid proof (IPv4 exactly, IPv6 by home prefix); the connector allows
   * only targets inside it
   */
  caller: CallerAddresses
  lang: Lang
  dns: DnsClient
  /** the validating resolver whose AD bit mxprobe believes (absent: DNSSEC is not judged) */
  dnssec?: DnssecClient
  report: ReportBuilder
  log: Logger
  settings: CheckSettings
  /** epoch ms at which the whole check must be over */
  deadline: number
  /** open a guarded connection to one of the caller's own addresses (anything else is refused by the connector) */
  connect: (ip: string, port: number, opts?: Partial<Pick<ConnectRequest, 'tls' | 'servername' | 'connectTimeoutMs' | 'maxBytes' | 'deadline'>>) => Promise<GuardedSocket>
  connector: GuardedConnector
  /** inside a diagnosis: the TLS handshakes its checks share (the smtp check offers port 25's, the tls check takes it) */
  handshakes?: HandshakeMemo
}

/**
 * A check has two halves. `prepare` validates input and decides the target
 * (DNS, the caller-IP rule) and may refuse with a RefusalError before any
 * socket exists; `run` does the probing and fills the report.
 */
export interface CheckDefinition<I = any, P = any> {
  type: string
  /** does this check open outbound sockets? (such checks need the store for limits, and fail closed) */
  probes: boolean
  prepare: (ctx: CheckContext, input: I) => Promise<P>
  run: (ctx: CheckContext, plan: P) => Promise<void>
  /**
   * The check goes on outside this request (the send test waits for a mail
   * that any instance may receive): the runner stores the report as `prepare`
   * left it, still running, and answers with it at once; `run` is not called.
   */
  detached?: boolean
}
