import {render} from 'ink'

import {TopApp, type TopAppProps} from './TopApp.js'

/** Switch to the terminal's alternate screen, so quitting restores what was there before. */
const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h'
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l'

/** Clear the (alternate) screen and put the cursor home. */
const CLEAR_SCREEN = '\u001b[2J\u001b[H'

/** The terminal the screen runs in: the process's own, unless a test gives another. */
export interface TopTerminal {
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
}

/**
 * Run the live screen until the user quits (q, Ctrl-C) or `signal` aborts (SIGTERM), then
 * restore the terminal. Resolves once Ink has unmounted.
 */
export async function runTopScreen(props: TopAppProps, signal?: AbortSignal, terminal: TopTerminal = {stdin: process.stdin, stdout: process.stdout}): Promise<void> {
  const {stdin, stdout} = terminal
  // Raw mode before the first frame. Ink turns it on in an effect that runs after the first frame
  // is written; a key pressed in between met the terminal's line discipline: Enter was echoed as a
  // new line (moving the frame down a line, which Ink's next erase then missed) and reached Ink as
  // "\n", which it does not report as Enter (seen in a test as an Enter that opened nothing).
  if (stdin.isTTY) stdin.setRawMode(true)
  stdout.write(ENTER_ALTERNATE_SCREEN)
  // On a resize the terminal reflows what is on screen (a line of the old, wider frame wraps into
  // several), and Ink erases only as many lines as it drew: remnants stayed above the new frame.
  // Registered before Ink's own listener, so the screen is blank when Ink redraws.
  const clearOnResize = (): void => void stdout.write(CLEAR_SCREEN)
  stdout.on('resize', clearOnResize)
  const instance = render(<TopApp {...props} />, {stdin, stdout, exitOnCtrlC: true, patchConsole: false, maxFps: 10})
  const stop = (): void => instance.unmount()
  signal?.addEventListener('abort', stop, {once: true})
  try {
    await instance.waitUntilExit()
  } finally {
    signal?.removeEventListener('abort', stop)
    stdout.off('resize', clearOnResize)
    instance.cleanup()
    // Ink leaves raw mode as it unmounts; this covers a render that failed before Ink took it over.
    if (stdin.isTTY) stdin.setRawMode(false)
    stdout.write(LEAVE_ALTERNATE_SCREEN)
  }
}
