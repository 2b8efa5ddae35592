/**
 * A bounded JSON GET: timeout, no redirects, a response size cap, and errors that say what went wrong.
 *
 * @module bearer-guard
 */
export interface FetchJsonOptions {
  timeoutMs: number
  maxBytes: number
  headers?: Record<string, string>
  fetch?: typeof fetch
}

/** Thrown (internally) when a key source cannot be read; becomes a 503 `KeySourceUnavailableError`. */
export class FetchJsonError extends Error {
  override name = 'FetchJsonError'
  /** HTTP status when the server answered. */
  readonly status: number | undefined
  constructor(message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.status = status
  }
}

/** GETs `url` and parses a JSON object from it. Rejects with `FetchJsonError`. */
export async function fetchJson(url: URL, options: FetchJsonOptions): Promise<Record<string, unknown>> {
  const doFetch = options.fetch ?? globalThis.fetch
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs)
  ;(timer as { unref?: () => void }).unref?.()
  try {
    let response: Response
    try {
      response = await doFetch(url.href, {
        method: 'GET',
        headers: { accept: 'application/json', ...options.headers },
        redirect: 'manual',
        signal: controller.signal,
      })
    } catch (error) {
      throw new FetchJsonError(
        controller.signal.aborted ? `GET ${url.href} timed out after ${options.timeoutMs} ms` : `GET ${url.href} failed: ${(error as Error).message}`,
        undefined,
        error,
      )
    }
    if (response.status !== 200) {
      void response.body?.cancel().catch(() => {})
      throw new FetchJsonError(`GET ${url.href} answered ${response.status}`, response.status)
    }
    const declared = Number(response.headers.get('content-length'))
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      void response.body?.cancel().catch(() => {})
      throw new FetchJsonError(`GET ${url.href}: body of ${declared} bytes exceeds ${options.maxBytes}`)
    }
    const text = await readCapped(response, options.maxBytes, url, controller)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new FetchJsonError(`GET ${url.href}: body is not JSON`)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new FetchJsonError(`GET ${url.href}: body is not a JSON object`)
    }
    return value as Record<string, unknown>
  } finally {
    clearTimeout(timer)
  }
}

async function readCapped(response: Response, maxBytes: number, url: URL, controller: AbortController): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        controller.abort()
        void reader.cancel().catch(() => {})
        throw new FetchJsonError(`GET ${url.href}: body exceeds ${maxBytes} bytes`)
      }
      chunks.push(value)
    }
  } catch (error) {
    if (error instanceof FetchJsonError) throw error
    throw new FetchJsonError(
      controller.signal.aborted ? `GET ${url.href} timed out while reading the body` : `GET ${url.href}: reading the body failed`,
      undefined,
      error,
    )
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) { bytes.set(c, offset); offset += c.byteLength }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new FetchJsonError(`GET ${url.href}: body is not UTF-8`)
  }
}
