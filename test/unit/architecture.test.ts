import {readdir, readFile} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {describe, expect, it} from 'vitest'

import {PROJECT_ROOT} from '../helpers/cli.js'

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {withFileTypes: true, recursive: true})
  return entries.filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name)).map((entry) => join(entry.parentPath, entry.name))
}

const importsOf = (source: string): string[] =>
  [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (match) => match[1] ?? match[2] ?? '',
  )

describe('architecture', () => {
  it('src/core never imports the CLI layer (oclif, chalk, ora, ink, react, cli-table3) or code outside core', async () => {
    const forbidden = /^(@oclif\/|chalk$|ora$|ink$|ink-|react$|cli-table3$)/
    const violations: string[] = []
    const files = await sourceFiles(join(PROJECT_ROOT, 'src', 'core'))
    expect(files.length).toBeGreaterThan(5)
    for (const file of files) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) {
        const leavesCore = specifier.startsWith('.') && !join(file, '..', specifier).startsWith(join(PROJECT_ROOT, 'src', 'core'))
        if (forbidden.test(specifier) || leavesCore) violations.push(`${relative(PROJECT_ROOT, file)} imports ${specifier}`)
      }
    }
    expect(violations).toEqual([])
  })

  it('src/ui never talks to Redis itself (data reaches it through core snapshots)', async () => {
    const violations: string[] = []
    for (const file of await sourceFiles(join(PROJECT_ROOT, 'src', 'ui'))) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) {
        if (specifier === 'ioredis') violations.push(`${relative(PROJECT_ROOT, file)} imports ioredis`)
      }
    }
    expect(violations).toEqual([])
  })

  it('the import scanner sees static, re-export and dynamic imports (so the check above can fail)', () => {
    expect(importsOf(`import {x} from 'chalk'\nexport {y} from "../cli/z.js"\nconst o = await import('ora')`)).toEqual(['chalk', '../cli/z.js', 'ora'])
  })

  it('Redis command names appear in src/commands only through core (no ioredis calls in commands)', async () => {
    const files = await sourceFiles(join(PROJECT_ROOT, 'src', 'commands'))
    for (const file of files) {
      const source = await readFile(file, 'utf8')
      expect(source, relative(PROJECT_ROOT, file)).not.toMatch(/from 'ioredis'|\.(xadd|xreadgroup|xack|xautoclaim|xrange|call)\(/)
    }
  })
})
