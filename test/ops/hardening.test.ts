// The smaller findings of the outside review, each against the real server:
// the tools' POSTs refuse cross-site requests; query strings are redacted in
// logs; /metrics only for METRICS_ALLOW_CIDRS; the HTTP server drops
// slow-header clients by itself; a Redis on any host and port that fails
// makes the API fail closed (503), not 500; a bad LOG_LEVEL stops start-up
// with a message naming the variable.
import t from 'tap'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { testApp, testConfig, randomLoopback, REDIS_URL } from '../helpers.js'
import { buildApp } from '../../src/app.js'
import { logCapture, freePort, serverEntry, ROOT } from './fixtures.js'
import { loadConfig, ConfigError } from '../../src/config.js'

// Server processes start in this file; tap's default 120 s per file is too tight on a loaded CI machine.
t.setTimeout(300_000)

t.test('the tools\' POST endpoints refuse cross-site requests', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const cases = [
    { url: '/api/v1/tools/headers', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ raw: 'Subject: hi\n' }) },
    { url: '/api/v1/tools/mojibake', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ text: 'Ã£Â\u0081Â\u0082' }) },
    { url: '/tools/headers', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'raw=Subject%3A+hi' },
    { url: '/tools/mojibake', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'text=abc' }
  ]
  for (const c of cases) {
    const cross = await app.inject({ method: 'POST', url: c.url, payload: c.payload, headers: { ...c.headers, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
    t.equal(cross.statusCode, 403, `${c.url}: cross-site refused`)
    t.equal(cross.json().error, 'cross_site')
    const old = await app.inject({ method: 'POST', url: c.url, payload: c.payload, headers: { ...c.headers, origin: 'https://evil.example' } })
    t.equal(old.statusCode, 403, `${c.url}: a foreign Origin without fetch metadata refused`)
    const own = await app.inject({ method: 'POST', url: c.url, payload: c.payload, headers: { ...c.headers, 'sec-fetch-site': 'same-origin' } })
    t.equal(own.statusCode, 200, `${c.url}: mxprobe's own page still works`)
  }
})

t.test('query strings are redacted in the log', async (t) => {
  const cap = logCapture()
  const app = await buildApp(testConfig({ LOG_LEVEL: 'info' }), { logger: pino({ level: 'info' }, cap.stream) })
  t.teardown(() => app.close())
  const r = await app.inject({ method: 'POST', url: '/api/v1/checks/pop3?lang=en&password=hunter2-in-the-url&user=alice', payload: { domain: 'home.example' } })
  t.equal(r.statusCode, 400, 'a password in the query string is refused')
  await app.inject({ method: 'GET', url: '/check/pop3?password=hunter2-in-the-url' })
  await new Promise((resolve) => setTimeout(resolve, 50))
  const all = cap.lines.map((l) => JSON.stringify(l)).join('\n')
  t.notMatch(all, /hunter2/, 'the password in the URL reaches no log line')
  t.notMatch(all, /alice/, 'nor any other value of an unknown parameter')
  t.ok(cap.lines.some((l) => l.url === '/api/v1/checks/pop3?lang=en&password=[redacted]&user=[redacted]'), `the line names the route and the parameters: ${all.slice(0, 600)}`)
})

t.test('/metrics is served only to METRICS_ALLOW_CIDRS (default loopback)', async (t) => {
  const app = await testApp({ TRUST_PROXY: '127.0.0.1' })
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 200, 'loopback')
  t.equal((await app.inject({ url: '/metrics', remoteAddress: '::1' })).statusCode, 200, 'loopback (IPv6)')
  const outside = await app.inject({ url: '/metrics', remoteAddress: '192.0.2.7' })
  t.equal(outside.statusCode, 403, 'an outside caller')
  t.notMatch(outside.body, /mxprobe_/)
  t.equal((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.9' } })).statusCode, 403, 'an outside caller through the trusted proxy on loopback')
  const lan = await testApp({ METRICS_ALLOW_CIDRS: '192.0.2.0/24' })
  t.teardown(() => lan.close())
  t.equal((await lan.inject({ url: '/metrics', remoteAddress: '192.0.2.7' })).statusCode, 200, 'an allowed network')
  t.equal((await lan.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 403, 'loopback is no longer in the list')
  t.throws(() => loadConfig({ METRICS_ALLOW_CIDRS: 'everyone' }), /METRICS_ALLOW_CIDRS/)
})

t.test('a slow-header client is dropped by the server itself', async (t) => {
  const app = await testApp({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as net.AddressInfo).port
  const t0 = Date.now()
  // One header line every 300 ms, for at most 20 s: a slowloris.
  const { closedAfterMs, answer } = await new Promise<{ closedAfterMs: number, answer: string }>((resolve) => {
    let answer = ''
    const s = net.connect(port, '127.0.0.1', () => { s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n') })
    const drip = setInterval(() => { if (!s.destroyed) s.write(`X-Slow-${Date.now()}: 1\r\n`) }, 300)
    const stop = setTimeout(() => { s.destroy(); finish() }, 20_000)
    s.setEncoding('utf8')
    s.on('data', (d: string) => { answer += d })
    s.on('error', () => {})
    s.on('close', finish)
    function finish (): void {
      clearInterval(drip)
      clearTimeout(stop)
      resolve({ closedAfterMs: Date.now() - t0, answer })
    }
  })
  t.ok(closedAfterMs < 15_000, `the connection was closed by the server after ${closedAfterMs} ms`)
  t.match(answer, /^HTTP\/1\.1 408|^$/, 'with 408 or nothing at all')
  t.equal(app.server.headersTimeout, 1000)
  t.equal(app.server.requestTimeout, 2000)
  t.ok(app.server.keepAliveTimeout > 0)
  const dflt = await testApp()
  t.teardown(() => dflt.close())
  t.equal(dflt.server.requestTimeout, 30_000, 'a request timeout by default')
  t.equal(dflt.server.headersTimeout, 10_000, 'a headers timeout by default')
})

/** A Redis stand-in on any address and port: it connects fine and refuses scripts, as a Redis with ACLs does. */
async function grumpyRedis (host: string): Promise<{ port: number, close: () => void }> {
  const server = net.createServer((s) => {
    s.on('error', () => {})
    let buf = Buffer.alloc(0)
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        // RESP arrays of bulk strings: *N\r\n($len\r\nword\r\n)*N
        const text = buf.toString('latin1')
        const m = text.match(/^\*(\d+)\r\n/)
        if (!m) return
        let pos = m[0].length
        const words: string[] = []
        for (let i = 0; i < Number(m[1]); i++) {
          const b = text.slice(pos).match(/^\$(\d+)\r\n/)
          if (!b || text.length < pos + b[0].length + Number(b[1]) + 2) return
          words.push(text.slice(pos + b[0].length, pos + b[0].length + Number(b[1])))
          pos += b[0].length + Number(b[1]) + 2
        }
        buf = buf.subarray(pos)
        const cmd = (words[0] ?? '').toUpperCase()
        if (cmd === 'INFO') {
          const info = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n'
          s.write(`$${info.length}\r\n${info}\r\n`)
        } else if (cmd === 'PING') s.write('+PONG\r\n')
        else if (cmd === 'EVAL' || cmd === 'EVALSHA' || cmd === 'SCRIPT' || cmd === 'GET' || cmd === 'SET') s.write(`-NOPERM this user has no permissions to run the '${cmd.toLowerCase()}' command\r\n`)
        else s.write('+OK\r\n')
      }
    })
  })
  const port = await freePort(host)
  await new Promise<void>((resolve) => server.listen(port, host, resolve))
  return { port, close: () => server.close() }
}

t.test('a failing Redis on any host and port fails closed with 503', async (t) => {
  const host = randomLoopback()
  const redis = await grumpyRedis(host)
  t.teardown(() => redis.close())
  const app = await testApp({ REDIS_URL: `redis://${host}:${redis.port}` })
  t.teardown(() => app.close())
  t.equal(app.mx.store.isReady(), true, 'it connects')
  const dns = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain: 'home.example' } })
  t.equal(dns.statusCode, 503, `the DNS check (rate limit in Redis): ${dns.body}`)
  t.equal(dns.json().error, 'store_unavailable')
  t.ok(Number(dns.headers['retry-after']) >= 1)
  const tool = await app.inject({ method: 'POST', url: '/api/v1/tools/headers', payload: { raw: 'Subject: x\n' } })
  t.equal(tool.statusCode, 503, 'a tool')
  const report = await app.inject({ url: '/api/v1/checks/AAAAAAAAAAAAAAAA' })
  t.equal(report.statusCode, 503, 'reading a report')
  t.equal(report.json().error, 'store_unavailable')

  // A Redis address where nothing listens (not 6379): the same.
  const nowhere = await testApp({ REDIS_URL: `redis://${randomLoopback()}:${await freePort()}` })
  t.teardown(() => nowhere.close())
  const down = await nowhere.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain: 'home.example' } })
  t.equal(down.statusCode, 503)
  t.equal(down.json().error, 'store_unavailable')
})

t.test('a bad LOG_LEVEL stops start-up with a message naming the variable', async (t) => {
  try { loadConfig({ LOG_LEVEL: 'verbose' }); t.fail('accepted') } catch (err) { t.ok(err instanceof ConfigError, 'a ConfigError') }
  t.throws(() => loadConfig({ LOG_LEVEL: 'verbose' }), /LOG_LEVEL/)
  t.equal(loadConfig({ LOG_LEVEL: 'WARN' }).logLevel, 'warn')
  t.equal(loadConfig({ LOG_LEVEL: 'silent' }).logLevel, 'silent')
  // The real entry point.
  // Through the project's loader (cached transpile), not ts-node: about 6 s of CPU less.
  const proc = spawn(process.execPath, [`--import=${pathToFileURL(join(ROOT, 'scripts/ts-loader.mjs')).href}`, serverEntry()], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'verbose', PORT: String(await freePort()), REDIS_URL },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  proc.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = await new Promise<number | null>((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 60_000)
    proc.on('exit', (c) => { clearTimeout(kill); resolve(c) })
  })
  t.equal(code, 2, 'exit code of a configuration error')
  t.match(stderr, /configuration error: LOG_LEVEL must be one of/)
})
