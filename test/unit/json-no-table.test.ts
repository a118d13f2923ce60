import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {PROJECT_ROOT} from '../helpers/cli.js'

/**
 * Issue 15, point 9: `--json` never builds a human table (over 10,000 topics, or a 200,000-entry
 * dry run, building it was most of the time). A source check, like the architecture test: in the
 * commands that print tables, every call of a table formatter sits behind `!this.jsonEnabled()`.
 */
const TABLE_FORMATTERS = /\b(formatLagTable|formatInspect|formatTopSnapshot|formatList|formatDlqTable)\(/

/** Formatter calls without `!this.jsonEnabled()` on their line or the three lines before (the enclosing `if`). */
const unguardedCalls = (source: string): string[] => {
  const lines = source.split('\n')
  return lines.filter(
    (line, index) => TABLE_FORMATTERS.test(line) && !/^\s*import\b/.test(line) && !lines.slice(Math.max(0, index - 3), index + 1).some((near) => near.includes('!this.jsonEnabled()')),
  )
}

describe('--json never builds a human table', () => {
  it.each(['lag.ts', 'inspect.ts', 'top.ts', 'dlq/list.ts', 'dlq/replay.ts', 'dlq/purge.ts'])('src/commands/%s calls its table formatter only without --json', async (file) => {
    const source = await readFile(join(PROJECT_ROOT, 'src', 'commands', file), 'utf8')
    // The commands whose output is a table must still call a formatter this check knows (else it would check nothing);
    // replay and purge may print a summary instead of the plan's table.
    if (!file.startsWith('dlq/replay') && !file.startsWith('dlq/purge')) expect(source).toMatch(TABLE_FORMATTERS)
    expect(unguardedCalls(source)).toEqual([])
  })

  it('the check can fail: an unguarded call is found', () => {
    expect(unguardedCalls(`const x = 1\nthis.log(formatLagTable(rows, this.style))`)).toEqual(['this.log(formatLagTable(rows, this.style))'])
    expect(unguardedCalls(`if (!this.jsonEnabled()) this.log(formatLagTable(rows, this.style))`)).toEqual([])
  })
})
