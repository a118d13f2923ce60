import type {Cluster, Redis} from 'ioredis'

import {missingTopicsError} from '../errors.js'
import {isReplayKey, topicsOfDeadLetterKey} from '../keys.js'
import {resolveTopics, type TopicLayout} from '../partitions/metadata.js'
import {commandTimeoutOf, isCluster, setCommandTimeout, type RedisClient} from '../redis/client.js'
import {scanEachPrimary} from '../redis/cluster-nodes.js'
import {keyTypes, topicNotAStream} from '../redis/key-type.js'
import {findPartitionedTopics} from '../topics/list.js'
import {readClusterSnapshot} from './cluster-snapshot.js'
import {layoutsOfFound} from './partitioned-stats.js'
import type {Focus, FocusDetail, Snapshot, SnapshotSource, TopicSnapshot} from './snapshot.js'
import type {FocusRead} from './snapshot-focus.js'
import type {MetadataReply} from './snapshot-metadata.js'
import {withPartitionedTopics} from './snapshot-partitioned.js'
import {PartitionedTopics} from './snapshot-partitions.js'
import {readSnapshot, type NotAStream} from './snapshot-source.js'
import {deadLetterKeyWarning, findStreams, skippedTopicWarning, streamScanArgs, withoutDeadLetterStreams} from './topic-stats.js'

export interface TopicSelection {
  /** Exactly these topics (no discovery); a partitioned one is read over its partitions. */
  topics?: readonly string[] | undefined
  /** Otherwise every stream and partitioned topic whose name matches this glob (default `*`). */
  match?: string | undefined
  /** Named topics that do not exist are left out instead of failing (exit 6) when the source opens. */
  allowMissing?: boolean | undefined
}

/** One refresh's reading, single server or cluster alike. */
interface RefreshReading {
  at: number
  topics: TopicSnapshot[]
  focus: FocusDetail | null
  notStreams: NotAStream[]
  metadata: Map<string, MetadataReply>
  clusterNodes?: string[]
  /** On a cluster: the primary each stream was read from. */
  nodeOf?: Map<string, string>
}

type ScanStep = {cursor: string; keys: string[]}

/**
 * Snapshots for `qctl top`, one round trip per refresh (on a cluster, one per primary). Without
 * explicit topics it keeps discovering streams and partitioned topics: a full SCAN of each when it
 * opens, then per refresh one SCAN step of each (stream keys; `qctl:topic:*` metadata keys) inside
 * the same pipeline, so topics created later appear within a few refreshes and the cost stays one
 * round trip however many keys the database holds. A partitioned topic's metadata is read in a
 * later refresh's pipeline too (snapshot-partitions.ts), and its partitions' streams with the plain
 * topics, then merged into one topic (snapshot-partitioned.ts).
 */
export class RedisSnapshotSource implements SnapshotSource {
  /** Plain topics to read (partitioned ones are read through their partitions' streams). */
  private topics: string[] = []
  private deadLetterStreams: string[] = []
  /** Per node (a cluster primary's address; '' for a single server): where its SCAN cycle is. */
  private cursors = new Map<string, string>()
  /** Per node: where its metadata SCAN cycle is. */
  private metadataCursors = new Map<string, string>()
  /** The stream keys the topic lists were last worked out from. */
  private streamKeys = new Set<string>()
  /** Per node: the keys its last whole SCAN cycle found, and those of the current one. */
  private nodeKeys = new Map<string, Set<string>>()
  /** Per node: keys seen since its current SCAN cycle began; they replace its keys when it ends. */
  private cycles = new Map<string, Set<string>>()
  /** The `partitioned.version` the lists were worked out for. */
  private listsVersion = -1
  /** What each key found not to be a stream holds, read once (TYPE), so later refreshes stay one round trip. */
  private readonly strayTypes = new Map<string, string | undefined>()
  /** Warnings not yet taken with `takeWarnings()`, each said once. */
  private pendingWarnings: string[] = []
  private readonly warned = new Set<string>()
  /** The last detail read, whose pending entries' retry due times the next refresh reads. */
  private lastFocus: FocusDetail | null = null

  private constructor(
    private readonly redis: RedisClient,
    private readonly selection: TopicSelection,
    private readonly partitioned: PartitionedTopics,
  ) {}

  /**
   * Named topics are resolved now (a partitioned one exists by its metadata, even before any of its
   * streams); without them, every stream and partitioned topic is found (two whole SCANs).
   */
  static async open(redis: RedisClient, selection: TopicSelection): Promise<RedisSnapshotSource> {
    if (selection.topics !== undefined) {
      const layouts: TopicLayout[] = await resolveTopics(redis, selection.topics)
      const source = new RedisSnapshotSource(redis, selection, new PartitionedTopics(layouts, selection.topics))
      source.workOutLists()
      return source
    }
    const source = new RedisSnapshotSource(redis, selection, new PartitionedTopics(await findPartitionedTopics(redis, selection.match ?? '*')))
    await source.scanEverything()
    return source
  }

  /** A whole SCAN of every node: at open, and on a cluster whenever a primary left (failed over). */
  private async scanEverything(): Promise<void> {
    const match = this.selection.match ?? '*'
    this.nodeKeys = isCluster(this.redis) ? await scanEachPrimary(this.redis, streamScanArgs(match)) : new Map([['', await findStreams(this.redis, match)]])
    this.cycles = new Map()
    this.cursors = new Map()
    this.metadataCursors = new Map()
    this.discovered(this.knownKeys())
  }

  private knownKeys(): Set<string> {
    const keys = new Set<string>()
    for (const known of this.nodeKeys.values()) for (const key of known) keys.add(key)
    return keys
  }

  private workOutLists(): void {
    if (this.discovering) this.discovered(this.knownKeys())
    else this.topics = (this.selection.topics ?? []).filter((topic) => !this.partitioned.has(topic))
    this.listsVersion = this.partitioned.version
  }

  /**
   * What to read from the stream keys found: the topics; the topic of each dead-letter stream
   * (reading it says whether the topic was deleted, leaving its dead letters: an orphan row); and
   * the dead-letter streams themselves, which get rows when consumer groups read them. Partitions'
   * streams and what derives from them are read through their topic, never as rows (as `lag`:
   * layoutsOfFound).
   */
  private discovered(keys: Iterable<string>): void {
    const all = new Set(keys)
    this.streamKeys = all
    this.listsVersion = this.partitioned.version
    const shown = new Set<string>()
    for (const key of all) if (!this.partitioned.excludes(key)) shown.add(key)
    const topics = new Set(withoutDeadLetterStreams(shown))
    const deadLetterStreams: string[] = []
    for (const key of shown) {
      // A replay stream is its group's, read by that group's workers: never a row of its own.
      if (topics.has(key) || isReplayKey(key)) continue
      deadLetterStreams.push(key)
      const candidates = topicsOfDeadLetterKey(key)
      if (candidates.length > 0 && !candidates.some((topic) => all.has(topic))) topics.add(candidates[0] as string)
    }
    const plain = new Set<string>()
    for (const layout of layoutsOfFound([...topics, ...deadLetterStreams], this.partitioned.list())) if (layout.metadata === undefined) plain.add(layout.topic)
    this.topics = [...topics].filter((topic) => plain.has(topic)).sort()
    this.deadLetterStreams = deadLetterStreams.filter((stream) => plain.has(stream)).sort()
  }

  /** The connection's command timeout before fitReplyTimeout adjusted it. */
  private baseReplyTimeoutMs: number | undefined

  /**
   * The first snapshot. A named topic it does not hold (the key does not exist) fails it, exit 6
   * naming it, unless `allowMissing`: a typo must not look like an idle queue. (Later refreshes
   * show a topic deleted meanwhile as gone, without failing.) A partitioned topic is always there.
   */
  async first(reading: 'full' | 'rates' = 'full'): Promise<Snapshot> {
    const snapshot = await this.refresh(null, reading)
    if (this.selection.topics !== undefined && this.selection.allowMissing !== true) {
      const present = new Set(snapshot.topics.map((topic) => topic.topic))
      const missing = [...new Set(this.selection.topics)].filter((topic) => !present.has(topic))
      if (missing.length > 0) throw missingTopicsError(missing)
    }
    return snapshot
  }

  private get discovering(): boolean {
    return this.selection.topics === undefined
  }

  /**
   * A named topic (TOPIC arguments) that is not a stream fails the refresh (exit 2 when it is the
   * first); a key found by SCAN that no longer is one, or a dead-letter key that is not a stream,
   * is left out with a warning.
   */
  async refresh(focus: Focus | null, what: 'full' | 'rates' = 'full'): Promise<Snapshot> {
    if (this.listsVersion !== this.partitioned.version) this.workOutLists()
    // The partitioned topics of this reading: what the replies below learn applies from the next one.
    const layouts = this.partitioned.list()
    const streams = [...this.topics]
    for (const layout of layouts) for (const stream of layout.streams) streams.push(stream)
    const extras = {focus: this.focusRead(focus), reading: what, deadLetterStreams: this.deadLetterStreams, metadataTopics: this.partitioned.toRead()}
    const started = Date.now()
    const redis = this.redis
    const reading = isCluster(redis) ? await this.readCluster(redis, streams, extras) : await this.readServer(redis, streams, extras)
    this.fitReplyTimeout(Date.now() - started)
    const merged = withPartitionedTopics(reading.topics, layouts, reading.nodeOf)
    for (const warning of merged.warnings) this.warnOnce(warning.text, warning.key)
    for (const warning of this.partitioned.absorb(reading.metadata)) this.warnOnce(warning)
    const snapshot: Snapshot = {at: reading.at, topics: merged.topics, focus: reading.focus, ...(reading.clusterNodes === undefined ? {} : {clusterNodes: reading.clusterNodes})}
    this.lastFocus = snapshot.focus
    if (reading.notStreams.length > 0) await this.noteNotStreams(reading.notStreams)
    return snapshot
  }

  private async readServer(redis: Redis, streams: readonly string[], extras: SourceExtras): Promise<RefreshReading> {
    const match = this.selection.match ?? '*'
    const scans = this.discovering ? {scan: {cursor: this.cursors.get('') ?? '0', match}, metadataScan: {cursor: this.metadataCursors.get('') ?? '0', match}} : {}
    const reading = await readSnapshot(redis, streams, {...extras, ...scans})
    if (reading.metadataScanned !== undefined) this.absorbMetadataScan('', reading.metadataScanned)
    if (reading.scanned !== undefined) this.absorbScan('', reading.scanned)
    const {snapshot} = reading
    return {at: snapshot.at, topics: snapshot.topics, focus: snapshot.focus, notStreams: reading.notStreams, metadata: reading.metadata}
  }

  private async readCluster(cluster: Cluster, streams: readonly string[], extras: SourceExtras): Promise<RefreshReading> {
    const match = this.selection.match ?? '*'
    const scans = this.discovering ? {scan: {cursors: this.cursors, match}, metadataScan: {cursors: this.metadataCursors, match}} : {}
    const reading = await readClusterSnapshot(cluster, streams, {...extras, ...scans})
    if (this.discovering) await this.absorbClusterScans(reading.nodes, reading.scanned, reading.metadataScanned)
    return {at: reading.at || Date.now(), topics: reading.topics, focus: reading.focus, notStreams: reading.notStreams, metadata: reading.metadata, clusterNodes: reading.nodes, nodeOf: reading.nodeOf}
  }

  /** What to read of the focused group: its topic's stream, or every partition's, each with the entries whose retry marks to read. */
  private focusRead(focus: Focus | null): FocusRead | null {
    if (focus === null) return null
    const last = this.lastFocus
    const pending = last !== null && last.topic === focus.topic && last.group === focus.group ? last.oldestPending : []
    const layout = this.partitioned.get(focus.topic)
    if (layout === undefined) return {...focus, partitioned: false, streams: [{stream: focus.topic, partition: null, retryIds: pending.map((entry) => entry.id)}]}
    const streams = layout.streams.map((stream, partition) => ({stream, partition, retryIds: pending.filter((entry) => entry.partition === partition).map((entry) => entry.id)}))
    return {...focus, partitioned: true, streams}
  }

  /**
   * The command timeout (live `top`) runs per command of a refresh's one pipeline, and over 10,000
   * topics (50,000 commands) the last replies come more than a second after the first command was
   * sent: a fixed bound would fail healthy refreshes as "reconnecting". So it is the connection's own
   * bound or three times the last refresh, whichever is longer; a silent Redis still shows within it.
   * (ioredis reads `options.commandTimeout` as each command is sent.)
   */
  private fitReplyTimeout(tookMs: number): void {
    const current = commandTimeoutOf(this.redis)
    if (current === undefined) return
    this.baseReplyTimeoutMs ??= current
    setCommandTimeout(this.redis, Math.max(this.baseReplyTimeoutMs, 3 * tookMs))
  }

  /** Warnings since the last call (a key that is not a stream, a group missing on partitions), said once each. */
  takeWarnings(): string[] {
    const taken = this.pendingWarnings
    this.pendingWarnings = []
    return taken
  }

  /** `key`: what the warning is about, when its text changes from refresh to refresh (a count). */
  private warnOnce(text: string, key = text): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.pendingWarnings.push(text)
  }

  private async noteNotStreams(notStreams: readonly NotAStream[]): Promise<void> {
    const unknown = notStreams.map(({key}) => key).filter((key) => !this.strayTypes.has(key))
    for (const [key, type] of await keyTypes(this.redis, unknown)) this.strayTypes.set(key, type)
    for (const {key, topic, role} of notStreams) {
      const type = this.strayTypes.get(key)
      if (role === 'topic' && !this.discovering) throw topicNotAStream(key, type)
      this.warnOnce(role === 'topic' ? skippedTopicWarning(key, type) : deadLetterKeyWarning(topic, key, type))
    }
  }

  /** A cluster refresh's SCAN steps; a primary gone from the slot map (a failover) means a whole new SCAN. */
  private async absorbClusterScans(nodes: readonly string[], scanned: ReadonlyMap<string, ScanStep>, metadataScanned: ReadonlyMap<string, ScanStep>): Promise<void> {
    const current = new Set(nodes)
    if ([...this.nodeKeys.keys()].some((address) => !current.has(address))) {
      await this.scanEverything()
      return
    }
    for (const [address, step] of metadataScanned) this.absorbMetadataScan(address, step)
    for (const [address, step] of scanned) this.absorbScan(address, step)
  }

  /** New partitioned topics' metadata is read in the next refresh's pipeline; deleted ones go with the periodic re-read. */
  private absorbMetadataScan(address: string, {cursor, keys}: ScanStep): void {
    this.metadataCursors.set(address, cursor)
    this.partitioned.absorbScan(keys)
  }

  private absorbScan(address: string, {cursor, keys}: ScanStep): void {
    const cycle = this.cycles.get(address) ?? new Set<string>()
    this.cycles.set(address, cycle)
    for (const key of keys) cycle.add(key)
    this.cursors.set(address, cursor)
    // Mid-cycle with nothing new (nearly every refresh): the lists stand; working them out again
    // over 10,000 keys cost 20 ms a refresh.
    if (cursor !== '0' && keys.every((key) => this.streamKeys.has(key))) return
    // New keys join at once; vanished ones drop out when a whole cycle (of their node) has not seen them.
    if (cursor === '0') {
      this.nodeKeys.set(address, cycle)
      this.cycles.set(address, new Set())
    } else {
      const known = this.nodeKeys.get(address) ?? new Set<string>()
      for (const key of keys) known.add(key)
      this.nodeKeys.set(address, known)
    }
    this.discovered(this.knownKeys())
  }
}

type SourceExtras = {focus: FocusRead | null; reading: 'full' | 'rates'; deadLetterStreams: readonly string[]; metadataTopics: readonly string[]}
