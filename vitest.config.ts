import {defineConfig} from 'vitest/config'

/** Command suites that run a second time against a local Redis Cluster (test/helpers/test-redis.ts). */
const ON_A_CLUSTER_TOO = ['test/e2e/publish.test.ts', 'test/e2e/dlq.test.ts', 'test/e2e/dlq-read.test.ts', 'test/e2e/dlq-partitions.test.ts', 'test/e2e/work-json.test.ts', 'test/e2e/lag.test.ts', 'test/e2e/top.test.ts', 'test/e2e/top-partitions.test.ts', 'test/e2e/work.test.ts', 'test/e2e/topic.test.ts', 'test/e2e/work-growth.test.ts', 'test/e2e/busiest-keys.test.ts', 'test/e2e/publish-idempotent.test.ts', 'test/e2e/schedule.test.ts', 'test/e2e/trim.test.ts', 'test/e2e/group.test.ts', 'test/e2e/doctor.test.ts', 'test/e2e/tail.test.ts', 'test/e2e/round-trip.test.ts']

export default defineConfig({
  test: {
    // End-to-end tests spawn CLI processes and private redis-server instances: give them room,
    // and keep parallelism modest on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {extends: true, test: {name: 'server', include: ['test/**/*.test.{ts,tsx}']}},
      {extends: true, test: {name: 'cluster', include: ON_A_CLUSTER_TOO, env: {QCTL_TEST_TARGET: 'cluster'}}},
    ],
  },
})
