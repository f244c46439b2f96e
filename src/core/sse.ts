/**
 * An incremental server-sent events parser: feed it bytes as they arrive, get back the `data` of every event
 * they complete (multi-line data joined with "\n"). Comments, `event:`, `id:` and `retry:` lines are skipped:
 * the providers Meridian speaks to carry everything in `data`. Handles LF and CRLF line ends, and events and
 * multi-byte characters split across reads.
 */
export class SseParser {
  #decoder = new TextDecoder()
  #buffer = ''
  #data: string | undefined

  /** The events completed by these bytes, in order (often none, often several). */
  push(bytes: Uint8Array): string[] {
    this.#buffer += this.#decoder.decode(bytes, { stream: true })
    return this.#drain([])
  }

  /** The end of the stream: a final event that lacked its blank line still counts. */
  end(): string[] {
    this.#buffer += this.#decoder.decode()
    const out = this.#drain([])
    if (this.#buffer !== '') this.#line(this.#buffer, 0, this.#buffer.length)
    this.#buffer = ''
    if (this.#data !== undefined) out.push(this.#data)
    this.#data = undefined
    return out
  }

  #drain(out: string[]): string[] {
    const buffer = this.#buffer
    let start = 0
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n', start)) {
      const end = nl > start && buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      if (end === start) {
        if (this.#data !== undefined) {
          out.push(this.#data)
          this.#data = undefined
        }
      } else this.#line(buffer, start, end)
      start = nl + 1
    }
    this.#buffer = start === buffer.length ? '' : buffer.slice(start)
    return out
  }

  #line(buffer: string, start: number, end: number): void {
    if (!buffer.startsWith('data:', start)) return
    const from = buffer.charCodeAt(start + 5) === 32 ? start + 6 : start + 5
    const value = buffer.slice(from, buffer.charCodeAt(end - 1) === 13 ? end - 1 : end)
    this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`
  }
}
