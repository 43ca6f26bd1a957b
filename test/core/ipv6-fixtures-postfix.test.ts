// The IPv6 test fixtures themselves: a home /64 on lo, the DNS fixture's
// AAAA and ip6.arpa PTR answers through mxprobe's own resolver, and Debian's
// Postfix listening on IPv6 beside IPv4 with a relay policy of its own on
// each family (closed on both, or open on IPv6 only).
import t from 'tap'
import { startDns, publishMx, reverseName, type Zone } from '../fixtures/dns.js'
import { startPostfix } from '../fixtures/postfix.js'
import { talk } from '../fixtures/smtp-talk.js'
import { ipv6Home, randomLoopback, requireTool, TEST_IPV6_PREFIX } from '../helpers.js'
import { DnsClient } from '../../src/dns/resolver.js'

t.test('AAAA and ip6.arpa PTR from the DNS fixture', async (t) => {
  const zone: Zone = {}
  publishMx(zone, 'dual.test', '127.0.0.9', 'mx.dual.test', 'fd00:6d78:1:2::25')
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  t.equal(reverseName('fd00:6d78:1:2::25'), '5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.7.d.6.0.0.d.f.ip6.arpa')
  const client = new DnsClient({ servers: [dns.server] })
  const addrs = (await client.addresses('mx.dual.test')).map((a) => a.address).sort()
  t.same(addrs, ['127.0.0.9', 'fd00:6d78:1:2::25'])
  t.same(await client.ptr('fd00:6d78:1:2::25'), ['mx.dual.test'])
})

t.test('Postfix on both families: closed on both, open on IPv6 only', async (t) => {
  if (!requireTool(t, 'root', 'postfix')) return
  // the PC at ::2, the closed server at ::25, the open one at ::26
  const home = await ipv6Home(t, 2, 25, 26)
  if (!home) return
  t.ok(home.prefix.startsWith('fd00:6d78:'), `${home.prefix} lies in ${TEST_IPV6_PREFIX}`)
  const ip4closed = randomLoopback()
  const ip4open = randomLoopback()
  const [closed, open] = await Promise.all([
    startPostfix({ ip: ip4closed, ip6: home.addr(25), domain: 'closed6.test', users: ['postmaster'] }),
    startPostfix({ ip: ip4open, ip6: home.addr(26), domain: 'open6.test', users: ['postmaster'], mainCf: { mynetworks: `${ip4open}/32 [fd00:6d78::]/32` } })
  ])
  t.teardown(() => Promise.all([closed.stop(), open.stop()]).then(() => {}))
  t.equal(closed.ip6, home.addr(25))

  const relays = async (ip: string): Promise<string> => {
    const s = await talk(ip, 25)
    try {
      t.match(s.greeting, /^220 mx\.\S+ ESMTP Postfix/, `${ip} greets`)
      await s.cmd('EHLO probe.mxprobe.test')
      t.match(await s.cmd('MAIL FROM:<a@probe.mxprobe.test>'), /^250/)
      return await s.cmd('RCPT TO:<victim@relay-out.test>')
    } finally {
      await s.cmd('QUIT').catch(() => '')
      s.close()
    }
  }
  t.match(await relays(ip4closed), /^554 .*Relay access denied/, 'closed over IPv4')
  t.match(await relays(home.addr(25)), /^554 .*Relay access denied/, 'closed over IPv6')
  t.match(await relays(ip4open), /^554 .*Relay access denied/, 'the open one is closed over IPv4')
  t.match(await relays(home.addr(26)), /^250/, 'and relays over IPv6 (mynetworks too wide for IPv6)')
})
