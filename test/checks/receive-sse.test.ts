// Live progress over a real HTTP connection: the app listens on loopback,
// node's http client (bound to the "home" address, so that it is the
// caller IP) starts an async receive test and reads the event stream.
import { SseParser } from '../fixtures/sse.js'
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startDns, reverseName } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { testApp, randomLoopback } from '../helpers.js'

interface Received { at: number, event: string, data: any }

function request (port: number, localAddress: string, method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, localAddress, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }))
    })
    req.on('error', reject)
    req.end(body ? JSON.stringify(body) : undefined)
  })
}

/** Reads an SSE stream until the `done` event, stamping each event with its arrival time. */
function readEvents (port: number, localAddress: string, path: string, t0: number): Promise<{ contentType: string, events: Received[] }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, localAddress, path, headers: { accept: 'text/event-stream' } }, (res) => {
      const events: Received[] = []
      const parser = new SseParser()
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        for (const ev of parser.push(chunk)) {
          events.push({ at: Date.now() - t0, event: ev.event, data: JSON.parse(ev.data) })
          if (ev.event === 'done') { res.destroy(); resolve({ contentType: String(res.headers['content-type']), events }) }
        }
      })
      res.on('error', reject)
      res.on('end', () => resolve({ contentType: String(res.headers['content-type']), events }))
    }).on('error', reject)
  })
}

t.test('the banner reaches the browser before the check ends', async (t) => {
  const home = randomLoopback()
  // every reply of this server takes 700 ms: the check lasts several seconds
  const srv = await startSmtp({ ip: home, name: 'mx.slow.test', users: ['taro'], delayMs: 700 })
  t.teardown(() => srv.close())
  const dns = await startDns({
    'slow.test': { MX: [{ exchange: 'mx.slow.test', priority: 10 }] },
    'mx.slow.test': { A: [home] },
    [reverseName(home)]: { PTR: ['mx.slow.test'] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port

  const t0 = Date.now()
  const started = await request(port, home, 'POST', '/api/v1/checks/receive?async=1', { address: 'taro@slow.test' })
  t.equal(started.status, 202)
  const id = started.json.id
  t.equal(started.json.links.events, `/api/v1/checks/${id}/events`)

  const { contentType, events } = await readEvents(port, home, started.json.links.events, t0)
  t.match(contentType, /^text\/event-stream/)
  const banner = events.find((e) => e.event === 'transcript' && e.data.dir === 'S')
  const done = events.find((e) => e.event === 'done')
  t.ok(banner && done, 'banner and done events arrived')
  t.match(banner!.data.text, /^220 mx\.slow\.test/)
  t.ok(done!.at - banner!.at >= 1500, `banner at ${banner!.at} ms, done at ${done!.at} ms: the first line was shown while the check still ran`)
  t.equal(done!.data.status, 'pass', done!.data.summary)
  t.ok(events.some((e) => e.event === 'step' && e.data.name === 'rcpt'), 'steps are streamed too')
  const streamed = events.filter((e) => e.event === 'transcript').map((e) => e.data.text)
  const stored = await request(port, home, 'GET', `/api/v1/checks/${id}`)
  t.same(streamed, stored.json.transcript.map((l: any) => l.text), 'the stream carries the whole transcript, in order')
  t.equal(srv.delivered.length, 1)
})
