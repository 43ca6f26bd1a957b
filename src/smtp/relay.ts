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
// Never DATA: a relay probe sends no message. The client's one DATA lives in
// sendMessage() (the send test's reply leg), which this file never calls;
// its pipelined flights cannot carry DATA. Each attempt is MAIL + RCPT +
// RSET and the session ends with QUIT.
//
// Politeness and speed: real MTAs penalise clients that collect errors.
// Postfix counts every 4xx/5xx reply (above smtpd_soft_error_limit = 10 it
// sleeps 1 s before each reply, at smtpd_hard_error_limit = 20 it hangs
// up); Exim counts only syntax and protocol errors (500/501/503…) and
// drops the connection after smtp_max_synprot_errors = 3. nmap runs its 16
// tests on one connection and pays for it. The battery is a scheduler
// (runEnvelopes below):
// - up to PARALLEL (3) connections at once, each with the vectors it claimed
//   before it was opened (3 = the default per-caller concurrency: one
//   relay check never holds more sockets than a caller may run checks);
// - senders first: a pipelined flight of MAIL <sender> + RSET for each
//   sender form not yet known, so that no RCPT is ever pipelined behind a
//   MAIL that may be refused (that RCPT would draw a "503 need MAIL" that
//   costs one more protocol error); what is learnt is shared by all
//   connections;
// - then the vectors in pipelined flights of MAIL+RCPT+RSET, each flight
//   sized to what is left of the connection's error budget; QUIT rides
//   with the last flight and its reply is not awaited;
// - a vector whose own sender was refused: a sender-spoof vector is
//   decided there (refused at MAIL); a recipient trick is retried with a
//   sender the server accepted (`retriedWith`), or reported untested;
// - learning: a server that says it is Exim, or that dropped a connection
//   after syntax/protocol errors (500/501/503), is "strict": its
//   connections take at most `synBudget` such risks and 9 RSETs; any
//   connection that is dropped teaches a smaller budget, its unanswered
//   vectors go back to the queue for the next connection;
// - without PIPELINING: the same, one command at a time, vectors that
//   share a sender in one transaction (MAIL, RCPT, RCPT …): a refused RCPT
//   leaves the transaction open, so the next RCPT needs no RSET and no new
//   MAIL; RSET comes only before a MAIL with another sender, or after an
//   accepted RCPT (the next vector gets a transaction with no recipient in
//   it), and never before QUIT;
// - stop once the verdict is decided, as a careful human would: when a plain
//   vector (no address trick: the outside recipient as it is) is accepted,
//   the server relays anything, and the address tricks cannot change that
//   verdict. The plain vectors come first on every connection, no vector is
//   started after that, and the rest are reported `not_tried` (not refused,
//   not untested). A closed server never triggers this: it gets all of them.
// Never DATA.
import { SmtpClient, probePath, type ProbePath, type FlightCommand, type TranscriptSink } from './client.js'
import { replyHeadline, type Reply } from './reply.js'
import { ProbeError } from '../errors.js'
import { bi } from '../i18n/index.js'
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
  /** the same in Japanese */
  noteJa: string
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
    { id: 'external-sender', mailFrom: `${f}@${O}`, rcptTo: R, nmap: true, note: 'outside sender to outside recipient: the basic open relay', noteJa: '外部の差出人から外部の宛先へ: 基本的な第三者中継' },
    { id: 'null-sender', mailFrom: '', rcptTo: R, nmap: true, note: 'null sender <> (bounce) to an outside recipient', noteJa: '空の差出人 <> (エラーメール) から外部の宛先へ' },
    { id: 'own-domain-sender', mailFrom: `${f}@${D}`, rcptTo: R, note: 'sender forged in your own domain', noteJa: 'あなたのドメインを詐称した差出人' },
    { id: 'mx-host-sender', mailFrom: `${f}@${H}`, rcptTo: R, nmap: true, note: 'sender forged at your MX host name', noteJa: 'MX ホスト名を詐称した差出人' },
    { id: 'localhost-sender', mailFrom: `${f}@localhost`, rcptTo: R, note: 'sender at localhost', noteJa: 'localhost の差出人' },
    { id: 'no-domain-sender', mailFrom: f, rcptTo: R, note: 'sender without a domain (the server may append its own)', noteJa: 'ドメインのない差出人 (サーバーが自分のドメインを補うことがあります)' },
    { id: 'ip-literal-sender', mailFrom: `${f}@${L}`, rcptTo: R, nmap: true, note: 'sender at your IP address literal', noteJa: 'IP アドレス表記 ([IP]) の差出人' },
    // Recipient tricks: % hack.
    { id: 'percent-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `${u}%${O}@${L}`, nmap: true, trick: true, note: '% hack via your IP literal', noteJa: 'IP アドレス表記経由の % ハック' },
    { id: 'percent-mx-host', mailFrom: `${f}@${L}`, rcptTo: `${u}%${O}@${H}`, nmap: true, trick: true, note: '% hack via your MX host name', noteJa: 'MX ホスト名経由の % ハック' },
    { id: 'percent-domain', mailFrom: `${f}@${D}`, rcptTo: `${u}%${O}@${D}`, trick: true, note: '% hack via your domain', noteJa: 'あなたのドメイン経由の % ハック' },
    // Quoted local parts.
    { id: 'quoted-outside', mailFrom: `${f}@${L}`, rcptTo: `"${u}@${O}"`, nmap: true, trick: true, note: 'quoted outside address without a domain', noteJa: '引用符で囲んだ外部アドレス (ドメインなし)' },
    { id: 'quoted-percent', mailFrom: `${f}@${L}`, rcptTo: `"${u}%${O}"`, nmap: true, trick: true, note: 'quoted % address without a domain', noteJa: '引用符で囲んだ % アドレス (ドメインなし)' },
    { id: 'quoted-at-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `"${u}@${O}"@${L}`, nmap: true, trick: true, note: 'quoted outside address at your IP literal', noteJa: 'IP アドレス表記宛ての、引用符で囲んだ外部アドレス' },
    { id: 'quoted-at-domain', mailFrom: `${f}@${D}`, rcptTo: `"${u}@${O}"@${D}`, trick: true, note: 'quoted outside address at your domain', noteJa: 'あなたのドメイン宛ての、引用符で囲んだ外部アドレス' },
    // Double @.
    { id: 'double-at-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `${u}@${O}@${L}`, nmap: true, trick: true, note: 'user@outside@[your IP]', noteJa: 'user@外部@[あなたの IP] (@ が二つ)' },
    { id: 'double-at-mx-host', mailFrom: `${f}@${L}`, rcptTo: `${u}@${O}@${H}`, nmap: true, trick: true, note: 'user@outside@your-mx-host', noteJa: 'user@外部@MX ホスト (@ が二つ)' },
    { id: 'double-at-domain', mailFrom: `${f}@${D}`, rcptTo: `${u}@${O}@${D}`, trick: true, note: 'user@outside@your-domain', noteJa: 'user@外部@あなたのドメイン (@ が二つ)' },
    // Source routes (RFC 5321 §4.1.1.3: to be ignored, but old servers honour them).
    { id: 'source-route-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `@${L}:${u}@${O}`, nmap: true, trick: true, note: 'source route through your IP literal', noteJa: 'IP アドレス表記を経由するソースルート' },
    { id: 'source-route-mx-host', mailFrom: `${f}@${L}`, rcptTo: `@${H}:${u}@${O}`, nmap: true, trick: true, note: 'source route through your MX host', noteJa: 'MX ホストを経由するソースルート' },
    { id: 'source-route-domain', mailFrom: `${f}@${D}`, rcptTo: `@${D}:${u}@${O}`, trick: true, note: 'source route through your domain', noteJa: 'あなたのドメインを経由するソースルート' },
    // UUCP bang paths.
    { id: 'bang-path', mailFrom: `${f}@${L}`, rcptTo: `${O}!${u}`, nmap: true, trick: true, note: 'outside!user bang path', noteJa: '外部!user の UUCP 形式 (bang path)' },
    { id: 'bang-path-ip-literal', mailFrom: `${f}@${L}`, rcptTo: `${O}!${u}@${L}`, nmap: true, trick: true, note: 'outside!user at your IP literal', noteJa: 'IP アドレス表記宛ての 外部!user' },
    { id: 'bang-path-mx-host', mailFrom: `${f}@${L}`, rcptTo: `${O}!${u}@${H}`, nmap: true, trick: true, note: 'outside!user at your MX host', noteJa: 'MX ホスト宛ての 外部!user' },
    { id: 'bang-path-domain', mailFrom: `${f}@${D}`, rcptTo: `${O}!${u}@${D}`, trick: true, note: 'outside!user at your domain', noteJa: 'あなたのドメイン宛ての 外部!user' },
    // Spelling variants of the outside domain that naive string comparisons miss.
    { id: 'upper-case-outside', mailFrom: `${f}@${D}`, rcptTo: `${u.toUpperCase()}@${O.toUpperCase()}`, trick: true, note: 'outside recipient in upper case', noteJa: '大文字で書いた外部の宛先' },
    { id: 'trailing-dot-outside', mailFrom: `${f}@${D}`, rcptTo: `${u}@${O}.`, trick: true, note: 'outside domain with a trailing dot', noteJa: '末尾にドットを付けた外部ドメイン' },
    { id: 'mixed-case-trailing-dot', mailFrom: `${f}@${O}`, rcptTo: `${u}@${mixCase(O)}.`, trick: true, note: 'outside domain in mixed case with a trailing dot', noteJa: '大文字小文字を混ぜ、末尾にドットを付けた外部ドメイン' }
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
  /**
   * where the envelope was decided; 'not_run': the battery stopped before it
   * (authentication demanded, time budget, the server failed); 'not_tried':
   * not needed, a plain vector had already been accepted (`relaysPlain`)
   */
  stage: 'mail' | 'rcpt' | 'not_run' | 'not_tried'
  /** 1-based connection number the attempt ran on */
  connection: number
  /**
   * the server really judged this vector: its RCPT form was put to the
   * server, or (for a sender-spoof vector) its sender was refused
   */
  tested: boolean
  /** the vector's own sender was refused; its recipient was tried with this sender instead ('' = <>) */
  retriedWith?: string
  /** the refusal of the vector's own sender, when it was retried or left untested */
  senderReply?: string
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
  /** a plain vector (no address trick) was accepted: its id; the vectors not started by then are 'not_tried' */
  relaysPlain: string | null
  /** vectors not tried because relaysPlain had decided the verdict */
  notTried: number
  /** the battery ran over STARTTLS because the server demanded it */
  tls: boolean
  ms: number
  /** round trips on the longest chain of waits (connections run side by side) */
  roundTrips: number
  /** round trips each connection waited for (connect + greeting, EHLO, each flight; QUIT is not awaited) */
  connectionTrips: number[]
  /** connections open at the same time at most */
  parallel: number
  /** connections the server closed on us */
  drops: number
  /** the server counts syntax/protocol errors (Exim-like): budget used per connection */
  strict: boolean
  /** error replies allowed per connection, as learnt */
  errorBudget: number
  synprotBudget: number
}

export interface BatteryOptions {
  servername?: string
  /** most error replies on one connection (default 9: Postfix slows down after 10) */
  errorBudget?: number
  /** most syntax/protocol errors on one connection of a strict server (default 3: Exim's smtp_max_synprot_errors) */
  synprotBudget?: number
  /** connections at once (default and maximum 3) */
  parallel?: number
  /** each result as soon as it is known (live progress) */
  onResult?: (r: EnvelopeResult) => void
  /**
   * ms after which no new connection is started. An open relay that slows
   * down accepted mail (Postfix in_flow_delay: 1 s per message once its
   * flow-control tokens run out) would otherwise eat the check's deadline;
   * what was found by then is reported, the rest marked not run.
   */
  budgetMs?: number
}

export const PARALLEL = 3
/** RSETs per connection: Exim drops a client after smtp_accept_max_nonmail = 10 non-mail commands (the first RSET is free) */
const RSET_BUDGET = 9
/** replies Exim counts against smtp_max_synprot_errors */
const SYNPROT = new Set([500, 501, 503, 504])
const isErr = (r: Reply): boolean => r.code >= 400
const isSyn = (r: Reply): boolean => SYNPROT.has(r.code)

/** A recipient a strict parser may answer with a syntax error (anything beyond local@domain.name). */
export function riskyRecipient (rcpt: string): boolean {
  return !/^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(rcpt)
}

interface SenderState { ok: boolean, reply: Reply }

interface Session {
  n: number
  lines: Array<{ dir: Dir, text: string, at: number }>
  errors: number
  synprot: number
  trips: number
  /** the connection ended by the server (drop or 421) */
  dropped: boolean
  /** RSETs sent (Exim drops a session after smtp_accept_max_nonmail = 10 of them without a message) */
  rsets: number
  /** the session must end for another reason (530, TLS needed) */
  stop: boolean
  /** the connection could not be opened or greeted */
  openFailed: Error | null
}

type Dir = 'C' | 'S' | 'I'

/**
 * Runs the envelopes over up to three connections at once (see the top of
 * this file). Throws a ProbeError when the server cannot be talked to at
 * all (the first connection fails before any result).
 */
export async function runEnvelopes (ctx: CheckContext, ip: string, envelopes: Envelope[], o: BatteryOptions = {}): Promise<BatteryOutcome> {
  const t0 = Date.now()
  const L = ctx.report.lang
  const parallel = Math.max(1, Math.min(PARALLEL, o.parallel ?? PARALLEL))
  const stopAt = t0 + (o.budgetMs ?? Math.max(1000, (ctx.deadline - t0) * 0.6))
  const results = new Map<string, EnvelopeResult>()
  const queue: Envelope[] = dealBySender(envelopes, parallel)
  const senders = new Map<string, SenderState>()
  // Senders a recipient trick may borrow when its own is refused, most natural first.
  const fallbacks = fallbackSenders(envelopes)
  let errorBudget = Math.max(1, o.errorBudget ?? 9)
  let synBudget = Math.max(1, o.synprotBudget ?? 3)
  let strict = false
  let authRequired: string | null = null
  let stoppedEarly: string | null = null
  let relaysPlain: string | null = null
  let useTls = false
  let banner: string | null = null
  let pipelining = false
  let connections = 0
  let open = 0
  let maxOpen = 0
  let drops = 0
  let fruitless = 0
  let anySession = false
  let firstFailure: Error | null = null
  let sessionError: Error | null = null
  let longest = 0
  const connectionTrips: number[] = []
  /** the sessions now open, by connection number */
  const live = new Map<number, Session>()
  const maxConnections = envelopes.length + 8

  const path = (s: string): ProbePath | null => s === '' ? null : probePath(s)
  const record = (env: Envelope, x: Omit<EnvelopeResult, 'id' | 'mailFrom' | 'rcptTo'>): void => {
    const res: EnvelopeResult = { id: env.id, mailFrom: env.mailFrom, rcptTo: env.rcptTo, ...x }
    results.set(env.id, res)
    // The outside recipient as it is, accepted: an open relay whatever the tricks would show.
    if (res.accepted && !env.trick && relaysPlain === null) {
      relaysPlain = env.id
      const text = ctx.report.lang === 'ja'
        ? `${env.id} が受け付けられました: 細工のない外部宛てメールを第三者中継するサーバーです。これ以上の試行は始めません (アドレスの細工を試しても判定は変わりません)`
        : `${env.id} was accepted: the server relays plain mail to the outside domain; no further attempt is started (the address tricks cannot change the verdict)`
      // In the transcript of the connection that found it (each connection's lines go out together).
      const on = live.get(x.connection)
      if (on) on.lines.push({ dir: 'I', text, at: ctx.report.elapsed() })
      else ctx.report.line('I', text)
    }
    o.onResult?.(res)
  }
  const knownOk = (): string | null => fallbacks.find((f) => senders.get(f)?.ok === true) ?? null
  const nextFallbackToProbe = (): string | null => fallbacks.find((f) => !senders.has(f)) ?? null
  /**
   * The sender this vector's MAIL uses now: its own when accepted; for a
   * trick whose own was refused, an accepted one; null = not known yet.
   * A vector that cannot be run at all is decided here.
   */
  const senderFor = (env: Envelope, conn: number): string | null | false => {
    const own = senders.get(env.mailFrom)
    if (!own) return null
    if (own.ok) return env.mailFrom
    if (!env.trick) {
      // The sender is what this vector tests: refused at MAIL is its answer.
      record(env, { accepted: false, reply: replyHeadline(own.reply), code: own.reply.code, stage: 'mail', connection: conn, tested: true })
      return false
    }
    const alt = knownOk()
    if (alt !== null) return alt
    if (nextFallbackToProbe() === null) {
      record(env, { accepted: false, reply: bi(L, `未テスト: どの送信者も受け付けられませんでした (${replyHeadline(own.reply)})`, `untested: no sender was accepted (${replyHeadline(own.reply)})`), code: own.reply.code, stage: 'mail', connection: conn, tested: false, senderReply: replyHeadline(own.reply) })
      return false
    }
    return null
  }
  const noteMail = (sender: string, r: Reply): void => {
    if (r.code === 421 || r.code === 530) return
    senders.set(sender, { ok: r.code >= 200 && r.code < 300, reply: r })
  }
  const count = (s: Session, r: Reply): void => {
    if (isErr(r)) s.errors++
    if (isSyn(r)) s.synprot++
  }
  const decide = (env: Envelope, used: string, mail: Reply, rcpt: Reply | null, conn: number): void => {
    const own = senders.get(env.mailFrom)
    const retried = used !== env.mailFrom
    const extra = retried ? { retriedWith: used, senderReply: own ? replyHeadline(own.reply) : undefined } : {}
    if (mail.code >= 400 || !rcpt) {
      record(env, { accepted: false, reply: replyHeadline(mail), code: mail.code, stage: 'mail', connection: conn, tested: !env.trick && !retried, ...extra })
      return
    }
    record(env, { accepted: rcpt.code >= 200 && rcpt.code < 300, reply: replyHeadline(rcpt), code: rcpt.code, stage: 'rcpt', connection: conn, tested: true, ...extra })
  }
  /** a 530 in any answer: TLS first, or authentication; true = the session must end */
  const on530 = (r: Reply, client: SmtpClient): boolean => {
    if (r.code !== 530) return false
    const text = replyHeadline(r)
    // Connections run side by side: one opened before another learnt that TLS is needed
    // meets the same 530 over plain text. That is still "TLS first", not authentication.
    if (!client.secure && client.supports('STARTTLS') && /STARTTLS|\bTLS\b/i.test(text)) {
      if (!useTls) ctx.report.line('I', bi(L, 'サーバーは MAIL の前に STARTTLS を求めています。TLS で続けます', 'the server requires STARTTLS before MAIL; continuing over TLS'))
      useTls = true
    } else {
      authRequired ??= text
    }
    return true
  }
  // Exim (strict) counts RSETs against smtp_accept_max_nonmail; Postfix allows 100 (smtpd_junk_command_limit).
  let rsetCap = 90
  const rsetBudget = (): number => Math.min(rsetCap, strict ? RSET_BUDGET : 90)
  const roomFor = (s: Session, risky: boolean): boolean =>
    s.errors + 1 <= errorBudget && (!strict || !risky || s.synprot + 1 <= synBudget) && Date.now() < stopAt
  // Pace: ms per reply, from EHLO and every flight. A slow server gets smaller flights, so that
  // nothing in flight outlives the time budget.
  let replyMs = 0
  const learnPace = (since: number, replies: number): void => {
    if (replies > 0) replyMs = Math.max(replyMs * 0.5, (Date.now() - since) / replies)
  }
  const timeCap = (repliesPerItem: number): number => {
    const left = stopAt - Date.now()
    if (left <= 0) return 0
    return replyMs <= 0 ? Infinity : Math.max(1, Math.floor(left / (replyMs * repliesPerItem)))
  }

  /** One connection: claim, open, senders, vectors. Returns the vectors to give back. */
  const session = async (claim: Envelope[]): Promise<{ leftover: Envelope[], trips: number, openFailed: Error | null }> => {
    const n = ++connections
    const s: Session = { n, lines: [], errors: 0, synprot: 0, trips: 0, rsets: 0, dropped: false, stop: false, openFailed: null }
    live.set(n, s)
    const sink: TranscriptSink = { line: (dir, text) => { s.lines.push({ dir, text, at: ctx.report.elapsed() }) } }
    let pending = [...claim]
    let client: SmtpClient | null = null
    let progress = false
    /** This connection's vectors by sender: settled (ready), still waiting for one (still); untestable ones drop out. */
    const bySender = (list: Envelope[]): { ready: Array<{ env: Envelope, from: string }>, still: Envelope[] } => {
      const ready: Array<{ env: Envelope, from: string }> = []
      const still: Envelope[] = []
      for (const env of list) {
        const f = senderFor(env, n)
        if (f === false) { progress = true; continue }
        if (f === null) { still.push(env); continue }
        ready.push({ env, from: f })
      }
      return { ready, still }
    }
    let opened = false
    open++
    maxOpen = Math.max(maxOpen, open)
    try {
      sink.line('I', bi(L, `中継テストの接続 ${n}: ${claim.length} 件を担当 (${claim.map((e) => e.id).join(', ')})`, `relay connection ${n}: ${claim.length} attempt${claim.length === 1 ? '' : 's'} claimed (${claim.map((e) => e.id).join(', ')})`))
      client = await SmtpClient.open(ctx, ip, { servername: o.servername, sink })
      s.trips++
      const b = client.banner!
      banner ??= replyHeadline(b)
      if (b.code !== 220) throw new ProbeError('protocol', `the server greeted with "${replyHeadline(b)}" instead of 220`, 25)
      const e = await client.ehlo()
      s.trips += client.usedHelo ? 2 : 1
      if (e.code !== 250) throw new ProbeError('protocol', `the server refused EHLO and HELO: ${replyHeadline(e)}`, 25)
      if (useTls) {
        const st = await client.startTls()
        s.trips += 3
        if (!st.tls) throw new ProbeError('tls', `the server demanded STARTTLS but refused it: ${replyHeadline(st.reply)}`, 25)
      }
      anySession = true
      opened = true
      // What one reply costs on this server: a flight must end before the time budget does.
      replyMs = Math.max(replyMs, client.timings.find((x) => x.stage === 'ehlo' || x.stage === 'helo')?.ms ?? 0)
      pipelining = client.supports('PIPELINING')
      // Exim says so in its greeting by default; its synprot limit is then known before the first error.
      if (/\bExim\b/i.test(`${replyHeadline(b)} ${replyHeadline(e)}`)) strict = true
      const c = client
      const ended = (): boolean => s.dropped || s.stop || !!authRequired || relaysPlain !== null || (useTls && !c.secure) || !!c.error
      if (pipelining) {
        let rounds = 0
        while (pending.length && !ended() && rounds++ < 64) {
          // Senders first: MAIL + RSET for each one not known yet (and one to borrow, if none is known).
          const unknown = new Set<string>()
          for (const env of pending) {
            const st = senders.get(env.mailFrom)
            if (!st) unknown.add(env.mailFrom)
            else if (!st.ok && env.trick && knownOk() === null) { const f = nextFallbackToProbe(); if (f !== null) unknown.add(f) }
          }
          const probes = [...unknown]
          if (probes.length) {
            // each probe may be refused: keep within the budgets
            const take: string[] = []
            let errs = s.errors
            let syn = s.synprot
            const cap = Math.min(timeCap(2), rsetBudget() - s.rsets)
            for (const p of probes) {
              if (errs + 1 > errorBudget || (strict && syn + 1 > synBudget) || take.length >= cap) break
              take.push(p); errs++; syn++
            }
            s.rsets += take.length
            if (!take.length) break
            const cmds: FlightCommand[] = take.flatMap((x) => [{ kind: 'mail', from: path(x) }, { kind: 'rset' }] as FlightCommand[])
            const tf = Date.now()
            const { replies, error } = await c.flight(cmds)
            s.trips++
            learnPace(tf, replies.length)
            for (let i = 0; i < replies.length; i++) {
              const r = replies[i]
              if (r.code === 421) { s.dropped = true; break }
              count(s, r)
              if (i % 2 === 0) {
                if (on530(r, c)) { s.stop = true; break }
                noteMail(take[i / 2], r)
              }
            }
            if (error) { if (error instanceof ProbeError && error.kind === 'closed') s.dropped = true; else throw error }
            continue
          }
          // Vectors whose sender is settled: as many as the budgets allow, in one flight.
          const { ready, still } = bySender(pending)
          pending = still.concat(ready.map((x) => x.env))
          if (!ready.length) { if (still.length) continue; break }
          const batch: typeof ready = []
          let errs = s.errors
          let syn = s.synprot
          const cap = Math.min(timeCap(3), rsetBudget() - s.rsets)
          for (const x of ready) {
            const risky = riskyRecipient(x.env.rcptTo)
            if (batch.length >= cap) break
            if (errs + 1 > errorBudget || (strict && risky && syn + 1 > synBudget)) continue
            batch.push(x); errs++; if (risky) syn++
          }
          if (!batch.length) break
          s.rsets += batch.length
          // The last flight of this connection carries QUIT: everything is in it, or nothing left would fit
          // another flight even if every attempt in this one drew an error (what is left goes to the next connection).
          const rest = ready.filter((x) => !batch.includes(x))
          const last = batch.length === pending.length || (still.length === 0 && rest.length > 0 && (s.rsets >= rsetBudget() || (!strict && errs + 1 > errorBudget)))
          const cmds: FlightCommand[] = batch.flatMap((x) => [{ kind: 'mail', from: path(x.from) }, { kind: 'rcpt', to: path(x.env.rcptTo)! }, { kind: 'rset' }] as FlightCommand[])
          const tf = Date.now()
          const { replies, error } = await c.flight(cmds, { quit: last })
          s.trips++
          learnPace(tf, replies.length)
          for (let k = 0; k < batch.length; k++) {
            const [mail, rcpt, rset] = replies.slice(k * 3, k * 3 + 3)
            if (!mail || mail.code === 421 || (rcpt && rcpt.code === 421)) { s.dropped = true; break }
            count(s, mail)
            if (rcpt) count(s, rcpt)
            if (rset) count(s, rset)
            if (on530(mail, c) || (rcpt && on530(rcpt, c))) { s.stop = true; break }
            if (mail.code < 400 && !rcpt) { s.dropped = true; break }
            decide(batch[k].env, batch[k].from, mail, mail.code < 400 ? rcpt : null, n)
            progress = true
            pending = pending.filter((p) => p !== batch[k].env)
            if (!rset || rset.code === 421) { s.dropped = true; break }
          }
          if (error) { if (error instanceof ProbeError && error.kind === 'closed') s.dropped = true; else throw error }
        }
      } else {
        // One command at a time (RFC 2920 §3: no PIPELINING, wait for every reply). A transaction
        // stays open across the vectors of its sender: a refused RCPT leaves it as it was
        // (RFC 5321 §4.1.1.3), so the next RCPT needs neither RSET nor a new MAIL. RSET only before a
        // MAIL with another sender, or after an accepted RCPT (the next vector is judged in a
        // transaction with no recipient in it); never before QUIT, which ends the transaction anyway.
        let tx: { from: string, mail: Reply, clean: boolean } | null = null
        let rounds = 0
        while (pending.length && !ended() && rounds++ < 256) {
          const { ready, still } = bySender(pending)
          pending = still.concat(ready.map((x) => x.env))
          let from: string
          let group: Envelope[]
          const cur: { from: string, clean: boolean } | null = tx
          if (ready.length) {
            // The open transaction's sender first: its vectors need no new MAIL.
            const f = cur !== null && cur.clean && ready.some((x) => x.from === cur.from) ? cur.from : ready[0].from
            from = f
            group = ready.filter((x) => x.from === f).map((x) => x.env)
          } else if (still.length) {
            // Not known yet: this MAIL is the probe, and its vectors follow in the same transaction if it is accepted.
            const st = senders.get(still[0].mailFrom)
            const f = st ? nextFallbackToProbe() : still[0].mailFrom
            if (f === null) break
            from = f
            group = st ? still.filter((e) => senders.get(e.mailFrom) !== undefined) : still.filter((e) => e.mailFrom === f)
          } else break
          if (tx === null || tx.from !== from || !tx.clean) {
            if (!roomFor(s, !senders.has(from))) break
            if (tx !== null) {
              if (s.rsets >= rsetBudget()) break
              s.rsets++
              tx = null
              const { replies: [rset], error: e3 } = await c.flight([{ kind: 'rset' }])
              s.trips++
              if (e3 || !rset || rset.code === 421) { if (!e3 || (e3 instanceof ProbeError && e3.kind === 'closed')) { s.dropped = true; break } throw e3 }
              count(s, rset)
              if (ended()) break
            }
            const { replies: [mail], error } = await c.flight([{ kind: 'mail', from: path(from) }])
            s.trips++
            if (error || !mail) { if (error instanceof ProbeError && error.kind === 'closed') { s.dropped = true; break } throw error ?? new ProbeError('protocol', 'no reply to MAIL') }
            if (mail.code === 421) { s.dropped = true; break }
            count(s, mail)
            if (on530(mail, c)) { s.stop = true; break }
            noteMail(from, mail)
            // Refused: no transaction is open, the next MAIL needs no RSET.
            if (mail.code >= 400) continue
            tx = { from, mail, clean: true }
          }
          const open = tx
          let sent = 0
          for (const env of group) {
            if (ended() || !roomFor(s, riskyRecipient(env.rcptTo))) break
            const { replies: [rcpt], error: e2 } = await c.flight([{ kind: 'rcpt', to: path(env.rcptTo)! }])
            s.trips++
            sent++
            if (e2 || !rcpt || rcpt.code === 421) { if (!e2 || (e2 instanceof ProbeError && e2.kind === 'closed')) { s.dropped = true; break } throw e2 }
            count(s, rcpt)
            if (on530(rcpt, c)) { s.stop = true; break }
            decide(env, from, open.mail, rcpt, n)
            progress = true
            pending = pending.filter((p) => p !== env)
            if (rcpt.code >= 200 && rcpt.code < 300) { open.clean = false; break }
          }
          // Not one RCPT fitted the budgets: what is left goes to the next connection.
          if (!sent) break
        }
      }
    } catch (err) {
      if (!opened) {
        // Not even greeted: the server is unreachable (decided at the end, if no connection worked at all),
        // or it takes fewer connections at once than we tried.
        s.openFailed = err as Error
        firstFailure ??= err as Error
        s.lines.push({ dir: 'I', text: bi(L, `接続 ${n} が失敗しました: ${(err as Error).message}`, `connection ${n} failed: ${(err as Error).message}`), at: ctx.report.elapsed() })
      } else if (err instanceof ProbeError && err.kind === 'closed') {
        s.dropped = true
      } else {
        // The session broke in a way a drop does not explain (timeout, injected bytes …): stop the battery honestly.
        sessionError ??= err as Error
        stoppedEarly ??= `connection ${n} failed: ${(err as Error).message}`
      }
    } finally {
      client?.leave()
      open--
      if (s.dropped) {
        drops++
        // Learn: the server hung up after s.errors errors (s.synprot of them syntax/protocol ones).
        if (s.errors >= 1) errorBudget = Math.min(errorBudget, Math.max(1, s.errors - 1))
        if (s.synprot >= 1) { strict = true; synBudget = Math.min(synBudget, Math.max(1, s.synprot - 1)) }
        // Dropped with few errors but many RSETs: a limit on non-mail commands (Exim's smtp_accept_max_nonmail).
        if (s.errors <= 1 && s.rsets >= 2) rsetCap = Math.min(rsetCap, s.rsets - 1)
        s.lines.push({ dir: 'I', text: bi(L, `サーバーはエラー応答 ${s.errors} 回のあとで接続 ${n} を切りました。以降の接続ではエラーを ${errorBudget} 回まで${strict ? `、構文・手順のエラーを ${synBudget} 回まで` : ''}に抑えます`, `the server closed connection ${n} after ${s.errors} error repl${s.errors === 1 ? 'y' : 'ies'}; later connections take at most ${errorBudget} errors${strict ? ` and ${synBudget} syntax/protocol errors` : ''}`), at: ctx.report.elapsed() })
      }
      if (opened) fruitless = progress ? 0 : fruitless + 1
      live.delete(n)
      for (const l of s.lines) ctx.report.line(l.dir, l.text, l.at)
    }
    connectionTrips[n - 1] = s.trips
    return { leftover: pending.filter((e) => !results.has(e.id)), trips: s.trips, openFailed: s.openFailed }
  }

  // Functions, not expressions: these change while workers await.
  const halted = (): boolean => !!authRequired || !!stoppedEarly || relaysPlain !== null
  const sessionWorked = (): boolean => anySession
  const claimSize = (): number => {
    // Shared among the connections about to open, so the first wave splits the battery evenly.
    const share = Math.ceil(queue.length / Math.max(1, parallel - open))
    return Math.max(1, Math.min(share, errorBudget, strict ? synBudget + 4 : errorBudget))
  }

  const worker = async (): Promise<void> => {
    let trips = 0
    while (queue.length && !halted()) {
      if (Date.now() > stopAt) {
        const found = [...results.values()].filter((x) => x.accepted).length
        stoppedEarly = bi(L, `持ち時間 ${Math.round(stopAt - t0)} ms を ${envelopes.length} 件中 ${results.size} 件の時点で使い切りました` + (found ? ` (${found} 件は受け付け済み。このサーバーは受け付けたメールで応答を遅らせます)` : ''), `time budget of ${Math.round(stopAt - t0)} ms used up after ${results.size} of ${envelopes.length} attempts` + (found ? ` (${found} already accepted; the server slows down accepted mail)` : ''))
        break
      }
      if (connections >= maxConnections || fruitless >= 3) {
        stoppedEarly = bi(L, `サーバーが${fruitless >= 3 ? '、どの試行も判定できないうちに 3 回続けて接続を切りました' : `接続を ${connections} 回切りました`}。残り ${queue.length} 件`, `the server ended ${fruitless >= 3 ? 'three connections in a row before any attempt could be judged' : `${connections} connections`}; ${queue.length} attempts left`)
        break
      }
      // Claimed before the connection is opened: no two connections ever run the same vector.
      const claim = queue.splice(0, claimSize())
      const { leftover, trips: t, openFailed } = await session(claim)
      trips += t
      queue.unshift(...leftover)
      // A connection that was not even greeted ends this worker: the others (if any got through) carry on.
      if (openFailed) break
    }
    longest = Math.max(longest, trips)
  }

  // Start the connections a little apart only in count, not in time: all claim first, then open.
  await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, async () => await worker()))
  // Vectors given back by a connection that failed after the others had finished: one connection at a time now.
  while (queue.length && !halted() && sessionWorked()) {
    const before = queue.length
    await worker()
    if (queue.length >= before) break
  }
  if (!anySession && firstFailure) throw firstFailure
  // Talked to, but not one attempt could be judged: the server failed, not the battery.
  if (results.size === 0 && sessionError) throw sessionError
  if (stoppedEarly) ctx.report.line('I', bi(L, `中止: ${stoppedEarly}`, `stopped: ${stoppedEarly}`))
  const why = authRequired ?? stoppedEarly ?? bi(L, '順番が回ってきませんでした', 'not reached')
  const decidedBy = relaysPlain
  const ordered: EnvelopeResult[] = envelopes.map((env) => results.get(env.id) ?? (decidedBy !== null
    ? { id: env.id, mailFrom: env.mailFrom, rcptTo: env.rcptTo, accepted: false, reply: bi(L, `不要: 細工のない外部宛てメールを中継済み (${decidedBy} が受け付けられました)`, `not tried: the server already relays plain mail (${decidedBy} was accepted)`), code: null, stage: 'not_tried', connection: 0, tested: false }
    : { id: env.id, mailFrom: env.mailFrom, rcptTo: env.rcptTo, accepted: false, reply: bi(L, `未実施: ${why}`, `not run: ${why}`), code: null, stage: 'not_run', connection: 0, tested: false }))
  const notTried = ordered.filter((x) => x.stage === 'not_tried').length
  if (notTried) {
    ctx.report.line('I', ctx.report.lang === 'ja'
      ? `${notTried} 件は試していません: 細工のない外部宛てメールをすでに第三者中継しました (${decidedBy ?? ''} が受付)`
      : `${notTried} attempt${notTried === 1 ? '' : 's'} not tried: the server already relays plain mail (${decidedBy ?? ''} was accepted)`)
  }
  return { results: ordered, banner, pipelining, connections, authRequired, stoppedEarly, relaysPlain, notTried, tls: useTls, ms: Date.now() - t0, roundTrips: longest, connectionTrips, parallel: maxOpen, drops, strict, errorBudget, synprotBudget: synBudget }
}

/**
 * The battery's order: vectors dealt into `bins` equal shares (the first
 * wave's claims), each share holding as few sender forms as it can, so a
 * connection probes few senders and, without PIPELINING, shares one
 * transaction among the vectors of one sender. Cost of a share: 1 per
 * vector, 2 more per sender form in it (MAIL and RSET). Within a share the
 * plain vectors (no address trick) come first.
 */
export function dealBySender (envelopes: Envelope[], bins: number): Envelope[] {
  const cap = Math.ceil(envelopes.length / bins)
  const groups = new Map<string, Envelope[]>()
  for (const e of envelopes) groups.set(e.mailFrom, [...(groups.get(e.mailFrom) ?? []), e])
  // Small groups first, so the single sender-spoof vectors spread over the shares and the big groups fill them up.
  const order = [...groups.values()].sort((a, b) => a.length - b.length)
  const share: Envelope[][] = Array.from({ length: bins }, () => [])
  const cost = (b: Envelope[]): number => b.length + 2 * new Set(b.map((e) => e.mailFrom)).size
  for (const g of order) {
    for (const e of g) {
      const open = share.filter((b) => b.length < cap)
      const same = open.filter((b) => b.some((x) => x.mailFrom === e.mailFrom))
      const pick = (same.length ? same : open).sort((a, b) => (cost(a) - cost(b)) || (a.length - b.length))[0]
      pick.push(e)
    }
  }
  // Plain vectors first in every share: on an open relay one of them is accepted at the first RCPT of
  // each connection and the battery can stop there (see relaysPlain). Without PIPELINING the
  // transaction order follows this one, and a plain vector's sender group follows it in its transaction.
  return share.flatMap((b) => [...b.filter((e) => !e.trick), ...b.filter((e) => e.trick)])
}

/** Senders a recipient trick may use instead of its own: those of the sender-spoof vectors, most ordinary first. */
function fallbackSenders (envelopes: Envelope[]): string[] {
  const pref = ['own-domain-sender', 'mx-host-sender', 'external-sender', 'localhost-sender', 'null-sender']
  const byId = new Map(envelopes.map((e) => [e.id, e]))
  const out: string[] = []
  for (const id of pref) { const e = byId.get(id); if (e && !out.includes(e.mailFrom)) out.push(e.mailFrom) }
  for (const e of envelopes) if (!e.trick && !out.includes(e.mailFrom) && e.mailFrom !== '' && !e.mailFrom.includes('[')) out.push(e.mailFrom)
  return out
}
