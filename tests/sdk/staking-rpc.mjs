#!/usr/bin/env node
// A fake Lit chain RPC for the node-set discovery tests.
//
// The Lit JS SDK learns a network's nodes from the chain: it calls
// `Staking.getActiveUnkickedValidatorStructsAndCounts` with `eth_call` and turns each validator's
// big-endian uint32 `ip` and `port` into `https://<ip>:<port>`. On Naga it passes a `realmId`
// (1 in the SDK's envs). Our Rust tests run this server as a child process and point
// the discovery code at it. They control the answer through a state file.
//
// The v8 SDK (Naga) then asks `PriceFeed.getNodesForRequest(realmId, productIds)` which of those nodes to
// pay and what each charges per product; this server answers that too, with the same validators.
//
// The ABI is not written by hand here. It is the `Staking` entry of the pinned `@lit-protocol/contracts`
// 0.9.1 package: node_modules/@lit-protocol/contracts/dist/prod/datil.json (Datil, no argument, 5-field Epoch,
// 7-field Validator) and dist/prod/naga.json (Naga, `uint256 realmId`, 9-field Epoch, 18-field Validator), and
// naga.json's `PriceFeed` entry. ethers 5.7.2 `utils.Interface` encodes every answer with
// `encodeFunctionResult`. The same Interface decodes and checks the call data.
//
// Usage:
//   node staking-rpc.mjs --generation datil|naga --state FILE [--port 0] [--exit-on-stdin-eof]
//       Listens on 127.0.0.1 (port 0 = any free port). When ready, it prints one line to stdout:
//       {"url":"http://127.0.0.1:PORT","staking":"0x…","chainId":N}. After that it writes nothing more to
//       stdout; problems with the state file go to stderr.
//   node staking-rpc.mjs --selftest
//       Runs both generations against ethers' own Contract, and Naga also through viem and the v8 SDK's result schema.
//       Ends with "staking-rpc selftest: N checks passed". Exits 1 if any check fails.
//
// The state file is read again on every request. To change the answer between two calls, a test rewrites
// it atomically (write a temp file, then rename). Every field is optional:
//   {
//     "staking": "0x…",        the Staking address eth_call answers for (default: the package's address)
//     "priceFeed": "0x…",      Naga: the PriceFeed address eth_call answers for (default: the package's address)
//     "chainId": 175188,       eth_chainId / net_version (default: the package's config.chainId)
//     "realm": 1,              Naga: the realmId that the call must pass (default 1). Datil ignores it.
//     "epoch": 7,              Epoch.number (default 1). The other Epoch fields are derived from it.
//     "minNodeCount": 2,       (default 2)
//     "validators": [{"ip": "127.0.0.1", "port": 7470}, …],   (default []). Any other Validator field of the
//                              ABI can be set by name; unset fields get deterministic values (derived from the index).
//     "epochInfo": {"endTime": 1767225900},   optional: sets Epoch fields by their ABI names
//     "prices": ["10000000000000000", …],    Naga: every node's price in wei of product id 0, 1, 2, 3…
//                              (decimal strings or integers); ids not listed cost 10^16 (the default)
//     "mode": "ok"             ok | empty | malformed | revert | http500 | hang
//   }
// Modes:
//   - `empty`, `malformed` and `revert` change only the answer to a valid eth_call (Staking or PriceFeed):
//     - `empty`: a valid answer with no validators (no nodes and prices).
//     - `malformed`: a truncated hex result that is not valid ABI for the outputs.
//     - `revert`: the error {code: 3, message: "execution reverted", data: "0x"}, as geth sends it.
//   - `http500` and `hang` take the whole endpoint down; GET /calls still answers.
//     - `http500`: an HTTP 500 with a text body.
//     - `hang`: no answer at all.
// JSON-RPC:
//   - Methods: `eth_call`, `eth_chainId` and `net_version`. Any other method gets -32601.
//   - Batches are accepted.
//   - An eth_call that does not call getActiveUnkickedValidatorStructsAndCounts on the configured Staking
//     address (or, on Naga, getNodesForRequest on the PriceFeed address) gets -32602 with the reason. This
//     covers a wrong `to`, a wrong selector, a wrong realm and non-canonical call data.
//   - A state file that cannot be read gets -32603 with the reason.
// GET /calls answers {"eth_call": N, "total": M}: the JSON-RPC calls received so far. Each call in a batch
// counts once, whatever the mode.

import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { ethers } = require('ethers');

const FUNCTION = 'getActiveUnkickedValidatorStructsAndCounts';
const MODES = ['ok', 'empty', 'malformed', 'revert', 'http500', 'hang'];
const STATE_KEYS = ['staking', 'priceFeed', 'chainId', 'realm', 'epoch', 'minNodeCount', 'validators', 'epochInfo', 'prices', 'mode'];
const PRICE_FUNCTION = 'getNodesForRequest';
const DEFAULT_PRICE = 10n ** 16n; // wei, per product
const EPOCH_LENGTH = 300; // seconds; Lit's main nets use 300 s epochs
const EPOCH_ZERO_END = 1_767_225_600; // 2026-01-01T00:00:00Z: a fixed base, so endTime is deterministic
const MAX_BODY = 1 << 20;

// ---------------------------------------------------------------- the ABI, from @lit-protocol/contracts

/** The package file holding each generation's main net. `realmArg`: whether the call takes `uint256 realmId`. */
const GENERATIONS = {
  datil: { file: 'datil.json', realmArg: false },
  naga: { file: 'naga.json', realmArg: true },
};

/**
 * Loads `<package>/dist/prod/<net>.json` and returns the Staking contract it describes.
 * The package's `exports` map does not list the .json files, so this reads the file by path, next to the
 * package's resolved entry point (dist/index.cjs).
 */
function loadStaking(generation) {
  const gen = GENERATIONS[generation];
  if (!gen) throw new Error(`unknown generation ${JSON.stringify(generation)} (datil | naga)`);
  const dist = path.dirname(require.resolve('@lit-protocol/contracts'));
  const file = path.join(dist, 'prod', gen.file);
  const net = JSON.parse(fs.readFileSync(file, 'utf8'));
  const staking = net.data.find((d) => d.name === 'Staking')?.contracts?.[0];
  if (!staking) throw new Error(`${file}: no Staking contract`);
  const iface = new ethers.utils.Interface(staking.ABI);
  const fn = iface.getFunction(FUNCTION);
  const expectedInputs = gen.realmArg ? ['uint256'] : [];
  if (fn.inputs.map((p) => p.type).join() !== expectedInputs.join()) {
    throw new Error(`${file}: ${FUNCTION}(${fn.inputs.map((p) => p.type)}) is not (${expectedInputs})`);
  }
  return {
    generation,
    file,
    abi: staking.ABI,
    iface,
    fn,
    realmArg: gen.realmArg,
    address: ethers.utils.getAddress(staking.address_hash),
    chainId: Number(net.config.chainId),
    priceFeed: gen.realmArg ? loadPriceFeed(net, file) : null,
  };
}

/** Naga's PriceFeed: its address and `getNodesForRequest(uint256 realmId, uint256[] productIds)`. */
function loadPriceFeed(net, file) {
  const feed = net.data.find((d) => d.name === 'PriceFeed')?.contracts?.[0];
  if (!feed) throw new Error(`${file}: no PriceFeed contract`);
  const iface = new ethers.utils.Interface(feed.ABI);
  const fn = iface.getFunction(PRICE_FUNCTION);
  if (fn.inputs.map((p) => p.type).join() !== 'uint256,uint256[]') {
    throw new Error(`${file}: ${PRICE_FUNCTION}(${fn.inputs.map((p) => p.type)}) is not (uint256,uint256[])`);
  }
  return { abi: feed.ABI, iface, fn, address: ethers.utils.getAddress(feed.address_hash) };
}

// ---------------------------------------------------------------- the state file

/** Parses and checks the state file. Throws a message naming the bad field. */
function readState(statePath, staking) {
  const raw = JSON.parse(fs.readFileSync(statePath, 'utf8'));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
  for (const key of Object.keys(raw)) {
    if (!STATE_KEYS.includes(key)) throw new Error(`unknown field ${JSON.stringify(key)}`);
  }
  if (!staking.priceFeed) {
    for (const key of ['priceFeed', 'prices']) {
      if (key in raw) throw new Error(`${key}: ${staking.generation} has no PriceFeed`);
    }
  }
  const state = {
    staking: staking.address,
    priceFeed: staking.priceFeed?.address,
    chainId: staking.chainId,
    realm: 1,
    epoch: 1,
    minNodeCount: 2,
    validators: [],
    epochInfo: {},
    prices: [],
    mode: 'ok',
    ...raw,
  };
  if (!ethers.utils.isAddress(state.staking)) throw new Error(`staking: not an address: ${state.staking}`);
  state.staking = ethers.utils.getAddress(state.staking);
  if (staking.priceFeed) {
    if (!ethers.utils.isAddress(state.priceFeed)) throw new Error(`priceFeed: not an address: ${state.priceFeed}`);
    state.priceFeed = ethers.utils.getAddress(state.priceFeed);
    if (state.priceFeed === state.staking) throw new Error('priceFeed: the same address as staking');
  }
  if (!Array.isArray(state.prices)) throw new Error('prices: not an array');
  state.prices = state.prices.map((p, i) => {
    const ok = (Number.isSafeInteger(p) && p >= 0) || (typeof p === 'string' && /^\d+$/.test(p));
    if (!ok) throw new Error(`prices[${i}]: not a non-negative integer (or decimal string)`);
    const wei = BigInt(p);
    if (wei >= 2n ** 256n) throw new Error(`prices[${i}]: over uint256`);
    return wei;
  });
  for (const key of ['chainId', 'realm', 'epoch', 'minNodeCount']) {
    if (!Number.isSafeInteger(state[key]) || state[key] < 0) throw new Error(`${key}: not a non-negative integer`);
  }
  if (!MODES.includes(state.mode))
    throw new Error(`mode: ${JSON.stringify(state.mode)} is not one of ${MODES.join(' | ')}`);
  if (!Array.isArray(state.validators)) throw new Error('validators: not an array');
  state.validators.forEach((v, i) => {
    if (v === null || typeof v !== 'object') throw new Error(`validators[${i}]: not an object`);
    ipv4ToUint32(v.ip, `validators[${i}].ip`);
    if (!Number.isInteger(v.port) || v.port < 0 || v.port > 65535) throw new Error(`validators[${i}].port: not a port`);
    checkFieldNames(v, tupleComponents(staking, 2), `validators[${i}]`);
  });
  checkFieldNames(state.epochInfo, tupleComponents(staking, 0), 'epochInfo');
  return state;
}

/** `a.b.c.d` → the big-endian uint32 that the Staking contract stores (the inverse of the SDK's `intToIP`). */
function ipv4ToUint32(ip, what) {
  const octets = typeof ip === 'string' ? ip.split('.') : [];
  if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) {
    throw new Error(`${what}: not a dotted IPv4 address: ${JSON.stringify(ip)}`);
  }
  return octets.reduce((n, o) => n * 256 + Number(o), 0);
}

function checkFieldNames(obj, components, what) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${what}: not an object`);
  const names = components.map((c) => c.name);
  for (const key of Object.keys(obj)) {
    if (!names.includes(key)) throw new Error(`${what}.${key}: not a field of this generation's ABI`);
  }
}

/** The named fields of output `index` (0: the Epoch tuple, 2: the Validator[] tuple). */
function tupleComponents(staking, index) {
  const out = staking.fn.outputs[index];
  return (out.baseType === 'array' ? out.arrayChildren : out).components;
}

// ---------------------------------------------------------------- the answer, ABI-encoded by ethers

/**
 * Values for the Epoch fields, by ABI name. Only `number` comes from the state file. The times
 * are consistent: `endTime - epochLength` is when the epoch started, which is how the SDK computes it.
 */
function epochDefaults(state) {
  const endTime = EPOCH_ZERO_END + state.epoch * EPOCH_LENGTH;
  return {
    epochLength: EPOCH_LENGTH,
    number: state.epoch,
    rewardEpochNumber: state.epoch,
    nextRewardEpochNumber: state.epoch + 1,
    endTime,
    retries: 0,
    timeout: 60,
    startTime: endTime - EPOCH_LENGTH,
    lastAdvanceVoteTime: endTime - EPOCH_LENGTH,
  };
}

/** 32 bytes derived from a tag and a validator index. Keys and addresses are stable from run to run. */
function derive(tag, index) {
  return ethers.utils.keccak256(ethers.utils.toUtf8Bytes(`staking-rpc/${tag}/${index}`));
}

function deriveAddress(tag, index) {
  return ethers.utils.getAddress(ethers.utils.hexDataSlice(derive(tag, index), 12));
}

/** Values for the Validator fields, by ABI name; `v` is the state file's entry (ip, port, overrides). */
function validatorDefaults(state, v, index) {
  return {
    ip: ipv4ToUint32(v.ip, 'ip'),
    ipv6: 0,
    port: v.port,
    nodeAddress: deriveAddress('nodeAddress', index),
    reward: 0,
    senderPubKey: derive('senderPubKey', index),
    receiverPubKey: derive('receiverPubKey', index),
    lastActiveEpoch: state.epoch,
    commissionRate: 0,
    lastRewardEpoch: state.epoch,
    lastRealmId: state.realm,
    delegatedStakeAmount: 0,
    delegatedStakeWeight: 0,
    lastRewardEpochClaimedFixedCostRewards: 0,
    lastRewardEpochClaimedCommission: 0,
    operatorAddress: deriveAddress('operatorAddress', index),
    uniqueDelegatingStakerCount: 0,
    registerAttestedWalletDisabled: false,
  };
}

/**
 * Orders `values` as the ABI's `components` list them. An ABI field with no value is an error, so a
 * package upgrade that adds a field fails loudly here instead of being encoded as zero.
 */
function asTuple(components, values, what) {
  return components.map((c) => {
    if (!(c.name in values)) throw new Error(`${what}.${c.name}: no value for this ABI field`);
    return values[c.name];
  });
}

/** The listed validators as ABI tuples (`empty`: none). */
function validatorTuples(staking, state) {
  const listed = state.mode === 'empty' ? [] : state.validators;
  return listed.map((v, i) => {
    const { ip: _ip, port: _port, ...overrides } = v;
    return asTuple(tupleComponents(staking, 2), { ...validatorDefaults(state, v, i), ...overrides }, 'Validator');
  });
}

/**
 * The eth_call result as ethers encodes it from the package's ABI, for `call` (what `checkCall` returns).
 * Staking: (Epoch, minNodeCount, Validator[]). PriceFeed: (epochId, minNodeCount, (Validator, prices)[]), each
 * node's `prices` one per asked product id, in the order asked. `empty` drops the validators.
 */
function encodeAnswer(staking, state, call) {
  const validators = validatorTuples(staking, state);
  if (call.contract === 'priceFeed') {
    const prices = call.productIds.map((id) => (id.lt(state.prices.length) ? state.prices[id.toNumber()] : DEFAULT_PRICE));
    const nodes = validators.map((validator) => [validator, prices]);
    return staking.priceFeed.iface.encodeFunctionResult(staking.priceFeed.fn, [state.epoch, state.minNodeCount, nodes]);
  }
  const epoch = asTuple(tupleComponents(staking, 0), { ...epochDefaults(state), ...state.epochInfo }, 'Epoch');
  return staking.iface.encodeFunctionResult(staking.fn, [epoch, state.minNodeCount, validators]);
}

/**
 * A well-formed answer cut before the validator array's offset word. Every decoder needs that word, so it
 * cannot decode the result. This function checks that with ethers before it returns the result.
 */
function malformedAnswer(staking, state, call) {
  const full = encodeAnswer(staking, { ...state, mode: 'ok' }, call);
  const [iface, fn, headWords] =
    call.contract === 'priceFeed'
      ? [staking.priceFeed.iface, staking.priceFeed.fn, 2] // epochId, minNodeCount
      : [staking.iface, staking.fn, tupleComponents(staking, 0).length + 1]; // the static Epoch tuple, minNodeCount
  const cut = ethers.utils.hexDataSlice(full, 0, headWords * 32 - 7); // also not a whole number of words
  try {
    iface.decodeFunctionResult(fn, cut);
  } catch {
    return cut;
  }
  throw new Error('internal: the malformed answer still decodes');
}

// ---------------------------------------------------------------- JSON-RPC

/** A JSON-RPC error. `data` is included only when it is given. */
class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/**
 * Checks that `params` call `FUNCTION` on the configured Staking address, or on Naga `PRICE_FUNCTION` on the
 * configured PriceFeed address, with canonical call data and the configured realm. Returns
 * `{contract: 'staking'}` or `{contract: 'priceFeed', productIds}`. Throws RpcError -32602 with the reason
 * otherwise.
 */
function checkCall(staking, state, params) {
  const invalid = (why) => new RpcError(-32602, `staking-rpc: ${why}`);
  if (!Array.isArray(params) || params.length < 1 || params.length > 3)
    throw invalid('params must be [{to, data}, blockTag]');
  const tx = params[0];
  if (tx === null || typeof tx !== 'object') throw invalid('params[0] is not a call object');
  // ethers 5 and viem send `data`; newer clients (alloy) send `input`, or both.
  if (
    tx.data !== undefined &&
    tx.input !== undefined &&
    String(tx.data).toLowerCase() !== String(tx.input).toLowerCase()
  ) {
    throw invalid('`data` and `input` differ');
  }
  const data = tx.input ?? tx.data;
  if (typeof tx.to !== 'string' || !ethers.utils.isAddress(tx.to))
    throw invalid(`\`to\` is not an address: ${JSON.stringify(tx.to)}`);
  const to = ethers.utils.getAddress(tx.to);
  const contract = to === state.staking ? 'staking' : staking.priceFeed && to === state.priceFeed ? 'priceFeed' : null;
  if (!contract) {
    throw invalid(
      `eth_call to ${tx.to}, but Staking is ${state.staking}` + (staking.priceFeed ? ` and PriceFeed is ${state.priceFeed}` : ''),
    );
  }
  const [iface, fn, name] =
    contract === 'staking' ? [staking.iface, staking.fn, FUNCTION] : [staking.priceFeed.iface, staking.priceFeed.fn, PRICE_FUNCTION];
  if (typeof data !== 'string' || !ethers.utils.isHexString(data) || data.length % 2 !== 0)
    throw invalid('call data is not hex bytes');
  const selector = iface.getSighash(fn);
  if (data.slice(0, 10).toLowerCase() !== selector) {
    throw invalid(`selector ${data.slice(0, 10)} is not ${name} (${selector})`);
  }
  let args;
  try {
    args = iface.decodeFunctionData(fn, data);
  } catch (e) {
    throw invalid(`call data does not decode: ${e.reason ?? e.message}`);
  }
  if (iface.encodeFunctionData(fn, args) !== data.toLowerCase()) throw invalid('call data is not canonical');
  if (staking.realmArg && !args[0].eq(state.realm)) throw invalid(`realmId ${args[0]} is not ${state.realm}`);
  if (contract === 'staking') return { contract };
  if (args[1].some((id) => id.gte(2n ** 32n))) throw invalid('a product id over 2^32');
  return { contract, productIds: args[1] };
}

/** Answers one JSON-RPC request object; returns the response object. */
function answerOne(staking, state, request) {
  const id = request && typeof request === 'object' && 'id' in request ? request.id : null;
  try {
    if (
      request === null ||
      typeof request !== 'object' ||
      Array.isArray(request) ||
      typeof request.method !== 'string'
    ) {
      throw new RpcError(-32600, 'invalid request');
    }
    if (state instanceof Error) throw new RpcError(-32603, `staking-rpc: state file: ${state.message}`);
    let result;
    switch (request.method) {
      case 'eth_chainId':
        result = ethers.utils.hexValue(state.chainId);
        break;
      case 'net_version':
        result = String(state.chainId);
        break;
      case 'eth_call': {
        const call = checkCall(staking, state, request.params);
        if (state.mode === 'revert') throw new RpcError(3, 'execution reverted', '0x');
        result = state.mode === 'malformed' ? malformedAnswer(staking, state, call) : encodeAnswer(staking, state, call);
        break;
      }
      default:
        throw new RpcError(-32601, `method ${request.method} not found`);
    }
    return { jsonrpc: '2.0', id, result };
  } catch (e) {
    if (!(e instanceof RpcError)) {
      process.stderr.write(`staking-rpc: ${e.stack ?? e}\n`);
      e = new RpcError(-32603, `staking-rpc: ${e.message}`);
    }
    const error = { code: e.code, message: e.message };
    if (e.data !== undefined) error.data = e.data;
    return { jsonrpc: '2.0', id, error };
  }
}

// ---------------------------------------------------------------- HTTP transport

/**
 * Starts the server. Resolves to `{ url, staking, chainId, port, counts, close }`. `staking` and `chainId`
 * come from the state file at start; `counts` is the live object that GET /calls shows.
 */
export async function startStakingRpc({ generation, statePath, port = 0 }) {
  const staking = loadStaking(generation);
  const initial = readState(statePath, staking); // a bad state file fails the start, not the first call
  const counts = { eth_call: 0, total: 0 };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/calls') {
      return send(res, 200, JSON.stringify(counts));
    }
    if (req.method !== 'POST') return send(res, 404, JSON.stringify({ error: 'POST JSON-RPC, or GET /calls' }));
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined; // answered with -32700 below, unless the mode takes the endpoint down
      }
      const requests = body === undefined ? [null] : Array.isArray(body) ? body : [body];
      counts.total += requests.length;
      counts.eth_call += requests.filter((r) => r?.method === 'eth_call').length;

      let state;
      try {
        state = readState(statePath, staking);
      } catch (e) {
        process.stderr.write(`staking-rpc: state file ${statePath}: ${e.message}\n`);
        state = e;
      }
      if (state.mode === 'hang') return; // the socket stays open until the client gives up
      if (state.mode === 'http500') return send(res, 500, 'staking-rpc: mode http500\n', 'text/plain');
      if (body === undefined) {
        return sendJson(res, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
      }
      if (Array.isArray(body) && body.length === 0) {
        return sendJson(res, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } });
      }
      const answers = requests.map((r) => answerOne(staking, state, r));
      sendJson(res, Array.isArray(body) ? answers : answers[0]);
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = server.address().port;
  return {
    url: `http://127.0.0.1:${bound}`,
    staking: initial.staking,
    chainId: initial.chainId,
    port: bound,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections(); // also ends the requests that `hang` left open
        server.close(() => resolve());
      }),
  };
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res, value) {
  send(res, 200, JSON.stringify(value));
}

// ---------------------------------------------------------------- CLI

function parseArgs(argv) {
  const args = { port: 0, selftest: false, exitOnStdinEof: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    if (flag === '--generation') args.generation = value();
    else if (flag === '--state') args.statePath = value();
    else if (flag === '--port') args.port = Number(value());
    else if (flag === '--selftest') args.selftest = true;
    else if (flag === '--exit-on-stdin-eof') args.exitOnStdinEof = true;
    else throw new Error(`unknown argument ${flag}`);
  }
  if (!args.selftest) {
    if (!GENERATIONS[args.generation]) throw new Error('--generation datil|naga is required');
    if (!args.statePath) throw new Error('--state FILE is required');
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error('--port: not a port');
  }
  return args;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(
      `staking-rpc: ${e.message}\nusage: node staking-rpc.mjs --generation datil|naga --state FILE [--port 0] [--exit-on-stdin-eof]\n` +
        '       node staking-rpc.mjs --selftest\n',
    );
    process.exit(2);
  }
  if (args.selftest) process.exit((await selftest()) ? 0 : 1);

  let rpc;
  try {
    rpc = await startStakingRpc(args);
  } catch (e) {
    process.stderr.write(`staking-rpc: ${e.message}\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify({ url: rpc.url, staking: rpc.staking, chainId: rpc.chainId }) + '\n');
  // Opt-in: a parent that holds our stdin open can end us by closing it, even when it dies before it can kill us.
  if (args.exitOnStdinEof) {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
}

// ---------------------------------------------------------------- self-test

/**
 * Runs both generations through ethers' Contract, and Naga through viem and the v8 SDK's result schema.
 * Also checks every refusal, every mode, batches, GET /calls and the CLI's ready line.
 * Returns true when all checks passed.
 */
export async function selftest() {
  const { createPublicClient, http } = require('viem');
  const nwDir = path.dirname(require.resolve('@lit-protocol/networks/package.json'));
  const sdk = (rel) => require(path.join(nwDir, 'src/networks', rel));
  const { generateValidatorURLs } = sdk('shared/utils/transformers.js');
  const { GetActiveUnkickedValidatorStructsAndCountsSchema } = sdk(
    'vNaga/shared/managers/LitChainClient/schemas/GetActiveUnkickedValidatorStructsAndCountsSchema.js',
  );
  // How the SDK turns validators into node URLs: generateValidatorURLs, then its https:// httpProtocol.
  const sdkUrls = (validators) =>
    generateValidatorURLs(validators.map(({ ip, port }) => ({ ip, port }))).map((u) => 'https://' + u);

  let passed = 0;
  let failed = 0;
  const check = (name, cond, detail = '') => {
    if (cond) passed++;
    else failed++;
    console.log(`${cond ? 'ok    ' : 'FAILED'} ${name}${!cond && detail ? ': ' + detail : ''}`);
  };
  // The error that `action` (a promise, or a function to run) ends with; null when it succeeds.
  const rejects = async (action) => {
    try {
      await (typeof action === 'function' ? action() : action);
      return null;
    } catch (e) {
      return e;
    }
  };
  const rpc = async (url, body, timeoutMs = 5000) => {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, text, json };
  };

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'staking-rpc-'));
  const statePath = path.join(work, 'state.json');
  const writeState = (state) => {
    fs.writeFileSync(statePath + '.tmp', JSON.stringify(state));
    fs.renameSync(statePath + '.tmp', statePath);
  };
  // 203.0.113.250 has the top bit set, so it checks that the uint32 is treated as unsigned.
  const validators = [
    { ip: '127.0.0.1', port: 7470 },
    { ip: '203.0.113.250', port: 443 },
    { ip: '10.0.0.3', port: 7472 },
  ];
  const expectedUrls = ['https://127.0.0.1:7470', 'https://203.0.113.250:443', 'https://10.0.0.3:7472'];
  const guard = setTimeout(() => {
    console.log('FAILED selftest did not finish within 60 s');
    process.exit(1);
  }, 60_000);
  guard.unref();

  try {
    for (const generation of ['datil', 'naga']) {
      const pkg = loadStaking(generation);
      const address = '0x' + '5a'.repeat(20); // not the package's, so the `staking` field is exercised
      const realm = generation === 'naga' ? 2 : 1;
      const base = { staking: address, chainId: 31337, realm, epoch: 7, minNodeCount: 2, validators, mode: 'ok' };
      writeState(base);
      const server = await startStakingRpc({ generation, statePath });
      const g = (name) => `${generation}: ${name}`;
      try {
        const provider = new ethers.providers.StaticJsonRpcProvider(
          { url: server.url, timeout: 500 },
          { chainId: 31337, name: 'staking-rpc' },
        );
        const contract = new ethers.Contract(server.staking, pkg.abi, provider);
        const callArgs = pkg.realmArg ? [realm] : [];
        const read = () => contract[FUNCTION](...callArgs);

        check(
          g('ABI from the package'),
          pkg.file.endsWith(path.join('@lit-protocol', 'contracts', 'dist', 'prod', `${generation}.json`)),
          pkg.file,
        );
        check(
          g("server answers for the state file's staking address"),
          server.staking === ethers.utils.getAddress(address),
        );
        check(
          g('field counts'),
          tupleComponents(pkg, 0).length === (pkg.realmArg ? 9 : 5) &&
            tupleComponents(pkg, 2).length === (pkg.realmArg ? 18 : 7),
        );

        // ok, through ethers' Contract
        const [epoch, minNodeCount, vals] = await read();
        check(g('epoch number'), epoch.number.eq(7), String(epoch.number));
        check(
          g('epoch start = endTime - epochLength'),
          epoch.endTime.sub(epoch.epochLength).eq(EPOCH_ZERO_END + 6 * EPOCH_LENGTH),
        );
        check(g('minNodeCount'), minNodeCount.eq(2));
        check(
          g('node URLs as the SDK makes them'),
          JSON.stringify(sdkUrls(vals)) === JSON.stringify(expectedUrls),
          JSON.stringify(sdkUrls(vals)),
        );
        check(g('ports'), vals.map((v) => v.port).join() === '7470,443,7472');
        check(
          g('distinct checksummed node addresses'),
          new Set(vals.map((v) => v.nodeAddress)).size === 3 &&
            vals.every((v) => v.nodeAddress === ethers.utils.getAddress(v.nodeAddress)),
        );
        check(g('deterministic node address'), vals[1].nodeAddress === deriveAddress('nodeAddress', 1));
        if (pkg.realmArg)
          check(
            g('lastRealmId is the realm'),
            vals.every((v) => v.lastRealmId.eq(realm)),
          );

        // ok, through viem (what the v8 SDK reads with) and the v8 SDK's own result schema
        if (generation === 'naga') {
          const client = createPublicClient({ transport: http(server.url, { retryCount: 0 }) });
          const raw = await client.readContract({
            address: server.staking,
            abi: pkg.abi,
            functionName: FUNCTION,
            args: [BigInt(realm)],
          });
          const parsed = GetActiveUnkickedValidatorStructsAndCountsSchema.parse(raw);
          check(g('viem + SDK schema: epoch'), parsed.epochInfo.number === 7);
          check(
            g('viem + SDK schema: node URLs'),
            JSON.stringify(parsed.validatorURLs.map((u) => 'https://' + u)) === JSON.stringify(expectedUrls),
            JSON.stringify(parsed.validatorURLs),
          );
        }

        // Naga's PriceFeed: the same validators, a price per asked product id (the v8 SDK asks for 0..3)
        if (pkg.priceFeed) {
          const client = createPublicClient({ transport: http(server.url, { retryCount: 0 }) });
          const ask = (productIds, realmId = realm) =>
            client.readContract({
              address: pkg.priceFeed.address,
              abi: pkg.priceFeed.abi,
              functionName: PRICE_FUNCTION,
              args: [BigInt(realmId), productIds],
            });
          const [epochId, minNodes, nodes] = await ask([0n, 1n, 2n, 3n]);
          check(g('PriceFeed: epoch and minNodeCount'), epochId === 7n && minNodes === 2n);
          check(
            g('PriceFeed: the Staking validators, as the SDK makes their URLs'),
            JSON.stringify(sdkUrls(nodes.map((n) => n.validator))) === JSON.stringify(expectedUrls),
            nodes.map((n) => `${n.validator.ip}:${n.validator.port}`).join(' '),
          );
          check(
            g('PriceFeed: default price per product'),
            nodes.every((n) => n.prices.length === 4 && n.prices.every((p) => p === DEFAULT_PRICE)),
          );
          writeState({ ...base, prices: ['1', 2, '3', '340282366920938463463374607431768211455'] });
          const [, , priced] = await ask([3n, 1n, 9n]);
          check(
            g('PriceFeed: prices by product id, in the order asked; unlisted ids at the default'),
            priced.every((n) => n.prices.join() === [2n ** 128n - 1n, 2n, DEFAULT_PRICE].join()),
            JSON.stringify(priced[0].prices.map(String)),
          );
          writeState(base);
          check(g('PriceFeed: wrong realm refused'), (await rejects(ask([3n], realm + 1))) !== null);
          const feedCall = pkg.priceFeed.iface.encodeFunctionData(pkg.priceFeed.fn, [realm, [3]]);
          const raw = await rpc(server.url, {
            jsonrpc: '2.0',
            id: 1,
            method: 'eth_call',
            params: [{ to: server.staking, data: feedCall }],
          });
          check(g('PriceFeed call at the Staking address refused'), raw.json?.error?.code === -32602);
          writeState({ ...base, mode: 'empty' });
          check(g('PriceFeed empty: no nodes'), (await ask([3n]))[2].length === 0);
          writeState({ ...base, mode: 'malformed' });
          check(g('PriceFeed malformed: does not decode'), (await rejects(ask([3n]))) !== null);
          writeState(base);
        } else {
          fs.writeFileSync(statePath, JSON.stringify({ ...base, prices: [1] }));
          const noFeed = await rpc(server.url, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: server.staking, data: '0x' }] });
          check(g('no PriceFeed: prices in the state file is an error'), noFeed.json?.error?.code === -32603, noFeed.text);
          writeState(base);
        }

        // the state file is read on every request
        writeState({ ...base, epoch: 8, validators: validators.slice(0, 2) });
        const [epoch8, , vals8] = await read();
        check(g('epoch change between calls'), epoch8.number.eq(8) && vals8.length === 2);
        writeState({ ...base, validators: [{ ip: '10.9.8.7', port: 7470, nodeAddress: '0x' + '11'.repeat(20) }] });
        const [, , valsOverride] = await read();
        check(
          g('validator field override'),
          valsOverride[0].nodeAddress === ethers.utils.getAddress('0x' + '11'.repeat(20)),
        );
        writeState(base);

        // refusals: wrong selector, wrong realm / extra argument, wrong address, non-canonical data
        const call = (to, data) =>
          rpc(server.url, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to, data }, 'latest'] });
        const good = pkg.iface.encodeFunctionData(pkg.fn, callArgs);
        const refused = (r) => r.json?.error?.code === -32602 && r.json.result === undefined;
        check(g('raw eth_call accepted'), (await call(server.staking, good)).json?.result?.startsWith('0x'));
        const withInput = await rpc(server.url, {
          jsonrpc: '2.0',
          id: 1,
          method: 'eth_call',
          params: [{ to: server.staking, input: good }],
        });
        check(g('`input` instead of `data` accepted'), withInput.json?.result?.startsWith('0x'));
        const otherFn = pkg.iface.getSighash('epoch');
        check(g('wrong selector refused'), refused(await call(server.staking, otherFn)));
        check(g('wrong address refused'), refused(await call(pkg.address, good)));
        check(
          g('missing `to` refused'),
          refused(await rpc(server.url, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ data: good }] })),
        );
        check(g('trailing bytes refused'), refused(await call(server.staking, good + '00'.repeat(32))));
        if (pkg.realmArg) {
          check(
            g('wrong realm refused'),
            refused(await call(server.staking, pkg.iface.encodeFunctionData(pkg.fn, [realm + 1]))),
          );
          check(g('missing realm refused'), refused(await call(server.staking, pkg.iface.getSighash(pkg.fn))));
        }
        const wrongAddress = new ethers.Contract(pkg.address, pkg.abi, provider);
        check(
          g('ethers Contract at another address refused'),
          (await rejects(wrongAddress[FUNCTION](...callArgs))) !== null,
        );

        // modes
        writeState({ ...base, mode: 'empty' });
        const [epochE, minE, valsE] = await read();
        check(
          g('empty: no validators, same epoch and minNodeCount'),
          valsE.length === 0 && epochE.number.eq(7) && minE.eq(2),
        );

        writeState({ ...base, mode: 'malformed' });
        const malformed = (await call(server.staking, good)).json?.result;
        check(g('malformed: a hex result'), typeof malformed === 'string' && /^0x[0-9a-f]+$/.test(malformed));
        check(
          g('malformed: does not decode'),
          (await rejects(async () => pkg.iface.decodeFunctionResult(pkg.fn, malformed))) !== null,
        );
        check(g('malformed: ethers Contract fails'), (await rejects(read()))?.code === ethers.errors.CALL_EXCEPTION);

        writeState({ ...base, mode: 'revert' });
        const reverted = await call(server.staking, good);
        check(
          g('revert: execution reverted, code 3'),
          reverted.json?.error?.code === 3 && reverted.json.error.message === 'execution reverted',
        );
        check(g('revert: ethers Contract fails'), (await rejects(read()))?.code === ethers.errors.CALL_EXCEPTION);

        writeState({ ...base, mode: 'http500' });
        check(g('http500: status 500'), (await call(server.staking, good)).status === 500);
        check(
          g('http500: ethers fails with SERVER_ERROR'),
          (await rejects(read()))?.error?.code === ethers.errors.SERVER_ERROR,
        );

        writeState({ ...base, mode: 'hang' });
        const hung = await rejects(
          rpc(
            server.url,
            { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: server.staking, data: good }] },
            300,
          ),
        );
        check(
          g('hang: no answer within 300 ms'),
          hung?.name === 'TimeoutError' || hung?.name === 'AbortError',
          String(hung),
        );
        check(g('hang: ethers times out'), (await rejects(read()))?.error?.code === ethers.errors.TIMEOUT);
        writeState(base);

        // other methods, batches, parse errors, a bad state file
        const chainId = await rpc(server.url, { jsonrpc: '2.0', id: 'a', method: 'eth_chainId', params: [] });
        check(g('eth_chainId'), chainId.json?.result === '0x7a69' && chainId.json.id === 'a');
        check(
          g('net_version'),
          (await rpc(server.url, { jsonrpc: '2.0', id: 2, method: 'net_version' })).json?.result === '31337',
        );
        check(
          g('unknown method -32601'),
          (await rpc(server.url, { jsonrpc: '2.0', id: 3, method: 'eth_blockNumber' })).json?.error?.code === -32601,
        );
        const batch = await rpc(server.url, [
          { jsonrpc: '2.0', id: 10, method: 'eth_chainId' },
          { jsonrpc: '2.0', id: 11, method: 'eth_call', params: [{ to: server.staking, data: good }, 'latest'] },
          { jsonrpc: '2.0', id: 12, method: 'eth_getBalance', params: [] },
        ]);
        check(
          g('batch'),
          Array.isArray(batch.json) &&
            batch.json.map((r) => r.id).join() === '10,11,12' &&
            batch.json[0].result === '0x7a69' &&
            pkg.iface.decodeFunctionResult(pkg.fn, batch.json[1].result)[0].number.eq(7) &&
            batch.json[2].error?.code === -32601,
        );
        check(g('parse error -32700'), (await rpc(server.url, '{not json')).json?.error?.code === -32700);
        fs.writeFileSync(statePath, JSON.stringify({ ...base, mode: 'sideways' }));
        const badState = await call(server.staking, good);
        check(
          g('bad state file -32603'),
          badState.json?.error?.code === -32603 && badState.json.error.message.includes('mode'),
          badState.text,
        );
        writeState(base);

        // GET /calls
        const calls = async () => (await fetch(`${server.url}/calls`)).json();
        const before = await calls();
        await rpc(server.url, { jsonrpc: '2.0', id: 1, method: 'eth_chainId' });
        await rpc(server.url, [
          { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: server.staking, data: good }] },
          { jsonrpc: '2.0', id: 2, method: 'eth_call', params: [{ to: server.staking, data: good }] },
          { jsonrpc: '2.0', id: 3, method: 'net_version' },
        ]);
        const after = await calls();
        check(
          g('GET /calls counts eth_call and total'),
          after.eth_call - before.eth_call === 2 && after.total - before.total === 4,
          JSON.stringify([before, after]),
        );
      } finally {
        await server.close();
      }
    }

    // The CLI as a Rust test drives it: a child process and its one ready line. The defaults come from the package.
    for (const generation of ['datil', 'naga']) {
      fs.writeFileSync(statePath, JSON.stringify({ epoch: 3, validators }));
      const ready = await spawnReady(generation, statePath);
      const pkg = loadStaking(generation);
      check(`cli ${generation}: one ready line`, ready.line !== undefined, ready.error);
      if (ready.line === undefined) continue;
      try {
        const line = JSON.parse(ready.line);
        check(
          `cli ${generation}: ready line fields`,
          Object.keys(line).join() === 'url,staking,chainId' && /^http:\/\/127\.0\.0\.1:\d+$/.test(line.url),
        );
        check(
          `cli ${generation}: default staking and chainId from the package`,
          line.staking === pkg.address && line.chainId === pkg.chainId,
          ready.line,
        );
        const provider = new ethers.providers.StaticJsonRpcProvider(line.url, line.chainId);
        const contract = new ethers.Contract(line.staking, pkg.abi, provider);
        const [epoch, , vals] = await contract[FUNCTION](...(pkg.realmArg ? [1] : []));
        check(
          `cli ${generation}: default realm 1, answer`,
          epoch.number.eq(3) && JSON.stringify(sdkUrls(vals)) === JSON.stringify(expectedUrls),
        );
      } finally {
        ready.child.kill();
      }
    }
    const bad = await exitStatus(['--generation', 'datil', '--state', path.join(work, 'missing.json')]);
    check('cli: a missing state file fails the start (exit 2)', bad === 2, String(bad));
  } catch (e) {
    check('selftest ran to the end', false, e.stack ?? String(e));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  console.log(
    failed === 0
      ? `staking-rpc selftest: ${passed} checks passed`
      : `staking-rpc selftest: ${failed} of ${passed + failed} checks FAILED`,
  );
  return failed === 0;
}

/** Spawns the CLI and waits for its first stdout line: `{ child, line }`, or `{ error }` after 10 s or an exit. */
function spawnReady(generation, statePath) {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [self, '--generation', generation, '--state', statePath, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      resolve({ error: 'no ready line within 10 s' });
    }, 10_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, line: out.slice(0, nl) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ error: `exited with ${code}: ${err.trim()}` });
    });
  });
}

/** Runs the CLI to completion with stderr discarded; returns its exit status. */
function exitStatus(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
