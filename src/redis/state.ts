/**
 * The Redis store's state, explicit: one immutable value, changed only by `next(state, event)`.
 *
 * ```text
 *            subscribed            resynced
 *   offline ───────────▶ subscribed ───────▶ synced        any ── closed ──▶ closed (final)
 *      ▲                     │                 │
 *      └─────── lost ────────┴─────────────────┘
 * ```
 *
 * `epoch` counts lost subscriptions: a SUBSCRIBE or a resync that began in an older epoch may have
 * missed messages and proves nothing. `provenAt` is when the mirror was last proven complete — by a
 * resync that started while subscribed and ended in the same subscription, or by any message heard
 * while synced. `staleness()` measures from it: the one rule behind `isRevoked`'s 503 and `status`.
 *
 * @module bearer-guard/redis
 */

export type Phase = 'offline' | 'subscribed' | 'synced' | 'closed'

export interface State {
  readonly phase: Phase
  readonly epoch: number
  /** Ms since the epoch when the mirror was last proven complete (creation time before the first proof). */
  readonly provenAt: number
  /** Set when a check is refused as stale, cleared by the next proof: each edge is logged once. */
  readonly failingClosed: boolean
}

export type Event =
  /** SUBSCRIBE confirmed; it was sent in `epoch`. */
  | { readonly type: 'subscribed'; readonly epoch: number }
  /** The subscriber connection closed or ended. */
  | { readonly type: 'lost'; readonly why: string }
  /** A resync that began in state `from` at `at` (ms) completed, having found `found` keys. */
  | { readonly type: 'resynced'; readonly from: State; readonly at: number; readonly found: number }
  /** A well-formed message (a revocation or a heartbeat) arrived at `at`. */
  | { readonly type: 'heard'; readonly at: number }
  /** A check found the mirror `ms` old, past `maxStaleness`. */
  | { readonly type: 'stale'; readonly ms: number }
  | { readonly type: 'closed' }

export function initialState(now: number): State {
  return { phase: 'offline', epoch: 0, provenAt: now, failingClosed: false }
}

/** True while the subscription is up (its messages reach the mirror). */
export function isSubscribed(phase: Phase): boolean {
  return phase === 'subscribed' || phase === 'synced'
}

/** The state after `event`. Events that prove nothing in `state` (an old epoch, after close) leave it as is. */
export function next(state: State, event: Event): State {
  if (state.phase === 'closed') return state
  switch (event.type) {
    case 'subscribed':
      if (event.epoch !== state.epoch || state.phase !== 'offline') return state
      return { ...state, phase: 'subscribed' }
    case 'lost':
      return { ...state, phase: 'offline', epoch: state.epoch + 1 }
    case 'resynced': {
      const { from } = event
      const sameSubscription = from.epoch === state.epoch && isSubscribed(from.phase) && isSubscribed(state.phase)
      return sameSubscription ? prove({ ...state, phase: 'synced' }, event.at) : state
    }
    case 'heard':
      return state.phase === 'synced' ? prove(state, event.at) : state
    case 'stale':
      return state.failingClosed ? state : { ...state, failingClosed: true }
    case 'closed':
      return { ...state, phase: 'closed' }
  }
}

/** How long (ms) the mirror has gone unproven at `now`, and whether that is past `maxStalenessMs`. */
export function staleness(state: State, now: number, maxStalenessMs: number): { ms: number; stale: boolean } {
  const ms = now - state.provenAt
  return { ms, stale: ms > maxStalenessMs }
}

function prove(state: State, at: number): State {
  return { ...state, provenAt: Math.max(state.provenAt, at), failingClosed: false }
}
