// The mail-target rule over both families: a match may be any proven address
// (IPv6 by home prefix), and a refusal tells the family apart. A visitor who
// came over IPv6 to test a domain whose MX has only an A record has made no
// DNS mistake; an AAAA outside the proven /64 is stale DNS for IPv6.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { DnsClient } from '../../src/dns/resolver.js'
import { GuardedConnector } from '../../src/net/connect.js'
import { parseCidrList } from '../../src/net/policy.js'
import { CallerAddresses, type FamilyOrigins } from '../../src/net/caller.js'
import { mailTargetFor, matchAll, resolveMailHosts } from '../../src/checks/mailhosts.js'
import { RefusalError } from '../../src/errors.js'
import type { Lang } from '../../src/i18n/index.js'

t.test('mail target over both families', async (t) => {
  const dns = await startDns({
    'v4only.example': { MX: [{ exchange: 'mx.v4only.example', priority: 10 }] },
    'mx.v4only.example': { A: [{ address: '127.0.0.2', ttl: 300 }] },
    'dual.example': { MX: [{ exchange: 'mx.dual.example', priority: 10 }] },
    'mx.dual.example': { A: ['127.0.0.2'], AAAA: ['fd00:6::25'] },
    'stale6.example': { MX: [{ exchange: 'mx.stale6.example', priority: 10 }] },
    'mx.stale6.example': { AAAA: [{ address: 'fd00:7::25', ttl: 600 }] },
    'mixed.example': { MX: [{ exchange: 'mx.mixed.example', priority: 10 }] },
    'mx.mixed.example': { A: ['127.0.0.9'], AAAA: [{ address: 'fd00:7::25', ttl: 120 }] }
  })
  t.teardown(() => dns.close())
  const resolver = new DnsClient({ servers: [dns.server] })
  const connector = new GuardedConnector({ allowCidrs: parseCidrList('127.0.0.0/8, fd00::/8', 'x'), denyCidrs: [] })
  const origins: FamilyOrigins = { 4: 'https://v4.mxprobe.test', 6: 'https://v6.mxprobe.test', public: 'https://mxprobe.test' }
  const rule = (caller: CallerAddresses, lang: Lang = 'en', o = origins) => ({ callerIp: caller.connectionIp, caller, dns: resolver, connector, lang, origins: o })
  const refusal = async (caller: CallerAddresses, domain: string, lang: Lang = 'en', o = origins): Promise<RefusalError> => {
    const e = await mailTargetFor(rule(caller, lang, o), domain).then(() => null, (x) => x)
    if (!(e instanceof RefusalError)) throw new Error(`expected a refusal for ${domain}, got ${e}`)
    return e
  }
  const codes = (e: RefusalError) => ((e.extra as { diagnosis: Array<{ code: string }> }).diagnosis).map((d) => d.code)

  t.test('an IPv6 visitor, an MX with only A: the other family, not stale DNS', async (t) => {
    const e = await refusal(CallerAddresses.of('fd00:6::9'), 'v4only.example')
    t.same(codes(e), ['refusal.other_family'])
    t.match(e.message, /only IPv4 addresses \(A\) 127\.0\.0\.2/)
    t.match(e.message, /came over IPv6 \(fd00:6::\/64 \(fd00:6::9\)\)/)
    t.match(e.message, /https:\/\/v4\.mxprobe\.test/, 'says where to prove the IPv4 address')
    t.equal((e.extra as { retry: { afterSeconds: number } }).retry.afterSeconds, 0, 'no TTL to wait out')
    const ja = await refusal(CallerAddresses.of('fd00:6::9'), 'v4only.example', 'ja')
    t.match(ja.message, /IPv4 のアドレス \(A レコード\) 127\.0\.0\.2 しかなく、今回のアクセスは IPv6/)
    t.match(ja.message, /DNS の間違いではありません/)
    t.notMatch(ja.message, /ダイナミック DNS がまだ更新されていない/)
    const bare = await refusal(CallerAddresses.of('fd00:6::9'), 'v4only.example', 'en', {})
    t.match(bare.message, /IPV4_ORIGIN is not set/, 'with no origins it says the other family could not be checked, and how to test anyway')
    t.match(bare.message, /curl -4/)
  })

  t.test('an IPv6 visitor who proved IPv4 as well is matched on IPv4', async (t) => {
    const { match, matches } = await mailTargetFor(rule(CallerAddresses.of('fd00:6::9', ['127.0.0.2'])), 'v4only.example')
    t.equal(match.address.address, '127.0.0.2')
    t.equal(matches.length, 1)
  })

  t.test('a dual-stack MX: every proven address matches, the connection\'s family first', async (t) => {
    const both = await mailTargetFor(rule(CallerAddresses.of('fd00:6::9', ['127.0.0.2'])), 'dual.example')
    t.same(both.matches.map((m) => m.address.address), ['fd00:6::25', '127.0.0.2'], 'the AAAA is inside the visitor\'s /64')
    const v4 = await mailTargetFor(rule(CallerAddresses.of('127.0.0.2', ['fd00:6::1'])), 'dual.example')
    t.same(v4.matches.map((m) => m.address.address), ['127.0.0.2', 'fd00:6::25'])
    const only4 = await mailTargetFor(rule(CallerAddresses.of('127.0.0.2')), 'dual.example')
    t.same(only4.matches.map((m) => m.address.address), ['127.0.0.2'], 'an unproven family is not a target')
    const mh = await resolveMailHosts(resolver, 'dual.example')
    t.same(matchAll(mh, 'fd00:6::ab').map((m) => m.address.address), ['fd00:6::25'], 'a plain string: the connection alone')
  })

  t.test('an AAAA outside the proven /64 is stale DNS, for IPv6', async (t) => {
    const e = await refusal(CallerAddresses.of('fd00:6::9', ['127.0.0.5']), 'stale6.example')
    t.same(codes(e), ['refusal.ddns_stale'])
    t.match(e.message, /IPv6 address \(AAAA\) of the MX mx\.stale6\.example .* is fd00:7::25, but that is outside your home's IPv6 prefix fd00:6::\/64/)
    t.match(e.message, /AAAA record too/)
    t.equal((e.extra as { retry: { afterSeconds: number } }).retry.afterSeconds, 600)
    const ja = await refusal(CallerAddresses.of('fd00:6::9'), 'stale6.example', 'ja')
    t.match(ja.message, /AAAA レコードも更新/)
  })

  t.test('family by family: a stale AAAA and an unproven A', async (t) => {
    const e = await refusal(CallerAddresses.of('fd00:6::9'), 'mixed.example')
    t.same(codes(e), ['refusal.other_family', 'refusal.ddns_stale'])
    t.match(e.message, /has IPv4 addresses \(A\) 127\.0\.0\.9/, 'not "only": the MX has IPv6 too')
    const v4 = await refusal(CallerAddresses.of('127.0.0.2'), 'mixed.example')
    t.same(codes(v4), ['refusal.ddns_stale', 'refusal.other_family'], 'an IPv4 visitor: the A is stale, the AAAA unproven')
    t.match(v4.message, /is at 127\.0\.0\.9, but you are visiting from 127\.0\.0\.2/)
    t.match(v4.message, /https:\/\/v6\.mxprobe\.test/)
  })
})
