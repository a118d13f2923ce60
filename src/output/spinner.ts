import type {Decorations} from './terminal.js'

/** A status line on stderr: an ora spinner on a terminal, nothing elsewhere. */
export interface Spinner {
  update(text: string): void
  /** Print a line to stdout above the status line. */
  log(line: string): void
  stop(): void
}

const silent: Spinner = {
  update() {},
  log(line) {
    process.stdout.write(`${line}\n`)
  },
  stop() {},
}

export async function startSpinner(decorations: Decorations, text: string): Promise<Spinner> {
  if (!decorations.spinner) return silent
  // Loaded only when shown: start-up time matters for one-shot commands.
  const {default: ora} = await import('ora')
  const spinner = ora({text, stream: process.stderr, discardStdin: false}).start()
  return {
    update(next) {
      spinner.text = next
    },
    log(line) {
      spinner.clear()
      process.stdout.write(`${line}\n`)
      spinner.render()
    },
    stop() {
      spinner.stop()
    },
  }
}
