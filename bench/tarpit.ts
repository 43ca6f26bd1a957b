// bench:tarpit — 500 checks at once against tarpit "home servers" that accept
// and then say nothing (or trickle a byte now and then), each from its own
// caller IP (127.77.x.y through X-Forwarded-For from a trusted proxy
// address). Measured: peak RSS of the server process (VmHWM), the latency of
// /healthz requests meanwhile (what the HTTP side feels) and the server's own
// event-loop lag p99, and that every check ended by its deadline.
// Targets: peak RSS < 300 MB, HTTP-side p99 < 50 ms.
//   npm run bench:tarpit   (TARPIT_CHECKS=500 TARPIT_MODE=silent|trickle TARPIT_PORTS=25)
import net from 'node:net'
import http from 'node:http'
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { buildServer, startServer, freePort } from '../test/ops/fixtures.js'
import { uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { machine, percentile, fmt, load } from './common.js'

const N = Number(process.env.TARPIT_CHECKS ?? 500)
const MODE = process.env.TARPIT_MODE ?? 'silent'
const PORTS = (process.env.TARPIT_PORTS ?? '25').split(',').map(Number)
const DEADLINE_MS = Number(process.env.TARPIT_DEADLINE_MS ?? 8000)

function callerAddress (i: number): string {
  return `127.77.${Math.floor(i / 250)}.${(i % 250) + 2}`
}

async function startTarpits (): Promise<{ accepted: () => number, close: () => void }> {
  let accepted = 0
  const servers: net.Server[] = []
  const sockets = new Set<net.Socket>()
  for (let i = 0; i < N; i++) {
    for (const port of PORTS) {
      const s = net.createServer((c) => {
        accepted++
        sockets.add(c)
        c.on('error', () => {})
        c.on('close', () => sockets.delete(c))
        if (MODE === 'trickle') {
          // a greeting that never ends: one byte every 700 ms
          const t = setInterval(() => { if (!c.destroyed) c.write('2') }, 700)
          c.on('close', () => clearInterval(t))
        }
      })
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, callerAddress(i), () => resolve()) })
      servers.push(s)
    }
  }
  return { accepted: () => accepted, close: () => { for (const c of sockets) c.destroy(); for (const s of servers) s.close() } }
}

function vmHwmMb (pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)
  return m ? Number(m[1]) / 1024 : NaN
}

async function main (): Promise<void> {
  const build = buildServer()
  const tarpits = await startTarpits()
  const port = await freePort()
  const server = await startServer(build.serverJs, {
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL,
    REDIS_PREFIX: uniquePrefix(),
    TRUST_PROXY: '127.0.0.1',
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    HELO_NAME: 'probe.mxprobe.test',
    LOG_LEVEL: 'warn',
    CONCURRENCY_TOTAL: String(N * 2),
    CONCURRENCY_PER_CALLER: '3',
    CHECK_DEADLINE_MS: String(DEADLINE_MS),
    BANNER_TIMEOUT_MS: '30000',
    CONNECT_TIMEOUT_MS: '5000'
  // TARPIT_PROFILE=dir writes a CPU profile of the server there
  }, {
    quiet: true,
    nodeArgs: [
      ...(process.env.TARPIT_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TARPIT_PROFILE}`] : []),
      // TARPIT_NODE_ARGS="--max-semi-space-size=32": try V8 settings on the server
      ...(process.env.TARPIT_NODE_ARGS ?? '').split(' ').filter(Boolean)
    ]
  })
  const pid = server.proc.pid!
  const rssBefore = vmHwmMb(pid)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

  // the HTTP side, measured from outside while the checks run
  const healthMs: Array<{ at: number, ms: number }> = []
  let probing = true
  // prom-client's lag histogram resets on every scrape: scrape once so start-up does not count
  await fetch(`${server.url}/metrics`).then((r) => r.text())
  // the bench process's own lag: a /healthz timing includes it
  const ownLag = monitorEventLoopDelay({ resolution: 10 })
  ownLag.enable()
  const healthLoop = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- set by the main flow once the flood is over
    while (probing) {
      const t0 = performance.now()
      await fetch(`${server.url}/healthz`).then((r) => r.text())
      healthMs.push({ at: Date.now(), ms: performance.now() - t0 })
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()

  const post = (i: number) => new Promise<{ status: number, body: string }>((resolve, reject) => {
    const body = JSON.stringify({ ports: PORTS })
    const req = http.request(`${server.url}/api/v1/checks/ports?async=1`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'x-forwarded-for': callerAddress(i) } }, (res) => {
      let s = ''
      res.setEncoding('utf8').on('data', (d) => { s += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: s }))
    })
    req.on('error', reject)
    req.end(body)
  })

  const t0 = Date.now()
  const started = await Promise.all(Array.from({ length: N }, (_, i) => post(i)))
  const submitMs = Date.now() - t0
  const ids = started.filter((r) => r.status === 202).map((r) => JSON.parse(r.body).id as string)
  const refused = started.filter((r) => r.status !== 202)
  let peakAccepted = 0
  // wait until every check is over (the server's own count), then a little more for the last report writes
  for (;;) {
    peakAccepted = Math.max(peakAccepted, tarpits.accepted())
    const ready = await fetch(`${server.url}/readyz`).then((r) => r.json() as Promise<{ running: number }>)
    if (ready.running === 0 || Date.now() - t0 > DEADLINE_MS + 30_000) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  const wallMs = Date.now() - t0
  probing = false
  await healthLoop
  const peakRss = vmHwmMb(pid)
  const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text())
  const lagP99 = Number(metrics.match(/^mxprobe_nodejs_eventloop_lag_p99_seconds (\S+)/m)?.[1] ?? NaN) * 1000
  const lagMax = Number(metrics.match(/^mxprobe_nodejs_eventloop_lag_max_seconds (\S+)/m)?.[1] ?? NaN) * 1000

  // every check ended, and by its deadline
  const durations: number[] = []
  const statuses: Record<string, number> = {}
  let late = 0
  let unfinished = 0
  for (const id of ids) {
    const r = await fetch(`${server.url}/api/v1/checks/${id}`).then((x) => x.json() as Promise<{ status: string, startedAt: string, finishedAt: string | null }>)
    statuses[r.status] = (statuses[r.status] ?? 0) + 1
    if (!r.finishedAt) { unfinished++; continue }
    const d = Date.parse(r.finishedAt) - Date.parse(r.startedAt)
    durations.push(d)
    if (d > DEADLINE_MS + 500) late++
  }
  await server.stop()
  tarpits.close()
  agent.destroy()

  ownLag.disable()
  const submittedAt = t0 + submitMs
  const sortedHealth = healthMs.map((h) => h.ms).sort((a, b) => a - b)
  const waiting = healthMs.filter((h) => h.at > submittedAt).map((h) => h.ms).sort((a, b) => a - b)
  const sortedDur = [...durations].sort((a, b) => a - b)
  console.log(`\nbench:tarpit  ${machine()}  load ${load()}`)
  console.log(`${N} ports checks (ports ${PORTS.join(',')}) against ${MODE} servers, each from its own caller IP; CHECK_DEADLINE_MS=${DEADLINE_MS}\n`)
  console.log('| figure | value | target |')
  console.log('| --- | ---: | --- |')
  console.log(`| checks accepted (202) / refused | ${ids.length} / ${refused.length}${refused.length ? ` (${[...new Set(refused.map((r) => r.status))].join(',')})` : ''} | all accepted |`)
  console.log(`| submitting all ${N} | ${submitMs} ms | |`)
  console.log(`| tarpit connections accepted | ${peakAccepted} | ${N * PORTS.length} |`)
  console.log(`| peak RSS of the server (VmHWM) | ${fmt(peakRss, 0)} MB (idle ${fmt(rssBefore, 0)} MB) | < 300 MB ${peakRss < 300 ? 'MET' : 'MISSED'} |`)
  console.log(`| /healthz latency meanwhile: p50 / p99 / max (${healthMs.length} requests) | ${fmt(percentile(sortedHealth, 0.5))} / ${fmt(percentile(sortedHealth, 0.99))} / ${fmt(sortedHealth.at(-1) ?? NaN)} ms | p99 < 50 ms ${percentile(sortedHealth, 0.99) < 50 ? 'MET' : 'MISSED'} |`)
  console.log(`| /healthz p50 / p99 after submission, while all ${N} wait on tarpits (${waiting.length} requests) | ${fmt(percentile(waiting, 0.5))} / ${fmt(percentile(waiting, 0.99))} ms | |`)
  console.log(`| server event-loop lag p99 / max during the run (prom-client) | ${fmt(lagP99)} / ${fmt(lagMax)} ms | |`)
  console.log(`| bench process's own event-loop lag p99 (included in /healthz timings) | ${fmt(ownLag.percentile(99) / 1e6)} ms | |`)
  console.log(`| check duration p50 / max | ${percentile(sortedDur, 0.5)} / ${sortedDur.at(-1)} ms | ≤ deadline ${DEADLINE_MS} ms |`)
  console.log(`| finished late (> deadline + 0.5 s) / unfinished | ${late} / ${unfinished} | 0 / 0 ${late + unfinished === 0 ? 'MET' : 'MISSED'} |`)
  console.log(`| statuses | ${Object.entries(statuses).map(([k, v]) => `${k}: ${v}`).join(', ')} | |`)
  console.log(`| all over after | ${wallMs} ms | |`)
  // a bench that can fail: any missed target is a non-zero exit
  const met = refused.length === 0 && peakRss < 300 && percentile(sortedHealth, 0.99) < 50 && late + unfinished === 0
  console.log(`\n${met ? 'PASS' : 'FAIL'}: every target ${met ? 'met' : 'not met'}`)
  if (!met) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exit(1) })
