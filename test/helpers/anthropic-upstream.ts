import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Stack, startStack } from './stack.js'

/**
 * A gateway whose model `claude` is served by a stand-in Anthropic API on a real socket: `answer` gets each
 * request body as text and writes the response. Closing the stack closes the stand-in too.
 */
export async function stackBehindAnthropic(
  answer: (body: string, res: ServerResponse) => void,
): Promise<Stack> {
  const upstream = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => answer(body, res))
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const { port } = upstream.address() as AddressInfo
  const stack = await startStack((config) => {
    config.providers!.push({
      id: 'claude',
      type: 'anthropic',
      base_url: `http://127.0.0.1:${port}/v1`,
      api_key: 'sk-ant-test-0000',
    })
    config.models!.push({ name: 'claude', targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] })
  })
  return {
    ...stack,
    async close() {
      await stack.close()
      upstream.closeAllConnections()
      await new Promise((resolve) => upstream.close(resolve))
    },
  }
}
