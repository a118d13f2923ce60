import {usageError} from '../errors.js'

/** Announced `host:port` -> the address to connect to instead (ioredis's `natMap`). */
export type NatMapping = Record<string, {host: string; port: number}>

/** `host:port`, `[v6]:port` -> its parts, or undefined when it is not one. */
function hostPort(text: string): {host: string; port: number} | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  if (match === null) return undefined
  const port = Number(match[3])
  if (port < 1 || port > 65_535) return undefined
  return {host: (match[1] ?? match[2]) as string, port}
}

/** The key ioredis looks a node up by: `host:port` as CLUSTER SLOTS announces it (no brackets). */
const nodeKey = ({host, port}: {host: string; port: number}): string => `${host}:${port}`

/**
 * `--cluster-nat FROM=TO` (repeatable): the cluster announces nodes by addresses this host may not
 * reach (containers, NAT); each FROM `host:port` is reached at TO instead. Refused with exit 2 when
 * malformed, or when one FROM is mapped twice.
 */
export function parseNatMap(rules: readonly string[]): NatMapping {
  const mapping: NatMapping = {}
  for (const rule of rules) {
    const [fromText, toText, ...rest] = rule.split('=')
    const from = fromText === undefined ? undefined : hostPort(fromText)
    const to = toText === undefined ? undefined : hostPort(toText)
    if (from === undefined || to === undefined || rest.length > 0) {
      throw usageError(`invalid --cluster-nat "${rule}": expected FROM=TO, each host:port (e.g. 10.0.0.5:6379=127.0.0.1:7001)`)
    }
    const key = nodeKey(from)
    if (mapping[key] !== undefined) throw usageError(`invalid --cluster-nat: ${fromText} is mapped twice`)
    mapping[key] = to
  }
  return mapping
}
