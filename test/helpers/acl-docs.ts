import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {PROJECT_ROOT} from './cli.js'

/**
 * The least-privilege ACL roles as documented: the ACL file itself, and the README section that
 * quotes it and tabulates what each role may run. Tests read both from here, so the rules the
 * tests load into Redis are the rules users read, and the README cannot drift from either.
 */

export const ACL_FILE = join(PROJECT_ROOT, 'docs', 'acl', 'qctl-roles.acl')

export const ROLES = ['publisher', 'worker', 'operator', 'monitor'] as const
export type Role = (typeof ROLES)[number]
export const userOf = (role: Role): string => `qctl-${role}`

const SECTION_HEADING = '## Least-privilege ACL roles'

export const aclFileText = (): string => readFileSync(ACL_FILE, 'utf8')

/** The README section, from its heading to the next `## ` heading. */
export function aclSection(): string {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf(`\n${SECTION_HEADING}\n`)
  if (start === -1) throw new Error(`README has no "${SECTION_HEADING}" section`)
  const end = readme.indexOf('\n## ', start + 1)
  return readme.slice(start, end === -1 ? undefined : end)
}

/** The first fenced code block of the section: the ACL file, quoted. */
export function quotedAclFile(section: string): string {
  const match = /\n```[a-z]*\n([\s\S]*?)\n```\n/.exec(section)
  if (match?.[1] === undefined) throw new Error('the ACL section quotes no file')
  return `${match[1]}\n`
}

/** Each user's rules in an ACL file; a selector `( … )` is one rule, as ACL SETUSER takes it. */
export function parseAclFile(text: string): Map<string, string[]> {
  const users = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const [keyword, name, ...words] = line.trim().split(/\s+/)
    if (keyword !== 'user' || name === undefined) throw new Error(`not an ACL file line: ${line}`)
    const rules: string[] = []
    let selector: string[] | undefined
    for (const word of words) {
      if (selector === undefined && word.startsWith('(') && !word.endsWith(')')) selector = [word]
      else if (selector !== undefined) {
        selector.push(word)
        if (word.endsWith(')')) {
          rules.push(selector.join(' '))
          selector = undefined
        }
      } else rules.push(word)
    }
    users.set(name, rules)
  }
  return users
}

export interface DryRunRow {
  /** The Redis command and its arguments, as ACL DRYRUN takes them. */
  command: string[]
  /** Whether each role may run it, as the README says. */
  allowed: Record<Role, boolean>
}

/** The section's table of Redis commands and, per role, `yes` or `no`. */
export function dryRunTable(section: string): DryRunRow[] {
  const lines = section.split('\n').filter((line) => line.startsWith('|'))
  const header = lines.find((line) => line.startsWith('| Redis command'))
  if (header === undefined) throw new Error('the ACL section has no "Redis command" table')
  const columns = cellsOf(header).slice(1)
  if (columns.join(',') !== ROLES.join(',')) throw new Error(`unexpected role columns: ${columns.join(', ')}`)
  return lines
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [command = '', ...answers] = cellsOf(line)
      const allowed = Object.fromEntries(
        ROLES.map((role, index) => {
          const answer = answers[index]
          if (answer !== 'yes' && answer !== 'no') throw new Error(`"${answer}" is neither yes nor no in: ${line}`)
          return [role, answer === 'yes']
        }),
      ) as Record<Role, boolean>
      return {command: command.replace(/`/g, '').split(' '), allowed}
    })
}

const cellsOf = (line: string): string[] =>
  line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim())
