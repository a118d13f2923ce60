/**
 * Errors a handler throws to say how a failure should be treated. Recognised by class or by
 * `name`, so a handler module need not import qctl (`Object.assign(new Error(m), {name: 'PermanentError'})`).
 */

/** Retrying cannot help (bad data, a rule violation): the message goes straight to the dead-letter stream. */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PermanentError'
  }
}

/** Worth retrying later (a timeout, a dependency down): retried with backoff until --max-attempts. */
export class TransientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'TransientError'
  }
}

export type FailureKind = 'permanent' | 'transient'

/** How a thrown value is treated: only a PermanentError (by class or name) skips the retries. */
export function failureKind(error: unknown): FailureKind {
  if (error instanceof PermanentError) return 'permanent'
  if (typeof error === 'object' && error !== null && (error as {name?: unknown}).name === 'PermanentError') return 'permanent'
  return 'transient'
}
