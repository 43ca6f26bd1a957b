// The tls check end to end, all real parts on loopback: a private CA of
// the test's own (certtool; NODE_EXTRA_CA_CERTS names its root), Debian's
// Postfix on 25 and Dovecot on 995 serving its certificates, unbound
// validating zones that nsd serves signed (ldnsutils), nginx serving
// MTA-STS policies over HTTPS. One fixture set for the whole file; the
// scenarios change certificates and reload daemons, as a renewal does.
import t from 'tap'
import { mkdtempSync, copyFileSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { X509Certificate, createHash } from 'node:crypto'
import { requireTool, testApp, randomLoopback, reportModelErrors } from '../helpers.js'
import { makePki } from '../fixtures/pki.js'
import { startSignedDns } from '../fixtures/dnssec.js'
import { startPostfix } from '../fixtures/postfix.js'
import { startDovecot } from '../fixtures/dovecot.js'
import { startNginxSts } from '../fixtures/nginx-sts.js'

const run = promisify(execFile)
const HOSTS = ['mx.good.test', 'mx.stale.test', 'mx.bogus.test', 'mx.plain.test', 'mx.test-mode.test']

t.test('the tls check against Postfix, Dovecot, unbound, nsd and nginx', async (t) => {
  if (!requireTool(t, 'root', 'postfix', 'dovecot', 'nginx', 'nsd', 'unbound', 'ldnsutils', 'dig', 'certtool', 'openssl')) return
  const dir = mkdtempSync(path.join(tmpdir(), 'mxprobe-tls-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pki = makePki(dir)
  const before = process.env.NODE_EXTRA_CA_CERTS
  process.env.NODE_EXTRA_CA_CERTS = pki.rootFile
  t.teardown(() => { if (before === undefined) delete process.env.NODE_EXTRA_CA_CERTS; else process.env.NODE_EXTRA_CA_CERTS = before })
  const ip = randomLoopback()
  const cert = pki.leaf(HOSTS[0], { altNames: HOSTS.slice(1), days: 90, ageDays: 2, tag: 'v1' })
  const web = pki.leaf('mta-sts.good.test', { altNames: ['mta-sts.test-mode.test', 'mta-sts.plain.test'] })
  const spki = createHash('sha256').update(new X509Certificate(cert.certPem).publicKey.export({ type: 'spki', format: 'der' })).digest('hex')
  const live = { key: path.join(dir, 'live.key'), chain: path.join(dir, 'live.pem') }
  copyFileSync(cert.key, live.key)
  copyFileSync(cert.fullchain, live.chain)

  const common = (z: string): string[] => ['@ 300 IN MX 10 mx', `mx 300 IN A ${ip}`, `mta-sts 300 IN A ${ip}`]
  const dns = await startSignedDns({
    zones: [
      { name: 'good.test', sign: 'good', records: [...common('good'), `_25._tcp.mx 300 IN TLSA 3 1 1 ${spki}`, '_mta-sts 300 IN TXT "v=STSv1; id=20261207"', '_smtp._tls 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"'] },
      { name: 'stale.test', sign: 'good', records: [...common('stale'), `_25._tcp.mx 300 IN TLSA 3 1 1 ${'ab'.repeat(32)}`] },
      { name: 'bogus.test', sign: 'bogus', records: common('bogus'), breakRecord: '@ 300 IN MX 10 mx' },
      { name: 'plain.test', sign: 'none', records: [...common('plain'), '_mta-sts 300 IN TXT "v=STSv1; id=1"', '_smtp._tls 300 IN TXT "v=TLSRPTv1; rua=tlsrpt@plain.test"'] },
      { name: 'test-mode.test', sign: 'none', records: [...common('test-mode'), '_mta-sts 300 IN TXT "v=STSv1; id=2"'] }
    ]
  })
  t.teardown(() => dns.stop())
  const pf = await startPostfix({ ip, domain: 'good.test', users: ['postmaster'], hostname: 'mx.good.test', mainCf: { smtpd_tls_chain_files: `${live.key}, ${live.chain}` } })
  t.teardown(() => pf.stop())
  const dc = await startDovecot({ ip, hostname: 'mx.good.test', certFile: path.join(dir, 'dc.pem'), keyFile: path.join(dir, 'dc.key'), plainPort: false, ...(copyBoth(cert.fullchain, cert.key, path.join(dir, 'dc.pem'), path.join(dir, 'dc.key'))) })
  t.teardown(() => dc.stop())
  const ng = await startNginxSts({
    ip,
    certFile: web.fullchain,
    keyFile: web.key,
    sites: [
      { host: 'mta-sts.good.test', policy: 'version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 86400\n' },
      { host: 'mta-sts.test-mode.test', policy: 'version: STSv1\nmode: testing\nmx: *.elsewhere.test\nmax_age: 86400\n' },
      { host: 'mta-sts.plain.test', redirect: 'https://policy.elsewhere.test/mta-sts.txt' }
    ]
  })
  t.teardown(() => ng.stop())
  // The tls check's own limits are loose here: the file runs several checks from one caller.
  const app = await testApp({ DNS_SERVERS: dns.authoritative, DNSSEC_RESOLVERS: dns.resolver, RATE_LIMITS: 'tls=100/600', DOMAIN_RATE_LIMITS: 'tls=100/600', CHECK_DEADLINE_MS: '20000' })
  t.teardown(() => app.close())
  const check = async (domain: string, lang = 'en'): Promise<any> => {
    const res = await app.inject({ method: 'POST', url: `/api/v1/checks/tls?lang=${lang}`, payload: { domain }, remoteAddress: ip })
    t.equal(res.statusCode, 200, res.body.slice(0, 300))
    const r = res.json()
    t.same(reportModelErrors(r), [], 'the report fits the model')
    return r
  }
  const step = (r: any, name: string): any => r.steps.find((s: any) => s.name === name)
  const codes = (r: any): string[] => r.advice.map((a: any) => a.code)

  t.test('a signed zone, a matching 3 1 1 TLSA, full chains, MTA-STS enforce', async (t) => {
    const r = await check('good.test')
    // Postfix's own default (smtpd_tls_protocols = !SSLv2, !SSLv3) lets TLS 1.1 in despite Debian's OpenSSL
    // settings: the one finding, and openssl agrees below.
    t.same(r.steps.filter((s: any) => s.status !== 'pass' && s.status !== 'info').map((s: any) => `${s.name}: ${s.detail}`), ['versions 25: accepts TLSv1.1'])
    t.equal(r.status, 'warn')
    const ports = r.services.filter((s: any) => s.state === 'tls').map((s: any) => s.port)
    t.same(ports, [25, 995], 'every TLS service that answers: 25 (STARTTLS) and 995')
    for (const s of r.services.filter((x: any) => x.state === 'tls')) {
      t.equal(s.chainLength, 2, `port ${s.port} sends leaf and intermediate`)
      t.ok(s.trusted && s.nameMatches, `port ${s.port}: trusted under the private root, named mx.good.test`)
      t.same([s.cert.keyType, s.cert.keyBits], ['ec', 256])
    }
    t.same([r.dnssec.domain.status, r.dnssec.host.status], ['secure', 'secure'])
    t.equal(r.dane.matched, true)
    t.same(r.dane.records.map((x: any) => x.verdict), ['match'])
    t.equal(step(r, 'certificates').status, 'pass', 'the same certificate on 25 and 995')
    t.same([r.mtaSts.fetched, r.mtaSts.mode, r.mtaSts.hosts], [true, 'enforce', [{ host: 'mx.good.test', matches: true }]])
    t.equal(r.tlsRpt.valid, true)
    t.ok(codes(r).includes('tls.dane_ee_ok'))
    // openssl as the peer, on the same ports: TLS 1.1 at security level 0.
    const v25 = r.versions.find((v: any) => v.probedOn === 25)
    const v995 = r.versions.find((v: any) => v.probedOn === 995)
    const on25 = sClient([`${ip}:25`, '-starttls', 'smtp', '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'])
    const on995 = sClient([`${ip}:995`, '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'])
    t.same([v25.legacy !== null, v995.legacy !== null], [on25, on995], 'mxprobe and openssl s_client -tls1_1 agree on both ports')
    t.same([v25.sslv3, v995.sslv3], [false, false])
    // Two hellos per server and certificate. SSLv3 is asked only where TLS 1.1 was taken and the
    // server made no TLS 1.3 session: Postfix and Dovecot on OpenSSL 3 speak TLS 1.3, so never here.
    const tls13 = (port: number): boolean => r.services.find((x: any) => x.port === port)?.protocol === 'TLSv1.3'
    t.same([tls13(25), tls13(995)], [true, true], 'both made a TLS 1.3 session')
    t.same([v25.connections, v995.connections], [2, 2], 'no SSLv3 question')
    if (on25) t.ok(r.transcript.some((l: any) => /port 25: SSLv3 not asked/.test(l.text)), 'and the transcript says why')
  })

  t.test('a stale TLSA record: DANE fails, with the key-roll advice', async (t) => {
    const r = await check('stale.test', 'ja')
    t.equal(step(r, 'dane').status, 'fail')
    const a = r.advice.find((x: any) => x.code === 'tls.dane_mismatch')
    t.ok(a, 'dane mismatch advised')
    t.match(a.ja, /--reuse-key/)
    t.match(a.ja, new RegExp(`3 1 1 ${spki}`), 'it names the record the current key needs')
    t.equal(r.status, 'fail')
  })

  t.test('a broken signature: bogus, with the resolver\'s reason', async (t) => {
    const r = await check('bogus.test')
    t.same([r.dnssec.domain.status, r.dnssec.host.status], ['bogus', 'secure'], 'the MX record fails, the MX host validates')
    t.equal(step(r, 'dnssec').status, 'fail')
    t.match(r.advice.find((x: any) => x.code === 'tls.dnssec_bogus').en, /validation|signature|bogus/i)
  })

  t.test('an unsigned zone; an MTA-STS redirect that is not followed; a bad TLS-RPT address', async (t) => {
    const r = await check('plain.test')
    t.same([r.dnssec.domain.status, r.dnssec.host.status], ['insecure', 'insecure'])
    t.equal(r.dane, null)
    t.same([r.mtaSts.status, r.mtaSts.fetched, r.mtaSts.location], [301, false, 'https://policy.elsewhere.test/mta-sts.txt'])
    t.ok(codes(r).includes('tls.mta_sts_redirect'))
    t.equal(r.tlsRpt.valid, false)
    t.ok(codes(r).includes('tls.tlsrpt_bad'))
  })

  t.test('MTA-STS testing whose mx patterns miss the MX host: a warning, not a failure', async (t) => {
    const r = await check('test-mode.test')
    t.equal(r.mtaSts.mode, 'testing')
    t.same(r.mtaSts.hosts, [{ host: 'mx.test-mode.test', matches: false }])
    t.equal(step(r, 'mta-sts').status, 'warn')
    t.ok(codes(r).includes('tls.mta_sts_mx_unmatched'))
    t.ok(codes(r).includes('tls.tlsrpt_missing'))
  })

  t.test('Postfix renewed to a leaf without its intermediate, Dovecot not reloaded', async (t) => {
    const renewed = pki.leaf(HOSTS[0], { altNames: HOSTS.slice(1), days: 90, ageDays: 0, tag: 'v2' })
    copyFileSync(renewed.key, live.key)
    copyFileSync(renewed.cert, live.chain) // cert.pem, not fullchain.pem
    await run('/usr/sbin/postfix', ['-c', pf.configDir, 'reload'])
    await new Promise((resolve) => setTimeout(resolve, 500))
    const r = await check('plain.test', 'ja')
    const p25 = r.services.find((s: any) => s.port === 25)
    const p995 = r.services.find((s: any) => s.port === 995)
    t.same([p25.chainLength, p25.problems], [1, ['missing_intermediate']])
    t.same(p995.problems, [], '995 still serves the old, complete chain')
    const mi = r.advice.find((x: any) => x.code === 'tls.cert_missing_intermediate')
    t.match(mi.ja, /fullchain\.pem/)
    t.match(mi.ja, /smtpd_tls_chain_files/)
    const d = r.advice.find((x: any) => x.code === 'tls.cert_differs')
    t.ok(d, 'the ports serve different certificates')
    t.match(d.ja, /Dovecot を再読み込みしてください/)
    t.same(d.params.older, [995])
    t.notMatch(d.ja, /\d{4}-\d\d-\d\d/, 'no ISO dates on a Japanese text')
    // openssl as the peer: the leaf alone does not verify without the intermediate, and does with it.
    const leafFile = path.join(dir, 'served.pem')
    copyFileSync(renewed.cert, leafFile)
    const bare = await run('openssl', ['verify', '-CAfile', pki.rootFile, leafFile]).then(() => true, () => false)
    const withInt = await run('openssl', ['verify', '-CAfile', pki.rootFile, '-untrusted', pki.intermediateFile, leafFile]).then(() => true, () => false)
    t.same([bare, withInt], [false, true], 'openssl verify -untrusted agrees')
  })

  t.test('a 90-day certificate with 5 days left warns; a fresh 6-day one does not', async (t) => {
    const old = pki.leaf(HOSTS[0], { altNames: HOSTS.slice(1), days: 90, ageDays: 85, tag: 'v3' })
    copyFileSync(old.key, live.key)
    copyFileSync(old.fullchain, live.chain)
    await run('/usr/sbin/postfix', ['-c', pf.configDir, 'reload'])
    await new Promise((resolve) => setTimeout(resolve, 500))
    let r = await check('plain.test')
    t.equal(r.services.find((s: any) => s.port === 25).expiry, 'expiring')
    t.ok(codes(r).includes('tls.cert_expiring'))
    const fresh = pki.leaf(HOSTS[0], { altNames: HOSTS.slice(1), days: 6, ageDays: 0, tag: 'v4' })
    copyFileSync(fresh.key, live.key)
    copyFileSync(fresh.fullchain, live.chain)
    await run('/usr/sbin/postfix', ['-c', pf.configDir, 'reload'])
    await new Promise((resolve) => setTimeout(resolve, 500))
    r = await check('plain.test')
    t.equal(r.services.find((s: any) => s.port === 25).expiry, 'ok', 'six days of six left: no warning')
    t.notOk(codes(r).includes('tls.cert_expiring'))
  })
})

/** openssl s_client's verdict: did the handshake succeed (stdin closed at once, exit 0)? */
function sClient (args: string[]): boolean {
  return spawnSync('openssl', ['s_client', '-connect', ...args], { input: '', timeout: 5000, stdio: 'pipe' }).status === 0
}

function copyBoth (cert: string, key: string, certTo: string, keyTo: string): Record<string, never> {
  copyFileSync(cert, certTo)
  copyFileSync(key, keyTo)
  chmodSync(keyTo, 0o600)
  return {}
}
