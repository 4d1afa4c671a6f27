// The page's own wallet signs (docs/bridge-protocol.md, "When the page's wallet signs"):
// `wallet: 'browser'` finds an EIP-1193 wallet (EIP-6963, else window.ethereum), and a
// `signWithWallet` step is signed by the wallet and answered with `walletSignature` on the same
// road — over HTTP against a scripted companion, and through a fake extension. The wallets here
// are fakes that record every call; real secp256k1 signing is in tests/e2e.
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
const hexOf = (text) => `0x${Buffer.from(text, 'utf8').toString('hex')}`;

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

test("wallet 'browser' over HTTP: the announced wallet connects, signs the exact text, and one call resolves the sessionSigs", async () => {
  const wallet = fakeWallet();
  announce(wallet, { name: 'MetaMask', rdns: 'io.metamask' });
  window.ethereum = fakeWallet({ accounts: [BOB] });
  const c = await stepping();
  try {
    const out = await requestSessionSigs(params({ wallet: 'browser' }), http(c.port));
    assert.deepEqual(window.ethereum.calls, [], 'an announced wallet comes before window.ethereum');
    assert.deepEqual(out, RESULT);
    assert.deepEqual(c.requests.map((r) => r.json.method), ['getSessionSigs', 'walletSignature']);
    const [ask, answer] = c.requests.map((r) => r.json);
    assert.deepEqual(ask.params.externalWallet, { address: ALICE, name: 'MetaMask' });
    assert.equal(ask.params.wallet, undefined, "'browser' itself never goes on the wire");
    assert.deepEqual(answer.params, { ticket: STEP.ticket, signature: SIG });
    assert.notEqual(answer.id, ask.id);
    assert.deepEqual(wallet.calls.map((x) => x.method), ['eth_requestAccounts', 'eth_accounts', 'personal_sign']);
    assert.deepEqual(wallet.calls[2].params, [hexOf(MESSAGE), ALICE]);
  } finally {
    await c.close();
  }
});

test('of several announced wallets the first connects, or the one walletRdns names', async () => {
  const first = fakeWallet({ accounts: [BOB] });
  const second = fakeWallet({ accounts: [ALICE] });
  announce(first, { name: 'Rabby Wallet', rdns: 'io.rabby' });
  announce(second, { name: 'MetaMask', rdns: 'io.metamask' });
  const c = await stepping({ first: (req) => ({ status: 200, json: { v: 1, id: req.json.id, result: RESULT } }) });
  try {
    await requestSessionSigs(params({ wallet: 'browser' }), http(c.port));
    assert.deepEqual(c.requests[0].json.params.externalWallet, { address: BOB, name: 'Rabby Wallet' });
    await requestSessionSigs(params({ wallet: 'browser' }), http(c.port, { walletRdns: 'io.metamask' }));
    assert.deepEqual(c.requests[1].json.params.externalWallet, { address: ALICE, name: 'MetaMask' });
    assert.equal(first.calls.filter((x) => x.method === 'eth_requestAccounts').length, 1);
    assert.equal(second.calls.filter((x) => x.method === 'eth_requestAccounts').length, 1);
    await assert.rejects(
      requestSessionSigs(params({ wallet: 'browser' }), http(c.port, { walletRdns: 'com.coinbase.wallet' })),
      (e) => e instanceof CompanionError && e.code === 4601 && /com\.coinbase\.wallet/.test(e.message),
    );
    assert.equal(c.requests.length, 2, 'nothing sent for a wallet that is not there');
  } finally {
    await c.close();
  }
});

test('the step is signed by the wallet whose eth_accounts hold the address, not the first announced', async () => {
  const other = fakeWallet({ accounts: [BOB] });
  const holder = fakeWallet({ accounts: [ALICE.toLowerCase()] });
  announce(other, { name: 'Rabby Wallet', rdns: 'io.rabby' });
  announce(holder, { name: 'MetaMask', rdns: 'io.metamask' });
  window.ethereum = fakeWallet({ accounts: [ALICE] });
  const c = await stepping();
  try {
    // A wallet the companion knows as external, named by address: no eth_requestAccounts.
    const out = await requestSessionSigs(params({ wallet: ALICE }), http(c.port));
    assert.deepEqual(out, RESULT);
    assert.equal(c.requests[0].json.params.wallet, ALICE);
    assert.equal(c.requests[0].json.params.externalWallet, undefined);
    assert.deepEqual(other.calls.map((x) => x.method), ['eth_accounts']);
    assert.deepEqual(holder.calls.map((x) => x.method), ['eth_accounts', 'personal_sign']);
    assert.deepEqual(window.ethereum.calls, [], 'window.ethereum is only the fallback');
  } finally {
    await c.close();
  }
});

test('without EIP-6963, window.ethereum connects and signs, named "Browser wallet"', async () => {
  window.ethereum = fakeWallet();
  const c = await stepping();
  try {
    assert.deepEqual(await requestSessionSigs(params({ wallet: 'browser' }), http(c.port)), RESULT);
    assert.deepEqual(c.requests[0].json.params.externalWallet, { address: ALICE, name: 'Browser wallet' });
    assert.deepEqual(window.ethereum.calls.map((x) => x.method), ['eth_requestAccounts', 'personal_sign']);
    assert.deepEqual(window.ethereum.calls[1].params, [hexOf(MESSAGE), ALICE]);
  } finally {
    await c.close();
  }
});

test('an explicit ethereum option is the only wallet asked; discovery is skipped', async () => {
  const announced = fakeWallet();
  announce(announced, { name: 'MetaMask', rdns: 'io.metamask' });
  let discovery = 0;
  window.addEventListener('eip6963:requestProvider', () => discovery++);
  const mine = fakeWallet({ accounts: [BOB] });
  const c = await stepping();
  try {
    await requestSessionSigs(params({ wallet: 'browser' }), http(c.port, { ethereum: mine }));
    assert.equal(c.requests[0].json.params.externalWallet.address, BOB);
    assert.deepEqual(mine.calls.map((x) => x.method), ['eth_requestAccounts', 'personal_sign']);
    assert.deepEqual(announced.calls, []);
    assert.equal(discovery, 0);
  } finally {
    await c.close();
  }
});

test("a wallet's name is cut to 64 printable characters", async () => {
  const wallet = fakeWallet();
  announce(wallet, { name: `  Evil\u0007\nWallet ${'x'.repeat(80)}`, rdns: 'x.evil' });
  const c = await stepping({ first: (req) => ({ status: 200, json: { v: 1, id: req.json.id, result: RESULT } }) });
  try {
    await requestSessionSigs(params({ wallet: 'browser' }), http(c.port));
    const { name } = c.requests[0].json.params.externalWallet;
    assert.equal(name, `EvilWallet ${'x'.repeat(53)}`);
    assert.equal([...name].length, 64);
  } finally {
    await c.close();
  }
});

test('the wallet refuses to sign (4001): walletSignature says rejected, and the call rejects with 4001', async () => {
  window.ethereum = fakeWallet({ sign: () => { throw refused(4001); } });
  const c = await stepping({
    second: (req) => ({ status: 200, json: { v: 1, id: req.json.id, error: { code: 4001, name: 'user_rejected', message: 'the wallet refused' } } }),
  });
  try {
    await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), http(c.port)), (e) => {
      assert.ok(e instanceof CompanionError);
      assert.equal(e.code, 4001);
      assert.equal(e.name, 'user_rejected');
      assert.match(e.message, /declined to sign/);
      return true;
    });
    assert.deepEqual(c.requests[1].json.params, { ticket: STEP.ticket, rejected: true });
  } finally {
    await c.close();
  }
});

test('the wallet refuses to connect (4001): 4001 and nothing reaches the companion', async () => {
  window.ethereum = fakeWallet({ connect: () => { throw refused(4001); } });
  const c = await stepping();
  try {
    await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), http(c.port)), { code: 4001, name: 'user_rejected' });
    assert.equal(c.requests.length, 0);
  } finally {
    await c.close();
  }
});

test("another wallet failure is 5000, and the companion is told at once (rejected) so the waiting key is dropped", async () => {
  window.ethereum = fakeWallet({ sign: () => { throw Object.assign(new Error('Ledger is locked'), { code: -32603 }); } });
  const c = await stepping();
  try {
    await assert.rejects(
      requestSessionSigs(params({ wallet: 'browser' }), http(c.port)),
      (e) => e instanceof CompanionError && e.code === 5000 && /Ledger is locked/.test(e.message),
    );
    assert.deepEqual(c.requests.map((r) => r.json.method), ['getSessionSigs', 'walletSignature']);
    assert.equal(c.requests[1].json.params.rejected, true);
    assert.equal(c.requests[1].json.params.signature, undefined);
  } finally {
    await c.close();
  }
});

test("the companion's refusal of the signature (4100 other text or address, 4408 lapsed) is the call's error", async () => {
  for (const code of [4100, 4400, 4408]) {
    window.ethereum = fakeWallet();
    const c = await stepping({
      second: (req) => ({ status: 400, json: { v: 1, id: req.json.id, error: { code, name: 'x', message: `refused ${code}` } } }),
    });
    try {
      await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), http(c.port)), { code, message: `refused ${code}` });
    } finally {
      await c.close();
    }
  }
});

test('the walletSignature answer may be pending: it is long-polled like any other', async () => {
  window.ethereum = fakeWallet();
  const c = await startCompanion((req) => {
    if (req.method === 'GET') {
      return { status: 200, json: { v: 1, id: c.requests[1].json.id, result: RESULT } };
    }
    const { id, method } = req.json;
    if (method === 'getSessionSigs') return { status: 200, json: { v: 1, id, result: { signWithWallet: STEP } } };
    return { status: 202, json: { v: 1, id, pending: 'tkt-2' } };
  });
  try {
    assert.deepEqual(await requestSessionSigs(params({ wallet: 'browser' }), http(c.port)), RESULT);
    assert.deepEqual(c.requests.map((r) => `${r.method} ${r.url}`), ['POST /v1/request', 'POST /v1/request', 'GET /v1/pending/tkt-2']);
  } finally {
    await c.close();
  }
});

test('a second step in answer to walletSignature, or a malformed step, is 5000', async () => {
  window.ethereum = fakeWallet();
  const again = await stepping({ second: (req) => ({ status: 200, json: { v: 1, id: req.json.id, result: { signWithWallet: STEP } } }) });
  try {
    await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), http(again.port)), { code: 5000 });
  } finally {
    await again.close();
  }
  const bad = await stepping({
    first: (req) => ({ status: 200, json: { v: 1, id: req.json.id, result: { signWithWallet: { ...STEP, address: 'alice' } } } }),
  });
  const signed = () => window.ethereum.calls.filter((x) => x.method === 'personal_sign').length;
  const before = signed();
  try {
    await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), http(bad.port)), { code: 5000 });
    assert.equal(bad.requests.length, 1);
    assert.equal(signed(), before, 'the wallet is not asked to sign a malformed step');
  } finally {
    await bad.close();
  }
});

test('no wallet in the page: 4601 before anything is sent', async () => {
  const c = await stepping();
  try {
    await assert.rejects(
      requestSessionSigs(params({ wallet: 'browser' }), http(c.port)),
      (e) => e instanceof CompanionError && e.code === 4601 && /No browser wallet/.test(e.message),
    );
    assert.equal(c.requests.length, 0);
  } finally {
    await c.close();
  }
});

test('a step for an address no wallet in the page holds: 4601, and the companion is told at once (rejected)', async () => {
  const c = await stepping();
  try {
    await assert.rejects(
      requestSessionSigs(params({ wallet: ALICE }), http(c.port)),
      (e) => e instanceof CompanionError && e.code === 4601,
    );
    assert.deepEqual(c.requests.map((r) => r.json.method), ['getSessionSigs', 'walletSignature']);
    assert.deepEqual(c.requests[1].json.params, { ticket: STEP.ticket, rejected: true });
  } finally {
    await c.close();
  }
});

test("bad wallet params and options are 4400", async () => {
  for (const wallet of ['Browser', 'metamask', '0x123', 7]) {
    await assert.rejects(requestSessionSigs(params({ wallet }), { transports: ['http'] }), { code: 4400 });
  }
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), { transports: ['http'], ethereum: {} }), { code: 4400 });
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), { transports: ['http'], walletRdns: '' }), { code: 4400 });
  await assert.rejects(requestSessionSigs(params({ wallet: 'browser' }), { transports: ['http'], walletTimeoutMs: -1 }), { code: 4400 });
  await assert.rejects(requestSessionSigs(params({ externalWallet: { address: ALICE } }), { transports: ['http'] }), { code: 4400 });
});

// --- the extension road -------------------------------------------------------------------------

/** A fake extension: `answer(envelope)` → response envelope. Records every envelope. */
function extension(answer) {
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

test('through the extension, whose in-page script signs itself, the client asks the wallet only for the account', async () => {
  window.ethereum = fakeWallet();
  const calls = extension((env) => ({ v: 1, id: env.id, result: RESULT }));
  assert.deepEqual(await requestSessionSigs(params({ wallet: 'browser' }), { transports: ['extension'], walletTimeoutMs: 0 }), RESULT);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].params.externalWallet, { address: ALICE, name: 'Browser wallet' });
  assert.deepEqual(window.ethereum.calls.map((x) => x.method), ['eth_requestAccounts']);
});

test('an extension that hands the step on gets the walletSignature back through itself', async () => {
  window.ethereum = fakeWallet();
  const calls = extension((env) =>
    env.method === 'getSessionSigs' ? { v: 1, id: env.id, result: { signWithWallet: STEP } } : { v: 1, id: env.id, result: RESULT },
  );
  assert.deepEqual(await requestSessionSigs(params({ wallet: ALICE }), { transports: ['extension'], walletTimeoutMs: 0 }), RESULT);
  assert.deepEqual(calls.map((e) => e.method), ['getSessionSigs', 'walletSignature']);
  assert.deepEqual(calls[1].params, { ticket: STEP.ticket, signature: SIG });
  assert.deepEqual(window.ethereum.calls.map((x) => x.method), ['personal_sign']);
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
