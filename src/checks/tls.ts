// The tls check: the server's TLS and DNS security as senders judge it.
// Every TLS service of the caller's MX host that answers (25, 465, 587,
// 993, 995, 143, 110): the certificate chain as sent and what is wrong with
// it, days to expiry, whether the ports serve the same certificate; the
// protocol versions and weak ciphers accepted (probed once per server
// software and certificate, with hand-made ClientHellos: as few connections
// as possible); DNSSEC of the domain and the MX host; DANE (TLSA at
// _25._tcp.<mx host>, only when secure); MTA-STS (record, policy fetched
// under the one narrow exception of src/net/connect.ts connectPolicyHost,
// MX patterns, certificates); TLS-RPT.
//
// Connections to the caller stay within its concurrency budget
// (settings.parallelConnections): one queue of probes, at most that many
// open at once.
import type { X509Certificate } from 'node:crypto'
import type { CheckContext, CheckDefinition } from './context.js'
import type { Status, StepStatus } from '../core/report.js'
import { worst } from '../core/report.js'
import type { TlsServiceFacts, TlsVersionsFacts, DnssecFacts, DaneFacts, MtaStsFacts, TlsRptFacts } from '../core/tls-report.js'
import { mailTargetFor } from './mailhosts.js'
import { understandDomain, noteUnderstood } from './target-input.js'
import { ProbeError } from '../errors.js'
import { DnsLookupError } from '../dns/resolver.js'
import { TLS_SERVICES, handshake, hello, NoStartTls, type TlsService, type HandshakeResult } from '../tls/probe.js'
import { verifyChain, certFacts, expiryState, type ChainVerdict } from '../tls/chain.js'
import { LEGACY_SUITES, WEAK_SUITES, ALERTS, type HelloAnswer } from '../tls/hello.js'
import { matchDane, tlsaFor } from '../tls/dane.js'
import { parseStsRecord, parsePolicy, mxMatches, parseTlsRpt, fetchPolicy, POLICY_PATH } from '../tls/mta-sts.js'
import type { DnssecAnswer } from '../dns/dnssec.js'
import { bi, registerAdvice, type Lang } from '../i18n/index.js'
import { TLS_ADVICE } from '../i18n/advice/tls.js'

registerAdvice(TLS_ADVICE)

export interface TlsInput { domain: string }
export interface TlsPlan { domain: string, host: string, ip: string, mxHosts: string[] }

/** A small queue: at most `limit` probes at once (the caller's connection budget). */
function pool (limit: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    active++
    try { return await job() } finally {
      active--
      waiting.shift()?.()
    }
  }
}

interface Probed {
  svc: TlsService
  facts: TlsServiceFacts
  chain: X509Certificate[]
  verdict: ChainVerdict | null
}

const family = (s: TlsService): 'smtp' | 'mail' => s.proto === 'smtp' ? 'smtp' : 'mail'

function emptyFacts (svc: TlsService, state: TlsServiceFacts['state'], ms: number, detail?: string): TlsServiceFacts {
  return { port: svc.port, proto: svc.proto, starttls: svc.starttls, state, protocol: null, cipher: null, group: null, cert: null, chainLength: 0, trusted: false, nameMatches: null, problems: [], expiry: null, versionsFrom: null, ms, ...(detail ? { detail } : {}) }
}

async function probeService (ctx: CheckContext, plan: TlsPlan, svc: TlsService): Promise<Probed> {
  const started = Date.now()
  try {
    return judgedHandshake(plan, svc, await handshake(ctx, plan.ip, plan.host, svc))
  } catch (err) {
    const ms = Date.now() - started
    if (err instanceof NoStartTls) return { svc, chain: [], verdict: null, facts: emptyFacts(svc, 'no_starttls', ms, err.reply) }
    if (err instanceof ProbeError && (err.kind === 'refused' || err.kind === 'timeout' || err.kind === 'unreachable')) {
      return { svc, chain: [], verdict: null, facts: emptyFacts(svc, 'closed', ms, err.kind) }
    }
    if (err instanceof ProbeError) return { svc, chain: [], verdict: null, facts: emptyFacts(svc, 'failed', ms, err.message) }
    throw err
  }
}

/** One service's facts from a handshake, this check's own or one the diagnosis's smtp or pop3 check made. */
function judgedHandshake (plan: TlsPlan, svc: TlsService, h: HandshakeResult): Probed {
  const leaf = h.chain[0]
  const verdict = leaf ? verifyChain(h.chain, plan.host) : null
  const cert = leaf ? certFacts(leaf) : null
  return {
    svc,
    chain: h.chain,
    verdict,
    facts: {
      ...emptyFacts(svc, 'tls', h.ms),
      protocol: h.protocol,
      cipher: h.cipher,
      group: h.group,
      cert,
      chainLength: h.chain.length,
      trusted: verdict?.trusted ?? false,
      nameMatches: verdict?.nameMatches ?? null,
      problems: verdict?.problems ?? ['no_certificate'],
      expiry: cert ? expiryState(cert) : null
    }
  }
}

/** What one hand-made hello found, in words for the transcript. */
function answerText (a: HelloAnswer): string {
  if (a.kind === 'server_hello') return `ServerHello ${a.versionName} ${a.suiteName}`
  if (a.kind === 'alert') return `alert ${ALERTS[a.description] ?? a.description}`
  if (a.kind === 'closed') return 'closed without an answer (refused)'
  return a.reason
}

/** Versions and weak ciphers of one server (one port standing for the ports with its certificate). */
async function probeVersions (ctx: CheckContext, plan: TlsPlan, run: <T>(job: () => Promise<T>) => Promise<T>, svc: TlsService, ports: number[], negotiated: string | null): Promise<TlsVersionsFacts> {
  const r = ctx.report
  const ask = async (version: number, suites: number[], what: string): Promise<HelloAnswer> => {
    try {
      const a = await run(() => hello(ctx, plan.ip, svc, { version, suites, servername: plan.host }))
      r.info(`port ${svc.port}, ${what}: ${answerText(a)}`)
      return a
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      r.info(`port ${svc.port}, ${what}: ${reason}`)
      return { kind: 'other', reason }
    }
  }
  const legacySuites = Object.keys(LEGACY_SUITES).map(Number)
  const weakSuites = Object.keys(WEAK_SUITES).map(Number)
  // One hello offering TLS 1.1 (and so 1.0 and SSLv3 below it), one offering only weak ciphers: in parallel.
  const [legacy, weak] = await Promise.all([
    ask(0x0302, [...legacySuites, ...weakSuites], bi(ctx.lang, 'TLS 1.1 以下で接続', 'ClientHello for TLS 1.1 and older')),
    ask(0x0303, weakSuites, bi(ctx.lang, '弱い暗号だけを提示', 'ClientHello offering only weak ciphers'))
  ])
  let connections = 2
  let legacyVersion: string | null = null
  let sslv3: boolean | null = false
  if (legacy.kind === 'server_hello' && legacy.version <= 0x0302) {
    legacyVersion = legacy.versionName
    if (legacy.version === 0x0300) sslv3 = true
    else if (negotiated === 'TLSv1.3') {
      // The same server made a TLS 1.3 session: its TLS library is OpenSSL 1.1.1+ or GnuTLS 3.6+,
      // which ship without SSLv3 (OpenSSL builds it only with enable-ssl3, GnuTLS only with
      // --enable-ssl3-support; no distribution does). Not asking saves the caller a connection
      // (issue 19: at most 8 for a server with 25, 587, 993 and 995).
      r.info(bi(ctx.lang, `port ${svc.port}: SSLv3 は確認していません (TLS 1.3 に対応したサーバーの TLS ライブラリには SSLv3 がありません)`, `port ${svc.port}: SSLv3 not asked (the TLS libraries that speak TLS 1.3 ship without SSLv3)`))
    } else {
      // It speaks TLS 1.0/1.1: only then is SSLv3 worth one more connection.
      const s = await ask(0x0300, [...legacySuites, ...weakSuites], bi(ctx.lang, 'SSLv3 で接続', 'ClientHello for SSLv3'))
      connections++
      sslv3 = s.kind === 'server_hello' && s.version === 0x0300
    }
  } else if (legacy.kind === 'other') {
    sslv3 = null
  }
  let weakCipher: TlsVersionsFacts['weakCipher'] = null
  if (weak.kind === 'server_hello' && WEAK_SUITES[weak.suite]) weakCipher = { name: WEAK_SUITES[weak.suite].name, kind: WEAK_SUITES[weak.suite].kind }
  if (legacy.kind === 'server_hello' && WEAK_SUITES[legacy.suite] && !weakCipher) weakCipher = { name: WEAK_SUITES[legacy.suite].name, kind: WEAK_SUITES[legacy.suite].kind }
  return { ports, probedOn: svc.port, legacy: legacyVersion, sslv3, weakCipher, connections }
}

/** DNSSEC status words */
function statusWords (lang: Lang, a: DnssecAnswer): string {
  switch (a.status) {
    case 'secure': return bi(lang, `${a.name}: DNSSEC で署名され、検証できました`, `${a.name}: signed, and the chain validates (secure)`)
    case 'insecure': return bi(lang, `${a.name}: DNSSEC で署名されていません`, `${a.name}: not signed (insecure)`)
    case 'bogus': return bi(lang, `${a.name}: DNSSEC の検証に失敗しました (${a.reason ?? ''})`, `${a.name}: the DNSSEC chain fails to validate (bogus): ${a.reason ?? ''}`)
    default: return bi(lang, `${a.name}: DNSSEC を判定できません (${a.reason ?? ''})`, `${a.name}: DNSSEC could not be judged: ${a.reason ?? ''}`)
  }
}

const PROBLEM_WORDS: Record<string, { ja: string, en: string }> = {
  missing_intermediate: { ja: '中間証明書なし', en: 'intermediate certificate missing' },
  incomplete_chain: { ja: 'チェーンが途中で切れている', en: 'chain incomplete' },
  self_signed: { ja: '自己署名', en: 'self-signed' },
  untrusted_root: { ja: '信頼されていないルート', en: 'untrusted root' },
  expired: { ja: '期限切れ', en: 'expired' },
  not_yet_valid: { ja: 'まだ有効期間前', en: 'not yet valid' },
  wrong_name: { ja: '名前が一致しない', en: 'wrong name' },
  bad_signature: { ja: '署名が正しくない', en: 'bad signature' },
  no_certificate: { ja: '証明書なし', en: 'no certificate' }
}

function problemWords (lang: Lang, problems: string[]): string {
  return problems.map((p) => PROBLEM_WORDS[p]?.[lang] ?? p).join(lang === 'ja' ? '、' : ', ')
}

export const tlsCheck: CheckDefinition<TlsInput, TlsPlan> = {
  type: 'tls',
  probes: true,
  async prepare (ctx, input) {
    const u = understandDomain(input?.domain)
    const d = u.domain.ascii
    ctx.report.target({ domain: d })
    noteUnderstood(ctx.report, u)
    const { match, mailHosts } = await mailTargetFor(ctx, d)
    ctx.report.target({ host: match.host.host, ip: match.address.address })
    return { domain: d, host: match.host.host, ip: match.address.address, mxHosts: mailHosts.hosts.map((h) => h.host) }
  },
  async run (ctx, plan) {
    await runTls(ctx, plan)
  }
}

async function lookupTxt (ctx: CheckContext, name: string): Promise<string[] | null> {
  try { return await ctx.dns.txt(name) } catch (err) {
    if (err instanceof DnsLookupError && err.dnsCode === 'NXDOMAIN') return []
    return null
  }
}

async function runTls (ctx: CheckContext, plan: TlsPlan): Promise<void> {
  const r = ctx.report
  const lang = ctx.lang
  const run = pool(Math.max(1, ctx.settings.parallelConnections ?? 3))

  // DNS questions go out at once, beside the probes.
  const dnssecP = ctx.dnssec && ctx.dnssec.validating
    ? Promise.all([
      ctx.dnssec.query(plan.domain, 'MX'),
      ctx.dnssec.query(plan.host, plan.ip.includes(':') ? 'AAAA' : 'A'),
      ctx.dnssec.tlsa(`_25._tcp.${plan.host}`)
    ])
    : Promise.resolve(null)
  const stsTxtP = lookupTxt(ctx, `_mta-sts.${plan.domain}`)
  const rptTxtP = lookupTxt(ctx, `_smtp._tls.${plan.domain}`)

  // Every service's handshake; a family's version probe starts as soon as its first TLS port is known.
  const versionJobs: Array<Promise<TlsVersionsFacts>> = []
  const probedOn = new Map<string, number>() // family + leaf fingerprint → port probed
  // Inside a diagnosis, a handshake the smtp or pop3 check already made is taken, not made again.
  const memo = ctx.handshakes
  const reuseWaitMs = Math.max(0, ctx.deadline - Date.now() - 5000)
  const serviceFacts = async (svc: TlsService): Promise<Probed> => {
    const seen = memo ? await memo.take(plan.ip, svc.port, reuseWaitMs) : null
    if (!seen) return await run(() => probeService(ctx, plan, svc))
    r.info(bi(lang, `ポート ${svc.port}: まとめて診断のほかのテストが確立した TLS 接続の結果を使います (接続し直しません)`, `port ${svc.port}: the TLS handshake another check of this diagnosis made is used (no new connection)`))
    const p = judgedHandshake(plan, svc, seen)
    p.facts.reused = true
    return p
  }
  const probed: Probed[] = await Promise.all(TLS_SERVICES.map((svc) => serviceFacts(svc).then((p) => {
    // A port whose handshake failed gets the hello probes too: they say why (SSLv3 or TLS 1.0 only).
    if (p.facts.state === 'tls' || p.facts.state === 'failed') {
      const key = `${family(svc)}:${p.facts.cert?.fingerprint256 ?? 'none'}`
      const first = probedOn.get(key)
      if (first === undefined) {
        probedOn.set(key, svc.port)
        versionJobs.push(probeVersions(ctx, plan, run, svc, [svc.port], p.facts.protocol))
      } else {
        p.facts.versionsFrom = first
      }
    }
    return p
  })))
  const versions = await Promise.all(versionJobs)
  for (const v of versions) {
    v.ports = probed.filter((p) => p.svc.port === v.probedOn || p.facts.versionsFrom === v.probedOn).map((p) => p.svc.port)
    for (const p of probed) if (p.svc.port === v.probedOn) p.facts.versionsFrom = v.probedOn
  }
  const [dnssec, stsTxt, rptTxt] = await Promise.all([dnssecP, stsTxtP, rptTxtP])

  // ---- DNSSEC ----
  let daneAnswer: (DnssecAnswer & { tlsa: import('../dns/wire.js').TlsaData[] }) | null = null
  if (!dnssec) {
    r.step('dnssec', 'info', bi(lang, '検証リゾルバーが設定されていないため、DNSSEC と DANE は判定していません', 'no validating resolver is configured: DNSSEC and DANE not judged'))
    r.advise('tls.dnssec_no_resolver', {})
  } else {
    const [dom, host, tlsa] = dnssec
    daneAnswer = tlsa
    const facts: DnssecFacts = {
      resolver: dom.server,
      domain: { name: dom.name, status: dom.status, reason: dom.reason ?? null },
      host: { name: host.name, status: host.status, reason: host.reason ?? null }
    }
    r.set('dnssec', facts)
    for (const [name, a] of [['dnssec', dom], ['dnssec host', host]] as const) {
      const st: StepStatus = a.status === 'bogus' ? 'fail' : a.status === 'secure' ? 'pass' : 'info'
      r.step(name === 'dnssec' ? 'dnssec' : `dnssec ${a.name}`, st, statusWords(lang, a))
      if (a.status === 'bogus') r.advise('tls.dnssec_bogus', { name: a.name, reason: a.reason ?? 'bogus' })
    }
  }

  // ---- certificates, per port ----
  const tlsPorts = probed.filter((p) => p.facts.state === 'tls')
  const p25 = probed.find((p) => p.svc.port === 25)
  let daneEeMatch = false
  let dane: DaneFacts | null = null
  if (daneAnswer && daneAnswer.status !== 'unknown') {
    const name = `_25._tcp.${plan.host}`
    if (daneAnswer.status === 'bogus') {
      r.step('dane', 'fail', bi(lang, `${name} の TLSA レコードの DNSSEC 検証に失敗しました`, `the TLSA lookup of ${name} is bogus`))
      r.advise('tls.dnssec_bogus', { name, reason: daneAnswer.reason ?? 'bogus' })
      dane = { name, status: 'bogus', records: [], matched: false, wanted: null }
    } else if (!daneAnswer.tlsa.length) {
      r.step('dane', 'info', bi(lang, `${name} に TLSA レコードはありません (DANE は使っていません)`, `no TLSA records at ${name} (DANE not in use)`))
    } else if (daneAnswer.status === 'insecure') {
      r.step('dane', 'warn', bi(lang, `${name} に TLSA レコードがありますが、DNSSEC で署名されていないため使われません`, `TLSA records at ${name}, but unsigned: senders ignore them`))
      r.advise('tls.tlsa_insecure', { name })
      dane = { name, status: 'insecure', records: [], matched: false, wanted: null }
    } else {
      const chain = p25?.facts.state === 'tls' ? p25.chain : []
      const m = matchDane(daneAnswer.tlsa, chain)
      const wanted = chain[0] ? tlsaFor(chain[0], 3, 1, 1) : null
      dane = { name, status: 'secure', records: m.records, matched: m.matched, wanted }
      const lines = m.records.map((x) => `${x.usage} ${x.selector} ${x.matchingType} ${x.data.slice(0, 16)}…: ${x.verdict === 'match' ? bi(lang, '一致', 'matches') : x.verdict === 'no_match' ? bi(lang, '不一致', 'does not match') : bi(lang, `使えない (${x.reason ?? ''})`, `unusable (${x.reason ?? ''})`)}`)
      if (m.matched) {
        daneEeMatch = m.records.some((x) => x.verdict === 'match' && x.usage === 3)
        r.step('dane', 'pass', lines.join('; '))
        if (daneEeMatch) r.advise('tls.dane_ee_ok', { name, selfSigned: p25?.facts.problems.includes('self_signed') ?? false })
      } else {
        r.step('dane', 'fail', (chain.length ? '' : bi(lang, '25 番ポートで TLS が使えません。', 'no TLS on port 25. ')) + lines.join('; '))
        r.advise('tls.dane_mismatch', { name, wanted: wanted ?? '3 1 1 …' })
      }
      const unusable = m.records.filter((x) => x.verdict === 'unusable')
      if (unusable.length) r.advise('tls.dane_unusable', { name, records: unusable.map((x) => `${x.usage} ${x.selector} ${x.matchingType}`) })
    }
  }
  r.set('dane', dane)

  const byProblem = new Map<string, number[]>()
  const note = (code: string, port: number): void => { byProblem.set(code, [...(byProblem.get(code) ?? []), port]) }
  for (const p of probed) {
    const f = p.facts
    const name = `port ${p.svc.port}`
    if (f.state === 'closed') continue
    if (f.state === 'no_starttls') {
      r.step(name, 'warn', bi(lang, `STARTTLS が使えません: ${f.detail ?? ''}`, `no STARTTLS: ${f.detail ?? ''}`), f.ms)
      r.advise('tls.no_starttls', { port: p.svc.port, reason: f.detail ?? '' })
      continue
    }
    if (f.state === 'failed') {
      r.step(name, 'fail', bi(lang, `TLS 接続に失敗しました: ${f.detail ?? ''}`, `TLS failed: ${f.detail ?? ''}`), f.ms)
      r.advise('tls.handshake_failed', { port: p.svc.port, reason: f.detail ?? '' })
      continue
    }
    const c = f.cert
    const statuses: Status[] = ['pass']
    // DANE-EE vouches for the port-25 certificate itself: no CA, name or dates asked (RFC 7672 §3.1.1).
    const vouched = p.svc.port === 25 && daneEeMatch
    for (const prob of f.problems) {
      if (vouched && prob !== 'expired') continue
      if (prob === 'expired' || prob === 'not_yet_valid') statuses.push('fail')
      else statuses.push('warn')
      note(prob, p.svc.port)
    }
    if (c && f.expiry === 'expiring' && !f.problems.includes('expired')) { statuses.push('warn'); note('expiring', p.svc.port) }
    if (c && ((c.keyType === 'rsa' && (c.keyBits ?? 0) < 2048) || (c.keyType === 'ec' && (c.keyBits ?? 0) < 224))) { statuses.push('warn'); note('weak_key', p.svc.port) }
    const parts = [
      `${f.protocol ?? '?'} ${f.cipher ?? ''}`.trim(),
      c ? `${c.subjectCN ?? c.subject}` : bi(lang, '証明書なし', 'no certificate'),
      c ? bi(lang, `鍵 ${c.keyType.toUpperCase()} ${c.keyBits ?? '?'} ビット`, `key ${c.keyType.toUpperCase()} ${c.keyBits ?? '?'} bits`) : '',
      c ? bi(lang, `残り ${c.daysLeft} 日 (有効期間 ${c.lifetimeDays} 日)`, `${c.daysLeft} of ${c.lifetimeDays} days left`) : '',
      bi(lang, `チェーン ${f.chainLength} 枚`, `${f.chainLength} certificate${f.chainLength === 1 ? '' : 's'} sent`),
      f.problems.length ? problemWords(lang, f.problems) : bi(lang, '検証できました', 'verified'),
      vouched ? bi(lang, 'DANE-EE で信頼', 'vouched for by DANE-EE') : ''
    ].filter(Boolean)
    r.step(name, worst(...statuses), parts.join(lang === 'ja' ? '、' : '; '), f.ms)
  }
  const leafOf = (port: number): TlsServiceFacts['cert'] => probed.find((p) => p.svc.port === port)?.facts.cert ?? null
  const first = (ports: number[]) => leafOf(ports[0])!
  for (const [prob, ports] of byProblem) {
    const c = first(ports)
    switch (prob) {
      case 'missing_intermediate': r.advise('tls.cert_missing_intermediate', { ports, host: plan.host }); break
      case 'incomplete_chain': r.advise('tls.cert_incomplete_chain', { ports }); break
      case 'self_signed': r.advise('tls.cert_self_signed', { ports, subject: c.subjectCN ?? c.subject, host: plan.host }); break
      case 'untrusted_root': r.advise('tls.cert_untrusted_root', { ports, root: c.issuer, host: plan.host }); break
      case 'expired': r.advise('tls.cert_expired', { ports, validTo: c.validTo }); break
      case 'not_yet_valid': r.advise('tls.cert_not_yet_valid', { ports, validFrom: c.validFrom }); break
      case 'wrong_name': r.advise('tls.cert_name_mismatch', { ports, host: plan.host, names: c.san.length ? c.san.map((n) => n.replace(/^DNS:/, '')) : [c.subjectCN ?? c.subject] }); break
      case 'expiring': r.advise('tls.cert_expiring', { ports, days: c.daysLeft, lifetime: c.lifetimeDays, validTo: c.validTo }); break
      case 'weak_key': r.advise('tls.weak_key', { ports, keyType: c.keyType.toUpperCase(), bits: c.keyBits }); break
      case 'bad_signature': r.advise('tls.cert_incomplete_chain', { ports }); break
    }
  }

  // ---- the same certificate everywhere? ----
  const distinct = new Map<string, Probed[]>()
  for (const p of tlsPorts) if (p.facts.cert) distinct.set(p.facts.cert.fingerprint256, [...(distinct.get(p.facts.cert.fingerprint256) ?? []), p])
  if (distinct.size > 1) {
    const groups = [...distinct.values()].sort((a, b) => b[0].facts.cert!.validFrom.localeCompare(a[0].facts.cert!.validFrom))
    const newest = groups[0]
    const olderPorts = groups.slice(1).flat()
    const sameName = olderPorts.every((p) => p.chain[0]?.checkHost(plan.host) !== undefined) && newest[0].chain[0]?.checkHost(plan.host) !== undefined
    const text = groups.map((g) => `${g.map((p) => p.svc.port).join('/')}: ${g[0].facts.cert!.fingerprint256.slice(0, 14)}… (${g[0].facts.cert!.validTo.slice(0, 10)})`)
    if (sameName) {
      const daemon = olderPorts.every((p) => p.svc.proto !== 'smtp') ? 'dovecot' : 'postfix'
      r.step('certificates', 'warn', bi(lang, `ポートによって証明書が違います: ${text.join('、')}`, `the ports do not serve the same certificate: ${text.join('; ')}`))
      r.advise('tls.cert_differs', { older: olderPorts.map((p) => p.svc.port), newer: newest.map((p) => p.svc.port), olderUntil: olderPorts[0].facts.cert!.validTo, newerUntil: newest[0].facts.cert!.validTo, daemon })
    } else {
      r.step('certificates', 'info', bi(lang, `ポートによって証明書が違います: ${text.join('、')}`, `the ports serve different certificates: ${text.join('; ')}`))
      r.advise('tls.cert_different_names', { groups: text, host: plan.host })
    }
  } else if (tlsPorts.length > 1) {
    r.step('certificates', 'pass', bi(lang, `${tlsPorts.map((p) => p.svc.port).join('、')} 番ポートはすべて同じ証明書です`, `ports ${tlsPorts.map((p) => p.svc.port).join(', ')} serve the same certificate`))
  }

  // ---- versions and ciphers ----
  for (const v of versions) {
    const st: Status[] = ['pass']
    const words: string[] = []
    if (v.sslv3) { st.push('fail'); words.push(bi(lang, 'SSLv3 を受け付けます', 'accepts SSLv3')); r.advise('tls.sslv3', { ports: v.ports }) }
    if (v.legacy && v.legacy !== 'SSLv3') { st.push('warn'); words.push(bi(lang, `${v.legacy} を受け付けます`, `accepts ${v.legacy}`)); r.advise('tls.legacy_versions', { ports: v.ports, version: v.legacy }) }
    if (v.weakCipher) { st.push('warn'); words.push(bi(lang, `弱い暗号 ${v.weakCipher.name} を受け付けます`, `accepts the weak cipher ${v.weakCipher.name}`)); r.advise('tls.weak_cipher', { ports: v.ports, cipher: v.weakCipher.name, kind: v.weakCipher.kind }) }
    if (!words.length) words.push(v.sslv3 === null ? bi(lang, 'TLS 1.2 以上のみ (古い方式の確認は一部できませんでした)', 'TLS 1.2 and newer only (the check of old versions was partly inconclusive)') : bi(lang, 'TLS 1.2 以上のみ、弱い暗号なし', 'TLS 1.2 and newer only, no weak ciphers'))
    const others = v.ports.filter((x) => x !== v.probedOn)
    const scope = others.length ? bi(lang, ` (ポート ${v.probedOn} で確認し、同じ証明書の ${others.join('、')} も同じと判断)`, ` (probed on port ${v.probedOn}, the same for ${others.join(', ')}: same server software and certificate)`) : ''
    r.step(`versions ${v.ports.join('/')}`, worst(...st), words.join(lang === 'ja' ? '、' : '; ') + scope)
  }

  // ---- MTA-STS ----
  const mtaSts: MtaStsFacts = { record: null, fetched: false, url: `https://mta-sts.${plan.domain}${POLICY_PATH}`, ip: null, status: null, location: null, certificateValid: null, problem: null, mode: null, mx: [], maxAge: null, policyProblems: [], hosts: [] }
  const rec = stsTxt === null ? null : parseStsRecord(stsTxt)
  if (stsTxt === null) {
    r.step('mta-sts', 'info', bi(lang, `_mta-sts.${plan.domain} を DNS で引けませんでした`, `_mta-sts.${plan.domain} could not be looked up`))
  } else if (!rec) {
    r.step('mta-sts', 'info', bi(lang, 'MTA-STS は公開されていません', 'no MTA-STS record'))
  } else {
    mtaSts.record = rec
    if (!rec.valid) {
      r.step('mta-sts', 'warn', rec.problem ?? '')
      r.advise('tls.mta_sts_record_bad', { problem: rec.problem })
    } else {
      await judgeMtaSts(ctx, plan, mtaSts, p25?.verdict ?? null, p25?.facts.state === 'tls')
    }
  }
  r.set('mtaSts', mtaSts)

  // ---- TLS-RPT ----
  const rpt = rptTxt === null ? null : parseTlsRpt(rptTxt)
  const tlsRpt: TlsRptFacts | null = rpt
  if (!rpt) {
    r.step('tls-rpt', 'info', bi(lang, 'TLS-RPT は公開されていません', 'no TLS-RPT record'))
    const what = [mtaSts.record ? 'MTA-STS' : '', dane?.status === 'secure' && dane.records.length ? 'DANE' : ''].filter(Boolean)
    if (what.length) r.advise('tls.tlsrpt_missing', { what: what.join(' / '), domain: plan.domain })
  } else if (!rpt.valid) {
    r.step('tls-rpt', 'warn', rpt.problems.join('; '))
    r.advise('tls.tlsrpt_bad', { problems: rpt.problems, domain: plan.domain })
  } else {
    r.step('tls-rpt', 'pass', bi(lang, `レポートの送り先: ${rpt.rua.join('、')}`, `reports go to ${rpt.rua.join(', ')}`))
  }
  r.set('tlsRpt', tlsRpt)

  r.set('services', probed.map((p) => p.facts))
  r.set('versions', versions)
  if (!tlsPorts.length && !probed.some((p) => p.facts.state === 'failed' || p.facts.state === 'no_starttls')) {
    r.step('services', 'fail', bi(lang, `${plan.ip} のどのポートでも TLS が使えませんでした (25、465、587、993、995、143、110)`, `no TLS service answered on ${plan.ip} (25, 465, 587, 993, 995, 143, 110)`))
  }
  const status = r.verdict()
  const n = tlsPorts.length
  r.finish(status === 'pass'
    ? bi(lang, `${plan.host}: ${n} 個の TLS サービスに問題はありません`, `${plan.host}: ${n} TLS service${n === 1 ? '' : 's'}, no problems`)
    : status === 'warn'
      ? bi(lang, `${plan.host}: TLS は使えますが、直したほうがよい点があります`, `${plan.host}: TLS works, with points to fix`)
      : bi(lang, `${plan.host}: 送信側から見て問題があります`, `${plan.host}: senders will have trouble with this server`))
}

async function judgeMtaSts (ctx: CheckContext, plan: TlsPlan, m: MtaStsFacts, v25: ChainVerdict | null, tls25: boolean): Promise<void> {
  const r = ctx.report
  const lang = ctx.lang
  const policyHost = `mta-sts.${plan.domain}`
  let ip: string | null = null
  let refused: string[] = []
  try {
    const addrs = await ctx.dns.addresses(policyHost)
    const ok = addrs.filter((a) => ctx.connector.addressVerdict(a.address).ok)
    refused = addrs.filter((a) => !ctx.connector.addressVerdict(a.address).ok).map((a) => a.address)
    ip = ok[0]?.address ?? null
  } catch (err) {
    m.problem = err instanceof DnsLookupError ? `${policyHost}: ${err.dnsCode}` : String(err)
  }
  if (!ip) {
    m.problem ??= refused.length ? bi(lang, `${policyHost} のアドレス (${refused.join(', ')}) はインターネットから届かない範囲です`, `${policyHost} has only non-public addresses (${refused.join(', ')})`) : bi(lang, `${policyHost} にアドレスがありません`, `${policyHost} has no address`)
    r.step('mta-sts', 'warn', m.problem)
    r.advise('tls.mta_sts_fetch_failed', { url: m.url, problem: m.problem, domain: plan.domain })
    return
  }
  m.ip = ip
  const f = await fetchPolicy({ connector: ctx.connector, callerIp: ctx.callerIp, checkId: ctx.id, report: r, deadline: ctx.deadline }, plan.domain, ip)
  m.status = f.status
  m.location = f.location
  m.certificateValid = f.certificate ? f.certificate.trusted && f.certificate.nameMatches : null
  if (f.problem === 'redirect') {
    m.problem = `HTTP ${f.status} → ${f.location}`
    r.step('mta-sts', 'warn', bi(lang, `ポリシーの URL がリダイレクトを返しました (${m.problem})。リダイレクトはたどりません`, `the policy URL answers with a redirect (${m.problem}); redirects are not followed`))
    r.advise('tls.mta_sts_redirect', { url: m.url, status: f.status, location: f.location })
    return
  }
  if (!f.ok || !f.body) {
    m.problem = f.problem
    r.step('mta-sts', 'warn', bi(lang, `ポリシーを取得できませんでした: ${f.problem ?? ''}`, `the policy could not be fetched: ${f.problem ?? ''}`))
    r.advise('tls.mta_sts_fetch_failed', { url: m.url, problem: f.problem, domain: plan.domain })
    return
  }
  if (!m.certificateValid) {
    const why = f.certificate ? problemWords(lang, f.certificate.problems) : bi(lang, '証明書なし', 'no certificate')
    m.problem = why
    r.step('mta-sts', 'warn', bi(lang, `${policyHost} の証明書が有効ではないため、送信側はこのポリシーを使いません (${why})`, `the certificate of ${policyHost} is not valid, so senders will not use the policy (${why})`))
    r.advise('tls.mta_sts_fetch_failed', { url: m.url, problem: why, domain: plan.domain })
    return
  }
  m.fetched = true
  const pol = parsePolicy(f.body)
  m.mode = pol.mode
  m.mx = pol.mx.slice(0, 20)
  m.maxAge = pol.maxAge
  m.policyProblems = pol.problems
  m.hosts = plan.mxHosts.map((h) => ({ host: h, matches: pol.mx.some((p) => mxMatches(h, p)) }))
  const statuses: Status[] = ['pass']
  const words = [bi(lang, `モード ${pol.mode ?? '?'}、mx ${pol.mx.join(' ') || 'なし'}、max_age ${pol.maxAge ?? '?'} 秒`, `mode ${pol.mode ?? '?'}, mx ${pol.mx.join(' ') || 'none'}, max_age ${pol.maxAge ?? '?'} s`)]
  if (pol.problems.length) { statuses.push('warn'); r.advise('tls.mta_sts_policy_bad', { problems: pol.problems }) }
  if (pol.mode === 'enforce' || pol.mode === 'testing') {
    const enforce = pol.mode === 'enforce'
    for (const h of m.hosts.filter((x) => !x.matches)) {
      statuses.push(enforce ? 'fail' : 'warn')
      words.push(bi(lang, `${h.host} はどの mx 行にも一致しません`, `${h.host} matches no mx line`))
      r.advise('tls.mta_sts_mx_unmatched', { host: h.host, patterns: pol.mx })
    }
    const valid = tls25 && v25 !== null && v25.trusted && v25.nameMatches
    if (!valid) {
      const why = !tls25 ? bi(lang, '25 番ポートで TLS が使えない', 'no TLS on port 25') : problemWords(lang, v25?.problems ?? [])
      statuses.push(enforce ? 'fail' : 'warn')
      words.push(bi(lang, `${plan.host} の 25 番ポートの証明書がポリシーを満たしません (${why})`, `the port-25 certificate of ${plan.host} fails the policy (${why})`))
      r.advise(enforce ? 'tls.mta_sts_enforce_broken' : 'tls.mta_sts_testing_broken', { host: plan.host, why })
    }
  }
  r.step('mta-sts', worst(...statuses), words.join(lang === 'ja' ? '。' : '; '))
}
