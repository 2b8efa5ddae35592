/**
 * The error a refusal ends in, checked to be the kind expected — so a test goes on to assert its
 * status, code and reason, and fails with a clear message when the call was accepted instead, or
 * failed in some other way (a crash is not a refusal).
 *
 * @example Await a refused verification, then assert what the client and the logs get.
 * ```ts
 * const error = await rejection(verifier.verifyAccessToken(await issuer.expired()))
 * expect(error).toMatchObject({ status: 401, code: 'invalid_token' })
 * ```
 */
import { expect } from 'vitest'
import { isAuthError, type AuthError } from 'bearer-guard'

/** A class of errors (`TypeError`, `FetchJsonError`); `AuthError` is checked with `isAuthError`. */
export type ErrorClass<E> = abstract new (...args: never[]) => E

/**
 * Awaits `promise`, which must reject with an `AuthError` (or, given `kind`, an instance of it),
 * and returns that error. Fails the test if the promise resolved or rejected with anything else.
 */
export async function rejection(promise: PromiseLike<unknown>): Promise<AuthError>
export async function rejection<E>(promise: PromiseLike<unknown>, kind: ErrorClass<E>): Promise<E>
export async function rejection<E>(promise: PromiseLike<unknown>, kind?: ErrorClass<E>): Promise<AuthError | E> {
  let value: unknown
  try {
    value = await promise
  } catch (error) {
    return expected(error, kind)
  }
  return expect.fail(`expected a rejection with ${name(kind)}, but it resolved to ${preview(value)}`)
}

/**
 * Calls `fn`, which must throw an `AuthError` (or, given `kind`, an instance of it) synchronously,
 * and returns the error. Fails the test if `fn` returned, or threw anything else.
 */
export function thrown(fn: () => unknown): AuthError
export function thrown<E>(fn: () => unknown, kind: ErrorClass<E>): E
export function thrown<E>(fn: () => unknown, kind?: ErrorClass<E>): AuthError | E {
  let value: unknown
  try {
    value = fn()
  } catch (error) {
    return expected(error, kind)
  }
  if (typeof (value as { then?: unknown } | null)?.then === 'function') {
    return expect.fail('the function returned a promise: await rejection(promise) instead of thrown()')
  }
  return expect.fail(`expected ${name(kind)} to be thrown, but it returned ${preview(value)}`)
}

function expected<E>(error: unknown, kind: ErrorClass<E> | undefined): AuthError | E {
  const ok = kind === undefined ? isAuthError(error) : error instanceof kind
  if (ok) return error as AuthError | E
  // the unexpected error as the cause, so its stack is printed with the failure
  throw new Error(`expected ${name(kind)}, but got ${describe(error)}`, { cause: error })
}

function name(kind: ErrorClass<unknown> | undefined): string {
  return kind === undefined ? 'an AuthError' : `a ${kind.name}`
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return preview(error)
}

function preview(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value)
    return text.length > 200 ? `${text.slice(0, 200)}…` : text
  } catch {
    return String(value)
  }
}
