/**
 * A simulated timeout served through msw ends quietly when the client aborts: msw prints nothing
 * (a rejecting resolver made it log the AbortError and "[MSW] Encountered an unhandled exception").
 */
import { afterEach, expect, it, vi } from 'vitest'
import { useIssuers } from '../helpers/issuers.js'

const issuers = useIssuers()

afterEach(() => {
  vi.restoreAllMocks()
})

it('answers an aborted request without msw printing an unhandled exception', async () => {
  const issuer = await issuers.serve({ issuer: 'https://quiet.issuer.test' })
  issuer.simulate('jwks', 'timeout')
  const printed: unknown[][] = []
  for (const method of ['error', 'warn', 'log'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args))
  }
  const controller = new AbortController()
  const pending = fetch(issuer.jwksUri, { signal: controller.signal })
  await vi.waitFor(() => expect(issuer.requests.jwks).toBe(1)) // the handler holds the request
  controller.abort()
  await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  await issuer.close() // settles whatever msw still waits for
  await new Promise((resolve) => setImmediate(resolve))
  expect(printed).toEqual([])
})

it('still answers the requests of a running client', async () => {
  const issuer = await issuers.serve({ issuer: 'https://quiet-2.issuer.test' })
  const response = await fetch(issuer.jwksUri)
  expect(response.status).toBe(200)
  expect(((await response.json()) as { keys: unknown[] }).keys).toHaveLength(1)
})
