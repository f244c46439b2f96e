/** Finish reasons of answers that are whole and safe to serve again; `content_filter` and the unknown are not. */
export const STORABLE_FINISH = new Set(['stop', 'length', 'tool_calls', 'function_call'])

/** Whether a non-stream chat completion (JSON text) may be stored: it has choices and every one finished well. */
export function storableCompletion(text: string): boolean {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return false
  }
  const choices = (parsed as { choices?: unknown } | null)?.choices
  if (!Array.isArray(choices) || choices.length === 0) return false
  return choices.every(
    (choice) =>
      typeof choice === 'object' && choice !== null && STORABLE_FINISH.has(choice.finish_reason as string),
  )
}
