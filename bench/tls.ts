// bench:tls — the whole tls check of a home server over a 50 ms link, beside
// testssl.sh on the same server.
//   A home server on loopback: Debian's Postfix (25, with STARTTLS; 587 is the
//   same smtpd, as on most home servers) and Dovecot (993 IMAPS, 995 POP3S),
//   certificates from a private CA of the bench's own (NODE_EXTRA_CA_CERTS).
//   In front of it, test/fixtures/delay-proxy.ts holds each direction 25 ms
//   (a 50 ms round trip) on the address the MX points at, and counts the TCP
//   connections each client opened. The ports the server does not serve (465,
//   143, 110) answer with a refusal at once; on a real link each costs one
//   round trip, in parallel with the rest.
//   1. mxprobe: POST /api/v1/checks/tls to the real server process, timed end
//      to end (HTTP + DNS + every port + versions + DANE/MTA-STS lookups),
//      TLS_RUNS (3) times. Targets: the check at most 2 s (report durationMs),
//      at most 8 connections to the caller.
//   2. testssl.sh --starttls smtp on port 25 through the same link, its
//      default run (every protocol, cipher list, vulnerabilities), once: the
//      peer a careful admin would run by hand.
// Exits non-zero when a target is missed.
//   npm run bench:tls   (TLS_RUNS=3)
import http from 'node:http'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startPostfix, postfixAvailable } from '../test/fixtures/postfix.js'
import { startDovecot, haveDovecot } from '../test/fixtures/dovecot.js'
import { makePki } from '../test/fixtures/pki.js'
import { reverseName } from '../test/fixtures/dns.js'
import { randomLoopback, uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { buildServer, startServer, freePort } from '../test/ops/fixtures.js'
import { machine, percentile, fmt, startDnsProcess, load } from './common.js'
import { startDelayProxy, type DelayProxy } from '../test/fixtures/delay-proxy.js'

const RUNS = Number(process.env.TLS_RUNS ?? 3)
const TIME_BUDGET_MS = 2000
const CONNECTION_BUDGET = 8
// far port → home port: 587 is Postfix's smtpd as 25 is
const LINKS: Array<[number, number]> = [[25, 25], [587, 25], [993, 993], [995, 995]]

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

function testssl (ip: string, caFile: string): Promise<{ ms: number, out: string }> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    execFile('testssl', ['--quiet', '--color', '0', '--warnings', 'off', '--ip', ip, '--add-ca', caFile, '--starttls', 'smtp', `${ip}:25`], { timeout: 900_000, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      resolve({ ms: performance.now() - t0, out: `${stdout}${stderr}${err && !stdout ? String(err) : ''}` })
    })
  })
}

async function main (): Promise<void> {
  if (!postfixAvailable() || !haveDovecot()) throw new Error('needs /usr/sbin/postfix, /usr/sbin/dovecot and root')
  const dir = mkdtempSync(path.join(tmpdir(), 'mxprobe-bench-tls-'))
  chmodSync(dir, 0o755)
  const pki = makePki(dir)
  const home = randomLoopback()
  const far = randomLoopback()
  const cert = pki.leaf('mx.home.test', { days: 90, ageDays: 2 })
  const pf = await startPostfix({ ip: home, domain: 'home.test', users: ['postmaster'], hostname: 'mx.home.test', mainCf: { smtpd_tls_chain_files: `${cert.key}, ${cert.fullchain}` } })
  const dc = await startDovecot({ ip: home, hostname: 'mx.home.test', certFile: cert.fullchain, keyFile: cert.key, plainPort: false, imaps: true })
  const links: DelayProxy[] = []
  for (const [front, back] of LINKS) links.push(await startDelayProxy({ listenHost: far, listenPort: front, targetHost: home, targetPort: back, oneWayMs: 25 }))
  const dns = await startDnsProcess({
    'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }] },
    'mx.home.test': { A: [far] },
    [reverseName(far)]: { PTR: ['mx.home.test'] }
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
    NODE_EXTRA_CA_CERTS: pki.rootFile,
    RATE_LIMITS: 'tls=100000/60',
    DOMAIN_RATE_LIMITS: 'tls=100000/60'
  }, { quiet: true })
  const wall: number[] = []
  const inside: number[] = []
  const conns: number[] = []
  let last: any = null
  let perPort = ''
  let peer: { ms: number, out: string, connections: number } | null = null
  const opened = (): number => links.reduce((n, l) => n + l.stats.connections, 0)
  const reset = (): void => { for (const l of links) l.reset() }
  try {
    // warm-up, not counted
    await post(`${server.url}/api/v1/checks/tls`, { domain: 'home.test' }, far)
    for (let i = 0; i < RUNS; i++) {
      reset()
      const t0 = performance.now()
      const r = await post(`${server.url}/api/v1/checks/tls`, { domain: 'home.test' }, far)
      wall.push(performance.now() - t0)
      if (r.status !== 200 || r.body.status === 'error') throw new Error(`tls check: ${r.status} ${r.body.summary ?? JSON.stringify(r.body)}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
      inside.push(Number(r.body.durationMs))
      conns.push(opened())
      perPort = LINKS.map(([front], i) => `${front}: ${links[i].stats.connections}`).join(', ')
      last = r.body
    }
    if (process.env.TLS_PEER !== '0') {
      reset()
      const p = await testssl(far, pki.rootFile)
      peer = { ...p, connections: opened() }
    }
  } finally {
    await server.stop()
    dns.stop()
    for (const l of links) await l.close()
    await dc.stop()
    await pf.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)
  const med = (xs: number[]): number => percentile(sorted(xs), 0.5)
  const services = (last?.services ?? []) as Array<{ port: number, state?: string, tls?: { version?: string } }>
  let testsslVersion = ''
  try { testsslVersion = execFileSync('testssl', ['--version'], { timeout: 10_000 }).toString().replace(/\x1b\[[0-9;]*m/g, '').match(/testssl\s+(\d[\w.]*)/)?.[1] ?? '' } catch { testsslVersion = '?' }
  console.log(`\nbench:tls  ${machine()}  load ${load()}`)
  console.log(`Postfix (25, 587) and Dovecot (993, 995) behind a 50 ms link (25 ms each way); private CA; ${RUNS} runs after a warm-up\n`)
  console.log('| run | median / max ms | connections to the caller |')
  console.log('| --- | ---: | ---: |')
  console.log(`| mxprobe POST /api/v1/checks/tls, end to end | ${fmt(med(wall), 0)} / ${fmt(Math.max(...wall), 0)} | ${conns.join(', ')} |`)
  console.log(`| mxprobe, the check itself (report durationMs) | ${fmt(med(inside), 0)} / ${fmt(Math.max(...inside), 0)} | |`)
  if (peer) console.log(`| testssl.sh ${testsslVersion} --starttls smtp, port 25 only | ${fmt(peer.ms, 0)} | ${peer.connections} |`)
  console.log(`\nconnections per port (last run): ${perPort}`)
  console.log(`ports the check reported: ${services.map((s) => `${s.port} ${s.state ?? ''}`.trim()).join(', ')}`)
  console.log(`verdict: ${last?.status} — ${last?.summary}`)
  const timeOk = Math.max(...inside) <= TIME_BUDGET_MS
  const connOk = Math.max(...conns) <= CONNECTION_BUDGET
  console.log(`\nthe check at most ${fmt(Math.max(...inside), 0)} ms: target "≤ ${TIME_BUDGET_MS} ms" ${timeOk ? 'MET' : 'MISSED'}`)
  console.log(`at most ${Math.max(...conns)} connections to the caller: target "≤ ${CONNECTION_BUDGET}" ${connOk ? 'MET' : 'MISSED'}`)
  if (!timeOk || !connOk) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exit(1) })
