import {render} from 'ink'

import {TopApp, type TopAppProps} from './TopApp.js'

/** Switch to the terminal's alternate screen, so quitting restores what was there before. */
const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h'
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l'

/**
 * Run the live screen until the user quits (q, Ctrl-C) or `signal` aborts (SIGTERM), then
 * restore the terminal. Resolves once Ink has unmounted.
 */
/** Clear the (alternate) screen and put the cursor home. */
const CLEAR_SCREEN = '\u001b[2J\u001b[H'

export async function runTopScreen(props: TopAppProps, signal?: AbortSignal): Promise<void> {
  process.stdout.write(ENTER_ALTERNATE_SCREEN)
  // On a resize the terminal reflows what is on screen (a line of the old, wider frame wraps into
  // several), and Ink erases only as many lines as it drew: remnants stayed above the new frame.
  // Registered before Ink's own listener, so the screen is blank when Ink redraws.
  const clearOnResize = (): void => void process.stdout.write(CLEAR_SCREEN)
  process.stdout.on('resize', clearOnResize)
  const instance = render(<TopApp {...props} />, {exitOnCtrlC: true, patchConsole: false, maxFps: 10})
  const stop = (): void => instance.unmount()
  signal?.addEventListener('abort', stop, {once: true})
  try {
    await instance.waitUntilExit()
  } finally {
    signal?.removeEventListener('abort', stop)
    process.stdout.off('resize', clearOnResize)
    instance.cleanup()
    process.stdout.write(LEAVE_ALTERNATE_SCREEN)
  }
}
