import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../src/core/duration.js'

describe('parseDuration', () => {
  it.each([
    [5, 5],
    [0, 0],
    [1.5, 1.5],
    ['5', 5],
    ['5s', 5],
    ['250ms', 0.25],
    ['10m', 600],
    ['10 minutes', 600],
    ['1h', 3600],
    ['2d', 172_800],
    [' 30 SEC ', 30],
  ] as const)('reads %j as %d seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '', 'soon', '5 fortnights', '-5s', '1e3s', '5s5'])(
    'rejects %j',
    (input) => {
      expect(parseDuration(input as number | string)).toBeUndefined()
    },
  )
})

describe('parseDuration with weeks', () => {
  it('reads weeks, as the test issuer also does', () => {
    expect(parseDuration('1w')).toBe(604800)
    expect(parseDuration('2 weeks')).toBe(1209600)
  })
})
