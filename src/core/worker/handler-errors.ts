/**
 * Errors a handler throws to say how a failure should be treated.
 *
 * Recognised across copies of qctl, not by `instanceof` alone: a handler may be given a qctl other than
 * the one running it (a library user's own install, a bundled copy), whose classes are other objects.
 * Each class carries a brand, a registered symbol (`Symbol.for`, the same in every copy and realm) on
 * its prototype, so a subclass of any copy's PermanentError is recognised; failing that, the name
 * `PermanentError` on the error or on a class along its prototype chain (as BullMQ recognises its
 * UnrecoverableError), so a handler need not import qctl at all:
 * `Object.assign(new Error(m), {name: 'PermanentError'})`.
 */

const PERMANENT_BRAND = Symbol.for('qctl.PermanentError')
const TRANSIENT_BRAND = Symbol.for('qctl.TransientError')

/** Retrying cannot help (bad data, a rule violation): the message goes straight to the dead-letter stream. */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PermanentError'
  }
}
Object.defineProperty(PermanentError.prototype, PERMANENT_BRAND, {value: true})

/** Worth retrying later (a timeout, a dependency down): retried with backoff until --max-attempts. */
export class TransientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'TransientError'
  }
}
Object.defineProperty(TransientError.prototype, TRANSIENT_BRAND, {value: true})

export type FailureKind = 'permanent' | 'transient'

/** A PermanentError of any copy of qctl (or of any subclass of one), or an error named PermanentError. */
export function isPermanentError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  if ((error as Record<symbol, unknown>)[PERMANENT_BRAND] === true) return true
  if ((error as {name?: unknown}).name === 'PermanentError') return true
  // Copies of qctl from before the brand: a class named PermanentError along the prototype chain.
  for (let proto: unknown = Object.getPrototypeOf(error); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if (Object.hasOwn(proto as object, 'constructor') && (proto as {constructor: {name?: unknown}}).constructor.name === 'PermanentError') return true
  }
  return false
}

/** How a thrown value is treated: only a PermanentError (by brand, class or name) skips the retries. */
export function failureKind(error: unknown): FailureKind {
  return isPermanentError(error) ? 'permanent' : 'transient'
}
