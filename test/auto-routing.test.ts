import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SimServer, startSim } from '../src/adapters/node/sim-server.js'
import { BUCKET_RANK, catalogFacts } from '../src/routing/catalog.js'
import { LABEL_FLOOR, LABELS, type Label, MODES } from '../src/routing/labels.js'
import { DEFAULT_TABLE } from '../src/routing/table.js'
import { GATEWAY_KEY, SIM_KEY, type Stack, startStack } from './helpers/stack.js'

// Three simulated providers behind one gateway: OpenAI-compatible (OpenAI and DeepSeek models), Anthropic and
// Gemini, each a `meridian sim` of its own, with every model of the shipped routing table configured. Each sim
// records the model it was asked for, so a test can see where a request landed.

const PROMPTS: Record<Label, OpenAI.ChatCompletionMessageParam[]> = {
  simple: [{ role: 'user', content: 'What is the capital of Australia?' }],
  code: [
    {
      role: 'user',
      content:
        'Why does this throw?\n```python\ndef avg(xs):\n    return sum(xs) / len(xs)\n\nprint(avg([]))\n```',
    },
  ],
  reasoning: [
    {
      role: 'user',
      content:
        'A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. How much does the ball cost? Solve it step by step.',
    },
  ],
  complex: [
    {
      role: 'user',
      content: `Compare the three vendor proposals below and write a recommendation memo.\n\n${[1, 2, 3]
        .map(
          (n) =>
            `Document ${n}: Proposal from vendor ${n}\n${'The vendor offers a managed service with support, onboarding, data migration and a service level agreement covering availability, response times and penalties. '.repeat(14)}`,
        )
        .join('\n\n')}`,
    },
  ],
}

const OPENAI = ['gpt-4.1-nano', 'gpt-4o-mini', 'gpt-4.1', 'o4-mini', 'o3']
const DEEPSEEK = ['deepseek-chat', 'deepseek-reasoner']
const ANTHROPIC = ['claude-sonnet-4-5', 'claude-opus-4-1']
const GEMINI = ['gemini-2.5-flash', 'gemini-2.5-pro']

let stack: Stack
let claude: SimServer
let gemini: SimServer
let client: OpenAI

beforeAll(async () => {
  claude = await startSim({ port: 0, apiKey: SIM_KEY, dialect: 'anthropic' })
  gemini = await startSim({ port: 0, apiKey: SIM_KEY, dialect: 'gemini' })
  stack = await startStack((config, simUrl) => {
    config.providers = [
      { id: 'openai', type: 'openai', base_url: `${simUrl}/v1`, api_key: SIM_KEY },
      { id: 'deepseek', type: 'openai', base_url: `${simUrl}/v1`, api_key: SIM_KEY },
      { id: 'anthropic', type: 'anthropic', base_url: `${claude.url}/v1`, api_key: SIM_KEY },
      { id: 'google', type: 'gemini', base_url: `${gemini.url}/v1beta`, api_key: SIM_KEY },
    ]
    const at = (provider: string) => (name: string) => ({ name, targets: [{ provider, model: name }] })
    config.models = [
      ...OPENAI.map(at('openai')),
      ...DEEPSEEK.map(at('deepseek')),
      ...ANTHROPIC.map(at('anthropic')),
      ...GEMINI.map(at('google')),
    ]
    config.routing = { projects: { test: { default_mode: 'eco' } } }
  })
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: GATEWAY_KEY, maxRetries: 0 })
})
afterAll(async () => {
  await stack?.close()
  await claude?.close()
  await gemini?.close()
})

/** The model the upstream that answered was asked for, read from the sim that serves it. */
function modelAskedOf(served: string): string | undefined {
  if (ANTHROPIC.includes(served)) return (claude.stats().last_request?.body as { model?: string })?.model
  if (GEMINI.includes(served)) return gemini.stats().last_request?.path.match(/models\/([^:]+):/)?.[1]
  return (stack.sim.stats().last_request?.body as { model?: string })?.model
}

describe('auto-routing through the openai SDK', () => {
  for (const mode of MODES) {
    for (const label of LABELS) {
      it(`auto:${mode} sends a ${label} request to the table's ${DEFAULT_TABLE[mode][label]}`, async () => {
        const { data, response } = await client.chat.completions
          .create({ model: `auto:${mode}`, messages: PROMPTS[label] })
          .withResponse()
        const served = DEFAULT_TABLE[mode][label]
        expect(response.headers.get('x-meridian-task-type')).toBe(label)
        expect(response.headers.get('x-meridian-mode')).toBe(mode)
        expect(response.headers.get('x-meridian-model')).toBe(served)
        expect(modelAskedOf(served)).toBe(served)
        expect(data.choices[0]?.message.content).toBeTruthy()
        const bucket = catalogFacts(served)!.bucket
        expect(BUCKET_RANK[bucket]).toBeGreaterThanOrEqual(LABEL_FLOOR[label])
      })
    }
  }

  it('streams an auto-routed answer, with the route in the response head', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'auto:sport', messages: PROMPTS.code, stream: true })
      .withResponse()
    let text = ''
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    expect(response.headers.get('x-meridian-model')).toBe(DEFAULT_TABLE.sport.code)
    expect(modelAskedOf(DEFAULT_TABLE.sport.code)).toBe(DEFAULT_TABLE.sport.code)
  })

  it('lists the auto aliases among the models', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id)
    expect(ids).toEqual(expect.arrayContaining(['auto', 'auto:eco', 'auto:balanced', 'auto:sport', 'o3']))
  })
})

describe('choosing the mode', () => {
  const ask = (model: string, headers: Record<string, string> = {}) =>
    stack.post('/v1/chat/completions', { model, messages: PROMPTS.reasoning }, headers)

  it("plain auto takes the project's default mode, and x-meridian-mode over it", async () => {
    const byDefault = await ask('auto')
    expect(byDefault.headers.get('x-meridian-mode')).toBe('eco')
    expect(byDefault.headers.get('x-meridian-model')).toBe(DEFAULT_TABLE.eco.reasoning)
    const sport = await ask('auto', { 'x-meridian-mode': 'sport' })
    expect(sport.headers.get('x-meridian-mode')).toBe('sport')
    expect(sport.headers.get('x-meridian-model')).toBe(DEFAULT_TABLE.sport.reasoning)
  })

  it('auto:<mode> wins over the header', async () => {
    const res = await ask('auto:balanced', { 'x-meridian-mode': 'sport' })
    expect(res.headers.get('x-meridian-model')).toBe(DEFAULT_TABLE.balanced.reasoning)
  })

  it('an unknown mode is a clear 400, an unknown auto alias a 404', async () => {
    const header = await ask('auto', { 'x-meridian-mode': 'turbo' })
    expect(header.status).toBe(400)
    expect((await header.json()).error).toMatchObject({
      code: 'MERIDIAN_INVALID_REQUEST',
      message: 'x-meridian-mode must be one of eco, balanced, sport; got "turbo"',
    })
    const alias = await ask('auto:turbo')
    expect(alias.status).toBe(404)
    expect((await alias.json()).error).toMatchObject({ code: 'MERIDIAN_MODEL_NOT_FOUND', param: 'model' })
  })
})

describe('pinning', () => {
  it('a concrete model name bypasses the classifier', async () => {
    const res = await stack.post('/v1/chat/completions', { model: 'o3', messages: PROMPTS.simple })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-meridian-task-type')).toBeNull()
    expect(modelAskedOf('o3')).toBe('o3')
  })

  it('x-meridian-model-prefer alongside auto bypasses it too, and must name a model', async () => {
    const res = await stack.post(
      '/v1/chat/completions',
      { model: 'auto', messages: PROMPTS.simple },
      { 'x-meridian-model-prefer': 'claude-opus-4-1', 'x-meridian-debug': '1' },
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('x-meridian-model')).toBe('claude-opus-4-1')
    expect(res.headers.get('x-meridian-task-type')).toBeNull()
    expect(res.headers.get('x-meridian-route-reason')).toBe(
      'pinned by x-meridian-model-prefer -> claude-opus-4-1',
    )
    expect(modelAskedOf('claude-opus-4-1')).toBe('claude-opus-4-1')
    const unknown = await stack.post(
      '/v1/chat/completions',
      { model: 'auto', messages: PROMPTS.simple },
      { 'x-meridian-model-prefer': 'gpt-9' },
    )
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).error.code).toBe('MERIDIAN_MODEL_NOT_FOUND')
  })
})

describe('what an auto-routed request leaves behind', () => {
  it('explains its route with x-meridian-debug: 1, and only then', async () => {
    const body = { model: 'auto:eco', messages: PROMPTS.code }
    const plain = await stack.post('/v1/chat/completions', body)
    expect(plain.headers.get('x-meridian-route-reason')).toBeNull()
    const debug = await stack.post('/v1/chat/completions', body, { 'x-meridian-debug': '1' })
    expect(debug.headers.get('x-meridian-route-reason')).toMatch(
      /^classifier\/\d+ code: [a-z_,]*code_block[a-z_,]*; chars=\d+ turns=1; eco\/code -> deepseek-chat$/,
    )
  })

  it('routes the same request the same way, so its cache key is stable: the second is a hit', async () => {
    const body = { model: 'auto', messages: PROMPTS.complex, temperature: 0 }
    const first = await stack.post('/v1/chat/completions', body, { 'x-meridian-mode': 'balanced' })
    const second = await stack.post('/v1/chat/completions', body, { 'x-meridian-mode': 'balanced' })
    expect(first.headers.get('x-meridian-cache')).toBe('miss')
    expect(second.headers.get('x-meridian-cache')).toBe('hit')
    expect(second.headers.get('x-meridian-model')).toBe(first.headers.get('x-meridian-model'))
    expect(await second.text()).toBe(await first.text())
  })

  it('writes the task type, the mode, the model and the reference model into the request log', async () => {
    const res = await stack.post(
      '/v1/chat/completions',
      { model: 'auto', messages: PROMPTS.simple },
      { 'x-request-id': 'auto-log-1' },
    )
    await res.text()
    const line = await stack.logged('auto-log-1')
    expect(line).toMatchObject({
      model: 'auto',
      mode: 'eco',
      task_type: 'simple',
      routed_to: DEFAULT_TABLE.eco.simple,
      reference_model: DEFAULT_TABLE.sport.simple,
      target: `openai/${DEFAULT_TABLE.eco.simple}`,
    })
    // Priced at the catalog's rates: what it cost, and what the reference model would have for the same tokens.
    const { prompt_tokens: p, completion_tokens: c } = line
    expect(p).toBeGreaterThan(0)
    const cost = (model: string) => {
      const price = catalogFacts(model)!.price
      return Math.round(((p * price.input + c * price.output) / 1e6) * 1e9) / 1e9
    }
    expect(line.cost_usd).toBe(cost(DEFAULT_TABLE.eco.simple))
    expect(line.reference_cost_usd).toBe(cost(DEFAULT_TABLE.sport.simple))
    expect(line.reference_cost_usd).toBeGreaterThan(line.cost_usd)
  })

  it("prices a stream from its final chunk's usage", async () => {
    const stream = await client.chat.completions.create(
      {
        model: 'auto:balanced',
        messages: PROMPTS.code,
        stream: true,
        stream_options: { include_usage: true },
      },
      { headers: { 'x-request-id': 'auto-log-stream' } },
    )
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) usage = chunk.usage ?? usage
    const line = await stack.logged('auto-log-stream')
    expect(line).toMatchObject({
      task_type: 'code',
      routed_to: DEFAULT_TABLE.balanced.code,
      prompt_tokens: usage!.prompt_tokens,
      completion_tokens: usage!.completion_tokens,
    })
    expect(line.cost_usd).toBeGreaterThan(0)
  })
})

describe("a deployment without the table's models", () => {
  let small: Stack
  beforeAll(async () => {
    small = await startStack((config) => {
      config.models = [
        { name: 'mini', targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] },
        { name: 'big', targets: [{ provider: 'sim', model: 'claude-opus-4-1' }] },
      ]
    })
  })
  afterAll(() => small?.close())

  it('falls to the nearest configured model: up rather than down, never below the floor, even in eco', async () => {
    // eco's cells: simple a small model (mini serves it), code a medium one and reasoning and complex have a
    // medium floor: nothing medium is configured, so they go up to big, never down to mini.
    const expected = { simple: 'mini', code: 'big', reasoning: 'big', complex: 'big' }
    for (const label of LABELS) {
      const res = await small.post('/v1/chat/completions', { model: 'auto:eco', messages: PROMPTS[label] })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-meridian-task-type')).toBe(label)
      expect(res.headers.get('x-meridian-model'), label).toBe(expected[label])
    }
  })

  it('answers 503 with a clear message when no configured model clears the floor', async () => {
    const tiny = await startStack((config) => {
      config.models = [{ name: 'mini', targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] }]
    })
    try {
      const res = await tiny.post('/v1/chat/completions', { model: 'auto:eco', messages: PROMPTS.reasoning })
      expect(res.status).toBe(503)
      expect((await res.json()).error).toMatchObject({ code: 'MERIDIAN_NO_ROUTE', type: 'server_error' })
      expect(tiny.sim.stats().chat).toBe(0)
    } finally {
      await tiny.close()
    }
  })
})
