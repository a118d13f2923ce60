import {describe, expect, it} from 'vitest'

import {shown, shownLines, shownWidth} from '../../src/format/terminal-text.js'

describe('terminal text sanitiser', () => {
  it('shows SGR and OSC escapes, CR, LF and tab as escapes on one line', () => {
    expect(shown('\u001b[31mred\u001b[0m')).toBe('\\u001b[31mred\\u001b[0m')
    expect(shown('\u001b]0;pwned\u0007')).toBe('\\u001b]0;pwned\\u0007')
    expect(shown('a\r\nb\tc')).toBe('a\\r\\nb\\tc')
    expect(shown('\u009b31m')).toBe('\\u009b31m')
  })

  it('shows bidi overrides and zero-width characters that would make text read otherwise', () => {
    expect(shown('abc\u202Edef')).toBe('abc\\u202edef')
    expect(shown('a\u200bb')).toBe('a\\u200bb')
  })

  it('keeps ordinary text, accents and emoji as they are', () => {
    expect(shown('billing-é ✓ 🚀')).toBe('billing-é ✓ 🚀')
  })

  it('shownLines keeps line feeds and escapes everything else', () => {
    expect(shownLines('one\r\ntwo\u001b[2J')).toBe('one\\r\ntwo\\u001b[2J')
  })

  it('measures the width of what is shown, not of the raw text', () => {
    expect(shownWidth('\u001b[31m')).toBe('\\u001b[31m'.length)
    expect(shownWidth('🚀x')).toBe(2)
  })
})
