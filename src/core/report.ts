// One result model for every check, defined once in TypeBox: the TypeScript
// types below are derived from these schemas, and so is the API's response
// schema (ReportSchema), so the two cannot drift apart. A check writes steps,
// transcript lines and advice into a ReportBuilder; the builder stamps times
// and passes each addition to `emit`, which is how the live event stream is
// fed. The report's verdict is computed from its steps (verdict()).
//
// This is a core module: store/, the protocol clients, plugins and routes
// import it; it imports nothing from checks/ or routes/.
import { randomBytes } from 'node:crypto'
import { Type, type Static, type TSchema, type TProperties } from '@sinclair/typebox'
import { adviceText, type Lang } from '../i18n/index.js'
import { stepTitle } from '../i18n/steps.js'
import { TlsCheckDataProps } from './tls-report.js'

/** Objects of the model may grow (extend, never break): unknown fields pass through the API. */
const Obj = <T extends TProperties>(props: T, description?: string) => Type.Object(props, { additionalProperties: true, ...(description ? { description } : {}) })
const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()])

export const StatusSchema = Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail'), Type.Literal('error')])
export const StepStatusSchema = Type.Union([StatusSchema, Type.Literal('info'), Type.Literal('skip')])
/** C: sent by mxprobe, S: received from the server, I: information (TLS upgrade, timing) */
export const DirSchema = Type.Union([Type.Literal('C'), Type.Literal('S'), Type.Literal('I')])
export const LangSchema = Type.Union([Type.Literal('ja'), Type.Literal('en')])

/** name: a stable machine name; title: the step's name for people, in the report's language */
export const StepSchema = Obj({ name: Type.String(), title: Type.String(), status: StepStatusSchema, detail: Type.String(), ms: Type.Optional(Type.Number()) })
export const TranscriptLineSchema = Type.Object({ at: Type.Number(), dir: DirSchema, text: Type.String() })
export const AdviceSchema = Obj({ code: Type.String(), message: Type.String(), ja: Type.String(), en: Type.String(), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) })
export const TargetSchema = Obj({ domain: Nullable(Type.String()), host: Nullable(Type.String()), ip: Nullable(Type.String()) })
export const StageTimingSchema = Obj({ stage: Type.String(), ms: Type.Number() })

// ---- each check's data -------------------------------------------------------

/** ports: one entry per probed port */
export const PortResultSchema = Obj({
  port: Type.Integer(),
  state: Type.Union([Type.Literal('open'), Type.Literal('silent'), Type.Literal('refused'), Type.Literal('filtered')]),
  banner: Type.Optional(Type.String()),
  ms: Type.Number(),
  tls: Type.Optional(Type.Boolean()),
  starttls: Type.Optional(Type.Boolean()),
  detail: Type.Optional(Type.String())
})

/** relay: one entry per relay attempt (MAIL + RCPT, never DATA) */
export const RelayVectorSchema = Obj({
  id: Type.String(),
  mailFrom: Type.String(),
  rcptTo: Type.String(),
  accepted: Type.Boolean(),
  reply: Nullable(Type.String()),
  // beyond the contract's { id, mailFrom, rcptTo, accepted, reply }:
  code: Type.Optional(Nullable(Type.Integer())),
  // where it was decided; not_run: the battery stopped before it; not_tried: not needed, the server
  // had already accepted a plain outside recipient (an open relay whatever the address tricks show)
  stage: Type.Optional(Type.Union([Type.Literal('mail'), Type.Literal('rcpt'), Type.Literal('not_run'), Type.Literal('not_tried')])),
  // the server really judged it (false: untested, not run or not tried; such a vector is not "refused")
  tested: Type.Optional(Type.Boolean()),
  connection: Type.Optional(Type.Integer()),
  nmap: Type.Optional(Type.Boolean()),
  note: Type.Optional(Type.String())
})

/** roles: one entry per role mailbox (postmaster@, abuse@ …) */
export const RoleMailboxSchema = Obj({
  address: Type.String(),
  required: Type.Boolean(),
  accepted: Type.Boolean(),
  reply: Nullable(Type.String()),
  // beyond the contract's { address, required, accepted, reply }:
  code: Type.Optional(Nullable(Type.Integer())),
  rfc: Type.Optional(Type.String())
})

/** TLS session and certificate as SMTP and POP3 report it (src/core/tls.ts) */
export const CertInfoSchema = Obj({
  subject: Type.String(),
  subjectCN: Nullable(Type.String()),
  san: Type.Array(Type.String()),
  issuer: Type.String(),
  validFrom: Type.String(),
  validTo: Type.String(),
  daysLeft: Type.Number(),
  fingerprint256: Type.String(),
  selfSigned: Type.Boolean()
})
export const TlsInfoSchema = Obj({
  protocol: Nullable(Type.String()),
  cipher: Nullable(Type.String()),
  authorized: Type.Boolean(),
  authorizationError: Nullable(Type.String()),
  nameMatches: Nullable(Type.Boolean()),
  expectedName: Nullable(Type.String()),
  cert: Nullable(CertInfoSchema)
})

export const PtrFactsSchema = Obj({ names: Type.Array(Type.String()), confirmed: Nullable(Type.String()), error: Type.Optional(Type.String()) })
export const DeliverySchema = Obj({ messageId: Type.String(), response: Nullable(Type.String()), queueId: Nullable(Type.String()), accepted: Type.Boolean() })
export const TestMessageSchema = Obj({ messageId: Type.String(), subject: Type.String(), date: Type.String(), bytes: Type.Integer() })

/** diagnosis: one child check as the parent lists it (src/checks/all.ts ChildLink) */
export const ChildLinkSchema = Obj({
  type: Type.String(),
  id: Nullable(Type.String()),
  /** queued, running, then pass | warn | fail | error */
  status: Type.String(),
  title: Type.Optional(Type.String()),
  stage: Type.Optional(Type.String()),
  deadline: Type.Optional(Type.Number()),
  summary: Type.Optional(Type.String())
})
/** diagnosis: a finding to fix first (src/checks/fix-order.ts FixItem) */
export const FixItemSchema = Obj({
  check: Type.String(),
  code: Type.String(),
  message: Type.String(),
  id: Type.Optional(Type.String()),
  /** 1 harms others, 2 stops mail, 3 receivers refuse or junk mail, 4 warning (docs/FIX-ORDER.md) */
  level: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
  /** dns, reach, server or mailbox: the order fixes depend on each other inside a level */
  stage: Type.Optional(Type.String()),
  /** the cause in a few words, in the report's language */
  cause: Type.Optional(Type.String())
})

/** dns (and the diagnosis): the MX hosts, their addresses and the shortest TTL of each (checks/mailhosts.ts dnsFacts) */
export const DnsFactsSchema = Obj({
  domain: Type.String(),
  /** no MX: the domain itself is the mail host (RFC 5321 §5.1) */
  implicitMx: Type.Boolean(),
  /** a null MX (RFC 7505): the domain accepts no mail */
  nullMx: Type.Boolean(),
  mx: Type.Array(Obj({
    host: Type.String(),
    priority: Type.Integer(),
    addresses: Type.Array(Type.String()),
    ttl: Nullable(Type.Number()),
    /** the A/AAAA lookup failed (DNS code) */
    error: Type.Optional(Type.String())
  }))
}, 'MX hosts, addresses, TTLs')

/** smtp: what the server offered in its greeting and EHLO, and whether postmaster is accepted */
export const SmtpFactsSchema = Obj({
  banner: Type.String(),
  /** the first word of the greeting: the name the server calls itself */
  bannerName: Nullable(Type.String()),
  /** EHLO accepted (false: only HELO) */
  esmtp: Type.Boolean(),
  /** EHLO keyword → its parameters */
  extensions: Type.Record(Type.String(), Type.Array(Type.String())),
  starttls: Type.Boolean(),
  /** SIZE in bytes; 0: advertised without a limit; null: not advertised */
  sizeLimit: Nullable(Type.Number()),
  pipelining: Type.Boolean(),
  eightBitMime: Type.Boolean(),
  smtpUtf8: Type.Boolean(),
  /** RCPT TO:<postmaster> accepted; null: not tried (MAIL FROM refused) */
  postmasterAccepted: Nullable(Type.Boolean()),
  /** MAIL and RCPT went out as one pipelined flight */
  pipelinedProbe: Type.Boolean()
}, 'banner, extensions, STARTTLS, size limit, postmaster')

/** relay: how the battery ran (src/smtp/relay.ts BatteryOutcome) */
export const RelayRunSchema = Obj({
  outsideDomain: Type.String(),
  attempts: Type.Integer(),
  tested: Type.Integer(),
  untested: Type.Integer(),
  /** vectors left out because a plain outside recipient was already accepted (stage not_tried) */
  notTried: Type.Optional(Type.Integer()),
  /** the plain vector whose acceptance decided the verdict, or null */
  relaysPlain: Type.Optional(Nullable(Type.String())),
  retried: Type.Integer(),
  nmapTests: Type.Integer(),
  connections: Type.Integer(),
  parallel: Type.Integer(),
  roundTrips: Type.Integer(),
  connectionTrips: Type.Array(Type.Integer()),
  drops: Type.Integer(),
  errorBudget: Type.Integer(),
  synprotBudget: Type.Integer(),
  strict: Type.Boolean(),
  pipelining: Type.Boolean(),
  banner: Nullable(Type.String()),
  stoppedEarly: Nullable(Type.String()),
  tls: Type.Boolean(),
  ms: Type.Number()
}, 'how the relay battery ran')

/** pop3: a certificate as the POP3 check describes it (src/pop3/certificate.ts CertificateInfo) */
export const Pop3CertificateSchema = Obj({
  subject: Type.String(),
  subjectAltNames: Type.Array(Type.String()),
  issuer: Type.String(),
  validFrom: Type.String(),
  validTo: Type.String(),
  expired: Type.Boolean(),
  selfSigned: Type.Boolean(),
  trusted: Type.Boolean(),
  verifyError: Nullable(Type.String()),
  nameMatches: Nullable(Type.Boolean()),
  fingerprint256: Type.String(),
  protocol: Nullable(Type.String()),
  cipher: Nullable(Type.String())
})

/** pop3: what one port (110 or 995) said (src/checks/pop3.ts Pop3PortResult) */
export const Pop3PortSchema = Obj({
  port: Type.Integer(),
  reachable: Type.Boolean(),
  error: Type.Optional(Type.String()),
  /** how the connection failed (a ProbeError kind) */
  errorKind: Type.Optional(Type.String()),
  greeting: Type.Optional(Type.String()),
  /** the greeting was a POP3 +OK */
  pop3: Type.Optional(Type.Boolean()),
  capabilities: Type.Optional(Nullable(Type.Array(Type.String()))),
  /** capabilities after STLS (they may differ) */
  capabilitiesTls: Type.Optional(Nullable(Type.Array(Type.String()))),
  stls: Type.Optional(Obj({ offered: Type.Boolean(), works: Type.Optional(Type.Boolean()), error: Type.Optional(Type.String()) })),
  tls: Type.Optional(Type.Boolean()),
  certificate: Type.Optional(Nullable(Pop3CertificateSchema)),
  userBeforeTls: Type.Optional(Type.Boolean()),
  saslBeforeTls: Type.Optional(Type.Array(Type.String())),
  quit: Type.Optional(Obj({ clean: Type.Boolean(), reason: Type.Optional(Type.String()) }))
})
export const Pop3FactsSchema = Obj({ ports: Type.Array(Pop3PortSchema) }, 'ports 110 and 995: greeting, CAPA, STLS, certificate')

/** pop3: the login test; never the password */
export const LoginSchema = Obj({
  tried: Type.Boolean(),
  username: Type.Optional(Type.String()),
  ok: Type.Optional(Type.Boolean()),
  port: Type.Optional(Type.Integer()),
  /** USER/PASS or the SASL mechanism */
  method: Type.Optional(Type.String()),
  reply: Type.Optional(Type.String()),
  /** STAT after a successful login */
  messages: Type.Optional(Type.Integer()),
  octets: Type.Optional(Type.Integer())
}, 'the login test: tried, ok, error; never the password')

/** send test: the big receivers' rules, each met (true), not (false) or not checked (null) */
export const SenderRulesSchema = Obj({
  /** the date of the rules' data (src/inbound/sender-rules-data.ts) */
  asOf: Type.String(),
  sources: Type.Array(Type.String()),
  receivers: Type.Array(Obj({
    id: Type.String(),
    name: Type.String(),
    /** rules for every sender: met, out of those judged */
    met: Type.Integer(),
    of: Type.Integer(),
    bulk: Obj({ met: Type.Integer(), of: Type.Integer() }),
    /** the receiver's pages the rules come from */
    sources: Type.Optional(Type.Array(Type.String())),
    /** unmet first */
    rules: Type.Array(Obj({
      rule: Type.String(),
      scope: Type.Union([Type.Literal('all'), Type.Literal('bulk')]),
      met: Nullable(Type.Boolean()),
      title: Type.String(),
      reason: Type.String()
    }))
  })),
  notMeasured: Type.Array(Type.String())
}, 'Gmail and Yahoo sender rules: score and checklist')

/** send test: what mxprobe's own listener saw (docs/API.md, Send `inbound`; src/inbound/analyze.ts InboundFindings) */
export const InboundSchema = Obj({
  address: Type.String(),
  connectingIp: Type.String(),
  /** the address family the mail came over */
  family: Type.Optional(Type.Union([Type.Literal(4), Type.Literal(6)])),
  /** the mail came from the IP that started the test */
  isCallerIp: Type.Boolean(),
  /** the connecting IP is an address of an MX host of the domain */
  isMxAddress: Type.Boolean(),
  ptr: Nullable(Type.String()),
  ptrNames: Type.Array(Type.String()),
  /** the PTR name resolves back to the connecting IP; null without PTR */
  fcrdns: Nullable(Type.Boolean()),
  /** the PTR looks like an ISP's generic name for a home line */
  ptrGeneric: Type.Boolean(),
  helo: Nullable(Type.String()),
  heloResolves: Nullable(Type.Boolean()),
  tls: Nullable(Obj({ version: Type.String(), cipher: Type.String() })),
  mailFrom: Type.String(),
  spf: Obj({
    result: Type.String(),
    domain: Type.String(),
    reason: Type.Optional(Type.String()),
    /** over IPv6 without a pass: which mechanisms the record has (an ip4:-only record is the classic cause) */
    record: Type.Optional(Obj({ ip4: Type.Boolean(), ip6: Type.Boolean(), other: Type.Boolean() }))
  }),
  spfHelo: Nullable(Obj({ result: Type.String(), domain: Type.String() })),
  dkim: Type.Array(Obj({ result: Type.String(), domain: Nullable(Type.String()), selector: Nullable(Type.String()), reason: Type.Optional(Type.String()), aligned: Type.Optional(Type.Boolean()) })),
  dmarc: Obj({ result: Type.String(), policy: Nullable(Type.String()), domain: Nullable(Type.String()) }),
  dnsbl: Type.Array(Obj({ zone: Type.String(), listed: Type.Boolean(), answer: Nullable(Type.String()), reason: Nullable(Type.String()), dynamic: Type.Boolean(), error: Type.Optional(Type.String()) })),
  headers: Type.Unknown({ description: 'the header analysis (src/tools/headers.ts HeaderAnalysis), or null' }),
  subject: Nullable(Type.String()),
  size: Type.Integer(),
  charset: Obj({ declared: Type.Boolean(), charsets: Type.Array(Type.String()), undeclaredParts: Type.Integer() }),
  /** the first bytes of the body, as text */
  excerpt: Type.String(),
  receivedAt: Type.String(),
  lookupMs: Type.Number(),
  analysisMs: Type.Number(),
  /** the ARC chain (RFC 8617) when the mail carries one; null otherwise */
  arc: Type.Optional(Nullable(Obj({ result: Type.String(), sets: Type.Integer(), i: Nullable(Type.Integer()), reason: Type.Optional(Type.String()) }))),
  /** Message-ID, Date, From, List-Unsubscribe as receivers check them; null when the analysis was stopped */
  format: Type.Optional(Nullable(Obj({
    messageId: Type.Boolean(), date: Type.Boolean(), from: Type.Boolean(), fromDomain: Type.String(), listUnsubscribe: Type.Boolean(), oneClick: Type.Boolean()
  }))),
  /** Gmail's and Yahoo's sender rules judged on this mail (src/inbound/sender-rules.ts) */
  senderRules: Type.Optional(SenderRulesSchema)
}, 'connecting IP, PTR, HELO, TLS, SPF, DKIM, DMARC, DNSBL, headers, the big receivers\' rules')

/** send test: how the reply leg went (src/inbound/reply.ts ReplyOutcome) */
export const ReplyOutcomeSchema = Type.Union([
  Obj({ sent: Type.Literal(true), host: Type.String(), ip: Type.String(), response: Type.String(), queueId: Nullable(Type.String()), ms: Type.Number() }),
  Obj({ sent: Type.Literal(false), stage: Type.Union([Type.Literal('rule'), Type.Literal('connect'), Type.Literal('smtp')]), reason: Type.String(), reply: Type.Optional(Type.String()), ms: Type.Number() })
], { description: 'the reply leg: sent, host, ip, response, ms' })

/**
 * Every check's own results, beside the common fields. Each is optional: a
 * report carries the ones of its check type. New checks add theirs here.
 */
export const CheckDataProps = {
  /** dns: MX hosts, their addresses and TTLs (checks/mailhosts.ts dnsFacts) */
  dns: Type.Optional(DnsFactsSchema),
  /** dns: is the caller's IP an address of the domain's MX? */
  callerInMx: Type.Optional(Type.Boolean()),
  /** dns, smtp: reverse DNS of the MX address and its forward confirmation */
  ptr: Type.Optional(PtrFactsSchema),
  ports: Type.Optional(Type.Array(PortResultSchema)),
  /** smtp: banner, EHLO extensions, STARTTLS, size limit, postmaster */
  smtp: Type.Optional(SmtpFactsSchema),
  /** smtp, receive: the STARTTLS session */
  tls: Type.Optional(Nullable(TlsInfoSchema)),
  /** smtp, receive: time of each stage of the dialogue */
  timings: Type.Optional(Type.Array(StageTimingSchema)),
  mailboxes: Type.Optional(Type.Array(RoleMailboxSchema)),
  vectors: Type.Optional(Type.Array(RelayVectorSchema)),
  /** relay: how the battery ran (connections, pipelining, stopped early …) */
  relay: Type.Optional(RelayRunSchema),
  /** pop3: what each of 110 and 995 said */
  pop3: Type.Optional(Pop3FactsSchema),
  /** pop3: the login test (never the password) */
  login: Type.Optional(LoginSchema),
  /** receive: the recipient as given */
  recipient: Type.Optional(Type.String()),
  /** receive: the test message sent */
  message: Type.Optional(TestMessageSchema),
  /** receive: the server's answer to the message */
  delivery: Type.Optional(DeliverySchema),
  /** headers tool: the analysis */
  analysis: Type.Optional(Type.Unknown({ description: 'header analysis (src/tools/headers.ts HeaderAnalysis)' })),
  /** mojibake tool: the input and its candidate repairs */
  input: Type.Optional(Type.String()),
  repair: Type.Optional(Type.Unknown({ description: 'candidate repairs (src/tools/mojibake.ts MojibakeResult)' })),
  /** send test: what mxprobe's own listener saw (docs/API.md, Send `inbound`) */
  inbound: Type.Optional(Nullable(InboundSchema)),
  /** send test: the one-time address the caller's server sends to, and until when it is live */
  address: Type.Optional(Type.String()),
  waitUntil: Type.Optional(Type.String()),
  waitSeconds: Type.Optional(Type.Number()),
  /** send test: whether a reply was asked for, then how the reply leg went */
  reply: Type.Optional(Type.Union([Type.Boolean(), ReplyOutcomeSchema])),
  /** diagnosis: the caller's line when it proved both families (src/net/line.ts LineFacts): map-e, ds-lite or unknown */
  line: Type.Optional(Type.Unknown({ description: 'the line type: { kind: map-e, service, ipv4, psid, ports, portCount, port25 } | { kind: ds-lite, service } | { kind: unknown }' })),
  /** diagnosis: the child reports it started */
  children: Type.Optional(Type.Array(ChildLinkSchema)),
  /** diagnosis: the findings to fix first, most important first */
  fixFirst: Type.Optional(Type.Array(FixItemSchema)),
  /** any check with a domain field: what mxprobe took from the input (an address or URL typed where a domain goes) */
  understood: Type.Optional(Obj({ input: Type.String(), kind: Type.String(), domain: Type.String(), address: Nullable(Type.String()) })),
  /** tls check: services, versions, DNSSEC, DANE, MTA-STS, TLS-RPT (src/core/tls-report.ts) */
  ...TlsCheckDataProps,
  /**
   * a check refused before any socket (the target rule): stored as a report of
   * its own, so it has a permalink and a forum text. `input`: the form fields to
   * try again with (never a password); `retry`: when and how.
   */
  refusal: Type.Optional(Obj({
    error: Type.String(),
    input: Type.Record(Type.String(), Type.String()),
    retry: Type.Optional(Obj({ possible: Type.Optional(Type.Boolean()), afterSeconds: Type.Optional(Type.Number()), message: Type.Optional(Type.String()) }))
  })),
  /** how long the check took */
  durationMs: Type.Optional(Type.Number()),
  /** answered from a recent identical check (REPEAT_WINDOW_SECONDS) */
  cached: Type.Optional(Type.Boolean()),
  cachedFrom: Type.Optional(Type.String())
}

export const ReportSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.Union([StatusSchema, Type.Literal('running')]),
  callerIp: Type.String(),
  target: TargetSchema,
  startedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  summary: Type.String(),
  steps: Type.Array(StepSchema),
  transcript: Type.Array(TranscriptLineSchema),
  advice: Type.Array(AdviceSchema),
  /** the language of everything mxprobe wrote in it (reports stored before it existed lack it) */
  lang: Type.Optional(LangSchema),
  ...CheckDataProps
}, { additionalProperties: true })

export type Status = Static<typeof StatusSchema>
export type StepStatus = Static<typeof StepStatusSchema>
export type Dir = Static<typeof DirSchema>
export type Step = Static<typeof StepSchema>
export type TranscriptLine = Static<typeof TranscriptLineSchema>
export type Advice = Static<typeof AdviceSchema>
export type Target = Static<typeof TargetSchema>
export type Report = Static<typeof ReportSchema>
/** the check-specific fields of a report */
export const CheckDataSchema = Type.Object(CheckDataProps, { additionalProperties: true })
export type CheckData = Static<typeof CheckDataSchema>
export type CheckDataKey = keyof typeof CheckDataProps

export type ReportEvent =
  | { seq: number, type: 'transcript', data: TranscriptLine }
  | { seq: number, type: 'step', data: Step }
  | { seq: number, type: 'advice', data: Advice }
  | { seq: number, type: 'target', data: Target }
  | { seq: number, type: 'done', data: Report }
  /** a diagnosis (`all`) telling how one of its child checks is doing (see src/checks/all.ts) */
  | { seq: number, type: 'child', data: Record<string, unknown> }

/** Where a protocol client writes what it sends and receives. */
export interface TranscriptSink { line: (dir: Dir, text: string) => void }

/** Report ids are unguessable: a stored report shows a caller's IP and mail server. */
export function newReportId (): string {
  return randomBytes(12).toString('base64url')
}

export const REPORT_ID = /^[A-Za-z0-9_-]{16}$/

const ORDER: Status[] = ['pass', 'warn', 'fail', 'error']

/**
 * The worst of several statuses: error > fail > warn > pass. A report's
 * status is the worst of its steps' statuses; `info` and `skip` steps are
 * neutral (verdictOf).
 */
export function worst (...s: Status[]): Status {
  return s.reduce((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'pass' as Status)
}

/** The verdict of a list of steps: the worst of their statuses (info and skip count for nothing). */
export function verdictOf (steps: readonly Step[]): Status {
  return worst(...steps.map((s) => s.status).filter((s): s is Status => (ORDER as string[]).includes(s)))
}

export class ReportBuilder implements TranscriptSink {
  readonly report: Report
  private readonly t0: number
  private seq = 0
  /** transcript lines kept at most; a hostile server cannot grow a report without bound */
  static maxTranscript = 2000

  constructor (type: string, callerIp: string, lang: Lang, private readonly emit: (ev: ReportEvent) => void = () => {}, id = newReportId()) {
    this.t0 = Date.now()
    this.report = {
      id,
      type,
      status: 'running',
      callerIp,
      target: { domain: null, host: null, ip: null },
      startedAt: new Date(this.t0).toISOString(),
      finishedAt: null,
      summary: '',
      steps: [],
      transcript: [],
      advice: [],
      lang
    }
  }

  /**
   * Go on writing a stored report (another instance started it): times count
   * from its start, event numbers go on after `lastSeq`.
   */
  static resume (report: Report, lastSeq: number, emit: (ev: ReportEvent) => void): ReportBuilder {
    const b = new ReportBuilder(report.type, report.callerIp, report.lang ?? 'en', emit, report.id)
    ;(b as unknown as { report: Report }).report = report
    ;(b as unknown as { t0: number }).t0 = Date.parse(report.startedAt) || Date.now()
    b.seq = lastSeq
    return b
  }

  get lang (): Lang { return this.report.lang ?? 'en' }
  elapsed (): number { return Date.now() - this.t0 }

  target (t: Partial<Target>): void {
    Object.assign(this.report.target, t)
    this.emit({ seq: ++this.seq, type: 'target', data: { ...this.report.target } })
  }

  /** `at`: ms since the start when the line happened (a caller that buffers a session's lines and adds them later) */
  line (dir: Dir, text: string, at?: number): void {
    if (this.report.transcript.length >= ReportBuilder.maxTranscript) {
      if (this.report.transcript.length === ReportBuilder.maxTranscript) {
        const cut = { at: this.elapsed(), dir: 'I' as Dir, text: `… transcript cut at ${ReportBuilder.maxTranscript} lines` }
        this.report.transcript.push(cut)
        this.emit({ seq: ++this.seq, type: 'transcript', data: cut })
      }
      return
    }
    const l = { at: at ?? this.elapsed(), dir, text }
    this.report.transcript.push(l)
    this.emit({ seq: ++this.seq, type: 'transcript', data: l })
  }

  info (text: string): void { this.line('I', text) }

  step (name: string, status: StepStatus, detail: string, ms?: number, title = stepTitle(name, this.lang)): Step {
    const s: Step = ms === undefined ? { name, title, status, detail } : { name, title, status, detail, ms }
    this.report.steps.push(s)
    this.emit({ seq: ++this.seq, type: 'step', data: s })
    return s
  }

  advise (code: string, params: Record<string, unknown> = {}): void {
    if (this.report.advice.some((a) => a.code === code && JSON.stringify(a.params ?? {}) === JSON.stringify(params))) return
    const ja = adviceText(code, 'ja', params)
    const en = adviceText(code, 'en', params)
    const a: Advice = { code, message: this.lang === 'ja' ? ja : en, ja, en }
    if (Object.keys(params).length) a.params = params
    this.report.advice.push(a)
    this.emit({ seq: ++this.seq, type: 'advice', data: a })
  }

  /** A check-specific live event (the diagnosis' `child` progress), stored and streamed like the others. */
  event (type: 'child', data: Record<string, unknown>): void {
    this.emit({ seq: ++this.seq, type, data })
  }

  /** A check's own result field (typed in CheckDataProps). */
  set<K extends CheckDataKey> (key: K, value: CheckData[K]): void {
    if (!(key in CheckDataProps)) throw new Error(`unknown report field ${String(key)}`)
    ;(this.report as CheckData)[key] = value
  }

  /** The verdict the steps so far make: the worst of their statuses. */
  verdict (): Status { return verdictOf(this.report.steps) }

  /**
   * End the report. Its status is the steps' verdict (verdict()), never
   * decided a second time: a check that ends on a finding no step carries yet
   * records that step first.
   */
  finish (summary: string): Report {
    this.report.status = this.verdict()
    this.report.summary = summary
    this.report.finishedAt = new Date().toISOString()
    this.report.durationMs = this.elapsed()
    this.emit({ seq: ++this.seq, type: 'done', data: this.report })
    return this.report
  }
}
