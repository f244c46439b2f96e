/**
 * What does classifying a request cost? For scale, each row also gives the cost of JSON.parse of the same
 * body, which the gateway pays for every request anyway. `classify()` on every prompt of the labelled set
 * (test/fixtures/routing), in process, on the parsed body (the gateway has parsed it already). Each prompt is
 * classified `--reps` times in a row after a warm-up; its cost is the mean of those calls. The table gives p50
 * and p99 of that per-prompt cost over the set, overall and by label, in microseconds.
 */
import { parseArgs } from 'node:util'
import { loadExamples } from '../scripts/classifier/report.js'
import { classify } from '../src/routing/classify.js'
import { LABELS } from '../src/routing/labels.js'
import { summarize } from './lib/stats.js'

export async function classifier(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { reps: { type: 'string', default: '200' } } })
  const reps = Number(values.reps)
  const examples = loadExamples()
  let sink = 0
  for (let round = 0; round < 20; round++) for (const e of examples) sink += classify(e.request).signals
  const costs: { label: string; chars: number; us: number; parseUs: number }[] = []
  for (const e of examples) {
    const json = JSON.stringify(e.request)
    let start = process.hrtime.bigint()
    for (let i = 0; i < reps; i++) sink += classify(e.request).signals
    const us = Number(process.hrtime.bigint() - start) / 1000 / reps
    start = process.hrtime.bigint()
    for (let i = 0; i < reps; i++) sink += (JSON.parse(json) as { messages: unknown[] }).messages.length
    const parseUs = Number(process.hrtime.bigint() - start) / 1000 / reps
    costs.push({ label: e.label, chars: classify(e.request).chars, us, parseUs })
  }
  const row = (name: string, sample: typeof costs) => {
    const s = summarize(sample.map((c) => c.us))
    const chars = summarize(sample.map((c) => c.chars))
    const parse = summarize(sample.map((c) => c.parseUs))
    console.log(
      `| ${name.padEnd(14)} | ${String(s.n).padStart(4)} | ${String(chars.p50).padStart(6)} | ${s.p50.toFixed(2).padStart(6)} | ${s.p99.toFixed(2).padStart(6)} | ${parse.p50.toFixed(2).padStart(6)} |`,
    )
  }
  console.log(`classify() per request, ${reps} calls per prompt, node ${process.version}`)
  console.log('| prompts        |    n |  chars p50 | µs p50 | µs p99 | JSON.parse µs p50 |')
  console.log('|----------------|-----:|-------:|-------:|-------:|-------:|')
  row('all', costs)
  for (const label of LABELS)
    row(
      label,
      costs.filter((c) => c.label === label),
    )
  row(
    'under 300 chars',
    costs.filter((c) => c.chars < 300),
  )
  row(
    'over 5000 chars',
    costs.filter((c) => c.chars > 5000),
  )
  // The bound: a megabyte of report lines costs what its first 64 KB and its ask's windows cost.
  const line = 'The quarterly numbers rose in most regions while costs stayed flat overall.\n'
  const huge = { messages: [{ role: 'user', content: `Summarise this.\n${line.repeat(13_000)}` }] }
  const json = JSON.stringify(huge)
  let start = process.hrtime.bigint()
  for (let i = 0; i < reps; i++) sink += classify(huge).signals
  const us = Number(process.hrtime.bigint() - start) / 1000 / reps
  start = process.hrtime.bigint()
  for (let i = 0; i < reps; i++) sink += (JSON.parse(json) as { messages: unknown[] }).messages.length
  const parseUs = Number(process.hrtime.bigint() - start) / 1000 / reps
  row('1 MB, synthetic', [{ label: 'complex', chars: huge.messages[0]!.content.length, us, parseUs }])
  if (sink === 0.5) console.log(sink)
}
