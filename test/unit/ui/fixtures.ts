import type {FocusDetail, GroupSnapshot, Snapshot, TopicSnapshot} from '../../../src/core/stats/snapshot.js'
import type {RateRow} from '../../../src/core/stats/rates.js'

/** A row as the model makes it, with quiet defaults. */
export const row = (topic: string, overrides: Partial<RateRow> = {}): RateRow => ({
  node: null,
  topic,
  group: 'g',
  kind: 'topic',
  depth: 0,
  inRate: 0,
  outRate: 0,
  lag: 0,
  lagGrowing: false,
  pending: 0,
  oldestPendingAgeMs: null,
  consumers: 1,
  activeConsumers: 1,
  deadLetters: 0,
  deadLetterInRate: 0,
  deadLettersGrowing: false,
  scheduled: 0,
  scheduledDue: 0,
  trend: 'idle',
  stall: null,
  partitions: 1,
  perPartition: null,
  ...overrides,
})

export const groupSnapshot = (name: string, overrides: Partial<GroupSnapshot> = {}): GroupSnapshot => ({
  name,
  entriesRead: 0,
  lag: 0,
  pending: 0,
  parkedPending: 0,
  oldestPendingId: null,
  oldestPendingIdleMs: null,
  consumers: 1,
  activeConsumers: 1,
  ...overrides,
})

export const topicSnapshot = (topic: string, overrides: Partial<TopicSnapshot> = {}): TopicSnapshot => ({
  topic,
  length: 0,
  entriesAdded: 0,
  deadLetters: 0,
  scheduled: 0,
  scheduledDue: 0,
  deadLettersAdded: null,
  groups: [groupSnapshot('g')],
  kind: 'topic',
  ...overrides,
})

export const snapshotAt = (at: number, topics: TopicSnapshot[], focus: FocusDetail | null = null): Snapshot => ({at, topics, focus})
