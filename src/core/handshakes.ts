// TLS handshakes one check has made, for another check of the same
// diagnosis to use instead of connecting again. Inside まとめて診断 the smtp
// check's STARTTLS on 25 (and the pop3 check's 995 and 110 STLS) already
// shows the server's chain, version and cipher: the tls check takes them
// from here, so a server that limits connections per minute (postscreen,
// Exim's smtp_accept_max_per_host) is asked once less per port.
//
// The diagnosis says which ports a child will report (`expect`); the child
// `offer`s what it saw; when the child ends without an offer the diagnosis
// `settle`s its ports, and `take` answers null: the tls check connects itself.
import type { X509Certificate } from 'node:crypto'

export interface HandshakeFacts {
  protocol: string | null
  cipher: string | null
  /** the certificates the server sent, leaf first */
  chain: X509Certificate[]
  /** the key exchange group (X25519, P-256 …), when node says */
  group: string | null
  ms: number
}

interface Entry { ip: string | null, facts: HandshakeFacts | null, done: Promise<void>, resolve: () => void }

export class HandshakeMemo {
  private readonly entries = new Map<number, Entry>()

  private entry (port: number): Entry {
    let e = this.entries.get(port)
    if (!e) {
      let settle!: () => void
      const done = new Promise<void>((resolve) => { settle = resolve })
      e = { ip: null, facts: null, done, resolve: settle }
      this.entries.set(port, e)
    }
    return e
  }

  /** A child that will run reports on these ports: `take` waits for it. */
  expect (...ports: number[]): void {
    for (const p of ports) this.entry(p)
  }

  /** What a check saw on `ip`:`port` (the first offer counts). */
  offer (ip: string, port: number, facts: HandshakeFacts): void {
    const e = this.entry(port)
    if (e.facts) return
    e.ip = ip
    e.facts = facts
    e.resolve()
  }

  /** The child that was expected on these ports has ended: nothing more comes. */
  settle (...ports: number[]): void {
    for (const p of ports) this.entries.get(p)?.resolve()
  }

  /** Which ports are expected (for the transcript). */
  get ports (): number[] { return [...this.entries.keys()] }

  /**
   * The handshake seen on `ip`:`port`, waiting at most `waitMs` for an
   * expected one; null when none was expected, none came, or it was another
   * address.
   */
  async take (ip: string, port: number, waitMs: number): Promise<HandshakeFacts | null> {
    const e = this.entries.get(port)
    if (!e) return null
    if (!e.facts) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([e.done, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(0, waitMs)) })])
      clearTimeout(timer)
    }
    return e.facts && e.ip === ip ? e.facts : null
  }
}
