import http, { type IncomingMessage } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeAuthorization } from 'bearer-guard'

// nodeAuthorization reads rawHeaders; it must give what headersDistinct gives, on real requests
let server: http.Server
let port: number
let seen: (req: IncomingMessage) => void = () => {}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen(req)
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** Sends raw header lines (so duplicates and odd casing reach the server as written). */
async function request(lines: string[]): Promise<IncomingMessage> {
  const got = new Promise<IncomingMessage>((resolve) => (seen = resolve))
  const socket = net.connect(port, '127.0.0.1')
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.map((l) => `${l}\r\n`).join('')}Connection: close\r\n\r\n`)
  socket.resume()
  const req = await got
  socket.destroy()
  return req
}

describe('nodeAuthorization on real requests', () => {
  const cases: [string, string[]][] = [
    ['no Authorization', ['Accept: */*']],
    ['one', ['Authorization: Bearer a.b.c']],
    ['one, lower case, among many headers', ['Accept: */*', 'X-A: 1', 'authorization: Bearer a.b.c', 'User-Agent: t', 'Cookie: x=1']],
    ['one, odd casing, padded', ['AUTHORIZATION:   Bearer a.b.c  ']],
    ['two', ['Authorization: Bearer a.b.c', 'X-A: 1', 'authorization: Bearer d.e.f']],
    ['three, one empty', ['Authorization: Bearer a.b.c', 'Authorization:', 'AuThOrIzAtIoN: Basic x']],
    ['a look-alike name', ['Authorizations: Bearer a.b.c', 'X-Authorization: Bearer d.e.f']],
  ]
  for (const [name, lines] of cases) {
    it(`${name}: as headersDistinct`, async () => {
      const req = await request(lines)
      const distinct = req.headersDistinct.authorization
      const got = nodeAuthorization(req)
      if (distinct === undefined) expect(got).toBeUndefined()
      else if (distinct.length === 1) expect(got).toBe(distinct[0])
      else expect(got).toEqual(distinct)
      // Node's headers keep the first line only: the reason for reading every line
      expect(req.headers.authorization).toBe(distinct?.[0])
    })
  }

  it('reads a header a middleware set on headers only', async () => {
    const req = await request(['Accept: */*'])
    req.headers.authorization = 'Bearer set.by.middleware'
    expect(nodeAuthorization(req)).toBe('Bearer set.by.middleware')
  })
})

describe('nodeAuthorization on request-like objects', () => {
  it('falls back to headersDistinct, then headers', () => {
    expect(nodeAuthorization({ headers: {}, headersDistinct: { authorization: ['a', 'b'] } })).toEqual(['a', 'b'])
    expect(nodeAuthorization({ headers: { authorization: 'a' } })).toBe('a')
    expect(nodeAuthorization({ headers: {} })).toBeUndefined()
  })

  it('ignores a trailing name without a value', () => {
    expect(nodeAuthorization({ headers: {}, rawHeaders: ['Authorization'] })).toBeUndefined()
  })
})
