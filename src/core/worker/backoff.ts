/** Retry delays: pure functions, table-tested. */

export type BackoffKind = 'exponential' | 'fixed'

export interface BackoffPolicy {
  kind: BackoffKind
  /** First delay (exponential) or every delay (fixed). */
  delayMs: number
  /** No delay is longer than this. */
  maxMs: number
  /** Spread each delay over ±jitter of itself (0.2 = ±20 %), so retries of a burst do not stampede. */
  jitter: number
}

/** A number in [0, 1) derived from a string (FNV-1a): the same entry and attempt always get the same jitter. */
function unitHash(seed: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) / 0x1_0000_0000
}

/**
 * How long to wait before delivering an entry again after its `failures`-th failed delivery
 * (1 for the first). Deterministic for a given seed (the entry ID): whichever worker computes it
 * gets the same answer.
 */
export function backoffDelay(policy: BackoffPolicy, failures: number, seed: string): number {
  const base = policy.kind === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** Math.min(Math.max(failures - 1, 0), 40)
  const spread = 1 + policy.jitter * (2 * unitHash(`${seed}#${failures}`) - 1)
  return Math.round(Math.min(policy.maxMs, Math.min(base, policy.maxMs) * spread))
}

/** The shortest delay the policy can produce (the heartbeat must beat faster than this). */
export const shortestBackoff = (policy: BackoffPolicy): number => Math.floor(Math.min(policy.delayMs, policy.maxMs) * (1 - policy.jitter))
