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

/** Whether a relative import in `file` lands inside `dir`. */
const landsIn = (file: string, specifier: string, dir: string): boolean => specifier.startsWith('.') && join(file, '..', specifier).startsWith(dir + '/')

/** Formatting is pure: it never reaches for the live screen (src/ui) or its libraries (ink, react). */
const formatImportViolation = (file: string, specifier: string): boolean =>
  /^(ink$|ink-|react$)/.test(specifier) || landsIn(file, specifier, join(PROJECT_ROOT, 'src', 'ui'))

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

  it('src/format never imports src/ui (or ink, react): the top model it formats lives outside the screen code', async () => {
    const violations: string[] = []
    const files = await sourceFiles(join(PROJECT_ROOT, 'src', 'format'))
    expect(files.length).toBeGreaterThan(5)
    for (const file of files) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) {
        if (formatImportViolation(file, specifier)) violations.push(`${relative(PROJECT_ROOT, file)} imports ${specifier}`)
      }
    }
    expect(violations).toEqual([])
  })

  it('the src/format rule catches an import of src/ui, of ink and of react (so the check above can fail)', () => {
    const formatFile = join(PROJECT_ROOT, 'src', 'format', 'top.ts')
    expect(formatImportViolation(formatFile, '../ui/model/cells.js')).toBe(true)
    expect(formatImportViolation(join(PROJECT_ROOT, 'src', 'format', 'top-model', 'cells.ts'), '../../ui/model/screen.js')).toBe(true)
    expect(formatImportViolation(formatFile, 'ink')).toBe(true)
    expect(formatImportViolation(formatFile, 'react')).toBe(true)
    expect(formatImportViolation(formatFile, './top-model/cells.js')).toBe(false)
    expect(formatImportViolation(formatFile, '../core/stats/rates.js')).toBe(false)
  })

  it('the import scanner sees static, re-export and dynamic imports (so the check above can fail)', () => {
    expect(importsOf(`import {x} from 'chalk'\nexport {y} from "../cli/z.js"\nconst o = await import('ora')`)).toEqual(['chalk', '../cli/z.js', 'ora'])
  })

  it('oclif and ioredis (CommonJS) are loaded only by src/cli/oclif.ts and src/core/redis/ioredis.ts, with require(): an import costs start-up time', async () => {
    const loaders = new Set([join(PROJECT_ROOT, 'src', 'cli', 'oclif.ts'), join(PROJECT_ROOT, 'src', 'core', 'redis', 'ioredis.ts')])
    const violations: string[] = []
    for (const file of await sourceFiles(join(PROJECT_ROOT, 'src'))) {
      if (loaders.has(file)) continue
      // Type-only imports are erased: only value imports load a module.
      const source = (await readFile(file, 'utf8')).replace(/(?:^|\n)\s*import type [^'"]*?from\s+['"][^'"]+['"]/g, '')
      for (const specifier of importsOf(source)) {
        if (/^(@oclif\/core|ioredis)(\/|$)/.test(specifier)) violations.push(`${relative(PROJECT_ROOT, file)} imports ${specifier}`)
      }
    }
    expect(violations).toEqual([])
  })

  it('Redis command names appear in src/commands only through core (no ioredis calls in commands)', async () => {
    const files = await sourceFiles(join(PROJECT_ROOT, 'src', 'commands'))
    for (const file of files) {
      const source = await readFile(file, 'utf8')
      expect(source, relative(PROJECT_ROOT, file)).not.toMatch(/from 'ioredis'|\.(xadd|xreadgroup|xack|xautoclaim|xrange|call)\(/)
    }
  })
})
