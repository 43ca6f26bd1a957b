// HTML forms and `curl -d` post application/x-www-form-urlencoded; the check
// routes convert such bodies by their own schema (routes/helpers.ts).
import type { FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'

export default async function formbodyPlugin (app: FastifyInstance, opts: { bodyLimit: number }): Promise<void> {
  await app.register(formbody, { bodyLimit: opts.bodyLimit })
}
;(formbodyPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true
