// Several instances: two mxprobe processes (`node src/server.ts` through the
// tests' TypeScript loader, as the other process tests: a full tsc build
// inside this file's time budget made it time out on a busy machine) on one Redis, each with its own inbound listener. A send
// test started on A, and followed live over SSE on A, is completed by B,
// whose listener receives the mail: addresses, their state and the
// report's events live in the shared store.
import t from 'tap'
import http from 'node:http'
import { startDns, publishMx } from '../fixtures/dns.js'
import { randomLoopback, REDIS_URL, uniquePrefix } from '../helpers.js'
import { serverEntry, startServer, freePort, sseClient } from '../ops/fixtures.js'
import { talk } from '../fixtures/smtp-talk.js'

const home = randomLoopback()
// Two server processes start here; tap's default 120 s per file is too tight on a loaded CI machine.
t.setTimeout(300_000)

function post (url: string, body: unknown): Promise<{ status: number, json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', localAddress: home, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = ''
      res.setEncoding('utf8').on('data', (d) => { data += d }).on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) }))
    })
    req.on('error', reject)
    // A hung answer fails here, with its URL, not as tap's anonymous file timeout.
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer from ${url} in 20 s`)))
    req.end(JSON.stringify(body))
  })
}

t.test('A hands out the address, B receives the mail, A\'s caller sees the result', async (t) => {
  const zone = {}
  publishMx(zone, 'home.test', home)
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const serverJs = serverEntry()
  const prefix = uniquePrefix()
  const listenA = randomLoopback()
  const listenB = randomLoopback()
  const [portA, portB, smtpA, smtpB] = await Promise.all([freePort(), freePort(), freePort(listenA), freePort(listenB)])
  const env = (port: number, listen: string) => ({
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    DNS_SERVERS: dns.server,
    HELO_NAME: 'probe.mxprobe.test',
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    INBOUND_LISTEN: listen,
    INBOUND_DOMAIN: 'send.test',
    DNSBL_ZONES: '',
    SEND_WAIT_SECONDS: '300',
    LOG_LEVEL: 'warn'
  })
  // Both start at once: on a busy 2-core machine each start costs tens of seconds.
  const [a, b] = await Promise.all([
    startServer(serverJs, env(portA, `${listenA}:${smtpA}`)),
    startServer(serverJs, env(portB, `${listenB}:${smtpB}`))
  ])
  t.teardown(() => a.stop())
  t.teardown(() => b.stop())
  const started = await post(`${a.url}/api/v1/checks/send?lang=en`, { domain: 'home.test' })
  t.equal(started.status, 200)
  t.equal(started.json.status, 'running')
  const id = started.json.id
  const address = started.json.address
  const sse = sseClient(`${a.url}/api/v1/checks/${id}/events`, { localAddress: home })
  // Let the follower subscribe on A before the mail arrives at B.
  await new Promise((resolve) => setTimeout(resolve, 500))

  const s = await talk(listenB, smtpB, home)
  await s.cmd('EHLO mx.home.test')
  await s.cmd('MAIL FROM:<taro@home.test>')
  t.match(await s.cmd(`RCPT TO:<${address}>`), /^250/, 'B\'s listener knows the address A made')
  await s.cmd('DATA')
  t.match(await s.data(`From: taro@home.test\r\nTo: ${address}\r\nSubject: multi\r\n\r\nhi\r\n`), /^250/)
  await s.cmd('QUIT')

  const events = await Promise.race([
    sse.done,
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`A's event stream did not end within 30 s; events so far: ${sse.events.map((e) => e.event).join(',')}`)), 30_000).unref())
  ])
  const done = events.at(-1)!
  t.equal(done.event, 'done', 'A\'s event stream ends with the finished report')
  const report = JSON.parse(done.data)
  t.not(report.status, 'running')
  t.equal(report.inbound.connectingIp, home)
  t.equal(report.inbound.subject, 'multi')
  const seqs = events.filter((e) => e.id).map((e) => Number(e.id)).filter((n) => n < 1e15)
  t.same(seqs, [...seqs].sort((x, y) => x - y), 'events in order')
  t.equal(new Set(seqs).size, seqs.length, 'no event number used twice (B went on after A\'s)')

  // The address is used: A's listener refuses it too.
  const again = await talk(listenA, smtpA, home)
  await again.cmd('EHLO mx.home.test')
  await again.cmd('MAIL FROM:<taro@home.test>')
  t.match(await again.cmd(`RCPT TO:<${address}>`), /^550 5\.1\.1 .*already used/, 'used once, on every instance')
  again.close()

  const stored = await (await fetch(`${a.url}/api/v1/checks/${id}`)).json()
  t.equal(stored.status, report.status, 'A serves the report B finished')
})
