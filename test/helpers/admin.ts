/** The admin token tests configure (`admin.token`). */
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef'

export interface AdminAnswer {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: an admin answer is whatever JSON the route documents
  body: any
  headers: Headers
}

/** Calls the admin API of a gateway at `url` with the admin token, as `x-meridian-actor: test`. */
export function adminClient(url: string, token = ADMIN_TOKEN) {
  const call = async (method: string, path: string, body?: unknown): Promise<AdminAnswer> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-meridian-actor': 'test',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    const type = res.headers.get('content-type') ?? ''
    return { status: res.status, body: type.includes('json') ? JSON.parse(text) : text, headers: res.headers }
  }
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body ?? {}),
    put: (path: string, body: unknown) => call('PUT', path, body),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
  }
}
