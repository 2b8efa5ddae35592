/**
 * Simulated outages of the test issuer's endpoints (private): what `simulate(target, fault)` sets
 * and how each fault answers. A simulated timeout holds the request until its client aborts, at most
 * 60 s, and `settle()` (from `close()`) ends the ones still held.
 *
 * @module bearer-guard/testing
 */
import type { Fault } from './types.js'

/** An endpoint that can be made to fail. */
export type Endpoint = 'jwks' | 'discovery'

/** The faults of one issuer. */
export interface Faults {
  /** Sets (or with `null` clears) the fault of `target`. */
  simulate(target: Endpoint | 'all', fault: Fault | null): void
  /** The answer of `target`'s fault to `request`, or `undefined` when it has none. */
  answer(target: Endpoint, request: Request): Promise<Response> | undefined
  /** Answers every held (timed-out) request with a 504, so nothing waits after the test. */
  settle(): void
}

/** Longest a simulated timeout holds a request. */
const MAX_TIMEOUT_MS = 60_000
/** Size of the `'oversized'` body. */
const OVERSIZED_BYTES = 1024 * 1024

export function createFaults(): Faults {
  const faults: Record<Endpoint, Fault | null> = { jwks: null, discovery: null }
  const held = new Set<() => void>()

  function hold(request: Request): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer)
        request.signal.removeEventListener('abort', onAbort)
        held.delete(done)
      }
      const done = () => {
        cleanup()
        resolve(json({ error: 'simulated timeout' }, 504))
      }
      const onAbort = () => {
        cleanup()
        reject(request.signal.reason ?? new DOMException('aborted', 'AbortError'))
      }
      const timer = setTimeout(done, MAX_TIMEOUT_MS)
      unref(timer)
      held.add(done)
      if (request.signal.aborted) onAbort()
      else request.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  return {
    simulate(target, fault) {
      if (target === 'all' || target === 'jwks') faults.jwks = fault
      if (target === 'all' || target === 'discovery') faults.discovery = fault
    },
    answer(target, request) {
      const fault = faults[target]
      if (fault === null) return undefined
      if (typeof fault === 'function') return Promise.resolve(fault(request))
      if (typeof fault === 'number') return Promise.resolve(json({ error: 'simulated' }, fault))
      if (fault === 'bad-json') {
        return Promise.resolve(new Response('{"keys": [', { headers: { 'content-type': 'application/json' } }))
      }
      if (fault === 'oversized') return Promise.resolve(json({ keys: [], filler: 'x'.repeat(OVERSIZED_BYTES) }, 200))
      return hold(request)
    },
    settle() {
      for (const done of [...held]) done()
    },
  }
}

/** A JSON response. */
export function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  })
}

/** Node timers keep the process alive; edge runtimes have no `unref`. */
function unref(timer: unknown): void {
  const handle = timer as { unref?: () => void }
  handle.unref?.()
}
