// Old protocol versions and weak ciphers, against servers that really
// accept them: GnuTLS's gnutls-serv with TLS 1.0/1.1 and 3DES or RC4 in its
// priorities (node's OpenSSL 3 will not serve them), a scripted SSLv3-only
// server, and a modern gnutls-serv for the negative. Every verdict is held
// against independent clients on the same server: openssl s_client -tls1 /
// -tls1_1 at security level 0 for versions, gnutls-cli for the ciphers this
// machine's openssl no longer has (3DES, RC4).
import t from 'tap'
import { mkdtempSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { requireTool, testApp, randomLoopback, reportModelErrors } from '../helpers.js'
import { startDns, publishMx } from '../fixtures/dns.js'
import { makePki } from '../fixtures/pki.js'
import { startGnutlsServ } from '../fixtures/gnutls-serv.js'
import { startSslv3 } from '../fixtures/sslv3.js'

/** Does a client's handshake succeed (exit 0 with stdin closed)? */
function peer (cmd: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] })
    const timer = setTimeout(() => p.kill(), 8000)
    p.stdin.end()
    p.on('exit', (code) => { clearTimeout(timer); resolve(code === 0) })
  })
}
const openssl = (ip: string, port: number, ...opts: string[]): Promise<boolean> => peer('openssl', ['s_client', '-connect', `${ip}:${port}`, ...opts, '-cipher', 'DEFAULT:@SECLEVEL=0'])
const gnutls = (ip: string, port: number, priority: string): Promise<boolean> => peer('gnutls-cli', ['--insecure', '--priority', priority, '-p', String(port), ip])

t.test('TLS 1.0/1.1, 3DES, RC4 and SSLv3 found as they are, in agreement with openssl and gnutls-cli', async (t) => {
  if (!requireTool(t, 'root', 'gnutls', 'certtool', 'openssl')) return
  const dir = mkdtempSync(path.join(tmpdir(), 'mxprobe-legacy-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pki = makePki(dir)
  const dns = await startDns({})
  t.teardown(() => dns.close())
  const [legacyIp, modernIp, rc4Ip] = [randomLoopback(), randomLoopback(), randomLoopback()]
  publishMx(dns.zone, 'legacy.test', legacyIp, 'mx.legacy.test')
  publishMx(dns.zone, 'modern.test', modernIp, 'mx.modern.test')
  publishMx(dns.zone, 'rc4.test', rc4Ip, 'mx.rc4.test')
  const ec = pki.leaf('mx.legacy.test', { altNames: ['mx.modern.test'] })
  const rsa = pki.leaf('mx.rc4.test', { key: 'rsa' })
  const LEGACY = 'NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:+3DES-CBC'
  const servers = await Promise.all([
    startGnutlsServ({ ip: legacyIp, port: 995, certFile: ec.fullchain, keyFile: ec.key, priority: LEGACY }),
    startGnutlsServ({ ip: modernIp, port: 993, certFile: ec.fullchain, keyFile: ec.key, priority: 'NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2' }),
    startGnutlsServ({ ip: rc4Ip, port: 995, certFile: rsa.fullchain, keyFile: rsa.key, priority: 'NORMAL:-VERS-ALL:+VERS-TLS1.2:+ARCFOUR-128:+RSA' })
  ])
  for (const s of servers) t.teardown(() => s.stop())
  const sslv3 = await startSslv3(legacyIp, 465)
  t.teardown(() => sslv3.close())
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: 'tls=100/600', DOMAIN_RATE_LIMITS: 'tls=100/600' })
  t.teardown(() => app.close())
  const check = async (domain: string, ip: string, lang = 'en'): Promise<any> => {
    const res = await app.inject({ method: 'POST', url: `/api/v1/checks/tls?lang=${lang}`, payload: { domain }, remoteAddress: ip })
    t.equal(res.statusCode, 200)
    const r = res.json()
    t.same(reportModelErrors(r), [])
    return r
  }
  const codes = (r: any): string[] => r.advice.map((a: any) => a.code)

  t.test('gnutls-serv with TLS 1.0/1.1 and 3DES on 995; an SSLv3-only server on 465', async (t) => {
    const r = await check('legacy.test', legacyIp, 'ja')
    const v995 = r.versions.find((v: any) => v.probedOn === 995)
    const v465 = r.versions.find((v: any) => v.probedOn === 465)
    t.same([v995.legacy, v995.sslv3, v995.weakCipher?.kind], ['TLSv1.1', false, '3DES'], '995: TLS 1.1 taken, no SSLv3, 3DES taken')
    t.equal(v995.connections, 3, 'two hellos, and SSLv3 asked once TLS 1.1 was taken')
    t.equal(r.steps.find((s: any) => s.name === 'versions 995').status, 'warn')
    t.same([v465.sslv3, v465.legacy], [true, 'SSLv3'], '465: SSLv3')
    t.equal(r.steps.find((s: any) => s.name === 'versions 465').status, 'fail')
    t.equal(r.services.find((s: any) => s.port === 465).state, 'failed', 'node cannot speak SSLv3: the handshake fails, the hellos say why')
    t.ok(sslv3.hellos.length >= 2, 'the scripted server saw the hand-made hellos')
    for (const c of ['tls.sslv3', 'tls.legacy_versions', 'tls.weak_cipher']) t.ok(codes(r).includes(c), c)
    const ja = r.advice.find((a: any) => a.code === 'tls.legacy_versions').ja
    t.match(ja, /smtpd_tls_protocols|ssl_min_protocol/)
    t.equal(r.status, 'fail')
    // The peers on the same server.
    const [tls1, tls11, tls12, des3, des3at13] = await Promise.all([
      openssl(legacyIp, 995, '-tls1'), openssl(legacyIp, 995, '-tls1_1'), openssl(legacyIp, 995, '-tls1_2'),
      gnutls(legacyIp, 995, 'NORMAL:-CIPHER-ALL:+3DES-CBC:-VERS-TLS1.3'), gnutls(legacyIp, 995, 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+3DES-CBC')
    ])
    t.same([tls1, tls11, tls12], [true, true, true], 'openssl: TLS 1.0, 1.1 and 1.2 taken on 995')
    t.equal(des3, v995.weakCipher !== null, 'gnutls-cli agrees on 3DES')
    t.equal(des3at13, false, 'and cannot have 3DES under TLS 1.3 (the control)')
    t.equal(await openssl(legacyIp, 465), false, 'openssl cannot handshake with the SSLv3 server either')
  })

  t.test('a modern gnutls-serv (TLS 1.2 and 1.3 only): nothing old, nothing weak', async (t) => {
    const r = await check('modern.test', modernIp)
    const v = r.versions.find((x: any) => x.probedOn === 993)
    t.same([v.legacy, v.sslv3, v.weakCipher, v.connections], [null, false, null, 2], 'two hellos, no SSLv3 question')
    t.equal(r.steps.find((s: any) => s.name === 'versions 993').status, 'pass')
    t.same(await Promise.all([openssl(modernIp, 993, '-tls1'), openssl(modernIp, 993, '-tls1_1'), openssl(modernIp, 993, '-tls1_2')]), [false, false, true], 'openssl agrees')
    t.equal(await gnutls(modernIp, 993, 'NORMAL:-CIPHER-ALL:+3DES-CBC:+ARCFOUR-128:-VERS-TLS1.3'), false, 'gnutls-cli: no weak cipher')
  })

  t.test('RC4 with an RSA key: a weak cipher at TLS 1.2', async (t) => {
    const r = await check('rc4.test', rc4Ip)
    const v = r.versions.find((x: any) => x.probedOn === 995)
    t.same([v.legacy, v.weakCipher?.kind], [null, 'RC4'])
    t.same(r.services.find((s: any) => s.port === 995).cert.keyType, 'rsa')
    t.equal(await gnutls(rc4Ip, 995, 'NORMAL:-CIPHER-ALL:+ARCFOUR-128:+RSA:-VERS-TLS1.3'), true, 'gnutls-cli gets RC4 too')
  })
})
