import v8 from 'node:v8'

/** What start-up leaves the young generation at here (two 8 MiB semi-spaces); below it, scavenges get frequent. */
const ENOUGH_NEW_SPACE_BYTES = 16 * 1024 * 1024

/**
 * Keep `qctl work`'s young generation at the size start-up left it, instead of letting V8 double
 * it (to 32 MiB) while a backlog drains.
 *
 * Why: a draining worker allocates fast but keeps almost nothing (15 KB survives a scavenge), so a
 * bigger young generation buys nothing but resident memory: measured on a 300k drain, peak RSS
 * 136 MiB without this and 116 MiB with it, at the same rate and CPU time. The flag is read each
 * time V8 would grow the space, so setting it at run time works (unlike --max-semi-space-size,
 * which is read once at start).
 *
 * A user who sizes the young generation (any semi-space flag in NODE_OPTIONS or node's own
 * arguments) keeps their setting. Returns whether the cap was applied.
 */
export function holdYoungGeneration(): boolean {
  const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')
  if (!shouldHoldYoungGeneration(process.execArgv, process.env['NODE_OPTIONS'], newSpace?.space_size ?? 0)) return false
  v8.setFlagsFromString('--semi-space-growth-factor=1')
  return true
}

/** The decision, apart from the process: not when the user sized it, nor while it is still small. */
export function shouldHoldYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined, newSpaceBytes: number): boolean {
  const tuned = [...execArgv, nodeOptions ?? ''].some((argument) => argument.includes('semi-space'))
  return !tuned && newSpaceBytes >= ENOUGH_NEW_SPACE_BYTES
}
