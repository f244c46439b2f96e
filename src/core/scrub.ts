const REDACTED = '[REDACTED]'

/**
 * Removes the gateway's own secrets (provider API keys and auth header values) from text that is passed on
 * to a client or written to a log: some providers quote the key they received in their error messages.
 *
 * @example createScrubber(['sk-live-123'])('bad key sk-live-123') // 'bad key [REDACTED]'
 */
export function createScrubber(secrets: Iterable<string>): (text: string) => string {
  // Longest first, so a secret that contains another is removed whole. Short values are not secrets worth a scan.
  const list = [...new Set(secrets)].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length)
  if (list.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const secret of list) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED)
    return out
  }
}
