/**
 * A bounded JSON GET: timeout, no redirects, a response size cap, one immediate retry when a
 * connection drops before any byte of the answer, and errors that keep the root cause.
 *
 * @module bearer-guard
 */
export interface FetchJsonOptions {
  timeoutMs: number
  maxBytes: number
  headers?: Record<string, string>
  fetch?: typeof fetch
  /** Told when the request is sent a second time, with the first attempt's root cause. */
  onRetry?: (cause: string) => void
}

/** What failed, for logs and rate limits: stable across repeats of the same cause. */
export type FetchFailureKind = 'network' | 'timeout' | 'status' | 'body' | 'metadata'

export interface FetchJsonErrorInit {
  kind: FetchFailureKind
  /** HTTP status when the server answered. */
  status?: number
  /** The root cause's code (`ENOTFOUND`, `ECONNREFUSED`, `UND_ERR_SOCKET`, a TLS code, …) for network failures. */
  code?: string
  /** True when the request was sent twice (a dropped connection, then the retry). */
  retried?: boolean
  cause?: unknown
}

/** Thrown (internally) when a key source cannot be read; becomes a 503 `KeySourceUnavailableError`. */
export class FetchJsonError extends Error {
  override name = 'FetchJsonError'
  readonly kind: FetchFailureKind
  /** HTTP status when the server answered. */
  readonly status: number | undefined
  /** The root cause's code, for network failures. */
  readonly code: string | undefined
  /** True when the request was sent twice. */
  readonly retried: boolean
  constructor(message: string, init: FetchJsonErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.kind = init.kind
    this.status = init.status
    this.code = init.code
    this.retried = init.retried ?? false
  }

  /**
   * The cause without its volatile parts (addresses, sizes, ages): equal for two failures a log
   * should count as one (`status:503`, `network:ENOTFOUND`, `timeout`, `body:<what>`).
   */
  get causeKey(): string {
    if (this.kind === 'status') return `status:${this.status}`
    if (this.kind === 'network') return `network:${this.code ?? 'unknown'}`
    if (this.kind === 'timeout') return 'timeout'
    return `${this.kind}:${this.message.replace(/^.*?(?:: |answered )/, '').replace(/\d+/g, 'n').slice(0, 80)}`
  }
}

/**
 * Connection-level failures of a request whose answer had not started: safe to send once more
 * (undici's and Node's codes; Bun's `ConnectionClosed`).
 */
const DROPPED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'ConnectionClosed'])

/** Root cause codes by what they mean for an operator. */
const LABELS: Record<string, string> = {
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  EAI_FAIL: 'DNS lookup failed',
  ECONNREFUSED: 'connection refused',
  ConnectionRefused: 'connection refused',
  ConnectionClosed: 'connection closed',
  ECONNRESET: 'connection closed',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
}

/** The innermost error under `fetch failed` (undici puts the socket's error in `cause`). */
export function rootCause(error: unknown): { code: string | undefined; message: string } {
  let code: string | undefined
  let message = ''
  let e: unknown = error
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const x = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown }
    if (typeof x.code === 'string' && x.code !== '') code = x.code
    if (typeof x.message === 'string' && x.message !== '') message = x.message
    // an AggregateError (every address refused) holds its causes in `errors`
    e = x.cause ?? (Array.isArray(x.errors) ? x.errors[0] : undefined)
  }
  if (message === '') message = String(error)
  return { code, message }
}

function describeCause(code: string | undefined, message: string): string {
  const label = code === undefined ? undefined : (LABELS[code] ?? (isTlsCode(code) ? 'TLS' : undefined))
  const detail = code === undefined || message.includes(code) ? message : `${message} (${code})`
  return label ? `${label}: ${detail}` : detail
}

function isTlsCode(code: string): boolean {
  return /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/.test(code)
}

function isDropped(error: unknown): boolean {
  const { code, message } = rootCause(error)
  return code !== undefined ? DROPPED.has(code) : /^(other side closed|socket hang up|connection closed before message completed)/i.test(message)
}

/**
 * GETs `url` and parses a JSON object from it. Rejects with `FetchJsonError`.
 *
 * A request that fails at the connection level before any byte of the answer (the server closed
 * an idle pooled connection as it was reused: `UND_ERR_SOCKET`, `ECONNRESET`, `EPIPE`) is sent
 * once more, at once, within the same timeout. Never after a timeout, a status, a body or a
 * redirect, and never twice.
 */
export async function fetchJson(url: URL, options: FetchJsonOptions): Promise<Record<string, unknown>> {
  const doFetch = options.fetch ?? globalThis.fetch
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs)
  ;(timer as { unref?: () => void }).unref?.()
  try {
    let response: Response | undefined
    let retried = false
    while (response === undefined) {
      try {
        response = await doFetch(url.href, {
          method: 'GET',
          headers: { accept: 'application/json', ...options.headers },
          redirect: 'manual',
          signal: controller.signal,
        })
      } catch (error) {
        if (controller.signal.aborted) {
          throw new FetchJsonError(`GET ${url.href} timed out after ${options.timeoutMs} ms`, { kind: 'timeout', retried, cause: error })
        }
        if (!retried && isDropped(error)) {
          retried = true
          const { code, message } = rootCause(error)
          options.onRetry?.(describeCause(code, message))
          continue
        }
        const { code, message } = rootCause(error)
        throw new FetchJsonError(`GET ${url.href} failed${retried ? ' after one retry' : ''}: ${describeCause(code, message)}`, {
          kind: 'network',
          code,
          retried,
          cause: error,
        })
      }
    }
    if (response.status !== 200) {
      void response.body?.cancel().catch(() => {})
      throw new FetchJsonError(`GET ${url.href} answered ${response.status}`, { kind: 'status', status: response.status, retried })
    }
    const declared = Number(response.headers.get('content-length'))
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      void response.body?.cancel().catch(() => {})
      throw new FetchJsonError(`GET ${url.href}: body of ${declared} bytes exceeds ${options.maxBytes}`, { kind: 'body', retried })
    }
    const text = await readCapped(response, options.maxBytes, url, controller)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new FetchJsonError(`GET ${url.href}: body is not JSON`, { kind: 'body', retried })
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new FetchJsonError(`GET ${url.href}: body is not a JSON object`, { kind: 'body', retried })
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
        throw new FetchJsonError(`GET ${url.href}: body exceeds ${maxBytes} bytes`, { kind: 'body' })
      }
      chunks.push(value)
    }
  } catch (error) {
    if (error instanceof FetchJsonError) throw error
    if (controller.signal.aborted) {
      throw new FetchJsonError(`GET ${url.href} timed out while reading the body`, { kind: 'timeout', cause: error })
    }
    const { code, message } = rootCause(error)
    throw new FetchJsonError(`GET ${url.href}: reading the body failed: ${describeCause(code, message)}`, { kind: 'body', code, cause: error })
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) { bytes.set(c, offset); offset += c.byteLength }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new FetchJsonError(`GET ${url.href}: body is not UTF-8`, { kind: 'body' })
  }
}
