/**
 * Setup of the "edge" test project. Edge runtimes (Vercel/Next edge, Cloudflare Workers) have no
 * `process.getBuiltinModule`, so the core must verify with Web Crypto alone. vitest's edge-runtime
 * environment still runs inside Node and would leak it: take it away, so these runs prove that no
 * Node-only API is needed.
 */
const proc = (globalThis as { process?: { getBuiltinModule?: unknown } }).process
if (proc && 'getBuiltinModule' in proc) {
  Object.defineProperty(proc, 'getBuiltinModule', { value: undefined, configurable: true, writable: true })
}
