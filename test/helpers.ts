// Shared test plumbing: an app built against real Redis (or memory) with a
// unique key prefix, random loopback addresses standing in for home servers.
import { randomBytes, randomInt } from 'node:crypto'
import { pino } from 'pino'
import { loadConfig, type Config } from '../src/config.js'
import { buildApp } from '../src/app.js'
import type { FastifyInstance } from 'fastify'
import type { Store } from '../src/store/types.js'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A random 127.x.y.z (never 127.0.0.1): every test file gets its own "home
 * server" address, so parallel test files can bind port 25 without clashing.
 */
export function randomLoopback (): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(2, 255)}`
}

export function uniquePrefix (): string {
  return `mxprobe-test:${randomBytes(6).toString('hex')}:`
}

export function testConfig (env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    HELO_NAME: 'probe.mxprobe.test',
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    LOG_LEVEL: 'silent',
    REDIS_PREFIX: uniquePrefix(),
    CONNECT_TIMEOUT_MS: '2000',
    BANNER_TIMEOUT_MS: '3000',
    COMMAND_TIMEOUT_MS: '3000',
    CHECK_DEADLINE_MS: '15000',
    ...env
  })
}

export async function testApp (env: Record<string, string | undefined> = {}, store?: Store): Promise<FastifyInstance> {
  const config = testConfig(env)
  return await buildApp(config, { logger: pino({ level: 'silent' }), store })
}
