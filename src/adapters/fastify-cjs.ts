/**
 * The CommonJS entry of `bearer-guard/fastify` (the ESM entry is ./fastify.ts, whose types both
 * share). `module.exports` is the plugin itself, carrying the named exports, as `@fastify/jwt` does:
 * `app.register(require('bearer-guard/fastify'))`, `require('bearer-guard/fastify').default` and
 * `const { requireRole } = require('bearer-guard/fastify')` all work, and TypeScript's
 * `import bearerGuard, { requireRole } from 'bearer-guard/fastify'` compiles to them.
 *
 * @module bearer-guard/fastify
 */
import * as fastify from './fastify.js'

export default Object.assign(fastify.default, fastify)
