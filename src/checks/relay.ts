// The open-relay check: does the caller's MX carry mail for strangers?
// Runs the battery from src/smtp/relay.ts against the caller's MX address
// (MAIL + RCPT + RSET per vector, never DATA) and judges the RCPT answers.
//
// Verdict:
// - fail  any RCPT to an outside recipient was accepted (2xx). Said as
//         "accepted at RCPT: possibly an open relay", because some servers
//         accept every RCPT and bounce later; that is still abusable.
// - warn  nothing was accepted, but the server demanded authentication
//         (530) before the battery could run, or some refusals were only
//         temporary (4xx: greylisting hides the real policy).
// - pass  every attempt was refused with 5xx.
import type { CheckDefinition } from './context.js'
import { validateDomain } from '../dns/names.js'
import { BadInputError } from '../errors.js'
import { mailTargetFor } from './mailhosts.js'
import { relayVectors, runEnvelopes, type Envelope, type EnvelopeResult } from '../smtp/relay.js'
import { worst, type Status } from './report.js'

export interface RelayInput { domain: string }

export interface RelayPlan { domain: string, host: string, ip: string, outside: string }

export interface RelayVector extends EnvelopeResult {
  nmap: boolean
  note: string
}

function related (a: string, b: string): boolean {
  return a === b || a.endsWith('.' + b) || b.endsWith('.' + a)
}

export const relayCheck: CheckDefinition<RelayInput, RelayPlan> = {
  type: 'relay',
  probes: true,
  async prepare (ctx, input) {
    const d = validateDomain(input.domain)
    const outside = ctx.settings.relayProbeDomain.toLowerCase()
    // If the "outside" domain is the tested domain (or inside it), a 250 means local delivery, not relaying.
    if (related(d.ascii, outside)) {
      throw new BadInputError(`${d.ascii} is this mxprobe's own relay-probe domain (${outside}); relay tests need an outside domain (RELAY_PROBE_DOMAIN)`, 'domain')
    }
    const { match } = await mailTargetFor(ctx, d.ascii)
    ctx.report.target({ domain: d.ascii, host: match.host.host, ip: match.address.address })
    return { domain: d.ascii, host: match.host.host, ip: match.address.address, outside }
  },
  async run (ctx, plan) {
    const r = ctx.report
    const envelopes = relayVectors({ domain: plan.domain, host: plan.host, ip: plan.ip, outside: plan.outside })
    const byId = new Map<string, Envelope>(envelopes.map((e) => [e.id, e]))
    r.info(`relay battery: ${envelopes.length} attempts (MAIL + RCPT + RSET, never DATA) to the outside domain ${plan.outside}`)
    const out = await runEnvelopes(ctx, plan.ip, envelopes, {
      servername: plan.host,
      onResult: (x) => {
        const e = byId.get(x.id)!
        const st = x.accepted ? 'fail' : x.code !== null && x.code >= 400 && x.code < 500 ? 'warn' : 'pass'
        r.step(`relay ${x.id}`, st, `MAIL FROM:<${x.mailFrom}> RCPT TO:<${x.rcptTo}> → ${x.accepted ? 'ACCEPTED' : 'refused'} at ${x.stage.toUpperCase()}: ${x.reply ?? ''} (${e.note})`)
      }
    })
    const vectors: RelayVector[] = out.results.map((x) => ({ ...x, nmap: !!byId.get(x.id)?.nmap, note: byId.get(x.id)?.note ?? '' }))
    r.set('vectors', vectors)
    r.set('relay', {
      outsideDomain: plan.outside,
      attempts: vectors.length,
      nmapTests: vectors.filter((v) => v.nmap).length,
      connections: out.connections,
      pipelining: out.pipelining,
      banner: out.banner,
      stoppedEarly: out.stoppedEarly,
      tls: out.tls,
      ms: out.ms
    })

    const statuses: Status[] = []
    const accepted = vectors.filter((v) => v.accepted)
    for (const v of accepted) {
      const e = byId.get(v.id)!
      r.advise(e.trick ? 'relay.open_trick' : 'relay.open', { id: v.id, mailFrom: v.mailFrom || '<>', rcptTo: v.rcptTo, outside: plan.outside })
    }
    if (accepted.length) {
      r.advise('relay.mynetworks_hint', { ip: plan.ip })
      statuses.push('fail')
    }
    const temporary = vectors.filter((v) => !v.accepted && v.code !== null && v.code >= 400 && v.code < 500)
    if (out.authRequired) {
      r.step('authentication', 'warn', `the server demanded authentication: ${out.authRequired}`)
      r.advise('relay.auth_required', { reply: out.authRequired })
      statuses.push('warn')
    } else if (temporary.length) {
      r.advise('relay.temporary', { count: temporary.length, reply: temporary[0].reply })
      statuses.push('warn')
    }
    if (out.stoppedEarly && !accepted.length) {
      // Nothing accepted, but not everything tried: not a clean pass.
      r.step('battery', 'warn', `incomplete: ${out.stoppedEarly}`)
      statuses.push('warn')
    } else if (out.stoppedEarly) {
      r.step('battery', 'info', `stopped early: ${out.stoppedEarly}`)
    }
    const status = worst(...statuses)
    if (status === 'pass') r.advise('relay.closed', { count: vectors.length })
    const summary = accepted.length
      ? `accepted at RCPT: possibly an open relay; some servers accept and bounce later (${accepted.length} of ${vectors.length} attempts accepted: ${accepted.map((v) => v.id).join(', ')})`
      : out.authRequired
        ? `not an open relay as far as tested: the server demanded authentication (${out.authRequired})`
        : temporary.length
          ? `no relay accepted, but ${temporary.length} of ${vectors.length} refusals were temporary (4xx)`
          : out.stoppedEarly
            ? `no relay accepted, but the battery was incomplete: ${out.stoppedEarly}`
            : `not an open relay: all ${vectors.length} relay attempts were refused`
    r.finish(status, summary)
  }
}
