import {defineConfig} from 'vitest/config'

/** Command suites that run a second time against a local Redis Cluster (test/helpers/test-redis.ts). */
const ON_A_CLUSTER_TOO = ['test/e2e/publish.test.ts', 'test/e2e/dlq.test.ts', 'test/e2e/dlq-read.test.ts', 'test/e2e/dlq-partitions.test.ts', 'test/e2e/work-json.test.ts', 'test/e2e/lag.test.ts', 'test/e2e/top.test.ts', 'test/e2e/top-partitions.test.ts', 'test/e2e/work.test.ts', 'test/e2e/topic.test.ts', 'test/e2e/work-growth.test.ts', 'test/e2e/busiest-keys.test.ts', 'test/e2e/publish-idempotent.test.ts', 'test/e2e/schedule.test.ts', 'test/e2e/trim.test.ts', 'test/e2e/group.test.ts', 'test/e2e/doctor.test.ts', 'test/e2e/tail.test.ts', 'test/e2e/round-trip.test.ts', 'test/e2e/scheduled-counts.test.ts', 'test/e2e/metrics-queue.test.ts', 'test/e2e/metrics-work.test.ts']

/**
 * End-to-end files that are fault runs or wait out real time: connections that go silent (each case
 * waits out PING and command timeouts, two minutes in all), workers killed, frozen and outliving a
 * Redis restart (work-recovery, 30 s), and a worker idle past top's one-minute activity window. They
 * run with the chaos project, which CI runs after `npm test`, so `npm test` stays within ten minutes.
 */
const LONG_RUNS = ['test/e2e/silent-connection.test.ts', 'test/e2e/work-recovery.test.ts', 'test/e2e/top-idle-worker.test.ts']

export default defineConfig({
  test: {
    // End-to-end tests spawn CLI processes and private redis-server instances: give them room,
    // and keep parallelism modest on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    // `npm test` runs `server` and `cluster`; the chaos scenarios (fault runs: killed, paused and
    // refusing servers, crash-looping handlers) are a project of their own, `npm run test:chaos` (their
    // short form; CI runs it after `npm test`) and `npm run chaos` (the long form), so `npm test` stays
    // within ten minutes on two cores.
    projects: [
      {extends: true, test: {name: 'server', include: ['test/**/*.test.{ts,tsx}'], exclude: ['test/chaos/**', ...LONG_RUNS, '**/node_modules/**']}},
      {extends: true, test: {name: 'cluster', include: ON_A_CLUSTER_TOO, env: {QCTL_TEST_TARGET: 'cluster'}}},
      {extends: true, test: {name: 'chaos', include: ['test/chaos/**/*.test.ts', ...LONG_RUNS]}},
    ],
  },
})
