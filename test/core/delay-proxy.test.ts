// The delay relay the round-trip tests stand on: it must really delay each
// direction and count the waits a client spends.
import t from 'tap'
import net, { type AddressInfo } from 'node:net'
import { startDelayProxy, transcriptRoundTrips } from '../fixtures/delay-proxy.js'
import { randomLoopback } from '../helpers.js'

t.test('a ping-pong through the relay costs a round trip per exchange', async (t) => {
  const ip = randomLoopback()
  const echo = net.createServer((s) => { s.write('220 hi\r\n'); s.on('data', (b) => s.write(b)) })
  await new Promise<void>((resolve) => echo.listen(0, ip, resolve))
  const proxy = await startDelayProxy({ listenHost: ip, listenPort: 0, targetHost: ip, targetPort: (echo.address() as AddressInfo).port, oneWayMs: 25 })
  t.teardown(async () => { await proxy.close(); echo.close() })
  const t0 = Date.now()
  const c = net.connect(proxy.port, ip)
  const lines: string[] = []
  let buf = ''
  await new Promise<void>((resolve) => {
    c.on('data', (d) => {
      buf += d.toString()
      while (buf.includes('\n')) {
        const i = buf.indexOf('\n')
        lines.push(buf.slice(0, i + 1)); buf = buf.slice(i + 1)
        if (lines.length === 1) c.write('one\r\n')
        else if (lines.length === 2) c.write('two\r\nthree\r\n')
        else if (lines.length === 4) { c.end(); resolve() }
      }
    })
  })
  const ms = Date.now() - t0
  // connect + greeting (1 RTT) + two answered flights: 3 round trips of 50 ms at the least
  t.ok(ms >= 150, `three round trips take at least 150 ms (took ${ms})`)
  t.equal(proxy.stats.connections, 1)
  t.equal(proxy.stats.clientFlights, 2)
  t.equal(proxy.stats.answeredFlights, 2)
  t.equal(proxy.roundTrips(), 3)
})

t.test('transcript round trips: a greeting, then one per answered run of commands', async (t) => {
  t.equal(transcriptRoundTrips([
    { dir: 'I', text: 'connected' }, { dir: 'S', text: '220 hi' },
    { dir: 'C', text: 'EHLO x' }, { dir: 'S', text: '250 ok' },
    { dir: 'C', text: 'MAIL FROM:<>' }, { dir: 'C', text: 'RCPT TO:<a@b>' }, { dir: 'S', text: '250 ok' }, { dir: 'S', text: '250 ok' },
    { dir: 'C', text: 'QUIT' }
  ]), 3)
})
