/** `npm run bench -- <name> [flags]`: one benchmark per question; see BENCHMARKS.md for results. */
import { cache } from './cache.js'
import { classifier } from './classifier.js'
import { geo } from './geo.js'
import { instructions } from './instructions.js'
import { limits } from './limits.js'
import { overhead } from './overhead.js'
import { redisClient } from './redis-client.js'
import { serverLayer } from './server-layer.js'

const benches: Record<string, (argv: string[]) => Promise<void>> = {
  overhead,
  'server-layer': serverLayer,
  instructions,
  cache,
  limits,
  'redis-client': redisClient,
  classifier,
  geo,
}

const [name, ...rest] = process.argv.slice(2)
const bench = name ? benches[name] : undefined
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [flags]`)
  process.exit(2)
}
await bench(rest)
