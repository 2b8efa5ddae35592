/**
 * Starts the example system as child processes: the auth service and the resource services
 * (Express, Fastify, Koa, Hono, Next.js; with `mcp`, the MCP server) on 127.0.0.1, each on a port
 * the OS picked.
 *
 * Used by `npm run demo` (examples/demo.ts) and by the browser tests (test/examples), so both run
 * the real services the same way. Node services run `examples/<name>/…ts` with tsx; the Next.js
 * app runs `next start` on its production build (built here once, and again only when it changed).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const EXAMPLES = join(ROOT, 'examples')
export const NEXT_APP = join(EXAMPLES, 'next')
const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next')

export const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono', 'next', 'nestjs'] as const
export type Framework = (typeof FRAMEWORKS)[number]

/** A started child process. `log` collects its output lines. */
export interface Service {
  name: string
  url: string
  child: ChildProcess
  log: string[]
}

/** The processes one run started, and how to stop them all. */
export interface ProcessGroup {
  readonly services: readonly Service[]
  start(
    name: string,
    command: string,
    argv: string[],
    port: number,
    env: Record<string, string>,
  ): Service
  /** SIGTERM to each process group, SIGKILL after 3 s. */
  stopAll(): Promise<void>
}

export function createProcessGroup({ verbose = false }: { verbose?: boolean } = {}): ProcessGroup {
  const services: Service[] = []
  let stopping = false

  function start(
    name: string,
    command: string,
    argv: string[],
    port: number,
    env: Record<string, string>,
  ): Service {
    const child = spawn(command, argv, {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port), NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so stopping it also stops what it started
    })
    const service: Service = { name, url: `http://127.0.0.1:${port}`, child, log: [] }
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        service.log.push(line)
        if (verbose) console.log(`  ${name.padEnd(12)}| ${line}`)
      }
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    child.on('exit', (code, signal) => {
      if (!stopping) service.log.push(`(exited: ${signal ?? code})`)
    })
    services.push(service)
    return service
  }

  async function stopAll(): Promise<void> {
    stopping = true
    await Promise.all(
      services.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
              return resolve()
            const kill = (signal: NodeJS.Signals) => {
              try {
                process.kill(-child.pid!, signal)
              } catch {
                /* already gone */
              }
            }
            const timer = setTimeout(() => kill('SIGKILL'), 3000)
            child.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
            kill('SIGTERM')
          }),
      ),
    )
  }

  return { services, start, stopAll }
}

/**
 * `n` distinct free ports on 127.0.0.1: every listener stays open until all are known, so the OS
 * cannot hand the same port out twice (one closed and asked for again can come back at once).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer()
          server.unref()
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  return ports
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The last `n` log lines of a service, indented, for error messages. */
export const tail = (s: Service, n = 15) =>
  s.log
    .slice(-n)
    .map((l) => `    ${l}`)
    .join('\n')

/** Waits until `GET /` answers 2xx; throws with the service's last log lines otherwise. */
export async function waitReady(service: Service, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) break
    try {
      const res = await fetch(`${service.url}/`, { signal: AbortSignal.timeout(2000) })
      if (res.ok) return
    } catch {
      /* not listening yet */
    }
    await sleep(150)
  }
  throw new Error(`${service.name} did not become ready:\n${tail(service)}`)
}

// -- building -------------------------------------------------------------------------------

/** The newest modification time (ms) of a file or of anything below a folder (`.next` aside). */
export function newestMtime(path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(
    0,
    ...readdirSync(path)
      .filter((n) => n !== '.next')
      .map((n) => newestMtime(join(path, n))),
  )
}

/**
 * `next build` once; again only when the app, the shared helpers or the library changed (or with
 * `rebuild`). Needs `dist/` (the app imports the built package). Throws if the build fails.
 */
export async function buildNextIfNeeded({
  rebuild = false,
  log = console.log,
}: { rebuild?: boolean; log?: (line: string) => void } = {}): Promise<void> {
  const buildId = join(NEXT_APP, '.next', 'BUILD_ID')
  const inputs = [NEXT_APP, join(EXAMPLES, 'shared'), join(ROOT, 'dist')]
  if (
    !rebuild &&
    existsSync(buildId) &&
    statSync(buildId).mtimeMs > Math.max(...inputs.map(newestMtime))
  ) {
    log('Next.js app is up to date (examples/next/.next); --rebuild to force')
    return
  }
  log('building the Next.js app (next build examples/next)…')
  const started = Date.now()
  // asynchronous, so a test worker calling this stays responsive during the build
  const child = spawn(process.execPath, [NEXT_BIN, 'build', NEXT_APP], {
    cwd: ROOT,
    // CI=1: if a package Next needs is missing, fail with its message instead of letting Next
    // `npm install` it into the repository's package.json
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (status !== 0) throw new Error(`next build failed:\n${output}`)
  log(`  built in ${((Date.now() - started) / 1000).toFixed(0)} s`)
}

// -- the system -----------------------------------------------------------------------------

export interface SystemOptions {
  frameworks: readonly Framework[]
  /** Environment of the auth service (database file, lifetimes, …). */
  authEnv?: Record<string, string>
  /** Environment of every resource service (revocation poll interval, HS256 secret, …). */
  resourceEnv?: Record<string, string>
  /**
   * The browser setup (examples/web): the auth service hands refresh tokens out as an HttpOnly
   * cookie (`REFRESH_TOKEN_TRANSPORT=cookie`) and serves the web app at `/app/`, listing the resource
   * services (`WEB_APIS`); each resource service allows exactly the app's origin (`CORS_ORIGIN`).
   */
  browser?: boolean
  /** Extra environment for Node services only (e.g. the demo's `--src`). */
  nodeEnv?: Record<string, string>
  /**
   * Also the MCP server (examples/mcp-server), whose resource `<url>/mcp` the auth service then
   * issues tokens for (`API_RESOURCES`).
   */
  mcp?: boolean
}

export interface RunningSystem {
  auth: Service
  apis: Map<Framework, Service>
  /** The MCP server, with `mcp`; its resource (RFC 8707) is `${mcp.url}/mcp`. */
  mcp?: Service
}

/**
 * Starts the auth service, then the resource services (which discover the auth service's keys when
 * they start), and waits until all answer. Ports are picked first, so each process can be told the
 * others' addresses.
 */
export async function startSystem(
  group: ProcessGroup,
  { frameworks, authEnv = {}, resourceEnv = {}, browser = false, nodeEnv = {}, mcp = false }: SystemOptions,
): Promise<RunningSystem> {
  // one batch: the auth service, each framework and the MCP server never share a port
  const [authPort, ...rest] = (await freePorts(1 + frameworks.length + (mcp ? 1 : 0))) as [number, ...number[]]
  const ports = new Map<Framework, number>()
  frameworks.forEach((framework, i) => ports.set(framework, rest[i] as number))
  const mcpPort = mcp ? rest[frameworks.length] : undefined
  const mcpEnv: Record<string, string> =
    mcpPort === undefined
      ? {}
      : { API_RESOURCES: [authEnv.API_RESOURCES, `http://127.0.0.1:${mcpPort}/mcp`].filter(Boolean).join(',') }
  const authUrl = `http://127.0.0.1:${authPort}`
  const tsx = (file: string) => ['--import', 'tsx', join(EXAMPLES, file)]

  const webEnv: Record<string, string> = browser
    ? {
        REFRESH_TOKEN_TRANSPORT: 'cookie',
        WEB_APIS: [...ports].map(([f, port]) => `${f}=http://127.0.0.1:${port}`).join(','),
      }
    : {}
  const auth = group.start('auth-service', process.execPath, tsx('auth-service/main.ts'), authPort, {
    ...nodeEnv,
    ...authEnv,
    ...webEnv,
    ...mcpEnv,
  })
  await waitReady(auth)

  const env = { ...resourceEnv, AUTH_URL: auth.url, ...(browser ? { CORS_ORIGIN: authUrl } : {}) }
  const apis = new Map<Framework, Service>()
  for (const [framework, port] of ports) {
    const service =
      framework === 'next'
        ? group.start(
            'next',
            process.execPath,
            [NEXT_BIN, 'start', NEXT_APP, '-p', String(port), '-H', '127.0.0.1'],
            port,
            env,
          )
        : group.start(framework, process.execPath, tsx(`${framework}/server.ts`), port, {
            // the Nest example's decorators need its own tsconfig (nodeEnv's, with --src, has them too)
            ...(framework === 'nestjs' ? { TSX_TSCONFIG_PATH: join(EXAMPLES, 'nestjs', 'tsconfig.json') } : {}),
            ...nodeEnv,
            ...env,
          })
    apis.set(framework, service)
  }
  const mcpService =
    mcpPort === undefined
      ? undefined
      : group.start('mcp-server', process.execPath, tsx('mcp-server/server.ts'), mcpPort, { ...nodeEnv, ...env })
  await Promise.all([...apis.values(), ...(mcpService ? [mcpService] : [])].map((s) => waitReady(s)))
  return { auth, apis, ...(mcpService ? { mcp: mcpService } : {}) }
}
