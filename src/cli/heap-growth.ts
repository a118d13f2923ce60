import v8 from 'node:v8'

/** What start-up leaves the young generation at here (two 8 MiB semi-spaces); below it, scavenges get frequent. */
const ENOUGH_NEW_SPACE_BYTES = 16 * 1024 * 1024

/** The old generation may grow to twice what a full collection left live before the next one. */
const OLD_GENERATION_GROWING_PERCENT = 100

/**
 * `qctl work`'s heap sized for draining: a draining worker allocates fast but keeps almost nothing
 * (15 KB survives a scavenge), so memory V8 lets the heap grow into buys nothing but resident size.
 *
 * - Young generation: kept at the size start-up left it, instead of V8 doubling it (to 32 MiB) while
 *   a backlog drains. Measured on a 300k drain: peak RSS 136 MiB without this, 116 MiB with it, at
 *   the same rate and CPU time.
 * - Old generation: the next full collection comes when the heap has grown to 2x what the last one
 *   left, not up to 4x (V8 picks its factor by how cheap collections were, and for a worker whose
 *   collections are cheap it picks high). What survives two scavenges (entries read ahead, batches
 *   waiting for their ack) is garbage soon after; with 4x it piled up for the whole drain. Measured
 *   on a 2M drain: peak RSS 121–123 MiB without this, 103–107 MiB with it, at the same CPU time.
 *
 * Both flags are read when V8 resizes, so setting them at run time works (unlike
 * --max-semi-space-size, which is read once at start). A user who sizes either part (a semi-space
 * or heap-growing flag in NODE_OPTIONS or node's own arguments) keeps their setting.
 */
export function holdHeapGrowth(): {young: boolean; old: boolean} {
  const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')
  const decision = heapGrowthDecision(process.execArgv, process.env['NODE_OPTIONS'], newSpace?.space_size ?? 0)
  if (decision.young) v8.setFlagsFromString('--semi-space-growth-factor=1')
  if (decision.old) v8.setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWING_PERCENT}`)
  return decision
}

/**
 * The decision, apart from the process: the young generation not when the user sized it, nor while
 * it is still small; the old generation's growth not when the user set it.
 */
export function heapGrowthDecision(execArgv: readonly string[], nodeOptions: string | undefined, newSpaceBytes: number): {young: boolean; old: boolean} {
  const settings = [...execArgv, nodeOptions ?? '']
  const userSet = (name: string): boolean => settings.some((argument) => argument.replaceAll('_', '-').includes(name))
  return {young: !userSet('semi-space') && newSpaceBytes >= ENOUGH_NEW_SPACE_BYTES, old: !userSet('heap-growing-percent')}
}
