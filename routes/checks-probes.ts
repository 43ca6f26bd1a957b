// Endpoints of the probe checks: ports, POP3, open relay, role mailboxes.
// Thin: each is a check definition behind registerCheckRoute (schema,
// per-IP and per-domain limits, sync or ?async=1).
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { domainKeyOf } from '../src/checks/target-input.js'
import { registerCheckRoute, DomainField } from './helpers.js'
import { portsCheck, type PortsInput } from '../src/checks/ports.js'
import { pop3Check, type Pop3Input } from '../src/checks/pop3.js'
import { relayCheck, type RelayInput } from '../src/checks/relay.js'
import { rolesCheck, type RolesInput } from '../src/checks/roles.js'

export default async function probeRoutes (app: FastifyInstance): Promise<void> {
  registerCheckRoute<PortsInput>(app, {
    path: '/api/v1/checks/ports',
    def: portsCheck,
    limit: 'ports',
    summary: 'Which mail ports of the caller\'s IP are reachable from the internet (open, refused, filtered), with banners',
    description: 'Connects to the caller\'s own IP on 25, 110, 143, 465, 587, 993, 995 (or the given subset), in parallel; the banner is read over TLS on 465/993/995.',
    body: Type.Object({ ports: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { minItems: 1, maxItems: 32 })) }, { additionalProperties: false }),
    // The two checks that hammer a server: an identical repeat within REPEAT_WINDOW_SECONDS gets the recent report.
    reuseRecent: true
  })

  registerCheckRoute<Pop3Input>(app, {
    path: '/api/v1/checks/pop3',
    def: pop3Check,
    limit: 'pop3',
    summary: 'The caller\'s POP3 server: greeting, CAPA, STLS and certificate, port 995, optional login over TLS',
    description: 'With username and password, a login is tried over TLS only (STLS on 110 or port 995) and only STAT runs; the password is never echoed, logged or stored.',
    body: Type.Object({
      domain: DomainField,
      username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      password: Type.Optional(Type.String({ minLength: 1, maxLength: 512, writeOnly: true }))
    }, { additionalProperties: false }),
    domainOf: (b) => domainKeyOf(b.domain)
  })

  registerCheckRoute<RelayInput>(app, {
    path: '/api/v1/checks/relay',
    def: relayCheck,
    limit: 'relay',
    summary: 'Is the caller\'s MX an open relay? A battery of relay attempts (MAIL + RCPT, never DATA)',
    description: 'More than 20 attempts, a superset of nmap smtp-open-relay: spoofed senders and recipient tricks (%, @@, quoted, source route, bang path, address literals, case and trailing dot), all to RELAY_PROBE_DOMAIN. Report field `vectors`.',
    body: Type.Object({ domain: DomainField }, { additionalProperties: false }),
    domainOf: (b) => domainKeyOf(b.domain),
    reuseRecent: true
  })

  registerCheckRoute<RolesInput>(app, {
    path: '/api/v1/checks/roles',
    def: rolesCheck,
    limit: 'roles',
    summary: 'Does the caller\'s MX accept postmaster@, <postmaster>, abuse@ (required) and webmaster@, hostmaster@, noc@, security@, ftp@ (recommended)? RCPT only, never DATA',
    body: Type.Object({ domain: DomainField }, { additionalProperties: false }),
    domainOf: (b) => domainKeyOf(b.domain)
  })
}
