/**
 * The demo's HTTP client: one request, its status and its JSON body (a non-JSON body as `raw`),
 * with a 10 s timeout. Shared by the JWT walk (examples/demo.ts) and the opaque-token walk.
 */

/** A service's answer. */
export interface Answer {
  status: number
  body: Record<string, unknown>
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  let body: Record<string, unknown> = {}
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    body = { raw: text.slice(0, 200) }
  }
  return { status: res.status, body }
}

/** A form POST (the auth service's endpoints). */
export const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
})

/** `Authorization: Bearer <token>`. */
export const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } })
