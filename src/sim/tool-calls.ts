// Forced tool calls: which tool `tool_choice` forces, and deterministic arguments that fit its schema.

import { hex8, type Prng } from './hash.js'
import { words } from './vocabulary.js'
import { isObject, type JsonObject, type ToolCall } from './wire.js'

const TOOL_ARGUMENT_PIECE = 8 // characters of tool-call arguments per stream chunk

/** The tool a request forces, with its JSON Schema parameters when it declares them. */
export interface ForcedTool {
  name: string
  parameters: unknown
}

/**
 * The tool `tool_choice` forces: the named one, or the first with `"required"`; null when the model may
 * answer in text (`"auto"`, `"none"`, absent, or no tools).
 */
export function forcedTool(body: JsonObject): ForcedTool | null {
  const tools = body.tools
  if (!Array.isArray(tools) || tools.length === 0) return null
  const choice = body.tool_choice
  let name: string | null = null
  if (isObject(choice) && choice.type === 'function' && isObject(choice.function)) {
    if (typeof choice.function.name === 'string') name = choice.function.name
  } else if (choice !== 'required') return null
  for (const tool of tools) {
    if (!isObject(tool) || !isObject(tool.function) || typeof tool.function.name !== 'string') continue
    if (name === null || tool.function.name === name) {
      return { name: tool.function.name, parameters: tool.function.parameters }
    }
  }
  return name === null ? null : { name, parameters: undefined }
}

/** Arguments that fit the tool's top-level properties when it declares them, `{"query": …}` otherwise. */
function toolArguments(rng: Prng, parameters: unknown): string {
  const properties = isObject(parameters) && isObject(parameters.properties) ? parameters.properties : null
  if (properties === null || Object.keys(properties).length === 0) {
    return JSON.stringify({ query: words(rng, 2 + rng.below(4)) })
  }
  const args: JsonObject = {}
  for (const [key, schema] of Object.entries(properties)) {
    const type = isObject(schema) ? schema.type : undefined
    const choices = isObject(schema) && Array.isArray(schema.enum) ? schema.enum : null
    if (choices !== null && choices.length > 0) args[key] = choices[rng.below(choices.length)]
    else if (type === 'integer') args[key] = rng.below(100)
    else if (type === 'number') args[key] = rng.below(10_000) / 100
    else if (type === 'boolean') args[key] = rng.below(2) === 1
    else if (type === 'array') args[key] = [words(rng, 1), words(rng, 1)]
    else args[key] = words(rng, 1 + rng.below(3))
  }
  return JSON.stringify(args)
}

/**
 * One call of the forced tool: the arguments first, then the id, from the choice's `rng`.
 *
 * @example toolCall(new Prng(fnv1a64('x'), 1), { name: 'lookup', parameters: undefined }).function.name // 'lookup'
 */
export function toolCall(rng: Prng, tool: ForcedTool): ToolCall {
  const args = toolArguments(rng, tool.parameters)
  const id = `call_${hex8(rng.next())}${hex8(rng.next())}${hex8(rng.next())}`
  return { id, type: 'function', function: { name: tool.name, arguments: args } }
}

/** Tool-call arguments cut into the pieces a stream sends, a few characters each. */
export function argumentPieces(args: string): string[] {
  const pieces: string[] = []
  for (let i = 0; i < args.length; i += TOOL_ARGUMENT_PIECE)
    pieces.push(args.slice(i, i + TOOL_ARGUMENT_PIECE))
  return pieces
}
