// Graceful shutdown of the real server process (src/server.ts, the entry of
// `npm start`, run as its own node process): SIGTERM while a check talks to a slow scripted
// SMTP server → the process stops accepting, lets the check finish, stores
// the final report, closes Redis and exits 0. The audit lines are on stdout.
import t from 'tap'
import http from 'node:http'
import { RedisStore } from '../../src/store/redis.js'
import { randomLoopback, uniquePrefix, REDIS_URL } from '../helpers.js'
import { serverEntry, startServer, startScriptedServer, freePort } from './fixtures.js'

// Server processes start in this file; tap's default 120 s per file is too tight on a loaded CI machine.
t.setTimeout(300_000)

const home = randomLoopback()

function post (url: string, body: unknown, localAddress: string): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body)
    const req = http.request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let s = ''
      res.setEncoding('utf8').on('data', (d) => { s += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: s ? JSON.parse(s) : null }))
    })
    req.on('error', reject)
    req.end(data)
  })
}

t.test('SIGTERM mid-check: waits, stores the finished report, exits 0', async (t) => {
  const build = { serverJs: serverEntry() }
  // The greeting comes after 2.5 s: the check is mid-conversation when SIGTERM arrives.
  const slow = await startScriptedServer(home, 25, { delayMs: 2500, banner: '220 slow.home.example ESMTP\r\n' })
  t.teardown(() => slow.close())
  const prefix = uniquePrefix()
  const port = await freePort()
  const server = await startServer(build.serverJs, {
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    HELO_NAME: 'probe.mxprobe.test',
    LOG_LEVEL: 'info',
    BANNER_TIMEOUT_MS: '4000',
    CHECK_DEADLINE_MS: '10000'
  })
  t.teardown(() => server.stop('SIGKILL'))

  const asyncStart = await post(`${server.url}/api/v1/checks/ports?async=1`, { ports: [25] }, home)
  t.equal(asyncStart.status, 202)
  const id = asyncStart.body.id
  const syncAnswer = post(`${server.url}/api/v1/checks/ports`, { ports: [25] }, home)
  for (let i = 0; i < 50 && slow.connections < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(slow.connections, 2, 'both checks are connected to the slow server')

  const t0 = Date.now()
  server.proc.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(server.proc.exitCode, null, 'still running while the checks run')
  const refused = await fetch(`${server.url}/healthz`).then((r) => r.status, (err) => err.cause?.code ?? String(err))
  t.ok(refused === 'ECONNREFUSED' || refused === 503, `no new requests accepted (${refused})`)

  const sync = await syncAnswer
  t.equal(sync.status, 200, 'the request in flight gets its answer')
  t.equal(sync.body.ports[0].banner, '220 slow.home.example ESMTP')
  const code = await server.exited
  const waited = Date.now() - t0
  t.equal(code, 0, `exit code 0 (stderr: ${server.stderr.join('')})`)
  t.ok(waited >= 2000, `waited for the check (${waited} ms)`)

  const store = new RedisStore(REDIS_URL, prefix)
  t.teardown(() => store.close())
  await store.waitReady(2000)
  const stored = await store.getReport(id)
  t.ok(stored, 'report stored')
  t.equal(stored!.status, 'pass', 'finished, not running')
  t.ok(stored!.finishedAt)
  t.match((stored as any).ports[0], { port: 25, state: 'open', banner: '220 slow.home.example ESMTP' })

  const logs = server.logs
  t.ok(logs.some((l) => l.msg?.startsWith('shutting down') && l.running === 2), 'logged the shutdown with 2 running checks')
  t.ok(logs.some((l) => l.msg === 'shutdown complete: reports stored, store closed'))
  const probe = logs.find((l) => l.audit === 'probe' && l.msg === 'outbound probe' && l.checkId === id)
  t.match(probe, { callerIp: home, ip: home, port: 25, outcome: 'connected' }, 'audit line per outbound connection')
  const fin = logs.find((l) => l.audit === 'probe' && l.msg === 'check finished' && l.checkId === id)
  t.match(fin, { callerIp: home, targetIp: home, checkType: 'ports', commands: ['[25] QUIT'] }, 'audit line per check with the commands')
})

t.test('a bad configuration stops the process with a clear message', async (t) => {
  const build = { serverJs: serverEntry() }
  const err = await startServer(build.serverJs, { HOST: '127.0.0.1', PORT: '1', REDIS_URL: 'http://nope', TARGET_ALLOW_CIDRS: '127.0.0.0/8' }).then(() => null, (e: Error) => e)
  t.match(err?.message, /server exited 2: mxprobe: configuration error: REDIS_URL must start with/)
})
