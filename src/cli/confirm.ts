import {createInterface} from 'node:readline'

import {QctlError, usageError} from '../core/errors.js'

export type Answer = 'yes' | 'no'

export interface PromptStreams {
  input: NodeJS.ReadableStream & {isTTY?: boolean}
  output: NodeJS.WritableStream & {isTTY?: boolean}
}

const defaultStreams = (): PromptStreams => ({input: process.stdin, output: process.stderr})

/** `y`/`yes` (any case) is yes; anything else, an empty line or end of input is no. */
export const isYes = (answer: string): boolean => /^\s*y(es)?\s*$/i.test(answer)

/** A person can answer: stdin is a terminal, and so is stderr, where the question goes. */
export const canPrompt = (streams: PromptStreams = defaultStreams()): boolean => streams.input.isTTY === true && streams.output.isTTY === true

/**
 * Ask a yes/no question on stderr and read one line from stdin; the default is no. Ctrl-C at
 * the prompt is an INTERRUPTED error (exit 130) with nothing changed.
 */
export async function askYesNo(question: string, streams: PromptStreams = defaultStreams()): Promise<Answer> {
  const rl = createInterface({input: streams.input, output: streams.output, terminal: streams.input.isTTY === true})
  try {
    return await new Promise<Answer>((resolve, reject) => {
      rl.once('SIGINT', () => {
        streams.output.write('\n')
        reject(new QctlError('INTERRUPTED', 'interrupted at the confirmation prompt; nothing changed'))
      })
      rl.once('close', () => resolve('no'))
      rl.question(question, (answer) => resolve(isYes(answer) ? 'yes' : 'no'))
    })
  } finally {
    rl.close()
  }
}

export interface ConsentRequest {
  /** What the command does, for the refusal message (`replay`, `purge`). */
  action: string
  yes: boolean
  dryRun: boolean
  /** The command has --dry-run, so the refusal can mention it (default true). */
  offersDryRun?: boolean
}

/**
 * Check before connecting: a destructive run without a terminal to confirm on needs --yes
 * (a usage error, exit 2). --dry-run never needs it.
 */
export function requireConsentPossible(request: ConsentRequest, streams: PromptStreams = defaultStreams()): void {
  if (request.yes || request.dryRun || canPrompt(streams)) return
  const dryRun = request.offersDryRun === false ? '' : ' (or --dry-run to see what would change)'
  throw usageError(`refusing to ${request.action} without confirmation: no terminal to ask on; pass --yes${dryRun}`)
}

/** Proceed with --yes; otherwise ask (default no). */
export async function confirmed(request: ConsentRequest, question: string, streams: PromptStreams = defaultStreams()): Promise<boolean> {
  if (request.yes || request.dryRun) return true
  requireConsentPossible(request, streams)
  return (await askYesNo(question, streams)) === 'yes'
}
