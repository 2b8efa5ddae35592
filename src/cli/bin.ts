#!/usr/bin/env node
/**
 * The `bearer-guard` bin: `npx bearer-guard inspect <token | ->`. See `bearer-guard --help` and
 * docs/observability.md.
 *
 * Not an export: package.json `bin` names its build, `dist/cli.js`.
 */
import { runCli } from './main.js'

// `bearer-guard inspect … | head`: a reader that goes away is not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(process.exitCode ?? 0)
})

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
  (code) => {
    // exitCode, not exit(): a piped stdout is flushed before the process ends
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`bearer-guard: ${String(error)}\n`)
    process.exitCode = 2
  },
)
