// DANE (RFC 7672) record by record against openssl's own verdict: the 12
// usage/selector/matching combinations mxprobe uses (DANE-TA 2 and DANE-EE
// 3; selectors 0 and 1; matching types 0, 1 and 2), each published once
// with data that should match and once with data that should not, in zones
// signed with ldnsutils, served by nsd and validated by unbound. The server
// is an SMTP listener of the test's own (smtp-server) on 25 with STARTTLS and
// a chain of the private CA (leaf + intermediate). For every record, the tls
// check's verdict must be the one `openssl s_client -dane_tlsa_rrdata` gives
// on the same server.
import t from 'tap'
import { mkdtempSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { X509Certificate, createHash } from 'node:crypto'
import { SMTPServer } from 'smtp-server'
import { requireTool, testApp, randomLoopback, reportModelErrors } from '../helpers.js'
import { makePki } from '../fixtures/pki.js'
import { startSignedDns } from '../fixtures/dnssec.js'

interface Rec { usage: number, selector: number, matchingType: number, hex: string, want: 'match' | 'no_match', what: string }

function assoc (c: X509Certificate, selector: number, matchingType: number): string {
  const data = selector === 0 ? c.raw : c.publicKey.export({ type: 'spki', format: 'der' })
  if (matchingType === 0) return data.toString('hex')
  return createHash(matchingType === 1 ? 'sha256' : 'sha512').update(data).digest('hex')
}

/** openssl's verdict on one TLSA record: does the handshake verify under it? */
function openssl (ip: string, host: string, r: Rec): Promise<'match' | 'no_match'> {
  return new Promise((resolve) => {
    const p = spawn('openssl', ['s_client', '-connect', `${ip}:25`, '-starttls', 'smtp', '-name', host, '-servername', host,
      '-dane_tlsa_domain', host, '-dane_tlsa_rrdata', `${r.usage} ${r.selector} ${r.matchingType} ${r.hex}`, '-verify_return_error', '-brief'], { stdio: ['pipe', 'ignore', 'ignore'] })
    const timer = setTimeout(() => p.kill(), 8000)
    p.stdin.end()
    p.on('exit', (code) => { clearTimeout(timer); resolve(code === 0 ? 'match' : 'no_match') })
  })
}

t.test('the 12 DANE combinations: mxprobe and openssl agree, record by record', async (t) => {
  if (!requireTool(t, 'root', 'nsd', 'unbound', 'ldnsutils', 'dig', 'certtool', 'openssl')) return
  const dir = mkdtempSync(path.join(tmpdir(), 'mxprobe-dane-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pki = makePki(dir)
  const ip = randomLoopback()
  const hosts = ['mx.match.test', 'mx.miss.test']
  const leafIssued = pki.leaf(hosts[0], { altNames: hosts.slice(1) })
  const leaf = new X509Certificate(leafIssued.certPem)
  const int = new X509Certificate(pki.intermediatePem)
  const root = new X509Certificate(pki.rootPem)

  const srv = new SMTPServer({ key: leafIssued.keyPem, cert: leafIssued.fullchainPem, name: hosts[0], authOptional: true, disabledCommands: ['AUTH'], logger: false, onData (s, _session, cb) { s.resume(); s.on('end', () => cb()) } })
  // The hand-made hellos are refused by the server's TLS (no shared signature algorithm): that is an answer, not a fault.
  srv.on('error', () => {})
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(25, ip, () => resolve()) })
  let t0 = Date.now()
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())))

  // Should match: DANE-EE names the leaf, DANE-TA the intermediate the server sends.
  // Should not: DANE-EE naming the intermediate, DANE-TA naming the leaf (no CA) or,
  // for digests and the whole certificate, the root the server does not send.
  const records: Rec[] = []
  for (const usage of [2, 3]) {
    for (const selector of [0, 1]) {
      for (const matchingType of [0, 1, 2]) {
        const good = usage === 3 ? leaf : int
        records.push({ usage, selector, matchingType, hex: assoc(good, selector, matchingType), want: 'match', what: usage === 3 ? 'the leaf' : 'the intermediate' })
        const bad = usage === 3 ? int : matchingType === 0 ? leaf : root
        records.push({ usage, selector, matchingType, hex: assoc(bad, selector, matchingType), want: 'no_match', what: usage === 3 ? 'the intermediate' : bad === leaf ? 'the leaf' : 'the root, not sent' })
      }
    }
  }
  // The root whole (certificate or key) in DNS: a trust anchor the server need not send (RFC 7671 §5.2.2).
  for (const selector of [0, 1]) records.push({ usage: 2, selector, matchingType: 0, hex: assoc(root, selector, 0), want: 'match', what: 'the root, whole, not sent' })
  const tlsa = (rs: Rec[]): string[] => rs.map((r) => `_25._tcp.mx 300 IN TLSA ${r.usage} ${r.selector} ${r.matchingType} ${r.hex}`)
  const common = ['@ 300 IN MX 10 mx', `mx 300 IN A ${ip}`]
  const dns = await startSignedDns({
    zones: [
      { name: 'match.test', sign: 'good', records: [...common, ...tlsa(records.filter((r) => r.want === 'match'))] },
      { name: 'miss.test', sign: 'good', records: [...common, ...tlsa(records.filter((r) => r.want === 'no_match'))] }
    ]
  })
  t.teardown(() => dns.stop())
  t.comment(`pki and signed dns: ${Date.now() - t0} ms`)
  t0 = Date.now()
  const app = await testApp({ DNS_SERVERS: dns.authoritative, DNSSEC_RESOLVERS: dns.resolver, RATE_LIMITS: 'tls=100/600', DOMAIN_RATE_LIMITS: 'tls=100/600' })
  t.teardown(() => app.close())

  t.comment(`app: ${Date.now() - t0} ms`)
  const ours = new Map<string, string>()
  for (const domain of ['match.test', 'miss.test']) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/checks/tls?lang=en', payload: { domain }, remoteAddress: ip })
    t.equal(res.statusCode, 200)
    const r = res.json()
    t.same(reportModelErrors(r), [])
    t.equal(r.dane.status, 'secure', `${domain}: the TLSA records validate`)
    t.equal(r.dane.records.length, records.filter((x) => (x.want === 'match') === (domain === 'match.test')).length, `${domain}: every record judged`)
    for (const x of r.dane.records) ours.set(`${x.usage} ${x.selector} ${x.matchingType} ${x.data.slice(0, 64)}`, x.verdict)
    t.equal(r.dane.matched, domain === 'match.test')
  }
  t.comment(`two tls checks: ${Date.now() - t0} ms`)
  t0 = Date.now()
  const peers = await Promise.all(records.map((r) => openssl(ip, hosts[0], r)))
  t.comment(`${records.length} openssl s_client runs: ${Date.now() - t0} ms`)
  records.forEach((r, i) => {
    const key = `${r.usage} ${r.selector} ${r.matchingType} ${r.hex.slice(0, 64)}`
    t.equal(ours.get(key), peers[i], `${key.slice(0, 12)}… naming ${r.what}: mxprobe says ${ours.get(key)}, openssl ${peers[i]}`)
    t.equal(peers[i], r.want, `${key.slice(0, 12)}…: openssl says what the record was made for`)
  })
})
