#!/usr/bin/env node
// Cross-check harness: Lit Companion sessionSigs vs the official Lit JS SDK.
//   v7 (Datil): @lit-protocol/auth-helpers 7.4.0 + the exact getSessionSigs signing loop of
//               @lit-protocol/lit-node-client-nodejs 7.4.0 (rebuilt here; that package needs a live network).
//   v8 (Naga):  @lit-protocol/networks 8.4.1 issueSessionFromContext (+ its auth-helpers 8.2.0 / schemas).
// Subcommands: golden | make-v7 --out F | make-v8 --out F | check --sigs F --network N [--node URL]
//              [--resource P://ID --ability A] [--now ISO] | bench | selftest
// All output is JSON on stdout; on failure: exit 1 and a one-line reason on stderr.

import { Fail, fail, hex, unhex, parseArgs, readJson } from './common.mjs';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
// v7 stack (top-level node_modules)
const ah7 = require('@lit-protocol/auth-helpers');
const c7 = require('@lit-protocol/constants');
const { SiweMessage } = require('siwe');
const { ethers } = require('ethers');
const nacl = require('tweetnacl');
// v8 stack: resolve from @lit-protocol/networks so we get the versions it really uses
const nw = require('@lit-protocol/networks');
const requireNw = createRequire(require.resolve('@lit-protocol/networks'));
const ah8 = requireNw('@lit-protocol/auth-helpers');
const c8 = requireNw('@lit-protocol/constants');
const schemas8 = requireNw('@lit-protocol/schemas');
const NW_DIR = path.dirname(require.resolve('@lit-protocol/networks/package.json'));
const { validateSessionSigs: sdkValidateSessionSigs } = requireNw(
  path.join(NW_DIR, 'src/networks/vNaga/shared/managers/session-manager/helper/session-sigs-validator.js')
);
const { ed25519: nobleEd } = requireNw('@noble/curves/ed25519');
const { privateKeyToAccount } = require('viem/accounts');

// ---------------------------------------------------------------- fixed inputs
const WALLET_KEY = '0x' + '11'.repeat(32);
const ATTACKER_WALLET_KEY = '0x' + '22'.repeat(32);
const SESSION_SEED = '07'.repeat(32);
const ATTACKER_SEED = '09'.repeat(32);
const NONCE = '0x' + 'ab'.repeat(32);
const GOLDEN_ISSUED_AT = '2026-11-24T21:42:09.296Z';
const GOLDEN_EXPIRATION = '2030-01-01T00:00:00.000Z';
const NODES = ['http://127.0.0.1:7470', 'http://127.0.0.1:7471', 'https://node.example:443'];
const PKP_TOKEN_ID = '0x' + '5e5d03b0ff5f9f21d6a1c2f7d8e9b0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7';
const ACCS = [
  {
    contractAddress: '',
    standardContractType: '',
    chain: 'ethereum',
    method: '',
    parameters: [':userAddress'],
    returnValueTest: { comparator: '=', value: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A' },
  },
];
const DATA_TO_ENCRYPT_HASH = ethers.utils.sha256(ethers.utils.toUtf8Bytes('hello lit')).slice(2);
const MAKE_ISSUED_AT = '2026-11-24T21:42:09.296Z';
const MAKE_NOW = '2026-11-24T21:43:09.296Z'; // verifier "now": 60 s after issuance
const NAGA_NODE_PRICES = [
  // prices indexed by product id: DECRYPTION=0, SIGN=1, LIT_ACTION=2, SIGN_SESSION_KEY=3
  { url: NODES[0], prices: [10n ** 16n, 10n ** 16n, 10n ** 16n, 10n ** 16n] },
  { url: NODES[1], prices: [10n ** 16n, 2n * 10n ** 16n, 10n ** 16n, 10n ** 16n] },
  { url: NODES[2], prices: [10n ** 16n, 3n * 10n ** 16n, 10n ** 16n, 10n ** 16n] },
];

const V7_ENTRY_KEYS = ['sig', 'derivedVia', 'signedMessage', 'address', 'algo'];
const V7_SIGNED_KEYS = ['sessionKey', 'resourceAbilityRequests', 'capabilities', 'issuedAt', 'expiration', 'nodeAddress'];
const V8_SIGNED_KEYS = [...V7_SIGNED_KEYS, 'maxPrice'];
const AUTHSIG_KEYS = ['sig', 'derivedVia', 'signedMessage', 'address'];
const DATIL = ['datil-dev', 'datil-test', 'datil'];
const NAGA = ['naga-dev', 'naga-test', 'naga', 'naga-staging', 'naga-local', 'naga-proto', 'naga-mainnet'];

// ---------------------------------------------------------------- helpers
const utf8 = (s) => new Uint8Array(Buffer.from(s, 'utf8'));
const clone = (o) => JSON.parse(JSON.stringify(o));

/** Run fn with `new Date()` / `Date.now()` frozen at iso (the SDK reads the clock internally). */
async function withFixedNow(iso, fn) {
  const RealDate = globalThis.Date;
  const t = RealDate.parse(iso);
  if (Number.isNaN(t)) fail(`bad time ${iso}`);
  class FixedDate extends RealDate {
    constructor(...a) {
      if (a.length === 0) super(t);
      else super(...a);
    }
    static now() {
      return t;
    }
  }
  globalThis.Date = FixedDate;
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

function sessionKeyFromSeed(seedHex) {
  const kp = nacl.sign.keyPair.fromSeed(unhex(seedHex));
  return {
    seed: seedHex,
    publicKey: hex(kp.publicKey),
    secretKey128: hex(kp.secretKey), // v7 SessionKeyPair.secretKey (seed || pub)
  };
}

function writeJson(file, obj) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(obj, null, 2) + '\n');
}

// ---------------------------------------------------------------- v7 (Datil)
/** Stand-in for LitNodeClientNodeJs: createSiweMessageWithRecaps only calls this method; body copied
 *  from LitNodeClientNodeJs.generateSessionCapabilityObjectWithWildcards (7.4.0). */
const v7LitNodeClientStub = {
  generateSessionCapabilityObjectWithWildcards: async () => new ah7.RecapSessionCapabilityObject({}, []),
};

async function v7Requests() {
  const accResource = await ah7.LitAccessControlConditionResource.generateResourceString(ACCS, DATA_TO_ENCRYPT_HASH);
  return [
    { resource: new ah7.LitPKPResource(PKP_TOKEN_ID), ability: c7.LIT_ABILITY.PKPSigning },
    { resource: new ah7.LitActionResource('*'), ability: c7.LIT_ABILITY.LitActionExecution },
    {
      resource: new ah7.LitAccessControlConditionResource(accResource),
      ability: c7.LIT_ABILITY.AccessControlConditionDecryption,
    },
  ];
}

/** The documented v7 authNeededCallback: createSiweMessageWithRecaps + generateAuthSig (ethers personal_sign). */
async function v7AuthSig({ walletKey = WALLET_KEY, uri, expiration, resources, nonce = NONCE, domain, statement }) {
  const wallet = new ethers.Wallet(walletKey);
  const toSign = await ah7.createSiweMessageWithRecaps({
    uri,
    expiration,
    resources,
    walletAddress: wallet.address,
    nonce,
    litNodeClient: v7LitNodeClientStub,
    ...(domain !== undefined && { domain }),
    ...(statement !== undefined && { statement }),
  });
  return ah7.generateAuthSig({ signer: wallet, toSign });
}

/** Exactly the per-node loop of LitNodeClientNodeJs.getSessionSigs (7.4.0). */
function v7SignSessionSigs({ sessionKey, resourceAbilityRequests, capabilities, expiration, nodes }) {
  const signingTemplate = {
    sessionKey: sessionKey.publicKey,
    resourceAbilityRequests,
    capabilities,
    issuedAt: new Date().toISOString(),
    expiration,
  };
  const signatures = {};
  for (const nodeAddress of nodes) {
    const toSign = { ...signingTemplate, nodeAddress };
    const signedMessage = JSON.stringify(toSign);
    const signature = nacl.sign.detached(utf8(signedMessage), unhex(sessionKey.secretKey128));
    signatures[nodeAddress] = {
      sig: hex(signature),
      derivedVia: 'litSessionSignViaNacl',
      signedMessage,
      address: sessionKey.publicKey,
      algo: 'ed25519',
    };
  }
  return signatures;
}

async function makeV7({ nodes = NODES, seed = SESSION_SEED, issuedAt = MAKE_ISSUED_AT } = {}) {
  const sessionKey = sessionKeyFromSeed(seed);
  const uri = c7.LIT_SESSION_KEY_URI + sessionKey.publicKey;
  return withFixedNow(issuedAt, async () => {
    const resourceAbilityRequests = await v7Requests();
    // LitNodeClientNodeJs.getExpiration(): now + 24 h
    const expiration = new Date(Date.now() + 1000 * 60 * 60 * 24).toISOString();
    const authSig = await v7AuthSig({ uri, expiration, resources: resourceAbilityRequests });
    const sessionSigs = v7SignSessionSigs({
      sessionKey,
      resourceAbilityRequests,
      capabilities: [authSig],
      expiration,
      nodes,
    });
    return { sessionKey, resourceAbilityRequests, authSig, expiration, sessionSigs, uri };
  });
}

// ---------------------------------------------------------------- v8 (Naga)
function v8Requests(accResource) {
  return [
    { resource: new ah8.LitPKPResource(PKP_TOKEN_ID), ability: c8.LIT_ABILITY.PKPSigning },
    { resource: new ah8.LitActionResource('*'), ability: c8.LIT_ABILITY.LitActionExecution },
    {
      resource: new ah8.LitAccessControlConditionResource(accResource),
      ability: c8.LIT_ABILITY.AccessControlConditionDecryption,
    },
  ];
}

/** Mirrors @lit-protocol/auth 8.2.3 getEoaAuthContextAdapter + getEoaAuthContext (ViemAccountAuthenticator). */
async function v8AuthContext({ walletKey = WALLET_KEY, seed = SESSION_SEED, resources, expiration, statement, domain, nonce = NONCE, uri }) {
  const account = privateKeyToAccount(walletKey);
  const sk = sessionKeyFromSeed(seed);
  const sessionKeyPair = { publicKey: sk.publicKey, secretKey: seed }; // v8: 32-byte seed hex
  const validated = schemas8.AuthConfigSchema.parse({ resources, expiration, statement, domain });
  const authConfig = {
    domain: validated.domain,
    resources: validated.resources,
    capabilityAuthSigs: validated.capabilityAuthSigs,
    expiration: validated.expiration,
    statement: validated.statement,
  };
  const toSign = await ah8.createSiweMessageWithResources({
    uri: uri ?? schemas8.SessionKeyUriSchema.parse(sessionKeyPair.publicKey),
    statement: authConfig.statement,
    domain: authConfig.domain,
    expiration: authConfig.expiration,
    resources: authConfig.resources,
    walletAddress: account.address,
    nonce,
  });
  const authSig = await ah8.generateAuthSigWithViem({ account, toSign, address: account.address });
  return {
    authSig,
    authContext: { sessionKeyPair, authConfig, authNeededCallback: async () => authSig },
  };
}

function nagaPricing({ nodes = NODES, product = 'SIGN', userMaxPrice } = {}) {
  const nodePrices = NAGA_NODE_PRICES.filter((p) => nodes.includes(p.url));
  return nw.PricingContextSchema.parse({
    product,
    nodePrices,
    threshold: nodePrices.length,
    ...(userMaxPrice !== undefined && { userMaxPrice }),
  });
}

async function makeV8({ nodes = NODES, seed = SESSION_SEED, issuedAt = MAKE_ISSUED_AT, userMaxPrice = 10n ** 18n } = {}) {
  // userMaxPrice 'default' -> left out, so PricingContextSchema applies getUserMaxPrice() = U128 max
  return withFixedNow(issuedAt, async () => {
    const accResource = await ah8.LitAccessControlConditionResource.generateResourceString(ACCS, DATA_TO_ENCRYPT_HASH);
    const resources = v8Requests(accResource);
    const expiration = new Date(Date.now() + 1000 * 60 * 15).toISOString(); // v8 default: +15 min
    const { authSig, authContext } = await v8AuthContext({ seed, resources, expiration });
    const pricingContext = nagaPricing({ nodes, userMaxPrice: userMaxPrice === 'default' ? undefined : userMaxPrice });
    const sessionSigs = await nw.issueSessionFromContext({ authContext, pricingContext });
    const sk = sessionKeyFromSeed(seed);
    return { sessionKey: sk, resources, authSig, expiration, sessionSigs, pricingContext, authContext };
  });
}

// ---------------------------------------------------------------- checking
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const keysOf = (o) => (o && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o) : null);
const sameKeys = (o, expected) => JSON.stringify(keysOf(o)) === JSON.stringify(expected);

function normalizeNodeAddress(s) {
  let x = String(s).replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  x = x.replace(/^localhost(?=:|$)/i, '127.0.0.1');
  return x;
}

function sdkFor(network) {
  if (DATIL.includes(network)) return { gen: 'v7', ah: ah7, signedKeys: V7_SIGNED_KEYS, resourceKeys: ['resource', 'resourcePrefix'] };
  if (NAGA.includes(network)) return { gen: 'v8', ah: ah8, signedKeys: V8_SIGNED_KEYS, resourceKeys: ['resourcePrefix', 'resource'] };
  fail(`unknown network ${network} (datil-dev|datil-test|datil|naga-dev|naga-test|naga|...)`);
}

function checkAuthSig(authSig, { sdk, nowMs, sessionAddress, isWallet, errors, idx }) {
  const p = `capabilities[${idx}]`;
  const info = { index: idx };
  if (!sameKeys(authSig, AUTHSIG_KEYS)) errors.push(`${p}: keys ${JSON.stringify(keysOf(authSig))} != ${JSON.stringify(AUTHSIG_KEYS)}`);
  if (!authSig || typeof authSig.signedMessage !== 'string') {
    errors.push(`${p}: no signedMessage`);
    return info;
  }
  if (authSig.derivedVia !== 'web3.eth.personal.sign') errors.push(`${p}: derivedVia ${authSig.derivedVia}`);
  if (!/^0x[0-9a-f]{128}(1b|1c)$/.test(authSig.sig ?? '')) errors.push(`${p}: sig not 0x + 65 bytes lowercase hex with v=27/28`);
  // address must be EIP-55 checksummed
  try {
    if (ethers.utils.getAddress(authSig.address) !== authSig.address) errors.push(`${p}: address not EIP-55 checksummed`);
  } catch {
    errors.push(`${p}: address invalid`);
  }
  // SIWE parse (siwe npm) + round trip
  let siwe;
  try {
    siwe = new SiweMessage(authSig.signedMessage);
  } catch (e) {
    errors.push(`${p}: SIWE parse failed: ${String(e.message ?? e).split('\n')[0]}`);
    return info;
  }
  info.uri = siwe.uri;
  info.domain = siwe.domain;
  info.chainId = siwe.chainId;
  info.issuedAt = siwe.issuedAt;
  info.expirationTime = siwe.expirationTime;
  let rendered;
  try {
    rendered = new SiweMessage(authSig.signedMessage).toMessage();
  } catch (e) {
    rendered = `<toMessage threw ${e.message}>`;
  }
  info.roundTrip = rendered === authSig.signedMessage;
  if (!info.roundTrip) errors.push(`${p}: SIWE parse->toMessage is not byte-equal`);
  if (siwe.address !== authSig.address) errors.push(`${p}: SIWE address ${siwe.address} != AuthSig address ${authSig.address}`);
  // signature (EIP-191 personal_sign)
  try {
    const rec = ethers.utils.verifyMessage(authSig.signedMessage, authSig.sig);
    info.recovered = rec;
    if (rec !== authSig.address) errors.push(`${p}: wallet signature recovers ${rec}, not ${authSig.address}`);
  } catch (e) {
    errors.push(`${p}: wallet signature invalid (${e.reason ?? e.message})`);
  }
  // time
  if (siwe.expirationTime && Date.parse(siwe.expirationTime) <= nowMs) errors.push(`${p}: SIWE expired at ${siwe.expirationTime}`);
  if (siwe.notBefore && Date.parse(siwe.notBefore) > nowMs) errors.push(`${p}: SIWE notBefore in the future`);
  if (siwe.issuedAt && Date.parse(siwe.issuedAt) > nowMs + 60_000) errors.push(`${p}: SIWE issuedAt in the future`);
  if (isWallet) {
    const want = c7.LIT_SESSION_KEY_URI + sessionAddress;
    if (siwe.uri !== want) errors.push(`${p}: SIWE uri ${siwe.uri} != ${want}`);
  }
  // ReCap: last resource, decode (rejects unsorted), statement must end with the recap statement
  const res = siwe.resources ?? [];
  const recaps = res.filter((r) => r.startsWith('urn:recap:'));
  info.recapCount = recaps.length;
  if (recaps.length !== 1 || !res[res.length - 1]?.startsWith('urn:recap:')) errors.push(`${p}: expected exactly one urn:recap resource, last`);
  try {
    const cap = sdk.ah.RecapSessionCapabilityObject.extract(siwe);
    info.recap = cap;
    info.attenuations = cap.attenuations;
    const urn = res[res.length - 1];
    if (urn.includes('=')) errors.push(`${p}: recap base64 has padding`);
    if (cap.encodeAsSiweResource() !== urn) errors.push(`${p}: recap re-encode differs (not canonical JSON / base64url)`);
  } catch (e) {
    errors.push(`${p}: ReCap extract failed: ${e.message}`);
  }
  return info;
}

function recapCovers(cap, sdk, resourceKey, ability) {
  const r = sdk.ah.parseLitResource(resourceKey);
  return cap.verifyCapabilitiesForResource(r, ability);
}

function checkEntry(entry, ctx) {
  const { sdk, network, node, resource, ability, nowMs, mapKey } = ctx;
  const errors = [];
  const info = { node: mapKey };
  if (!sameKeys(entry, V7_ENTRY_KEYS)) errors.push(`entry keys ${JSON.stringify(keysOf(entry))} != ${JSON.stringify(V7_ENTRY_KEYS)}`);
  if (!entry || typeof entry.signedMessage !== 'string' || typeof entry.sig !== 'string' || typeof entry.address !== 'string') {
    errors.push('entry lacks sig/signedMessage/address strings');
    return { ...info, ok: false, errors };
  }
  if (entry.derivedVia !== 'litSessionSignViaNacl') errors.push(`derivedVia ${entry.derivedVia}`);
  if (entry.algo !== 'ed25519') errors.push(`algo ${entry.algo}`);
  if (!/^[0-9a-f]{64}$/.test(entry.address)) errors.push('address is not 64 lowercase hex');
  if (!/^[0-9a-f]{128}$/.test(entry.sig)) errors.push('sig is not 128 lowercase hex');
  // ed25519: tweetnacl (as the SDK) and noble strict (zip215:false ~ verify_strict)
  let naclOk = false;
  let strictOk = false;
  try {
    naclOk = nacl.sign.detached.verify(utf8(entry.signedMessage), unhex(entry.sig), unhex(entry.address));
  } catch {}
  try {
    strictOk = nobleEd.verify(unhex(entry.sig), utf8(entry.signedMessage), unhex(entry.address), { zip215: false });
  } catch {}
  info.ed25519 = { tweetnacl: naclOk, strict: strictOk };
  if (!naclOk) errors.push('ed25519 signature does not verify (tweetnacl)');
  else if (!strictOk) errors.push('ed25519 signature fails strict verification');
  // signedMessage JSON
  let m;
  try {
    m = JSON.parse(entry.signedMessage);
  } catch {
    errors.push('signedMessage is not JSON');
    return { ...info, ok: false, errors };
  }
  info.signedMessageKeys = keysOf(m);
  if (!sameKeys(m, sdk.signedKeys)) errors.push(`signedMessage keys ${JSON.stringify(keysOf(m))} != SDK ${sdk.gen} ${JSON.stringify(sdk.signedKeys)}`);
  if (JSON.stringify(m) !== entry.signedMessage) errors.push('signedMessage is not JSON.stringify form (whitespace/escaping differ)');
  if (m.sessionKey !== entry.address) errors.push(`sessionKey ${m.sessionKey} != entry address`);
  // nodeAddress: SDK writes the map key (full URL); node compares host:port
  if (m.nodeAddress !== mapKey) errors.push(`nodeAddress ${m.nodeAddress} != map key ${mapKey}`);
  if (node && normalizeNodeAddress(m.nodeAddress) !== normalizeNodeAddress(node)) errors.push(`nodeAddress ${m.nodeAddress} is not node ${node}`);
  // time rules of the node
  const iat = Date.parse(m.issuedAt);
  const exp = Date.parse(m.expiration);
  if (!ISO_MS.test(m.issuedAt ?? '') || !ISO_MS.test(m.expiration ?? '')) errors.push('issuedAt/expiration not ISO-8601 with ms and Z');
  if (!(iat <= nowMs + 60_000)) errors.push('issuedAt in the future');
  if (!(exp >= iat)) errors.push('expiration before issuedAt');
  if (!(exp >= nowMs - 60_000)) errors.push(`session expired at ${m.expiration}`);
  if (!(exp - iat <= 30 * 24 * 3600 * 1000)) errors.push('session longer than 30 days');
  // maxPrice
  if (sdk.gen === 'v8') {
    if (typeof m.maxPrice !== 'string' || !/^0x[0-9a-f]+$/.test(m.maxPrice)) errors.push(`maxPrice ${JSON.stringify(m.maxPrice)} is not "0x<hex wei>"`);
    else if (m.maxPrice !== '0x' + BigInt(m.maxPrice).toString(16)) errors.push('maxPrice has leading zeros (SDK writes bigint.toString(16))');
    info.maxPrice = m.maxPrice;
  } else if ('maxPrice' in m) errors.push('maxPrice present on Datil');
  // resourceAbilityRequests
  const rars = Array.isArray(m.resourceAbilityRequests) ? m.resourceAbilityRequests : null;
  if (!rars) errors.push('resourceAbilityRequests not an array');
  const rarKeys = [];
  for (const [i, r] of (rars ?? []).entries()) {
    const itemKeys = keysOf(r);
    const wantItem = r && 'data' in r ? ['resource', 'ability', 'data'] : ['resource', 'ability'];
    if (!sameKeys(r, wantItem)) errors.push(`resourceAbilityRequests[${i}] keys ${JSON.stringify(itemKeys)} != ${JSON.stringify(wantItem)}`);
    if (!sameKeys(r?.resource, sdk.resourceKeys))
      errors.push(`resourceAbilityRequests[${i}].resource keys ${JSON.stringify(keysOf(r?.resource))} != SDK ${sdk.gen} ${JSON.stringify(sdk.resourceKeys)}`);
    rarKeys.push(r?.resource ? `${r.resource.resourcePrefix}://${r.resource.resource}` : '?');
  }
  info.resourceAbilityRequests = (rars ?? []).map((r, i) => ({ resource: rarKeys[i], ability: r?.ability }));
  // capabilities
  const caps = Array.isArray(m.capabilities) ? m.capabilities : null;
  if (!caps || caps.length === 0) errors.push('capabilities missing or empty');
  const capInfos = (caps ?? []).map((c, idx) =>
    checkAuthSig(c, { sdk, nowMs, sessionAddress: entry.address, isWallet: idx === caps.length - 1, errors, idx })
  );
  // what to check coverage for
  const wanted = resource
    ? [{ resource, ability }]
    : (rars ?? []).map((r) => ({ resource: `${r.resource?.resourcePrefix}://${r.resource?.resource}`, ability: r.ability }));
  info.coverage = [];
  for (const w of wanted) {
    let parsedKey;
    try {
      parsedKey = sdk.ah.parseLitResource(w.resource).getResourceKey();
    } catch (e) {
      errors.push(`resource ${w.resource}: ${e.message}`);
      continue;
    }
    const prefix = parsedKey.split('://')[0];
    const inRars = (rars ?? []).some((r) => {
      const k = `${r.resource?.resourcePrefix}://${r.resource?.resource}`;
      return (k === `${prefix}://*` || k === parsedKey) && r.ability === w.ability;
    });
    // the wallet capability (last) must be for this session key and cover the resource
    const coveringCaps = capInfos
      .map((ci, idx) => {
        if (!ci.recap) return false;
        try {
          return recapCovers(ci.recap, sdk, w.resource, w.ability) ? idx : false;
        } catch {
          return false;
        }
      })
      .filter((x) => x !== false);
    const walletIdx = (caps ?? []).length - 1;
    const ok = inRars && coveringCaps.includes(walletIdx);
    info.coverage.push({ resource: parsedKey, ability: w.ability, inResourceAbilityRequests: inRars, coveredByCapabilities: coveringCaps });
    if (!inRars) errors.push(`resourceAbilityRequests do not cover ${parsedKey} ${w.ability}`);
    if (!coveringCaps.includes(walletIdx)) errors.push(`Resource id not found in auth_sig capabilities (${parsedKey} ${w.ability})`);
    void ok;
  }
  for (const ci of capInfos) delete ci.recap;
  info.capabilities = capInfos;
  return { ...info, ok: errors.length === 0, errors };
}

async function check({ sigs, network, node, resource, ability, now }) {
  const sdk = sdkFor(network);
  const nowIso = now ?? new Date().toISOString();
  const nowMs = Date.parse(nowIso);
  if (Number.isNaN(nowMs)) fail(`bad --now ${now}`);
  if ((resource && !ability) || (!resource && ability)) fail('--resource and --ability go together');
  if (!sigs || typeof sigs !== 'object' || Array.isArray(sigs)) fail('sessionSigs is not a JSON object map');
  let keys = Object.keys(sigs);
  if (keys.length === 0) fail('sessionSigs map is empty');
  if (node) {
    if (!(node in sigs)) fail(`no entry for node ${node} (have ${keys.join(', ')})`);
    keys = [node];
  }
  const entries = keys.map((k) =>
    checkEntry(sigs[k], { sdk, network, node: node ?? k, resource, ability, nowMs, mapKey: k })
  );
  // the SDK's own validator (v8 only: validateSessionSigs from @lit-protocol/networks), at --now
  let sdkValidator;
  if (sdk.gen === 'v8') {
    const sub = Object.fromEntries(keys.map((k) => [k, clone(sigs[k])]));
    try {
      sdkValidator = await withFixedNow(nowIso, async () => sdkValidateSessionSigs(sub));
    } catch (e) {
      sdkValidator = { isValid: false, errors: [String(e.message)] };
    }
  }
  const ok = entries.every((e) => e.ok) && (!sdkValidator || sdkValidator.isValid);
  return { ok, network, sdk: sdk.gen, now: nowIso, entries, ...(sdkValidator && { sdkValidateSessionSigs: sdkValidator }) };
}

// ---------------------------------------------------------------- golden
const GOLDEN_TEXT = `localhost wants you to sign in with your Ethereum account:
0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A

This is a test statement.  You can put anything you want here. I further authorize the stated URI to perform the following actions on my behalf: (1) 'Threshold': 'Decryption' for 'lit-accesscontrolcondition://*'. (2) 'Threshold': 'Execution' for 'lit-litaction://*'. (3) 'Threshold': 'Signing' for 'lit-pkp://*'.

URI: lit:session:ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c
Version: 1
Chain ID: 1
Nonce: 0xabababababababababababababababababababababababababababababababab
Issued At: 2026-11-24T21:42:09.296Z
Expiration Time: 2030-01-01T00:00:00.000Z
Resources:
- urn:recap:eyJhdHQiOnsibGl0LWFjY2Vzc2NvbnRyb2xjb25kaXRpb246Ly8qIjp7IlRocmVzaG9sZC9EZWNyeXB0aW9uIjpbe31dfSwibGl0LWxpdGFjdGlvbjovLyoiOnsiVGhyZXNob2xkL0V4ZWN1dGlvbiI6W3t9XX0sImxpdC1wa3A6Ly8qIjp7IlRocmVzaG9sZC9TaWduaW5nIjpbe31dfX0sInByZiI6W119`;

function designGoldenText() {
  // Prefer the live DESIGN.md block (if present) so drift is caught; fall back to the copy above.
  const candidates = [process.env.LIT_DESIGN_MD, path.resolve(import.meta.dirname ?? '.', '../../../shared/DESIGN.md'), '/work/shared/DESIGN.md'];
  for (const f of candidates) {
    if (!f || !fs.existsSync(f)) continue;
    const md = fs.readFileSync(f, 'utf8');
    const m = md.match(/```\n(localhost wants you to sign in[\s\S]*?)\n```/);
    if (m) return { text: m[1], source: f };
  }
  return { text: GOLDEN_TEXT, source: 'crosscheck.mjs copy' };
}

async function golden() {
  const sk = sessionKeyFromSeed(SESSION_SEED);
  const uri = c7.LIT_SESSION_KEY_URI + sk.publicKey;
  const resources = [
    { resource: new ah7.LitAccessControlConditionResource('*'), ability: c7.LIT_ABILITY.AccessControlConditionDecryption },
    { resource: new ah7.LitActionResource('*'), ability: c7.LIT_ABILITY.LitActionExecution },
    { resource: new ah7.LitPKPResource('*'), ability: c7.LIT_ABILITY.PKPSigning },
  ];
  const authSig = await withFixedNow(GOLDEN_ISSUED_AT, () =>
    v7AuthSig({ uri, expiration: GOLDEN_EXPIRATION, resources })
  );
  const want = designGoldenText();
  const equal = authSig.signedMessage === want.text;
  let firstDiff = -1;
  if (!equal) {
    const a = authSig.signedMessage;
    const b = want.text;
    firstDiff = [...a].findIndex((ch, i) => ch !== b[i]);
    if (firstDiff < 0) firstDiff = Math.min(a.length, b.length);
  }
  return { equal, expectedFrom: want.source, firstDiff, sessionPublicKey: sk.publicKey, authSig };
}

// ---------------------------------------------------------------- tampered variants
function resignEntry(entry, mutate, { seed = SESSION_SEED, address } = {}) {
  const m = JSON.parse(entry.signedMessage);
  mutate(m);
  const signedMessage = JSON.stringify(m);
  const kp = nacl.sign.keyPair.fromSeed(unhex(seed));
  return {
    ...entry,
    sig: hex(nacl.sign.detached(utf8(signedMessage), kp.secretKey)),
    signedMessage,
    address: address ?? hex(kp.publicKey),
  };
}

async function walletSign(text, key = WALLET_KEY) {
  const w = new ethers.Wallet(key);
  return { sig: await w.signMessage(text), derivedVia: 'web3.eth.personal.sign', signedMessage: text, address: w.address };
}

/** SIWE text built with the generation's SDK builder, with overrides. */
async function siweFor(gen, { uri, expiration, resources, walletKey = WALLET_KEY }) {
  const address = new ethers.Wallet(walletKey).address;
  if (gen === 'v7') {
    return ah7.createSiweMessageWithRecaps({ uri, expiration, resources, walletAddress: address, nonce: NONCE, litNodeClient: v7LitNodeClientStub });
  }
  return ah8.createSiweMessageWithResources({ uri, statement: '', domain: 'localhost', expiration, resources, walletAddress: address, nonce: NONCE });
}

async function makeVariants(gen, made) {
  const node = NODES[0];
  const other = NODES[1];
  const base = made.sessionSigs[node];
  const m0 = JSON.parse(base.signedMessage);
  const walletCap = m0.capabilities[m0.capabilities.length - 1];
  const ah = gen === 'v7' ? ah7 : ah8;
  const C = gen === 'v7' ? c7 : c8;
  const pkpKey = new ah.LitPKPResource(PKP_TOKEN_ID).getResourceKey();
  const inputs = { node, resource: pkpKey, ability: C.LIT_ABILITY.PKPSigning, now: MAKE_NOW };
  const uri = c7.LIT_SESSION_KEY_URI + made.sessionKey.publicKey;
  const attacker = sessionKeyFromSeed(ATTACKER_SEED);
  const nowMs = Date.parse(MAKE_NOW);
  const iso = (ms) => new Date(ms).toISOString();
  const withWalletCap = (cap) => (m) => {
    m.capabilities[m.capabilities.length - 1] = cap;
  };
  const out = [];
  const deviations = [];
  const add = (name, reason, entry, extra = {}) => out.push({ name, reason, ...inputs, ...extra, sessionSigs: { [extra.node ?? node]: entry } });
  // Not the SDK's exact form, but a Lit node would most likely still accept these (serde ignores key
  // order/whitespace, `algo` is optional, maxPrice strings are read as hex). Our strict `check` flags them.
  const addDev = (name, reason, entry, extra = {}) => deviations.push({ name, reason, ...inputs, ...extra, sessionSigs: { [extra.node ?? node]: entry } });

  await withFixedNow(MAKE_ISSUED_AT, async () => {
    // 1. signedMessage changed after signing
    add('signedMessage-tampered', 'signedMessage edited after signing (expiration pushed out)', {
      ...base,
      signedMessage: base.signedMessage.replace(`"expiration":"${m0.expiration}"`, `"expiration":"${iso(Date.parse(m0.expiration) + 3600_000)}"`),
    });
    // 2. forged signature: another key signs, address kept
    const forged = resignEntry(base, () => {}, { seed: ATTACKER_SEED, address: base.address });
    add('sig-forged', 'ed25519 sig made by a different key; address is the victim session key', forged);
    add('sig-zero', 'ed25519 sig is all zeros', { ...base, sig: '00'.repeat(64) });
    // 3. wallet signature inside capabilities broken
    const badWallet = { ...walletCap, sig: walletCap.sig.slice(0, 10) + (walletCap.sig[10] === '0' ? '1' : '0') + walletCap.sig.slice(11) };
    add('wallet-sig-broken', 'capability AuthSig sig has one nibble flipped (session re-signed)', resignEntry(base, withWalletCap(badWallet)));
    const otherSigner = { ...(await walletSign(walletCap.signedMessage, ATTACKER_WALLET_KEY)), address: walletCap.address };
    add('wallet-sig-wrong-signer', 'SIWE signed by a different wallet than its address (session re-signed)', resignEntry(base, withWalletCap(otherSigner)));
    // 4. nodeAddress of another node
    add('nodeAddress-wrong', `signed for ${other} but presented to ${node}`, resignEntry(base, (m) => (m.nodeAddress = other)));
    add('nodeAddress-other-host', 'nodeAddress is another host:port (map key kept)', resignEntry(base, (m) => (m.nodeAddress = 'http://127.0.0.1:9999')));
    // 5. time
    add('session-expired', 'session expiration 1 day before now', resignEntry(base, (m) => {
      m.issuedAt = iso(nowMs - 2 * 86400_000);
      m.expiration = iso(nowMs - 86400_000);
    }));
    add('session-issued-in-future', 'issuedAt 10 minutes after now', resignEntry(base, (m) => {
      m.issuedAt = iso(nowMs + 600_000);
    }));
    add('session-over-30-days', 'expiration - issuedAt = 31 days', resignEntry(base, (m) => {
      m.expiration = iso(Date.parse(m.issuedAt) + 31 * 86400_000);
    }));
    add('session-expiration-before-issuedAt', 'expiration < issuedAt', resignEntry(base, (m) => {
      m.expiration = iso(Date.parse(m.issuedAt) - 1000);
    }));
    const siweExpired = await siweFor(gen, { uri, expiration: iso(nowMs - 1000), resources: made.resources ?? made.resourceAbilityRequests });
    add('siwe-expired', 'wallet SIWE expired 1 s before now (wallet + session re-signed)', resignEntry(base, withWalletCap(await walletSign(siweExpired))));
    // 6. AuthSig shape
    add('authsig-extra-key', 'capability AuthSig has an unknown key "foo"', resignEntry(base, withWalletCap({ ...walletCap, foo: 'bar' })));
    add('authsig-address-lowercase', 'capability AuthSig address is lowercase (not EIP-55)', resignEntry(base, withWalletCap({ ...walletCap, address: walletCap.address.toLowerCase() })));
    {
      const lowered = walletCap.signedMessage.replace(walletCap.address, walletCap.address.toLowerCase());
      const s = await walletSign(lowered);
      add('siwe-address-lowercase', 'SIWE text carries a lowercase address (wallet re-signed)', resignEntry(base, withWalletCap({ ...s, address: walletCap.address })));
    }
    {
      const k = Object.keys(walletCap).reverse();
      addDev('authsig-keys-reordered', 'capability AuthSig keys in another order', resignEntry(base, withWalletCap(Object.fromEntries(k.map((x) => [x, walletCap[x]])))));
    }
    // 7. uri / session key binding
    const siweOtherUri = await siweFor(gen, { uri: c7.LIT_SESSION_KEY_URI + attacker.publicKey, expiration: m0.expiration, resources: made.resources ?? made.resourceAbilityRequests });
    add('siwe-uri-other-session-key', 'SIWE uri names another session key (wallet + session re-signed)', resignEntry(base, withWalletCap(await walletSign(siweOtherUri))));
    add('session-key-swapped', 'attacker session key signs, reusing the victim wallet AuthSig (uri names the victim key)',
      resignEntry(base, (m) => (m.sessionKey = attacker.publicKey), { seed: ATTACKER_SEED }));
    add('entry-address-mismatch', 'signedMessage.sessionKey is the victim key but entry address/sig are the attacker key',
      resignEntry(base, () => {}, { seed: ATTACKER_SEED }));
    // 8. coverage
    const actionOnly = (made.resources ?? made.resourceAbilityRequests).filter((r) => r.resource.resourcePrefix === 'lit-litaction');
    const siweActionOnly = await siweFor(gen, { uri, expiration: m0.expiration, resources: actionOnly });
    add('recap-not-covering-resource', 'wallet ReCap only grants lit-litaction://* Threshold/Execution', resignEntry(base, withWalletCap(await walletSign(siweActionOnly))));
    add('requests-not-covering-resource', 'resourceAbilityRequests list only the lit action', resignEntry(base, (m) => {
      m.resourceAbilityRequests = m.resourceAbilityRequests.filter((r) => r.resource.resourcePrefix === 'lit-litaction');
    }));
    add('wrong-ability', 'same PKP, asked with lit-action-execution ability', base, { ability: C.LIT_ABILITY.LitActionExecution });
    {
      // statement no longer ends with the ReCap statement
      const s = new SiweMessage(walletCap.signedMessage);
      s.statement = s.statement.replace("'Signing'", "'Sign'");
      add('siwe-statement-mismatch', 'SIWE statement altered so it no longer ends with the ReCap statement (wallet re-signed)',
        resignEntry(base, withWalletCap(await walletSign(s.toMessage()))));
    }
    {
      // unsorted recap JSON
      const s = new SiweMessage(walletCap.signedMessage);
      const urn = s.resources[s.resources.length - 1];
      const obj = JSON.parse(Buffer.from(urn.slice('urn:recap:'.length), 'base64url').toString('utf8'));
      const reversed = { prf: obj.prf, att: Object.fromEntries(Object.entries(obj.att).reverse()) };
      s.resources[s.resources.length - 1] = 'urn:recap:' + Buffer.from(JSON.stringify(reversed)).toString('base64url');
      add('recap-unsorted', 'ReCap JSON keys not sorted (wallet re-signed)', resignEntry(base, withWalletCap(await walletSign(s.toMessage()))));
      const padded = 'urn:recap:' + Buffer.from(JSON.stringify(obj)).toString('base64');
      if (padded.includes('=')) {
        s.resources[s.resources.length - 1] = padded;
        add('recap-padded-base64', 'ReCap encoded as padded standard base64 (wallet re-signed)', resignEntry(base, withWalletCap(await walletSign(s.toMessage()))));
      }
    }
    add('capabilities-empty', 'no capability AuthSig at all', resignEntry(base, (m) => (m.capabilities = [])));
    addDev('signedMessage-pretty-printed', 'signedMessage re-serialized with spaces (and re-signed)', (() => {
      const sm = JSON.stringify(JSON.parse(base.signedMessage), null, 1);
      const kp = nacl.sign.keyPair.fromSeed(unhex(SESSION_SEED));
      return { ...base, signedMessage: sm, sig: hex(nacl.sign.detached(utf8(sm), kp.secretKey)) };
    })());
    if (gen === 'v8') {
      add('maxPrice-missing', 'Naga signedMessage without maxPrice (re-signed)', resignEntry(base, (m) => delete m.maxPrice));
      addDev('maxPrice-decimal', 'maxPrice as a decimal string (re-signed)', resignEntry(base, (m) => (m.maxPrice = BigInt(m.maxPrice).toString(10))));
    }
    addDev('algo-missing', 'entry without algo', (() => {
      const { algo, ...rest } = base;
      void algo;
      return rest;
    })());
  });
  return { variants: out, deviations };
}

function requestInputs(gen, reqs) {
  return reqs.map((r) => ({ resource: r.resource.getResourceKey(), ability: r.ability }));
}

async function makeFile(gen, outFile, userMaxPrice) {
  // --user-max-price default: what lit-client does when the dapp sets none (U128 max split over threshold nodes)
  const ump = userMaxPrice === undefined ? {} : { userMaxPrice: userMaxPrice === 'default' ? 'default' : BigInt(userMaxPrice) };
  const made = gen === 'v7' ? await makeV7() : await makeV8(ump);
  const reqs = made.resources ?? made.resourceAbilityRequests;
  const requests = requestInputs(gen, reqs);
  const network = gen === 'v7' ? 'datil-dev' : 'naga-dev';
  const doc = {
    description: `Official SDK ${gen} sessionSigs (${gen === 'v7' ? '@lit-protocol/auth-helpers 7.4.0 + getSessionSigs loop of lit-node-client-nodejs 7.4.0' : '@lit-protocol/networks 8.4.1 issueSessionFromContext'})`,
    network,
    inputs: {
      walletKey: WALLET_KEY,
      walletAddress: new ethers.Wallet(WALLET_KEY).address,
      sessionSeed: SESSION_SEED,
      sessionPublicKey: made.sessionKey.publicKey,
      nonce: NONCE,
      issuedAt: MAKE_ISSUED_AT,
      expiration: made.expiration,
      now: MAKE_NOW,
      nodes: NODES,
      requests,
      accessControlConditions: ACCS,
      dataToEncryptHash: DATA_TO_ENCRYPT_HASH,
      ...(gen === 'v8' && {
        pricing: {
          product: made.pricingContext.product,
          userMaxPrice: made.pricingContext.userMaxPrice.toString(),
          threshold: made.pricingContext.threshold,
          nodePrices: made.pricingContext.nodePrices.map((p) => ({ url: p.url, prices: p.prices.map(String) })),
        },
      }),
    },
    // every (node, request) pair here must verify
    checks: NODES.flatMap((node) => requests.map((r) => ({ node, ...r, now: MAKE_NOW }))),
    sessionSigs: made.sessionSigs,
  };
  const { variants, deviations } = await makeVariants(gen, made);
  const tamperedFile = outFile.replace(/(\.json)?$/, '.tampered.json');
  writeJson(outFile, doc);
  writeJson(tamperedFile, {
    description:
      'variants: each must be refused for its node/resource/ability/now (authsig-extra-key and *-address-lowercase rest on DESIGN.md §3 rules). ' +
      'sdkFormDeviations: not the SDK form; a node would probably accept them, a strict checker (crosscheck.mjs check) refuses them.',
    network,
    variants,
    sdkFormDeviations: deviations,
  });
  return { ok: true, out: outFile, tampered: tamperedFile, entries: Object.keys(made.sessionSigs).length, variants: variants.length, sdkFormDeviations: deviations.length };
}

// ---------------------------------------------------------------- bench
async function bench() {
  const time = async (fn, minMs = 800) => {
    for (let i = 0; i < 3; i++) await fn(); // warm-up
    let n = 0;
    const t0 = process.hrtime.bigint();
    let el = 0;
    while (el < minMs * 1e6) {
      await fn();
      n++;
      el = Number(process.hrtime.bigint() - t0);
    }
    const us = el / 1e3 / n;
    return { iterations: n, usPerOp: Math.round(us * 10) / 10, opsPerSec: Math.round((1e6 / us) * 10) / 10 };
  };
  const made = await makeV7();
  const nodes30 = Array.from({ length: 30 }, (_, i) => `https://10.0.0.${i + 1}:7470`);
  const signFor = (nodes) => time(() =>
    v7SignSessionSigs({
      sessionKey: made.sessionKey,
      resourceAbilityRequests: made.resourceAbilityRequests,
      capabilities: [made.authSig],
      expiration: made.expiration,
      nodes,
    })
  );
  const sign30 = await signFor(nodes30);
  const sign3 = await signFor(nodes30.slice(0, 3));
  const entry = made.sessionSigs[NODES[0]];
  const msg = utf8(entry.signedMessage);
  const sig = unhex(entry.sig);
  const pub = unhex(entry.address);
  const verify1 = await time(() => {
    if (!nacl.sign.detached.verify(msg, sig, pub)) throw new Error('verify failed');
  });
  const authSig1 = await time(() =>
    v7AuthSig({ uri: made.uri, expiration: made.expiration, resources: made.resourceAbilityRequests })
  );
  return {
    ok: true,
    library: 'tweetnacl 1.0.3 (ed25519), ethers 5.7.2 (secp256k1), node ' + process.version,
    signSessionSigs30Nodes: sign30,
    signSessionSigs3Nodes: sign3,
    verifyOneEntry: verify1,
    createOneAuthSig: authSig1,
  };
}

// ---------------------------------------------------------------- selftest
async function selftest() {
  const results = [];
  const g = await golden();
  results.push({ name: 'golden SIWE equals DESIGN.md', ok: g.equal });
  for (const gen of ['v7', 'v8']) {
    const made = gen === 'v7' ? await makeV7() : await makeV8();
    const network = gen === 'v7' ? 'datil-dev' : 'naga-dev';
    const reqs = requestInputs(gen, made.resources ?? made.resourceAbilityRequests);
    for (const node of NODES) {
      for (const r of reqs) {
        const res = await check({ sigs: made.sessionSigs, network, node, resource: r.resource, ability: r.ability, now: MAKE_NOW });
        results.push({ name: `${gen} valid ${node} ${r.ability}`, ok: res.ok, errors: res.entries.flatMap((e) => e.errors) });
      }
    }
    const all = await check({ sigs: made.sessionSigs, network, now: MAKE_NOW });
    results.push({ name: `${gen} valid all entries`, ok: all.ok, errors: all.entries.flatMap((e) => e.errors) });
    // the other generation's rules must refuse it (key order / maxPrice differ)
    const cross = await check({ sigs: made.sessionSigs, network: gen === 'v7' ? 'naga-dev' : 'datil-dev', now: MAKE_NOW });
    results.push({ name: `${gen} refused under the other generation`, ok: !cross.ok });
    const { variants, deviations } = await makeVariants(gen, made);
    for (const v of [...variants, ...deviations]) {
      const res = await check({ sigs: v.sessionSigs, network, node: v.node, resource: v.resource, ability: v.ability, now: v.now });
      results.push({ name: `${gen} tampered ${v.name} refused`, ok: !res.ok, errors: res.ok ? ['accepted!'] : undefined });
    }
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  return { ok: failed === 0, passed, failed, results: results.filter((r) => !r.ok), summaryLine: `${passed} passed, ${failed} failed` };
}

// ---------------------------------------------------------------- main
async function main() {
  const args = parseArgs(process.argv.slice(2));
  const cmd = args._[0];
  let out;
  switch (cmd) {
    case 'golden': {
      const g = await golden();
      if (args.json) out = g;
      else {
        process.stdout.write(g.authSig.signedMessage + '\n');
        if (!g.equal) fail(`golden SIWE differs from ${g.expectedFrom} at char ${g.firstDiff}`);
        return;
      }
      if (!g.equal) {
        console.log(JSON.stringify(out, null, 2));
        fail(`golden SIWE differs from ${g.expectedFrom} at char ${g.firstDiff}`);
      }
      break;
    }
    case 'make-v7':
    case 'make-v8':
      if (!args.out || args.out === true) fail('--out FILE required');
      out = await makeFile(cmd.slice(5), args.out, typeof args['user-max-price'] === 'string' ? args['user-max-price'] : undefined);
      break;
    case 'check': {
      if (!args.sigs || !args.network) fail('usage: check --sigs FILE|- --network NAME [--node URL] [--resource P://ID --ability A] [--now ISO]');
      let sigs = readJson(args.sigs);
      // accept a make-v7/make-v8 document too
      if (sigs && sigs.sessionSigs && !('signedMessage' in sigs)) sigs = sigs.sessionSigs;
      out = await check({ sigs, network: args.network, node: args.node, resource: args.resource, ability: args.ability, now: args.now });
      console.log(JSON.stringify(out, null, 2));
      if (!out.ok) {
        const first = out.entries.find((e) => !e.ok);
        fail(first ? `${first.node}: ${first.errors[0]}` : `SDK validator: ${out.sdkValidateSessionSigs?.errors?.[0]}`);
      }
      return;
    }
    case 'bench':
      out = await bench();
      break;
    case 'selftest':
      out = await selftest();
      console.log(JSON.stringify(out, null, 2));
      console.log(out.summaryLine);
      if (!out.ok) fail(`selftest: ${out.summaryLine}; first: ${out.results[0]?.name}`);
      return;
    default:
      fail('usage: crosscheck.mjs golden|make-v7 --out F|make-v8 --out F|check ...|bench|selftest');
  }
  console.log(JSON.stringify(out, null, 2));
}

main().then(
  () => process.exit(0),
  (e) => {
    const msg = e instanceof Fail ? e.message : `internal error: ${e?.stack?.split('\n').slice(0, 2).join(' | ') ?? e}`;
    process.stderr.write(msg.replace(/\n/g, ' ') + '\n');
    process.exit(1);
  }
);
