// bench:receive — the receive test against Debian's Postfix on loopback,
// beside swaks delivering the same mail to the same Postfix, one delivery
// after another. mxprobe is timed end to end as a user sees it (HTTP POST to
// the real server process → DNS → SMTP with STARTTLS → stored report); swaks
// per delivery as a command (perl start-up included, as a user runs it).
// Target: mxprobe no slower than swaks.
//   npm run bench:receive   (RECEIVE_RUNS=20)
import http from 'node:http'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startPostfix, postfixAvailable } from '../test/fixtures/postfix.js'
import { reverseName } from '../test/fixtures/dns.js'
import { randomLoopback, uniquePrefix, REDIS_URL } from '../test/helpers.js'
import { buildServer, startServer, freePort, tmpDir } from '../test/ops/fixtures.js'
import { machine, percentile, fmt, startDnsProcess, load } from './common.js'

const RUNS = Number(process.env.RECEIVE_RUNS ?? 20)

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

async function main (): Promise<void> {
  if (!postfixAvailable()) throw new Error('needs /usr/sbin/postfix and root')
  const home = randomLoopback()
  const pf = await startPostfix({ ip: home, domain: 'home.test', users: ['taro'] })
  const dns = await startDnsProcess({
    'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }] },
    'mx.home.test': { A: [home] },
    [reverseName(home)]: { PTR: ['mx.home.test'] }
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
  let sample = ''
  try {
    // warm-up: one each, not counted
    const warm = await post(`${server.url}/api/v1/checks/receive`, { address: 'taro@home.test' }, home)
    if (warm.body.status !== 'pass') throw new Error(`receive check did not pass: ${warm.body.summary}`)
    // The same mail for swaks: the message mxprobe sent, without the trace headers Postfix added.
    const delivered = await pf.waitForMail('taro', (m) => m.includes(warm.body.id))
    sample = delivered.replace(/\r?\n/g, '\r\n').replace(/^(?:(?:Return-Path|Delivered-To|Received):.*\r\n(?:[ \t].*\r\n)*)+/i, '')
    const dataFile = join(tmpDir('receive-bench'), 'mail.eml')
    writeFileSync(dataFile, sample)
    const swaksArgs = ['--server', home, '--port', '25', '--from', 'mxprobe@probe.mxprobe.test', '--to', 'taro@home.test', '--helo', 'probe.mxprobe.test', '--tls', '--data', `@${dataFile}`, '--suppress-data']
    await swaks(swaksArgs)
    // alternate the two so load that comes and goes hits both alike
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now()
      const r = await post(`${server.url}/api/v1/checks/receive`, { address: 'taro@home.test' }, home)
      mx.push(performance.now() - t0)
      if (r.body.status !== 'pass') throw new Error(`run ${i}: ${r.body.summary}`)
      mxInside.push(Number(r.body.durationMs))
      sw.push((await swaks(swaksArgs)).ms)
    }
  } finally {
    await server.stop()
    dns.stop()
    await pf.stop()
  }
  const mxMed = percentile([...mx].sort((a, b) => a - b), 0.5)
  const swMed = percentile([...sw].sort((a, b) => a - b), 0.5)
  console.log(`\nbench:receive  ${machine()}  load ${load()}`)
  console.log(`${RUNS} deliveries each, alternating, to Debian Postfix on ${home}:25 with STARTTLS; the same ${sample.length}-byte message\n`)
  console.log('| delivery | median / p90 / min ms |')
  console.log('| --- | ---: |')
  console.log(`| mxprobe POST /api/v1/checks/receive (HTTP + DNS + SMTP/STARTTLS + report in Redis) | ${stats(mx)} |`)
  console.log(`| mxprobe, the check itself (report durationMs) | ${stats(mxInside)} |`)
  console.log(`| swaks --tls (one process per mail) | ${stats(sw)} |`)
  console.log(`\nmxprobe end to end ${fmt(mxMed, 0)} ms vs swaks ${fmt(swMed, 0)} ms: target "no slower than swaks" ${mxMed <= swMed ? 'MET' : 'MISSED'}`)
  // a bench that can fail: a missed target is a non-zero exit
  if (!(mxMed <= swMed)) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exit(1) })
