// The caller's addresses and the rule every outbound connection obeys:
// an address inside them (IPv4 exactly, IPv6 by home prefix), permissible,
// on a mail port.
import t from 'tap'
import { CallerAddresses } from '../../src/net/caller.js'
import { targetVerdict, parseCidrList } from '../../src/net/policy.js'

const open = { allowCidrs: [], denyCidrs: [] }
const lab = { allowCidrs: parseCidrList('fd00::/8, 127.0.0.0/8', 'x'), denyCidrs: [] }

t.test('IPv4 counts exactly, IPv6 by the home prefix', async (t) => {
  const c = CallerAddresses.of('2001:db8:1:2:aaaa::9', ['203.0.113.5'])
  t.ok(c.owns('203.0.113.5'))
  t.notOk(c.owns('203.0.113.6'), 'the neighbour of an IPv4 address is someone else')
  t.ok(c.owns('2001:db8:1:2::25'), 'the server at another address of the same /64')
  t.ok(c.owns('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), 'any text form')
  t.notOk(c.owns('2001:db8:1:3::25'), 'the next /64 is another home')
  t.notOk(c.owns('mx.example'), 'a name is nobody\'s address')
  t.ok(c.has(4)); t.ok(c.has(6))
  t.same(c.addresses.map((a) => [a.ip, a.via]), [['2001:db8:1:2:aaaa::9', 'connection'], ['203.0.113.5', 'proof']])
  t.equal(c.of(6)[0].home, '2001:db8:1:2::/64')
  t.equal(c.describe(), '2001:db8:1:2::/64 (2001:db8:1:2:aaaa::9), 203.0.113.5')
  t.equal(c.ownerOf('2001:db8:1:2::25')?.via, 'connection')

  const v4only = CallerAddresses.of('203.0.113.5')
  t.notOk(v4only.has(6))
  t.same(v4only.of(6), [])
  t.equal(v4only.connectionIp, '203.0.113.5')
})

t.test('IPV6_HOME_PREFIX changes the unit of a home', async (t) => {
  const wide = CallerAddresses.of('2001:db8:1:2::9', [], 56)
  t.ok(wide.owns('2001:db8:1:ff::25'), 'a /56 home holds 256 /64s')
  t.notOk(wide.owns('2001:db8:1:100::25'))
  const exact = CallerAddresses.of('2001:db8:1:2::9', [], 128)
  t.notOk(exact.owns('2001:db8:1:2::25'))
  t.throws(() => CallerAddresses.of('2001:db8::1', [], 0))
  t.throws(() => CallerAddresses.of('2001:db8::1', [], 129))
})

t.test('the same home proven twice counts once; a mapped IPv4 connection is IPv4', async (t) => {
  const c = CallerAddresses.of('::ffff:203.0.113.5', ['203.0.113.5', '2001:db8:1:2::1', '2001:db8:1:2::2'])
  t.equal(c.connectionIp, '203.0.113.5')
  t.equal(c.connectionFamily, 4)
  t.equal(c.addresses.length, 2)
  t.equal(c.key(), CallerAddresses.of('2001:db8:1:2::7', ['203.0.113.5']).key(), 'the repeat key is the homes, in any order')
})

t.test('the policy: inside the proven addresses, permissible, on a mail port', async (t) => {
  const c = CallerAddresses.of('198.51.100.20', ['2001:db8:1:2::9'])
  // 198.51.100.0/24 and 2001:db8::/32 are documentation ranges: only an exemption makes them targets.
  const doc = { allowCidrs: parseCidrList('198.51.100.0/24, 2001:db8::/32', 'x'), denyCidrs: [] }
  t.ok(targetVerdict(c, '198.51.100.20', 25, doc).ok, 'the connection\'s address')
  t.ok(targetVerdict(c, '2001:db8:1:2::25', 25, doc).ok, 'an address of the proven IPv6 home')
  t.match(targetVerdict(c, '2001:db8:1:3::25', 25, doc), { ok: false, code: 'ip_mismatch', reason: /2001:db8:1:3::25 is not one of the caller's addresses \(198\.51\.100\.20, 2001:db8:1:2::\/64/ })
  t.match(targetVerdict(c, '198.51.100.21', 25, doc), { ok: false, code: 'ip_mismatch' })
  t.match(targetVerdict(c, '2001:db8:1:2::25', 25, open), { ok: false, code: 'target_forbidden', reason: /2001:db8::\/32/ }, 'ownership does not lift the special-range rule')
  t.match(targetVerdict(c, '2001:db8:1:2::25', 22, doc), { ok: false, reason: /not a mail port/ })
  t.match(targetVerdict(c, '198.51.100.20', 25, { ...doc, denyCidrs: parseCidrList('198.51.100.20/32', 'x') }), { ok: false, reason: /opt-out/ })
  t.ok(targetVerdict('fd00:6::2', 'fd00:6::3', 25, lab).ok, 'a plain string is the connection alone, IPv6 by prefix')
  t.match(targetVerdict('fd00:6::2', '127.0.0.2', 25, lab), { ok: false, code: 'ip_mismatch' }, 'without a proof the other family is not the caller\'s')
  t.match(targetVerdict('not-an-ip', '127.0.0.2', 25, lab), { ok: false, code: 'target_forbidden' })
})

t.test('bad input forms are never targets, whoever proves what', async (t) => {
  // A caller whose proven homes are broad: still no zone id, mapped, 6to4, Teredo or NAT64 form gets through.
  const c = CallerAddresses.of('fd00:6::2', ['127.0.0.2', '2002:c0a8:101::1', '2001:0:4136:e378::1', '64:ff9b::7f00:1'])
  for (const ip of ['fd00:6::3%lo', 'fe80::1%eth0', 'fd00:6::3%25lo']) {
    t.match(targetVerdict(c, ip, 25, lab), { ok: false, code: 'target_forbidden', reason: 'not an IP literal' }, `zone id ${ip}`)
  }
  t.match(targetVerdict(c, '::ffff:192.168.1.1', 25, lab), { ok: false }, 'mapped IPv4 given as IPv6 is IPv4 192.168.1.1: not the caller\'s, and private')
  t.match(targetVerdict(CallerAddresses.of('::ffff:192.168.1.1'), '::ffff:192.168.1.1', 25, lab), { ok: false, code: 'target_forbidden', reason: /192\.168\.0\.0\/16/ }, 'a mapped private address stays private')
  t.match(targetVerdict(c, '2002:c0a8:101::1', 25, lab), { ok: false, code: 'target_forbidden', reason: /6to4/ })
  t.match(targetVerdict(c, '2001:0:4136:e378::1', 25, lab), { ok: false, code: 'target_forbidden', reason: /TEREDO/ })
  t.match(targetVerdict(c, '64:ff9b::7f00:1', 25, lab), { ok: false, code: 'target_forbidden', reason: /NAT64/ })
  t.match(targetVerdict(c, '::127.0.0.2', 25, lab), { ok: false }, 'IPv4-compatible form is not the IPv4 address 127.0.0.2')
  t.match(targetVerdict(CallerAddresses.of('::127.0.0.2'), '::127.0.0.2', 25, lab), { ok: false, code: 'target_forbidden', reason: /IPv4-compatible/ })
})
