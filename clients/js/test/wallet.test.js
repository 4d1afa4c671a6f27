// The page's own wallet (docs/bridge-protocol.md, "When the page's wallet signs"): `wallet:
// 'browser'` finds an EIP-1193 wallet (EIP-6963, else window.ethereum) for its account, and goes
// only through the extension, whose in-page script checks and signs the step. This client never
// asks a wallet to sign: over loopback HTTP whoever holds the port could be answering. The
// wallets here are fakes that record every call; the in-page script's signing is in tests/e2e.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import { requestSessionSigs, CompanionError } from '../index.js';
import { startCompanion } from './companion.js';

const ALICE = '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A';
const BOB = '0x5B38Da6a701c568545dCfcB03FcB875f56beddC4';
const SIG = `0x${'1b'.repeat(65)}`;
// Not ASCII, several lines: what is signed is the UTF-8 bytes, exactly.
const MESSAGE = 'localhost wants you to sign in with your Ethereum account:\n0x19E7…\n\nRé-authorize — ✓\n';
const STEP = { ticket: 'ab'.repeat(16), address: ALICE, message: MESSAGE, expiresAt: '2030-01-01T00:05:00.000Z' };
const RESULT = {
  sessionSigs: { 'https://node1.example:7470': { sig: 'ab', derivedVia: 'litSessionSignViaNacl', signedMessage: '{}', address: 'cd', algo: 'ed25519' } },
  wallet: ALICE,
  sessionKey: 'cd'.repeat(32),
  expiration: '2030-01-01T00:00:00.000Z',
  reused: false,
};
const params = (extra = {}) => ({
  network: 'datil-dev',
  resourceAbilityRequests: [{ resource: { resource: '*', resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }],
  nodeUrls: ['https://node1.example:7470'],
  ...extra,
});

/**
 * An EIP-1193 wallet holding `accounts`: `eth_requestAccounts` (after `connect`) and
 * `eth_accounts` answer them, `personal_sign` answers `sign(params)`. Records every call.
 */
function fakeWallet({ accounts = [ALICE], connect = () => accounts, sign = () => SIG } = {}) {
  const calls = [];
  const provider = {
    calls,
    async request({ method, params }) {
      calls.push({ method, params });
      if (method === 'eth_requestAccounts') return connect();
      if (method === 'eth_accounts') return accounts;
      if (method === 'personal_sign') return sign(params);
      throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 });
    },
  };
  return provider;
}

/** The wallet answers EIP-6963 discovery with `{ info, provider }`. */
function announce(provider, info) {
  const detail = Object.freeze({ info: Object.freeze({ uuid: info.rdns, icon: 'data:,', ...info }), provider });
  window.addEventListener('eip6963:requestProvider', () =>
    window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail })),
  );
}

const refused = (code) => Object.assign(new Error('User rejected the request.'), { code });

/**
 * A companion that answers getSessionSigs with the step (or `first(req)`) and walletSignature with
 * the result (or `second(req)`).
 */
function stepping({ first, second } = {}) {
  return startCompanion((req) => {
    const { id, method } = req.json;
    if (method === 'getSessionSigs') return first ? first(req) : { status: 200, json: { v: 1, id, result: { signWithWallet: STEP } } };
    if (method === 'walletSignature') return second ? second(req) : { status: 200, json: { v: 1, id, result: RESULT } };
    return { status: 400, json: { v: 1, id, error: { code: 4200, name: 'unsupported', message: 'no' } } };
  });
}

const http = (port, extra = {}) => ({ transports: ['http'], port, pollIntervalMs: 0, walletTimeoutMs: 20, ...extra });

beforeEach(() => {
  globalThis.window = new EventTarget();
});
afterEach(() => {
  delete globalThis.window;
});

/** A fake extension whose in-page script signs itself: `answer(envelope)` → response envelope. Records every envelope. */
function extension(answer = (env) => ({ v: 1, id: env.id, result: RESULT })) {
  const calls = [];
  window.litCompanion = {
    info: { name: 'Lit Companion', version: '0.1.0', protocol: [1] },
    request: async (envelope) => {
      calls.push(envelope);
      return answer(envelope);
    },
  };
  return calls;
}

const viaExtension = (extra = {}) => ({ transports: ['extension', 'http'], walletTimeoutMs: 20, ...extra });

test("wallet 'browser' over loopback HTTP: 4200 naming the extension, before any wallet call or request", async () => {
  const wallet = fakeWallet();
  announce(wallet, { name: 'MetaMask', rdns: 'io.metamask' });
  window.ethereum = fakeWallet();
  const c = await stepping();
  try {
    for (const options of [http(c.port), { ...http(c.port), transports: ['http', 'deeplink'] }, viaExtension({ port: c.port })]) {
      await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), options), (e) => {
        assert.ok(e instanceof CompanionError);
        assert.equal(e.code, 4200);
        assert.match(e.message, /Lit Companion extension/);
        return true;
      });
    }
    assert.equal(c.requests.length, 0, 'nothing went to the port');
    assert.deepEqual(wallet.calls, [], 'the wallet was asked nothing');
    assert.deepEqual(window.ethereum.calls, []);
  } finally {
    await c.close();
  }
});

test('a step from whatever holds the loopback port is never signed: 4100, and nothing more is sent', async () => {
  // A squatter on the port answers an ordinary request with a message of its own to sign.
  window.ethereum = fakeWallet();
  const c = await stepping();
  try {
    await assert.rejects(requestSessionSigs(params({ wallet: ALICE }), http(c.port)), (e) => {
      assert.ok(e instanceof CompanionError);
      assert.equal(e.code, 4100);
      assert.match(e.message, /wallet was asked nothing/);
      return true;
    });
    assert.deepEqual(c.requests.map((r) => r.json.method), ['getSessionSigs']);
    assert.deepEqual(window.ethereum.calls, []);
  } finally {
    await c.close();
  }
});

test('through the extension, whose in-page script signs itself, the client asks the wallet only for the account', async () => {
  const wallet = fakeWallet();
  announce(wallet, { name: 'MetaMask', rdns: 'io.metamask' });
  window.ethereum = fakeWallet({ accounts: [BOB] });
  const calls = extension();
  assert.deepEqual(await requestSessionSigs(params({ wallet: 'browser' }), viaExtension()), RESULT);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].params.externalWallet, { address: ALICE, name: 'MetaMask' });
  assert.equal(calls[0].params.wallet, undefined, "'browser' itself never goes on the wire");
  assert.deepEqual(wallet.calls.map((x) => x.method), ['eth_requestAccounts']);
  assert.deepEqual(window.ethereum.calls, [], 'an announced wallet comes before window.ethereum');
});

test('an extension that hands a step on gets no signature: 4100, and the wallet is asked nothing', async () => {
  window.ethereum = fakeWallet();
  const calls = extension((env) => ({ v: 1, id: env.id, result: { signWithWallet: STEP } }));
  await assert.rejects(requestSessionSigs(params({ wallet: ALICE }), viaExtension()), { code: 4100 });
  assert.deepEqual(calls.map((e) => e.method), ['getSessionSigs']);
  assert.deepEqual(window.ethereum.calls, []);
});

test('of several announced wallets the first connects, or the one walletRdns names', async () => {
  const first = fakeWallet({ accounts: [BOB] });
  const second = fakeWallet({ accounts: [ALICE] });
  announce(first, { name: 'Rabby Wallet', rdns: 'io.rabby' });
  announce(second, { name: 'MetaMask', rdns: 'io.metamask' });
  const calls = extension();
  await requestSessionSigs(params({ wallet: 'browser' }), viaExtension());
  assert.deepEqual(calls[0].params.externalWallet, { address: BOB, name: 'Rabby Wallet' });
  await requestSessionSigs(params({ wallet: 'browser' }), viaExtension({ walletRdns: 'io.metamask' }));
  assert.deepEqual(calls[1].params.externalWallet, { address: ALICE, name: 'MetaMask' });
  assert.equal(first.calls.filter((x) => x.method === 'eth_requestAccounts').length, 1);
  assert.equal(second.calls.filter((x) => x.method === 'eth_requestAccounts').length, 1);
  await assert.rejects(
    requestSessionSigs(params({ wallet: 'browser' }), viaExtension({ walletRdns: 'com.coinbase.wallet' })),
    (e) => e instanceof CompanionError && e.code === 4601 && /com\.coinbase\.wallet/.test(e.message),
  );
  assert.equal(calls.length, 2, 'nothing sent for a wallet that is not there');
});

test('without EIP-6963, window.ethereum connects, named "Browser wallet"', async () => {
  window.ethereum = fakeWallet();
  const calls = extension();
  assert.deepEqual(await requestSessionSigs(params({ wallet: 'browser' }), viaExtension()), RESULT);
  assert.deepEqual(calls[0].params.externalWallet, { address: ALICE, name: 'Browser wallet' });
  assert.deepEqual(window.ethereum.calls.map((x) => x.method), ['eth_requestAccounts']);
});

test('an explicit ethereum option is the only wallet asked; discovery is skipped', async () => {
  const announced = fakeWallet();
  announce(announced, { name: 'MetaMask', rdns: 'io.metamask' });
  let discovery = 0;
  window.addEventListener('eip6963:requestProvider', () => discovery++);
  const mine = fakeWallet({ accounts: [BOB] });
  const calls = extension();
  await requestSessionSigs(params({ wallet: 'browser' }), viaExtension({ ethereum: mine }));
  assert.equal(calls[0].params.externalWallet.address, BOB);
  assert.deepEqual(mine.calls.map((x) => x.method), ['eth_requestAccounts']);
  assert.deepEqual(announced.calls, []);
  assert.equal(discovery, 0);
});

test("a wallet's name is cut to 64 printable characters", async () => {
  const wallet = fakeWallet();
  announce(wallet, { name: `  Evil\u0007\nWallet ${'x'.repeat(80)}`, rdns: 'x.evil' });
  const calls = extension();
  await requestSessionSigs(params({ wallet: 'browser' }), viaExtension());
  const { name } = calls[0].params.externalWallet;
  assert.equal(name, `EvilWallet ${'x'.repeat(53)}`);
  assert.equal([...name].length, 64);
});

test('the wallet refuses to connect (4001): 4001 and nothing reaches the companion', async () => {
  window.ethereum = fakeWallet({ connect: () => { throw refused(4001); } });
  const calls = extension();
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), viaExtension()), { code: 4001 });
  assert.equal(calls.length, 0);
});

test('no wallet in the page: 4601 before anything is sent', async () => {
  const calls = extension();
  await assert.rejects(
    requestSessionSigs(params({ wallet: 'browser' }), viaExtension()),
    (e) => e instanceof CompanionError && e.code === 4601 && /No browser wallet/.test(e.message),
  );
  assert.equal(calls.length, 0);
});

test("bad wallet params and options are 4400", async () => {
  for (const wallet of ['Browser', 'metamask', '0x123', 7]) {
    await assert.rejects(requestSessionSigs(params({ wallet }), { transports: ['http'] }), { code: 4400 });
  }
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), { transports: ['extension'], ethereum: {} }), { code: 4400 });
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), { transports: ['extension'], walletRdns: '' }), { code: 4400 });
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), { transports: ['extension'], walletTimeoutMs: -1 }), { code: 4400 });
  await assert.rejects(requestSessionSigs(params({ externalWallet: { address: ALICE } }), { transports: ['http'] }), { code: 4400 });
});

// --- deep links ---------------------------------------------------------------------------------

test("deep links cannot reach the page's wallet: 4200 before any wallet call or link", async () => {
  window.ethereum = fakeWallet();
  const opened = [];
  window.location = { href: 'https://app.example/', origin: 'https://app.example', hash: '', assign: (u) => opened.push(u) };
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), { transports: ['deeplink'] }), (e) => {
    assert.ok(e instanceof CompanionError);
    assert.equal(e.code, 4200);
    assert.match(e.message, /cannot reach/);
    return true;
  });
  assert.deepEqual(window.ethereum.calls, []);
  // When the other roads are unavailable, the deep link is not opened either.
  const dead = await startCompanion(() => 'hang');
  const port = dead.port;
  await dead.close();
  await assert.rejects(
    requestSessionSigs(params({ wallet: 'browser' }), { transports: ['http', 'deeplink'], port, walletTimeoutMs: 0 }),
    { code: 4200 },
  );
  assert.deepEqual(opened, []);
});
