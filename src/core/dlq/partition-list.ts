/** Partition numbers in messages for people. Pure. */

const SHOWN = 10

/** `partition 3`, `partitions 1 and 3`, `partitions 0, 2 and 5`; more than ten: the first ten and how many more. */
export function partitionList(partitions: readonly number[]): string {
  if (partitions.length === 1) return `partition ${partitions[0]}`
  if (partitions.length > SHOWN) return `partitions ${partitions.slice(0, SHOWN).join(', ')} and ${partitions.length - SHOWN} more`
  return `partitions ${partitions.slice(0, -1).join(', ')} and ${partitions.at(-1)}`
}
