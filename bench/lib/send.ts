/**
 * Sends each token once to `GET /orders` of a bench server, as `Authorization: Bearer <token>`:
 * `connections` connections, each with its own slice of the tokens, the requests built beforehand
 * (bench/profile-http.ts, bench/instructions.ts). A non-2xx answer or an error fails the run.
 */
import autocannon from 'autocannon'

/** `timeoutS`: seconds a request may take (autocannon's 10 by default; a server under valgrind needs more). */
export async function sendEach(port: number, tokens: readonly string[], connections: number, timeoutS = 10): Promise<{ total: number; rps: number }> {
  const per = Math.floor(tokens.length / connections)
  let k = 0
  const request = (token: string) => ({ method: 'GET' as const, path: '/orders', headers: { authorization: `Bearer ${token}` } })
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    timeout: timeoutS,
    amount: per * connections,
    requests: [request(tokens[0] as string)],
    setupClient: (c: { setRequests(r: unknown[]): void }) => {
      const i = k++
      c.setRequests(tokens.slice(i * per, (i + 1) * per).map(request))
    },
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  return { total: result.requests.total, rps: result.requests.total / result.duration }
}
