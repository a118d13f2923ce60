import {execFile} from 'node:child_process'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)

export interface TestCertificates {
  dir: string
  caFile: string
  serverCertFile: string
  serverKeyFile: string
  clientCertFile: string
  clientKeyFile: string
  /** A CA that signed nothing here: verifying with it must fail. */
  otherCaFile: string
}

async function makeCa(dir: string, name: string): Promise<{cert: string; key: string}> {
  const cert = join(dir, `${name}.pem`)
  const key = join(dir, `${name}-key.pem`)
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`])
  return {cert, key}
}

async function signed(dir: string, ca: {cert: string; key: string}, name: string, altNames: string): Promise<{cert: string; key: string}> {
  const key = join(dir, `${name}-key.pem`)
  const csr = join(dir, `${name}.csr`)
  const cert = join(dir, `${name}.pem`)
  const ext = join(dir, `${name}.ext`)
  await writeFile(ext, `subjectAltName=${altNames}\n`)
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`])
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext])
  return {cert, key}
}

/**
 * A throwaway CA, a server certificate, and a client certificate (openssl). The server
 * certificate names localhost and 127.0.0.1 unless `serverAltNames` says otherwise (e.g.
 * `DNS:localhost` only, so that connecting to 127.0.0.1 is a host name mismatch).
 */
export async function makeTestCertificates(serverAltNames = 'DNS:localhost,IP:127.0.0.1'): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'qctl-tls-'))
  const ca = await makeCa(dir, 'test-ca')
  const other = await makeCa(dir, 'other-ca')
  const server = await signed(dir, ca, 'server', serverAltNames)
  const client = await signed(dir, ca, 'client', 'DNS:qctl-client')
  return {
    dir,
    caFile: ca.cert,
    serverCertFile: server.cert,
    serverKeyFile: server.key,
    clientCertFile: client.cert,
    clientKeyFile: client.key,
    otherCaFile: other.cert,
  }
}
