// Deterministic NDJSON test data: order-like records of ~200 bytes with varied content.
// Generated once per size and cached (atomically, via rename) in bench/.data/, which is not
// committed. Bump GENERATOR_VERSION when the record shape changes.
import {createWriteStream} from 'node:fs'
import {mkdir, rename, rm, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {once} from 'node:events'

const GENERATOR_VERSION = 1
const TARGET_BYTES = 200

/** mulberry32: a tiny seeded PRNG, so every machine benchmarks the same bytes. */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ['express', 'gift wrap', 'leave at door', 'fragile', 'call first', 'no invoice', 'weekend', 'reorder', 'über-fast', 'café', 'priority', 'backorder ok']
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '
const BASE_TS = Date.UTC(2025, 0, 1)

/** One record as a JSON line (no newline), about TARGET_BYTES ± 10 bytes. */
export function makeRecord(index, random) {
  const itemCount = random() < 0.6 ? 1 : 2
  const items = []
  let total = 0
  for (let i = 0; i < itemCount; i++) {
    const qty = 1 + Math.floor(random() * 5)
    const price = Math.round(random() * 20000) / 100
    total += qty * price
    items.push({sku: `SKU-${String(Math.floor(random() * 100000)).padStart(5, '0')}`, qty, price})
  }
  const record = {
    orderId: 1_000_000 + index,
    customer: {id: `c-${String(Math.floor(random() * 50000)).padStart(5, '0')}`},
    items,
    total: Math.round(total * 100) / 100,
    currency: 'EUR',
    ts: new Date(BASE_TS + index * 37 + Math.floor(random() * 1000)).toISOString(),
  }
  let line = JSON.stringify(record)
  const want = TARGET_BYTES - 10 + Math.floor(random() * 21)
  const room = want - Buffer.byteLength(line) - ',"note":""'.length
  if (room > 0) {
    let note = WORDS[Math.floor(random() * WORDS.length)]
    while (note.length < room) note += ALPHABET[Math.floor(random() * ALPHABET.length)]
    record.note = note.slice(0, room)
    line = JSON.stringify(record)
  }
  return line
}

/**
 * Path of an NDJSON file of `lines` records, generating it if it is not cached yet.
 * Returns {path, lines, bytes, generated}.
 */
export async function ensureNdjson(dataDir, lines, log = () => {}) {
  return ensureGenerated(dataDir, `orders-v${GENERATOR_VERSION}-${lines}`, lines, 0x9e3779b9, makeRecord, log)
}

/**
 * The cached file `<name>.ndjson` in dataDir of `lines` records, `recordOf(index, random)` each
 * (random: a PRNG seeded with `seed ^ lines`), written on first use to a partial file renamed into
 * place, so a run cut short never leaves half a file behind. Returns {path, lines, bytes, generated}.
 */
export async function ensureGenerated(dataDir, name, lines, seed, recordOf, log = () => {}) {
  await mkdir(dataDir, {recursive: true})
  const path = join(dataDir, `${name}.ndjson`)
  try {
    const info = await stat(path)
    return {path, lines, bytes: info.size, generated: false}
  } catch {
    // not cached yet
  }
  log(`generating ${lines.toLocaleString('en-US')} records -> ${path}`)
  const started = Date.now()
  const partial = `${path}.${process.pid}.partial`
  const out = createWriteStream(partial)
  const random = prng(seed ^ lines)
  try {
    let batch = []
    for (let index = 0; index < lines; index++) {
      batch.push(recordOf(index, random))
      if (batch.length === 10_000 || index === lines - 1) {
        if (!out.write(`${batch.join('\n')}\n`)) await once(out, 'drain')
        batch = []
      }
    }
    out.end()
    await once(out, 'finish')
    await rename(partial, path)
  } catch (error) {
    out.destroy()
    await rm(partial, {force: true})
    throw error
  }
  const info = await stat(path)
  log(`generated ${(info.size / 1024 / 1024).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return {path, lines, bytes: info.size, generated: true}
}
