// The whole diagnosis of a healthy home server on loopback: how long from
// POST /api/v1/checks/all to the final report (target: within 5 s), against
// the smtp-server fixture and, when this machine has it (root + Postfix),
// Debian's Postfix. In-process app, real Redis, real DNS (dns2) on loopback.
// Prints figures; exits non-zero when the median misses the target.
import { startDns, publishMx } from '../test/fixtures/dns.js'
import { startSmtp } from '../test/fixtures/smtp.js'
import { startPostfix, postfixAvailable } from '../test/fixtures/postfix.js'
import { testApp, REDIS_URL } from '../test/helpers.js'
import { machine, percentile, fmt, load } from './common.js'

const TARGET_MS = 5000
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const USERS = ['postmaster', 'abuse', 'webmaster', 'hostmaster', 'noc', 'security', 'ftp']
const many = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'pop3'].map((x) => `${x}=10000/600`).join(',')

async function measure (name: string, ip: string, domain: string, dnsServer: string): Promise<boolean> {
  const app = await testApp({ DNS_SERVERS: dnsServer, REDIS_URL, RATE_LIMITS: many, DOMAIN_RATE_LIMITS: many, REPEAT_WINDOW_SECONDS: '0' })
  const times: number[] = []
  let last: any = null
  const rss0 = process.memoryUsage().rss
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now()
    const res = await app.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: domain }, remoteAddress: ip })
    times.push(performance.now() - t0)
    last = res.json()
    if (res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode} ${res.body}`)
  }
  await app.close()
  times.sort((a, b) => a - b)
  const med = percentile(times, 0.5)
  console.log(`${name}: ${RUNS} diagnoses, median ${fmt(med, 0)} ms, min ${fmt(times[0], 0)} ms, max ${fmt(times.at(-1)!, 0)} ms (target ${TARGET_MS} ms) ` +
    `· children ${last.children.map((c: any) => `${c.type}=${c.status}`).join(' ')} · RSS +${fmt((process.memoryUsage().rss - rss0) / 2 ** 20)} MiB`)
  return med <= TARGET_MS
}

const dns = await startDns({})
console.log(machine())
console.log(`load: ${load()}`)
let ok = true
const srv = await startSmtp({ name: 'mx.bench-all.test', users: USERS, starttls: true })
publishMx(dns.zone, 'bench-all.test', srv.ip)
ok = await measure('smtp-server fixture (STARTTLS)', srv.ip, 'bench-all.test', dns.server) && ok
await srv.close()
if (postfixAvailable()) {
  const pf = await startPostfix({ domain: 'bench-pf.test', users: USERS })
  publishMx(dns.zone, 'bench-pf.test', pf.ip, pf.hostname)
  try {
    ok = await measure('Postfix fixture', pf.ip, 'bench-pf.test', dns.server) && ok
  } finally {
    await pf.stop()
  }
} else {
  console.log('Postfix fixture: skipped (needs root and /usr/sbin/postfix)')
}
await dns.close()
if (!ok) {
  console.error(`FAIL: a median above ${TARGET_MS} ms`)
  process.exit(1)
}
process.exit(0)
