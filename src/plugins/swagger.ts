// The OpenAPI description (/docs/json) and its browsable page (/docs).
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export default async function swaggerPlugin (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'mxprobe', description: 'Test your own home mail server from the outside: DNS/MX, ports, SMTP, a real receive test, open relay, role mailboxes, POP3.', version: '0.1.0' }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}
// Not encapsulated: the routes registered after it are described.
;(swaggerPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true
