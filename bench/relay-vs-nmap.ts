// Benchmark: mxprobe's open-relay battery against nmap's smtp-open-relay
// script, side by side, on two stock Debian Postfix instances on loopback:
// one closed (Postfix defaults: relay only for mynetworks = the listen
// address itself), one open (mynetworks = 127.0.0.0/8, which includes the
// probing client's 127.0.0.1). Prints both wall times, their ratio and
// both verdicts. Targets (exit code 1 if missed): on the stock (closed)
// Postfix mxprobe takes under 1/5 of nmap's time; on both servers the
// verdicts agree. The open server's ratio is printed for information: an
// open relay answers without errors, so nmap pays no error penalty there
// and both tools are bounded by Postfix's own per-connection work.
// The open instance has in_flow_delay = 0s: relay tests accept mail that
// is never queued, so Postfix's flow control (1 s pause per new message
// once its tokens run out) would otherwise time Postfix, not the tools.
// One unmeasured warm-up run of each tool against each server comes
// first (Postfix spawns its smtpd/cleanup processes on first use; Node
// compiles on first use). mxprobe's time is the whole HTTP check
// (app.inject: DNS, target rule, battery, report); nmap's is the process.
// Only loopback addresses are ever contacted.
//
//   npm run bench:relay            (root, postfix and nmap installed)
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { startPostfix, postfixAvailable } from '../test/fixtures/postfix.js'
import { startDns } from '../test/fixtures/dns.js'
import { testConfig, randomLoopback } from '../test/helpers.js'
import { buildApp } from '../src/app.js'

const run = promisify(execFile)
const OUTSIDE = 'relay-bench.test'
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

interface Side { ms: number[], verdict: string, detail: string }

async function nmapRelay (ip: string): Promise<{ ms: number, open: boolean, line: string }> {
  const t0 = performance.now()
  const { stdout } = await run('nmap', ['-n', '-Pn', '-p25', '--script', 'smtp-open-relay',
    '--script-args', `smtp-open-relay.domain=${OUTSIDE},smtp-open-relay.ip=${ip}`, ip], { timeout: 120_000 })
  const ms = performance.now() - t0
  const line = stdout.split('\n').find((l) => /smtp-open-relay:/.test(l)) ?? stdout.split('\n').find((l) => /open relay/i.test(l)) ?? ''
  const open = /Server is an open relay/.test(stdout)
  if (!open && !/doesn't seem to be an open relay/.test(stdout)) throw new Error(`nmap gave no verdict:\n${stdout}`)
  return { ms, open, line: line.replace(/^\|_?\s*/, '').trim() }
}

async function main (): Promise<void> {
  if (!postfixAvailable()) throw new Error('needs root and Debian postfix')
  await run('nmap', ['--version'])
  const closedIp = randomLoopback()
  const openIp = randomLoopback()
  const dns = await startDns({
    'closed.example': { MX: [{ exchange: 'mx.closed.example', priority: 10 }] },
    'mx.closed.example': { A: [closedIp] },
    'open.example': { MX: [{ exchange: 'mx.open.example', priority: 10 }] },
    'mx.open.example': { A: [openIp] }
  })
  const closed = await startPostfix({ ip: closedIp, domain: 'closed.example', users: ['postmaster', 'abuse'], starttls: true })
  const open = await startPostfix({ ip: openIp, domain: 'open.example', users: ['postmaster', 'abuse'], starttls: true, mainCf: { mynetworks: '127.0.0.0/8', in_flow_delay: '0s' } })
  const app = await buildApp(testConfig({
    DNS_SERVERS: dns.server,
    RELAY_PROBE_DOMAIN: OUTSIDE,
    RATE_LIMITS: 'relay=1000/600',
    DOMAIN_RATE_LIMITS: 'relay=1000/600',
    CHECK_DEADLINE_MS: '60000',
    COMMAND_TIMEOUT_MS: '15000'
  }), { logger: pino({ level: 'silent' }) })
  const rows: Array<{ name: string, ours: Side, nmap: Side, attempts: number, nmapTests: number, connections: number }> = []
  try {
    for (const [name, ip, domain] of [['closed', closedIp, 'closed.example'], ['open', openIp, 'open.example']] as const) {
      const ours: Side = { ms: [], verdict: '', detail: '' }
      const theirs: Side = { ms: [], verdict: '', detail: '' }
      let attempts = 0
      let nmapTests = 0
      let connections = 0
      await app.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain }, remoteAddress: ip })
      await nmapRelay(ip)
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = performance.now()
        const res = await app.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain }, remoteAddress: ip })
        const ms = performance.now() - t0
        const r = res.json()
        if (res.statusCode !== 200 || r.status === 'error') throw new Error(`mxprobe relay check failed: ${res.statusCode} ${r.summary ?? res.body}`)
        ours.ms.push(ms)
        if (process.env.BENCH_DEBUG) {
          const tr = r.transcript as Array<{ at: number, dir: string, text: string }>
          for (let k = 1; k < tr.length; k++) if (tr[k].at - tr[k - 1].at > 150) console.log(`  [${name}] gap ${tr[k].at - tr[k - 1].at} ms before: ${tr[k].dir} ${tr[k].text} (after ${tr[k - 1].dir} ${tr[k - 1].text})`)
        }
        ours.verdict = r.status === 'fail' ? 'open relay' : 'not an open relay'
        ours.detail = `${r.status}: ${r.vectors.filter((v: any) => v.accepted).length}/${r.vectors.length} accepted`
        attempts = r.vectors.length
        nmapTests = r.relay.nmapTests
        connections = r.relay.connections
        const n = await nmapRelay(ip)
        theirs.ms.push(n.ms)
        theirs.verdict = n.open ? 'open relay' : 'not an open relay'
        theirs.detail = n.line
      }
      rows.push({ name, ours, nmap: theirs, attempts, nmapTests, connections })
    }
  } finally {
    await app.close()
    await closed.stop()
    await open.stop()
    await dns.close()
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
  console.log(`relay battery vs nmap smtp-open-relay, stock Debian Postfix on loopback, ${ROUNDS} rounds each (median wall time)`)
  let ok = true
  for (const r of rows) {
    const o = med(r.ours.ms)
    const n = med(r.nmap.ms)
    const ratio = o / n
    const agree = r.ours.verdict === r.nmap.verdict
    const stock = r.name === 'closed'
    ok &&= agree && (!stock || ratio < 0.2)
    console.log(`\n${r.name} Postfix:`)
    console.log(`  mxprobe: ${o.toFixed(0).padStart(6)} ms  ${r.attempts} attempts (${r.nmapTests} of them nmap's), ${r.connections} connections  → ${r.ours.verdict} (${r.ours.detail})`)
    console.log(`  nmap:    ${n.toFixed(0).padStart(6)} ms  16 tests, 1 connection → ${r.nmap.verdict} (${r.nmap.detail})`)
    console.log(`  ratio mxprobe/nmap: ${ratio.toFixed(3)}${stock ? ` (target < 0.200)  ${ratio < 0.2 ? 'OK' : 'MISSED'}` : ' (information)'}; verdicts ${agree ? 'agree' : 'DISAGREE'}`)
    console.log(`  all rounds: mxprobe ${r.ours.ms.map((x) => x.toFixed(0)).join(', ')} ms; nmap ${r.nmap.ms.map((x) => x.toFixed(0)).join(', ')} ms`)
  }
  console.log(`\n${ok ? 'PASS' : 'FAIL'}: ${ok ? 'under 1/5 of nmap\'s time on stock Postfix, same verdicts on both' : 'target missed or verdicts differ'}`)
  process.exitCode = ok ? 0 : 1
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
