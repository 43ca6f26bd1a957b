// The handshakes a diagnosis's checks share (src/core/handshakes.ts).
import t from 'tap'
import { HandshakeMemo, type HandshakeFacts } from '../../src/core/handshakes.js'

const facts: HandshakeFacts = { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', chain: [], group: 'X25519', ms: 3 }

t.test('nothing expected: null at once', async (t) => {
  const m = new HandshakeMemo()
  t.equal(await m.take('127.0.0.1', 25, 10_000), null)
  t.same(m.ports, [])
})

t.test('expected and offered: the first offer, for that address only', async (t) => {
  const m = new HandshakeMemo()
  m.expect(25, 995)
  t.same(m.ports, [25, 995])
  const waiting = m.take('127.0.0.1', 25, 10_000)
  m.offer('127.0.0.1', 25, facts)
  m.offer('127.0.0.1', 25, { ...facts, protocol: 'TLSv1.2' })
  t.equal(await waiting, facts)
  t.equal(await m.take('127.0.0.2', 25, 10_000), null, 'another address is not this one')
})

t.test('settled without an offer, or not in time: null', async (t) => {
  const m = new HandshakeMemo()
  m.expect(995, 110)
  const waiting = m.take('127.0.0.1', 995, 10_000)
  m.settle(995)
  t.equal(await waiting, null)
  const t0 = Date.now()
  t.equal(await m.take('127.0.0.1', 110, 30), null)
  t.ok(Date.now() - t0 < 2000, 'the wait is bounded')
  m.settle(143) // a port nobody expected: nothing to do
})
