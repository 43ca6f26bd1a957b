import t from 'tap'
import { parseIp, normalizeIp, parseCidr, cidrContains, rateLimitKey, sameIp } from '../../src/net/ip.js'

t.test('IPv4 literals are strict dotted quads', async (t) => {
  t.equal(normalizeIp('192.0.2.1'), '192.0.2.1')
  t.equal(normalizeIp(' 8.8.8.8 '), '8.8.8.8')
  for (const bad of ['127.1', '0x7f.0.0.1', '2130706433', '010.0.0.1', '1.2.3.256', '1.2.3', '1.2.3.4.5', '', '1.2.3.-1', '１.2.3.4']) {
    t.equal(parseIp(bad), null, `${bad} is not an IP literal`)
  }
})

t.test('IPv6 literals in every RFC 4291 form, printed per RFC 5952', async (t) => {
  t.equal(normalizeIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1')
  t.equal(normalizeIp('2001:db8::0:1'), '2001:db8::1')
  t.equal(normalizeIp('::'), '::')
  t.equal(normalizeIp('::1'), '::1')
  t.equal(normalizeIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1')
  t.equal(normalizeIp('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1', 'first longest run on ties')
  t.equal(normalizeIp('64:ff9b::192.0.2.33'), '64:ff9b::c000:221')
  for (const bad of ['1::2::3', '12345::', ':::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1', '1:2:3:4:5:6:7::8:9']) {
    t.equal(parseIp(bad), null, `${bad} rejected`)
  }
})

t.test('IPv4-mapped IPv6 is IPv4 everywhere', async (t) => {
  const p = parseIp('::ffff:203.0.113.9')
  t.equal(p?.family, 4)
  t.equal(p?.text, '203.0.113.9')
  t.equal(normalizeIp('::FFFF:cb00:7109'), '203.0.113.9')
  t.ok(sameIp('::ffff:127.0.0.1', '127.0.0.1'))
  t.notOk(sameIp('::1', '127.0.0.1'))
})

t.test('CIDRs', async (t) => {
  const c = parseCidr('10.1.2.3/8')!
  t.equal(c.text, '10.0.0.0/8', 'host bits masked')
  t.ok(cidrContains(c, parseIp('10.255.255.255')!))
  t.notOk(cidrContains(c, parseIp('11.0.0.0')!))
  t.equal(parseCidr('1.2.3.4')!.prefix, 32)
  t.equal(parseCidr('::/0')!.text, '::/0')
  t.equal(parseCidr('10.0.0.0/33'), null)
  t.equal(parseCidr('10.0.0.0/x'), null)
  t.equal(parseCidr('nonsense'), null)
  t.notOk(cidrContains(parseCidr('::/0')!, parseIp('1.2.3.4')!), 'families never mix')
})

t.test('rate-limit key: IPv4 address, IPv6 /64', async (t) => {
  t.equal(rateLimitKey(parseIp('198.51.100.7')!), '198.51.100.7')
  t.equal(rateLimitKey(parseIp('2001:db8:1:2:3:4:5:6')!), '2001:db8:1:2::/64')
  t.equal(rateLimitKey(parseIp('2001:db8:1:2:ffff::1')!), '2001:db8:1:2::/64')
})
