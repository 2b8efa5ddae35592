/** A process's CPU time from /proc (Linux), for the HTTP benchmarks' server-side figures. */
import { readFileSync } from 'node:fs'

/** User + system CPU time of a process in µs, from /proc; NaN where /proc is missing. */
export function cpuOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
  } catch {
    return Number.NaN
  }
}
