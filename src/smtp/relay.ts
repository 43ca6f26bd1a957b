// The open-relay battery: which envelopes to try, and how to run a list of
// envelopes against one server quickly without being punished for it.
//
// The vectors are a superset of nmap's smtp-open-relay (its 16 tests, each
// marked `nmap: true`) plus the classic relay testers' forms: sender
// spoofing (own domain, MX host, localhost, no domain, IP literal, null
// sender) and recipient tricks (% hack, @…@, quoted local parts, source
// routes, UUCP bang paths, domain literals, case and trailing-dot
// variants). Every recipient ends at the outside domain, so a 2xx at RCPT
// means the server agreed to carry mail to a domain that is not its own.
//
// Never DATA: the SMTP client has no DATA command at all; each attempt is
// MAIL + RCPT + RSET and the session ends with QUIT.
//
// Politeness and speed: real MTAs penalise clients that collect errors
// (Postfix counts every 4xx/5xx reply; above smtpd_soft_error_limit = 10 it
// sleeps smtpd_error_sleep_time = 1 s before each reply, at
// smtpd_hard_error_limit = 20 it disconnects). nmap runs its 16 tests on
// one connection and pays those sleeps. We open a fresh connection before
// a session could reach that limit (at most `errorBudget` errors each,
// default 8), one connection at a time, pipelining MAIL/RCPT/RSET when
// the server advertises PIPELINING.
import { SmtpClient, probePath, type ProbePath } from './client.js'
import { replyHeadline, type Reply } from './reply.js'
import { ProbeError } from '../errors.js'
import type { CheckContext } from '../checks/context.js'

export interface Envelope {
  id: string
  /** '' is the null reverse-path <> */
  mailFrom: string
  rcptTo: string
  /** also one of nmap's 16 tests */
  nmap?: boolean
  /** the recipient is an address trick rather than a plain outside address */
  trick?: boolean
  /** what the vector tries, for the report */
  note: string
}

export interface RelayTargets {
  /** the domain under test (validated, A-label) */
  domain: string
  /** its MX host name as DNS gives it */
  host: string
  /** the caller's IP (the MX address) */
  ip: string
  /** the outside domain that must never be relayed to (RELAY_PROBE_DOMAIN) */
  outside: string
}

/** RFC 5321 §4.1.3 address literal: [1.2.3.4] or [IPv6:…]. */
export function addressLiteral (ip: string): string {
  return ip.includes(':') ? `[IPv6:${ip}]` : `[${ip}]`
}

export function relayVectors (t: RelayTargets): Envelope[] {
  const O = t.outside
  const D = t.domain
  const H = t.host.replace(/\.$/, '')
  const L = addressLiteral(t.ip)
  const u = 'mxprobe-relaytest'
  const f = 'mxprobe-relay'
  const R = `${u}@${O}`
  const v: Envelope[] = [
    // Spoofed senders, plain outside recipient.
    { id: 'external-sender', mailFrom: `${f}@${O}`, rcptTo: R, nmap: true, note: 'outside sender to outside recipient: the basic open relay' },
    { id: 'null-sender', mailFrom: '', rcptTo: R, nmap: true, note: 'null sender <> (bounce) to an outside recipient' },
    { id: 'own-domain-sender', mailFrom: `${f}@${D}`, rcptTo: R, note: 'sender forged in your own domain' },
    { id: 'mx-host-sender', mailFrom: `${f}@${H}`, rcptTo: R, nmap: true, note: 'sender forged at your MX host name' },
    { id: 'localhost-sender', mailFrom: `${f}@localhost`, rcptTo: R, note: 'sender at localhost' },
    { id: 'no-domain-sender', mailFrom: f, rcptTo: R, note: 'sender without a domain (the server may append its own)' },
    { id: 'ip-literal-sender', mailFrom: `${f}@${L}`, rcptTo: R, nmap: true, note: 'sender at your IP address literal' },
    // Recipient tricks: % hack.
    { id: 'percent-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `${u}%${O}@${L}`, nmap: true, trick: true, note: '% hack via your IP literal' },
    { id: 'percent-mx-host', mailFrom: `${f}@${L}`, rcptTo: `${u}%${O}@${H}`, nmap: true, trick: true, note: '% hack via your MX host name' },
    { id: 'percent-domain', mailFrom: `${f}@${D}`, rcptTo: `${u}%${O}@${D}`, trick: true, note: '% hack via your domain' },
    // Quoted local parts.
    { id: 'quoted-outside', mailFrom: `${f}@${L}`, rcptTo: `"${u}@${O}"`, nmap: true, trick: true, note: 'quoted outside address without a domain' },
    { id: 'quoted-percent', mailFrom: `${f}@${L}`, rcptTo: `"${u}%${O}"`, nmap: true, trick: true, note: 'quoted % address without a domain' },
    { id: 'quoted-at-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `"${u}@${O}"@${L}`, nmap: true, trick: true, note: 'quoted outside address at your IP literal' },
    { id: 'quoted-at-domain', mailFrom: `${f}@${D}`, rcptTo: `"${u}@${O}"@${D}`, trick: true, note: 'quoted outside address at your domain' },
    // Double @.
    { id: 'double-at-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `${u}@${O}@${L}`, nmap: true, trick: true, note: 'user@outside@[your IP]' },
    { id: 'double-at-mx-host', mailFrom: `${f}@${L}`, rcptTo: `${u}@${O}@${H}`, nmap: true, trick: true, note: 'user@outside@your-mx-host' },
    { id: 'double-at-domain', mailFrom: `${f}@${D}`, rcptTo: `${u}@${O}@${D}`, trick: true, note: 'user@outside@your-domain' },
    // Source routes (RFC 5321 §4.1.1.3: to be ignored, but old servers honour them).
    { id: 'source-route-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `@${L}:${u}@${O}`, nmap: true, trick: true, note: 'source route through your IP literal' },
    { id: 'source-route-mx-host', mailFrom: `${f}@${L}`, rcptTo: `@${H}:${u}@${O}`, nmap: true, trick: true, note: 'source route through your MX host' },
    { id: 'source-route-domain', mailFrom: `${f}@${D}`, rcptTo: `@${D}:${u}@${O}`, trick: true, note: 'source route through your domain' },
    // UUCP bang paths.
    { id: 'bang-path', mailFrom: `${f}@${L}`, rcptTo: `${O}!${u}`, nmap: true, trick: true, note: 'outside!user bang path' },
    { id: 'bang-path-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `${O}!${u}@${L}`, nmap: true, trick: true, note: 'outside!user at your IP literal' },
    { id: 'bang-path-mx-host', mailFrom: `${f}@${L}`, rcptTo: `${O}!${u}@${H}`, nmap: true, trick: true, note: 'outside!user at your MX host' },
    { id: 'bang-path-domain', mailFrom: `${f}@${D}`, rcptTo: `${O}!${u}@${D}`, trick: true, note: 'outside!user at your domain' },
    // Spelling variants of the outside domain that naive string comparisons miss.
    { id: 'upper-case-outside', mailFrom: `${f}@${D}`, rcptTo: `${u.toUpperCase()}@${O.toUpperCase()}`, trick: true, note: 'outside recipient in upper case' },
    { id: 'trailing-dot-outside', mailFrom: `${f}@${D}`, rcptTo: `${u}@${O}.`, trick: true, note: 'outside domain with a trailing dot' },
    { id: 'mixed-case-trailing-dot', mailFrom: `${f}@${O}`, rcptTo: `${u}@${mixCase(O)}.`, trick: true, note: 'outside domain in mixed case with a trailing dot' }
  ]
  return v
}

function mixCase (s: string): string {
  return s.split('').map((c, i) => i % 2 ? c.toUpperCase() : c.toLowerCase()).join('')
}

export interface EnvelopeResult {
  id: string
  mailFrom: string
  rcptTo: string
  /** RCPT answered 2xx */
  accepted: boolean
  /** the deciding reply (RCPT, or MAIL when MAIL was refused), or why it was not run */
  reply: string | null
  code: number | null
  /** where the envelope was decided */
  stage: 'mail' | 'rcpt' | 'not_run'
  /** 1-based connection number the attempt ran on */
  connection: number
}

export interface BatteryOutcome {
  results: EnvelopeResult[]
  banner: string | null
  pipelining: boolean
  connections: number
  /** a 530 (authentication / TLS required) stopped the battery */
  authRequired: string | null
  /** the time budget ran out before every envelope was tried (why) */
  stoppedEarly: string | null
  /** the battery ran over STARTTLS because the server demanded it */
  tls: boolean
  ms: number
}

export interface BatteryOptions {
  servername?: string
  /** most error replies on one connection before a fresh one is opened */
  errorBudget?: number
  /** each result as soon as it is known (live progress) */
  onResult?: (r: EnvelopeResult) => void
  /**
   * ms after which no new envelope is started. An open relay that slows
   * down accepted mail (Postfix in_flow_delay: 1 s per message once its
   * flow-control tokens run out) would otherwise eat the check's deadline;
   * what was found by then is reported, the rest marked not run.
   */
  budgetMs?: number
}

const isErr = (r: Reply | null): boolean => !!r && r.code >= 400

/**
 * Runs the envelopes in order, one connection at a time, reconnecting
 * before the error budget is spent and once after a dropped connection.
 * Throws a ProbeError when the server cannot be talked to at all.
 */
export async function runEnvelopes (ctx: CheckContext, ip: string, envelopes: Envelope[], o: BatteryOptions = {}): Promise<BatteryOutcome> {
  const budget = o.errorBudget ?? 8
  const t0 = Date.now()
  const results: EnvelopeResult[] = []
  let client: SmtpClient | null = null
  let errors = 0
  let connections = 0
  let banner: string | null = null
  let pipelining = false
  let authRequired: string | null = null
  let stoppedEarly: string | null = null
  let useTls = false
  const stopAt = t0 + (o.budgetMs ?? Math.max(1000, (ctx.deadline - t0) * 0.6))

  const open = async (): Promise<SmtpClient> => {
    const c = await SmtpClient.open(ctx, ip, { servername: o.servername })
    connections++
    errors = 0
    const b = c.banner!
    banner ??= replyHeadline(b)
    if (b.code !== 220) {
      c.close()
      throw new ProbeError('protocol', `the server greeted with "${replyHeadline(b)}" instead of 220`, 25)
    }
    const e = await c.ehlo()
    if (e.code !== 250) {
      await c.quit()
      throw new ProbeError('protocol', `the server refused EHLO and HELO: ${replyHeadline(e)}`, 25)
    }
    if (useTls) {
      // RFC 3207 servers that insist on TLS first ("530 Must issue a STARTTLS command first").
      const st = await c.startTls()
      if (!st.tls) {
        await c.quit()
        throw new ProbeError('tls', `the server demanded STARTTLS but refused it: ${replyHeadline(st.reply)}`, 25)
      }
    }
    pipelining = c.supports('PIPELINING')
    return c
  }

  const path = (s: string): ProbePath | null => s === '' ? null : probePath(s)

  try {
    for (let i = 0; i < envelopes.length; i++) {
      const env = envelopes[i]
      if (!authRequired && !stoppedEarly && Date.now() > stopAt) {
        const found = results.filter((x) => x.accepted).length
        stoppedEarly = `time budget of ${Math.round(stopAt - t0)} ms used up after ${i} of ${envelopes.length} attempts` + (found ? ` (${found} already accepted; the server slows down accepted mail)` : '')
        ctx.report.line('I', `stopped: ${stoppedEarly}`)
      }
      if (authRequired || stoppedEarly) {
        results.push({ id: env.id, mailFrom: env.mailFrom, rcptTo: env.rcptTo, accepted: false, reply: `not run: ${authRequired ?? stoppedEarly}`, code: null, stage: 'not_run', connection: connections })
        continue
      }
      // An envelope costs at most two errors (MAIL refused, then RCPT "503 need MAIL"): reconnect before the budget runs out.
      if (client && errors + 2 > budget) {
        await client.quit()
        client = null
      }
      let batch: Awaited<ReturnType<SmtpClient['envelopeBatch']>> | null = null
      for (let attempt = 0; attempt < 2 && !batch; attempt++) {
        client ??= await open()
        try {
          batch = await client.envelopeBatch(path(env.mailFrom), [path(env.rcptTo)!])
        } catch (err) {
          // A server that hangs up mid-battery (its own error limit, a restart) gets one fresh connection.
          if (attempt === 0 && err instanceof ProbeError && err.kind === 'closed') {
            client.close()
            client = null
            continue
          }
          throw err
        }
      }
      const { mail, rcpts, rset } = batch!
      const rcpt = rcpts[0]
      errors += [mail, rcpt, rset].filter(isErr).length
      const mailRefused = mail.code >= 400
      const decisive = mailRefused ? mail : rcpt!
      const res: EnvelopeResult = {
        id: env.id,
        mailFrom: env.mailFrom,
        rcptTo: env.rcptTo,
        accepted: !mailRefused && !!rcpt && rcpt.code >= 200 && rcpt.code < 300,
        reply: replyHeadline(decisive),
        code: decisive.code,
        stage: mailRefused ? 'mail' : 'rcpt',
        connection: connections
      }
      if (decisive.code === 530 && !useTls && client!.supports('STARTTLS') && /STARTTLS|\bTLS\b/i.test(replyHeadline(decisive))) {
        // Not an authentication demand but a TLS one: run this and every later attempt over STARTTLS.
        ctx.report.line('I', 'the server requires STARTTLS before MAIL; continuing over TLS')
        useTls = true
        await client!.quit()
        client = null
        i--
        continue
      }
      results.push(res)
      o.onResult?.(res)
      if (decisive.code === 530) authRequired = replyHeadline(decisive)
    }
  } finally {
    if (client) await client.quit()
  }
  return { results, banner, pipelining, connections, authRequired, stoppedEarly, tls: useTls, ms: Date.now() - t0 }
}
