// `qctl top` on a local 3-primary cluster: round trips per refresh to each primary. Each node is
// reached through a round-trip-counting proxy (lib/round-trip-proxy.mjs), the cluster's announced
// addresses rewritten to the proxies with --cluster-nat, and the live screen runs in a
// pseudo-terminal (--interval 1s) over 90 topics, 30 on each primary, each with a group. After a
// warm-up, a window of N refreshes: per node, round trips (a burst of commands after a reply) and
// new connections (ioredis reads the slot map again, on a connection of its own, only after a
// redirection or a lost node: none should appear in a quiet window).
import {join} from 'node:path'

import {spawnInPty, terminalEnv} from './pty-child.mjs'
import {startRedisCluster} from './redis-cluster.mjs'
import {startRoundTripProxy} from './round-trip-proxy.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// eslint-disable-next-line no-control-regex
const plain = (text) => text.replaceAll(/\u001B\[[0-9;?]*[ -/]*[@-~]/g, '')
const TOPICS_PER_PRIMARY = 30


/** Returns {perNode: [{port, roundTrips, perRefresh, connections}], refreshes, windowMs}. */
export async function topRoundTripsPerPrimary({repoRoot, log, refreshes = 20, warmupMs = 3000}) {
  const cluster = await startRedisCluster({primaries: 3})
  const proxies = []
  let pty
  try {
    const topics = []
    for (let i = 0; i < TOPICS_PER_PRIMARY; i++) topics.push(...(await cluster.topicsByPrimary(`bench.ctop.${i}.`)))
    for (const topic of topics) {
      const admin = cluster.admins[cluster.ownerOf(topic)]
      await admin.xadd(topic, '*', 'data', '{}')
      await admin.xgroup('CREATE', topic, 'g', '0')
    }
    for (const port of cluster.ports) proxies.push(await startRoundTripProxy({host: '127.0.0.1', port}))
    const nat = cluster.ports.flatMap((port, index) => ['--cluster-nat', `127.0.0.1:${port}=127.0.0.1:${proxies[index].port}`])
    pty = await spawnInPty(process.execPath, [join(repoRoot, 'bin/run.js'), 'top', '-u', proxies[0].url, ...nat, '--interval', '1s'], {cwd: repoRoot, env: terminalEnv(), cols: 200, rows: 120})
    const rows = topics.length
    const shown = await pty.waitForOutput((out) => out.includes('\u001B[?1049h') && out.includes(`rows: ${rows}`) && out.includes('cluster: 3 primaries'), 30_000)
    if (!shown) throw new Error(`cluster top: no live screen with ${rows} rows within 30 s:\n${plain(pty.output()).slice(-3000)}`)
    await sleep(warmupMs)
    const start = proxies.map((proxy) => proxy.stats())
    const started = performance.now()
    await sleep(refreshes * 1000)
    const end = proxies.map((proxy) => proxy.stats())
    const windowMs = performance.now() - started
    const lastFrame = plain(pty.output().slice(pty.output().lastIndexOf('qctl top')))
    if (!lastFrame.includes('● live')) throw new Error(`cluster top: the screen is not live at the end of the window:\n${lastFrame.slice(0, 2000)}`)
    pty.type('q')
    await Promise.race([pty.exited, sleep(10_000)])
    const windowRefreshes = windowMs / 1000
    const perNode = cluster.ports.map((port, index) => {
      const roundTrips = end[index].roundTrips - start[index].roundTrips
      return {port, roundTrips, perRefresh: roundTrips / windowRefreshes, connections: end[index].connections - start[index].connections}
    })
    log(`cluster top: ${perNode.map((node) => `${node.port}: ${node.roundTrips} round trips (${node.perRefresh.toFixed(2)}/refresh), ${node.connections} new connections`).join('; ')} over ${windowRefreshes.toFixed(1)} refreshes`)
    return {perNode, refreshes: windowRefreshes, windowMs, topics: rows}
  } finally {
    pty?.kill('SIGKILL')
    for (const proxy of proxies) await proxy.close()
    await cluster.stop()
  }
}
