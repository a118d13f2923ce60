import {render} from 'ink'

import {TopApp, type TopAppProps} from './TopApp.js'

/** Switch to the terminal's alternate screen, so quitting restores what was there before. */
const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h'
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l'

/**
 * Run the live screen until the user quits (q, Ctrl-C) or `signal` aborts (SIGTERM), then
 * restore the terminal. Resolves once Ink has unmounted.
 */
export async function runTopScreen(props: TopAppProps, signal?: AbortSignal): Promise<void> {
  process.stdout.write(ENTER_ALTERNATE_SCREEN)
  const instance = render(<TopApp {...props} />, {exitOnCtrlC: true, patchConsole: false, maxFps: 10})
  const stop = (): void => instance.unmount()
  signal?.addEventListener('abort', stop, {once: true})
  try {
    await instance.waitUntilExit()
  } finally {
    signal?.removeEventListener('abort', stop)
    instance.cleanup()
    process.stdout.write(LEAVE_ALTERNATE_SCREEN)
  }
}
