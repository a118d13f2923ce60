import {idMs, numberOf, type InfoObject} from './xinfo.js'

export interface ConsumerDetail {
  name: string
  pending: number
  /** Since the consumer's last interaction with the group. */
  idleMs: number
  /** Since its last successful read (Redis 7.2+; null on older servers). */
  inactiveMs: number | null
}

export interface PendingDetail {
  id: string
  consumer: string
  idleMs: number
  /** Delivery count: entries delivered many times are the likely poison messages. */
  deliveries: number
  publishedAt: string | null
}

/** A consumer from one XINFO CONSUMERS reply entry. */
export const consumerDetail = (consumer: InfoObject): ConsumerDetail => ({
  name: String(consumer.name),
  pending: Number(consumer.pending),
  idleMs: Number(consumer.idle),
  inactiveMs: numberOf(consumer.inactive),
})

/** The ISO time an entry was added, from its ID. */
export const publishedAtOf = (id: string): string | null => {
  const ms = idMs(id)
  return ms === null ? null : new Date(ms).toISOString()
}

/** One entry of an extended XPENDING reply (`XPENDING key group - + COUNT`). */
export const pendingDetail = ([id, consumer, idleMs, deliveries]: [string, string, number, number]): PendingDetail => ({
  id,
  consumer,
  idleMs: Number(idleMs),
  deliveries: Number(deliveries),
  publishedAt: publishedAtOf(id),
})
