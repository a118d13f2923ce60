import {describe, expect, it} from 'vitest'

import {QctlError} from '../../src/core/errors.js'
import {classifyRedisError, commandKeyOf, isPermissionDenied, refusalOf, replyKind, toQctlError} from '../../src/core/redis/redis-errors.js'

const context = {address: '127.0.0.1:6390', username: 'qctl-worker'}

/** A reply error as ioredis makes it: the message, and the command it answered. */
const replyError = (message: string, command: string): Error => Object.assign(new Error(message), {command: {name: command, args: ['secret-arg']}})

describe('classifyRedisError: permissions', () => {
  it.each([
    [
      'a refused command',
      replyError("NOPERM this user has no permissions to run the 'xadd' command", 'xadd'),
      "permission denied for XADD to user 'qctl-worker' on 127.0.0.1:6390: this user has no permissions to run the 'xadd' command",
    ],
    [
      'a refused key, named by the command sent',
      replyError('NOPERM this user has no permissions to access one of the keys used as arguments', 'xrange'),
      "permission denied for XRANGE to user 'qctl-worker' on 127.0.0.1:6390: this user has no permissions to access one of the keys used as arguments",
    ],
    [
      "a qctl script's own check, naming the write it may not do",
      replyError("NOPERM this user has no permissions to run the 'xdel' command on key '{t}:dlq' (checked before replaying: nothing was changed)", 'evalsha'),
      "permission denied for XDEL to user 'qctl-worker' on 127.0.0.1:6390: this user has no permissions to run the 'xdel' command on key '{t}:dlq' (checked before replaying: nothing was changed)",
    ],
    [
      'a command refused inside a script (Redis 7.0 wording, no NOPERM)',
      replyError(
        "ERR The user executing the script can't run this command or subcommand script: b98670197de8ba103d9d102bab3f8abf4a618d3c, on @user_script:1.",
        'evalsha',
      ),
      "permission denied for a command in a script (EVALSHA) to user 'qctl-worker' on 127.0.0.1:6390: The user executing the script can't run this command or subcommand",
    ],
    [
      'a command refused inside a script (Redis 7.2 and Valkey wording)',
      replyError("ERR ACL failure in script: this user has no permissions to run the 'xack' command script: 0123456789abcdef0123456789abcdef01234567, on @user_script:3.", 'evalsha'),
      "permission denied for XACK to user 'qctl-worker' on 127.0.0.1:6390: ACL failure in script: this user has no permissions to run the 'xack' command",
    ],
  ])('%s: NO_PERMISSION (exit 4), one line, no arguments', (_what, error, message) => {
    const typed = classifyRedisError(error, context)
    expect(typed?.code).toBe('NO_PERMISSION')
    expect(typed?.exitCode).toBe(4)
    expect(typed?.message).toBe(message)
    expect(typed?.message).not.toContain('secret-arg')
  })

  it('tells refusals from other errors', () => {
    expect(isPermissionDenied(replyError("ERR The user executing the script can't access at least one of the keys mentioned in the command", 'evalsha'))).toBe(true)
    expect(isPermissionDenied(replyError('NOPERM no', 'xadd'))).toBe(true)
    expect(isPermissionDenied(replyError('ERR Error running script: boom', 'evalsha'))).toBe(false)
    expect(isPermissionDenied(replyError('NOGROUP No such key', 'xreadgroup'))).toBe(false)
    expect(isPermissionDenied('NOPERM as a string is not a reply')).toBe(false)
  })
})

describe('classifyRedisError: TLS', () => {
  const tlsError = (message: string, code: string): Error => Object.assign(new Error(message), {code})

  it.each([
    [
      'no client certificate for a server that requires one',
      tlsError(
        '801C42FAD37F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116',
        'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      ),
      'tlsv13 alert certificate required',
      'the server requires a client certificate: give --tls-cert and --tls-key',
    ],
    [
      'a plain-text server',
      tlsError('80EC69FB1E7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:', 'ERR_SSL_WRONG_VERSION_NUMBER'),
      'wrong version number',
      'the server does not speak TLS on this port: check the port, or use redis:// if it is a plain-text server',
    ],
    ['no CA', tlsError('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), 'self-signed certificate in certificate chain', "give the CA that signed the server's certificate with --tls-ca"],
    [
      'a host name the certificate does not name',
      tlsError("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
      'connect with a host name the server certificate names',
    ],
  ])('%s: exit 3 with the reason alone and what to change', (_what, error, reason, suggestion) => {
    const typed = classifyRedisError(error, context)
    expect(typed?.exitCode).toBe(3)
    expect(typed?.message).toBe(`cannot connect to 127.0.0.1:6390: TLS handshake failed: ${reason}`)
    expect(typed?.suggestion).toBe(suggestion)
  })
})

describe('replyKind: one classification of Redis error replies', () => {
  it.each([
    ["OOM command not allowed when used memory > 'maxmemory'.", 'xadd', 'unavailable'],
    ["READONLY You can't write against a read only replica.", 'evalsha', 'unavailable'],
    ['NOREPLICAS Not enough good replicas to write.', 'xadd', 'unavailable'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.', 'xrange', 'unavailable'],
    ['LOADING Redis is loading the dataset in memory', 'ping', 'unavailable'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.', 'xadd', 'unavailable'],
    ['CLUSTERDOWN The cluster is down', 'xadd', 'unavailable'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'evalsha', 'unavailable'],
    ['MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.', 'xadd', 'unavailable'],
    ['Command timed out', 'xinfo', 'timeout'],
    ["NOPERM this user has no permissions to run the 'xadd' command", 'xadd', 'denied'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'auth', 'denied'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'xinfo', 'wrong-type'],
    ["NOGROUP No such key 't' or consumer group 'g' in XREADGROUP with GROUP option", 'xreadgroup', 'no-group'],
    ['ERR no such key', 'xinfo', 'not-found'],
    ['ERR The stream has exhausted the last possible ID, unable to add more items', 'xadd', 'stream-exhausted'],
    ['ERR The ID specified in XADD is equal or smaller than the target stream top item', 'xadd', 'stream-exhausted'],
    ['ERR Error running script (call to f_0123): @user_script:1: boom', 'evalsha', undefined],
    ['ERR syntax error', 'xadd', undefined],
  ])('%s: %s', (message, command, kind) => {
    expect(replyKind(replyError(message, command))).toBe(kind)
  })

  it('knows lost connections and ioredis giving up, and nothing that is not an error reply', () => {
    expect(replyKind(new Error('Connection is closed.'))).toBe('unavailable')
    expect(replyKind(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'}))).toBe('unavailable')
    expect(replyKind(Object.assign(new Error('Reached the max retries per request limit (which is 0).'), {name: 'MaxRetriesPerRequestError'}))).toBe('unavailable')
    expect(replyKind(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeUndefined()
    expect(replyKind('OOM as a string is not a reply')).toBeUndefined()
    // A reply that quotes a key named like TLS is not a TLS failure.
    const noGroup = Object.assign(replyError("NOGROUP No such key 'tls-orders' or consumer group 'g'", 'xpending'), {name: 'ReplyError'})
    expect(replyKind(noGroup)).toBe('no-group')
  })

  it('names the refusal by the first word of the reply only', () => {
    expect(refusalOf(replyError("OOM command not allowed when used memory > 'maxmemory'.", 'xadd'))).toBe('OOM')
    expect(refusalOf(replyError('ERR OOM mentioned later', 'xadd'))).toBeUndefined()
    expect(refusalOf(replyError('BUSYKEY Target key name already exists.', 'restore'))).toBeUndefined()
  })

  it('takes the key from stream, hash and sorted-set commands, never from AUTH or HELLO arguments', () => {
    const withArgs = (name: string, args: unknown[]): Error => Object.assign(new Error('WRONGTYPE x'), {command: {name, args}})
    expect(commandKeyOf(withArgs('xadd', ['orders', '*', 'data', '{}']))).toBe('orders')
    expect(commandKeyOf(withArgs('xinfo', ['STREAM', '{orders}:dlq']))).toBe('{orders}:dlq')
    expect(commandKeyOf(withArgs('hset', [Buffer.from('{orders}:retry:g'), '1-0', 'x']))).toBe('{orders}:retry:g')
    expect(commandKeyOf(withArgs('hello', ['3', 'AUTH', 'user', 'secret-arg']))).toBeUndefined()
    expect(commandKeyOf(withArgs('auth', ['secret-arg']))).toBeUndefined()
    expect(commandKeyOf(withArgs('evalsha', ['sha', '2', 'a', 'b']))).toBeUndefined()
  })
})

describe('classifyRedisError and toQctlError: every reply kind as a typed error', () => {
  it.each([
    ["OOM command not allowed when used memory > 'maxmemory'.", 'OOM', /^Redis on 127\.0\.0\.1:6390 is out of memory \(OOM; maxmemory reached.*\): free memory or raise maxmemory$/],
    ["READONLY You can't write against a read only replica.", 'READONLY', /^Redis on 127\.0\.0\.1:6390 is a read-only replica \(READONLY\): send writes to its primary$/],
    ['NOREPLICAS Not enough good replicas to write.', 'NOREPLICAS', /\(NOREPLICAS\): bring the replicas back or lower min-replicas-to-write$/],
    ['MASTERDOWN Link with MASTER is down', 'MASTERDOWN', /lost its primary \(MASTERDOWN; replica-serve-stale-data no\)/],
    ['LOADING Redis is loading the dataset in memory', 'LOADING', /is loading its dataset into memory \(LOADING\): retry when it has finished$/],
    ['BUSY Redis is busy running a script.', 'BUSY', /SCRIPT KILL or FUNCTION KILL$/],
    ['CLUSTERDOWN The cluster is down', 'CLUSTERDOWN', /Cluster that is down \(CLUSTERDOWN; /],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'TRYAGAIN', /\(TRYAGAIN; resharding\): retry in a moment$/],
    ['MISCONF Redis is configured to save RDB snapshots', 'MISCONF', /cannot persist to disk \(MISCONF; /],
    ['Command timed out', 'TIMEOUT', /^Redis at 127\.0\.0\.1:6390 did not answer in time \(--command-timeout\)$/],
  ])('%s: exit 3, one line saying which condition and what to do', (message, condition, text) => {
    const typed = classifyRedisError(replyError(message, 'xadd'), context)
    expect(typed?.code).toBe('REDIS_UNAVAILABLE')
    expect(typed?.exitCode).toBe(3)
    expect(typed?.message).toMatch(text)
    expect(typed?.message).not.toContain('\n')
    expect(typed?.details).toEqual({condition})
  })

  it('WRONGTYPE: exit 2 naming the key and what it holds', () => {
    const error = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), {command: {name: 'xinfo', args: ['STREAM', '{x}:dlq']}})
    expect(classifyRedisError(error, context, {keyType: 'string'})).toMatchObject({
      exitCode: 2,
      message: 'key "{x}:dlq" is a string, not a stream (WRONGTYPE from XINFO)',
      details: {key: '{x}:dlq', type: 'string'},
    })
    const hash = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), {command: {name: 'hset', args: ['{x}:retry:g', '1-0', 'v']}})
    expect(classifyRedisError(hash, context, {keyType: 'list'})?.message).toBe('key "{x}:retry:g" is a list, not a hash (WRONGTYPE from HSET)')
    expect(classifyRedisError(replyError('WRONGTYPE Operation against a key holding the wrong kind of value', 'evalsha'), context)?.message).toBe(
      'a key holds the wrong type of value for EVALSHA (WRONGTYPE from EVALSHA)',
    )
  })

  it('NOGROUP and a missing stream: exit 6; a stream at its last possible ID: exit 5', () => {
    const noGroup = classifyRedisError(replyError("NOGROUP No such key 't' or consumer group 'g' in XREADGROUP with GROUP option", 'xreadgroup'), context)
    expect(noGroup).toMatchObject({code: 'NOT_FOUND', exitCode: 6, message: "the stream or its consumer group does not exist: no such key 't' or consumer group 'g' in XREADGROUP with GROUP option"})
    const missing = Object.assign(new Error('ERR no such key'), {command: {name: 'xinfo', args: ['STREAM', 'gone']}})
    expect(classifyRedisError(missing, context)).toMatchObject({code: 'NOT_FOUND', exitCode: 6, message: 'stream "gone" does not exist (XINFO)'})
    const full = classifyRedisError(replyError('ERR The stream has exhausted the last possible ID, unable to add more items', 'evalsha'), context, {key: 'orders'})
    expect(full).toMatchObject({code: 'STREAM_EXHAUSTED', exitCode: 5, details: {key: 'orders'}})
    expect(full?.message).toMatch(/^stream "orders" has used up its entry IDs \(its last ID is the largest possible, 18446744073709551615-18446744073709551615\)/)
  })

  it('toQctlError: qctl errors as they are, anything unknown an internal error (exit 1) asking for a report', () => {
    const own = new QctlError('USAGE', 'bad flag')
    expect(toQctlError(own, context)).toBe(own)
    const bug = toQctlError(new TypeError("Cannot read properties of undefined (reading 'x')"), context)
    expect(bug).toMatchObject({code: 'INTERNAL', exitCode: 1})
    expect(bug.message).toBe("internal error: Cannot read properties of undefined (reading 'x'). This is a bug in qctl: please report it (run with DEBUG=qctl for details).")
    expect(toQctlError(replyError("OOM command not allowed when used memory > 'maxmemory'.", 'xadd'), context).exitCode).toBe(3)
    expect(toQctlError(replyError("OOM command not allowed when used memory > 'maxmemory'.", 'xadd'), undefined).exitCode).toBe(1)
  })
})
