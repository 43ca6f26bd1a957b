// Endpoints of the probe checks: ports, POP3, open relay, role mailboxes.
// Thin: each is a check definition behind registerCheckRoute (schema,
// per-IP and per-domain limits, sync or ?async=1).
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { registerCheckRoute, DomainField } from './helpers.js'
import { portsCheck, type PortsInput } from '../src/checks/ports.js'

export default async function probeRoutes (app: FastifyInstance): Promise<void> {
  registerCheckRoute<PortsInput>(app, {
    path: '/api/v1/checks/ports',
    def: portsCheck,
    limit: 'ports',
    summary: 'Which mail ports of the caller\'s IP are reachable from the internet (open, refused, filtered), with banners',
    description: 'Connects to the caller\'s own IP on 25, 110, 143, 465, 587, 993, 995 (or the given subset), in parallel; the banner is read over TLS on 465/993/995.',
    body: Type.Object({ ports: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { minItems: 1, maxItems: 32 })) }, { additionalProperties: false })
  })
  void DomainField
}
