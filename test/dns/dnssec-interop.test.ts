// DNSSEC against a real validating resolver: Debian's unbound with a trust
// anchor per test zone, in front of nsd serving zones signed with ldnsutils
// at start. secure, insecure, bogus (with unbound's extended error, told
// from SERVFAIL by asking again with CD), NXDOMAIN under a signed zone,
// TLSA records, and the TCP retry of a truncated answer.
import t from 'tap'
import { requireTool } from '../helpers.js'
import { startSignedDns, type SignedDns } from '../fixtures/dnssec.js'
import { DnssecClient } from '../../src/dns/dnssec.js'

const HASH = 'aa'.repeat(32)

t.test('a validating resolver before signed, broken and unsigned zones', async (t) => {
  if (!requireTool(t, 'root', 'nsd', 'unbound', 'ldnsutils', 'dig')) return
  const big = Array.from({ length: 12 }, (_, i) => `big 300 IN TXT "${String(i).padStart(2, '0')}${'x'.repeat(200)}"`)
  const d: SignedDns = await startSignedDns({
    zones: [
      { name: 'secure.test', sign: 'good', records: ['@ 300 IN MX 10 mx', 'mx 300 IN A 127.1.2.3', `_25._tcp.mx 300 IN TLSA 3 1 1 ${HASH}`, ...big] },
      { name: 'bogus.test', sign: 'bogus', records: ['@ 300 IN MX 10 mx', 'mx 300 IN A 127.1.2.4'] },
      { name: 'plain.test', sign: 'none', records: ['@ 300 IN MX 10 mx', 'mx 300 IN A 127.1.2.5'] }
    ]
  })
  t.teardown(() => d.stop())
  const c = new DnssecClient({ servers: [d.resolver] })

  const mx = await c.query('secure.test', 'MX')
  t.equal(mx.status, 'secure')
  t.same(mx.records.map((r) => r.value), [{ priority: 10, exchange: 'mx.secure.test' }])
  const tlsa = await c.tlsa('_25._tcp.mx.secure.test')
  t.equal(tlsa.status, 'secure')
  t.same(tlsa.tlsa.map((x) => [x.usage, x.selector, x.matchingType, x.data.toString('hex')]), [[3, 1, 1, HASH]])
  const nx = await c.query('nothing.secure.test', 'A')
  t.same([nx.status, nx.rcode], ['secure', 'NXDOMAIN'], 'a proven NXDOMAIN')

  const bogus = await c.query('mx.bogus.test', 'A')
  t.same([bogus.status, bogus.rcode], ['bogus', 'SERVFAIL'])
  t.ok(bogus.ede.some((e) => e.code === 6), 'unbound says why: DNSSEC Bogus (RFC 8914)')
  t.match(bogus.reason, /signature/)

  const plain = await c.query('mx.plain.test', 'A')
  t.same([plain.status, plain.rcode, plain.records.map((r) => r.value)], ['insecure', 'NOERROR', ['127.1.2.5']])

  const txt = await c.query('big.secure.test', 'TXT')
  t.equal(txt.status, 'secure')
  t.equal(txt.records.length, 12, 'a truncated UDP answer is asked again over TCP')

  // The same resolver, not named by the operator and not on loopback, would prove nothing; on loopback it is believed.
  t.ok(new DnssecClient({ servers: [], systemServers: [d.resolver] }).validating)
})
