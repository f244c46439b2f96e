import { z } from 'zod'

// setTimeout clamps anything above 2^31-1 ms to 1 ms, which would turn a huge delay into none.
const delayMs = z.number().int().min(0).max(2_147_483_647)
const share = z.number().min(0).max(1)
const count = z.number().int().min(0)
const every = z.number().int().min(1)
const httpError = z.number().int().min(400).max(599)

/**
 * The knobs of the simulated upstream. Every key is optional in a patch and strict: an unknown key is
 * rejected, so a typo in a test (`latency: 100`) fails loudly instead of silently doing nothing.
 *
 * @example simBehaviourSchema.parse({ ...defaultBehaviour, latency_ms: 50 })
 */
export const simBehaviourSchema = z.strictObject({
  /** When set, every /v1 request answers this HTTP status with an OpenAI error envelope. */
  status: httpError.nullable(),
  /** Share of /v1 requests answered with a `fail_status` envelope. */
  error_rate: share,
  /**
   * Every Nth counted request (chat and embeddings, in arrival order since start or reset: N, 2N, 3N…)
   * answers `fail_status`, as `status` would. The deterministic counterpart of `error_rate`.
   */
  fail_every: every.nullable(),
  /** The status `fail_every` and `error_rate` answer. */
  fail_status: httpError,
  /** When set, every 429 and 503 error carries `retry-after: <n>`; null keeps `retry-after: 1` on a 429 only. */
  retry_after_s: count.nullable(),
  /** Delay before the response head, streaming or not. */
  latency_ms: delayMs,
  /** Every Nth counted request (same count as `fail_every`) waits `slow_ms` more before its response head. */
  slow_every: every.nullable(),
  /** The extra delay of a `slow_every` request, on top of `latency_ms`. */
  slow_ms: delayMs,
  /** Extra delay, after the head, before the first stream chunk. */
  ttft_ms: delayMs,
  /** Delay before each content chunk after the first. */
  chunk_gap_ms: delayMs,
  /** Number of words (one stream chunk each) in every answer; null lets the request's hash decide. */
  chunks: count.nullable(),
  /** Share of /v1 requests whose socket is reset before any response byte. */
  reset_rate: share,
  /** A stream sends this many content chunks, then nothing, holding the connection until the client leaves. */
  stall_after_chunks: count.nullable(),
  /**
   * A stream sends its head and this many content chunks, then the socket is destroyed (no finish chunk, no
   * [DONE]); 0 destroys it right after the head, before any chunk. Non-stream answers are unaffected.
   */
  drop_after_chunks: count.nullable(),
})

export type SimBehaviour = z.infer<typeof simBehaviourSchema>

/** A well-behaved, instant upstream. */
export const defaultBehaviour: Readonly<SimBehaviour> = Object.freeze({
  status: null,
  error_rate: 0,
  fail_every: null,
  fail_status: 500,
  retry_after_s: null,
  latency_ms: 0,
  slow_every: null,
  slow_ms: 0,
  ttft_ms: 0,
  chunk_gap_ms: 0,
  chunks: null,
  reset_rate: 0,
  stall_after_chunks: null,
  drop_after_chunks: null,
})

/** The knob names, in schema order (flags and error messages list them). */
export const behaviourKeys = Object.keys(simBehaviourSchema.shape) as (keyof SimBehaviour)[]

const patchSchema = simBehaviourSchema.partial()

export type BehaviourPatchResult =
  | { ok: true; patch: Partial<SimBehaviour> }
  | { ok: false; error: string; key: string | null }

/**
 * Validates a behaviour patch (e.g. the body of `POST /sim/config`).
 * The error names the offending key, so a test or an operator can fix it without reading this file.
 *
 * @example parseBehaviourPatch({ latnecy_ms: 5 }) // { ok: false, error: 'unknown behaviour key "latnecy_ms" (known: status, …)', key: 'latnecy_ms' }
 */
export function parseBehaviourPatch(json: unknown): BehaviourPatchResult {
  const result = patchSchema.safeParse(json)
  if (result.success) return { ok: true, patch: result.data }
  const issue = result.error.issues[0]
  if (!issue) return { ok: false, error: 'invalid behaviour patch', key: null }
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((k) => `"${k}"`).join(', ')
    return {
      ok: false,
      error: `unknown behaviour key ${names} (known: ${behaviourKeys.join(', ')})`,
      key: issue.keys[0] ?? null,
    }
  }
  const key = issue.path.length > 0 ? String(issue.path[0]) : null
  if (key === null) return { ok: false, error: `behaviour patch: ${issue.message}`, key }
  return { ok: false, error: `behaviour key "${key}": ${issue.message}`, key }
}

/** Applies a validated patch, returning a new behaviour (the input is not modified). */
export function applyBehaviourPatch(
  base: Readonly<SimBehaviour>,
  patch: Partial<SimBehaviour>,
): SimBehaviour {
  return { ...base, ...patch }
}
