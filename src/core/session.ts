// What a protocol client (src/smtp/, src/pop3/) may use of a check: a way
// to open a guarded connection, a transcript to write to, its limits and
// the absolute deadline. Narrower than CheckContext (no DNS, no store, no
// logger, no report verdict), so a client can be driven from a test, a
// bench or a worker with a few lines. A CheckContext is a ProbeSession.
import type { ConnectRequest, GuardedSocket } from '../net/connect.js'
import type { TranscriptSink } from './report.js'

export type { TranscriptSink }

/** Options a client may narrow (never widen: the connector caps them at the check's own). */
export type SessionConnectOptions = Partial<Pick<ConnectRequest, 'tls' | 'servername' | 'connectTimeoutMs' | 'maxBytes' | 'deadline'>>

export interface ProbeLimits {
  heloName: string
  /** time allowed for the greeting after connect */
  bannerTimeoutMs: number
  /** time allowed for any one reply */
  commandTimeoutMs: number
  /** bytes read from one connection at most */
  maxBytesPerConnection: number
}

export interface ProbeSession {
  /** open a guarded connection to the caller's own IP (anything else is refused by the connector) */
  connect: (ip: string, port: number, opts?: SessionConnectOptions) => Promise<GuardedSocket>
  /** where every line sent and received goes */
  report: TranscriptSink
  settings: ProbeLimits
  /** epoch ms at which the whole session must be over */
  deadline: number
}
