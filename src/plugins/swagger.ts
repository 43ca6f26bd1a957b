// The OpenAPI description (/docs/json, routes/docs.ts) and its browsable
// page (/docs/openapi); /docs itself is the page for people (routes/docs.ts).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

async function swaggerPlugin (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'mxprobe', description: 'Test your own home mail server from the outside: DNS/MX, ports, SMTP, a real receive test, open relay, role mailboxes, POP3.', version: '0.1.0' }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs/openapi' })
}
// Not encapsulated (fp): the routes registered after it, anywhere in the app, are described.
export default fp(swaggerPlugin, { name: 'mxprobe-swagger' })
