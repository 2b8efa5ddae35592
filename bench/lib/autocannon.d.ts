/** The part of autocannon's API the HTTP benchmark uses (the package ships no types). */
declare module 'autocannon' {
  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      headers?: Record<string, string>
    }
    interface Options {
      url: string
      connections?: number
      /** Seconds before a request counts as an error (default 10). */
      timeout?: number
      duration?: number
      amount?: number
      requests?: Request[]
      setupClient?: (client: { setRequests(requests: Request[]): void }) => void
    }
    interface Histogram {
      average: number
      total: number
      p50: number
    }
    interface Result {
      requests: Histogram
      latency: Histogram
      duration: number
      non2xx: number
      errors: number
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>
  export default autocannon
}
