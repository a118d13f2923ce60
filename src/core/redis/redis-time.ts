/**
 * Redis's clock, in ms, from a TIME reply (`[seconds, microseconds]`). Times that processes compare
 * (due times, report ages) are taken on Redis's clock: the local one may be off by minutes.
 */
export const timeReplyMs = ([seconds, micros]: ReadonlyArray<string | number>): number => Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
