// The text tools run in worker threads: a flood of the largest pastes from
// several callers, each at its limit, must not stall /healthz (the event
// loop); over the queue bound the API answers 503 with Retry-After at once;
// a job past its time budget is stopped with 422 and the pool goes on.
// The 50 ms p99 target is measured by `npm run bench:tools-flood`; this
// test asserts loosely, for a loaded machine.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { testApp, randomLoopback } from '../helpers.js'

const ja = 'サーバーの設定を変更しました。再起動後に送信テストをお願いします。件名：【重要】（ＩＤ：ABC-123）\n'
/** UTF-8 read as latin1, just under the 256 KiB input cap: about a second of work for the repair. */
export function heavyMojibake (): string {
  let s = Buffer.from(ja.repeat(3000), 'utf8').toString('latin1')
  while (Buffer.byteLength(s) > 256 * 1024) s = s.slice(0, Math.floor(s.length * 0.95))
  return s
}

function get (port: number, path: string): Promise<{ status: number, ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }))
    }).on('error', reject)
  })
}

t.test('over the queue bound: 503 with Retry-After at once; past the budget: 422', async (t) => {
  const app = await testApp({ TOOLS_THREADS: '1', TOOLS_QUEUE: '1', RATE_LIMITS: 'tools=1000/600' })
  t.teardown(() => app.close())
  const text = heavyMojibake()
  const post = () => app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text }, remoteAddress: randomLoopback() })
  const answers = await Promise.all(Array.from({ length: 6 }, post))
  const codes = answers.map((r) => r.statusCode)
  t.equal(codes.filter((c) => c === 200).length, 2, `one running, one queued: ${codes.join(' ')}`)
  const busy = answers.filter((r) => r.statusCode === 503)
  t.equal(busy.length, 4, 'the rest are refused')
  for (const r of busy) {
    t.equal(r.json().error, 'tools_busy')
    t.ok(Number(r.headers['retry-after']) >= 1, 'with Retry-After')
  }
  // The page says so too, in its language.
  const pages = await Promise.all(Array.from({ length: 4 }, () => app.inject({ method: 'POST', url: '/tools/mojibake?lang=ja', payload: `text=${encodeURIComponent(text)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: randomLoopback() })))
  const page503 = pages.find((p) => p.statusCode === 503)
  t.ok(page503, 'a busy page answer')
  t.match(page503?.body ?? '', /混み合って/)

  const strict = await testApp({ TOOLS_THREADS: '1', TOOLS_TIMEOUT_MS: '100', RATE_LIMITS: 'tools=1000/600' })
  t.teardown(() => strict.close())
  const slow = await strict.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text }, remoteAddress: randomLoopback() })
  t.equal(slow.statusCode, 422, slow.body.slice(0, 200))
  t.equal(slow.json().error, 'too_complex')
  const small = await strict.inject({ method: 'POST', url: '/api/v1/tools/headers', payload: { raw: 'Subject: hello\n' }, remoteAddress: randomLoopback() })
  t.equal(small.statusCode, 200, 'the pool goes on with a fresh thread')
})

t.test('/healthz keeps answering while the tools are flooded from several callers', async (t) => {
  const perCaller = 4
  const app = await testApp({ RATE_LIMITS: `tools=${perCaller}/600` })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  const text = heavyMojibake()
  // Warm the pool (a thread loads the tools once), then flood.
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text: 'abc' }, remoteAddress: '127.9.9.9' })).statusCode, 200)

  const callers = ['127.1.0.1', '127.1.0.2', '127.1.0.3']
  const state = { flooding: true }
  const codes: number[] = []
  const flood = Promise.all(callers.map(async (ip) => {
    // Each caller keeps two requests in flight until its limit answers 429.
    const one = async (): Promise<void> => {
      for (;;) {
        const r = await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text }, remoteAddress: ip })
        codes.push(r.statusCode)
        if (r.statusCode === 429) return
      }
    }
    await Promise.all([one(), one()])
  })).finally(() => { state.flooding = false })

  const samples: number[] = []
  while (state.flooding) {
    const r = await get(port, '/healthz')
    t.equal(r.status, 200)
    samples.push(r.ms)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await flood
  const worked = codes.filter((c) => c === 200).length
  t.ok(worked >= callers.length * 2, `the tools did work meanwhile (${codes.join(' ')})`)
  t.ok(codes.includes(429), 'every caller went up to its limit')
  samples.sort((a, b) => a - b)
  const p99 = samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))]
  t.ok(samples.length >= 20, `${samples.length} samples`)
  // Loose on a shared machine: one job on the event loop would hold it for about a second.
  t.ok(p99 < 750, `/healthz p99 ${p99.toFixed(1)} ms, max ${samples.at(-1)!.toFixed(1)} ms over ${samples.length} samples`)
  t.comment(`/healthz during the flood: p50 ${samples[Math.floor(samples.length / 2)].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ${samples.length} samples, ${worked} jobs done`)
})
