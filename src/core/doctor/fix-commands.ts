/**
 * The commands `qctl doctor` gives as fixes, with every name quoted for a POSIX shell, so a fix can
 * be pasted as it is printed (a topic `{orders}` or a group with a space in it included).
 */

/** `text` as one shell word: bare when it holds only safe characters, single-quoted otherwise. */
export function shellWord(text: string): string {
  if (/^[\w.:/@%+=,-]+$/.test(text)) return text
  return `'${text.replaceAll("'", "'\\''")}'`
}

/** A command line of words, each quoted as needed. */
export const commandLine = (...words: ReadonlyArray<string | number>): string => words.map((word) => shellWord(String(word))).join(' ')

/** `qctl work` for a group of a topic: a running worker takes over idle entries and acknowledges what it handles. HANDLER is the user's module. */
export const workCommand = (topic: string, group: string): string => `qctl work HANDLER ${commandLine('--topic', topic, '--group', group)}`

/** A raw Redis command for redis-cli. */
export const redisCli = (...words: ReadonlyArray<string | number>): string => `redis-cli ${commandLine(...words)}`

const UNITS: ReadonlyArray<[string, number]> = [
  ['w', 604_800_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
]

/** A duration as a flag takes it, in the largest unit that divides it (`1h`, `90s`, `2500ms`). */
export function durationWord(ms: number): string {
  const whole = Math.round(ms)
  for (const [unit, size] of UNITS) if (whole >= size && whole % size === 0) return `${whole / size}${unit}`
  return `${whole}ms`
}
