// Every entry of the special-purpose table, tested at its edges: the first
// and last address are blocked as that entry (or a more specific one inside
// it), and the addresses just outside are not attributed to it.
import t from 'tap'
import { SPECIAL_RANGES, specialRangeOf } from '../../src/net/special.js'
import { parseCidr, formatIpv4, formatIpv6 } from '../../src/net/ip.js'
import { addressVerdict, parseCidrList } from '../../src/net/policy.js'

function text (family: 4 | 6, v: bigint): string { return family === 4 ? formatIpv4(v) : formatIpv6(v) }

const none = { allowCidrs: [], denyCidrs: [] }

for (const r of SPECIAL_RANGES) {
  t.test(`${r.cidr} (${r.name})`, async (t) => {
    const c = parseCidr(r.cidr)!
    const bits = c.family === 4 ? 32 : 128
    const size = 1n << BigInt(bits - c.prefix)
    const first = c.base
    const last = c.base + size - 1n
    const max = (1n << BigInt(bits)) - 1n
    const inside = (v: bigint) => {
      const hit = specialRangeOf(text(c.family, v))
      t.ok(hit, `${text(c.family, v)} is special`)
      const hc = parseCidr(hit!.cidr)!
      const v4mapped = c.family === 6 && (v >> 32n) === 0xffffn
      if (v4mapped) {
        // ::ffff:a.b.c.d is the IPv4 address itself; its edges are 0.0.0.0 and 255.255.255.255, both special.
        t.equal(hc.family, 4, `${text(c.family, v)} judged as IPv4 (${hit!.cidr})`)
      } else {
        t.ok(hc.prefix >= c.prefix, `${text(c.family, v)} attributed to ${hit!.cidr}, within or equal to ${r.cidr}`)
      }
      t.notOk(addressVerdict(text(c.family, v), none).ok, `${text(c.family, v)} is refused as a target`)
    }
    inside(first)
    inside(last)
    if (first > 0n) {
      const hit = specialRangeOf(text(c.family, first - 1n))
      t.ok(!hit || hit.cidr !== r.cidr, `${text(c.family, first - 1n)} is outside ${r.cidr}`)
    }
    if (last < max) {
      const hit = specialRangeOf(text(c.family, last + 1n))
      t.ok(!hit || hit.cidr !== r.cidr, `${text(c.family, last + 1n)} is outside ${r.cidr}`)
    }
  })
}

t.test('global unicast addresses are permitted targets', async (t) => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255', '2001:4860:4860::8888', '2400:cb00::1', '2a00:1450::1', '2001:200::1']) {
    t.equal(specialRangeOf(ip), null, `${ip} is global`)
    t.ok(addressVerdict(ip, none).ok, `${ip} permitted`)
  }
})

t.test('the classics a home user meets are named', async (t) => {
  t.equal(specialRangeOf('192.168.1.2')?.kind, 'private')
  t.equal(specialRangeOf('100.64.0.1')?.kind, 'cgnat')
  t.equal(specialRangeOf('169.254.169.254')?.kind, 'link-local', 'cloud metadata address')
  t.equal(specialRangeOf('::ffff:10.0.0.1')?.kind, 'private', 'IPv4-mapped folds to IPv4')
  t.equal(specialRangeOf('2002:c0a8:101::1')?.kind, 'translation', '6to4 embedding of 192.168.1.1')
  t.equal(specialRangeOf('2001:0:4136:e378::1')?.kind, 'translation', 'Teredo')
  t.equal(specialRangeOf('64:ff9b::7f00:1')?.kind, 'translation', 'NAT64 embedding of 127.0.0.1')
  t.equal(specialRangeOf('::127.0.0.1')?.kind, 'translation', 'IPv4-compatible')
  t.equal(specialRangeOf('fd00::1')?.kind, 'ula')
})

t.test('TARGET_ALLOW_CIDRS exempts, TARGET_DENY_CIDRS opts out', async (t) => {
  const allow = { allowCidrs: parseCidrList('127.0.0.0/8, fd00::/8', 'x'), denyCidrs: [] }
  t.ok(addressVerdict('127.0.0.2', allow).ok)
  t.ok(addressVerdict('fd00::5', allow).ok)
  t.notOk(addressVerdict('10.0.0.1', allow).ok, 'only what is listed')
  const deny = { allowCidrs: [], denyCidrs: parseCidrList('203.0.112.0/24', 'x') }
  const v = addressVerdict('203.0.112.9', deny)
  t.notOk(v.ok)
  t.match(v, { code: 'target_forbidden', reason: /opt-out/ })
  t.throws(() => parseCidrList('10.0.0.0/99', 'TARGET_ALLOW_CIDRS'), /TARGET_ALLOW_CIDRS/)
})
