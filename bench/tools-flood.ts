// bench:tools-flood — /healthz latency while the text tools are flooded at
// their limit from several callers. The real server build runs as its own
// process; three callers (their own loopback source addresses) each keep two
// of the largest mojibake pastes in flight until their limit answers 429,
// while /healthz is asked every 20 ms. Target: /healthz p99 < 50 ms; exits 1
// when missed.
//   npm run bench:tools-flood   (BENCH_PER_CALLER=6 BENCH_CALLERS=3)
import http from 'node:http'
import { buildServer, startServer, freePort } from '../test/ops/fixtures.js'
import { uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { machine, fmt, load, percentile } from './common.js'

const perCaller = Number(process.env.BENCH_PER_CALLER ?? 6)
const callers = Array.from({ length: Number(process.env.BENCH_CALLERS ?? 3) }, (_, i) => `127.0.${i + 10}.1`)
const TARGET_P99_MS = 50

const ja = 'サーバーの設定を変更しました。再起動後に送信テストをお願いします。件名：【重要】（ＩＤ：ABC-123）\n'
let text = Buffer.from(ja.repeat(3000), 'utf8').toString('latin1')
while (Buffer.byteLength(text) > 256 * 1024) text = text.slice(0, Math.floor(text.length * 0.95))
const body = JSON.stringify({ text })

function request (port: number, path: string, o: { method?: string, body?: string, localAddress?: string } = {}): Promise<{ status: number, ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', localAddress: o.localAddress, agent: false, headers: o.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(o.body) } : {} }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }))
    })
    req.on('error', reject)
    req.end(o.body)
  })
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
  }, { quiet: true })
  const idle: number[] = []
  const busy: number[] = []
  const codes: Record<number, number> = {}
  let t0 = 0
  try {
    // Warm the pool (its thread loads the tools once) from an address that is not a flooding caller.
    await request(port, '/api/v1/tools/mojibake', { method: 'POST', body: JSON.stringify({ text: 'abc' }), localAddress: '127.0.9.1' })
    for (let i = 0; i < 50; i++) { idle.push((await request(port, '/healthz')).ms); await new Promise((resolve) => setTimeout(resolve, 20)) }
    const state = { flooding: true }
    t0 = performance.now()
    const flood = Promise.all(callers.map(async (ip) => {
      const one = async (): Promise<void> => {
        for (;;) {
          const r = await request(port, '/api/v1/tools/mojibake', { method: 'POST', body, localAddress: ip })
          codes[r.status] = (codes[r.status] ?? 0) + 1
          if (r.status === 429) return
        }
      }
      await Promise.all([one(), one()])
    })).finally(() => { state.flooding = false })
    while (state.flooding) {
      busy.push((await request(port, '/healthz')).ms)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await flood
  } finally {
    await srv.stop()
  }
  const floodS = (performance.now() - t0) / 1000
  idle.sort((a, b) => a - b)
  busy.sort((a, b) => a - b)
  const p99 = percentile(busy, 0.99)
  const met = p99 < TARGET_P99_MS
  console.log(`\nbench:tools-flood  ${machine()}; load average at the end ${load()}`)
  console.log(`${callers.length} callers × limit ${perCaller} (tools=${perCaller}/600), two 256 KiB mojibake pastes in flight each; flood lasted ${fmt(floodS)} s; answers ${Object.entries(codes).map(([k, v]) => `${k}:${v}`).join(' ')}\n`)
  console.log('| /healthz | samples | p50 ms | p99 ms | max ms |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  console.log(`| idle | ${idle.length} | ${fmt(percentile(idle, 0.5))} | ${fmt(percentile(idle, 0.99))} | ${fmt(idle.at(-1)!)} |`)
  console.log(`| during the flood | ${busy.length} | ${fmt(percentile(busy, 0.5))} | ${fmt(p99)} | ${fmt(busy.at(-1)!)} |`)
  console.log(`\ntarget /healthz p99 < ${TARGET_P99_MS} ms during the flood: ${met ? 'MET' : 'MISSED'}`)
  if (!met) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exit(1) })
