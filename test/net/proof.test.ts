// Address proofs: what one proves, and every way one proves nothing
// (forged, altered, another secret, expired, from the future, a family byte
// that does not fit, malformed text).
import t from 'tap'
import { AddressProofs, MAX_PROOF_BYTES, DEFAULT_PROOF_TTL_SECONDS } from '../../src/net/proof.js'

const SECRET = 'a shared secret of the balancer'

/** A clock the test moves by hand. */
function clock (start = Date.UTC(2026, 11, 7, 12, 0, 0)) {
  let now = start
  return { now: () => now, advance: (s: number) => { now += s * 1000 } }
}

t.test('a proof proves its address, IPv4 and IPv6, in canonical form', async (t) => {
  const c = clock()
  const p = new AddressProofs({ secret: SECRET, now: c.now })
  t.equal(p.shared, true)
  t.equal(p.ttlSeconds, DEFAULT_PROOF_TTL_SECONDS)
  const v4 = p.issue('203.0.113.5')
  t.match(v4, /^[A-Za-z0-9_-]{56}$/, 'opaque base64url, 56 characters')
  t.same(p.verify(v4), { ok: true, ip: '203.0.113.5', family: 4, issuedAt: c.now() })
  const v6 = p.issue('2001:DB8:0:0:1::9')
  t.match(v6, /^[A-Za-z0-9_-]{72}$/)
  t.same(p.verify(v6), { ok: true, ip: '2001:db8::1:0:0:9', family: 6, issuedAt: c.now() })
  t.ok(v6.length < MAX_PROOF_BYTES)
  // An IPv4-mapped address is the IPv4 address, as everywhere else.
  t.same(p.verify(p.issue('::ffff:198.51.100.7')), { ok: true, ip: '198.51.100.7', family: 4, issuedAt: c.now() })
  t.throws(() => p.issue('not-an-ip'), /not an IP literal/)
  t.notOk(v4.includes('203') || Buffer.from(v4, 'base64url').toString('latin1').includes('203.0.113.5'), 'the address is not written as text inside')
})

t.test('expiry by an injected clock, and proofs from the future', async (t) => {
  const c = clock()
  const p = new AddressProofs({ secret: SECRET, ttlSeconds: 120, now: c.now })
  const proof = p.issue('203.0.113.5')
  c.advance(120)
  t.equal(p.verify(proof).ok, true, 'valid for its whole lifetime')
  c.advance(1)
  t.same(p.verify(proof), { ok: false, reason: 'expired' })
  // Another instance whose clock runs ahead: up to half a minute is clock skew, more is refused.
  const ahead = clock(c.now() + 25_000)
  const fast = new AddressProofs({ secret: SECRET, now: ahead.now })
  t.equal(p.verify(fast.issue('203.0.113.5')).ok, true, 'a few seconds of skew between instances is fine')
  ahead.advance(60)
  t.same(p.verify(fast.issue('203.0.113.5')), { ok: false, reason: 'future' })
})

t.test('forgery: altered bytes, a made-up MAC, another secret, a random secret', async (t) => {
  const c = clock()
  const p = new AddressProofs({ secret: SECRET, now: c.now })
  const proof = p.issue('203.0.113.5')
  const raw = Buffer.from(proof, 'base64url')
  // Claim another address: change the last address byte, keep the MAC.
  const other = Buffer.from(raw)
  other[5] ^= 1
  t.same(p.verify(other.toString('base64url')), { ok: false, reason: 'forged' })
  // Extend the lifetime: change the issue time.
  const later = Buffer.from(raw)
  later.writeUInt32BE(later.readUInt32BE(6) + 3600, 6)
  t.same(p.verify(later.toString('base64url')), { ok: false, reason: 'forged' })
  const zeroMac = Buffer.from(raw)
  zeroMac.fill(0, raw.length - 32)
  t.same(p.verify(zeroMac.toString('base64url')), { ok: false, reason: 'forged' })

  // Reuse across secrets: an instance with another PROOF_SECRET, or with none (random at start).
  const elsewhere = new AddressProofs({ secret: 'another balancer entirely', now: c.now })
  t.same(elsewhere.verify(proof), { ok: false, reason: 'forged' })
  t.same(p.verify(elsewhere.issue('203.0.113.5')), { ok: false, reason: 'forged' })
  const random1 = new AddressProofs({ now: c.now })
  const random2 = new AddressProofs({ secret: null, now: c.now })
  t.equal(random1.shared, false)
  t.equal(random1.verify(random1.issue('203.0.113.5')).ok, true, 'a random key works within its process')
  t.same(random2.verify(random1.issue('203.0.113.5')), { ok: false, reason: 'forged' }, 'two random keys differ')
  t.same(random1.verify(p.issue('203.0.113.5')), { ok: false, reason: 'forged' })
  const sameSecret = new AddressProofs({ secret: SECRET, now: c.now })
  t.equal(sameSecret.verify(proof).ok, true, 'instances sharing PROOF_SECRET accept each other\'s proofs')
})

t.test('a proof is bound to its purpose: a plain HMAC of the same bytes with the secret is not one', async (t) => {
  const { createHmac } = await import('node:crypto')
  const c = clock()
  const p = new AddressProofs({ secret: SECRET, now: c.now })
  const raw = Buffer.from(p.issue('203.0.113.5'), 'base64url')
  const payload = raw.subarray(0, raw.length - 32)
  const naive = Buffer.concat([payload, createHmac('sha256', SECRET).update(payload).digest()])
  t.same(p.verify(naive.toString('base64url')), { ok: false, reason: 'forged' }, 'the key is derived for proofs and the MAC covers the purpose label')
})

t.test('the family byte must fit the address', async (t) => {
  const c = clock()
  const p = new AddressProofs({ secret: SECRET, now: c.now })
  const time = Buffer.alloc(4)
  time.writeUInt32BE(Math.floor(c.now() / 1000))
  const v4bytes = Buffer.from([203, 0, 113, 5])
  const v6bytes = Buffer.from('20010db8000000000000000000000009', 'hex')
  const mapped = Buffer.from('00000000000000000000ffffcb007105', 'hex')
  // Signed with the right key, so only the insides are wrong.
  t.same(p.verify(p.seal(Buffer.concat([Buffer.from([1, 6]), v4bytes, time]))), { ok: false, reason: 'family' }, 'family 6 with four address bytes')
  t.same(p.verify(p.seal(Buffer.concat([Buffer.from([1, 4]), v6bytes, time]))), { ok: false, reason: 'family' }, 'family 4 with sixteen')
  t.same(p.verify(p.seal(Buffer.concat([Buffer.from([1, 5]), v4bytes, time]))), { ok: false, reason: 'family' }, 'no family 5')
  t.same(p.verify(p.seal(Buffer.concat([Buffer.from([1, 6]), mapped, time]))), { ok: false, reason: 'family' }, 'an IPv4-mapped address given as IPv6')
  t.same(p.verify(p.seal(Buffer.concat([Buffer.from([2, 4]), v4bytes, time]))), { ok: false, reason: 'malformed' }, 'an unknown version')
  t.same(p.verify(p.seal(Buffer.concat([Buffer.from([1, 6]), v6bytes, time]))), { ok: true, ip: '2001:db8::9', family: 6, issuedAt: Math.floor(c.now() / 1000) * 1000 })
})

t.test('malformed text proves nothing and never throws', async (t) => {
  const p = new AddressProofs({ secret: SECRET })
  const good = p.issue('203.0.113.5')
  for (const [bad, why] of [
    ['', 'empty'],
    [good + '=', 'padding'],
    [good.slice(0, -1), 'cut short'],
    [good + 'AAAA', 'too long for a proof'],
    [good.replace(/^./, '+'), 'base64, not base64url'],
    [good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A'), 'last character changed'],
    ['x'.repeat(MAX_PROOF_BYTES + 1), 'oversized'],
    ['proof\r\nX-Injected: 1', 'control characters'],
    ['こんにちは', 'not ASCII']
  ] as const) {
    const v = p.verify(bad)
    t.equal(v.ok, false, why)
    if (!v.ok) t.match(v.reason, /^(malformed|forged)$/, why)
  }
  // One character more: Node decodes the same 42 bytes, but that is not the proof's one spelling.
  t.equal(Buffer.from(good + 'A', 'base64url').length, 42)
  t.same(p.verify(good + 'A'), { ok: false, reason: 'malformed' })
  for (const v of [undefined, null, 42, {}, ['x']]) t.same(p.verify(v), { ok: false, reason: 'malformed' }, `a ${typeof v}`)
})
