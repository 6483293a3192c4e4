'use strict'
// A lifecycle_state.json store (requirements.md §1-§3) on write-file-atomic,
// written the way that package's users write it: validate, JSON.stringify,
// mkdir -p, writeFileAtomic(path, data, { mode: 0o600 }).

const fs = require('node:fs/promises')
const fsSync = require('node:fs')
const path = require('node:path')
const writeFileAtomic = require('write-file-atomic')

const STATES = ['WAKE', 'DROWSY', 'SLEEP', 'HIBERNATION']
const MAX_BYTES = 1024 * 1024
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$/

class InvalidRecord extends Error {
  constructor (field, message) {
    super(field ? `${field}: ${message}` : message)
    this.name = 'InvalidRecord'
    this.field = field
  }
}

function isTimestamp (value) {
  return typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value))
}

function isCount (value) {
  return Number.isSafeInteger(value) && value >= 0
}

function isObject (value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function validate (record) {
  if (!isObject(record)) throw new InvalidRecord(null, 'the record must be an object')
  if (!STATES.includes(record.current_state)) {
    throw new InvalidRecord('current_state', `must be one of ${STATES.join(', ')}`)
  }
  for (const key of ['since_ts', 'last_activity_ts']) {
    if (!isTimestamp(record[key])) throw new InvalidRecord(key, 'must be an RFC 3339 UTC timestamp')
  }
  if (!isCount(record.wrapper_event_seq)) {
    throw new InvalidRecord('wrapper_event_seq', 'must be an integer in 0..2^53-1')
  }
  if (typeof record.shadow_run !== 'boolean') throw new InvalidRecord('shadow_run', 'must be a boolean')

  const progress = record.sleep_cycle_progress
  if (progress != null) {
    if (!isObject(progress)) throw new InvalidRecord('sleep_cycle_progress', 'must be an object or null')
    for (const key of ['last_completed_step', 'attempt']) {
      if (key in progress && !isCount(progress[key])) {
        throw new InvalidRecord(`sleep_cycle_progress.${key}`, 'must be an integer in 0..2^53-1')
      }
    }
    if ('last_error' in progress && progress.last_error !== null && typeof progress.last_error !== 'string') {
      throw new InvalidRecord('sleep_cycle_progress.last_error', 'must be a string or null')
    }
    if ('started_at' in progress && !isTimestamp(progress.started_at)) {
      throw new InvalidRecord('sleep_cycle_progress.started_at', 'must be an RFC 3339 UTC timestamp')
    }
  }

  const quarantine = record.quarantine
  if (quarantine != null) {
    if (!isObject(quarantine)) throw new InvalidRecord('quarantine', 'must be an object or null')
    for (const key of ['until_ts', 'since_ts']) {
      if (!isTimestamp(quarantine[key])) throw new InvalidRecord(`quarantine.${key}`, 'must be an RFC 3339 UTC timestamp')
    }
    if (typeof quarantine.reason !== 'string') throw new InvalidRecord('quarantine.reason', 'must be a string')
  }
}

function defaultRecord () {
  const now = new Date().toISOString()
  return {
    current_state: 'WAKE',
    since_ts: now,
    last_activity_ts: now,
    wrapper_event_seq: 0,
    sleep_cycle_progress: null,
    quarantine: null,
    shadow_run: false
  }
}

function fromFileError (err) {
  const outcome = err.code === 'ENOENT' ? 'missing' : 'unreadable'
  return { record: defaultRecord(), outcome, reason: err.message }
}

// Never throws: { record, outcome: 'valid' | 'missing' | 'corrupt' | 'unreadable', reason }.
async function load (file) {
  let text
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    return fromFileError(err)
  }
  return parse(text)
}

// load, with the synchronous calls (as configstore and other CLIs do).
function loadSync (file) {
  let text
  try {
    text = fsSync.readFileSync(file, 'utf8')
  } catch (err) {
    return fromFileError(err)
  }
  return parse(text)
}

function parse (text) {
  try {
    if (Buffer.byteLength(text) > MAX_BYTES) throw new Error('larger than 1 MiB')
    const record = JSON.parse(text)
    validate(record)
    return {
      record: { sleep_cycle_progress: null, quarantine: null, ...record },
      outcome: 'valid'
    }
  } catch (err) {
    return { record: defaultRecord(), outcome: 'corrupt', reason: err.message }
  }
}

function serialize (record) {
  validate(record)
  const data = JSON.stringify(record) + '\n'
  if (Buffer.byteLength(data) > MAX_BYTES) throw new InvalidRecord(null, 'the record is larger than 1 MiB')
  return data
}

async function save (file, record) {
  const data = serialize(record)
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  await writeFileAtomic(file, data, { mode: 0o600 })
}

// save, with writeFileAtomic.sync (as configstore and other CLIs do).
function saveSync (file, record) {
  const data = serialize(record)
  fsSync.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  writeFileAtomic.sync(file, data, { mode: 0o600 })
}

module.exports = { defaultRecord, load, loadSync, save, saveSync, validate, InvalidRecord }
