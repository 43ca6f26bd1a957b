// bench:http — GET /api/v1/ip against a bare fastify, paired: a bare server
// (A), mxprobe and a second bare server (B) run one after the other, round
// after round; each round's ratio is mxprobe against the mean of the bare
// runs around it, and B against A is the control row (what "the same server"
// scores against itself on this machine now). Medians of the rounds count.
// Then POST /api/v1/checks/dns (Redis-backed limits, a local dns2 server).
// Target: /api/v1/ip ≥ 90 % of bare by the paired median; exits 1 when
// missed. The figures are also written into bench/RESULTS.md.
//   npm run bench:http   (BENCH_ROUNDS=3 BENCH_PAIR_SECONDS=5 BENCH_CONNECTIONS=50 BENCH_SECONDS=10)
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { reverseName } from '../test/fixtures/dns.js'
import { buildServer, startServer, freePort, ROOT } from '../test/ops/fixtures.js'
import { uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { machine, fmt, startDnsProcess, load } from './common.js'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const pairSeconds = Number(process.env.BENCH_PAIR_SECONDS ?? 5)
const TARGET = 0.9

// autocannon ships no type declarations: the little of its API used here.
interface CannonOptions { url: string, method?: string, headers?: Record<string, string>, body?: string, duration?: number, connections?: number }
interface CannonResult { requests: { average: number, total: number }, latency: { p50: number, p99: number }, statusCodeStats?: Record<string, { count: number }>, '2xx': number, non2xx: number }
const autocannon = createRequire(import.meta.url)('autocannon') as (o: CannonOptions) => Promise<CannonResult>

interface Row { name: string, rps: number, p50: number, p99: number, codes: string, cpuUs: number }

/** CPU seconds (user + system) a process has used so far, from /proc: load elsewhere does not change it. */
function cpuSeconds (pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch { return NaN }
}

async function run (name: string, opts: CannonOptions, duration = seconds, pid?: number): Promise<Row> {
  // a short warm-up (JIT, keep-alive sockets, DNS cache) that is not counted
  await autocannon({ ...opts, duration: 1, connections })
  const cpu0 = cpuSeconds(pid)
  const r = await autocannon({ ...opts, duration, connections })
  const cpuUs = (cpuSeconds(pid) - cpu0) * 1e6 / Math.max(1, r.requests.total)
  const codes = Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => `${k}:${v.count}`).join(' ')
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, codes: codes || `2xx:${r['2xx']} non2xx:${r.non2xx}`, cpuUs }
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

function ratioMedian (xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y)
  return sorted[Math.floor(sorted.length / 2)]
}

async function main (): Promise<void> {
  const dns = await startDnsProcess({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: ['127.0.0.1'] },
    [reverseName('127.0.0.1')]: { PTR: ['localhost.bench'] },
    'localhost.bench': { A: ['127.0.0.1'] }
  })
  const build = buildServer()
  const bareAPort = await freePort()
  const bareA = await startBare(bareAPort)
  const bareBPort = await freePort()
  const bareB = await startBare(bareBPort)
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
  const aRuns: Row[] = []
  const ipRuns: Row[] = []
  const bRuns: Row[] = []
  const ipRatios: number[] = []
  const controlRatios: number[] = []
  const cpuRatios: number[] = []
  const cpuControl: number[] = []
  try {
    for (let i = 0; i < rounds; i++) {
      aRuns.push(await run('bare fastify A GET /', { url: `http://127.0.0.1:${bareAPort}/` }, pairSeconds, bareA.pid))
      ipRuns.push(await run('mxprobe GET /api/v1/ip', { url: `${high.url}/api/v1/ip` }, pairSeconds, high.proc.pid))
      bRuns.push(await run('bare fastify B GET / (control)', { url: `http://127.0.0.1:${bareBPort}/` }, pairSeconds, bareB.pid))
      const bare = (aRuns[i].rps + bRuns[i].rps) / 2
      ipRatios.push(ipRuns[i].rps / bare)
      controlRatios.push(bRuns[i].rps / aRuns[i].rps)
      cpuRatios.push(((aRuns[i].cpuUs + bRuns[i].cpuUs) / 2) / ipRuns[i].cpuUs)
      cpuControl.push(aRuns[i].cpuUs / bRuns[i].cpuUs)
    }
    rows.push(median(aRuns), median(bRuns), median(ipRuns))
    rows.push(await run('mxprobe POST /api/v1/checks/dns (limits raised)', { url: `${high.url}/api/v1/checks/dns`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'home.example' }) }, seconds, high.proc.pid))
    rows.push(await run('mxprobe POST /api/v1/checks/dns (default limits: 429s)', { url: `${dflt.url}/api/v1/checks/dns`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: 'home.example' }) }, seconds, dflt.proc.pid))
  } finally {
    bareA.kill()
    bareB.kill()
    await high.stop()
    await dflt.stop()
    dns.stop()
  }
  const bareRps = rows[0].rps
  const paired = ratioMedian(ipRatios)
  const control = ratioMedian(controlRatios)
  const met = paired >= TARGET
  const pct = (x: number) => `${fmt(100 * x, 0)} %`
  const out: string[] = []
  out.push(`Run ${machine()}; load average at the end ${load()}.`)
  out.push(`autocannon, ${connections} connections; bare A, mxprobe, bare B alternate in ${rounds} rounds of ${pairSeconds} s (after 1 s warm-up each); the DNS rows run ${seconds} s; Redis ${REDIS_URL}; LOG_LEVEL=${base.LOG_LEVEL}.`)
  out.push('')
  out.push('| endpoint | req/s | p50 ms | p99 ms | % of bare A | server CPU µs/request | status codes |')
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const r of rows) out.push(`| ${r.name} | ${fmt(r.rps, 0)} | ${r.p50} | ${r.p99} | ${pct(r.rps / bareRps)} | ${fmt(r.cpuUs, 0)} | ${r.codes} |`)
  out.push('')
  out.push('| paired ratio (median of the rounds) | median | rounds |')
  out.push('| --- | ---: | --- |')
  out.push(`| control: bare B vs bare A | ${pct(control)} | ${controlRatios.map(pct).join(', ')} |`)
  out.push(`| mxprobe GET /api/v1/ip vs bare (mean of A and B around it) | **${pct(paired)}** | ${ipRatios.map(pct).join(', ')} |`)
  out.push(`| CPU per request, control: bare B's efficiency vs bare A's | ${pct(ratioMedian(cpuControl))} | ${cpuControl.map(pct).join(', ')} |`)
  out.push(`| CPU per request: mxprobe's efficiency vs bare's (bare µs / mxprobe µs) | ${pct(ratioMedian(cpuRatios))} | ${cpuRatios.map(pct).join(', ')} |`)
  out.push('')
  out.push(`Target ≥ ${pct(TARGET)} of bare: **${met ? 'MET' : 'MISSED'}** (by the paired median of req/s). The CPU rows are the steadier figure on a shared machine: CPU time a server process spent per answered request, which other load barely moves.`)
  const text = out.join('\n')
  console.log(`\nbench:http\n\n${text}`)
  if (process.env.BENCH_WRITE !== '0') writeResults(text)
  if (!met) process.exitCode = 1
}

/** Replace the generated block of the bench:http section in bench/RESULTS.md. */
function writeResults (text: string): void {
  const file = join(ROOT, 'bench/RESULTS.md')
  const begin = '<!-- bench:http latest (written by npm run bench:http) -->'
  const end = '<!-- /bench:http latest -->'
  const md = readFileSync(file, 'utf8')
  const block = `${begin}\n${text}\n${end}`
  const i = md.indexOf(begin)
  const j = md.indexOf(end)
  if (i >= 0 && j > i) writeFileSync(file, md.slice(0, i) + block + md.slice(j + end.length))
  else writeFileSync(file, md.replace('## bench:http — `npm run bench:http`\n', `## bench:http — \`npm run bench:http\`\n\n${block}\n`))
}

main().catch((err) => { console.error(err); process.exit(1) })
