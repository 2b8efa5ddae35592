/**
 * "A value, or a promise of it": the verification path is synchronous while keys are warm and the
 * crypto is node:crypto, and only waits where something is pending (a JWKS fetch, Web Crypto, a
 * revocation store). `chain` is the one way a stage hands its result to the next.
 *
 * @module bearer-guard
 */

export type MaybePromise<T> = T | Promise<T>

/** True for a promise or any thenable (a store's answer may be a promise from another realm). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/**
 * `next(value, a, b, c, d)`: at once when `value` is ready, else once it resolves (a rejection passes
 * through). The arguments ride along instead of a closure, so the synchronous path allocates
 * nothing: a closure is made only when `value` is pending. `next` must be a function made once (a
 * module's or a verifier's), never one made per token.
 */
export function chain<T, R, A = undefined, B = undefined, C = undefined, D = undefined>(
  value: MaybePromise<T> | PromiseLike<T>,
  next: (value: T, a: A, b: B, c: C, d: D) => MaybePromise<R>,
  a?: A,
  b?: B,
  c?: C,
  d?: D,
): MaybePromise<R> {
  if (!isPromiseLike(value)) return next(value, a as A, b as B, c as C, d as D)
  return Promise.resolve(value).then((v) => next(v, a as A, b as B, c as C, d as D))
}
