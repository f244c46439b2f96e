import type { Hono } from 'hono'
import { createContext } from '../../core/context.js'
import { errorResponse, jsonResponse } from '../../core/respond.js'
import type { Runtime } from '../../core/runtime.js'
import { budgetRoutes } from './budgets.js'
import { keyRoutes } from './keys.js'
import { requireAdmin } from './operations.js'
import { projectRoutes } from './projects.js'
import { providerKeyRoutes } from './provider-keys.js'
import { reportRoutes } from './reports.js'
import { type AdminRoute, adminOpenApi, serveAdmin } from './route.js'

/** Every governance route of the admin API, in the order the OpenAPI document lists them. */
export const ADMIN_ROUTES = [
  ...projectRoutes,
  ...keyRoutes,
  ...providerKeyRoutes,
  ...budgetRoutes,
  ...reportRoutes,
] as unknown as readonly AdminRoute<never, never, never>[]

/** Serves the governance admin API and its OpenAPI document (`GET /admin/openapi.json`). */
export function mountAdmin(app: Hono, rt: Runtime): void {
  serveAdmin(app, rt, ADMIN_ROUTES)
  let document: Promise<string> | undefined
  app.get('/admin/openapi.json', async (c) => {
    const ctx = createContext(c.req.raw, c.req.path, rt.clock)
    try {
      requireAdmin(rt, c.req.raw, ctx)
      document ??= adminOpenApi(ADMIN_ROUTES).then((doc) => JSON.stringify(doc))
      return jsonResponse(rt, ctx, 200, await document)
    } catch (err) {
      return errorResponse(rt, ctx, err)
    }
  })
}
