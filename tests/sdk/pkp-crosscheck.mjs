#!/usr/bin/env node
// PKP sessions (LIT_BLS) between the official Lit JS SDK and Lit Companion, both ways, against real
// `lit-node-sim` processes that hold shares of one BLS key, and the fake chain (staking-rpc.mjs, in this process).
//   v7 (Datil): LitNodeClientNodeJs 7.4.0 connect() + getPkpSessionSigs(), on Datil simulated nodes.
//   v8 (Naga):  createLitClient (lit-client 8.3.1) on nagaLocal.withLocalContext (networks 8.4.1),
//               AuthManager.createPkpAuthContext (auth 8.2.3), issueSessionFromContext, on Naga simulated nodes.
//   Companion:  `lit-companion serve` issues PKP sessions on the same nodes; the SDK checks them: v7
//               checkNeedToResignSessionKey (its blsSessionSigVerify against the network key), @lit-protocol/crypto
//               7.4.0 and 8.x verifySignature, v8 validateSessionSigs.
// The SDKs' sessions are checked the same way back: one sign_session_key round (the nodes count the requests they
// get: a v7 client silently signs again when its own check fails), the combined signature verified here against the
// network key the nodes report, each node's /web/pkp/sign, and `lit-companion session verify --network-key`.
//
// Usage:
//   node pkp-crosscheck.mjs [--sim PATH] [--bin PATH]
//       Prints "ok <check>" for each check on stdout, "FAILED <check>: <why>" on stderr, and ends with
//       "N passed, M failed"; exits 1 when anything failed. Needs a keychain for `serve`
//       (scripts/test runs inside scripts/with-keyring; by hand: scripts/with-keyring node tests/sdk/pkp-crosscheck.mjs).
//   node pkp-crosscheck.mjs bench [--nodes 10] [--runs 20] [--sim PATH] [--bin PATH]
//       A fresh PKP session on the same simulated Datil nodes: the companion (a POST to `serve` over loopback,
//       its policy approving; the session revoked between runs so that each run signs in and asks the nodes
//       again) against the v7 SDK's getPkpSessionSigs (connect() done once, before). JSON on stdout: median and
//       p95 of each. Release binaries by default (scripts: cargo build --release -p lit-companion-cli
//       -p lit-companion-node-sim).
// Binaries: --sim / $LIT_NODE_SIM_BIN and --bin / $LIT_COMPANION_BIN, else $CARGO_TARGET_DIR (or ./target)
// /debug (bench: /release).

import { Fail, fail, hex, unhex, parseArgs } from './common.mjs';
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStakingRpc } from './staking-rpc.mjs';


const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const require = createRequire(import.meta.url);

// v7
const { LitNodeClientNodeJs } = require('@lit-protocol/lit-node-client-nodejs');
const LNC_DIR = path.dirname(require.resolve('@lit-protocol/lit-node-client-nodejs/package.json'));
const requireLnc = createRequire(path.join(LNC_DIR, 'package.json'));
const crypto7 = requireLnc('@lit-protocol/crypto');
const { blsSessionSigVerify } = requireLnc(path.join(LNC_DIR, 'src/lib/helpers/validate-bls-session-sig.js'));
const { SiweMessage } = requireLnc('siwe');
const ah7 = require('@lit-protocol/auth-helpers');
const { LIT_ABILITY } = require('@lit-protocol/constants');
const { ethers } = require('ethers');
const nacl = require('tweetnacl');
// v8
const crypto8 = require('@lit-protocol/crypto');
const { createLitClient } = require('@lit-protocol/lit-client');
const { nagaLocal, issueSessionFromContext, PricingContextSchema } = require('@lit-protocol/networks');
const { createAuthManager, ViemAccountAuthenticator } = require('@lit-protocol/auth');
const { privateKeyToAccount } = require('viem/accounts');
const NW_DIR = path.dirname(require.resolve('@lit-protocol/networks/package.json'));
const { validateSessionSigs } = require(path.join(NW_DIR, 'src/networks/vNaga/shared/managers/session-manager/helper/session-sigs-validator.js'));
const { bls12_381: noble } = createRequire(require.resolve('@lit-protocol/crypto'))('@noble/curves/bls12-381');

// ---------------------------------------------------------------- fixed inputs
const WALLET_KEY = '0x' + '11'.repeat(32); // the wallet the PKP permits (its auth method)
const STRANGER_KEY = '0x' + '22'.repeat(32); // a wallet it does not
const PKP_PUBLIC_KEY = ethers.utils.computePublicKey('0x' + '42'.repeat(32), false); // 0x04…, any secp256k1 key stands in
const PKP_ADDRESS = ethers.utils.computeAddress(PKP_PUBLIC_KEY);
const PKP_TOKEN_ID = ethers.utils.keccak256(PKP_PUBLIC_KEY).slice(2); // as nodes derive it
const BLS_SEED = Buffer.from('tests/sdk/pkp-crosscheck network key').toString('hex');
const BLOCKHASH = '0x' + '5b'.repeat(32);
const BLOCK_INDEXER = 'https://block-indexer.litgateway.com/get_most_recent_valid_block';
const ORIGIN = 'https://app.example.com';
/** A valid network key that is not the simulated network's (for the refusals). */
const OTHER_NETWORK_KEY = Buffer.from(noble.G1.ProjectivePoint.BASE.multiply(0x5eedn).toRawBytes(true)).toString('hex');

// ---------------------------------------------------------------- helpers
/** SHA256("lit_session:" + hex(eip191(msg))): what the nodes sign for a session message. */
const sessionHash = (msg) => unhex(ethers.utils.sha256(ethers.utils.toUtf8Bytes('lit_session:' + ethers.utils.hashMessage(msg).slice(2))));
/** Runs f with console.log/warn silenced (the SDKs talk there about what is expected here). */
const quiet = async (f) => {
  const { log, warn } = console;
  console.log = console.warn = () => {};
  try {
    return await f();
  } finally {
    Object.assign(console, { log, warn });
  }
};
const verifies = async (fn) => {
  try {
    await fn();
    return true;
  } catch {
    return false;
  }
};

let passed = 0;
let failed = 0;
function ok(name, cond, detail = '') {
  if (cond) {
    passed++;
    console.log(`ok     ${name}`);
  } else {
    failed++;
    console.error(`FAILED ${name}${detail ? ': ' + String(detail).replace(/\s+/g, ' ').slice(0, 600) : ''}`);
  }
  return !!cond;
}
/** Runs a section; an exception fails it by name (and skips the rest of it). */
async function section(name, fn) {
  try {
    await fn();
  } catch (e) {
    ok(`${name}: ran to the end`, false, e instanceof Fail ? e.message : e?.stack?.split('\n').slice(0, 3).join(' | ') ?? e);
  }
}

// ---------------------------------------------------------------- processes
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill();
});

/** Starts a program that prints "listening on URL" first; resolves {url, child}. */
function startListening(bin, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Fail(`${path.basename(bin)} did not start within 20 s: ${err.trim()}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    child.on('error', (e) => reject(new Fail(`${bin}: ${e.message}`)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Fail(`${path.basename(bin)} ${args.slice(0, 2).join(' ')} exited with ${code}: ${err.trim()}`));
    });
  });
}

/** RFC 3339, whole seconds, Z. */
const rfc3339 = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * `n` simulated nodes of `network` dealt shares (`threshold` of `n`) of the one key, permitting the test wallet
 * for the PKP, naming one block (hash and time) so that they all rebuild the same message.
 */
async function startNodes(sim, { network, n, threshold, blockTime }) {
  const args = (i) => [
    '--network', network, '--listen', '127.0.0.1:0', '--blockhash', BLOCKHASH, '--block-time', blockTime,
    '--bls-seed', BLS_SEED, '--share', String(i + 1), '--of', String(n), '--threshold', String(threshold),
    '--pkp', `${PKP_PUBLIC_KEY}=${new ethers.Wallet(WALLET_KEY).address}`,
  ];
  const started = await Promise.all(Array.from({ length: n }, (_, i) => startListening(sim, args(i))));
  return started.map((s) => s.url);
}

async function postJson(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** The requests each node has received so far, by path (lit-node-sim's GET /sim/calls). */
const nodeCalls = (nodes) => Promise.all(nodes.map(async (u) => (await fetch(`${u}/sim/calls`)).json()));
const signCallsSince = (before, after, p) => after.map((a, i) => (a[p] ?? 0) - (before[i][p] ?? 0));

/** The network key every node reports in its handshake (it must be one key). */
async function networkKeyOf(nodes) {
  const keys = await Promise.all(
    nodes.map(async (u) => {
      const r = await postJson(`${u}/web/handshake/`, { clientPublicKey: 'test', challenge: '00'.repeat(32) });
      return (r.json?.data ?? r.json)?.networkPublicKey;
    }),
  );
  if (new Set(keys).size !== 1 || !/^[0-9a-f]{96}$/.test(keys[0])) fail(`the nodes do not report one network key: ${keys}`);
  return keys[0];
}

/** The fake chain for `generation`, listing `nodes` (in this process; closed with the returned close()). */
async function startChain(work, generation, nodes, minNodeCount) {
  const statePath = path.join(work, `chain-${generation}.json`);
  const now = Math.floor(Date.now() / 1000);
  fs.writeFileSync(
    statePath,
    JSON.stringify({
      ...(generation === 'naga' && { chainId: 31337 }), // nagaLocal's chain (Anvil)
      epoch: 2,
      minNodeCount,
      validators: nodes.map((u) => ({ ip: '127.0.0.1', port: Number(new URL(u).port) })),
      // An epoch that began long ago and ends in an hour: neither SDK steps back to the previous epoch.
      epochInfo: { epochLength: 86400 * 365, endTime: now + 3600 },
    }),
  );
  return startStakingRpc({ generation, statePath });
}

/** The companion's CLI, in the test's data dir and keychain service; its JSON output. */
function cli(bin, env, args, input = '') {
  const r = spawnSync(bin, args, { env, input, encoding: 'utf8' });
  if (r.status !== 0) fail(`lit-companion ${args.slice(0, 2).join(' ')} exited with ${r.status}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

/** `lit-companion session verify` of `map` as `node` would: {status, stderr}. */
function companionVerify(bin, env, map, node, { networkKey, network }) {
  const args = ['session', 'verify', '--node', node, '--resource', `lit-pkp://${PKP_TOKEN_ID}`, '--ability', 'pkp-signing'];
  if (network) args.push('--network', network);
  if (networkKey) args.push('--network-key', networkKey);
  const r = spawnSync(bin, args, { env, input: JSON.stringify(map), encoding: 'utf8' });
  return { status: r.status, stderr: (r.stderr || '').trim(), stdout: r.stdout };
}

/** A simulated node's /web/pkp/sign with a sessionSigs entry for the PKP. */
const nodeSigns = (node, entry, pubkey = PKP_PUBLIC_KEY) =>
  postJson(`${node}/web/pkp/sign`, { authSig: entry, toSign: [1, 2, 3], pubkey });

/** The last capability of a sessionSigs entry (a PKP session's: the network's LIT_BLS AuthSig). */
const capabilityOf = (entry) => JSON.parse(entry.signedMessage).capabilities.at(-1);

/** Checks shared by every PKP session, whoever made it: the capability and what each node accepts. */
async function checkPkpSession(tag, { map, nodes, networkKey, bin, env, network, blockTime, signedBy }) {
  const urls = Object.keys(map);
  ok(`${tag}: an entry for each of the ${signedBy.length} nodes`, JSON.stringify(urls.sort()) === JSON.stringify([...signedBy].sort()), urls);
  const entries = Object.values(map);
  const caps = entries.map(capabilityOf);
  ok(`${tag}: every entry carries the same capability`, caps.every((c) => JSON.stringify(c) === JSON.stringify(caps[0])));
  const cap = caps[0];
  ok(`${tag}: the capability is the network's AuthSig (LIT_BLS, lit.bls, the PKP's address)`,
    cap.algo === 'LIT_BLS' && cap.derivedVia === 'lit.bls' && cap.address === PKP_ADDRESS, JSON.stringify({ ...cap, signedMessage: undefined }));
  const combined = JSON.parse(cap.sig).ProofOfPossession;
  ok(`${tag}: sig is {"ProofOfPossession": 192 hex}`, /^[0-9a-f]{192}$/.test(combined), cap.sig);
  const siwe = new SiweMessage(cap.signedMessage);
  const sessionKey = JSON.parse(entries[0].signedMessage).sessionKey;
  ok(`${tag}: the nodes' message: this session key, the PKP, the block's hash and time, their auth context`,
    siwe.uri === `lit:session:${sessionKey}` && siwe.address === PKP_ADDRESS && siwe.nonce === BLOCKHASH &&
      new Date(siwe.issuedAt).getTime() === new Date(blockTime).getTime() && cap.signedMessage.includes("'lit-resolvedauthcontext://*'"),
    cap.signedMessage.split('\n').slice(0, 12).join(' / '));
  const msg = sessionHash(cap.signedMessage);
  ok(`${tag}: crypto 7.4.0 verifySignature accepts it under the network key`, await verifies(() => crypto7.verifySignature(networkKey, msg, Buffer.from(combined, 'hex'))));
  ok(`${tag}: crypto 8 verifySignature accepts it under the network key`, await verifies(() => crypto8.verifySignature(networkKey, msg, combined)));
  ok(`${tag}: crypto 7.4.0 verifySignature refuses it under another key`, !(await verifies(() => crypto7.verifySignature(OTHER_NETWORK_KEY, msg, Buffer.from(combined, 'hex')))));
  ok(`${tag}: blsSessionSigVerify (v7) accepts it`, await verifies(() => blsSessionSigVerify(crypto7.verifySignature, networkKey, cap, siwe)));
  const tampered = { ...cap, signedMessage: cap.signedMessage.replace(siwe.domain, 'evil.example') };
  ok(`${tag}: blsSessionSigVerify refuses a changed message`,
    tampered.signedMessage !== cap.signedMessage && !(await verifies(() => blsSessionSigVerify(crypto7.verifySignature, networkKey, tampered, new SiweMessage(tampered.signedMessage)))));
  const edOk = entries.every((e) => e.algo === 'ed25519' && nacl.sign.detached.verify(Buffer.from(e.signedMessage), unhex(e.sig), unhex(e.address)));
  ok(`${tag}: every entry is the session key's ed25519 signature (tweetnacl)`, edOk);
  if (network === 'naga-dev') {
    const v = validateSessionSigs(JSON.parse(JSON.stringify(map)));
    ok(`${tag}: v8 validateSessionSigs accepts them`, v.isValid, JSON.stringify(v.errors));
  }
  for (const node of urls) {
    const r = await nodeSigns(node, map[node]);
    ok(`${tag}: ${node} /web/pkp/sign accepts its entry`, r.status === 200 && r.json?.success === true, r.text);
  }
  const [a, b] = urls;
  if (b) {
    const r = await nodeSigns(a, map[b]);
    ok(`${tag}: ${a} refuses the entry made for ${b}`, r.status === 401 && r.json?.errorCode === 'wrong_node', r.text);
  }
  const other = await nodeSigns(urls[0], map[urls[0]], ethers.utils.computePublicKey('0x' + '43'.repeat(32), false));
  ok(`${tag}: a node refuses it for another PKP`, other.status === 401, other.text);
  const v = companionVerify(bin, env, map, urls[0], { networkKey, network });
  ok(`${tag}: lit-companion session verify --network-key accepts it`, v.status === 0, v.stderr);
  const w = companionVerify(bin, env, map, urls[0], { networkKey: OTHER_NETWORK_KEY, network });
  ok(`${tag}: lit-companion session verify refuses it under another network key`, w.status !== 0 && w.stdout === '', `exit ${w.status}`);
  return { cap, sessionKey };
}

// ---------------------------------------------------------------- the SDKs' clients
/** The Datil Staking ABI the v7 client reads with (litNetwork 'custom' needs it in contractContext). */
function stakingAbiV7() {
  const requireConst = createRequire(require.resolve('@lit-protocol/constants'));
  const { datilDev } = requireConst('@lit-protocol/contracts/prod/datil-dev.js');
  return datilDev.data.find((d) => d.name === 'Staking').contracts[0].ABI;
}

async function connectV7(chain, nodes) {
  const client = new LitNodeClientNodeJs({
    litNetwork: 'custom',
    rpcUrl: chain.url,
    contractContext: { Staking: { address: chain.staking, abi: stakingAbiV7() } },
    checkNodeAttestation: false,
    debug: false,
    connectTimeout: 10_000,
  });
  await client.connect();
  // The nonce after the handshake's blockhash is 30 s old: a node's block indexer, not block-indexer.litgateway.com.
  client._blockHashUrl = `${nodes[0]}/get_most_recent_valid_block`;
  return client;
}

/** The EthWallet auth method as the v7 SDK's EthWalletProvider makes it: a plain SIWE, origin URI, block hash nonce. */
async function authMethodV7(client, walletKey = WALLET_KEY) {
  const wallet = new ethers.Wallet(walletKey);
  const toSign = await ah7.createSiweMessage({
    walletAddress: wallet.address,
    nonce: await client.getLatestBlockhash(),
    domain: new URL(ORIGIN).host,
    uri: ORIGIN,
    expiration: new Date(Date.now() + 3600e3).toISOString(),
    litNodeClient: client,
  });
  const authSig = await ah7.generateAuthSig({ signer: wallet, toSign });
  return { authMethodType: 1, accessToken: JSON.stringify(authSig) };
}

const requestsV7 = () => [{ resource: new ah7.LitPKPResource(PKP_TOKEN_ID), ability: LIT_ABILITY.PKPSigning }];

/**
 * The one global patch, for v8 only: its state manager fetches the SIWE nonce from a hard-coded
 * https://block-indexer.litgateway.com URL with the global fetch, and no option changes that URL. That URL is
 * answered by a simulated node's own block indexer route; any other non-loopback fetch is refused, so nothing
 * leaves the machine.
 */
function routeBlockIndexerTo(node) {
  const realFetch = globalThis.fetch;
  let hits = 0;
  globalThis.fetch = async (url, init) => {
    const u = String(url instanceof Request ? url.url : url);
    if (u === BLOCK_INDEXER) {
      hits++;
      return realFetch(`${node}/get_most_recent_valid_block`, init);
    }
    if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(u)) throw new Error(`offline test: refused fetch of ${u}`);
    return realFetch(url, init);
  };
  return { hits: () => hits, restore: () => (globalThis.fetch = realFetch) };
}

/** networkContext.json for nagaLocal.withLocalContext: the pinned @lit-protocol/contracts prod naga.json. */
function nagaContextFile(work) {
  const nagaJson = path.join(path.dirname(require.resolve('@lit-protocol/contracts')), 'prod', 'naga.json');
  const net = JSON.parse(fs.readFileSync(nagaJson, 'utf8'));
  const file = path.join(work, 'networkContext.json');
  fs.writeFileSync(file, JSON.stringify(Object.fromEntries(net.data.map((d) => [d.name, { address: d.contracts[0].address_hash, abi: d.contracts[0].ABI }]))));
  return file;
}

function memoryStorage() {
  const m = new Map();
  return {
    config: {},
    read: async ({ address }) => m.get('a' + address) ?? null,
    write: async ({ address, authData }) => void m.set('a' + address, authData),
    readInnerDelegationAuthSig: async ({ publicKey }) => m.get('d' + publicKey) ?? null,
    writeInnerDelegationAuthSig: async ({ publicKey, authSig }) => void m.set('d' + publicKey, authSig),
    readPKPTokens: async () => null,
    writePKPTokens: async () => {},
  };
}

// ---------------------------------------------------------------- the companion
/** A data dir and keychain service of its own, the wallet and the PKP, the simulated networks, a pairing and a policy. */
async function startCompanion(bin, work, networks) {
  const env = {
    ...process.env,
    LIT_COMPANION_DATA_DIR: path.join(work, 'data'),
    LIT_COMPANION_KEYCHAIN_SERVICE: `lit-companion-pkp-crosscheck-${process.pid}`,
    LIT_COMPANION_SOCKET: path.join(work, 'run', 'bridge.sock'),
  };
  fs.mkdirSync(path.join(work, 'run'), { recursive: true, mode: 0o700 });
  cli(bin, env, ['wallet', 'import', '--label', 'Main'], WALLET_KEY);
  cli(bin, env, ['wallet', 'add-pkp', PKP_PUBLIC_KEY, '--auth', new ethers.Wallet(WALLET_KEY).address, '--label', 'Crosscheck PKP']);
  for (const [name, generation, nodes] of networks) {
    cli(bin, env, ['network', 'add', name, '--generation', generation, ...nodes.flatMap((n) => ['--node', n])]);
  }
  const token = JSON.parse(cli(bin, env, ['pair', 'new', '--name', 'crosscheck'])).token;
  const policy = path.join(work, 'policy.json');
  fs.writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ origin: 'pairing:crosscheck', resources: ['lit-pkp://*'], abilities: ['pkp-signing'] }] }));
  const { url } = await startListening(bin, ['serve', '--listen', '127.0.0.1:0', '--approve', policy, '--rate-limit', '1000000', '--burst', '1000000'], env);
  let id = 0;
  const request = (method, params) =>
    postJson(`${url}/v1/request`, { v: 1, id: String(++id), method, params }, { authorization: `Bearer ${token}` });
  return { env, url, request };
}

const companionPkpParams = (network) => ({
  network,
  pkpPublicKey: PKP_PUBLIC_KEY,
  resourceAbilityRequests: [{ resource: { resource: PKP_TOKEN_ID, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }],
});

// ---------------------------------------------------------------- the cross-check
async function crosscheck(args) {
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  const sim = args.sim || process.env.LIT_NODE_SIM_BIN || path.join(target, 'debug/lit-node-sim');
  const bin = args.bin || process.env.LIT_COMPANION_BIN || path.join(target, 'debug/lit-companion');
  for (const b of [sim, bin]) if (!fs.existsSync(b)) fail(`${b} not found (cargo build -p lit-companion-cli -p lit-companion-node-sim)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pkp-crosscheck-'));
  const N = 3;
  const T = 2;
  // One block for every node, a minute old: the SDK requires issuedAt <= now.
  const blockTime = rfc3339(Date.now() - 60_000);
  const closers = [];
  try {
    const datil = await startNodes(sim, { network: 'datil-dev', n: N, threshold: T, blockTime });
    const naga = await startNodes(sim, { network: 'naga-dev', n: N, threshold: T, blockTime });
    const datilChain = await startChain(work, 'datil', datil, T);
    const nagaChain = await startChain(work, 'naga', naga, T);
    closers.push(datilChain.close, nagaChain.close);
    const networkKey = await networkKeyOf([...datil, ...naga]);
    ok('the Datil and Naga simulated nodes report one network key', true);
    const bin0 = { bin, env: { ...process.env, LIT_COMPANION_DATA_DIR: path.join(work, 'verify') } };

    // (a) v7
    let client7;
    await section('v7', async () => {
      client7 = await connectV7(datilChain, datil);
      closers.push(() => client7.disconnect());
      ok('v7: connect() reads the simulated nodes from the chain and handshakes them all',
        client7.ready && JSON.stringify([...client7.config.bootstrapUrls].sort()) === JSON.stringify([...datil].sort()), client7.config.bootstrapUrls);
      ok('v7: the client takes the nodes\' network key', client7.networkPubKey === networkKey, client7.networkPubKey);
      const before = await nodeCalls(datil);
      const authMethods = [await authMethodV7(client7)];
      // quiet: without localStorage the v7 client warns that its session cache is empty.
      const map = await quiet(() => client7.getPkpSessionSigs({ pkpPublicKey: PKP_PUBLIC_KEY, authMethods, resourceAbilityRequests: requestsV7() }));
      const after = await nodeCalls(datil);
      const rounds = signCallsSince(before, after, '/web/sign_session_key/v1');
      ok('v7: getPkpSessionSigs asks each node once (one round: nothing failed the SDK\'s own check)', rounds.every((c) => c === 1), rounds.join(','));
      ok('v7: the handshake went to /web/handshake/', before.every((c) => c['/web/handshake/'] >= 1), JSON.stringify(before[0]));
      await checkPkpSession('v7 SDK session', { map, nodes: datil, networkKey, ...bin0, network: 'datil-dev', blockTime, signedBy: datil });

      // A wallet the PKP does not permit: every node refuses, and so does the SDK.
      const strangers = [await authMethodV7(client7, STRANGER_KEY)];
      const refused = await quiet(() => client7.getPkpSessionSigs({ pkpPublicKey: PKP_PUBLIC_KEY, authMethods: strangers, resourceAbilityRequests: requestsV7() }))
        .then(() => 'succeeded', (e) => String(e?.message ?? e));
      ok('v7: getPkpSessionSigs fails for a wallet the PKP does not permit (the nodes\' refusal)',
        refused !== 'succeeded' && /not authorized|NodePKPNotAuthorized/i.test(refused), refused);
    });

    // (b) v8
    await section('v8', async () => {
      const indexer = routeBlockIndexerTo(naga[0]);
      closers.push(indexer.restore);
      const network = await quiet(() =>
        nagaLocal.withLocalContext({ networkContextPath: nagaContextFile(work), networkName: 'naga-develop', rpcUrlOverride: nagaChain.url }),
      );
      const litClient = await createLitClient({ network });
      closers.push(() => litClient.disconnect());
      const ctx = await litClient.getContext();
      ok('v8: createLitClient reads the simulated nodes from the chain (Staking, PriceFeed) and handshakes them',
        JSON.stringify([...ctx.latestConnectionInfo.bootstrapUrls].sort()) === JSON.stringify([...naga].sort()), ctx.latestConnectionInfo.bootstrapUrls);
      ok('v8: the client takes the nodes\' network key', ctx.handshakeResult.coreNodeConfig.networkPubKey === networkKey);
      const authData = await ViemAccountAuthenticator.authenticate(privateKeyToAccount(WALLET_KEY));
      const authManager = createAuthManager({ storage: memoryStorage() });
      const before = await nodeCalls(naga);
      const authContext = await authManager.createPkpAuthContext({
        authData,
        pkpPublicKey: PKP_PUBLIC_KEY,
        litClient,
        authConfig: { resources: [['pkp-signing', PKP_TOKEN_ID]], expiration: new Date(Date.now() + 3600e3).toISOString(), statement: '', domain: new URL(ORIGIN).host },
      });
      const delegation = await authContext.authNeededCallback();
      const after = await nodeCalls(naga);
      const rounds = signCallsSince(before, after, '/web/sign_session_key/v2');
      ok(`v8: the PKP auth context asks each of the ${ctx.handshakeResult.threshold} (threshold) cheapest nodes once`,
        rounds.filter((c) => c === 1).length === ctx.handshakeResult.threshold && rounds.every((c) => c <= 1), rounds.join(','));
      ok('v8: the nonce came from the simulated block indexer', indexer.hits() >= 1, String(indexer.hits()));
      const nodePrices = ctx.latestConnectionInfo.priceFeedInfo.networkPrices;
      const map = await issueSessionFromContext({
        authContext,
        pricingContext: PricingContextSchema.parse({ product: 'SIGN', nodePrices, threshold: ctx.handshakeResult.threshold, userMaxPrice: ctx.getUserMaxPrice({ product: 'SIGN' }) }),
      });
      ok('v8: the session\'s capability is the AuthSig the nodes signed', JSON.stringify(capabilityOf(Object.values(map)[0])) === JSON.stringify(delegation));
      await checkPkpSession('v8 SDK session', { map, nodes: naga, networkKey, ...bin0, network: 'naga-dev', blockTime, signedBy: Object.keys(map) });
    });

    // (c) the companion's PKP sessions through the SDK's checks
    await section('companion', async () => {
      const companion = await startCompanion(bin, work, [['sim-datil', 'datil', datil], ['sim-naga', 'naga', naga]]);
      for (const [name, nodes, path_, network] of [
        ['sim-datil', datil, '/web/sign_session_key/v1', 'datil-dev'],
        ['sim-naga', naga, '/web/sign_session_key/v2', 'naga-dev'],
      ]) {
        const tag = `companion on ${name}`;
        const before = await nodeCalls(nodes);
        const r = await companion.request('getSessionSigs', companionPkpParams(name));
        const after = await nodeCalls(nodes);
        const result = r.json?.result;
        if (!ok(`${tag}: serve issues a PKP session`, r.status === 200 && result?.wallet === PKP_ADDRESS && result?.reused === false, r.text)) continue;
        const rounds = signCallsSince(before, after, path_);
        ok(`${tag}: each node is asked once`, rounds.every((c) => c === 1), rounds.join(','));
        const map = result.sessionSigs;
        const { cap, sessionKey } = await checkPkpSession(tag, { map, nodes, networkKey, bin, env: companion.env, network, blockTime, signedBy: nodes });
        ok(`${tag}: the result's sessionKey is the one the capability names`, sessionKey === result.sessionKey);
        if (client7) {
          // The v7 client's own test of a stored session: false = it would use this AuthSig, not sign again.
          const resign = await client7.checkNeedToResignSessionKey({ authSig: cap, sessionKeyUri: `lit:session:${sessionKey}`, resourceAbilityRequests: requestsV7() });
          ok(`${tag}: v7 checkNeedToResignSessionKey keeps it (LIT_BLS verified against the network key, URI, ReCap)`, resign === false);
          const other = await client7.checkNeedToResignSessionKey({
            authSig: cap,
            sessionKeyUri: `lit:session:${sessionKey}`,
            resourceAbilityRequests: [{ resource: new ah7.LitPKPResource('99'.repeat(32)), ability: LIT_ABILITY.PKPSigning }],
          });
          ok(`${tag}: v7 checkNeedToResignSessionKey finds another PKP not covered`, other === true);
        }
      }
    });
  } finally {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    for (const c of children) if (c.exitCode === null) c.kill();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0;
}

// ---------------------------------------------------------------- the benchmark
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return { runs: s.length, medianMs: r(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2), p95Ms: r(percentile(s, 0.95)), minMs: r(s[0]), maxMs: r(s.at(-1)) };
}

async function bench(args) {
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  const sim = args.sim || process.env.LIT_NODE_SIM_BIN || path.join(target, 'release/lit-node-sim');
  const bin = args.bin || process.env.LIT_COMPANION_BIN || path.join(target, 'release/lit-companion');
  for (const b of [sim, bin]) if (!fs.existsSync(b)) fail(`${b} not found (cargo build --release -p lit-companion-cli -p lit-companion-node-sim)`);
  const N = Number(args.nodes ?? 10);
  const runs = Number(args.runs ?? 20);
  if (!(N >= 2) || !(runs >= 1)) fail('--nodes >= 2, --runs >= 1');
  const T = Math.floor((2 * N) / 3) + 1; // two thirds and more, as Lit's networks
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pkp-bench-'));
  const blockTime = rfc3339(Date.now() - 60_000);
  const closers = [];
  try {
    const nodes = await startNodes(sim, { network: 'datil-dev', n: N, threshold: T, blockTime });
    const chain = await startChain(work, 'datil', nodes, T);
    closers.push(chain.close);
    const client = await connectV7(chain, nodes);
    closers.push(() => client.disconnect());
    const companion = await startCompanion(bin, work, [['sim-datil', 'datil', nodes]]);
    const params = companionPkpParams('sim-datil');

    const companionRun = async () => {
      const r = await companion.request('disconnect', {}); // untimed: the next session is a fresh one
      if (r.status !== 200) fail(`disconnect: ${r.text}`);
      const t0 = process.hrtime.bigint();
      const s = await companion.request('getSessionSigs', params);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (s.status !== 200 || s.json?.result?.reused !== false || Object.keys(s.json.result.sessionSigs).length !== N) fail(`companion: ${s.text.slice(0, 300)}`);
      return ms;
    };
    const sdkRun = async () => {
      const authMethods = [await authMethodV7(client)]; // untimed: the wallet signed in before
      const t0 = process.hrtime.bigint();
      const map = await quiet(() => client.getPkpSessionSigs({ pkpPublicKey: PKP_PUBLIC_KEY, authMethods, resourceAbilityRequests: requestsV7() }));
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (Object.keys(map).length !== N) fail(`SDK: ${Object.keys(map).length} entries`);
      return ms;
    };
    for (let i = 0; i < 2; i++) {
      await companionRun();
      await sdkRun();
    }
    const ours = [];
    const sdk = [];
    // What each session asked of each node, by path, summed over the nodes and the runs.
    const asked = { companion: {}, sdk: {} };
    const tally = async (who, run) => {
      const before = await nodeCalls(nodes);
      const ms = await run();
      const after = await nodeCalls(nodes);
      for (const p of new Set(after.flatMap(Object.keys))) {
        const n = signCallsSince(before, after, p).reduce((a, b) => a + b, 0);
        if (n) asked[who][p] = (asked[who][p] ?? 0) + n;
      }
      return ms;
    };
    for (let i = 0; i < runs; i++) {
      // Alternating, so that the machine's other load falls on both alike.
      ours.push(await tally('companion', companionRun));
      sdk.push(await tally('sdk', sdkRun));
    }
    const perNodePerSession = (who) => Object.fromEntries(Object.entries(asked[who]).map(([p, n]) => [p, n / (runs * N)]));
    for (const who of ['companion', 'sdk']) {
      if (perNodePerSession(who)['/web/sign_session_key/v1'] !== 1) fail(`${who}: not one sign_session_key round per session: ${JSON.stringify(asked[who])}`);
    }
    return {
      ok: true,
      what: `a fresh PKP session (Datil, sign_session_key/v1) on ${N} simulated nodes, shares ${T} of ${N}; ${runs} runs each, after 2 warm-up runs, alternating`,
      companion: {
        ...stats(ours),
        requestsPerNodePerSession: perNodePerSession('companion'),
        path: 'POST /v1/request getSessionSigs {pkpPublicKey} to lit-companion serve over loopback (pairing token, policy approves): handshakes, the wallet signs in, every node signs, shares combined and verified, the session stored in the keychain; the session revoked (untimed) between runs',
      },
      sdk: {
        ...stats(sdk),
        requestsPerNodePerSession: perNodePerSession('sdk'),
        path: 'LitNodeClientNodeJs 7.4.0 getPkpSessionSigs, connect() done before, the auth method signed before each run (untimed); it resolves once minNodeCount nodes answered',
      },
      binaries: { lit_companion: bin, lit_node_sim: sim },
      node: process.version,
      cpus: os.cpus().length,
    };
  } finally {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    for (const c of children) if (c.exitCode === null) c.kill();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main
const args = parseArgs(process.argv.slice(2));
const guard = setTimeout(() => {
  console.error(`FAILED pkp-crosscheck did not finish within ${args._[0] === 'bench' ? 600 : 110} s`);
  process.exit(1);
}, (args._[0] === 'bench' ? 600 : 110) * 1000);
guard.unref();
try {
  if (args._[0] === 'bench') {
    console.log(JSON.stringify(await bench(args), null, 2));
    process.exit(0);
  }
  if (args._.length) fail('usage: pkp-crosscheck.mjs [--sim PATH] [--bin PATH] | bench [--nodes N] [--runs N]');
  process.exit((await crosscheck(args)) ? 0 : 1);
} catch (e) {
  const msg = e instanceof Fail ? e.message : `internal error: ${e?.stack?.split('\n').slice(0, 3).join(' | ') ?? e}`;
  console.error(`FAILED ${msg}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}
