// Benchmark: mxprobe's open-relay battery beside nmap's smtp-open-relay,
// side by side in one run, against real servers of several families:
//
//   server                        link          target
//   stock Debian Postfix (closed) 50 ms RTT     ≤ 6 round trips and ≤ 340 ms, same verdict as nmap
//   Exim 4 (closed, Debian ACL)   50 ms RTT     faster than nmap, same verdict
//   OpenSMTPD 6.8 (closed)        50 ms RTT     faster than nmap, same verdict
//   HELO-only server (scripted)   50 ms RTT     faster than nmap, same verdict
//   stock Debian Postfix (closed) loopback      ≤ 120 ms
//
// The 50 ms link is test/fixtures/delay-proxy.ts (25 ms each way) in front
// of the server, for both tools alike; it also counts the round trips
// (connections + answered client flights), printed beside mxprobe's own
// count of the longest chain of waits. mxprobe's time is the whole HTTP
// check (app.inject: DNS, target rule, battery, report); nmap's is the
// process. One unmeasured warm-up run of each tool against each server
// comes first; then BENCH_ROUNDS (default 3) rounds, median reported.
// Exim and OpenSMTPD come from scripts/install-test-mtas.sh. Only loopback
// addresses are ever contacted. Exits 1 when a target is missed.
//
//   npm run bench:relay            (root; postfix, nmap, install-test-mtas.sh)
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { startPostfix, postfixAvailable } from '../test/fixtures/postfix.js'
import { startExim, eximAvailable } from '../test/fixtures/exim.js'
import { startOpenSmtpd, openSmtpdAvailable } from '../test/fixtures/opensmtpd.js'
import { startHostile } from '../test/fixtures/hostile.js'
import { startDelayProxy, type DelayProxy } from '../test/fixtures/delay-proxy.js'
import { startDns } from '../test/fixtures/dns.js'
import { testConfig, randomLoopback } from '../test/helpers.js'
import { buildApp } from '../src/app.js'
import { machine, load } from './common.js'

const run = promisify(execFile)
const OUTSIDE = 'relay-bench.test'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

async function nmapRelay (ip: string): Promise<{ ms: number, open: boolean, verdict: boolean, line: string }> {
  const t0 = performance.now()
  const { stdout } = await run('nmap', ['-n', '-Pn', '-p25', '--script', 'smtp-open-relay',
    '--script-args', `smtp-open-relay.domain=${OUTSIDE},smtp-open-relay.ip=${ip}`, ip], { timeout: 180_000 })
  const ms = performance.now() - t0
  const line = stdout.split('\n').find((l) => /smtp-open-relay:/.test(l)) ?? ''
  const open = /Server is an open relay/.test(stdout)
  // nmap ends without a verdict when the server hangs up on it (Exim after 3 protocol errors).
  const verdict = open || /doesn't seem to be an open relay/.test(stdout)
  return { ms, open, verdict, line: line.replace(/^\|_?\s*/, '').trim() }
}

interface Target { name: string, front: string, proxy: DelayProxy | null, target: string, maxTrips?: number, maxMs?: number, beatNmap: boolean }

const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]

async function main (): Promise<void> {
  if (!postfixAvailable()) throw new Error('needs root and Debian postfix')
  await run('nmap', ['--version'])
  const stops: Array<() => Promise<unknown>> = []
  const targets: Target[] = []
  const zone: Record<string, any> = {}
  const add = async (name: string, serverIp: string, o: { delay: boolean, maxTrips?: number, maxMs?: number, beatNmap: boolean }): Promise<void> => {
    let front = serverIp
    let proxy: DelayProxy | null = null
    if (o.delay) {
      front = randomLoopback()
      proxy = await startDelayProxy({ listenHost: front, listenPort: 25, targetHost: serverIp, targetPort: 25, oneWayMs: 25 })
      stops.push(async () => await proxy!.close())
    }
    zone[`${name}.example`] = { MX: [{ exchange: `mx.${name}.example`, priority: 10 }] }
    zone[`mx.${name}.example`] = { A: [front] }
    targets.push({ name, front, proxy, target: serverIp, maxTrips: o.maxTrips, maxMs: o.maxMs, beatNmap: o.beatNmap })
  }
  try {
    const pf = await startPostfix({ domain: 'postfix.example', users: ['postmaster', 'abuse'] })
    stops.push(pf.stop)
    await add('postfix-50ms', pf.ip, { delay: true, maxTrips: 6, maxMs: 340, beatNmap: true })
    if (eximAvailable()) {
      const ex = await startExim({ domain: 'exim.example' })
      stops.push(ex.stop)
      await add('exim-50ms', ex.ip, { delay: true, beatNmap: true })
    } else console.log('Exim not installed (scripts/install-test-mtas.sh): skipped — counts as a miss')
    if (openSmtpdAvailable()) {
      const os = await startOpenSmtpd({ domain: 'opensmtpd.example' })
      stops.push(os.stop)
      await add('opensmtpd-50ms', os.ip, { delay: true, beatNmap: true })
    } else console.log('OpenSMTPD not installed (scripts/install-test-mtas.sh): skipped — counts as a miss')
    const helo = await startHostile('helo_only')
    stops.push(helo.close)
    await add('helo-only-50ms', helo.ip, { delay: true, beatNmap: true })
    await add('postfix-loopback', pf.ip, { delay: false, maxMs: 120, beatNmap: false })

    const dns = await startDns(zone)
    stops.push(async () => await dns.close())
    const app = await buildApp(testConfig({
      DNS_SERVERS: dns.server,
      RELAY_PROBE_DOMAIN: OUTSIDE,
      RATE_LIMITS: 'relay=1000/600',
      DOMAIN_RATE_LIMITS: 'relay=1000/600',
      CHECK_DEADLINE_MS: '60000',
      COMMAND_TIMEOUT_MS: '15000'
    }), { logger: pino({ level: 'silent' }) })
    stops.push(async () => await app.close())
    const check = async (t: Target): Promise<{ ms: number, r: any }> => {
      const t0 = performance.now()
      const res = await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: `${t.name}.example` }, remoteAddress: t.front })
      const ms = performance.now() - t0
      const r = res.json()
      if (res.statusCode !== 200 || r.status === 'error') throw new Error(`mxprobe relay check failed on ${t.name}: ${res.statusCode} ${r.summary ?? res.body}`)
      return { ms, r }
    }

    console.log(`relay battery vs nmap smtp-open-relay · ${machine()} · load ${load()} · ${ROUNDS} rounds, medians`)
    console.log('| server | mxprobe ms | mxprobe round trips (longest chain / all through the link) | connections | nmap ms | nmap round trips | verdicts | target | |')
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |')
    let ok = targets.length === 5
    for (const t of targets) {
      const nmapHost = t.front
      await check(t)
      const nmapOnly = t.beatNmap || t.maxTrips !== undefined
      if (nmapOnly) await nmapRelay(nmapHost)
      const ours: number[] = []
      const theirs: number[] = []
      const ourTrips: number[] = []
      const linkTrips: number[] = []
      const nmapTrips: number[] = []
      let r: any = null
      let n: Awaited<ReturnType<typeof nmapRelay>> | null = null
      for (let i = 0; i < ROUNDS; i++) {
        t.proxy?.reset()
        const c = await check(t)
        ours.push(c.ms)
        r = c.r
        ourTrips.push(r.relay.roundTrips)
        linkTrips.push(t.proxy?.roundTrips() ?? NaN)
        if (nmapOnly) {
          t.proxy?.reset()
          n = await nmapRelay(nmapHost)
          theirs.push(n.ms)
          nmapTrips.push(t.proxy?.roundTrips() ?? NaN)
        }
      }
      const ourVerdict = r.status === 'fail' ? 'open relay' : 'not an open relay'
      const nmapVerdict = n ? (!n.verdict ? `no verdict ("${n.line}")` : n.open ? 'open relay' : 'not an open relay') : null
      // When nmap gives no verdict there is nothing to disagree with; the table says so.
      const agree = nmapVerdict === null || !n?.verdict || ourVerdict === nmapVerdict
      const o = med(ours)
      const misses: string[] = []
      if (!agree) misses.push('verdicts differ')
      if (t.maxTrips !== undefined && med(ourTrips) > t.maxTrips) misses.push(`> ${t.maxTrips} round trips`)
      if (t.maxMs !== undefined && o > t.maxMs) misses.push(`> ${t.maxMs} ms`)
      if (t.beatNmap && !(o < med(theirs))) misses.push('not faster than nmap')
      ok &&= misses.length === 0
      const targetText = [t.maxTrips !== undefined ? `≤ ${t.maxTrips} RT` : '', t.maxMs !== undefined ? `≤ ${t.maxMs} ms` : '', t.beatNmap ? '< nmap' : ''].filter(Boolean).join(', ')
      console.log(`| ${t.name} | ${o.toFixed(0)} | ${med(ourTrips)} / ${Number.isNaN(med(linkTrips)) ? '–' : med(linkTrips)} | ${r.relay.connections} (${r.relay.parallel} at once) | ${theirs.length ? med(theirs).toFixed(0) : '–'} | ${nmapTrips.length && !Number.isNaN(med(nmapTrips)) ? med(nmapTrips) : '–'} | mxprobe: ${ourVerdict} (${r.relay.tested}/${r.vectors.length} tried${r.relay.drops ? `, ${r.relay.drops} drops` : ''})${nmapVerdict ? `; nmap: ${nmapVerdict}` : ''} | ${targetText} | ${misses.length ? 'MISSED: ' + misses.join(', ') : 'OK'} |`)
      if (process.env.BENCH_DEBUG) console.log(`    all rounds: mxprobe ${ours.map((x) => x.toFixed(0)).join(', ')} ms; nmap ${theirs.map((x) => x.toFixed(0)).join(', ')} ms; ${n?.line ?? ''}`)
    }
    console.log(`\n${ok ? 'PASS' : 'FAIL'}: ${ok ? 'every target met' : 'a target was missed (see the last column)'}`)
    process.exitCode = ok ? 0 : 1
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {})
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
