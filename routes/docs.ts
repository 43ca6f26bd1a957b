// /docs: the API and embed page for people (src/web/docs-page.ts), in the
// page's language. The generated OpenAPI page lives at /docs/openapi
// (src/plugins/swagger.ts); its JSON keeps its address, /docs/json.
import type { FastifyInstance } from 'fastify'
import { docsPage } from '../src/web/docs-page.js'
import { pageHeaders, pageLang } from './web.js'

export default async function docsRoutes (app: FastifyInstance): Promise<void> {
  app.get('/docs', { schema: { hide: true } }, async (req, reply) => {
    const origin = `${req.protocol}://${req.host}`
    return pageHeaders(reply).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(docsPage(pageLang(req), origin))
  })

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger())
}
