// The POP3 check: does the caller's POP3 server answer, does it protect
// passwords with TLS (STLS on 110, implicit TLS on 995), what does its
// certificate say, and, when asked, does a login over TLS work.
//
// Target rule: the caller's IP must be an address of the domain's MX
// hosts, or of the domain itself (many home setups use one name for
// everything). Anything else is refused before a socket is opened.
//
// Login safety: the password is sent only over TLS, the transcript shows
// asterisks, only STAT runs (the client cannot send RETR/DELE), and the
// password lives only in the plan object of this run: it is not put into
// the report, the store or a log line.
//
// Verdict:
// - error no POP3 port could be reached (nothing to judge);
// - fail  the port answers but not as POP3; STLS advertised but broken;
//         certificate expired; the login was refused;
// - warn  no TLS at all (no STLS, no 995); USER/PLAIN offered before TLS;
//         self-signed or misnamed certificate; login asked but impossible
//         without TLS;
// - pass  otherwise.
import type { CheckContext, CheckDefinition } from './context.js'
import { BadInputError, ProbeError, RefusalError } from '../errors.js'
import { DnsLookupError } from '../dns/resolver.js'
import { sameIp } from '../net/ip.js'
import { mailTargetFor } from './mailhosts.js'
import { Pop3Client } from '../pop3/client.js'
import { describeCertificate, type CertificateInfo } from '../pop3/certificate.js'
import { handshakeFacts } from '../tls/probe.js'
import { worst, type Status } from '../core/report.js'
import { bi } from '../i18n/index.js'
import { understandDomain, noteUnderstood } from './target-input.js'

export interface Pop3Input { domain: string, username?: string, password?: string }

export interface Pop3Plan {
  domain: string
  /** host name to compare certificates with */
  host: string
  ip: string
  /** kept out of the report: the check's closure is the only holder */
  credentials: { username: string, password: string } | null
}

export interface Pop3PortResult {
  port: number
  reachable: boolean
  error?: string
  /** how the connection failed (ProbeError kind) */
  errorKind?: string
  greeting?: string
  pop3?: boolean
  capabilities?: string[] | null
  /** capabilities after STLS (they may differ) */
  capabilitiesTls?: string[] | null
  stls?: { offered: boolean, works?: boolean, error?: string }
  tls?: boolean
  certificate?: CertificateInfo | null
  userBeforeTls?: boolean
  saslBeforeTls?: string[]
  quit?: { clean: boolean, reason?: string }
}

const MAX_USER = 256
const MAX_PASSWORD = 512

export function validateCredentials (input: Pop3Input): { username: string, password: string } | null {
  const { username, password } = input
  if (username === undefined && password === undefined) return null
  if (typeof username !== 'string' || typeof password !== 'string') throw new BadInputError('give both username and password, or neither', 'username')
  if (username.length === 0 || username.length > MAX_USER) throw new BadInputError(`username must be 1 to ${MAX_USER} characters`, 'username')
  if (password.length === 0 || Buffer.byteLength(password) > MAX_PASSWORD) throw new BadInputError(`password must be 1 to ${MAX_PASSWORD} bytes`, 'password')
  // Control characters would end the command early and inject another; never echo the password in the message.
  if (/[\u0000-\u001f\u007f]/.test(username)) throw new BadInputError('username contains a control character (CR, LF, NUL …)', 'username')
  if (/\s/.test(username)) throw new BadInputError('username contains white space', 'username')
  if (/[\u0000-\u001f\u007f]/.test(password)) throw new BadInputError('password contains a control character (CR, LF, NUL …)', 'password')
  return { username, password }
}

/** The caller's IP as an address of an MX host of the domain, or of the domain itself. */
async function pop3Target (ctx: CheckContext, domain: string): Promise<{ host: string, ip: string }> {
  try {
    const { match } = await mailTargetFor(ctx, domain)
    return { host: match.host.host, ip: match.address.address }
  } catch (err) {
    if (!(err instanceof RefusalError) || err.code !== 'ip_mismatch') throw err
    let own: string[] = []
    try {
      own = (await ctx.dns.addresses(domain)).map((a) => a.address)
    } catch (e) {
      if (!(e instanceof DnsLookupError)) throw e
    }
    const hit = own.find((a) => sameIp(a, ctx.callerIp))
    if (!hit) {
      throw new RefusalError('ip_mismatch',
        bi(ctx.lang, `${err.message} ${domain} 自身のアドレス (${own.length ? own.join(', ') : 'A/AAAA なし'}) とも一致しません。`, `${err.message}; nor is it an address of ${domain} itself (${own.length ? own.join(', ') : 'no A/AAAA'})`),
        ctx.callerIp, { ...(err.dns as object ?? {}), domainAddresses: own }, err.extra)
    }
    const v = ctx.connector.check(ctx.callerIp, hit, 110)
    if (!v.ok) throw new RefusalError(v.code, `${hit}: ${v.reason}`, ctx.callerIp, { domain, domainAddresses: own })
    return { host: domain, ip: hit }
  }
}

function mechanisms (caps: string[] | null | undefined): { user: boolean, sasl: string[] } {
  const up = (caps ?? []).map((c) => c.toUpperCase())
  return {
    user: up.some((c) => c === 'USER' || c.startsWith('USER ')),
    sasl: up.find((c) => c.startsWith('SASL '))?.split(/\s+/).slice(1) ?? []
  }
}

export const pop3Check: CheckDefinition<Pop3Input, Pop3Plan> = {
  type: 'pop3',
  probes: true,
  async prepare (ctx, input) {
    const u = understandDomain(input.domain)
    const d = u.domain
    noteUnderstood(ctx.report, u)
    const credentials = validateCredentials(input)
    const t = await pop3Target(ctx, d.ascii)
    ctx.report.target({ domain: d.ascii, host: t.host, ip: t.ip })
    return { domain: d.ascii, host: t.host, ip: t.ip, credentials }
  },
  async run (ctx, plan) {
    const r = ctx.report
    const lang = r.lang
    const log = (dir: 'C' | 'S' | 'I', text: string) => r.line(dir, text)
    let login: { tried: boolean, ok?: boolean, port?: number, method?: string, reply?: string, messages?: number, octets?: number } = { tried: false }
    const creds = plan.credentials

    const tryLogin = async (c: Pop3Client, caps: string[] | null, port: number): Promise<void> => {
      if (!creds || login.tried) return
      const res = await c.login(creds.username, creds.password, caps)
      login = { tried: true, ok: res.ok, port, method: res.method, reply: res.reply }
      if (!res.ok) return
      const st = await c.stat()
      login.messages = st.messages
      login.octets = st.octets
    }

    const reportCert = (res: Pop3PortResult, port: number): void => {
      const cert = res.certificate
      if (!cert) return
      const detail = bi(lang, `${cert.subject}、SAN ${cert.subjectAltNames.join(' ') || '-'}、発行者 ${cert.issuer}、有効期限 ${cert.validTo}${cert.selfSigned ? '、自己署名' : ''}`, `${cert.subject}; SAN ${cert.subjectAltNames.join(' ') || '-'}; issuer ${cert.issuer}; valid to ${cert.validTo}${cert.selfSigned ? '; self-signed' : ''}`)
      let st: Status = 'pass'
      if (cert.expired) { r.advise('pop3.cert_expired', { port, validTo: cert.validTo }); st = 'fail' }
      if (cert.selfSigned) { r.advise('pop3.cert_self_signed', { port, subject: cert.subject }); st = worst(st, 'warn') }
      if (cert.nameMatches === false) { r.advise('pop3.cert_name_mismatch', { port, host: plan.host, names: cert.subjectAltNames.join(', ') || cert.subject }); st = worst(st, 'warn') }
      r.step(`certificate ${port}`, st, detail)
    }

    const quitStep = async (c: Pop3Client, res: Pop3PortResult): Promise<void> => {
      const q = res.quit = await c.quit()
      r.step(`QUIT ${res.port}`, q.clean ? 'pass' : 'info', q.clean ? bi(lang, '正常に終了', 'clean') : q.reason ?? '')
      if (!q.clean) r.advise('pop3.quit_unclean', { reason: q.reason })
    }

    // ---- port 110: greeting, CAPA, STLS, (login), QUIT
    const p110: Pop3PortResult = { port: 110, reachable: false }
    try {
      const t0 = Date.now()
      const g = await ctx.connect(plan.ip, 110, { servername: plan.host })
      p110.reachable = true
      const c = new Pop3Client(g, { port: 110, log, commandTimeoutMs: ctx.settings.commandTimeoutMs, lang: ctx.lang })
      try {
        const greet = await c.greeting(ctx.settings.bannerTimeoutMs)
        p110.greeting = greet.line
        p110.pop3 = greet.ok
        if (!greet.ok) {
          r.step('greeting 110', 'fail', greet.line, Date.now() - t0)
          r.advise('pop3.not_pop3', { port: 110, line: greet.line.slice(0, 120) })
        } else {
          r.step('greeting 110', 'pass', greet.line, Date.now() - t0)
          p110.capabilities = await c.capa()
          const m = mechanisms(p110.capabilities)
          p110.userBeforeTls = m.user
          p110.saslBeforeTls = m.sasl
          r.step('capabilities 110', 'info', p110.capabilities ? p110.capabilities.join(' ') : bi(lang, 'CAPA 非対応', 'CAPA not supported'))
          const offered = !!p110.capabilities?.some((x) => x.toUpperCase() === 'STLS')
          p110.stls = { offered }
          if (m.user || m.sasl.some((s) => s === 'PLAIN' || s === 'LOGIN')) {
            r.step('login before TLS', 'warn', bi(lang, '110 番で TLS なしに使えます: ', 'offered on 110 without TLS: ') + [m.user ? 'USER' : '', ...m.sasl].filter(Boolean).join(' '))
            r.advise('pop3.cleartext_login')
          }
          if (offered) {
            try {
              const t = await c.stls(plan.host)
              if ('refused' in t) {
                p110.stls = { offered, works: false, error: t.refused }
              } else {
                p110.stls = { offered, works: true }
                p110.tls = true
                p110.certificate = describeCertificate(t, plan.host)
                ctx.handshakes?.offer(plan.ip, 110, handshakeFacts(t, 0))
                r.step('STLS', 'pass', `TLS ${t.getProtocol() ?? ''}`)
                reportCert(p110, 110)
                p110.capabilitiesTls = await c.capa()
                const mt = mechanisms(p110.capabilitiesTls)
                r.step('capabilities 110 after STLS', 'info', `${p110.capabilitiesTls?.join(' ') ?? bi(lang, 'CAPA 非対応', 'CAPA not supported')}${bi(lang, '、ログイン方式: ', '; login: ')}${[mt.user ? 'USER' : '', ...mt.sasl].filter(Boolean).join(' ') || bi(lang, 'なし', 'none')}`)
                await tryLogin(c, p110.capabilitiesTls, 110)
              }
            } catch (err) {
              if (!(err instanceof ProbeError)) throw err
              p110.stls = { offered, works: false, error: err.message }
            }
            if (p110.stls.works === false) {
              r.step('STLS', 'fail', p110.stls.error ?? bi(lang, '失敗', 'failed'))
              r.advise('pop3.stls_failed', { reason: p110.stls.error })
            }
          } else {
            r.step('STLS', 'info', bi(lang, '提供されていません', 'not offered'))
          }
          if (!(p110.stls.offered && !p110.stls.works)) {
            await quitStep(c, p110)
          }
        }
      } finally {
        c.close()
      }
    } catch (err) {
      if (!(err instanceof ProbeError)) throw err
      p110.error = err.message
      p110.errorKind = err.kind
      if (!p110.reachable) r.step('port 110', 'info', err.message)
      else r.step('port 110', 'fail', err.message)
    }

    // ---- port 995: implicit TLS
    const p995: Pop3PortResult = { port: 995, reachable: false }
    try {
      const t0 = Date.now()
      const g = await ctx.connect(plan.ip, 995, { tls: true, servername: plan.host })
      p995.reachable = true
      p995.tls = true
      const c = new Pop3Client(g, { port: 995, log, commandTimeoutMs: ctx.settings.commandTimeoutMs, lang: ctx.lang })
      try {
        r.line('I', bi(lang, `[995] TLS 接続 (${Date.now() - t0} ミリ秒)`, `[995] TLS established in ${Date.now() - t0} ms`))
        p995.certificate = describeCertificate(g.socket as import('node:tls').TLSSocket, plan.host)
        ctx.handshakes?.offer(plan.ip, 995, handshakeFacts(g.socket as import('node:tls').TLSSocket, Date.now() - t0))
        const greet = await c.greeting(ctx.settings.bannerTimeoutMs)
        p995.greeting = greet.line
        p995.pop3 = greet.ok
        if (!greet.ok) {
          r.step('greeting 995', 'fail', greet.line, Date.now() - t0)
          r.advise('pop3.not_pop3', { port: 995, line: greet.line.slice(0, 120) })
        } else {
          r.step('greeting 995', 'pass', greet.line, Date.now() - t0)
          reportCert(p995, 995)
          p995.capabilities = await c.capa()
          const m = mechanisms(p995.capabilities)
          r.step('capabilities 995', 'info', `${p995.capabilities?.join(' ') ?? bi(lang, 'CAPA 非対応', 'CAPA not supported')}${bi(lang, '、ログイン方式: ', '; login: ')}${[m.user ? 'USER' : '', ...m.sasl].filter(Boolean).join(' ') || bi(lang, 'なし', 'none')}`)
          await tryLogin(c, p995.capabilities, 995)
          await quitStep(c, p995)
        }
      } finally {
        c.close()
      }
    } catch (err) {
      if (!(err instanceof ProbeError)) throw err
      p995.error = err.message
      p995.errorKind = err.kind
      if (err.kind === 'tls') {
        p995.reachable = true
        p995.tls = false
        r.step('port 995', 'fail', err.message)
        r.advise('ports.tls_failed', { port: 995, reason: err.message })
      } else if (!p995.reachable) {
        r.step('port 995', 'info', err.message)
      } else {
        r.step('port 995', 'fail', err.message)
      }
    }

    r.set('pop3', { ports: [p110, p995] })
    const tlsWorks = p110.stls?.works === true || (p995.pop3 === true && p995.tls === true)
    const any = p110.pop3 === true || p995.pop3 === true

    if (!p110.reachable && !p995.reachable) {
      // Nothing listening is the server failing (fail), one paragraph per cause, not per port.
      const refused = [p110, p995].filter((p) => p.errorKind === 'refused' || p.errorKind === 'closed').map((p) => p.port)
      const filtered = [p110, p995].filter((p) => !(p.errorKind === 'refused' || p.errorKind === 'closed')).map((p) => p.port)
      if (refused.length) r.advise('ports.refused', { ip: plan.ip, port: refused.join(', ') })
      if (filtered.length) r.advise('ports.filtered', { ip: plan.ip, port: filtered.join(', ') })
      const why = bi(r.lang, `${plan.ip} では POP3 サーバーに接続できません (110: ${p110.error}、995: ${p995.error})`, `no POP3 server reachable on ${plan.ip} (110: ${p110.error}; 995: ${p995.error})`)
      r.step('pop3-unreachable', 'fail', why)
      r.finish(why)
      return
    }
    if (any && !tlsWorks) {
      r.step('pop3-cleartext', 'warn', bi(lang, 'POP3 は暗号化なしでしか使えません (995 番の TLS も 110 番の STLS も動きません)', 'POP3 works only without encryption (neither TLS on 995 nor STLS on 110 works)'))
      if (p110.pop3) r.advise('pop3.no_stls')
      r.advise('ports.cleartext_pop3', { ip: plan.ip })
    } else if (any && p110.pop3 && !p110.stls?.offered) {
      r.advise('pop3.no_stls')
    }
    if (any && !p995.reachable && tlsWorks) r.advise('pop3.no_995', { state: p995.error ?? bi(lang, '接続できません', 'not reachable') })

    if (creds) {
      if (!login.tried) {
        r.step('login', 'warn', bi(lang, 'TLS で接続できないため、試していません', 'not tried: no TLS connection available'))
        r.advise('pop3.login_needs_tls')
      } else if (login.ok) {
        r.step('login', 'pass', bi(lang, `${login.method} (ポート ${login.port}): ${login.reply}、STAT ${login.messages ?? '?'} 通 ${login.octets ?? '?'} オクテット`, `${login.method} on ${login.port}: ${login.reply}; STAT ${login.messages ?? '?'} messages, ${login.octets ?? '?'} octets`))
        r.advise('pop3.login_ok', { user: creds.username, messages: login.messages ?? '?', octets: login.octets ?? '?' })
      } else {
        r.step('login', 'fail', bi(lang, `${login.method} (ポート ${login.port}): ${login.reply}`, `${login.method} on ${login.port}: ${login.reply}`))
        r.advise('pop3.login_failed', { user: creds.username, reply: login.reply })
      }
    }
    r.set('login', creds ? { username: creds.username, ...login } : { tried: false })

    const status = r.verdict()
    const summary = lang === 'ja'
      ? (!any
          ? `${plan.ip}: POP3 サーバーが応答しませんでした`
          : `POP3: ${[p110.pop3 ? `110 番${p110.stls?.works ? ' (STLS あり)' : ''}` : null, p995.pop3 ? '995 番 (TLS)' : null].filter(Boolean).join('、')}` +
            (creds ? (login.ok ? '、TLS でのログイン成功' : login.tried ? '、ログイン拒否' : '、ログインは未実施 (TLS なし)') : '') +
            (status === 'pass' ? '' : status === 'warn' ? '。注意点があります' : '。問題があります'))
      : (!any
          ? `${plan.ip}: no POP3 server answered`
          : `POP3 on ${[p110.pop3 ? `110${p110.stls?.works ? ' with STLS' : ''}` : null, p995.pop3 ? '995 (TLS)' : null].filter(Boolean).join(' and ')}` +
            (creds ? (login.ok ? '; login over TLS works' : login.tried ? '; login refused' : '; login not tried (no TLS)') : '') +
            (status === 'pass' ? '' : status === 'warn' ? ', with warnings' : ', with problems'))
    r.finish(summary)
  }
}
