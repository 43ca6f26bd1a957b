// One result model for every check. A check writes steps, transcript lines
// and advice into a ReportBuilder; the builder stamps times and passes each
// addition to `emit`, which is how the live event stream is fed.
import { randomBytes } from 'node:crypto'
import { adviceText, type Lang } from '../i18n/index.js'
import { stepTitle } from '../i18n/steps.js'

export type Status = 'pass' | 'warn' | 'fail' | 'error'
export type StepStatus = Status | 'info' | 'skip'
/** C: sent by mxprobe, S: received from the server, I: information (TLS upgrade, timing) */
export type Dir = 'C' | 'S' | 'I'

/** name: a stable machine name; title: the step's name for people, in the report's language */
export interface Step { name: string, title: string, status: StepStatus, detail: string, ms?: number }
export interface TranscriptLine { at: number, dir: Dir, text: string }
export interface Advice { code: string, message: string, ja: string, en: string, params?: Record<string, unknown> }
export interface Target { domain: string | null, host: string | null, ip: string | null }

export interface Report {
  id: string
  type: string
  status: Status | 'running'
  callerIp: string
  target: Target
  startedAt: string
  finishedAt: string | null
  summary: string
  steps: Step[]
  transcript: TranscriptLine[]
  advice: Advice[]
  lang: Lang
  /** check-specific results (vectors, mailboxes, ports, dns, tls …) live beside the common fields */
  [extra: string]: unknown
}

export type ReportEvent =
  | { seq: number, type: 'transcript', data: TranscriptLine }
  | { seq: number, type: 'step', data: Step }
  | { seq: number, type: 'advice', data: Advice }
  | { seq: number, type: 'target', data: Target }
  | { seq: number, type: 'done', data: Report }
  /** a diagnosis (`all`) telling how one of its child checks is doing (see src/checks/all.ts) */
  | { seq: number, type: 'child', data: Record<string, unknown> }

/** Report ids are unguessable: a stored report shows a caller's IP and mail server. */
export function newReportId (): string {
  return randomBytes(12).toString('base64url')
}

export const REPORT_ID = /^[A-Za-z0-9_-]{16}$/

export class ReportBuilder {
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

  get lang (): Lang { return this.report.lang }
  elapsed (): number { return Date.now() - this.t0 }

  target (t: Partial<Target>): void {
    Object.assign(this.report.target, t)
    this.emit({ seq: ++this.seq, type: 'target', data: { ...this.report.target } })
  }

  line (dir: Dir, text: string): void {
    if (this.report.transcript.length >= ReportBuilder.maxTranscript) {
      if (this.report.transcript.length === ReportBuilder.maxTranscript) {
        const cut = { at: this.elapsed(), dir: 'I' as Dir, text: `… transcript cut at ${ReportBuilder.maxTranscript} lines` }
        this.report.transcript.push(cut)
        this.emit({ seq: ++this.seq, type: 'transcript', data: cut })
      }
      return
    }
    const l = { at: this.elapsed(), dir, text }
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

  set (key: string, value: unknown): void {
    if (['id', 'type', 'status', 'callerIp', 'startedAt', 'finishedAt', 'steps', 'transcript', 'advice'].includes(key)) throw new Error(`reserved report field ${key}`)
    this.report[key] = value
  }

  finish (status: Status, summary: string): Report {
    this.report.status = status
    this.report.summary = summary
    this.report.finishedAt = new Date().toISOString()
    this.report.durationMs = this.elapsed()
    this.emit({ seq: ++this.seq, type: 'done', data: this.report })
    return this.report
  }
}

/** The worst of several statuses: error > fail > warn > pass. */
export function worst (...s: Status[]): Status {
  const order: Status[] = ['pass', 'warn', 'fail', 'error']
  return s.reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a), 'pass' as Status)
}
