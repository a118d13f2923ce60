/**
 * Glob patterns as Redis matches key names (SCAN MATCH, KEYS), for matching text in qctl itself
 * (`qctl tail --match` on message keys): `*` any run of characters, `?` one character, `[abc]`,
 * `[a-z]` and `[^abc]` one character of (or not of) a set, `\x` the character x itself. A `[` that
 * is never closed stands for itself. Matching is on characters (code points), not bytes. Pure.
 */

/** A character as itself in a regular expression (`u` mode allows escapes of syntax characters only, and `-` in a class). */
const escapeRegExp = (char: string, inClass = false): string => (/[\\^$.*+?()[\]{}|/]/.test(char) || (inClass && char === '-') ? `\\${char}` : char)

/** The regular expression source of a bracket class starting after its `[` at `chars[start]`, and where it ends; undefined when it never closes. */
function bracketClass(chars: readonly string[], start: number): {source: string; end: number} | undefined {
  let at = start
  let negate = false
  if (chars[at] === '^') {
    negate = true
    at++
  }
  let body = ''
  for (; at < chars.length; at++) {
    let char = chars[at] as string
    if (char === ']') return {source: body === '' ? (negate ? '[^]' : '[]') : `[${negate ? '^' : ''}${body}]`, end: at}
    if (char === '\\' && at + 1 < chars.length) char = chars[++at] as string
    const high = chars[at + 2]
    if (chars[at + 1] === '-' && high !== undefined && high !== ']') {
      let from = char
      let to = high === '\\' && at + 3 < chars.length ? (chars[at + 3] as string) : high
      at += high === '\\' ? 3 : 2
      // Redis accepts a range written backwards ([z-a]); a regular expression does not.
      if (from > to) [from, to] = [to, from]
      body += `${escapeRegExp(from, true)}-${escapeRegExp(to, true)}`
    } else {
      body += escapeRegExp(char, true)
    }
  }
  return undefined
}

/** A matcher for `glob`: true when the whole text matches. */
export function keyGlob(glob: string): (text: string) => boolean {
  const chars = [...glob]
  let source = ''
  for (let at = 0; at < chars.length; at++) {
    const char = chars[at] as string
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else if (char === '\\' && at + 1 < chars.length) source += escapeRegExp(chars[++at] as string)
    else if (char === '[') {
      const found = bracketClass(chars, at + 1)
      if (found === undefined) source += '\\['
      else {
        source += found.source
        at = found.end
      }
    } else source += escapeRegExp(char)
  }
  const pattern = new RegExp(`^${source}$`, 'su')
  return (text) => pattern.test(text)
}
