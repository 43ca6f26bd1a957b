// bench:http — requests/s and p99 latency of GET /api/v1/ip and
// POST /api/v1/checks/dns (Redis-backed rate limits, real Redis, a local dns2
// server) beside a bare fastify hello-world, all as separate processes on this
// machine in the same run, driven by autocannon. Target: /api/v1/ip at
// ≥ 70 % of the bare figure.
//   npm run bench:http            (BENCH_SECONDS=10 BENCH_CONNECTIONS=50)
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { reverseName } from '../test/fixtures/dns.js'
import { buildServer, startServer, freePort, ROOT } from '../test/ops/fixtures.js'
import { uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { machine, fmt, startDnsProcess, load } from './common.js'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
const pairSeconds = Number(process.env.BENCH_PAIR_SECONDS ?? 3)

// autocannon ships no type declarations: the little of its API used here.
interface CannonOptions { url: string, method?: string, headers?: Record<string, string>, body?: string, duration?: number, connections?: number }
interface CannonResult { requests: { average: number }, latency: { p50: number, p99: number }, statusCodeStats?: Record<string, { count: number }>, '2xx': number, non2xx: number }
const autocannon = createRequire(import.meta.url)('autocannon') as (o: CannonOptions) => Promise<CannonResult>

interface Row { name: string, rps: number, p50: number, p99: number, codes: string }

async function run (name: string, opts: CannonOptions, duration = seconds): Promise<Row> {
  // a short warm-up (JIT, keep-alive sockets, DNS cache) that is not counted
  await autocannon({ ...opts, duration: 1, connections })
  const r = await autocannon({ ...opts, duration, connections })
  const codes = Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => `${k}:${v.count}`).join(' ')
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, codes: codes || `2xx:${r['2xx']} non2xx:${r.non2xx}` }
}

function median (runs: Row[]): Row {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps)
  const m = sorted[Math.floor(sorted.length / 2)]
  return { ...m, name: `${m.name} (median of ${runs.length}: ${runs.map((r) => fmt(r.rps, 0)).join(', ')})` }
}

async function startBare (port: number): Promise<ChildProcess> {
  const code = `import Fastify from 'fastify'
const app = Fastify({ logger: false })
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ port: ${port}, host: '127.0.0.1' })`
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return p } catch {}
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('bare fastify did not start')
}

async function main (): Promise<void> {
  const dns = await startDnsProcess({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: ['127.0.0.1'] },
    [reverseName('127.0.0.1')]: { PTR: ['localhost.bench'] },
    'localhost.bench': { A: ['127.0.0.1'] }
  })
  const build = buildServer()
  const barePort = await freePort()
  const bare = await startBare(barePort)
  const base = {
    HOST: '127.0.0.1',
    REDIS_URL,
    DNS_SERVERS: dns.server,
    HELO_NAME: 'probe.mxprobe.test',
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info'
  }
  // Limits raised so the figures are of the work, not of 429s; one more run with the defaults shows refusals.
  const high = await startServer(build.serverJs, { ...base, PORT: String(await freePort()), REDIS_PREFIX: uniquePrefix(), RATE_LIMITS: 'dns=100000000/60', DOMAIN_RATE_LIMITS: 'dns=100000000/60' }, { quiet: true })
  const dflt = await startServer(build.serverJs, { ...base, PORT: String(await freePort()), REDIS_PREFIX: uniquePrefix() }, { quiet: true })
  const rows: Row[] = []
  const bareRuns: Row[] = []
  const ipRuns: Row[] = []
  try {
    // Other work on a shared machine comes and goes: bare and /api/v1/ip alternate, medians are kept.
    for (let i = 0; i < rounds; i++) {
      bareRuns.push(await run('bare fastify GET /', { url: `http://127.0.0.1:${barePort}/` }, pairSeconds))
      ipRuns.push(await run('mxprobe GET /api/v1/ip', { url: `${high.url}/api/v1/ip` }, pairSeconds))
    }
    rows.push(median(bareRuns), median(ipRuns))
    rows.push(await run('mxprobe POST /api/v1/checks/dns (limits raised)', { url: `${high.url}/api/v1/checks/dns`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'home.example' }) }))
    rows.push(await run('mxprobe POST /api/v1/checks/dns (default limits: 429s)', { url: `${dflt.url}/api/v1/checks/dns`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'home.example' }) }))
  } finally {
    bare.kill()
    await high.stop()
    await dflt.stop()
    dns.stop()
  }
  const bareRps = rows[0].rps
  // Each round ran bare then /api/v1/ip back to back: their ratio is least disturbed by load that comes and goes.
  const ratios = ipRuns.map((r, i) => r.rps / bareRuns[i].rps).sort((x, y) => x - y)
  const pairedRatio = ratios[Math.floor(ratios.length / 2)]
  const bestRatio = Math.max(...ipRuns.map((r) => r.rps)) / Math.max(...bareRuns.map((r) => r.rps))
  console.log(`\nbench:http  ${machine()}`)
  console.log(`autocannon: ${connections} connections, ${seconds} s per run (after 1 s warm-up); bare and /api/v1/ip: ${rounds} alternating rounds of ${pairSeconds} s; Redis ${REDIS_URL}; LOG_LEVEL=${base.LOG_LEVEL}; load average at the end ${load()}\n`)
  console.log('| endpoint | req/s | p50 ms | p99 ms | % of bare | status codes |')
  console.log('| --- | ---: | ---: | ---: | ---: | --- |')
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.rps, 0)} | ${r.p50} | ${r.p99} | ${fmt(100 * r.rps / bareRps, 0)} % | ${r.codes} |`)
  console.log(`\n/api/v1/ip vs bare fastify: median of paired rounds ${fmt(100 * pairedRatio, 0)} % (rounds: ${ratios.map((x) => fmt(100 * x, 0)).join(', ')}), best vs best ${fmt(100 * bestRatio, 0)} %`)
  console.log(`target ≥ 70 %: ${pairedRatio >= 0.7 ? 'MET' : 'MISSED'} (by the paired median)`)
  // a bench that can fail: a missed target is a non-zero exit
  if (pairedRatio < 0.7) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exit(1) })
