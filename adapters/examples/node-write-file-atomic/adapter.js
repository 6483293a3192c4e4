#!/usr/bin/env node
'use strict'
// lifecycle check adapter (PROTOCOL.md v1) for store.js. One request per
// line on stdin, one reply per line on stdout. `--sync` drives the store's
// synchronous variant (loadSync, saveSync: writeFileAtomic.sync).

const readline = require('node:readline')
const store = require('./store')

const version = require('write-file-atomic/package.json').version
const sync = process.argv.includes('--sync')

function send (message) {
  let line
  try {
    line = JSON.stringify(message)
  } catch (err) { // e.g. a RangeError on a record nested too deep for JSON.stringify
    line = JSON.stringify({ seq: message.seq, errored: { type: err.name, message: `the reply cannot be encoded: ${err.message}`, traceback: err.stack || '' } })
  }
  process.stdout.write(line + '\n')
}

function errorReply (err) {
  if (err instanceof store.InvalidRecord) {
    return { error: { class: 'invalid_record', field: err.field ?? null, message: err.message } }
  }
  if (err && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code)) {
    return { error: { class: 'io', errno: err.code, message: err.message } }
  }
  return {
    errored: {
      type: (err && err.name) || typeof err,
      message: String(err && err.message !== undefined ? err.message : err),
      traceback: (err && err.stack) || ''
    }
  }
}

async function handle (request) {
  switch (request.cmd) {
    case 'default':
      return { result: { record: store.defaultRecord() } }
    case 'load': {
      const { record, outcome, reason } = sync ? store.loadSync(request.path) : await store.load(request.path)
      return { result: { record, outcome, reason } }
    }
    case 'save':
      if (sync) store.saveSync(request.path, request.record)
      else await store.save(request.path, request.record)
      return { result: {} }
    default:
      return { skipped: { message: `${request.cmd} is not supported: store capability only` } }
  }
}

async function main () {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    let request
    try {
      request = JSON.parse(line)
    } catch (err) {
      const match = /"seq":\s*(\d+)/.exec(line)
      const seq = match ? Number(match[1]) : 0
      if (line.includes('"cmd":"save"')) {
        // PROTOCOL.md: a record JSON.parse cannot read is one the store would refuse.
        send({ seq, error: { class: 'invalid_record', field: null, message: `JSON.parse cannot read the record: ${err.message}` } })
      } else {
        send({ seq, errored: { type: 'SyntaxError', message: `unreadable request: ${err.message}`, traceback: '' } })
      }
      continue
    }
    if (request.cmd === 'start') {
      if (request.version !== 1) {
        send({ cmd: 'start', error: 'this adapter speaks protocol version 1 only' })
        process.exit(1)
      }
      send({
        cmd: 'start',
        version: 1,
        implementation: { name: sync ? 'write-file-atomic-store (sync)' : 'write-file-atomic-store', language: 'javascript', version, homepage: 'https://github.com/npm/write-file-atomic' },
        capabilities: ['store'],
        sidecars: []
      })
      continue
    }
    if (request.cmd === 'stop') process.exit(0)
    let reply
    try {
      reply = await handle(request)
    } catch (err) {
      reply = errorReply(err)
    }
    send({ seq: request.seq, ...reply })
  }
  process.exit(0)
}

main()
