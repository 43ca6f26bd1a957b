// Shared test plumbing: an app built against real Redis (or memory) with a
// unique key prefix, random loopback addresses standing in for home servers.
import { CallerAddresses } from '../src/net/caller.js'
import { randomBytes, randomInt } from 'node:crypto'
import { pino } from 'pino'
import { loadConfig, type Config } from '../src/config.js'
import { buildApp } from '../src/app.js'
import { existsSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Store } from '../src/store/types.js'
import { GuardedConnector } from '../src/net/connect.js'
import { parseCidrList } from '../src/net/policy.js'
import { Value } from '@sinclair/typebox/value'
import { ReportBuilder, ReportSchema, verdictOf, type Report } from '../src/core/report.js'
import { DnsClient } from '../src/dns/resolver.js'
import type { CheckContext } from '../src/checks/context.js'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A random 127.x.y.z (never 127.0.0.1): every test file gets its own "home
 * server" address, so parallel test files can bind port 25 without clashing.
 */
/**
 * What is wrong with a report by the one model: where it does not fit the
 * TypeBox schema (each check's typed data included), and a finished status
 * that is not its steps' verdict. Empty when all is well.
 */
export function reportModelErrors (r: unknown): string[] {
  const errors = [...Value.Errors(ReportSchema, r)].map((e) => `${e.path}: ${e.message}`)
  const rep = r as Report
  if (rep.status !== 'running' && rep.status !== verdictOf(rep.steps)) errors.push(`status ${rep.status} is not the steps' verdict ${verdictOf(rep.steps)}`)
  return errors
}

export function randomLoopback (): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(2, 255)}`
}

/**
 * The IPv6 prefix the tests' homes live in (a ULA range, fd00::/8): test
 * configs exempt it in TARGET_ALLOW_CIDRS, as 127.0.0.0/8 is for IPv4.
 */
export const TEST_IPV6_PREFIX = 'fd00:6d78::/32'

/** A home's IPv6 /64 on lo: `addr(n)` is its address `<prefix>::n` (added to lo by ipv6Home). */
export interface Ipv6Home {
  /** e.g. "fd00:6d78:1a2b:3c4d::/64" */
  prefix: string
  /** the addresses asked for, in order */
  addresses: string[]
  /** `<prefix>::<suffix>` (not added to lo unless asked for) */
  addr: (suffix: string | number) => string
}

const runFile = promisify(execFile)

/**
 * IPv6 for a test: a random /64 of TEST_IPV6_PREFIX, with `<prefix>::<s>`
 * added to lo for each suffix (`ip -6 addr add …/128 dev lo nodad`) and
 * removed again at teardown. Each test gets its own /64, so parallel test
 * files never share a home. Where IPv6 cannot be had (not root, no `ip`,
 * IPv6 disabled) the test is skipped loudly and, under CI=true, fails;
 * the answer is then null.
 *
 *   const home = await ipv6Home(t, 2, 25)     // the PC at ::2, the server at ::25
 *   if (!home) return
 */
export async function ipv6Home (t: Test, ...suffixes: Array<string | number>): Promise<Ipv6Home | null> {
  const hex = (): string => randomInt(1, 0x10000).toString(16)
  const base = `fd00:6d78:${hex()}:${hex()}`
  const home: Ipv6Home = { prefix: `${base}::/64`, addresses: [], addr: (s) => `${base}::${s}` }
  const why = await (async (): Promise<string | null> => {
    if (process.getuid?.() !== 0) return 'needs root to add IPv6 addresses to lo'
    if (!existsSync('/proc/net/if_inet6')) return 'the kernel has IPv6 disabled'
    for (const s of suffixes) {
      const a = home.addr(s)
      try {
        await runFile('ip', ['-6', 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad'])
      } catch (err) {
        return `ip -6 addr add ${a}/128 dev lo failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`
      }
      home.addresses.push(a)
    }
    return null
  })()
  t.teardown(async () => {
    for (const a of home.addresses) await runFile('ip', ['-6', 'addr', 'del', `${a}/128`, 'dev', 'lo']).catch(() => {})
  })
  if (!why) return home
  if (process.env.CI === 'true') {
    t.fail(`IPv6 test cannot run on this CI machine: ${why}`)
  } else {
    process.stderr.write(`\n### SKIPPED IPv6 test "${t.fullname}": ${why}\n\n`)
    t.test(`SKIPPED IPv6 test: ${why}`, { skip: why }, () => {})
  }
  return null
}

export function uniquePrefix (): string {
  return `mxprobe-test:${randomBytes(6).toString('hex')}:`
}

export function testConfig (env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    HELO_NAME: 'probe.mxprobe.test',
    TARGET_ALLOW_CIDRS: `127.0.0.0/8,${TEST_IPV6_PREFIX}`,
    LOG_LEVEL: 'silent',
    REDIS_PREFIX: uniquePrefix(),
    CONNECT_TIMEOUT_MS: '2000',
    BANNER_TIMEOUT_MS: '3000',
    COMMAND_TIMEOUT_MS: '3000',
    CHECK_DEADLINE_MS: '15000',
    ...env
  })
}

export async function testApp (env: Record<string, string | undefined> = {}, store?: Store): Promise<FastifyInstance> {
  const config = testConfig(env)
  return await buildApp(config, { logger: pino({ level: 'silent' }), store })
}

/** What an interop test may need from the machine. */
export type Tool = 'root' | 'postfix' | 'dovecot' | 'nginx' | 'redis-server' | 'redis-cli' | 'chromium' | 'openssl' | 'perl' | 'exim' | 'opensmtpd' | 'swaks' | 'nmap' | 'nsd' | 'unbound' | 'ldnsutils' | 'dig' | 'gnutls' | 'certtool' | 'testssl'

const TOOL_PATHS: Record<Exclude<Tool, 'root'>, string[]> = {
  postfix: ['/usr/sbin/postfix'],
  dovecot: ['/usr/sbin/dovecot'],
  nginx: ['/usr/sbin/nginx'],
  'redis-server': ['/usr/bin/redis-server'],
  'redis-cli': ['/usr/bin/redis-cli'],
  chromium: [process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'],
  openssl: ['/usr/bin/openssl'],
  perl: ['/usr/bin/perl'],
  exim: ['/usr/sbin/exim4', '/usr/sbin/exim'],
  opensmtpd: ['/usr/sbin/smtpd'],
  swaks: ['/usr/bin/swaks'],
  nmap: ['/usr/bin/nmap'],
  nsd: ['/usr/sbin/nsd'],
  unbound: ['/usr/sbin/unbound'],
  ldnsutils: ['/usr/bin/ldns-signzone'],
  dig: ['/usr/bin/dig'],
  gnutls: ['/usr/bin/gnutls-serv'],
  certtool: ['/usr/bin/certtool'],
  testssl: ['/usr/bin/testssl']
}

/** The tools of `tools` this machine lacks ('root': the tests bind port 25 and start daemons as root). */
export function missingTools (...tools: Tool[]): Tool[] {
  return tools.filter((tool) => tool === 'root'
    ? process.getuid?.() !== 0
    : !TOOL_PATHS[tool].some((p) => existsSync(p)))
}

/**
 * Guard of every interop test (real Postfix, Dovecot, nginx, Chromium …):
 * true when the machine has what the test needs. Otherwise the test is
 * skipped loudly (a skip in tap's counts and a banner on stderr), and under
 * CI=true it fails: a green CI means the third-party interop really ran.
 *
 *   t.test('against Postfix', async (t) => {
 *     if (!requireTool(t, 'root', 'postfix')) return
 *     …
 *   })
 */
export function requireTool (t: Test, ...tools: Tool[]): boolean {
  const missing = missingTools(...tools)
  if (!missing.length) return true
  const why = `needs ${missing.join(', ')} (.ci/run installs them)`
  if (process.env.CI === 'true') {
    t.fail(`interop test cannot run on this CI machine: ${why}`)
  } else {
    process.stderr.write(`\n### SKIPPED interop test "${t.fullname}": ${why}\n\n`)
    t.test(`SKIPPED interop test: ${why}`, { skip: why }, () => {})
  }
  return false
}

/**
 * A check context as the runner builds it, with short limits, for one caller
 * IP: for tests that drive a protocol client without the HTTP app.
 */
export function probeContext (callerIp: string, type = 'smtp', deadlineMs = 6000): CheckContext {
  const connector = new GuardedConnector({ allowCidrs: parseCidrList(`127.0.0.0/8,${TEST_IPV6_PREFIX}`, 'test'), denyCidrs: [] })
  const report = new ReportBuilder(type, callerIp, 'en')
  const settings = { heloName: 'probe.mxprobe.test', mailFrom: 'mxprobe@probe.mxprobe.test', relayProbeDomain: 'mxprobe.test', connectTimeoutMs: 1000, bannerTimeoutMs: 1500, commandTimeoutMs: 1500, checkDeadlineMs: deadlineMs, maxBytesPerConnection: 256 * 1024 }
  const deadline = Date.now() + deadlineMs
  return {
    id: 'test',
    type,
    callerIp,
    caller: CallerAddresses.of(callerIp),
    lang: 'en',
    dns: new DnsClient(),
    report,
    log: pino({ level: 'silent' }),
    settings,
    deadline,
    connector,
    connect: (ip, port, opts = {}) => connector.connect({ callerIp, ip, port, tls: opts.tls, servername: opts.servername, connectTimeoutMs: settings.connectTimeoutMs, deadline, maxBytes: settings.maxBytesPerConnection })
  }
}

/** The stored report once it is no longer running (a send test finishes after its HTTP request). */
export async function waitReportDone (app: FastifyInstance, id: string, ms = 30_000, everyMs = 50): Promise<Report> {
  const until = Date.now() + ms
  for (;;) {
    const r = await app.mx.store.getReport(id)
    if (r && r.status !== 'running') return r
    if (Date.now() > until) throw new Error(`report ${id} still running`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
