// bench:receive — the receive test against Debian's Postfix, side by side
// in one run:
//   1. on loopback, warm: mxprobe timed end to end as a user sees it (HTTP
//      POST to the real server process → DNS → SMTP with STARTTLS → stored
//      report) beside swaks --tls delivering the same mail to the same
//      Postfix as a whole process (perl start-up included, as a user runs
//      it); alternating, median of RECEIVE_RUNS (3). Target: mxprobe's
//      median ≤ swaks's.
//   2. over a 50 ms link: the same two through a relay that delays each
//      direction by 25 ms (test/fixtures/delay-proxy.ts), with the round
//      trips each one waited for. Target: mxprobe ≤ 8 round trips.
// Exits non-zero when a target is missed.
//   npm run bench:receive   (RECEIVE_RUNS=3)
import http from 'node:http'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startPostfix, postfixAvailable } from '../test/fixtures/postfix.js'
import { reverseName } from '../test/fixtures/dns.js'
import { randomLoopback, uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { buildServer, startServer, freePort, tmpDir } from '../test/ops/fixtures.js'
import { machine, percentile, fmt, startDnsProcess, load } from './common.js'
import { startDelayProxy } from '../test/fixtures/delay-proxy.js'

const RUNS = Number(process.env.RECEIVE_RUNS ?? 3)
const RTT_BUDGET = 8

function post (url: string, body: unknown, localAddress: string): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body)
    const req = http.request(url, { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) } }, (res) => {
      let s = ''
      res.setEncoding('utf8').on('data', (d) => { s += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(s) }))
    })
    req.on('error', reject)
    req.end(data)
  })
}

function swaks (args: string[]): Promise<{ ms: number, out: string }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    execFile('swaks', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`swaks failed: ${err.message}\n${stdout}${stderr}`))
      else resolve({ ms: performance.now() - t0, out: stdout })
    })
  })
}

function stats (xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b)
  return `${fmt(percentile(s, 0.5), 0)} / ${fmt(percentile(s, 0.9), 0)} / ${fmt(s[0], 0)}`
}

function median (xs: number[]): number { return percentile([...xs].sort((a, b) => a - b), 0.5) }

async function main (): Promise<void> {
  if (!postfixAvailable()) throw new Error('needs /usr/sbin/postfix and root')
  const home = randomLoopback()
  // the far end of the 50 ms link: a second MX host of the same domain, reached through the relay
  const far = randomLoopback()
  const pf = await startPostfix({ ip: home, domain: 'home.test', users: ['taro'] })
  const link = await startDelayProxy({ listenHost: far, listenPort: 25, targetHost: home, targetPort: 25, oneWayMs: 25 })
  const dns = await startDnsProcess({
    'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }, { exchange: 'mx2.home.test', priority: 20 }] },
    'mx.home.test': { A: [home] },
    'mx2.home.test': { A: [far] },
    [reverseName(home)]: { PTR: ['mx.home.test'] },
    [reverseName(far)]: { PTR: ['mx2.home.test'] }
  })
  const build = buildServer()
  const server = await startServer(build.serverJs, {
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    REDIS_URL,
    REDIS_PREFIX: uniquePrefix(),
    DNS_SERVERS: dns.server,
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    HELO_NAME: 'probe.mxprobe.test',
    LOG_LEVEL: 'warn',
    RATE_LIMITS: 'receive=100000/60',
    DOMAIN_RATE_LIMITS: 'receive=100000/60'
  }, { quiet: true })
  const mx: number[] = []
  const mxInside: number[] = []
  const sw: number[] = []
  const mxLink: number[] = []
  const swLink: number[] = []
  const mxTrips: number[] = []
  const swTrips: number[] = []
  let sample = ''
  const receive = async (from: string): Promise<{ ms: number, body: any }> => {
    const t0 = performance.now()
    const r = await post(`${server.url}/api/v1/checks/receive`, { address: 'taro@home.test' }, from)
    const ms = performance.now() - t0
    if (r.body.status !== 'pass') throw new Error(`receive check from ${from} did not pass: ${r.body.summary}`)
    return { ms, body: r.body }
  }
  /** round trips the relay saw for one run of `fn`, once the last reply (to a QUIT not waited for) has passed */
  const counted = async <T>(fn: () => Promise<T>): Promise<{ value: T, trips: number }> => {
    link.reset()
    const value = await fn()
    await new Promise((resolve) => setTimeout(resolve, 200))
    return { value, trips: link.roundTrips() }
  }
  try {
    // warm-up: one each, not counted
    const warm = await receive(home)
    await receive(far)
    // The same mail for swaks: the message mxprobe sent, without the trace headers Postfix added.
    const delivered = await pf.waitForMail('taro', (m) => m.includes(warm.body.id))
    sample = delivered.replace(/\r?\n/g, '\r\n').replace(/^(?:(?:Return-Path|Delivered-To|Received):.*\r\n(?:[ \t].*\r\n)*)+/i, '')
    const dataFile = join(tmpDir('receive-bench'), 'mail.eml')
    writeFileSync(dataFile, sample)
    const swaksArgs = (server: string): string[] => ['--server', server, '--port', '25', '--from', 'mxprobe@probe.mxprobe.test', '--to', 'taro@home.test', '--helo', 'probe.mxprobe.test', '--tls', '--data', `@${dataFile}`, '--suppress-data']
    await swaks(swaksArgs(home))
    // alternate the two so load that comes and goes hits both alike
    for (let i = 0; i < RUNS; i++) {
      const r = await receive(home)
      mx.push(r.ms)
      mxInside.push(Number(r.body.durationMs))
      sw.push((await swaks(swaksArgs(home))).ms)
      const l = await counted(() => receive(far))
      mxLink.push(l.value.ms)
      mxTrips.push(l.trips)
      const s = await counted(() => swaks(swaksArgs(far)))
      swLink.push(s.value.ms)
      swTrips.push(s.trips)
    }
  } finally {
    await server.stop()
    dns.stop()
    await link.close()
    await pf.stop()
  }
  const mxMed = median(mx)
  const swMed = median(sw)
  const tripsMax = Math.max(...mxTrips)
  console.log(`\nbench:receive  ${machine()}  load ${load()}`)
  console.log(`${RUNS} deliveries each, alternating, to Debian Postfix with STARTTLS (TLS 1.3); the same ${sample.length}-byte message\n`)
  console.log('| delivery | median / p90 / min ms | round trips |')
  console.log('| --- | ---: | ---: |')
  console.log(`| loopback: mxprobe POST /api/v1/checks/receive (HTTP + DNS + SMTP/STARTTLS + report in Redis) | ${stats(mx)} | |`)
  console.log(`| loopback: mxprobe, the check itself (report durationMs) | ${stats(mxInside)} | |`)
  console.log(`| loopback: swaks --tls (one process per mail) | ${stats(sw)} | |`)
  console.log(`| 50 ms link: mxprobe POST /api/v1/checks/receive | ${stats(mxLink)} | ${mxTrips.join(', ')} |`)
  console.log(`| 50 ms link: swaks --tls | ${stats(swLink)} | ${swTrips.join(', ')} |`)
  const speedOk = mxMed <= swMed
  const tripsOk = tripsMax <= RTT_BUDGET
  console.log(`\nloopback: mxprobe end to end ${fmt(mxMed, 0)} ms vs swaks ${fmt(swMed, 0)} ms (medians of ${RUNS}): target "no slower than swaks" ${speedOk ? 'MET' : 'MISSED'}`)
  console.log(`50 ms link: mxprobe at most ${tripsMax} round trips: target "≤ ${RTT_BUDGET}" ${tripsOk ? 'MET' : 'MISSED'}`)
  if (!speedOk || !tripsOk) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exit(1) })
