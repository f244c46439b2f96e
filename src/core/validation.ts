import type { z } from 'zod'

/** `['models', 2, 'targets', 0, 'provider']` → `models[2].targets[0].provider` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/** The first issue as `path: message`, and the path alone for the OpenAI envelope's `param`. */
export function describeIssue(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0]
  if (!issue) return { message: 'invalid value', param: null }
  const param = formatPath(issue.path)
  return {
    message: param === '' ? issue.message : `${param}: ${issue.message}`,
    param: param === '' ? null : param,
  }
}

/** Every issue as `path: message`, one per line, for config files where a user wants them all at once. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path)
    return path === '' ? issue.message : `${path}: ${issue.message}`
  })
}
