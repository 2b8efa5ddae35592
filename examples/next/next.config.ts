import type { NextConfig } from 'next'

const config: NextConfig = {
  // the examples live inside the bearer-guard repository: `bearer-guard/next` resolves to the
  // package's own build (dist/) through its `exports` map, and ../shared is shared with the
  // other examples. A copied app would simply `npm install bearer-guard`.
  poweredByHeader: false,
  // ioredis is only loaded with REDIS_URL; keep it a plain Node require rather than bundling it
  serverExternalPackages: ['ioredis'],
}

export default config
