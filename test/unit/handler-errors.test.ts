import {describe, expect, it, vi} from 'vitest'

import {failureKind, PermanentError, TransientError} from '../../src/core/worker/handler-errors.js'

/** Another instance of the module, as a handler gets from a second copy of qctl (its own install, tsx's namespace). */
async function anotherCopy(): Promise<typeof import('../../src/core/worker/handler-errors.js')> {
  vi.resetModules()
  return import('../../src/core/worker/handler-errors.js')
}

describe('failureKind', () => {
  it('recognises a subclass of another copy of PermanentError by its brand, though instanceof fails', async () => {
    const copy = await anotherCopy()
    expect(copy.PermanentError).not.toBe(PermanentError)
    class BadOrder extends copy.PermanentError {
      constructor(message: string) {
        super(message)
        this.name = 'BadOrder'
      }
    }
    const error = new BadOrder('non-positive total')
    expect(error instanceof PermanentError).toBe(false)
    expect(failureKind(error)).toBe('permanent')
    expect(failureKind(new copy.PermanentError('x'))).toBe('permanent')
    expect(failureKind(new copy.TransientError('x'))).toBe('transient')
  })

  it('recognises a class named PermanentError along the prototype chain (a copy without the brand)', () => {
    class PermanentErrorOfOldCopy extends Error {}
    Object.defineProperty(PermanentErrorOfOldCopy, 'name', {value: 'PermanentError'})
    class BadOrder extends PermanentErrorOfOldCopy {
      override name = 'BadOrder'
    }
    expect(failureKind(new BadOrder('x'))).toBe('permanent')
  })

  it.each([
    ['a PermanentError', 'permanent', new PermanentError('x')],
    ['an error named PermanentError', 'permanent', Object.assign(new Error('x'), {name: 'PermanentError'})],
    ['a TransientError', 'transient', new TransientError('x')],
    ['a plain Error', 'transient', new Error('x')],
    ['a string', 'transient', 'PermanentError'],
    ['null', 'transient', null],
    ['an object without a prototype', 'transient', Object.create(null) as object],
  ])('%s is %s', (_what, kind, error) => {
    expect(failureKind(error)).toBe(kind)
  })
})
