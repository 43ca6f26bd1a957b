import type { FastifyInstance } from 'fastify'
export default async function sendPageRoutes (_app: FastifyInstance): Promise<void> {}
