/** Timing helpers: medians, and per-operation time of sync or async functions. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

const now = (): bigint => process.hrtime.bigint()

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

/** Microseconds per call of `fn` over `inputs`, one call after another (awaited when async). */
export async function perOp<T>(fn: (input: T) => unknown, inputs: readonly T[]): Promise<number> {
  const start = now()
  for (let i = 0; i < inputs.length; i++) {
    const r = fn(inputs[i] as T)
    if (isPromise(r)) await r
  }
  return Number(now() - start) / 1000 / inputs.length
}

/** Microseconds per call of `fn(input)` repeated for at least `minMs` (and `minCalls`). */
export async function perOpRepeated<T>(fn: (input: T) => unknown, input: T, minMs: number, minCalls = 100): Promise<number> {
  let calls = 0
  const start = now()
  const limit = BigInt(Math.round(minMs * 1e6))
  let batch = 16
  while (calls < minCalls || now() - start < limit) {
    for (let i = 0; i < batch; i++) {
      const r = fn(input)
      if (isPromise(r)) await r
    }
    calls += batch
    if (batch < 1024) batch *= 2
  }
  return Number(now() - start) / 1000 / calls
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '—'
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2)
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return '—'
  return r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`
}
