/**
 * ASCII stand-ins for the table's own glyphs (sparkline bars, trend marks, the "grew" arrow).
 *
 * Why: Ink measures the width of every text on every frame, and string-width takes a slow path
 * (grapheme segmentation and emoji regexes, per character) for any text that is not printable
 * ASCII. On a 200-column screen of sparklines that was about a third of the main thread's time per
 * frame. Every glyph here is one column wide, so the table is laid out with one-column ASCII
 * stand-ins and Ink's <Transform> puts the glyphs back as it writes the frame, after measuring.
 *
 * Only for text the table generates itself (figures, trend marks, sparklines): those never contain
 * a stand-in character, and neither do the colour codes the Transform also sees. Names (user data)
 * are never encoded.
 */
const PAIRS: ReadonlyArray<readonly [glyph: string, standIn: string]> = [
  ['▁', '!'],
  ['▂', '#'],
  ['▃', '$'],
  ['▄', '%'],
  ['▅', '&'],
  ['▆', '*'],
  ['▇', '+'],
  ['█', '@'],
  ['▲', '{'],
  ['▼', '}'],
  ['·', '|'],
  ['↑', '~'],
  ['■', '^'],
]

const STAND_IN_OF = new Map(PAIRS.map(([glyph, standIn]) => [glyph, standIn]))
const GLYPH_OF = new Map(PAIRS.map(([glyph, standIn]) => [standIn, glyph]))
const GLYPHS = new RegExp(`[${PAIRS.map(([glyph]) => glyph).join('')}]`, 'g')
const STAND_INS = new RegExp(`[${PAIRS.map(([, standIn]) => `\\${standIn}`).join('')}]`, 'g')

const standInOf = (glyph: string): string => STAND_IN_OF.get(glyph) ?? glyph
const glyphOf = (standIn: string): string => GLYPH_OF.get(standIn) ?? standIn

/** Generated table text with its glyphs replaced by their ASCII stand-ins (same width). */
export const toStandIns = (text: string): string => text.replace(GLYPHS, standInOf)

/** The inverse, for Ink's <Transform>: the glyphs back in a line as written to the terminal. */
export const fromStandIns = (line: string): string => line.replace(STAND_INS, glyphOf)

/** The stand-in characters, for tests that check generated text never contains one. */
export const STAND_IN_CHARACTERS: readonly string[] = PAIRS.map(([, standIn]) => standIn)
