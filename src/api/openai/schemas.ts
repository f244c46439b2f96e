import { z } from 'zod'

/*
 * OpenAI wire schemas for what Meridian reads. They check what the gateway relies on and the ranges OpenAI
 * documents; every object is loose, so fields Meridian does not know pass through to the provider untouched
 * (the gateway forwards the client's own object, never the parsed copy).
 */

const contentPart = z.looseObject({ type: z.string() })
const content = z.union([z.string(), z.array(contentPart)]).nullish()

const toolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string().optional() }),
})

const message = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content: z.union([z.string(), z.array(contentPart)]) }),
  z.looseObject({ role: z.literal('developer'), content: z.union([z.string(), z.array(contentPart)]) }),
  z.looseObject({ role: z.literal('user'), content: z.union([z.string(), z.array(contentPart)]) }),
  z.looseObject({ role: z.literal('assistant'), content, tool_calls: z.array(toolCall).optional() }),
  z.looseObject({
    role: z.literal('tool'),
    content: z.union([z.string(), z.array(contentPart)]),
    tool_call_id: z.string(),
  }),
  z.looseObject({ role: z.literal('function'), content: z.string().nullable(), name: z.string() }),
])

const tool = z.looseObject({
  type: z.string(),
  function: z
    .looseObject({ name: z.string().min(1), parameters: z.record(z.string(), z.unknown()).optional() })
    .optional(),
})

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string() }).optional() }),
])

const responseFormat = z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) })

const stop = z.union([z.string(), z.array(z.string()).max(4)]).nullish()

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  seed: z.number().int().nullish(),
  stop,
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  user: z.string().nullish(),
})

export type ChatRequest = z.output<typeof chatRequestSchema>

const tokens = z.array(z.number().int().min(0))

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), tokens.min(1), z.array(tokens.min(1)).min(1)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
})

export type EmbeddingsRequest = z.output<typeof embeddingsRequestSchema>
