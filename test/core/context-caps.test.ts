// ctx.connect() lets a check ask for less than the configured limits, never
// for more: the byte cap and the deadline are ceilings a check cannot raise.
import t from 'tap'
import net from 'node:net'
import { testApp, randomLoopback } from '../helpers.js'
import type { CheckDefinition } from '../../src/checks/context.js'

const home = randomLoopback()

t.test('a check cannot raise the byte cap above MAX_BYTES_PER_CONNECTION', async (t) => {
  // A "server" that floods: far more than the configured cap.
  const server = net.createServer((s) => { s.on('error', () => {}); s.write(Buffer.alloc(64 * 1024, 0x41)) })
  await new Promise<void>((resolve) => server.listen(25, home, resolve))
  t.teardown(() => server.close())
  const app = await testApp({ MAX_BYTES_PER_CONNECTION: '4096' })
  t.teardown(() => app.close())

  let outcome = ''
  const greedy: CheckDefinition<Record<string, never>, null> = {
    type: 'greedy',
    probes: false,
    prepare: async () => null,
    run: async (ctx) => {
      const g = await ctx.connect(home, 25, { maxBytes: 10 * 1024 * 1024 })
      outcome = await new Promise<string>((resolve) => {
        g.socket.on('data', () => {})
        g.socket.on('error', (e: Error & { kind?: string }) => resolve(e.kind ?? e.message))
        g.socket.on('close', () => resolve('closed after ' + g.bytesRead()))
      })
      ctx.report.finish(outcome)
    }
  }
  const started = await app.mx.runner.start(greedy, {}, home, 'en')
  await started.done
  t.equal(outcome, 'byte_cap', 'the configured cap still ends the connection')
})
