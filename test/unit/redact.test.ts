import {describe, expect, it} from 'vitest'

import {redact, registerSecret} from '../../src/output/redact.js'

describe('redact', () => {
  it('masks every registered secret, longest first, and leaves other text alone', () => {
    registerSecret('hunter2')
    registerSecret('hunter2-extended')
    expect(redact('auth([ "default", "hunter2-extended" ]) then hunter2 and hunter')).toBe('auth([ "default", "***" ]) then *** and hunter')
  })

  it('ignores secrets too short to mask without destroying ordinary output', () => {
    registerSecret('ab')
    registerSecret(undefined)
    expect(redact('a tab')).toBe('a tab')
  })
})
