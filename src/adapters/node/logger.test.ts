import { describe, expect, it } from 'vitest'
import { jsonLogger } from './logger.js'

function capture() {
  const lines: string[] = []
  let pending: string[] = []
  const sink = {
    out: {
      write: (line: string) => void pending.push(`out ${line}`),
      flush: () => {
        lines.push(...pending)
        pending = []
      },
    },
    err: (line: string) => void lines.push(`err ${line}`),
  }
  return { sink, lines }
}

describe('jsonLogger', () => {
  it('writes one JSON object per line with time, level, msg and the fields', () => {
    const { sink, lines } = capture()
    const log = jsonLogger('info', sink, () => Date.UTC(2026, 0, 2, 3, 4, 5, 6))
    log.info('request', { status: 200, model: 'm', skipped: undefined })
    log.info('bare')
    log.info('empty', {})
    log.flush()
    expect(lines.map((l) => JSON.parse(l.slice(4)))).toEqual([
      { time: '2026-01-02T03:04:05.006Z', level: 'info', msg: 'request', status: 200, model: 'm' },
      { time: '2026-01-02T03:04:05.006Z', level: 'info', msg: 'bare' },
      { time: '2026-01-02T03:04:05.006Z', level: 'info', msg: 'empty' },
    ])
  })

  it('drops records below the level and keeps order when an error follows batched lines', () => {
    const { sink, lines } = capture()
    const log = jsonLogger('info', sink)
    log.debug('hidden')
    log.info('first')
    log.error('second', { msg_quote: 'a "quoted" value' })
    expect(lines.map((l) => [l.slice(0, 3), JSON.parse(l.slice(4)).msg])).toEqual([
      ['out', 'first'],
      ['err', 'second'],
    ])
    expect(JSON.parse(lines[1]!.slice(4)).msg_quote).toBe('a "quoted" value')
  })

  it('silent writes nothing', () => {
    const { sink, lines } = capture()
    const log = jsonLogger('silent', sink)
    log.error('x')
    log.flush()
    expect(lines).toEqual([])
  })
})
