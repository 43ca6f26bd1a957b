// bench:tools-flood — /healthz latency while the text tools are flooded at
// their limit from several callers. The real server build runs as its own
// process; three callers (their own loopback source addresses) each keep two
// requests in flight until their limit answers 429, cycling through the
// largest answers the tools give: the mojibake repair and the header
// analyzer of a 256 KiB paste, as JSON and as a result page. Meanwhile a
// /healthz request starts every 20 ms (on a fixed clock: a slow answer does
// not thin the samples; a failed one counts as infinitely slow) for the
// whole flood, from a thread of its own. Printed: p50/p99/max of
// /healthz idle and during the flood, the server's own event-loop delay
// during the flood (from /metrics), and the load average at the start and
// the end. Target: /healthz p99 < 50 ms; exits 1 when missed.
//   npm run bench:tools-flood   (BENCH_PER_CALLER=16 BENCH_CALLERS=3)
//   BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the server.
import http from 'node:http'
import { Worker } from 'node:worker_threads'
import { buildServer, startServer, freePort } from '../test/ops/fixtures.js'
import { uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { machine, fmt, load, percentile } from './common.js'

const perCaller = Number(process.env.BENCH_PER_CALLER ?? 16)
const callers = Array.from({ length: Number(process.env.BENCH_CALLERS ?? 3) }, (_, i) => `127.0.${i + 10}.1`)
const TARGET_P99_MS = 50
const EVERY_MS = 20

const LIMIT = 256 * 1024
function fit (s: string): string {
  let out = s
  while (Buffer.byteLength(out) > LIMIT) out = out.slice(0, Math.floor(out.length * 0.95))
  return out
}
const ja = 'サーバーの設定を変更しました。再起動後に送信テストをお願いします。件名：【重要】（ＩＤ：ABC-123）\n'
const garbled = fit(Buffer.from(ja.repeat(3000), 'utf8').toString('latin1'))
const hops = fit(Array.from({ length: 3000 }, (_, i) => `Received: from h${i}.example.com (h${i}.example.com [198.51.100.${i % 250}])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby mx${i}.example.net (Postfix) with ESMTPS id Q${i}\n\tfor <u@example.net>; Mon, 1 Jan 2024 00:00:${String(i % 60).padStart(2, '0')} +0000`).join('\n'))

interface Kind { name: string, path: string, body: string, type: string }
const KINDS: Kind[] = [
  { name: 'mojibake JSON', path: '/api/v1/tools/mojibake', body: JSON.stringify({ text: garbled }), type: 'application/json' },
  { name: 'headers JSON', path: '/api/v1/tools/headers', body: JSON.stringify({ raw: hops }), type: 'application/json' },
  { name: 'mojibake page', path: '/tools/mojibake', body: new URLSearchParams({ text: garbled }).toString(), type: 'application/x-www-form-urlencoded' },
  { name: 'headers page', path: '/tools/headers', body: new URLSearchParams({ raw: hops }).toString(), type: 'application/x-www-form-urlencoded' }
]

function request (port: number, path: string, o: { method?: string, body?: string, type?: string, localAddress?: string } = {}): Promise<{ status: number, ms: number, bytes: number, text: string }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', localAddress: o.localAddress, agent: false, headers: o.body ? { 'content-type': o.type ?? 'application/json', 'content-length': Buffer.byteLength(o.body) } : {} }, (res) => {
      let bytes = 0
      const keep = path === '/metrics'
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => { bytes += d.length; if (keep) chunks.push(d) })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, bytes, text: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(o.body)
  })
}

/** The server's event-loop delay since the previous scrape (ms), from its /metrics. */
async function loopDelay (port: number): Promise<{ p99: number, max: number }> {
  const text = (await request(port, '/metrics')).text
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000
  return { p99: read('mxprobe_nodejs_eventloop_lag_p99_seconds'), max: read('mxprobe_nodejs_eventloop_lag_max_seconds') }
}

/**
 * /healthz every EVERY_MS ms on a fixed clock until stop() (each sample a full round trip),
 * from a thread of its own: the flood's own work here (writing 750 KB bodies, reading 3 MB
 * answers) would otherwise delay the samples' timers and callbacks and be counted as the server's.
 */
const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads')
const http = require('node:http')
const ms = []
let pending = 0
let stopping = false
const done = () => { if (stopping && pending === 0) parentPort.postMessage(ms) }
const timer = setInterval(() => {
  const t0 = performance.now()
  pending++
  http.get({ host: '127.0.0.1', port: workerData.port, path: '/healthz', agent: false }, (res) => {
    res.resume()
    res.on('end', () => { if (res.statusCode === 200) ms.push(performance.now() - t0); else ms.push(Infinity); pending--; done() })
  }).on('error', () => { ms.push(Infinity); pending--; done() })
}, workerData.every)
parentPort.on('message', () => { clearInterval(timer); stopping = true; done() })
`
function sampleHealthz (port: number): { stop: () => Promise<number[]> } {
  const w = new Worker(SAMPLER, { eval: true, workerData: { port, every: EVERY_MS } })
  return {
    stop: async () => {
      const got = new Promise<number[]>((resolve) => w.once('message', resolve))
      w.postMessage('stop')
      const ms = await got
      await w.terminate()
      return ms.sort((a, b) => a - b)
    }
  }
}

function row (label: string, s: number[]): string {
  return `| ${label} | ${s.length} | ${fmt(percentile(s, 0.5))} | ${fmt(percentile(s, 0.99))} | ${fmt(s.at(-1)!)} |`
}

async function main (): Promise<void> {
  const build = buildServer()
  const port = await freePort()
  const srv = await startServer(build.serverJs, {
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL,
    REDIS_PREFIX: uniquePrefix(),
    HELO_NAME: 'probe.mxprobe.test',
    RATE_LIMITS: `tools=${perCaller}/600`,
    LOG_LEVEL: 'warn'
  }, { quiet: true, nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) })
  const loadStart = load()
  let idle: number[] = []
  let busy: number[] = []
  let loop = { p99: NaN, max: NaN }
  const codes = new Map<string, Record<number, number>>()
  const answerBytes = new Map<string, number>()
  let floodS = 0
  try {
    // Warm the pool (its thread loads the tools once) from an address that is not a flooding caller.
    await request(port, '/api/v1/tools/mojibake', { method: 'POST', body: JSON.stringify({ text: 'abc' }), localAddress: '127.0.9.1' })
    const quiet = sampleHealthz(port)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    idle = await quiet.stop()
    await loopDelay(port) // starts the server's samples afresh
    const t0 = performance.now()
    const during = sampleHealthz(port)
    await Promise.all(callers.map(async (ip, c) => {
      let next = c // callers start on different kinds
      const one = async (): Promise<void> => {
        for (;;) {
          const kind = KINDS[next++ % KINDS.length]
          const r = await request(port, kind.path, { method: 'POST', body: kind.body, type: kind.type, localAddress: ip })
          const k = codes.get(kind.name) ?? {}
          k[r.status] = (k[r.status] ?? 0) + 1
          codes.set(kind.name, k)
          if (r.status === 200) answerBytes.set(kind.name, r.bytes)
          if (r.status === 429) return
        }
      }
      await Promise.all([one(), one()])
    }))
    floodS = (performance.now() - t0) / 1000
    busy = await during.stop()
    loop = await loopDelay(port)
  } finally {
    await srv.stop()
  }
  const p99 = percentile(busy, 0.99)
  const met = p99 < TARGET_P99_MS
  console.log(`\nbench:tools-flood  ${machine()}`)
  console.log(`load average at the start ${loadStart}, at the end ${load()}`)
  console.log(`${callers.length} callers × limit ${perCaller} (tools=${perCaller}/600), two requests in flight each; flood lasted ${fmt(floodS)} s`)
  for (const k of KINDS) console.log(`  ${k.name.padEnd(14)} ${Math.round(Buffer.byteLength(k.body) / 1024)} KiB in, ${Math.round((answerBytes.get(k.name) ?? 0) / 1024)} KiB out; answers ${Object.entries(codes.get(k.name) ?? {}).map(([s, n]) => `${s}:${n}`).join(' ')}`)
  console.log(`\n| /healthz (one every ${EVERY_MS} ms) | samples | p50 ms | p99 ms | max ms |`)
  console.log('| --- | ---: | ---: | ---: | ---: |')
  console.log(row('idle', idle))
  console.log(row('during the flood', busy))
  console.log(`\nserver event-loop delay during the flood (its own monitor, a sample every 200 ms): p99 ${fmt(loop.p99)} ms, max ${fmt(loop.max)} ms`)
  console.log(`target /healthz p99 < ${TARGET_P99_MS} ms during the flood: ${met ? 'MET' : 'MISSED'}`)
  if (!met) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exit(1) })
