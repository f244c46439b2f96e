/**
 * Reads a server-sent event stream and yields each event's `data` (multi-line data joined with "\n").
 * Comments, `event:`, `id:` and `retry:` lines are skipped: the providers Meridian speaks to carry
 * everything in `data`. Handles LF and CRLF line ends and events split across chunks.
 */
export async function* sseData(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string | undefined
  for await (const bytes of source) {
    buffer += decoder.decode(bytes, { stream: true })
    let start = 0
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n', start)) {
      const end = nl > start && buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      if (end === start) {
        if (data !== undefined) {
          yield data
          data = undefined
        }
      } else if (buffer.startsWith('data:', start)) {
        const from = buffer.charCodeAt(start + 5) === 32 ? start + 6 : start + 5
        const value = buffer.slice(from, end)
        data = data === undefined ? value : `${data}\n${value}`
      }
      start = nl + 1
    }
    buffer = start === buffer.length ? '' : buffer.slice(start)
  }
  buffer += decoder.decode()
  if (buffer.startsWith('data:')) {
    const value = buffer.slice(buffer.charCodeAt(5) === 32 ? 6 : 5).replace(/\r$/, '')
    data = data === undefined ? value : `${data}\n${value}`
  }
  if (data !== undefined) yield data
}
