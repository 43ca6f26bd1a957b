// bench:inbound — the send test's listener under load, on the real build
// (`node server.js`) with Redis and a dns2 server in its own process.
//  1. 200 inbound SMTP sessions at once, each from its own "home" address
//     with its own one-time address, each sending a 64 KiB message slowly;
//     meanwhile /healthz is polled. Measured: peak RSS of the server
//     (VmHWM), /healthz latency, and that every mail was accepted and its
//     report finished.
//  2. From the sender's 250 after DATA to the finished report reaching an
//     SSE follower, one mail at a time (DKIM-signed, SPF with an include,
//     DMARC, three DNSBL zones): p50 / max.
//  3. The red team's hostile mails (issue 22), one at a time: one h= list of
//     50,000 names over 50,000 fields, 600 l= signatures, 1,500 junk
//     signatures. While each is analysed, /healthz is asked every 50 ms and a
//     legitimate send test runs from another home. Measured: worst /healthz,
//     peak RSS, the hostile report's size, the lookups the mail caused, and
//     the legitimate test's time from connect to finished report.
// Targets: RSS < 300 MB, /healthz p99 < 50 ms, 250 → report ≤ 1000 ms;
// hostile mails: worst /healthz < 250 ms, the legitimate test ≤ 15 s.
// Exits non-zero when one is missed.
//   npm run bench:inbound   (INBOUND_SESSIONS=200 INBOUND_TIMED=20)
import http from 'node:http'
import { readFileSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import { dkimSign } from 'mailauth/lib/dkim/sign.js'
import { buildServer, startServer, freePort } from '../test/ops/fixtures.js'
import { uniquePrefix, REDIS_URL, randomLoopback } from '../test/helpers.js'
import { talk, type Talk } from '../test/fixtures/smtp-talk.js'
import { reverseName, type Zone } from '../test/fixtures/dns.js'
import { hListBomb, lBomb, signatureFlood } from '../test/fixtures/hostile-mail.js'
import { machine, percentile, fmt, load, startDnsProcess } from './common.js'

const SESSIONS = Number(process.env.INBOUND_SESSIONS ?? 200)
const TIMED = Number(process.env.INBOUND_TIMED ?? 20)
const BODY_BYTES = 64 * 1024

const homeOf = (i: number): string => `127.88.${Math.floor(i / 250)}.${(i % 250) + 2}`

function vmHwmMb (pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)
  return m ? Number(m[1]) / 1024 : NaN
}

function request (url: string, opts: { method?: string, body?: unknown, xff?: string } = {}): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: { 'content-type': 'application/json', ...(opts.xff ? { 'x-forwarded-for': opts.xff } : {}) } }, (res) => {
      let data = ''
      res.setEncoding('utf8').on('data', (d) => { data += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: data }))
    })
    req.on('error', reject)
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body))
  })
}

/** resolves with the time the "done" event arrived */
function followDone (url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      let buf = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        buf += d
        if (/(^|\n)event: done\n/.test(buf)) { resolve(Date.now()); res.destroy() }
      })
      res.on('error', () => {})
    }).on('error', reject)
  })
}

async function main (): Promise<void> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const rawKey = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('base64')
  const zone: Zone = {
    'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }], TXT: ['v=spf1 include:_spf.home.test -all'] },
    '_spf.home.test': { TXT: ['v=spf1 ip4:127.88.0.0/16 -all'] },
    'mx.home.test': { A: ['127.88.0.2'] },
    '_dmarc.home.test': { TXT: ['v=DMARC1; p=quarantine'] },
    'sel._domainkey.home.test': { TXT: [`v=DKIM1; k=ed25519; p=${rawKey}`] }
  }
  for (let i = 0; i < Math.max(SESSIONS, TIMED); i++) zone[reverseName(homeOf(i))] = { PTR: ['mx.home.test'] }
  zone[`${homeOf(0).split('.').reverse().join('.')}.bl1.test`] = { A: ['127.0.0.2'], TXT: ['listed for the bench'] }
  const dns = await startDnsProcess(zone)
  const build = buildServer()
  const port = await freePort()
  const listenIp = randomLoopback()
  const smtpPort = await freePort(listenIp)
  const server = await startServer(build.serverJs, {
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL,
    REDIS_PREFIX: uniquePrefix(),
    TRUST_PROXY: '127.0.0.1',
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    HELO_NAME: 'probe.mxprobe.test',
    DNS_SERVERS: dns.server,
    LOG_LEVEL: 'warn',
    INBOUND_LISTEN: `${listenIp}:${smtpPort}`,
    INBOUND_DOMAIN: 'send.test',
    DNSBL_ZONES: 'bl1.test,bl2.test,bl3.test',
    RATE_LIMITS: 'send=100000/600',
    DOMAIN_RATE_LIMITS: 'send=100000/600',
    INBOUND_MAX_CONNECTIONS: String(SESSIONS * 2),
    SEND_WAIT_SECONDS: '600'
  // INBOUND_PROFILE=dir writes a CPU profile of the server there
  }, { nodeArgs: process.env.INBOUND_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.INBOUND_PROFILE}`] : [] })
  const pid = server.proc.pid!
  const url = server.url
  const failures: string[] = []
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const idle = vmHwmMb(pid)

    // ---- 1. many sessions at once
    const addresses: Array<{ id: string, address: string }> = []
    for (let i = 0; i < SESSIONS; i++) {
      const r = await request(`${url}/api/v1/checks/send`, { method: 'POST', body: { domain: 'home.test' }, xff: homeOf(i) })
      if (r.status !== 200) throw new Error(`start ${i}: ${r.status} ${r.body}`)
      const j = JSON.parse(r.body)
      addresses.push({ id: j.id, address: j.address })
    }
    const lat: number[] = []
    let polling = true
    const poll = (async () => {
      // eslint-disable-next-line no-unmodified-loop-condition
      while (polling) {
        const t0 = performance.now()
        await request(`${url}/healthz`)
        lat.push(performance.now() - t0)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    let peak = idle
    const sampler = setInterval(() => { peak = Math.max(peak, vmHwmMb(pid)) }, 100)
    const body = ('x'.repeat(76) + '\r\n').repeat(Math.ceil(BODY_BYTES / 78))
    const t1 = Date.now()
    const sessions: Talk[] = await Promise.all(addresses.map(async (a, i) => {
      const s = await talk(listenIp, smtpPort, homeOf(i))
      await s.cmd('EHLO mx.home.test')
      await s.cmd('MAIL FROM:<taro@home.test>')
      const rc = await s.cmd(`RCPT TO:<${a.address}>`)
      if (!rc.startsWith('250')) failures.push(`session ${i}: RCPT ${rc}`)
      await s.cmd('DATA')
      return s
    }))
    const opened = Date.now() - t1
    // All 200 are in DATA now; each sends its message in pieces over ~2 s.
    const replies = await Promise.all(sessions.map(async (s, i) => {
      const msg = `From: taro@home.test\r\nTo: ${addresses[i].address}\r\nSubject: bench ${i}\r\n\r\n${body}`
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2000))
      const r = await s.data(msg)
      await s.cmd('QUIT')
      return r
    }))
    const accepted = replies.filter((r) => r.startsWith('250')).length
    // every report finishes (polled gently: the bench's own requests are load on the server too)
    const until = Date.now() + 60_000
    let finished = 0
    let reportBytes = 0
    const statuses: Record<string, number> = {}
    for (const a of addresses) {
      for (;;) {
        const body = (await request(`${url}/api/v1/checks/${a.id}`)).body
        const r = JSON.parse(body)
        if (r.status !== 'running') { finished++; statuses[r.status] = (statuses[r.status] ?? 0) + 1; reportBytes = Math.max(reportBytes, body.length); break }
        if (Date.now() > until) break
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
    const allDone = Date.now() - t1
    polling = false
    await poll
    clearInterval(sampler)
    peak = Math.max(peak, vmHwmMb(pid))
    lat.sort((a, b) => a - b)

    // ---- 2. 250 → finished report, one at a time
    const times: number[] = []
    const serverTimes: number[] = []
    for (let i = 0; i < TIMED; i++) {
      const home = homeOf(i)
      const r = JSON.parse((await request(`${url}/api/v1/checks/send`, { method: 'POST', body: { domain: 'home.test' }, xff: home })).body)
      const done = followDone(`${url}/api/v1/checks/${r.id}/events`)
      await new Promise((resolve) => setTimeout(resolve, 100))
      const msg = `From: taro@home.test\r\nTo: ${r.address}\r\nSubject: timed ${i}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <t${i}@home.test>\r\n\r\nhello\r\n`
      const signed = (await dkimSign(msg, { signatureData: [{ signingDomain: 'home.test', selector: 'sel', privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, algorithm: 'ed25519-sha256' }] })).signatures + msg
      const s = await talk(listenIp, smtpPort, home)
      await s.cmd('EHLO mx.home.test')
      await s.cmd('MAIL FROM:<taro@home.test>')
      await s.cmd(`RCPT TO:<${r.address}>`)
      await s.cmd('DATA')
      const reply = await s.data(signed)
      const at250 = Date.now()
      await s.cmd('QUIT')
      if (!reply.startsWith('250')) { failures.push(`timed ${i}: ${reply}`); continue }
      times.push((await done) - at250)
      const rep = JSON.parse((await request(`${url}/api/v1/checks/${r.id}`)).body)
      if (!rep.inbound) { failures.push(`timed ${i}: ${rep.status}: ${rep.summary}`); continue }
      serverTimes.push(Date.parse(rep.finishedAt) - Date.parse(rep.inbound.receivedAt))
      if (i === 0) {
        const ok = rep.inbound.dkim[0]?.result === 'pass' && rep.inbound.spf.result === 'pass' && rep.inbound.dmarc.result === 'pass' && rep.inbound.dnsbl.length === 3 && rep.inbound.dnsbl[0].listed
        if (!ok) failures.push(`timed 0: lookups not as expected: ${JSON.stringify({ spf: rep.inbound.spf, dkim: rep.inbound.dkim, dmarc: rep.inbound.dmarc, dnsbl: rep.inbound.dnsbl })}`)
      }
    }
    times.sort((a, b) => a - b)
    serverTimes.sort((a, b) => a - b)

    // ---- 3. hostile mails, each beside a legitimate send test
    const hostileRows: string[] = []
    const signMsg = async (msg: string): Promise<string> => (await dkimSign(msg, { signatureData: [{ signingDomain: 'home.test', selector: 'sel', privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, algorithm: 'ed25519-sha256' }] })).signatures + msg
    const waitReport = async (id: string, ms: number): Promise<{ r: any, bytes: number } | null> => {
      const end = Date.now() + ms
      for (;;) {
        const body = (await request(`${url}/api/v1/checks/${id}`)).body
        const r = JSON.parse(body)
        if (r.status !== 'running') return { r, bytes: Buffer.byteLength(body) }
        if (Date.now() > end) return null
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    const attacks: Array<{ name: string, make: (to: string) => string }> = [
      { name: 'h= list of 50,000 names', make: (to) => hListBomb(to) },
      { name: '600 l= signatures', make: (to) => lBomb(to) },
      { name: '1,500 junk signatures', make: (to) => { const f = signatureFlood(to); return f.junk + f.message } }
    ]
    for (const [k, attack] of attacks.entries()) {
      const evil = homeOf(100 + k)
      const good = homeOf(150 + k)
      const h = JSON.parse((await request(`${url}/api/v1/checks/send`, { method: 'POST', body: { domain: 'home.test' }, xff: evil })).body)
      const g = JSON.parse((await request(`${url}/api/v1/checks/send`, { method: 'POST', body: { domain: 'home.test' }, xff: good })).body)
      const hl: number[] = []
      let on = true
      const poller = (async () => {
        // eslint-disable-next-line no-unmodified-loop-condition
        while (on) {
          const t0 = performance.now()
          await request(`${url}/healthz`)
          hl.push(performance.now() - t0)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      })()
      let hPeak = vmHwmMb(pid)
      const sample = setInterval(() => { hPeak = Math.max(hPeak, vmHwmMb(pid)) }, 100)
      const evilMail = (async () => {
        const s = await talk(listenIp, smtpPort, evil)
        await s.cmd('EHLO mx.home.test')
        await s.cmd('MAIL FROM:<m@evil.test>')
        await s.cmd(`RCPT TO:<${h.address}>`)
        await s.cmd('DATA')
        const reply = await s.data(attack.make(h.address))
        await s.cmd('QUIT')
        return reply
      })()
      // the legitimate sender arrives while the hostile mail is being analysed
      await new Promise((resolve) => setTimeout(resolve, 300))
      const g0 = Date.now()
      const goodMail = (async () => {
        const msg = `From: taro@home.test\r\nTo: ${g.address}\r\nSubject: beside an attack\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <g${k}@home.test>\r\n\r\nhello\r\n`
        const s = await talk(listenIp, smtpPort, good)
        await s.cmd('EHLO mx.home.test')
        await s.cmd('MAIL FROM:<taro@home.test>')
        await s.cmd(`RCPT TO:<${g.address}>`)
        await s.cmd('DATA')
        const reply = await s.data(await signMsg(msg))
        await s.cmd('QUIT')
        return reply
      })()
      const [evilReply, goodReply] = await Promise.all([evilMail, goodMail])
      const goodDone = await waitReport(g.id, 30_000)
      const goodMs = Date.now() - g0
      const evilDone = await waitReport(h.id, 30_000)
      on = false
      await poller
      clearInterval(sample)
      hPeak = Math.max(hPeak, vmHwmMb(pid))
      const worst = Math.max(...hl)
      const lookups = evilDone?.r.inbound?.analysis?.lookups
      const lookupsText = lookups ? Object.entries(lookups).map(([p, n]) => `${p} ${n}`).join(', ') : 'n/a'
      hostileRows.push(`| ${attack.name} | ${fmt(worst)} ms (${hl.length} samples) | ${fmt(hPeak, 0)} MB | ${evilDone ? `${Math.round(evilDone.bytes / 1024)} KiB, ${evilDone.r.status}` : 'still running'} | ${lookupsText} | ${goodDone ? `${goodMs} ms, ${goodDone.r.status}` : 'not finished'} |`)
      if (!(worst < 250)) failures.push(`${attack.name}: worst /healthz ${fmt(worst)} ms ≥ 250 ms`)
      if (!goodReply.startsWith('250') || !goodDone || goodMs > 15_000) failures.push(`${attack.name}: legitimate send test ${goodReply.trim()} / ${goodDone?.r.status ?? 'not finished'} in ${goodMs} ms (target ≤ 15 s)`)
      if (!evilDone) failures.push(`${attack.name}: the hostile mail's report never finished (${evilReply.trim()})`)
      else if (evilDone.bytes > 512 * 1024) failures.push(`${attack.name}: report ${Math.round(evilDone.bytes / 1024)} KiB > 512 KiB`)
    }

    const p99 = percentile(lat, 0.99)
    console.log(`bench:inbound · ${machine()} · load ${load()}`)
    console.log('| figure | value | target |')
    console.log('| --- | ---: | --- |')
    console.log(`| sessions at once, each in DATA | ${sessions.length} (opened in ${opened} ms) | ${SESSIONS} |`)
    console.log(`| messages accepted / reports finished (by status) | ${accepted} / ${finished} (${Object.entries(statuses).map(([k, v]) => `${k} ${v}`).join(', ')}) | ${SESSIONS} / ${SESSIONS}, no error |`)
    console.log(`| all ${SESSIONS} from connect to finished reports | ${allDone} ms (largest report ${Math.round(reportBytes / 1024)} KiB) | |`)
    console.log(`| peak RSS of the server (VmHWM), idle before | **${fmt(peak, 0)} MB** (${fmt(idle, 0)}) | < 300 MB |`)
    console.log(`| /healthz p50 / p99 / max meanwhile (${lat.length} requests) | ${fmt(percentile(lat, 0.5))} / **${fmt(p99)}** / ${fmt(lat.at(-1) ?? NaN)} ms | p99 < 50 ms |`)
    console.log(`| 250 → finished report at an SSE follower, p50 / max (${times.length} mails) | ${fmt(percentile(times, 0.5), 0)} / **${fmt(times.at(-1) ?? NaN, 0)}** ms | ≤ 1000 ms |`)
    console.log(`| same, in the server (receivedAt → finishedAt), p50 / max | ${fmt(percentile(serverTimes, 0.5), 0)} / ${fmt(serverTimes.at(-1) ?? NaN, 0)} ms | |`)
    console.log('')
    console.log('| hostile mail | worst /healthz meanwhile | peak RSS | its report | lookups it caused (by part) | legitimate send test beside it |')
    console.log('| --- | ---: | ---: | --- | --- | --- |')
    for (const row of hostileRows) console.log(row)
    if (peak >= 300) failures.push(`peak RSS ${fmt(peak, 0)} MB ≥ 300 MB`)
    if (!(p99 < 50)) failures.push(`/healthz p99 ${fmt(p99)} ms ≥ 50 ms`)
    if (accepted !== SESSIONS || finished !== SESSIONS) failures.push(`accepted ${accepted}, finished ${finished} of ${SESSIONS}`)
    if (statuses.error) failures.push(`${statuses.error} reports ended in error (mxprobe's own trouble, see the server warnings)`)
    if (!times.length || (times.at(-1) ?? Infinity) > 1000) failures.push(`250 → report max ${fmt(times.at(-1) ?? NaN, 0)} ms > 1000 ms`)
  } finally {
    const errors = server.logs.filter((l) => l.level >= 40).slice(0, 10)
    if (errors.length) console.log('server warnings/errors (first 10):', errors.map((l) => `${l.msg} ${l.err?.message ?? ''}`).join(' | '))
    await server.stop()
    dns.stop()
    build.cleanup()
  }
  if (failures.length) {
    console.error(`MISSED:\n${failures.join('\n')}`)
    process.exit(1)
  }
}

main().catch((err) => { console.error(err); process.exit(1) })
