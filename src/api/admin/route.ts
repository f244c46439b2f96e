import type { RouteConfig } from '@asteasolutions/zod-to-openapi'
import type { Hono } from 'hono'
import type { z } from 'zod'
import { createContext, type RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'
import { errorResponse, jsonResponse, textResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { describeIssue } from '../../core/validation.js'
import type { Governance } from '../../governance/governance.js'
import { readJsonBody } from '../openai/body.js'
import { requireAdmin } from './operations.js'

/** What a handler gets: the validated parts of the request, and who is asking (for the audit log). */
export interface AdminInput<P, Q, B> {
  params: P
  query: Q
  body: B
  /** `admin`, or `admin:<name>` when the caller says who it is in `x-meridian-actor`. */
  actor: string
  gov: Governance
  rt: Runtime
  req: Request
  ctx: RequestContext
}

/** A handler's answer: JSON (status 200 unless given), or CSV text. */
export type AdminResult = { status?: number; json: unknown } | { csv: string; filename: string }

/**
 * One admin route, declared once: Hono serves it and the OpenAPI document at `/admin/openapi.json` describes
 * it, from the same zod schemas, so the docs cannot drift from what is enforced.
 */
export interface AdminRoute<P = unknown, Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** OpenAPI style: `/admin/keys/{id}`. */
  path: string
  summary: string
  tag: string
  params?: z.ZodType<P>
  query?: z.ZodType<Q>
  body?: z.ZodType<B>
  /** The success answer's status and schema (a CSV route says so in its description). */
  response: { status: number; schema: z.ZodType; description: string; csv?: boolean }
  handle(input: AdminInput<P, Q, B>): Promise<AdminResult> | AdminResult
}

/** Declares a route with its types inferred from its schemas. */
export function adminRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(
  route: AdminRoute<P, Q, B>,
): AdminRoute<P, Q, B> {
  return route
}

const ACTOR = /^[A-Za-z0-9._@:-]{1,64}$/

/** The 400 of the first problem, its `param` naming where (`query.by`, `body.models.allow[0]`). */
function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (schema === undefined) return undefined as T
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const { message, param } = describeIssue(result.error)
  throw new GatewayError('MERIDIAN_INVALID_REQUEST', `${where}${param === null ? '' : '.'}${message}`, {
    param: param === null ? where : `${where}.${param}`,
  })
}

/** Serves the routes on the gateway's Hono app (admin token required; 404 without governance). */
export function serveAdmin(app: Hono, rt: Runtime, routes: readonly AdminRoute<never, never, never>[]): void {
  for (const route of routes as readonly AdminRoute[]) {
    const path = route.path.replace(/\{(\w+)\}/g, ':$1')
    app.on(route.method.toUpperCase(), path, async (c) => {
      const req = c.req.raw
      const ctx = createContext(req, c.req.path, rt.clock)
      try {
        requireAdmin(rt, req, ctx)
        const gov = rt.governance
        if (gov === undefined) throw new GatewayError('MERIDIAN_NOT_FOUND', 'governance is not configured')
        const params = parse(route.params, decoded(c.req.param()), 'path')
        const query = parse(route.query, c.req.query(), 'query')
        const body =
          route.body === undefined ? undefined : parse(route.body, await bodyOf(req, route.body, rt), 'body')
        const named = req.headers.get('x-meridian-actor')
        const actor = named !== null && ACTOR.test(named) ? `admin:${named}` : 'admin'
        const result = await route.handle({ params, query, body, actor, gov, rt, req, ctx })
        if ('csv' in result) {
          const res = textResponse(rt, ctx, 200, result.csv, 'text/csv; charset=utf-8')
          res.headers.set('content-disposition', `attachment; filename="${result.filename}"`)
          return res
        }
        return jsonResponse(rt, ctx, result.status ?? 200, JSON.stringify(result.json))
      } catch (err) {
        return errorResponse(rt, ctx, err)
      }
    })
  }
}

/** The JSON body; none at all is fine for a route whose body is optional. */
async function bodyOf(req: Request, schema: z.ZodType, rt: Runtime): Promise<unknown> {
  const empty = req.body === null || req.headers.get('content-length') === '0'
  if (empty && schema.safeParse(undefined).success) return undefined
  return readJsonBody(req, rt.config.server.max_body)
}

function decoded(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(params)) {
    try {
      out[k] = decodeURIComponent(v)
    } catch {
      throw new GatewayError('MERIDIAN_INVALID_REQUEST', `malformed percent-encoding in ${k}`, { param: k })
    }
  }
  return out
}

/** The OpenAPI 3.1 document of the admin API, generated from the routes' schemas. */
export async function adminOpenApi(routes: readonly AdminRoute<never, never, never>[]): Promise<unknown> {
  const { OpenAPIRegistry, OpenApiGeneratorV31 } = await import('@asteasolutions/zod-to-openapi')
  const registry = new OpenAPIRegistry()
  registry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer' })
  const errorSchema = {
    description: 'An error, in the OpenAI envelope',
    content: {
      'application/json': {
        schema: {
          type: 'object' as const,
          properties: {
            error: {
              type: 'object' as const,
              properties: {
                message: { type: 'string' as const },
                type: { type: 'string' as const },
                param: { type: ['string', 'null'] as unknown as 'string' },
                code: { type: 'string' as const },
              },
              required: ['message', 'type', 'param', 'code'],
            },
          },
          required: ['error'],
        },
      },
    },
  }
  for (const route of routes as readonly AdminRoute[]) {
    const config: RouteConfig = {
      method: route.method,
      path: route.path,
      summary: route.summary,
      tags: [route.tag],
      security: [{ adminToken: [] }],
      request: {
        ...(route.params === undefined ? {} : { params: route.params as never }),
        ...(route.query === undefined ? {} : { query: route.query as never }),
        ...(route.body === undefined
          ? {}
          : { body: { required: true, content: { 'application/json': { schema: route.body } } } }),
      },
      responses: {
        [route.response.status]: {
          description: route.response.description,
          content: route.response.csv
            ? {
                'application/json': { schema: route.response.schema },
                'text/csv': { schema: { type: 'string' } },
              }
            : { 'application/json': { schema: route.response.schema } },
        },
        400: errorSchema,
        401: errorSchema,
        404: errorSchema,
      },
    }
    registry.registerPath(config)
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Meridian admin API',
      version: '1',
      description:
        'Projects, gateway keys, provider keys, policies, budgets, usage and the audit log. Every route needs `Authorization: Bearer <admin.token>`; send `x-meridian-actor: <name>` to be named in the audit log.',
    },
  })
}
