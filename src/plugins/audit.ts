// The audit trail of outbound probing. The guarded connector logs one record
// per connection attempt (time, caller IP, target IP and port, check id,
// outcome); this adds one record per finished check listing the commands
// mxprobe sent — the 'C' lines of the transcript — with secrets redacted, so
// an operator answering an abuse complaint can say exactly what was sent.
import type { Report } from '../core/report.js'

/** Commands kept per audit record; a check sends far fewer, a mail body is cut. */
const MAX_COMMANDS = 200
const MAX_COMMAND_CHARS = 300

/**
 * Credentials never reach a log: POP3 PASS/APOP, SMTP AUTH with an initial
 * response, and anything the pop3 check already redacted stays redacted.
 */
export function redactCommand (text: string): string {
  const t = text.replace(/[\r\n]+$/, '')
  if (/^PASS\b/i.test(t)) return 'PASS [redacted]'
  if (/^APOP\s+\S+/i.test(t)) return t.replace(/^(APOP\s+\S+)\s+.*$/i, '$1 [redacted]')
  if (/^AUTH\s+\S+\s+\S/i.test(t)) return t.replace(/^(AUTH\s+\S+)\s+.*$/i, '$1 [redacted]')
  return t.length > MAX_COMMAND_CHARS ? t.slice(0, MAX_COMMAND_CHARS) + '…' : t
}

export interface CheckAuditRecord {
  checkId: string
  checkType: string
  callerIp: string
  targetIp: string | null
  targetHost: string | null
  targetDomain: string | null
  startedAt: string
  finishedAt: string | null
  status: string
  commands: string[]
  commandsOmitted?: number
}

export function checkAuditRecord (r: Report): CheckAuditRecord {
  const sent = r.transcript.filter((l) => l.dir === 'C')
  // A line sent right after "334" (SMTP AUTH challenge) is a credential too.
  const commands: string[] = []
  let lastReply = ''
  for (const l of r.transcript) {
    if (commands.length >= MAX_COMMANDS) break
    if (l.dir === 'S') lastReply = l.text
    if (l.dir !== 'C') continue
    commands.push(/^334\b/.test(lastReply) ? '[redacted]' : redactCommand(l.text))
    lastReply = ''
  }
  const rec: CheckAuditRecord = {
    checkId: r.id,
    checkType: r.type,
    callerIp: r.callerIp,
    targetIp: r.target.ip,
    targetHost: r.target.host,
    targetDomain: r.target.domain,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    status: String(r.status),
    commands
  }
  if (sent.length > commands.length) rec.commandsOmitted = sent.length - commands.length
  return rec
}
