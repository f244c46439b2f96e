import { type Bucket, EMBEDDING_PRICES, MODEL_CATALOG, type ModelFacts, type Price } from './catalog-data.js'

export type { Bucket, ModelFacts, Price } from './catalog-data.js'
export { BUCKETS } from './catalog-data.js'

/**
 * How capable each bucket is, for the quality floor and for falling back across buckets: a bucket is never
 * replaced by one of lower rank. The specialist buckets rank beside the general bucket of their strength.
 */
export const BUCKET_RANK: Readonly<Record<Bucket, number>> = {
  small: 1,
  medium: 2,
  code: 2,
  large: 3,
  reasoning: 3,
  'long-context': 3,
  frontier: 4,
}

const byName = new Map<string, ModelFacts>()
for (const [name, facts] of Object.entries(MODEL_CATALOG)) byName.set(normalize(name), facts)
const embeddings = new Map<string, Price>()
for (const [name, input] of Object.entries(EMBEDDING_PRICES))
  embeddings.set(normalize(name), { input, output: 0 })

/** Lower case, dots as dashes, without a provider's path prefix (`openai/`, `accounts/fireworks/models/`). */
function normalize(name: string): string {
  const slash = name.lastIndexOf('/')
  return (slash === -1 ? name : name.slice(slash + 1)).toLowerCase().replaceAll('.', '-')
}

/**
 * What the shipped catalog knows about a provider's model name: exact, or the longest catalog name it extends
 * at a `-` (a dated snapshot such as `gpt-4o-mini-2024-07-18` is `gpt-4o-mini`).
 *
 * @example catalogFacts('claude-sonnet-4-5-20250929')?.bucket // 'large'
 */
export function catalogFacts(name: string): ModelFacts | undefined {
  return longest(byName, name)
}

/** The catalog's price of a chat or embedding model, by the same matching as `catalogFacts`. */
export function catalogPrice(name: string): Price | undefined {
  return longest(byName, name)?.price ?? longest(embeddings, name)
}

function longest<T>(map: ReadonlyMap<string, T>, name: string): T | undefined {
  let key = normalize(name)
  for (;;) {
    const found = map.get(key)
    if (found !== undefined) return found
    const dash = key.lastIndexOf('-')
    if (dash <= 0) return undefined
    key = key.slice(0, dash)
  }
}
