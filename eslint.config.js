// neostandard (fastify's own style) over everything we write: sources,
// routes, tests, benchmarks, scripts and the pages' browser scripts.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, env: ['browser'], ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**'] }),
  {
    rules: {
      // SMTP and terminal escapes are what these patterns look for.
      'no-control-regex': 'off'
    }
  }
]
