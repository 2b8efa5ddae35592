import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readClaim, readList, toStringList } from '../../src/core/claim-path.js'

const claims = {
  sub: 'u1',
  scope: 'read  write read',
  scp: ['a', 'b'],
  'cognito:groups': ['admins'],
  'https://example.com/roles': ['editor'],
  'a.b': 'whole key',
  a: { b: 'nested' },
  realm_access: { roles: ['offline_access', 'user'] },
  resource_access: { 'my.client': { roles: ['client-role'] } },
  deep: { x: { y: { z: 1 } } },
  arr: [{ name: 'x' }],
  mixed: ['ok', 1, null, '', 'ok2'],
}

describe('readClaim', () => {
  it('reads a top-level claim', () => {
    expect(readClaim(claims, 'sub')).toBe('u1')
  })

  it('reads a dot path', () => {
    expect(readClaim(claims, 'realm_access.roles')).toEqual(['offline_access', 'user'])
    expect(readClaim(claims, 'deep.x.y.z')).toBe(1)
  })

  it('prefers a key present as a whole over a dot path', () => {
    expect(readClaim(claims, 'a.b')).toBe('whole key')
  })

  it('reads keys with colons and URLs as a whole', () => {
    expect(readClaim(claims, 'cognito:groups')).toEqual(['admins'])
    expect(readClaim(claims, 'https://example.com/roles')).toEqual(['editor'])
  })

  it('reads a trailing nested key that itself contains dots', () => {
    expect(readClaim({ resource_access: { 'my.client.roles': ['r'] } }, 'resource_access.my.client.roles')).toEqual(['r'])
  })

  it('is undefined for missing paths, non-objects and arrays', () => {
    expect(readClaim(claims, 'nope')).toBeUndefined()
    expect(readClaim(claims, 'sub.x')).toBeUndefined()
    expect(readClaim(claims, 'realm_access.nope')).toBeUndefined()
    expect(readClaim(claims, 'arr.0.name')).toBeUndefined()
    expect(readClaim(null, 'sub')).toBeUndefined()
    expect(readClaim([1], '0')).toBeUndefined()
  })

  it('never follows inherited properties', () => {
    expect(readClaim(claims, '__proto__')).toBeUndefined()
    expect(readClaim(claims, 'constructor')).toBeUndefined()
    expect(readClaim(claims, 'a.constructor.name')).toBeUndefined()
    expect(readClaim(claims, 'sub.length')).toBeUndefined()
  })
})

describe('toStringList', () => {
  it('splits a space-delimited string, dropping empty parts', () => {
    expect(toStringList(' read  write ')).toEqual(['read', 'write'])
  })

  it('keeps the non-empty strings of an array', () => {
    expect(toStringList(claims.mixed)).toEqual(['ok', 'ok2'])
  })

  it('gives nothing for other values', () => {
    expect(toStringList(undefined)).toEqual([])
    expect(toStringList(42)).toEqual([])
    expect(toStringList({ roles: ['x'] })).toEqual([])
  })
})

describe('readList', () => {
  it('reads one path, removing duplicates', () => {
    expect(readList(claims, 'scope')).toEqual(['read', 'write'])
  })

  it('merges several paths', () => {
    expect(readList(claims, ['scope', 'scp', 'missing'])).toEqual(['read', 'write', 'a', 'b'])
    expect(readList(claims, ['scp', 'scp'])).toEqual(['a', 'b'])
  })

  it('calls a function with the claims and keeps its strings', () => {
    expect(readList(claims, (c) => [String(c.sub), 'x', 'x'])).toEqual(['u1', 'x'])
    expect(readList(claims, () => [1, 'y'] as never)).toEqual(['y'])
    expect(readList(claims, () => undefined)).toEqual([])
  })
})

describe('readList against a reference', () => {
  // reference: every string collected in order, empties skipped, duplicates removed (first kept)
  const reference = (values: unknown[]) => [...new Set(values.flatMap((v) => toStringList(v)))]
  const word = fc.constantFrom('', 'a', 'b', 'admin', 'read:orders', 'x'.repeat(20))
  const value = fc.oneof(
    fc.array(word, { maxLength: 20 }),
    fc.array(fc.oneof(word, fc.integer(), fc.constant(null)), { maxLength: 5 }),
    fc.array(fc.constantFrom('a', 'b', ' ', '  ', 'c'), { maxLength: 25 }).map((parts) => parts.join('')),
    fc.array(word, { maxLength: 20 }).map((w) => w.join(' ')),
    fc.constantFrom(undefined, null, 3, {}, ''),
  )

  it('answers as collecting every string, for one path', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(readList({ roles: v }, 'roles')).toEqual(reference([v]))
      }),
      { numRuns: 3000 },
    )
  })

  it('answers as collecting every string, for several paths', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(readList({ scope: a, scp: b }, ['scope', 'scp'])).toEqual(reference([a, b]))
      }),
      { numRuns: 3000 },
    )
  })
})
