/**
 * The store's names in Redis: ids of long jtis, keys under an ioredis keyPrefix, and the messages
 * on the channel. No Redis needed.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { clientKeyPrefix, jtiId, keyspace, parseMessage, revokedMessage } from '../../src/redis/wire.js'

describe('jtiId', () => {
  it('keeps a jti up to 1024 characters as it is, and hashes a longer one into 51 characters', () => {
    expect(jtiId('a')).toBe('a')
    expect(jtiId('x'.repeat(1024))).toBe('x'.repeat(1024))
    const long = 'x'.repeat(1025)
    expect(jtiId(long)).toBe(`#sha256:${createHash('sha256').update(long).digest('base64url')}`)
    expect(jtiId(long)).toHaveLength(51)
    expect(jtiId(`${long}y`)).not.toBe(jtiId(long))
  })
})

describe('keyspace', () => {
  it('writes keys without the client prefix (the client adds it) but matches and strips it in SCAN results', () => {
    const keys = keyspace('svc:', 'bg:revoked:')
    expect(keys.key('j1')).toBe('bg:revoked:j1')
    expect(keys.pattern).toBe('svc:bg:revoked:*')
    expect(keys.scanned('svc:bg:revoked:j1')).toEqual({ key: 'bg:revoked:j1', id: 'j1' })
    expect(keys.scanned('other:bg:revoked:j1')).toBeUndefined()
    expect(keys.scanned('svc:bg:revoked:')).toBeUndefined()
    expect(keys.scanned(`svc:bg:revoked:${'x'.repeat(1025)}`)).toBeUndefined()
  })

  it('escapes glob characters of both prefixes in the SCAN pattern', () => {
    expect(keyspace('a*[1]:', 'p?\\:').pattern).toBe('a\\*\\[1\\]:p\\?\\\\:*')
  })

  it('reads the client prefix from ioredis options, as a string or bytes', () => {
    expect(clientKeyPrefix({})).toBe('')
    expect(clientKeyPrefix({ options: {} })).toBe('')
    expect(clientKeyPrefix({ options: { keyPrefix: 'svc:' } })).toBe('svc:')
    expect(clientKeyPrefix({ options: { keyPrefix: new TextEncoder().encode('bin:') } })).toBe('bin:')
  })
})

describe('messages', () => {
  it('reads back what it writes, and heartbeats', () => {
    expect(parseMessage(revokedMessage('j', 1234))).toEqual({ type: 'revoked', id: 'j', untilMs: 1234 })
    expect(parseMessage('{"t":"h"}')).toEqual({ type: 'heartbeat' })
  })

  it.each([
    ['not JSON', 'nope'],
    ['null', 'null'],
    ['an unknown type', '{"t":"x"}'],
    ['a revocation without expiry', '{"t":"r","j":"a"}'],
    ['a revocation with a non-string id', '{"t":"r","j":5,"x":1}'],
    ['a revocation with an empty id', '{"t":"r","j":"","x":1}'],
    ['an oversized message', JSON.stringify({ t: 'r', j: 'x'.repeat(2000), x: 1 })],
  ])('ignores %s', (_name, raw) => {
    expect(parseMessage(raw)).toBeUndefined()
  })
})
