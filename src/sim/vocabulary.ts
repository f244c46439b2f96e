// The words simulated answers and tool-call arguments are made of. Changing the list changes every answer
// (and the byte-for-byte stream fixtures), so it lives on its own.

import type { Prng } from './hash.js'

// One string keeps the list compact; split once at load.
const VOCABULARY: readonly string[] = (
  'the gateway routes each request to a healthy provider and streams tokens back quickly while caching ' +
  'answers for later use latency stays low when upstream models respond in time budgets keep spending ' +
  'under control every project has its own keys policies limits meridian runs at origin edge with one ' +
  'codebase retries hedge slow calls fallbacks cover outages metrics show what happened why simple ' +
  'config files describe strategy tree weights decide which route wins prompts are fingerprinted so ' +
  'repeated questions cost nothing embeddings vectors measure meaning clusters of related ideas form ' +
  'naturally river mountain lantern harbor meadow signal orbit copper willow granite ember tide compass ' +
  'atlas prism quiet bright steady careful useful clear small large fast open secure modern robust ' +
  'gentle precise honest patient curious'
).split(' ')

/** One word picked by `rng` (one draw). */
export function word(rng: Prng): string {
  return VOCABULARY[rng.below(VOCABULARY.length)]!
}

/** `count` words joined by spaces, one draw each. */
export function words(rng: Prng, count: number): string {
  let out = ''
  for (let i = 0; i < count; i++) out += (i === 0 ? '' : ' ') + word(rng)
  return out
}
