/**
 * `bearer-guard inspect <token | ->`: decode an access token, and with a key source verify it with
 * the library's own verifier and explain the outcome. `runCli` takes its streams and environment
 * as arguments (the bin passes the process's), and answers the exit code:
 * 0 valid (or decoded, without a key source), 1 refused or not a JWT, 2 usage error or key source down.
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */
import { isAuthError } from '../core/errors.js'
import { createVerifier } from '../core/verifier.js'
import { helpText, parseCommandLine, UsageError } from './args.js'
import { bindingOf, decodeInput, shorten, type Decoded } from './decode.js'
import { factsOf, hintFor } from './hints.js'
import { buildPlan, type Plan } from './plan.js'
import { renderText, styles, useColor, type RefusedOutcome, type Report, type TimeFact } from './render.js'
import { describeTime, isoTime, TIME_CLAIMS } from './time.js'

/** The process a run sees: its streams and environment. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean }
  stderr: { write(text: string): unknown }
  stdin: AsyncIterable<string | Uint8Array>
  env: Readonly<Record<string, string | undefined>>
}

/** Largest input read from stdin; a token is refused beyond 8 KiB anyway. */
export const MAX_STDIN_BYTES = 1024 * 1024

export const EXIT = { ok: 0, refused: 1, usage: 2 } as const

/** Runs the command line `argv` (without `node` and the script) and answers the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    return await run(argv, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`bearer-guard: ${error.message}\nRun 'bearer-guard inspect --help' for usage.\n`)
      return EXIT.usage
    }
    io.stderr.write(`bearer-guard: internal error: ${(error as Error)?.stack ?? String(error)}\n`)
    return EXIT.usage
  }
}

async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const line = parseCommandLine(argv)
  if (line.help) {
    io.stdout.write(helpText())
    return EXIT.ok
  }
  const raw = line.input === '-' ? await readStdin(io.stdin) : line.input
  if (raw.trim() === '') throw new UsageError(line.input === '-' ? 'empty input: no token on stdin' : 'empty token')
  const decoded = decodeInput(raw)
  if (decoded.token === '') throw new UsageError(`empty token after "${decoded.scheme}"`)
  const warnings: string[] = []
  const plan = buildPlan(line.values, decoded.claims, { warn: (message: string) => void warnings.push(message.replace(/^bearer-guard: /, '')) })
  let verifier: ReturnType<typeof createVerifier> | undefined
  try {
    // options are checked now, so that a mistake in them is a usage error whatever the input
    verifier = plan ? createVerifier(plan.options) : undefined
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const now = Math.floor(Date.now() / 1000)

  const report: Report = {
    input: {
      kind: decoded.kind,
      scheme: decoded.scheme ?? null,
      length: decoded.token.length,
      token: line.showToken ? decoded.token : shorten(decoded.token),
    },
    header: decoded.header ?? null,
    claims: decoded.claims ?? null,
    times: timesOf(decoded.claims, now),
    binding: (await bindingOf(decoded.claims)) ?? null,
    keySource: plan ? describeSource(plan) : null,
    outcome: null,
    notes: decoded.notes,
    warnings,
  }
  let code: number = EXIT.ok
  if (decoded.kind !== 'jwt') {
    report.outcome = notAJwt(decoded)
    code = EXIT.refused
  } else if (plan && verifier) {
    try {
      const auth = await verifier.verifyAccessToken(decoded.token)
      const exp = auth.expiresAt.getTime() / 1000
      report.outcome = {
        valid: true,
        subject: auth.subject ?? null,
        issuer: auth.issuer ?? null,
        audience: [...auth.audience],
        roles: [...auth.roles],
        scopes: [...auth.scopes],
        expiresAt: auth.expiresAt.toISOString(),
        expiresIn: exp - now,
      }
    } catch (error) {
      if (!isAuthError(error)) throw error
      const facts = factsOf(error)
      const hint = hintFor({ error: facts, header: decoded.header ?? {}, claims: decoded.claims ?? {}, config: plan.config, now })
      report.outcome = {
        valid: false,
        status: facts.status,
        code: facts.code,
        description: facts.description,
        reason: facts.reason,
        claim: facts.claim ?? null,
        hint: hint.text,
        hintId: hint.id,
        cause:
          facts.fetch || facts.rootCause
            ? { kind: facts.fetch?.kind ?? null, status: facts.fetch?.status ?? null, code: facts.fetch?.code ?? null, message: facts.rootCause ?? null }
            : null,
      }
      code = facts.status === 503 ? EXIT.usage : EXIT.refused
    }
  }
  if (line.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  } else {
    io.stdout.write(renderText(report, styles(useColor(io.stdout.isTTY, io.env, line.noColor))))
    // the verifier's logger warnings: never mixed into stdout
    for (const w of warnings) io.stderr.write(`bearer-guard: warning: ${w}\n`)
  }
  return code
}

async function readStdin(stdin: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
    size += bytes.byteLength
    if (size > MAX_STDIN_BYTES) throw new UsageError(`stdin holds more than ${MAX_STDIN_BYTES} bytes: not a token`)
    chunks.push(bytes)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function timesOf(claims: Record<string, unknown> | undefined, now: number): Record<string, TimeFact> {
  const times: Record<string, TimeFact> = {}
  for (const claim of TIME_CLAIMS) {
    const value = claims?.[claim]
    const text = describeTime(claim, value, now)
    const iso = isoTime(value)
    if (text !== undefined && iso !== undefined) times[claim] = { value: value as number, iso, relative: (value as number) - now, text }
  }
  return times
}

function describeSource({ config }: Plan): string {
  const via = config.preset ? ` (preset ${config.preset})` : ''
  return config.source.type === 'jwks' ? `${config.source.uri}${via}` : `discovery from ${config.source.issuer}${via}`
}

/** The outcome for input that is not a JWT: what the verifier would answer (401), and what it is. */
function notAJwt(decoded: Decoded): RefusedOutcome {
  return {
    valid: false,
    status: 401,
    code: 'invalid_token',
    description: 'invalid token',
    reason: decoded.problem ?? 'not a JWT',
    claim: null,
    hint: decoded.advice ?? '',
    hintId: `not-a-jwt:${decoded.kind}`,
    cause: null,
  }
}
