import type {ChalkInstance} from 'chalk'

import {shown} from './terminal-text.js'

/**
 * Where `qctl dlq` read or changed entries: one dead-letter stream (`dlq`: a plain topic's, or the
 * one of `--partition`), or with `dlq` null, the dead-letter streams of a partitioned topic's
 * partitions (`partitions`: one element each).
 */
export interface Place {
  dlq: string | null
  topic?: string | undefined
  partitions?: readonly unknown[] | null | undefined
}

const unstyled = (text: string): string => text

/** `{orders}:dlq`, or `the dead-letter streams of the 4 partitions of orders`; the name in bold with `style`. */
export function placeOf(place: Place, style?: ChalkInstance): string {
  const bold = style === undefined ? unstyled : style.bold
  if (place.dlq !== null) return bold(place.dlq)
  const count = place.partitions?.length ?? 0
  return `the dead-letter streams of the ${count} partitions of ${bold(shown(place.topic ?? ''))}`
}
