/** `chain` (src/core/engine/maybe-promise.ts): the one hand-over between stages. */
import { describe, expect, it } from 'vitest'
import { chain, isPromiseLike } from '../../../src/core/engine/maybe-promise.js'

const add = (value: number, a: number, b: number) => value + a + b

describe('chain', () => {
  it('calls the next stage at once, with the riding arguments, when the value is ready', () => {
    expect(chain(1, add, 2, 3)).toBe(6)
  })

  it('waits for a pending value, and for a foreign thenable', async () => {
    const answer = chain(Promise.resolve(1), add, 2, 3)
    expect(isPromiseLike(answer)).toBe(true)
    expect(await answer).toBe(6)
    const thenable = { then: (resolve: (v: number) => void) => resolve(10) } as PromiseLike<number>
    expect(await chain(thenable, add, 1, 1)).toBe(12)
  })

  it('passes a rejection through without calling the next stage', async () => {
    let called = false
    const answer = chain(Promise.reject(new Error('store down')), () => (called = true))
    await expect(answer).rejects.toThrow('store down')
    expect(called).toBe(false)
  })
})
