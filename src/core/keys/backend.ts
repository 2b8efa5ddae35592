/**
 * Which crypto backend verifies: `node:crypto` on Node (the fast path, taken when
 * `process.getBuiltinModule` offers it) and Web Crypto everywhere else. Both give the same decision
 * for every input; the test suite runs the attack cases through both.
 *
 * @module bearer-guard
 */

export type NodeCrypto = typeof import('node:crypto')

let node: NodeCrypto | undefined | null = null
let forced: 'node' | 'web' | undefined

/** `node:crypto` when this runtime has it (Node ≥ 20.16, Bun, Deno), else `undefined`. */
export function nodeCrypto(): NodeCrypto | undefined {
  if (forced === 'web') return undefined
  if (node === null) {
    try {
      const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
      node = (proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined) ?? undefined
    } catch {
      node = undefined
    }
  }
  return node
}

/** Internal, for tests and benchmarks: force one backend. Keys imported before keep their form. */
export function setCryptoBackend(backend: 'node' | 'web' | undefined): void {
  forced = backend
}

/** Which backend new verifications use. */
export function cryptoBackend(): 'node' | 'web' {
  return nodeCrypto() ? 'node' : 'web'
}
