import { Agent, type Dispatcher, errors } from 'undici'
import { type HttpClient, TransportError, type UpstreamResponse } from '../../core/http-client.js'
import { iterateBody } from './body-iterator.js'

export interface UndiciClientOptions {
  /** Keep-alive connections per upstream origin. */
  connections?: number
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs?: number
}

/**
 * The origin's upstream client: an undici Agent (a keep-alive pool per origin) driven through
 * `dispatcher.request`, which skips the cost of building WHATWG Request and Response objects.
 */
export function undiciClient(options: UndiciClientOptions = {}): HttpClient & { close(): Promise<void> } {
  const agent = new Agent({
    connections: options.connections ?? 256,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 10 * 60_000,
    pipelining: 1,
  })
  return {
    async request(req, { signal, timeoutMs }) {
      let res: Dispatcher.ResponseData
      try {
        res = await agent.request({
          origin: req.origin,
          path: req.path,
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        })
      } catch (err) {
        throw toTransportError(err, signal)
      }
      return wrap(res, signal)
    },
    close: () => agent.close(),
  }
}

function wrap(res: Dispatcher.ResponseData, signal: AbortSignal): UpstreamResponse {
  const { body, headers } = res
  return {
    status: res.statusCode,
    header(name) {
      const value = headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    body: iterateBody(body, (err) => toTransportError(err, signal)),
    async text() {
      try {
        return await body.text()
      } catch (err) {
        throw toTransportError(err, signal)
      }
    },
    discard() {
      body.dump().catch(() => {})
    },
  }
}

function toTransportError(err: unknown, signal: AbortSignal): TransportError {
  if (signal.aborted || err instanceof errors.RequestAbortedError) {
    return new TransportError('aborted', 'request aborted', { cause: err })
  }
  if (
    err instanceof errors.HeadersTimeoutError ||
    err instanceof errors.BodyTimeoutError ||
    err instanceof errors.ConnectTimeoutError
  ) {
    return new TransportError('timeout', (err as Error).message, { cause: err })
  }
  const code = (err as { code?: string } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  return new TransportError('network', code ? `${code} ${message}` : message, { cause: err })
}
