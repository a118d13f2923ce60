import {describe, expect, it} from 'vitest'

import {classifyRedisError, isPermissionDenied} from '../../src/core/redis/redis-errors.js'

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
