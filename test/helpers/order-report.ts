/**
 * For each key's handled sequence (the order ledger of the --ordered tests): a repeat of the same
 * message is a duplicate, counted; an older one after a newer is disorder.
 */
export function orderReport(sequences: Iterable<readonly number[]>): {outOfOrder: number; duplicates: number} {
  let outOfOrder = 0
  let duplicates = 0
  for (const sequence of sequences) {
    let last = -1
    for (const n of sequence) {
      if (n === last) duplicates++
      else if (n < last) outOfOrder++
      last = Math.max(last, n)
    }
  }
  return {outOfOrder, duplicates}
}
