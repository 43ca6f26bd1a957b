// The MAP-E engine (src/net/map-e.ts) against RFC 7597's worked examples
// (Appendix A, with erratum 5324's consistent PSID 0x34) and synthetic rules
// at the edges: which shared IPv4 address and which ports a home owns.
import t from 'tap'
import { mapAddress, ceAddress, portSet, psidOfPort, parseRule, ownsPort, type MapRule } from '../../src/net/map-e.js'

const example1: MapRule = { ipv6Prefix: '2001:db8::/40', ipv4Prefix: '192.0.2.0/24', eaBits: 16, psidOffset: 6 }

t.test('RFC 7597 Appendix A, example 1: 2001:db8:0012:3400::/56 is 192.0.2.18, PSID 0x34', async (t) => {
  const m = mapAddress(example1, '2001:db8:12:3400::1')
  t.ok(m)
  t.equal(m!.ipv4, '192.0.2.18')
  t.equal(m!.psid, 0x34)
  t.equal(m!.psidLength, 8, 'sharing ratio 256')
  t.equal(m!.endUserPrefix, '2001:db8:12:3400::/56')
  t.equal(m!.ports.length, 63, '63 ranges')
  t.same(m!.ports.slice(0, 2), [{ from: 1232, to: 1235 }, { from: 2256, to: 2259 }])
  t.same(m!.ports.slice(-2), [{ from: 63696, to: 63699 }, { from: 64720, to: 64723 }])
  t.equal(m!.portCount, 252)
  t.equal(ownsPort(m!, 25), false, 'port 25 is never in a port set with offset 6')
  t.equal(ownsPort(m!, 1233), true)
})

t.test('example 2: the MAP CE\'s IPv6 address', async (t) => {
  t.equal(ceAddress(example1, '2001:db8:12:3400:abcd::1'), '2001:db8:12:3400:0:c000:212:34')
})

t.test('example 3: the PSID of a destination port (the forwarding direction)', async (t) => {
  t.equal(psidOfPort(1232, 8, 6), 0x34)
  t.equal(psidOfPort(64723, 8, 6), 0x34)
  t.not(psidOfPort(1236, 8, 6), 0x34)
})

t.test('example 4: no EA bits, no sharing: the whole address, every port', async (t) => {
  const rule: MapRule = { ipv6Prefix: '2001:db8:12:3400::/56', ipv4Prefix: '192.0.2.18/32', eaBits: 0 }
  const m = mapAddress(rule, '2001:db8:12:3400::5')
  t.same([m!.ipv4, m!.psid, m!.psidLength, m!.portCount], ['192.0.2.18', 0, 0, 65536])
  t.equal(ceAddress(rule, '2001:db8:12:3400::5'), '2001:db8:12:3400:0:c000:212:0')
})

t.test('an address outside the rule prefix is not mapped', async (t) => {
  t.equal(mapAddress(example1, '2001:db9::1'), null)
  t.equal(mapAddress(example1, '192.0.2.18'), null, 'an IPv4 address is no IPv6 prefix')
})

t.test('synthetic rules: a /15 IPv4 prefix, offset 4, 8-bit PSID (the shape of Japanese IPoE rules)', async (t) => {
  // r6 = 31, o = 25: p = 17 bits of IPv4 suffix, k = 8; the end-user prefix is a /56
  const rule: MapRule = { ipv6Prefix: 'fd00:8000::/31', ipv4Prefix: '198.18.0.0/15', eaBits: 25, psidOffset: 4 }
  // EA bits right after bit 31: IPv4 suffix 0x1_2345 (17 bits), PSID 0xab
  const ea = (0x12345n << 8n) | 0xabn
  const value = (0xfd008000n << 96n) | (ea << BigInt(128 - 31 - 25))
  const hex = value.toString(16).padStart(32, '0').match(/.{4}/g)!.join(':')
  const m = mapAddress(rule, hex)
  t.equal(m!.ipv4, '198.19.35.69', '198.18.0.0 + 0x12345')
  t.equal(m!.psid, 0xab)
  t.equal(m!.endUserPrefix.endsWith('/56'), true)
  t.equal(m!.ports.length, 15, 'A from 1 to 15 with offset 4')
  t.same(m!.ports[0], { from: 4096 + 0xab * 16, to: 4096 + 0xab * 16 + 15 })
  t.equal(m!.portCount, 240)
})

t.test('impossible rules are refused, not guessed', async (t) => {
  t.equal(parseRule({ ...example1, eaBits: 7 }), null, 'fewer EA bits than the IPv4 suffix')
  t.equal(parseRule({ ...example1, ipv6Prefix: '2001:db8::/60' }), null, 'r6 + o past 64')
  t.equal(parseRule({ ...example1, psidOffset: 9 }), null, 'a + k past 16')
  t.equal(parseRule({ ...example1, ipv4Prefix: '2001:db8::/24' }), null)
  t.same(portSet(0, 10, 7), [], 'no room for m')
})
