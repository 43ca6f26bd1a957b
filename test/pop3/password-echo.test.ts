// A server that echoes the password back in a long reply: the transcript
// shortens long lines, and the shortening must not cut the password in two
// and show its first half. Scrubbing happens on the whole line, before it
// is shortened.
import t from 'tap'
import net from 'node:net'
import { GuardedConnector } from '../../src/net/connect.js'
import { parseCidrList } from '../../src/net/policy.js'
import { Pop3Client } from '../../src/pop3/client.js'
import { randomLoopback } from '../helpers.js'

const home = randomLoopback()
const password = 'CorrectHorseBatteryStaple-9f3k'

t.test('an echoed password is hidden even where the transcript cuts the line', async (t) => {
  const server = net.createServer((s) => {
    s.write('+OK ready\r\n')
    s.on('data', (d) => {
      const line = d.toString('utf8').trim()
      if (line.startsWith('USER')) s.write('+OK\r\n')
      // The password straddles position 512 (the transcript's cut) of the status line.
      else if (line.startsWith('PASS')) s.write(`-ERR ${'x'.repeat(500)} ${line.slice(5)} is wrong\r\n`)
      // Not POP3: the protocol error quotes the first 120 characters, the password starts at 114.
      else if (line.startsWith('STAT')) s.write(`not pop3 ${'q'.repeat(105)}${password}\r\n`)
    })
  })
  await new Promise<void>((resolve) => server.listen(110, home, resolve))
  t.teardown(() => server.close())

  const connector = new GuardedConnector({ allowCidrs: parseCidrList('127.0.0.0/8', 'x'), denyCidrs: [] })
  const g = await connector.connect({ callerIp: home, ip: home, port: 110, connectTimeoutMs: 1000, deadline: Date.now() + 5000, maxBytes: 100000 })
  const shown: string[] = []
  const c = new Pop3Client(g, { port: 110, log: (_dir, text) => shown.push(text), commandTimeoutMs: 2000 })
  t.teardown(() => c.close())
  await c.greeting(2000)
  const res = await c.login('alice', password, null)
  t.equal(res.ok, false)
  const prefix = password.slice(0, 6)
  t.notOk(res.reply.includes(prefix), 'the reply returned to the check holds no piece of the password')
  t.notOk(shown.some((l) => l.includes(prefix)), 'nor does the transcript')
  // A reply that is not POP3 at all becomes an error whose message quotes the line, shortened.
  await c.stat().then(() => t.fail('expected a protocol error'), (e: Error) => {
    t.match(e.message, /expected \+OK or -ERR/)
    t.notOk(e.message.includes(prefix), 'the protocol error holds no piece of the password')
  })
})
