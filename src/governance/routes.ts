/** The routes whose requests the ledger records, by path: the model routes. */
const LEDGER_ROUTES: Readonly<Record<string, 'chat' | 'embeddings' | 'messages' | 'count_tokens'>> = {
  '/v1/chat/completions': 'chat',
  '/v1/embeddings': 'embeddings',
  '/v1/messages': 'messages',
  '/v1/messages/count_tokens': 'count_tokens',
}

/** The ledger's `route` of a request path, or undefined for a path the ledger does not record. */
export function ledgerRouteOf(path: string): 'chat' | 'embeddings' | 'messages' | 'count_tokens' | undefined {
  return Object.hasOwn(LEDGER_ROUTES, path) ? LEDGER_ROUTES[path] : undefined
}
