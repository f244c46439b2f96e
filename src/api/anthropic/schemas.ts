import { z } from 'zod'

/*
 * Anthropic Messages API wire schemas (`POST /v1/messages`, `POST /v1/messages/count_tokens`). Like the OpenAI
 * ones they check what the translation relies on and the ranges Anthropic documents, and every object is
 * loose. Content blocks are checked by their `type`: a known type must have its fields, an unknown one
 * (a newer block, a server tool's result) passes, and the translation lists it as dropped instead of failing.
 * A failure is a GatewayError (MERIDIAN_INVALID_REQUEST, 400) naming the field, e.g.
 * `messages[0].content[1].source.data: Invalid input: expected string, received undefined`; errors.ts gives it
 * Anthropic's shape.
 */

/** An object whose `type` selects the schema its other fields must meet; unknown types pass as they are. */
function byType(schemas: Record<string, z.ZodType>) {
  return z.looseObject({ type: z.string() }).superRefine((value, ctx) => {
    const schema = schemas[value.type]
    if (schema === undefined) return
    const result = schema.safeParse(value)
    if (result.success) return
    for (const issue of result.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path })
  })
}

const text = z.looseObject({ type: z.literal('text'), text: z.string() })

const image = z.looseObject({
  type: z.literal('image'),
  source: byType({
    base64: z.looseObject({ media_type: z.string().min(1), data: z.string() }),
    url: z.looseObject({ url: z.string().min(1) }),
  }),
})

const document = z.looseObject({
  type: z.literal('document'),
  source: byType({
    base64: z.looseObject({ media_type: z.string().min(1), data: z.string() }),
    text: z.looseObject({ data: z.string() }),
    url: z.looseObject({ url: z.string().min(1) }),
  }),
  title: z.string().nullish(),
})

/** What a tool result may hold: text, images, documents (and unknown types, dropped by the translation). */
const resultBlock = byType({ text, image, document })

const toolUse = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
})

const toolResult = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(resultBlock)]).optional(),
  is_error: z.boolean().optional(),
})

const thinking = z.looseObject({ type: z.literal('thinking'), thinking: z.string() })

const block = byType({ text, image, document, tool_use: toolUse, tool_result: toolResult, thinking })

const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
})

const tool = z
  .looseObject({
    type: z.string().optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((value, ctx) => {
    // A client tool (no type, or `custom`) needs its schema; a server tool (`web_search_20250305`) has none.
    const custom = value.type === undefined || value.type === 'custom'
    if (custom && value.input_schema === undefined)
      ctx.addIssue({ code: 'custom', message: 'a client tool needs an input_schema', path: ['input_schema'] })
  })

const toolChoice = z
  .looseObject({
    type: z.enum(['auto', 'any', 'tool', 'none']),
    name: z.string().min(1).optional(),
    disable_parallel_tool_use: z.boolean().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.type === 'tool' && value.name === undefined)
      ctx.addIssue({ code: 'custom', message: 'tool_choice of type "tool" needs a name', path: ['name'] })
  })

/** The fields `count_tokens` shares with `messages` (it has no `max_tokens`, `stream` or sampling). */
const prompt = {
  model: z.string().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(text)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
}

/**
 * `POST /v1/messages`: required `model`, `messages` (non-empty) and `max_tokens` (a positive integer).
 *
 * @example validate(messagesRequestSchema, body) // from api/openai/body.ts: throws a 400 naming the field
 */
export const messagesRequestSchema = z.looseObject({
  ...prompt,
  max_tokens: z.number().int().min(1),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  stream: z.boolean().optional(),
  thinking: z.looseObject({ type: z.string() }).optional(),
})

export type MessagesRequest = z.output<typeof messagesRequestSchema>

/** `POST /v1/messages/count_tokens`. */
export const countTokensRequestSchema = z.looseObject(prompt)

export type CountTokensRequest = z.output<typeof countTokensRequestSchema>

// The block shapes a validated request is known to have, for the translation to read them by type.
export type TextBlock = z.output<typeof text>
export type ImageBlock = z.output<typeof image>
export type DocumentBlock = z.output<typeof document>
export type ToolUseBlock = z.output<typeof toolUse>
export type ToolResultBlock = z.output<typeof toolResult>
export type ThinkingBlock = z.output<typeof thinking>
/** Any block; narrow by `type` and cast to the type's shape (the schema has checked it). */
export type ContentBlock = { type: string } & Record<string, unknown>
