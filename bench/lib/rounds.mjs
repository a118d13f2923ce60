// Interleaved rounds: A B A B ... so slow drift of the machine (thermal, page cache, noisy
// neighbours) hits every contender alike, and ratios can be taken round by round.
import {summary} from './stats.mjs'

/**
 * Run `rounds` rounds; in each round every contender runs once, in the given order (or the one
 * `orderFor` gives for the round).
 * A contender is {name, run({round}) => sample}; a sample is an object with at least the numeric
 * field the caller will summarise (e.g. `rate`). Errors propagate (a failed run fails the bench).
 * Returns {rounds: [{round, samples: {name: sample}}], samples: {name: sample[]}}.
 */
export async function interleavedRounds({rounds, contenders, log = () => {}, orderFor = (_round, all) => all}) {
  const result = {rounds: [], samples: Object.fromEntries(contenders.map((c) => [c.name, []]))}
  for (let round = 1; round <= rounds; round++) {
    const entry = {round, samples: {}}
    // `orderFor(round, contenders)`: this round's order (the same contenders), when a scenario alternates it.
    for (const contender of orderFor(round, contenders)) {
      const sample = await contender.run({round})
      entry.samples[contender.name] = sample
      result.samples[contender.name].push(sample)
      log(`  round ${round}/${rounds} ${contender.name}: ${contender.describe ? contender.describe(sample) : JSON.stringify(sample)}`)
    }
    result.rounds.push(entry)
  }
  return result
}

/**
 * Table rows for one scenario from interleaved results: per contender the summary of `metric`,
 * and its ratio to `baseline` computed round by round (median and range of per-round ratios).
 */
export function summarizeRounds(result, {scenario, metric, baseline, unit, extra = {}}) {
  const rows = []
  for (const [name, samples] of Object.entries(result.samples)) {
    const values = summary(samples.map(metric))
    let ratio
    if (baseline !== undefined && name !== baseline) {
      const perRound = result.rounds
        .filter((round) => round.samples[name] !== undefined && round.samples[baseline] !== undefined)
        .map((round) => metric(round.samples[name]) / metric(round.samples[baseline]))
      ratio = summary(perRound)
    }
    const row = {scenario, contender: name, unit, ...values, ratio}
    for (const [key, pick] of Object.entries(extra)) row[key] = summary(samples.map(pick))
    rows.push(row)
  }
  return rows
}
