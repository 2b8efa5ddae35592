/**
 * A node script under valgrind's callgrind, for the instruction-counting benches
 * (bench/instructions.ts, bench/loop-instructions.ts): counters zeroed and dumped on demand.
 */
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

export interface Callgrind {
  readonly child: ChildProcess
  /** Zeroes every counter. */
  zero(): void
  /** Dumps the counters since the last zero: each event's total, and the dump's path (for callgrind_annotate). */
  dump(): { events: Record<string, number>; path: string }
  /** Kills the process and removes its dumps. */
  close(): void
}

/** Runs `node --import tsx <script> ...args` under callgrind (`cacheSim`: with its cache simulation). */
export function startCallgrind(script: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; stdio: StdioOptions; cacheSim?: boolean }): Callgrind {
  const dir = mkdtempSync(join(os.tmpdir(), 'bg-callgrind-'))
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', ...(options.cacheSim ? ['--cache-sim=yes'] : []), '--smc-check=all-non-file', `--callgrind-out-file=${dir}/cg.%p`, process.execPath, '--import', 'tsx', script, ...args],
    { env: options.env, stdio: options.stdio },
  )
  const control = (flag: string): void => {
    execFileSync('callgrind_control', [flag, String(child.pid)], { stdio: 'ignore' })
  }
  return {
    child,
    zero: () => control('--zero'),
    dump() {
      control('--dump')
      // each dump on demand is cg.<pid>.<part>: the newest has the highest part number
      const part = (name: string): number => Number(/\.(\d+)$/.exec(name)?.[1])
      const name = readdirSync(dir)
        .filter((f) => /\.\d+\.\d+$/.test(f))
        .sort((a, b) => part(a) - part(b))
        .at(-1)
      if (!name) throw new Error(`no callgrind dump in ${dir}`)
      const path = join(dir, name)
      const text = readFileSync(path, 'utf8')
      const names = /^events: (.*)$/m.exec(text)?.[1]?.split(' ') ?? []
      const totals = /^summary: (.*)$/m.exec(text)?.[1]?.split(' ').map(Number) ?? []
      return { events: Object.fromEntries(names.map((e, i) => [e, totals[i] ?? Number.NaN])), path }
    },
    close() {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
