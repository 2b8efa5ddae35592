/**
 * Loaded into a bench server (`--import`) by bench/gc.ts: counts the server's garbage collections
 * and how much its old generation grew between them (what young collections promoted, plus what was
 * allocated there directly), and answers them over the IPC channel on `'gc-stats'`, starting afresh.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import v8 from 'node:v8'

export interface GcStats {
  minor: number
  minorMs: number
  major: number
  majorMs: number
  /** Bytes: the sum of the old generation's growths, observed after collections. */
  oldGrowth: number
}

const fresh = (): GcStats => ({ minor: 0, minorMs: 0, major: 0, majorMs: 0, oldGrowth: 0 })
const oldUsed = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0

let stats = fresh()
let lastOld = oldUsed()

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      stats.minor++
      stats.minorMs += entry.duration
    } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR || kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) {
      stats.major++
      stats.majorMs += entry.duration
    }
  }
  const used = oldUsed()
  if (used > lastOld) stats.oldGrowth += used - lastOld
  lastOld = used
}).observe({ entryTypes: ['gc'] })

process.on('message', (message) => {
  if (message !== 'gc-stats') return
  process.send?.({ gcStats: stats })
  stats = fresh()
  lastOld = oldUsed()
})
