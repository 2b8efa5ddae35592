/**
 * The docs state the retention the code keeps: a revocation lives until the token's `exp` plus
 * REVOCATION_SLACK_MS (the largest clockTolerance), in both stores.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { REVOCATION_SLACK_MS } from '../../src/core/limits.js'

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8').replace(/\s+/g, ' ')
const slack = `${REVOCATION_SLACK_MS / 1000} s`

describe('the documented revocation retention', () => {
  it('docs/revocation.md says exp plus the slack the code keeps', () => {
    const page = read('docs/revocation.md')
    expect(page).toContain(`until the token's \`exp\` plus ${slack}`)
    expect(page).toContain(`PXAT <exp + ${slack}>`)
    expect(page).not.toMatch(/one minute/i)
  })

  it('docs/configuration.md says the same of the memory store', () => {
    const page = read('docs/configuration.md')
    expect(page).toContain(`each entry expires ${slack} after the token's \`expiresAt\``)
    expect(page).not.toMatch(/expires one minute/i)
  })
})
