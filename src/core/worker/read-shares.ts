/**
 * How many entries each stream of a multi-partition read may bring (XREADGROUP's COUNT is per
 * stream, so one COUNT over many partitions could bring many times what the worker has room for).
 * The shares add up to at most `count`, so the worker never holds more than its bound
 * (`--concurrency` + `--prefetch`): every stream gets one (so new entries anywhere are seen), and
 * the rest follows where entries came from in the last read (a hot partition gets most of the
 * room), or is split evenly when the last read brought nothing. With less room than streams, `count`
 * streams get one each, in turns (`start` rotates).
 */
export function readShares(count: number, lastRows: readonly number[], start: number): number[] {
  const streams = lastRows.length
  const shares = new Array<number>(streams).fill(0)
  if (streams === 0 || count <= 0) return shares
  if (count < streams) {
    for (let taken = 0; taken < count; taken++) shares[(start + taken) % streams] = 1
    return shares
  }
  shares.fill(1)
  let rest = count - streams
  const weight = lastRows.reduce((sum, rows) => sum + rows, 0)
  for (let index = 0; index < streams; index++) {
    const part = weight === 0 ? Math.floor((count - streams) / streams) : Math.floor(((count - streams) * (lastRows[index] as number)) / weight)
    shares[index] = (shares[index] as number) + part
    rest -= part
  }
  // What rounding left goes to the busiest streams (or in turns when none was busy).
  const order = [...shares.keys()].sort((a, b) => (lastRows[b] as number) - (lastRows[a] as number) || ((a - start + streams) % streams) - ((b - start + streams) % streams))
  for (let at = 0; rest > 0; at = (at + 1) % streams, rest--) shares[order[at] as number] = (shares[order[at] as number] as number) + 1
  return shares
}
