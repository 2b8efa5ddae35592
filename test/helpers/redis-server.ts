/**
 * Real redis-server processes for tests, on 127.0.0.1 at a free port, without persistence unless a
 * directory is given. Every process started here is killed by `stopAllRedis()` (call it in afterAll).
 *
 * @example
 * ```ts
 * describe.skipIf(!hasRedis)('with Redis', () => {
 *   let redis: RedisProcess
 *   beforeAll(async () => { redis = await startRedis() })
 *   afterAll(stopAllRedis)
 * })
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { freePort } from './free-port.js'

/** The redis-server binary, overridable with `REDIS_SERVER_BIN`. */
export const redisServerBin = process.env.REDIS_SERVER_BIN ?? 'redis-server'

/** True when the redis-server binary runs on this machine. */
export const hasRedis = spawnSync(redisServerBin, ['--version'], { stdio: 'ignore' }).status === 0

if (!hasRedis) {
  console.warn(`[bearer-guard tests] ${redisServerBin} not found: Redis suites are SKIPPED`)
}

export interface RedisProcess {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** True while the process runs. */
  readonly running: boolean
  /** Kills the process (SIGKILL by default: a crash, not a shutdown) and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the process again on the same port (and directory). */
  restart(): Promise<void>
}

const children = new Set<ChildProcess>()

/**
 * Starts a redis-server and resolves once it accepts connections.
 *
 * @param options `dir`: a data directory (enables append-only persistence); `port`: a fixed port.
 */
export async function startRedis(options: { dir?: string; port?: number } = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort())
  let child: ChildProcess | undefined

  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--protected-mode', 'no']
  if (options.dir === undefined) args.push('--appendonly', 'no')
  else args.push('--dir', options.dir, '--appendonly', 'yes', '--appendfsync', 'always')

  async function start(): Promise<void> {
    const proc = spawn(redisServerBin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    children.add(proc)
    proc.once('exit', () => children.delete(proc))
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => fail(new Error(`redis-server not ready in 10 s:\n${output}`)), 10_000)
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          proc.stdout?.off('data', onData)
          proc.stdout?.resume()
          resolve()
        }
      }
      const fail = (err: Error) => {
        clearTimeout(timer)
        proc.kill('SIGKILL')
        reject(err)
      }
      proc.stdout?.on('data', onData)
      proc.stderr?.on('data', (c: Buffer) => (output += c.toString()))
      proc.once('exit', (code) => fail(new Error(`redis-server exited (${code}):\n${output}`)))
    })
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null
    },
    async kill(signal = 'SIGKILL') {
      const proc = child
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
      proc.kill(signal)
      await exited
    },
    restart: start,
  }
}

/** Kills every redis-server this helper started. */
export async function stopAllRedis(): Promise<void> {
  await Promise.all(
    [...children].map(
      (proc) =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
          proc.once('exit', () => resolve())
          proc.kill('SIGKILL')
        }),
    ),
  )
  children.clear()
}
