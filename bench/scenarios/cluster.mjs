// Scenario "cluster": publish and drain rates on a local Redis Cluster of 1, 2 and 3 primaries,
// one topic per primary and one process per topic, side by side with the single node.
//   single:    the suite's own redis-server (ctx.redisUrl), 1 topic
//   cluster-k: a fresh local cluster of k primaries (bench/lib/redis-cluster.mjs: no replicas, no
//              persistence), started before the run and stopped after it, untimed, so no node is
//              ever idle in a measurement and no run inherits another's memory; k topics, each
//              named so that a different primary owns its slot
// Per run, two timed phases, each k concurrent whole processes timed from spawn to the last exit:
//   publish: `node bin/run.js publish TOPIC FILE --json -u URL`, one per topic, each the same NDJSON
//            file of M ~200-byte records (200,000; --quick: 30,000; --lines), so k × M messages
//   drain:   `node bin/run.js work handlers/noop.mjs --topic TOPIC --group bench --concurrency 8
//            --until-empty --json -u URL`, one per topic
// Every process is given the same URL, the first node's: qctl detects the cluster there and routes
// each topic to the primary serving its slot. Checked: each publisher reports M and its topic has M
// entries on its primary; each worker reports M processed and nothing else (retried, dead-lettered,
// lost, duplicated, unfinished), and its group has 0 pending and entries-read M.
// CPU per phase: each Redis node's (INFO cpu: used_cpu_user + used_cpu_sys, before and after), the
// qctl processes' (getrusage at exit, via runNode's preload), the runner's, and the rest of the
// machine's ("others"); reported per message: Redis µs/msg and client µs/msg, the latter also less
// each process's start-up and exit (measured first: 3 one-message publishes and 3 empty drains on
// the single node, median CPU). A run where "others" took over 10% of the machine is named as
// disturbed. From those the details argue what one shard and one worker process can do, and where
// scaling stops on this machine (its cores) and on any (one stream lives on one shard).
// Rounds interleave the setups (single, cluster-1, cluster-2, cluster-3, then again); the table
// takes medians over rounds.
import {createReadStream} from 'node:fs'
import os from 'node:os'
import {join} from 'node:path'

import {groupInfo, lastJsonLine} from '../lib/backlog.mjs'
import {parseJsonOutput, runNode} from '../lib/child.mjs'
import {machineBusyMs, redisCpuMs} from '../lib/cpu-meter.mjs'
import {ensureNdjson} from '../lib/ndjson-data.mjs'
import {topRoundTripsPerPrimary} from '../lib/cluster-top.mjs'
import {startRedisCluster} from '../lib/redis-cluster.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {interleavedRounds, summarizeRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {cpuSeconds, markdownTable} from '../lib/table.mjs'

export const name = 'cluster'

const GROUP = 'bench'
const CONCURRENCY = 8
const SETUPS = [
  {id: 'single', what: 'single node', primaries: 0},
  {id: 'cluster-1', what: 'cluster, 1 primary', primaries: 1},
  {id: 'cluster-2', what: 'cluster, 2 primaries', primaries: 2},
  {id: 'cluster-3', what: 'cluster, 3 primaries', primaries: 3},
]
const PHASES = ['publish', 'drain']

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const fixed = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–')
/** A derived rate to 2 significant digits (an estimate: more digits would claim more than it knows). */
const approx = (n) => (Number.isFinite(n) ? fmt(Number(n.toPrecision(2))) : '–')

/** Start measuring CPU of the machine, every node behind `admins` and this runner; call the result with the clients' CPU ms. */
async function startMeter(admins) {
  const machine = machineBusyMs()
  const redis = await Promise.all(admins.map(redisCpuMs))
  const self = process.cpuUsage()
  return async (clientMs) => {
    const selfUsage = process.cpuUsage(self)
    const redisNowMs = await Promise.all(admins.map(redisCpuMs))
    const redisNodesMs = redisNowMs.map((ms, i) => ms - redis[i])
    const result = {
      machineMs: machineBusyMs() - machine,
      redisNodesMs,
      redisMs: redisNodesMs.reduce((sum, ms) => sum + ms, 0),
      runnerMs: (selfUsage.user + selfUsage.system) / 1000,
      clientMs,
    }
    result.othersMs = clientMs === undefined ? undefined : Math.max(0, result.machineMs - result.clientMs - result.redisMs - result.runnerMs)
    return result
  }
}

/** Read the file once so every publisher starts with it in the page cache. */
async function warmPageCache(path) {
  for await (const _ of createReadStream(path, {highWaterMark: 1024 * 1024})) {
    // discard
  }
}

export async function run(ctx) {
  const {quick, repoRoot, dataDir, redisUrl, admin, log} = ctx
  const messages = ctx.options.lines ?? (quick ? 30_000 : 200_000)
  const rounds = ctx.options.rounds ?? (quick ? 1 : 2)
  const cores = os.cpus().length
  const data = await ensureNdjson(dataDir, messages, log)
  await warmPageCache(data.path)
  const avgBytes = Math.round(data.bytes / messages)
  const qctlBin = join(repoRoot, 'bin/run.js')
  const noop = join(repoRoot, 'bench/handlers/noop.mjs')
  // Generous bounds per process: 2 minutes plus 0.5 ms a message (a stuck process fails the run, it does not hang the suite).
  const timeoutMs = 120_000 + Math.ceil(messages * 0.5)
  const keysBefore = await admin.dbsize()
  log(`cluster: ${fmt(messages)} messages (~${avgBytes} B) per topic; setups ${SETUPS.map((s) => s.id).join(', ')}; ${rounds} round${rounds === 1 ? '' : 's'}; ${cores} cores`)

  // A process's start-up and exit cost CPU whatever it then moves: measured on (almost) nothing,
  // 3 times each on the single node, so the per-message client figures can be given without it.
  const startupTopic = `qctl-bench:cluster:startup:${process.pid}`
  const startupRuns = {publish: [], drain: []}
  try {
    for (let i = 0; i < 3; i++) {
      const runs = {
        publish: await runNode(qctlBin, ['publish', startupTopic, '--data', '{"a":1}', '--json', '-u', redisUrl], {cwd: repoRoot, timeoutMs: 60_000}),
        drain: await runNode(qctlBin, ['work', noop, '--topic', startupTopic, '--group', GROUP, '--concurrency', String(CONCURRENCY), '--until-empty', '--json', '-u', redisUrl], {cwd: repoRoot, timeoutMs: 60_000}),
      }
      for (const [phase, child] of Object.entries(runs)) {
        if (child.code !== 0 || child.cpuMs === undefined) throw new Error(`cluster: start-up run (${phase}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-2000)}\n${child.stdout.slice(-2000)}`)
        startupRuns[phase].push(child.cpuMs)
      }
    }
  } finally {
    await admin.unlink(startupTopic)
    await deleteMatching(admin, `{${startupTopic}}:*`)
  }
  const startupMs = {publish: summary(startupRuns.publish).median, drain: summary(startupRuns.drain).median}
  log(`cluster: CPU of one process's start-up and exit (median of 3): publish ${fixed(startupMs.publish, 0)} ms, work ${fixed(startupMs.drain, 0)} ms`)

  /**
   * k processes of `node bin/run.js ARGS(topic)` at once, one per topic, with the CPU meter around
   * them; fails loudly on a timeout or a non-zero exit. Resolves {children, wallMs, cpu}.
   */
  const concurrently = async (label, topics, argsOf, admins) => {
    const meter = await startMeter(admins)
    const children = await Promise.all(topics.map((topic) => runNode(qctlBin, argsOf(topic), {cwd: repoRoot, timeoutMs})))
    const clientMs = children.every((child) => child.cpuMs !== undefined) ? children.reduce((sum, child) => sum + child.cpuMs, 0) : undefined
    const cpu = await meter(clientMs)
    for (const [i, child] of children.entries()) {
      const output = `\n${child.stderr.slice(-3000)}\n${child.stdout.slice(-2000)}`
      if (child.timedOut) throw new Error(`${label} ${topics[i]}: still running after ${timeoutMs / 1000} s; killed${output}`)
      if (child.code !== 0) throw new Error(`${label} ${topics[i]}: exited with ${child.code ?? child.signal}${output}`)
    }
    return {children, wallMs: Math.max(...children.map((child) => child.wallMs)), cpu}
  }

  const phaseSample = (phase, processes, total, {wallMs, cpu}, internalMs) => ({
    wallMs,
    rate: total / (wallMs / 1000),
    internalMs,
    internalRate: total / (internalMs / 1000),
    cpu,
    redisUsPerMsg: (cpu.redisMs * 1000) / total,
    clientUsPerMsg: cpu.clientMs === undefined ? undefined : (cpu.clientMs * 1000) / total,
    /** Less each process's start-up and exit: what moving the messages cost. */
    clientSteadyUsPerMsg: cpu.clientMs === undefined ? undefined : ((cpu.clientMs - processes * startupMs[phase]) * 1000) / total,
    /** One process's cores while it ran (its CPU less start-up, over its own durationMs): single-topic setups only. */
    processCores: cpu.clientMs === undefined || processes !== 1 ? undefined : (cpu.clientMs - startupMs[phase]) / internalMs,
    coresBusy: cpu.clientMs === undefined ? undefined : (cpu.redisMs + cpu.clientMs) / wallMs,
  })

  /** One run of a setup: (a fresh cluster,) publish to every topic at once, then drain every topic at once; checked. */
  const runSetup = (setup) => async ({round}) => {
    const label = `${setup.id} (round ${round})`
    let cluster
    let topics
    let admins
    let ownerAdmin
    let url
    const started = Date.now()
    try {
      if (setup.primaries === 0) {
        topics = [`qctl-bench:cluster:single:${process.pid}:${round}`]
        admins = [admin]
        ownerAdmin = () => admin
        url = redisUrl
        await admin.del(topics[0])
      } else {
        cluster = await startRedisCluster({primaries: setup.primaries})
        topics = await cluster.topicsByPrimary(`qctl-bench:cluster:${process.pid}:${round}:`)
        admins = cluster.admins
        ownerAdmin = (topic) => cluster.admins[cluster.ownerOf(topic)]
        url = cluster.url
      }
      const setupMs = Date.now() - started
      const total = topics.length * messages

      const published = await concurrently(`${label} publish`, topics, (topic) => ['publish', topic, data.path, '--json', '-u', url], admins)
      const publishOutputs = published.children.map((child, i) => parseJsonOutput(child.stdout, `${label} publish ${topics[i]}`))
      for (const [i, topic] of topics.entries()) {
        const length = await ownerAdmin(topic).xlen(topic)
        if (length !== messages || publishOutputs[i].published !== messages) {
          throw new Error(`${label} publish ${topic}: expected ${messages} entries; its primary has ${length}, qctl reported ${publishOutputs[i].published}`)
        }
      }

      const drained = await concurrently(`${label} drain`, topics, (topic) => ['work', noop, '--topic', topic, '--group', GROUP, '--concurrency', String(CONCURRENCY), '--until-empty', '--json', '-u', url], admins)
      const drainOutputs = drained.children.map((child, i) => lastJsonLine(child.stdout, `${label} drain ${topics[i]}`))
      for (const [i, topic] of topics.entries()) {
        const out = drainOutputs[i]
        const problems = []
        const want = {event: 'summary', processed: messages, retried: 0, deadLettered: 0, lost: 0, duplicates: 0, unfinished: 0, stopReason: 'until-empty'}
        for (const [field, value] of Object.entries(want)) if (out[field] !== value) problems.push(`${field} ${out[field]}, expected ${value}`)
        const info = await groupInfo(ownerAdmin(topic), topic, GROUP)
        if (info === undefined) problems.push(`group ${GROUP} is missing on the topic's primary`)
        else if (Number(info.pending) !== 0 || Number(info['entries-read']) !== messages) problems.push(`group ${GROUP}: ${info.pending} pending, entries-read ${info['entries-read']} (expected 0 and ${messages})`)
        if (problems.length > 0) throw new Error(`${label} drain ${topic}: ${problems.join('; ')}`)
      }

      return {
        primaries: setup.primaries,
        topics: topics.length,
        setupMs,
        publish: phaseSample('publish', topics.length, total, published, Math.max(...publishOutputs.map((out) => out.durationMs))),
        drain: phaseSample('drain', topics.length, total, drained, Math.max(...drainOutputs.map((out) => out.durationMs))),
      }
    } finally {
      if (cluster !== undefined) await cluster.stop()
      else if (topics !== undefined) {
        await admin.unlink(topics[0])
        await deleteMatching(admin, `{${topics[0]}}:*`)
      }
    }
  }

  const describe = (sample) =>
    PHASES.map((phase) => {
      const p = sample[phase]
      return `${phase} ${(p.wallMs / 1000).toFixed(2)} s ${fmt(p.rate)} msg/s (Redis ${fixed(p.redisUsPerMsg)} µs/msg, client ${fixed(p.clientUsPerMsg)} µs/msg, others ${cpuSeconds(p.cpu.othersMs)} s)`
    }).join('; ')
  const contenders = SETUPS.map((setup) => ({name: setup.id, describe, run: runSetup(setup)}))
  const result = await interleavedRounds({rounds, contenders, log})
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) throw new Error(`cluster: ${keysAfter - keysBefore} keys left behind in the single redis-server (cleanup is incomplete)`)

  // Medians per setup and phase; scaling ratios to cluster-1 taken round by round.
  const med = (id, pick) => summary(result.samples[id].map(pick))
  const scaling = (id, phase) =>
    summary(result.rounds.map(({samples}) => samples[id][phase].rate / samples['cluster-1'][phase].rate))
  const stats = Object.fromEntries(
    SETUPS.map((setup) => [
      setup.id,
      Object.fromEntries(
        PHASES.map((phase) => [
          phase,
          {
            rate: med(setup.id, (s) => s[phase].rate),
            internalRate: med(setup.id, (s) => s[phase].internalRate),
            redisUs: med(setup.id, (s) => s[phase].redisUsPerMsg).median,
            clientUs: med(setup.id, (s) => s[phase].clientUsPerMsg).median,
            clientSteadyUs: med(setup.id, (s) => s[phase].clientSteadyUsPerMsg).median,
            processCores: med(setup.id, (s) => s[phase].processCores).median,
            coresBusy: med(setup.id, (s) => s[phase].coresBusy).median,
            scaling: scaling(setup.id, phase),
          },
        ]),
      ),
    ]),
  )
  const rateCell = (r) => (r.n > 1 ? `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})` : fmt(r.median))
  const scaleCell = (setup, phase) => (setup.primaries === 0 ? '–' : `${stats[setup.id][phase].scaling.median.toFixed(2)}x`)
  const table = markdownTable(
    ['setup', 'topics × messages', 'publish msg/s', '÷ 1 primary', 'drain msg/s', '÷ 1 primary', 'Redis CPU µs/msg (publish, drain)', 'client CPU µs/msg (publish, drain; less start-up)', 'cores busy (publish, drain)'],
    SETUPS.map((setup) => {
      const s = stats[setup.id]
      const topicCount = Math.max(1, setup.primaries)
      return [
        setup.what,
        `${topicCount} × ${fmt(messages)}`,
        rateCell(s.publish.rate),
        scaleCell(setup, 'publish'),
        rateCell(s.drain.rate),
        scaleCell(setup, 'drain'),
        `${fixed(s.publish.redisUs)}, ${fixed(s.drain.redisUs)}`,
        `${fixed(s.publish.clientUs)}, ${fixed(s.drain.clientUs)} (${fixed(s.publish.clientSteadyUs)}, ${fixed(s.drain.clientSteadyUs)})`,
        `${fixed(s.publish.coresBusy, 2)}, ${fixed(s.drain.coresBusy, 2)}`,
      ]
    }),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )

  const perRun = markdownTable(
    ['round', 'setup', 'phase', 'wall s', 'msg/s', 'in-process msg/s', 'CPU s: clients', 'redis (per node)', 'others', 'Redis µs/msg', 'client µs/msg'],
    result.rounds.flatMap(({round, samples}) =>
      SETUPS.flatMap((setup) =>
        PHASES.map((phase) => {
          const p = samples[setup.id][phase]
          return [
            String(round),
            setup.id,
            phase,
            (p.wallMs / 1000).toFixed(2),
            fmt(p.rate),
            fmt(p.internalRate),
            cpuSeconds(p.cpu.clientMs),
            `${cpuSeconds(p.cpu.redisMs)}${p.cpu.redisNodesMs.length > 1 ? ` (${p.cpu.redisNodesMs.map(cpuSeconds).join(' + ')})` : ''}`,
            cpuSeconds(p.cpu.othersMs),
            fixed(p.redisUsPerMsg),
            fixed(p.clientUsPerMsg),
          ]
        }),
      ),
    ),
    ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )

  // The capacity argument, from the one-primary cluster's CPU per message (one Redis thread and one
  // client process: the least oversubscribed cluster setup).
  const one = stats['cluster-1']
  const clusterIds = SETUPS.filter((setup) => setup.primaries > 0).map((setup) => setup.id)
  const shard = (phase) => 1e6 / one[phase].redisUs
  const clientPerRedis = (phase) => one[phase].clientSteadyUs / one[phase].redisUs
  const machineBound = (phase) => (cores * 1e6) / (one[phase].redisUs + one[phase].clientUs)
  const who = {publish: 'publisher', drain: `worker (concurrency ${CONCURRENCY})`}
  const argument = PHASES.map((phase) => {
    const three = stats['cluster-3'][phase]
    const perMessage = (st) => st.redisUs + st.clientUs
    const measured = clusterIds.map((id) => `${SETUPS.find((setup) => setup.id === id).what.replace('cluster, ', '')} ${fmt(stats[id][phase].rate.median)} msg/s (${fixed(stats[id][phase].coresBusy, 2)} cores busy)`).join(', ')
    return (
      `- ${phase}: Redis spends ${fixed(one[phase].redisUs)} µs of CPU per message, so a shard (one primary: one Redis thread, one core) takes ~${approx(shard(phase))} msg/s. ` +
      `A qctl ${who[phase]} spends ${fixed(one[phase].clientSteadyUs)} µs per message (all its threads, start-up aside; ${fixed(one[phase].clientUs)} with it), ${clientPerRedis(phase).toFixed(1)}x Redis's: a shard at full speed needs ~${clientPerRedis(phase).toFixed(1)} cores of ${who[phase].split(' ')[0]}s besides its own, and one process alone on its topic moved ~${approx(one[phase].internalRate.median)} msg/s while it ran, on ~${fixed(one[phase].processCores, 1)} cores (Node's main thread plus its helper threads). ` +
      `Every message costs ${fixed(perMessage(one[phase]))} µs of CPU in all, so ${cores} cores allow at most ~${approx(machineBound(phase))} msg/s whatever the number of primaries; with 3 primaries 6 processes share the cores, and at their own CPU per message (${fixed(three.redisUs)} µs Redis + ${fixed(three.clientUs)} µs client) the bound is ~${approx((cores * 1e6) / perMessage(three))} msg/s. ` +
      `Measured: ${measured}; 3 primaries give ${three.scaling.median.toFixed(2)}x one primary.`
    )
  })
  const drainProcesses = Math.ceil(shard('drain') / one.drain.internalRate.median)
  argument.push(
    `- Where scaling stops. With ~${(1 + clientPerRedis('drain')).toFixed(0)} cores per primary (its own, and ~${clientPerRedis('drain').toFixed(1)} for the client processes), the aggregate would grow by about one shard's rate per primary, as long as there are at least as many busy topics as primaries and enough client processes per topic. It stops: at the machine's cores, here at ~${cores} × 10⁶ / (Redis + client µs per message), already reached with 1–2 primaries; per topic, because a topic is one stream in one hash slot, held by one shard, so it never goes faster than that shard (~${approx(shard('publish'))} msg/s publish, ~${approx(shard('drain'))} msg/s drain) however many primaries there are; and per worker: one qctl work process drains ~${approx(one.drain.internalRate.median)} msg/s, so a topic faster than that needs more processes in its group (~${drainProcesses} to reach its shard's limit), each with its ~${fixed(one.drain.processCores, 1)} cores.`,
  )

  // Runs where the rest of the machine took over a tenth of its CPU: their figures are disturbed.
  const disturbed = result.rounds.flatMap(({round, samples}) =>
    SETUPS.flatMap((setup) =>
      PHASES.flatMap((phase) => {
        const p = samples[setup.id][phase]
        const share = p.cpu.othersMs === undefined ? 0 : p.cpu.othersMs / (p.wallMs * cores)
        return share > 0.1 ? [`round ${round} ${setup.id} ${phase} (others ${(share * 100).toFixed(0)}% of the machine)`] : []
      }),
    ),
  )
  if (disturbed.length > 0) log(`cluster: warning: other work took over 10% of the machine during ${disturbed.join(', ')}`)
  log(`\n${table}`)
  const top = await topRoundTripsPerPrimary({repoRoot: ctx.repoRoot, log, refreshes: quick ? 10 : 30})
  return {
    rows: PHASES.flatMap((phase) =>
      summarizeRounds(
        {rounds: result.rounds.map(({round, samples}) => ({round, samples: Object.fromEntries(Object.entries(samples).map(([id, s]) => [id, s[phase]]))})), samples: Object.fromEntries(Object.entries(result.samples).map(([id, list]) => [id, list.map((s) => s[phase])]))},
        {scenario: `cluster ${phase}, ${fmt(messages)} × ~${avgBytes} B per topic, one topic and one process per primary`, metric: (sample) => sample.rate, baseline: 'single'},
      ),
    ),
    table,
    details: [
      `Per topic ${fmt(messages)} messages of ~${avgBytes} B; one topic per primary (its slot served by that primary), one \`qctl publish\` and then one \`qctl work ${'handlers/noop.mjs'} --concurrency ${CONCURRENCY} --until-empty\` process per topic, all of a phase at once, timed from spawn to the last exit (msg/s = topics × messages / that time). Each cluster is a fresh local one of k primaries (no replicas, no persistence), started before and stopped after each run, untimed; every process gets the first node's URL and qctl routes by slot. "÷ 1 primary": the rate over the one-primary cluster's, round by round, median. CPU per message: Redis = all nodes' INFO cpu (user + sys) over the phase, client = the qctl processes' getrusage, both divided by the phase's messages (in parentheses, client less each process's start-up and exit: ${fixed(startupMs.publish, 0)} ms of CPU for a publisher, ${fixed(startupMs.drain, 0)} ms for a worker, measured on a one-message publish and an empty drain, median of 3); "cores busy" = (Redis + client CPU) / wall time. ${rounds} round${rounds === 1 ? '' : 's'}, setups interleaved; medians.`,
      '',
      `### cluster: per-shard capacity and where scaling stops`,
      '',
      `This machine has ${cores} cores: one primary and its one client process already keep ${fixed(one.publish.coresBusy, 2)} (publish) and ${fixed(one.drain.coresBusy, 2)} (drain) of them busy, and 3 primaries mean 6 busy processes (3 nodes, 3 publishers or workers) on ${cores} cores, so the cluster cannot scale linearly here. Its capacity is argued from CPU per message instead (the one-primary cluster's figures):`,
      '',
      ...argument,
      '',
      '### cluster: top, round trips per refresh per primary',
      '',
      `Live \`qctl top --interval 1s\` in a pseudo-terminal over ${top.topics} topics (a third on each of 3 primaries, each with a group), each node behind a round-trip-counting proxy (\`--cluster-nat\` rewrites the announced addresses to the proxies); ${top.refreshes.toFixed(1)} refreshes after a warm-up: ${top.perNode.map((node) => `${node.perRefresh.toFixed(2)} round trips per refresh on the primary :${node.port} (${node.roundTrips}; ${node.connections} new connection${node.connections === 1 ? '' : 's'})`).join(', ')}. A refresh is one round trip to each primary, in parallel (the slot map is read again only after a redirection or a lost node).`,
      '',
      '### cluster: per run',
      '',
      perRun,
      ...(disturbed.length > 0 ? ['', `Disturbed (other work on the machine took over 10% of its CPU; "others" above): ${disturbed.join(', ')}.`] : []),
    ].join('\n'),
  }
}
