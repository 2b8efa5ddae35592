/**
 * The Redis store's state machine on its own: which events prove the mirror complete, which are
 * too old to, and the one staleness rule. No Redis needed.
 */
import { describe, expect, it } from 'vitest'
import { initialState, next, staleness, type Event, type State } from '../../src/redis/state.js'

const run = (state: State, ...events: Event[]) => events.reduce(next, state)
const T0 = 1_000_000

describe('the Redis store state', () => {
  it('becomes synced by a resync that began while subscribed, proven from when it began', () => {
    const subscribed = run(initialState(T0), { type: 'subscribed', epoch: 0 })
    expect(subscribed).toMatchObject({ phase: 'subscribed', provenAt: T0 })
    const synced = next(subscribed, { type: 'resynced', from: subscribed, at: T0 + 50, found: 3 })
    expect(synced).toEqual({ phase: 'synced', epoch: 0, provenAt: T0 + 50, failingClosed: false })
  })

  it('is not synced by a resync that began before the subscription (it may have missed messages)', () => {
    const offline = initialState(T0)
    const subscribed = next(offline, { type: 'subscribed', epoch: 0 })
    expect(next(subscribed, { type: 'resynced', from: offline, at: T0 + 50, found: 0 })).toBe(subscribed)
  })

  it('is not synced by a resync whose subscription was lost while it ran, even if resubscribed since', () => {
    const subscribed = run(initialState(T0), { type: 'subscribed', epoch: 0 })
    const again = run(subscribed, { type: 'lost', why: 'connection closed' }, { type: 'subscribed', epoch: 1 })
    expect(again).toMatchObject({ phase: 'subscribed', epoch: 1 })
    expect(next(again, { type: 'resynced', from: subscribed, at: T0 + 50, found: 0 })).toBe(again)
  })

  it('ignores a SUBSCRIBE confirmed for a subscription lost meanwhile', () => {
    const lost = run(initialState(T0), { type: 'lost', why: 'connection ended' })
    expect(lost).toMatchObject({ phase: 'offline', epoch: 1 })
    expect(next(lost, { type: 'subscribed', epoch: 0 })).toBe(lost)
  })

  it('counts a message as proof only while synced', () => {
    const subscribed = run(initialState(T0), { type: 'subscribed', epoch: 0 })
    expect(next(subscribed, { type: 'heard', at: T0 + 10 })).toBe(subscribed)
    const synced = next(subscribed, { type: 'resynced', from: subscribed, at: T0 + 20, found: 0 })
    expect(next(synced, { type: 'heard', at: T0 + 900 }).provenAt).toBe(T0 + 900)
    // an older proof never moves provenAt back
    expect(next(synced, { type: 'resynced', from: synced, at: T0 + 5, found: 0 }).provenAt).toBe(T0 + 20)
  })

  it('loses synced on a lost subscription but keeps its last proof, which ages from there', () => {
    const subscribed = run(initialState(T0), { type: 'subscribed', epoch: 0 })
    const synced = next(subscribed, { type: 'resynced', from: subscribed, at: T0 + 20, found: 0 })
    const lost = next(synced, { type: 'lost', why: 'connection closed' })
    expect(lost).toEqual({ phase: 'offline', epoch: 1, provenAt: T0 + 20, failingClosed: false })
    expect(next(lost, { type: 'heard', at: T0 + 500 })).toBe(lost)
  })

  it('marks failing closed once, and the next proof clears it', () => {
    const subscribed = run(initialState(T0), { type: 'subscribed', epoch: 0 })
    const synced = next(subscribed, { type: 'resynced', from: subscribed, at: T0, found: 0 })
    const failing = next(synced, { type: 'stale', ms: 61_000 })
    expect(failing.failingClosed).toBe(true)
    expect(next(failing, { type: 'stale', ms: 62_000 })).toBe(failing)
    expect(next(failing, { type: 'heard', at: T0 + 62_000 })).toMatchObject({ failingClosed: false, provenAt: T0 + 62_000 })
  })

  it('stays closed whatever happens after close', () => {
    const closed = run(initialState(T0), { type: 'subscribed', epoch: 0 }, { type: 'closed' })
    expect(closed.phase).toBe('closed')
    for (const event of [
      { type: 'lost', why: 'connection closed' },
      { type: 'subscribed', epoch: 0 },
      { type: 'resynced', from: closed, at: T0, found: 0 },
      { type: 'heard', at: T0 },
      { type: 'stale', ms: 1 },
    ] as Event[]) {
      expect(next(closed, event)).toBe(closed)
    }
  })

  it('is stale only past maxStaleness, measured from the last proof', () => {
    const state = initialState(T0)
    expect(staleness(state, T0 + 60_000, 60_000)).toEqual({ ms: 60_000, stale: false })
    expect(staleness(state, T0 + 60_001, 60_000)).toEqual({ ms: 60_001, stale: true })
    expect(staleness(state, T0 + 1e12, Infinity).stale).toBe(false)
  })
})
