// A line reader over a guarded socket, for line-based protocols that greet
// first (POP3, and the banner read of the ports check). Every byte comes
// from a server we do not trust: lines are capped, control characters are
// made visible, and each wait has its own timeout on top of the
// connector's absolute deadline.
import type net from 'node:net'
import { ProbeError } from '../errors.js'

/** Untrusted server text as a single printable line: controls become \xNN, length capped. */
export function visible (text: string, max = 512): string {
  const s = text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return s.length > max ? s.slice(0, max) + '…' : s
}

export interface LineReaderOptions {
  /** longest line accepted (bytes, without CRLF); longer is a protocol error */
  maxLine: number
}

type Waiter = { resolve: (line: string) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }

export class LineReader {
  private buf: Buffer = Buffer.alloc(0)
  private lines: string[] = []
  private waiter: Waiter | null = null
  private failure: Error | null = null
  private socket: net.Socket | null = null
  private readonly onData = (chunk: Buffer): void => this.push(chunk)
  private readonly onEnd = (): void => this.fail(new ProbeError('closed', 'the server closed the connection'))
  private readonly onError = (err: Error): void => this.fail(err instanceof ProbeError ? err : new ProbeError('closed', `connection error: ${err.message}`))

  constructor (socket: net.Socket, private readonly opts: LineReaderOptions = { maxLine: 2048 }) {
    this.attach(socket)
  }

  /** Read from another socket from now on (after a TLS upgrade the plain socket carries ciphertext). */
  attach (socket: net.Socket): void {
    this.detach()
    this.socket = socket
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('close', this.onEnd)
    socket.on('error', this.onError)
  }

  detach (): void {
    const s = this.socket
    if (!s) return
    s.removeListener('data', this.onData)
    s.removeListener('end', this.onEnd)
    s.removeListener('close', this.onEnd)
    s.removeListener('error', this.onError)
    // Keep a no-op error listener: a late error on a detached socket must not crash the process.
    s.on('error', () => {})
    this.socket = null
  }

  /** Bytes received after the last complete line (a server that talks before being asked). */
  pendingBytes (): number { return this.buf.length + this.lines.reduce((n, l) => n + l.length, 0) }

  private push (chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    let i: number
    while ((i = this.buf.indexOf(0x0a)) >= 0) {
      let line = this.buf.subarray(0, i)
      this.buf = this.buf.subarray(i + 1)
      if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1)
      if (line.length > this.opts.maxLine) return this.fail(new ProbeError('line_too_long', `the server sent a line longer than ${this.opts.maxLine} bytes`))
      this.lines.push(line.toString('utf8'))
    }
    if (this.buf.length > this.opts.maxLine) return this.fail(new ProbeError('line_too_long', `the server sent a line longer than ${this.opts.maxLine} bytes`))
    this.flush()
  }

  private flush (): void {
    if (this.waiter && this.lines.length) {
      const w = this.waiter
      this.waiter = null
      clearTimeout(w.timer)
      w.resolve(this.lines.shift()!)
    }
  }

  private fail (err: Error): void {
    if (this.failure) return
    this.failure = err
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      clearTimeout(w.timer)
      w.reject(err)
    }
  }

  /** The next line, or a ProbeError: 'silent' after timeoutMs, 'closed', 'line_too_long', or the connector's deadline/byte cap. */
  next (timeoutMs: number, what = 'an answer'): Promise<string> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!)
    if (this.failure) return Promise.reject(this.failure)
    if (this.waiter) return Promise.reject(new Error('LineReader: two readers at once'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null
        reject(new ProbeError('silent', `no ${what} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiter = { resolve, reject, timer }
    })
  }
}
