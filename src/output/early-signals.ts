/**
 * SIGINT/SIGTERM before a command has its own handling of them. Without a listener, Node dies of the
 * signal (exit 143 or 130) in silence; a supervisor stopping qctl while it boots (oclif, a TypeScript
 * handler loading) would see nothing. bin/run.js listens from its first line: the process then exits
 * 130 with one line. A command that stops gracefully (`interruptSignal()` in the base command) takes
 * the signals over.
 */
let phase: 'start-up' | 'running' = 'start-up'

function onSignal(signal: NodeJS.Signals): void {
  const when = phase === 'start-up' ? 'during start-up, before doing anything' : 'before finishing'
  process.stderr.write(`Error: interrupted by ${signal} ${when}\n`)
  process.exit(130)
}

/** `received`: a signal bin/run.js caught before this module was loaded (acted on at once). */
export function listenForEarlySignals(received?: NodeJS.Signals): void {
  if (received !== undefined) onSignal(received)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

/** The command has parsed its input and begins its work. */
export function commandStarted(): void {
  phase = 'running'
}

/** The command handles signals itself from now on. */
export function releaseEarlySignals(): void {
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
}
