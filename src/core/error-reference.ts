import { ErrorCodes } from './errors.js'

const MEANING: Record<keyof typeof ErrorCodes, string> = {
  MERIDIAN_INVALID_JSON: 'The body is empty or not valid JSON.',
  MERIDIAN_INVALID_REQUEST:
    'The body breaks the API schema; `param` names the field (e.g. `messages[1].role`).',
  MERIDIAN_CONFLICT: 'An admin request would create something that exists already (a project id, a key id).',
  MERIDIAN_UNAUTHORIZED:
    'The gateway key is missing, unknown, revoked or expired (or the admin token is wrong).',
  MERIDIAN_BUDGET_EXCEEDED:
    'A budget of the project or key has no room for the largest cost this request could have; `error.budget` names the budget, what it allows, what is spent and when it resets.',
  MERIDIAN_POLICY_DENIED:
    'A policy denies the request; `error.policy` is `{rule, value}`: the rule (`models.allow`, `models.deny`, `key.models`, `deny_modes`, `max_input_tokens`, `max_tokens`, `provider_keys`, `price`) and the value it denied.',
  MERIDIAN_NOT_FOUND: 'No such route.',
  MERIDIAN_MODEL_NOT_FOUND:
    'The model is not configured (or `auto:<mode>` names no mode, or `x-meridian-model-prefer` no model); `param` is `model` when the body named it.',
  MERIDIAN_METHOD_NOT_ALLOWED: 'The route exists but not with this method.',
  MERIDIAN_BODY_TOO_LARGE: 'The body is larger than `server.max_body`.',
  MERIDIAN_UNSUPPORTED_MEDIA_TYPE: 'A content type other than JSON was declared.',
  MERIDIAN_RATE_LIMITED:
    "A key's or project's rpm, tpm or concurrency limit has no room: `Retry-After` says when to retry (absent when the request alone exceeds the tpm).",
  MERIDIAN_UPSTREAM_BAD_REQUEST:
    'The provider rejected the request as invalid (its 4xx other than 401, 403, 408, 429); its status and message are passed on.',
  MERIDIAN_UPSTREAM_RATE_LIMITED: 'The provider answered 429; its Retry-After is kept.',
  MERIDIAN_UPSTREAM_ERROR:
    'The provider failed (5xx, or an error inside a stream); the message names its status.',
  MERIDIAN_UPSTREAM_AUTH:
    "The provider refused the gateway's own credentials (401/403): fix the provider key.",
  MERIDIAN_UPSTREAM_UNREACHABLE: 'The provider could not be reached (refused, reset, DNS).',
  MERIDIAN_UPSTREAM_INVALID_RESPONSE:
    'The provider answered 2xx with an unusable body, or ended a stream early.',
  MERIDIAN_UPSTREAM_TIMEOUT:
    'The provider sent nothing for `timeout_ms` (head, or a silence inside a stream).',
  MERIDIAN_ORIGIN_UNREACHABLE:
    'The edge could reach none of its origins (`ORIGIN_URL`); cached answers are still served at the edge.',
  MERIDIAN_CLIENT_CLOSED: 'The client went away first; only the request log sees it.',
  MERIDIAN_NO_ROUTE:
    '`model: "auto"`: no configured model clears the quality floor of the task type in that mode; configure one (see docs/auto-routing.md) or name a model.',
  MERIDIAN_NOT_READY: '`GET /ready`: a dependency did not answer.',
  MERIDIAN_LIMITS_UNAVAILABLE:
    'The rate-limit store (Redis) did not answer and `limits.on_store_error` is `closed`; with `open` (the default) the request is admitted instead.',
  MERIDIAN_BUDGET_UNAVAILABLE:
    'The budget store (the database, or Redis) did not answer; a request that counts against a budget is refused rather than risk spending past it. Requests without a budget are unaffected.',
  MERIDIAN_CACHE_UNAVAILABLE:
    'An admin purge of the cache failed because a tier (Redis, SQLite) did. Requests never get it: the cache fails open.',
  MERIDIAN_INTERNAL: 'A bug: the details go to the log, never to the client.',
}

/** docs/errors.md, generated from ErrorCodes so the docs cannot drift from the code. */
export function errorReference(): string {
  const rows = Object.entries(ErrorCodes).map(
    ([code, spec]) =>
      `| \`${code}\` | ${spec.status} | \`${spec.type}\` | ${spec.retryable ? 'yes' : 'no'} | ${MEANING[code as keyof typeof ErrorCodes]} |`,
  )
  return `${[
    '# Errors',
    '',
    '<!-- Generated from src/core/errors.ts by `npm run docs`; do not edit by hand. -->',
    '',
    "Every error is OpenAI's envelope, whatever went wrong and wherever:",
    '',
    '```json',
    '{"error":{"message":"temperature: Too big: expected number to be <=2","type":"invalid_request_error","param":"temperature","code":"MERIDIAN_INVALID_REQUEST"}}',
    '```',
    '',
    'and carries `x-request-id` and `Server-Timing` like any response. Messages never hold a stack trace or a',
    "provider key (the gateway's own provider secrets are scrubbed from anything an upstream says). A failure",
    'after a stream has started cannot change the status any more: it arrives as a last `data: {"error":…}` event,',
    "which OpenAI's SDKs raise as an error, and the stream closes without `[DONE]`.",
    '',
    '`retryable` says whether the same request may succeed if sent again (a later fallback target is tried for',
    'these before the client sees them).',
    '',
    '| code | status | type | retryable | meaning |',
    '|---|---:|---|---|---|',
    ...rows,
  ].join('\n')}\n`
}
