/** What a request asks for, as the classifier sees it: the task types auto-routing routes on. */
export const LABELS = ['simple', 'code', 'reasoning', 'complex'] as const
export type Label = (typeof LABELS)[number]

/** How a client trades cost against quality when it lets Meridian choose the model. */
export const MODES = ['eco', 'balanced', 'sport'] as const
export type Mode = (typeof MODES)[number]

/**
 * The quality floor: the least bucket rank (see BUCKET_RANK) a task type may be answered by, in every mode.
 * Reasoning and complex requests never go to a small model.
 */
export const LABEL_FLOOR: Readonly<Record<Label, number>> = { simple: 1, code: 1, reasoning: 2, complex: 2 }

export function isMode(value: string): value is Mode {
  return value === 'eco' || value === 'balanced' || value === 'sport'
}
