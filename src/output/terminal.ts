import {Chalk, type ChalkInstance} from 'chalk'

/** What a stream may be decorated with: colour and spinners only for a person at a terminal. */
export interface Decorations {
  colour: boolean
  spinner: boolean
}

export function decorationsFor(stream: {isTTY?: boolean; columns?: number}, json: boolean, env: NodeJS.ProcessEnv = process.env): Decorations {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== ''
  const tty = stream.isTTY === true && env.TERM !== 'dumb'
  const decorated = tty && !json && !noColour
  // A terminal that reports no width (some pseudo-terminals) cannot host a redrawn status line.
  return {colour: decorated, spinner: decorated && (stream.columns ?? 0) > 0}
}

/** A chalk instance that colours only when allowed; formatting functions take it as a parameter. */
export const styleFor = (decorations: Decorations): ChalkInstance => new Chalk({level: decorations.colour ? 1 : 0})
