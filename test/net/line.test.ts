// The line type from the caller's proven addresses (src/net/line.ts): a
// MAP-E rule that maps the proven IPv6 prefix onto the proven IPv4 address,
// a DS-Lite range, nothing known, one family only; and the operator's rule
// file, refused when a rule has no source or impossible numbers.
import t from 'tap'
import { recognizeLine, parseLineRules, portsText, NO_LINE_RULES, type LineRules } from '../../src/net/line.js'
import { CallerAddresses } from '../../src/net/caller.js'

// RFC 7597 Appendix A's rule, named as an operator's file would name a real one
const rules: LineRules = parseLineRules({
  mapE: [{ service: 'Example MAP-E', source: 'RFC 7597 Appendix A', ipv6Prefix: '2001:db8::/40', ipv4Prefix: '192.0.2.0/24', eaBits: 16, psidOffset: 6 }],
  dsLite: [{ service: 'Example DS-Lite', source: 'the provider\'s published AFTR range', prefixes: ['2001:db8:ff00::/40'] }]
})

t.test('MAP-E: the proven IPv4 address follows from the proven IPv6 prefix', async (t) => {
  const caller = CallerAddresses.of('192.0.2.18', ['2001:db8:12:3400::99'])
  const line = recognizeLine(caller, rules)
  t.match(line, { kind: 'map-e', service: 'Example MAP-E', ipv4: '192.0.2.18', psid: 0x34, portCount: 252, port25: false, ipv6Prefix: '2001:db8:12:3400::/56' })
  if (line?.kind === 'map-e') t.equal(portsText(line.ports), '1232-1235, 2256-2259, 3280-3283, 4304-4307, …')
  t.same(recognizeLine(CallerAddresses.of('2001:db8:12:3400::99', ['192.0.2.18']), rules)?.kind, 'map-e', 'whichever family the connection came over')
})

t.test('an IPv4 address the prefix does not map to is not MAP-E under that rule', async (t) => {
  t.same(recognizeLine(CallerAddresses.of('192.0.2.19', ['2001:db8:12:3400::99']), rules), { kind: 'unknown' })
})

t.test('DS-Lite: a home inside the service\'s range', async (t) => {
  t.match(recognizeLine(CallerAddresses.of('198.51.100.7', ['2001:db8:ff12:3400::1']), rules), { kind: 'ds-lite', service: 'Example DS-Lite' })
})

t.test('one family proven: nothing is said; both, no rules: unknown', async (t) => {
  t.equal(recognizeLine(CallerAddresses.of('192.0.2.18'), rules), null)
  t.equal(recognizeLine(CallerAddresses.of('2001:db8:12:3400::99'), rules), null)
  t.same(recognizeLine(CallerAddresses.of('192.0.2.18', ['2001:db8:12:3400::99']), NO_LINE_RULES), { kind: 'unknown' })
})

t.test('the operator\'s file: every rule names its source and is a possible MAP rule', async (t) => {
  t.throws(() => parseLineRules({ mapE: [{ service: 'x', ipv6Prefix: '2001:db8::/40', ipv4Prefix: '192.0.2.0/24', eaBits: 16 }] }), /needs "source"/)
  t.throws(() => parseLineRules({ mapE: [{ service: 'x', source: 's', ipv6Prefix: '2001:db8::/40', ipv4Prefix: '192.0.2.0/24', eaBits: 4 }] }), /not a valid MAP rule/)
  t.throws(() => parseLineRules({ dsLite: [{ service: 'x', source: 's', prefixes: ['nonsense'] }] }), /list of CIDRs/)
  t.throws(() => parseLineRules({ mapE: {} }), /must be a list/)
  t.same(parseLineRules({}), NO_LINE_RULES)
})
