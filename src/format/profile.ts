import type {ChalkInstance} from 'chalk'

import type {CreateProfileResult, DeleteProfileResult, ListProfilesResult, ProfileView, UseProfileResult} from '../core/profiles/manage.js'
import {renderTable, type TableColumn, type TableOptions} from './table.js'
import {shown} from './terminal-text.js'

/**
 * Everything here is already masked (ProfileView): no password reaches these functions. Paths and
 * URLs come from a file that may have been edited by hand: shown escaped, like text from Redis.
 */

const LIST_COLUMNS: readonly TableColumn[] = [{title: ''}, {title: 'NAME'}, {title: 'URL', shrinks: true}, {title: 'CLUSTER'}, {title: 'PASSWORD'}, {title: 'TLS'}]

const clusterText = (cluster: boolean | null): string => (cluster === null ? 'ask' : cluster ? 'yes' : 'no')

const passwordText = (view: ProfileView): string =>
  view.passwordSource === 'file' ? `file ${shown(view.passwordFile ?? '')}` : view.passwordSource === 'stored' ? '*** (stored in clear)' : 'none'

const tlsText = (view: ProfileView): string => {
  if (!view.redisUrl.startsWith('rediss://')) return 'no'
  const files = [view.tlsCa === null ? '' : 'CA', view.tlsCert === null ? '' : 'client cert'].filter((part) => part !== '')
  return `${view.tlsInsecure ? 'yes, NOT VERIFIED' : 'yes'}${files.length > 0 ? ` (${files.join(', ')})` : ''}`
}

/** `qctl profile list`: one row per profile, `*` marking the one in use. */
export function formatProfileList(result: ListProfilesResult, style: ChalkInstance, options: TableOptions = {}): string[] {
  if (result.profiles.length === 0) return [`no profiles in ${result.path} (create one with qctl profile create NAME --redis-url URL)`]
  const rows = result.profiles.map((view) => [view.inUse ? '*' : '', view.name, view.redisUrl, clusterText(view.cluster), view.passwordSource === 'file' ? 'file' : view.passwordSource === 'stored' ? 'stored' : 'none', tlsText(view)])
  return renderTable(LIST_COLUMNS, rows, {head: style.bold, ...options})
}

/** `qctl profile show`: one setting a line. */
export function formatProfileView(view: ProfileView): string[] {
  const state = view.inUse ? (view.current ? ' (in use, current)' : ' (in use, from $QCTL_PROFILE)') : view.current ? ' (current)' : ''
  const lines = [
    `profile:      ${view.name}${state}`,
    `redis-url:    ${shown(view.redisUrl)}`,
    `cluster:      ${clusterText(view.cluster)}`,
    `password:     ${passwordText(view)}`,
  ]
  if (view.clusterNat.length > 0) lines.push(`cluster-nat:  ${shown(view.clusterNat.join(', '))}`)
  if (view.tlsCa !== null) lines.push(`tls-ca:       ${shown(view.tlsCa)}`)
  if (view.tlsCert !== null) lines.push(`tls-cert:     ${shown(view.tlsCert)}`)
  if (view.tlsKey !== null) lines.push(`tls-key:      ${shown(view.tlsKey)}`)
  if (view.tlsInsecure) lines.push('tls-insecure: yes (the server certificate is not verified)')
  return lines
}

export function formatCreated(result: CreateProfileResult): string[] {
  const lines = [`${result.replaced ? 'replaced' : 'created'} profile "${result.profile.name}" (${shown(result.profile.redisUrl)}) in ${shown(result.path)}`]
  lines.push(result.profile.current ? `now using profile "${result.profile.name}"` : `use it with --profile ${result.profile.name}, QCTL_PROFILE=${result.profile.name}, or qctl profile use ${result.profile.name}`)
  return lines
}

export const clearPasswordWarning = (result: CreateProfileResult): string =>
  `the password of profile "${result.profile.name}" is stored in clear in ${shown(result.path)} (readable only by you, mode 0600); --password-file FILE stores only the file's path`

export function formatUsed(result: UseProfileResult): string {
  if (result.current === null) return result.previous === null ? 'no profile was in use; nothing changed' : `stopped using profile "${result.previous}": commands use their flags, the environment and the defaults`
  return result.previous === null || result.previous === result.current ? `now using profile "${result.current}"` : `now using profile "${result.current}" (was "${result.previous}")`
}

export function formatDeleted(result: DeleteProfileResult): string[] {
  if (result.cancelled === true) return [`kept profile "${result.name}": nothing changed`]
  return [`deleted profile "${result.name}"`, ...(result.wasCurrent ? ['it was the current profile: commands now use their flags, the environment and the defaults'] : [])]
}
