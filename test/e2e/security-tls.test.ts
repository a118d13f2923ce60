import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it, type TestContext} from 'vitest'

import {runCli, type CliResult} from '../helpers/cli.js'
import {COMMANDS, seedTopic, type CommandCase, type Seeded} from '../helpers/command-table.js'
import {RedisServer} from '../helpers/redis-server.js'
import {makeTestCertificates, type TestCertificates} from '../helpers/tls.js'

/**
 * TLS for every command, against redis-server processes that serve TLS only (`port 0`): a CA and
 * certificates made here with openssl; verified connections and client certificates work; a
 * missing CA or a wrong host name fails with exit 3; and rediss:// never sends plain text.
 */

const CANARY = 'Tls-Canary-4e7b'

let certs: TestCertificates | undefined
/** TLS without client certificates; its certificate names only `localhost`, so 127.0.0.1 is a wrong host name. */
let server: RedisServer | undefined
/** TLS that requires a client certificate signed by the test CA. */
let mutual: RedisServer | undefined
let admin: Redis | undefined
let mutualAdmin: Redis | undefined
let skipReason: string | undefined
let counter = 0

beforeAll(async () => {
  try {
    certs = await makeTestCertificates('DNS:localhost')
  } catch (error) {
    skipReason = `openssl could not make test certificates (${String(error).split('\n')[0]})`
    return
  }
  const tls = {certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile}
  try {
    server = await RedisServer.start({tls})
    mutual = await RedisServer.start({tls: {...tls, authClients: true}})
  } catch (error) {
    skipReason = `the local redis-server cannot serve TLS (${String(error).split('\n')[0]})`
    return
  }
  // The admin connections verify the server as localhost, as qctl does.
  const ca = await readFile(certs.caFile)
  admin = await server.client({tls: {ca, servername: 'localhost'}})
  mutualAdmin = await mutual.client({tls: {ca, servername: 'localhost', cert: await readFile(certs.clientCertFile), key: await readFile(certs.clientKeyFile)}})
})

afterAll(async () => {
  admin?.disconnect()
  mutualAdmin?.disconnect()
  await server?.stop()
  await mutual?.stop()
  if (certs !== undefined) await rm(certs.dir, {recursive: true, force: true})
})

interface Ready {
  certs: TestCertificates
  server: RedisServer
  mutual: RedisServer
  admin: Redis
  mutualAdmin: Redis
}

/** The fixtures, or a skip with the reason printed (only where this machine cannot do TLS). */
function ready(context: TestContext): Ready | undefined {
  if (certs === undefined || server === undefined || mutual === undefined || admin === undefined || mutualAdmin === undefined) {
    console.warn(`skipped TLS test "${context.task.name}": ${skipReason ?? 'TLS fixtures missing'}`)
    context.skip()
    return undefined
  }
  return {certs, server, mutual, admin, mutualAdmin}
}

/** For commands that fail while connecting: nothing needs to exist. */
const NOTHING: Seeded = {topic: 'tls.none', deadLetterIds: ['1-0', '1-1']}

const run = async (command: CommandCase, seeded: Seeded, connection: string[]): Promise<CliResult> =>
  runCli([...command.args(seeded), ...connection], {input: command.input})

const diagnosis = (result: CliResult): string => `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 1500)}\nstderr:\n${result.stderr.slice(-1500)}`

function expectTlsFailure(result: CliResult, address: string, cause: RegExp): void {
  expect(result.code, diagnosis(result)).toBe(3)
  // One line naming the server and the TLS cause: no fallback, no throwaway server (demo).
  expect(result.stderr.split('\n')[0], diagnosis(result)).toMatch(new RegExp(`^Error: cannot connect to ${address.replace(/\./g, '\\.')}: TLS handshake failed: `))
  expect(result.stderr, diagnosis(result)).toMatch(cause)
  expect(result.stderr).not.toContain('throwaway')
}

/** A plain TCP listener that records what a client sends, then answers in plain text (as a non-TLS Redis would). */
async function plainListener(): Promise<{server: Server; port: number; received: () => Buffer}> {
  const chunks: Buffer[] = []
  const listener = createServer((socket) => {
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      socket.end('-ERR this port speaks plain text\r\n')
    })
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  return {server: listener, port: (listener.address() as {port: number}).port, received: () => Buffer.concat(chunks)}
}

describe.concurrent.each(COMMANDS.map((command) => [command.name, command] as const))('%s over TLS', (_name, command) => {
  it('works with rediss:// and --tls-ca', async (context) => {
    const fixtures = ready(context)
    if (fixtures === undefined) return
    const seeded = await seedTopic(fixtures.admin, `tls.${++counter}`)
    const result = await run(command, seeded, ['-u', fixtures.server.url, '--tls-ca', fixtures.certs.caFile])
    expect(result.code, diagnosis(result)).toBe(0)
  })

  it('works with a client certificate (mutual TLS), and fails without one (exit 3)', async (context) => {
    const fixtures = ready(context)
    if (fixtures === undefined) return
    const seeded = await seedTopic(fixtures.mutualAdmin, `tls.${++counter}`)
    const {caFile, clientCertFile, clientKeyFile} = fixtures.certs
    const withCert = await run(command, seeded, ['-u', fixtures.mutual.url, '--tls-ca', caFile, '--tls-cert', clientCertFile, '--tls-key', clientKeyFile])
    expect(withCert.code, diagnosis(withCert)).toBe(0)
    const withoutCert = await run(command, NOTHING, ['-u', fixtures.mutual.url, '--tls-ca', caFile])
    expectTlsFailure(withoutCert, `localhost:${fixtures.mutual.port}`, /certificate required\nHint: the server requires a client certificate: give --tls-cert and --tls-key\n/)
  })

  it('fails with exit 3 without the CA, and for a host name the certificate does not name', async (context) => {
    const fixtures = ready(context)
    if (fixtures === undefined) return
    const {port} = fixtures.server
    const noCa = await run(command, NOTHING, ['-u', fixtures.server.url])
    expectTlsFailure(noCa, `localhost:${port}`, /certificate.*\nHint: give the CA that signed the server's certificate with --tls-ca\n/)
    const wrongName = await run(command, NOTHING, ['-u', `rediss://127.0.0.1:${port}`, '--tls-ca', fixtures.certs.caFile])
    expectTlsFailure(wrongName, `127.0.0.1:${port}`, /does not match certificate's altnames.*\nHint: connect with a host name the server certificate names\n/)
  })

  it('never sends plain text to a server that does not speak TLS', async (context) => {
    if (ready(context) === undefined) return
    const plain = await plainListener()
    try {
      const result = await run(command, NOTHING, ['-u', `rediss://:${CANARY}@localhost:${plain.port}`, '--connect-timeout', '3s'])
      expectTlsFailure(result, `localhost:${plain.port}`, /wrong version number\nHint: the server does not speak TLS on this port/)
      const sent = plain.received()
      // 0x16: a TLS handshake record (the ClientHello), and nothing readable after it.
      expect(sent[0]).toBe(0x16)
      for (const text of ['PING', 'AUTH', 'auth', CANARY]) expect(sent.includes(text)).toBe(false)
    } finally {
      plain.server.close()
    }
  })
})

describe('TLS options', () => {
  it('a CA that did not sign the server certificate, or a plain redis:// URL to a TLS port, exit 3', async (context) => {
    const fixtures = ready(context)
    if (fixtures === undefined) return
    const {port} = fixtures.server
    const untrusted = await runCli(['publish', 'tls.a', '--data', '{}', '-u', fixtures.server.url, '--tls-ca', fixtures.certs.otherCaFile])
    expectTlsFailure(untrusted, `localhost:${port}`, /certificate/)
    const plainToTls = await runCli(['publish', 'tls.a', '--data', '{}', '-u', `redis://127.0.0.1:${port}`, '--connect-timeout', '2s'])
    expect(plainToTls.code, diagnosis(plainToTls)).toBe(3)
  })

  it('--tls-insecure connects without verifying, and says so', async (context) => {
    const fixtures = ready(context)
    if (fixtures === undefined) return
    const insecure = await runCli(['publish', 'tls.a', '--data', '{}', '-u', fixtures.server.url, '--tls-insecure'])
    expect(insecure.code, diagnosis(insecure)).toBe(0)
    expect(insecure.stderr).toContain('warning: --tls-insecure: the certificate of localhost:')
  })

  it('a profile keeps the TLS files (client certificate too); a --tls-ca flag overrides its CA; its --tls-insecure warns naming it', async (context) => {
    const fixtures = ready(context)
    if (fixtures === undefined) return
    const {caFile, clientCertFile, clientKeyFile, otherCaFile} = fixtures.certs
    const env = {XDG_CONFIG_HOME: await mkdtemp(join(fixtures.certs.dir, 'config-'))}
    const created = await runCli(['profile', 'create', 'mtls', '-u', fixtures.mutual.url, '--tls-ca', caFile, '--tls-cert', clientCertFile, '--tls-key', clientKeyFile], {env})
    expect(created.code, diagnosis(created)).toBe(0)
    const viaProfile = await runCli(['publish', 'tls.p', '--data', '{}', '--profile', 'mtls'], {env})
    expect(viaProfile.code, diagnosis(viaProfile)).toBe(0)
    const overridden = await runCli(['publish', 'tls.p', '--data', '{}', '--profile', 'mtls', '--tls-ca', otherCaFile], {env})
    expectTlsFailure(overridden, `localhost:${fixtures.mutual.port}`, /certificate/)
    expect((await runCli(['profile', 'create', 'insecure', '-u', fixtures.server.url, '--tls-insecure'], {env})).code).toBe(0)
    const insecure = await runCli(['publish', 'tls.p', '--data', '{}', '--profile', 'insecure'], {env})
    expect(insecure.code, diagnosis(insecure)).toBe(0)
    expect(insecure.stderr).toContain('warning: --tls-insecure (profile "insecure"): the certificate of localhost:')
  })

  it('refuses TLS flags on a plain redis:// URL (exit 2)', async () => {
    const result = await runCli(['publish', 't', '--data', '{}', '-u', 'redis://127.0.0.1:1', '--tls-ca', 'ca.pem'])
    expect(result.code).toBe(2)
  })
})
