/**
 * The one sanitiser for text that comes from Redis or from handlers (group and consumer names,
 * field names, error messages, payloads) on its way to a human-readable output.
 *
 * Such text is foreign input: an SGR or OSC escape in a group name would recolour or retitle the
 * operator's terminal, a CR or LF in an error message would split a table row, a bidi override
 * would make the text read differently from what it is. Every human-readable output passes such
 * text through `shown` (one line) or `shownLines` (keeps line breaks); `--json` keeps the exact
 * strings. Widths are computed on what is shown (`shownWidth`), never on the raw text.
 */

const ESCAPES: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

/** C0 and C1 control characters, DEL, and the Unicode format characters that reorder or hide text. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g
/** The same, except the line feed: for multi-line blocks such as a payload in `dlq show`. */
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g

const escaped = (char: string): string => ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`

/** One line, every control character shown as an escape (`\n`, `\u001b`): it cannot drive the terminal or split a row. */
export const shown = (text: string): string => text.replace(CONTROL, escaped)

/** Like `shown`, but line feeds stay line feeds (a CR before one is shown as `\r`). */
export const shownLines = (text: string): string => text.replace(CONTROL_BUT_LF, escaped)

/** Columns a text takes: code points (the second half of a surrogate pair is not a column; wide characters count as one, good enough for padding). */
export function textWidth(text: string): number {
  let width = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0xdc00 || code > 0xdfff) width++
  }
  return width
}

/** Columns `text` takes once shown: measured after escaping, never on the raw text. */
export const shownWidth = (text: string): number => textWidth(shown(text))
