import {PassThrough} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {askYesNo, canPrompt, confirmed, isYes, requireConsentPossible, type PromptStreams} from '../../src/cli/confirm.js'
import {QctlError} from '../../src/core/errors.js'

/** A fake stdin (line mode: not a raw terminal) and stderr that records what is written. */
function streams(): {input: PassThrough; output: PassThrough; written: () => string} {
  const input = new PassThrough()
  const output = new PassThrough()
  let written = ''
  output.on('data', (chunk: Buffer) => (written += chunk.toString()))
  return {input, output, written: () => written}
}

describe('isYes', () => {
  it.each(['y', 'Y', 'yes', 'YES', ' yes '])('%j is yes', (answer) => expect(isYes(answer)).toBe(true))
  it.each(['', 'n', 'no', 'yep', 'sure', 'y y'])('%j is no', (answer) => expect(isYes(answer)).toBe(false))
})

describe('askYesNo', () => {
  it('writes the question to the output and reads one answer line', async () => {
    const io = streams()
    const answer = askYesNo('Delete 3 entries? [y/N] ', io)
    io.input.write('y\n')
    expect(await answer).toBe('yes')
    expect(io.written()).toContain('Delete 3 entries? [y/N] ')
  })

  it('an empty line is the default: no', async () => {
    const io = streams()
    const answer = askYesNo('? ', io)
    io.input.write('\n')
    expect(await answer).toBe('no')
  })

  it('end of input without an answer is no', async () => {
    const io = streams()
    const answer = askYesNo('? ', io)
    io.input.end()
    expect(await answer).toBe('no')
  })
})

describe('consent', () => {
  const tty = {input: {isTTY: true}, output: {isTTY: true}} as unknown as PromptStreams
  const pipe = {input: {isTTY: undefined}, output: {isTTY: true}} as unknown as PromptStreams
  const stderrRedirected = {input: {isTTY: true}, output: {isTTY: false}} as unknown as PromptStreams

  it('can prompt only when both stdin and stderr are terminals', () => {
    expect(canPrompt(tty)).toBe(true)
    expect(canPrompt(pipe)).toBe(false)
    expect(canPrompt(stderrRedirected)).toBe(false)
  })

  it('without a terminal, a change needs --yes: a usage error naming --yes', () => {
    let error: unknown
    try {
      requireConsentPossible({action: 'purge', yes: false, dryRun: false}, pipe)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(QctlError)
    expect((error as QctlError).exitCode).toBe(2)
    expect((error as QctlError).message).toContain('--yes')
    expect((error as QctlError).message).not.toContain('\n')
  })

  it('--yes and --dry-run never need a terminal and never ask', async () => {
    expect(() => requireConsentPossible({action: 'purge', yes: true, dryRun: false}, pipe)).not.toThrow()
    expect(() => requireConsentPossible({action: 'purge', yes: false, dryRun: true}, pipe)).not.toThrow()
    expect(await confirmed({action: 'purge', yes: true, dryRun: false}, 'never asked', pipe)).toBe(true)
  })
})
