/**
 * Fits the classifier's weight table to the tuning split of the labelled prompts, and reports accuracy on the
 * held-out split. Pure and deterministic (no randomness, a fixed number of steps), so the committed weights can
 * be checked by refitting them.
 *
 * The model: one score per label, the sum of its weights over the signals a request shows plus a bias; the
 * highest score wins. The weights are a multinomial logistic regression with an L2 penalty, the penalty chosen by
 * 5-fold cross-validation inside the tuning split; the held-out split is never looked at while fitting.
 */
import { decideWith, SIGNALS, signalsOf, type Weights } from '../../src/routing/classify.js'
import { LABELS, type Label } from '../../src/routing/labels.js'

export interface Example {
  id: string
  label: Label
  lang: string
  split: 'tuning' | 'heldout'
  request: { messages: unknown[]; tools?: unknown; response_format?: unknown }
}

const STEPS = 3_000
const RATE = 0.5
const PENALTIES = [0.001, 0.003, 0.01, 0.03, 0.1]
const FOLDS = 5

type Matrix = number[][]

/** Full-batch gradient descent on the softmax loss; row l holds label l's signal weights then its bias. */
function train(xs: number[], ys: number[], penalty: number): Matrix {
  const k = SIGNALS.length
  const w: Matrix = LABELS.map(() => new Array<number>(k + 1).fill(0))
  const p = new Array<number>(LABELS.length)
  for (let step = 0; step < STEPS; step++) {
    const grad: Matrix = LABELS.map(() => new Array<number>(k + 1).fill(0))
    for (let n = 0; n < xs.length; n++) {
      const x = xs[n]!
      let max = -Infinity
      for (let l = 0; l < LABELS.length; l++) {
        let s = w[l]![k]!
        for (let i = 0; i < k; i++) if ((x & (1 << i)) !== 0) s += w[l]![i]!
        p[l] = s
        if (s > max) max = s
      }
      let sum = 0
      for (let l = 0; l < LABELS.length; l++) {
        p[l] = Math.exp(p[l]! - max)
        sum += p[l]!
      }
      for (let l = 0; l < LABELS.length; l++) {
        const g = p[l]! / sum - (ys[n] === l ? 1 : 0)
        const row = grad[l]!
        row[k]! += g
        for (let i = 0; i < k; i++) if ((x & (1 << i)) !== 0) row[i]! += g
      }
    }
    for (let l = 0; l < LABELS.length; l++) {
      for (let i = 0; i <= k; i++) {
        const decay = i < k ? penalty * w[l]![i]! : 0
        w[l]![i]! -= RATE * (grad[l]![i]! / xs.length + decay)
      }
    }
  }
  return w
}

function toWeights(w: Matrix): Weights {
  const out = {} as Weights
  LABELS.forEach((label, l) => {
    const row: Partial<Record<(typeof SIGNALS)[number] | 'bias', number>> = {}
    SIGNALS.forEach((signal, i) => {
      const v = Math.round(w[l]![i]! * 100) / 100
      if (v !== 0) row[signal] = v
    })
    row.bias = Math.round(w[l]![SIGNALS.length]! * 100) / 100
    out[label] = row
  })
  return out
}

function accuracy(weights: Weights, xs: number[], ys: number[]): number {
  const decide = decideWith(weights)
  let ok = 0
  for (let n = 0; n < xs.length; n++) if (decide(xs[n]!) === LABELS[ys[n]!]) ok++
  return ok / xs.length
}

function tuningSet(examples: readonly Example[]): { xs: number[]; ys: number[] } {
  const tuning = examples.filter((e) => e.split === 'tuning')
  return {
    xs: tuning.map((e) => signalsOf(e.request).signals),
    ys: tuning.map((e) => LABELS.indexOf(e.label)),
  }
}

/** The weights fitted to the whole tuning split with a given penalty. */
export function fitWith(examples: readonly Example[], penalty: number): Weights {
  const { xs, ys } = tuningSet(examples)
  return toWeights(train(xs, ys, penalty))
}

/** The fitted weights and the penalty cross-validation chose. */
export function fitWeights(examples: readonly Example[]): { weights: Weights; penalty: number; cv: number } {
  const { xs, ys } = tuningSet(examples)
  let best = { penalty: PENALTIES[0]!, score: -1 }
  for (const penalty of PENALTIES) {
    let score = 0
    for (let f = 0; f < FOLDS; f++) {
      const inFold = (_: unknown, n: number) => n % FOLDS === f
      const outFold = (_: unknown, n: number) => n % FOLDS !== f
      const w = toWeights(train(xs.filter(outFold), ys.filter(outFold), penalty))
      score += accuracy(w, xs.filter(inFold), ys.filter(inFold))
    }
    if (score > best.score) best = { penalty, score }
  }
  return { weights: toWeights(train(xs, ys, best.penalty)), penalty: best.penalty, cv: best.score / FOLDS }
}

export interface Report {
  split: 'tuning' | 'heldout'
  total: number
  correct: number
  /** confusion[actual][predicted] */
  confusion: Record<Label, Record<Label, number>>
}

export function evaluate(weights: Weights, examples: readonly Example[], split: Report['split']): Report {
  const confusion = Object.fromEntries(
    LABELS.map((a) => [a, Object.fromEntries(LABELS.map((p) => [p, 0]))]),
  ) as Report['confusion']
  const decide = decideWith(weights)
  let total = 0
  let correct = 0
  for (const e of examples) {
    if (e.split !== split) continue
    const predicted = decide(signalsOf(e.request).signals)
    confusion[e.label][predicted]++
    total++
    if (predicted === e.label) correct++
  }
  return { split, total, correct, confusion }
}
