import {pendingAgeMs} from '../stats/pending-age.js'
import type {Snapshot} from '../stats/snapshot.js'
import type {Labels, MetricFamily, Sample} from './exposition.js'

/**
 * The queue side's metrics (`qctl metrics`) from one of `top`'s snapshots: per topic, and per topic
 * and group. Where redis_exporter (`--check-streams`) exports the same figure, the name is its name
 * with qctl's namespace (`redis_stream_group_lag` is `qctl_stream_group_lag`: what redis_exporter
 * itself exports with `--namespace qctl`) and the meaning is the same for a plain topic; qctl adds
 * the group's replay stream to its lag and pending (as `qctl lag` does), and a partitioned topic is
 * one topic over its partitions (sums; the oldest pending across them). A figure Redis could not
 * give (lag after some deletions, counters before Redis 7.0) is left out rather than faked as 0.
 */
export function queueFamilies(snapshot: Snapshot): MetricFamily[] {
  const byName = new Map<string, Sample[]>()
  const add = (name: string, labels: Labels, value: number | null): void => {
    if (value === null) return
    let samples = byName.get(name)
    if (samples === undefined) byName.set(name, (samples = []))
    samples.push({labels, value})
  }
  for (const topic of snapshot.topics) {
    const labels = {topic: topic.topic}
    const topicSample = (name: string, value: number | null): void => add(name, labels, value)
    topicSample('qctl_stream_length', topic.length)
    topicSample('qctl_stream_entries_added_total', topic.entriesAdded)
    topicSample('qctl_stream_groups', topic.groups.length)
    topicSample('qctl_stream_partitions', topic.partitions?.length ?? 1)
    topicSample('qctl_dlq_length', topic.deadLetters)
    topicSample('qctl_dlq_entries_added_total', topic.deadLettersAdded)
    topicSample('qctl_scheduled_messages', topic.scheduled)
    topicSample('qctl_scheduled_messages_due', topic.scheduledDue)
    for (const group of topic.groups) {
      const groupLabels = {topic: topic.topic, group: group.name}
      const groupSample = (name: string, value: number | null): void => add(name, groupLabels, value)
      groupSample('qctl_stream_group_lag', group.lag)
      groupSample('qctl_stream_group_messages_pending', group.pending)
      groupSample('qctl_stream_group_messages_parked', group.parkedPending)
      groupSample('qctl_stream_group_entries_read', group.entriesRead)
      const ageMs = group.pending === 0 ? 0 : pendingAgeMs(group.oldestPendingId, group.oldestPendingIdleMs, snapshot.at)
      groupSample('qctl_stream_group_oldest_pending_age_seconds', ageMs === null ? null : ageMs / 1000)
      groupSample('qctl_stream_group_consumers', group.consumers)
      groupSample('qctl_stream_group_active_consumers', group.activeConsumers)
    }
  }
  return [...QUEUE_METRICS].map(([name, {help, type}]) => ({name, help, type, samples: byName.get(name) ?? []}))
}

/** The queue metrics in the order a scrape lists them, with HELP text and type (README, Metrics, lists them too). */
export const QUEUE_METRICS: ReadonlyMap<string, {help: string; type: 'counter' | 'gauge'}> = new Map([
  ['qctl_stream_length', {type: 'gauge', help: 'Entries in the topic\'s stream (XLEN; a partitioned topic: over its partitions). As redis_exporter\'s redis_stream_length.'}],
  ['qctl_stream_entries_added_total', {type: 'counter', help: 'Entries ever added to the topic (XINFO STREAM entries-added, Redis 7.0+): rate() is the publish rate.'}],
  ['qctl_stream_groups', {type: 'gauge', help: 'Consumer groups of the topic. As redis_exporter\'s redis_stream_groups.'}],
  ['qctl_stream_partitions', {type: 'gauge', help: 'Partitions of the topic (1 for a plain stream).'}],
  ['qctl_dlq_length', {type: 'gauge', help: 'Entries in the topic\'s dead-letter stream.'}],
  ['qctl_dlq_entries_added_total', {type: 'counter', help: 'Entries ever added to the topic\'s dead-letter stream (absent while it does not exist).'}],
  ['qctl_scheduled_messages', {type: 'gauge', help: 'Messages scheduled for the topic (publish --delay / --at), in no stream yet.'}],
  ['qctl_scheduled_messages_due', {type: 'gauge', help: 'Scheduled messages past their due time and not appended yet (no worker or schedule run moves them).'}],
  ['qctl_stream_group_lag', {type: 'gauge', help: 'Entries not yet delivered to the group, its replay stream\'s included (absent when Redis cannot tell). As redis_exporter\'s redis_stream_group_lag.'}],
  ['qctl_stream_group_messages_pending', {type: 'gauge', help: 'Entries delivered to the group and not acknowledged, its replay stream\'s included. As redis_exporter\'s redis_stream_group_messages_pending.'}],
  ['qctl_stream_group_messages_parked', {type: 'gauge', help: 'Of the pending entries, those waiting out a retry backoff (qctl work parks them).'}],
  ['qctl_stream_group_entries_read', {type: 'gauge', help: 'Entries delivered to the group so far (XINFO GROUPS entries-read, Redis 7.0+). As redis_exporter\'s redis_stream_group_entries_read.'}],
  ['qctl_stream_group_oldest_pending_age_seconds', {type: 'gauge', help: 'Age of the group\'s oldest pending entry (since it was published, from its ID); 0 when nothing is pending.'}],
  ['qctl_stream_group_consumers', {type: 'gauge', help: 'Consumers of the group (a partitioned topic: the most any partition has). As redis_exporter\'s redis_stream_group_consumers.'}],
  ['qctl_stream_group_active_consumers', {type: 'gauge', help: 'Consumers of the group that read in the last minute.'}],
] as const)
