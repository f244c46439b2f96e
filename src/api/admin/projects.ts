import { z } from 'zod'
import { limitSetSchema } from '../../config/schema.js'
import { GatewayError } from '../../core/errors.js'
import { auditEvent, type Governance } from '../../governance/governance.js'
import { policySchema } from '../../governance/policy.js'
import type { ProjectRecord } from '../../governance/store.js'
import { adminRoute } from './route.js'
import { id, idParams, projectOut, projectSchema } from './schemas.js'

export async function projectOr404(gov: Governance, projectId: string): Promise<ProjectRecord> {
  const project = await gov.store.getProject(projectId)
  if (project === undefined)
    throw new GatewayError('MERIDIAN_NOT_FOUND', `project "${projectId}" does not exist`)
  return project
}

/** Forced models must be models this gateway serves. */
function checkForced(models: ReadonlyMap<string, unknown>, policy: z.output<typeof policySchema>): void {
  for (const [label, model] of Object.entries(policy.force ?? {})) {
    if (!models.has(model)) {
      throw new GatewayError('MERIDIAN_INVALID_REQUEST', `policy.force.${label}: unknown model "${model}"`, {
        param: `force.${label}`,
      })
    }
  }
}

export const projectRoutes = [
  adminRoute({
    method: 'get',
    path: '/admin/projects',
    summary: 'List projects',
    tag: 'projects',
    response: {
      status: 200,
      schema: z.object({ data: z.array(projectSchema) }),
      description: 'Every project',
    },
    async handle({ gov }) {
      return { json: { data: (await gov.store.listProjects()).map(projectOut) } }
    },
  }),

  adminRoute({
    method: 'post',
    path: '/admin/projects',
    summary: 'Create a project',
    tag: 'projects',
    body: z.object({
      id,
      name: z.string().optional(),
      policy: policySchema.optional(),
      limits: limitSetSchema.optional(),
      log_bodies: z.boolean().optional(),
    }),
    response: { status: 201, schema: projectSchema, description: 'The new project' },
    async handle({ gov, rt, body, actor }) {
      if ((await gov.store.getProject(body.id)) !== undefined) {
        throw new GatewayError('MERIDIAN_CONFLICT', `project "${body.id}" exists already`, { param: 'id' })
      }
      const policy = body.policy ?? {}
      checkForced(rt.models, policy)
      const now = gov.clock.epoch()
      const project: ProjectRecord = {
        id: body.id,
        name: body.name ?? null,
        policy,
        limits: body.limits ?? null,
        logBodies: body.log_bodies ?? false,
        source: 'admin',
        createdAt: now,
        updatedAt: now,
      }
      await gov.store.putProject(
        project,
        auditEvent(
          {
            actor,
            action: 'project.create',
            project: project.id,
            target: project.id,
            reason: null,
            details: { policy },
          },
          now,
        ),
      )
      await gov.reload()
      return { status: 201, json: projectOut(project) }
    },
  }),

  adminRoute({
    method: 'get',
    path: '/admin/projects/{id}',
    summary: 'Get a project',
    tag: 'projects',
    params: idParams,
    response: { status: 200, schema: projectSchema, description: 'The project' },
    async handle({ gov, params }) {
      return { json: projectOut(await projectOr404(gov, params.id)) }
    },
  }),

  adminRoute({
    method: 'patch',
    path: '/admin/projects/{id}',
    summary: "Change a project's name, rate limits or body logging",
    tag: 'projects',
    params: idParams,
    body: z.object({
      name: z.string().nullable().optional(),
      limits: limitSetSchema.nullable().optional(),
      log_bodies: z.boolean().optional(),
    }),
    response: { status: 200, schema: projectSchema, description: 'The project as changed' },
    async handle({ gov, params, body, actor }) {
      const current = await projectOr404(gov, params.id)
      const now = gov.clock.epoch()
      const next: ProjectRecord = {
        ...current,
        name: body.name === undefined ? current.name : body.name,
        limits: body.limits === undefined ? current.limits : body.limits,
        logBodies: body.log_bodies ?? current.logBodies,
        updatedAt: now,
      }
      await gov.store.putProject(
        next,
        auditEvent(
          { actor, action: 'project.update', project: next.id, target: next.id, reason: null, details: body },
          now,
        ),
      )
      await gov.reload()
      return { json: projectOut(next) }
    },
  }),

  adminRoute({
    method: 'delete',
    path: '/admin/projects/{id}',
    summary: 'Delete a project with its keys, provider keys and budgets (the ledger keeps its rows)',
    tag: 'projects',
    params: idParams,
    response: { status: 200, schema: z.object({ deleted: z.boolean() }), description: 'Whether it existed' },
    async handle({ gov, params, actor }) {
      const now = gov.clock.epoch()
      const deleted = await gov.store.deleteProject(
        params.id,
        auditEvent(
          {
            actor,
            action: 'project.delete',
            project: params.id,
            target: params.id,
            reason: null,
            details: null,
          },
          now,
        ),
      )
      if (!deleted) throw new GatewayError('MERIDIAN_NOT_FOUND', `project "${params.id}" does not exist`)
      await gov.reload()
      return { json: { deleted } }
    },
  }),

  adminRoute({
    method: 'get',
    path: '/admin/projects/{id}/policy',
    summary: "Get a project's policy",
    tag: 'policies',
    params: idParams,
    response: { status: 200, schema: policySchema, description: 'The policy' },
    async handle({ gov, params }) {
      return { json: (await projectOr404(gov, params.id)).policy }
    },
  }),

  adminRoute({
    method: 'put',
    path: '/admin/projects/{id}/policy',
    summary: "Replace a project's policy",
    tag: 'policies',
    params: idParams,
    body: policySchema,
    response: { status: 200, schema: policySchema, description: 'The policy in force' },
    async handle({ gov, rt, params, body, actor }) {
      const current = await projectOr404(gov, params.id)
      checkForced(rt.models, body)
      const now = gov.clock.epoch()
      await gov.store.putProject(
        { ...current, policy: body, updatedAt: now },
        auditEvent(
          {
            actor,
            action: 'policy.update',
            project: current.id,
            target: current.id,
            reason: null,
            details: { before: current.policy, after: body },
          },
          now,
        ),
      )
      await gov.reload()
      return { json: body }
    },
  }),
]
