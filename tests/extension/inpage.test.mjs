// The extension's in-page script (extension/inpage.js) as a page runs it, with whatever answers
// the extension's content script posing as the companion: a `signWithWallet` step reaches the
// page's wallet only when its text is the session SIWE of exactly the page's request. The page,
// its wallet and the content script are stand-ins here; the honest path with the real companion,
// extension and a real wallet signature runs in Chromium (tests/e2e/wallet.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const SCRIPT = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../extension/inpage.js'), 'utf8');
const WALLET = '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A';
const PKP = 'ab'.repeat(32);
const KEY = 'cd'.repeat(32);
const SIGNATURE = `0x${'1b'.repeat(65)}`;
const LATER = new Date(Date.now() + 3600_000).toISOString();

const base64url = (text) => Buffer.from(text, 'utf8').toString('base64url');

/** The session SIWE as the companion writes it, with `change` applied to its parts. */
function message(change = {}) {
  const m = {
    domain: 'app.example.com',
    address: WALLET,
    statement: "This app wants a session. I further authorize the stated URI to perform the following actions on my behalf: (1) 'Threshold': 'Signing' for 'lit-pkp://*'.",
    uri: `lit:session:${KEY}`,
    expiration: LATER,
    att: { [`lit-pkp://${PKP}`]: { 'Threshold/Signing': [{}] } },
    extra: [],
    ...change,
  };
  return [
    `${m.domain} wants you to sign in with your Ethereum account:`,
    m.address,
    '',
    m.statement,
    '',
    `URI: ${m.uri}`,
    'Version: 1',
    'Chain ID: 1',
    `Nonce: 0x${'ef'.repeat(32)}`,
    `Issued At: ${new Date().toISOString()}`,
    `Expiration Time: ${m.expiration}`,
    'Resources:',
    `- urn:recap:${base64url(JSON.stringify({ att: m.att, prf: [] }))}`,
    ...m.extra,
  ].join('\n');
}

/**
 * A page of https://app.example.com running the in-page script, whose content script answers
 * getSessionSigs with `step` and records every envelope; its wallet records every call.
 */
function page(step) {
  const listeners = new Map();
  const sent = [];
  const walletCalls = [];
  const window = {
    location: { host: 'app.example.com', origin: 'https://app.example.com' },
    addEventListener: (type, fn) => listeners.set(type, [...(listeners.get(type) || []), fn]),
    dispatchEvent: (event) => {
      for (const fn of listeners.get(event.type) || []) fn(event);
      return true;
    },
    postMessage: (data) => {
      if (data.direction !== 'to-extension') return;
      sent.push(data.envelope);
      const { id, method } = data.envelope;
      const response = method === 'getSessionSigs'
        ? { v: 1, id, result: { signWithWallet: step } }
        : { v: 1, id, result: { sessionSigs: {}, wallet: WALLET, sessionKey: KEY, expiration: LATER, reused: false } };
      setTimeout(() => {
        for (const fn of listeners.get('message') || []) {
          fn({ source: window, data: { channel: 'lit-companion', direction: 'to-page', ticket: data.ticket, response } });
        }
      });
    },
    ethereum: {
      request: async ({ method }) => {
        walletCalls.push(method);
        if (method === 'eth_accounts' || method === 'eth_requestAccounts') return [WALLET];
        if (method === 'personal_sign') return SIGNATURE;
        throw new Error(method);
      },
    },
  };
  const context = vm.createContext({ window, Event, CustomEvent, TextEncoder, TextDecoder, atob, setTimeout, clearTimeout });
  vm.runInContext(SCRIPT, context);
  return { provider: window.litCompanion, sent, walletCalls };
}

const params = (extra = {}) => ({
  network: 'datil-dev',
  resourceAbilityRequests: [{ resource: { resource: `0x${PKP.toUpperCase()}`, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }],
  externalWallet: { address: WALLET, name: 'MetaMask' },
  ...extra,
});

async function ask(text, extra) {
  const p = page({ ticket: 'ab'.repeat(16), address: WALLET, message: text, expiresAt: LATER });
  const answer = await p.provider.request({ v: 1, id: 'r1', method: 'getSessionSigs', params: params(extra) });
  return { answer, ...p };
}

test("the companion's own step is signed by the wallet and answered", async () => {
  const { answer, sent, walletCalls } = await ask(message());
  assert.ok(answer.result, JSON.stringify(answer));
  assert.deepEqual(walletCalls.filter((m) => m === 'personal_sign'), ['personal_sign']);
  assert.deepEqual(sent.map((e) => e.method), ['getSessionSigs', 'walletSignature']);
  assert.equal(sent[1].params.signature, SIGNATURE);
});

for (const [what, text, extra] of [
  ['another site as domain', message({ domain: 'evil.example' })],
  ['another wallet', message({ address: '0x5B38Da6a701c568545dCfcB03FcB875f56beddC4' })],
  ['a uri that is not a session key', message({ uri: 'lit:capability:delegation' })],
  ['a later expiry than asked', message({ expiration: new Date(Date.now() + 7200_000).toISOString() }), { expiration: LATER }],
  ['an expiry past thirty days', message({ expiration: new Date(Date.now() + 31 * 86400_000).toISOString() })],
  ['every PKP instead of one', message({ att: { 'lit-pkp://*': { 'Threshold/Signing': [{}] } } })],
  ['another ability on the PKP', message({ att: { [`lit-pkp://${PKP}`]: { 'Threshold/Signing': [{}], 'Threshold/Execution': [{}] } } })],
  ['a payment delegation', message({ att: { 'lit-paymentdelegation://*': { 'Auth/Auth': [{}] } } })],
  ['a second resource', message({ extra: ['- https://evil.example/'] })],
  ['a field slipped into the statement', message({ statement: `URI: lit:session:${KEY}`, uri: 'lit:capability:delegation' })],
  ['not a SIWE at all', 'Please sign: transfer everything'],
]) {
  test(`a step with ${what} never reaches the wallet: 4100, and the companion is told it was refused`, async () => {
    const { answer, sent, walletCalls } = await ask(text, extra);
    assert.equal(answer.error?.code, 4100, JSON.stringify(answer));
    assert.match(answer.error.message, /Refused to ask your wallet to sign/);
    assert.deepEqual(walletCalls, [], 'the wallet was asked nothing');
    assert.deepEqual(sent.map((e) => e.method), ['getSessionSigs', 'walletSignature']);
    assert.equal(sent[1].params.rejected, true);
  });
}

// A PKP session: the page names a PKP, and the wallet that signs in for it signs a plain sign-in
// (no resources); the network signs the session itself.
const PKP_ADDRESS = '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf';
const PKP_KEY = `0x04${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}${'483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8'}`;

function signIn(change = {}) {
  const m = {
    domain: 'app.example.com',
    address: WALLET,
    statement: `Sign in to the Lit network as the owner of PKP ${PKP_ADDRESS}; it may then sign a session for that PKP that Lit Companion asked you to approve.`,
    uri: 'https://app.example.com',
    expiration: LATER,
    extra: [],
    ...change,
  };
  return [
    `${m.domain} wants you to sign in with your Ethereum account:`,
    m.address,
    '',
    m.statement,
    '',
    `URI: ${m.uri}`,
    'Version: 1',
    'Chain ID: 1',
    `Nonce: 0x${'ef'.repeat(32)}`,
    `Issued At: ${new Date().toISOString()}`,
    `Expiration Time: ${m.expiration}`,
    ...m.extra,
  ].join('\n');
}

async function askPkp(text, { step = {}, extra = {} } = {}) {
  const p = page({ ticket: 'ab'.repeat(16), address: WALLET, message: text, expiresAt: LATER, purpose: 'pkpAuth', pkp: PKP_ADDRESS, ...step });
  const { externalWallet, ...rest } = params({ pkpPublicKey: PKP_KEY, ...extra });
  const answer = await p.provider.request({ v: 1, id: 'r1', method: 'getSessionSigs', params: rest });
  return { answer, ...p };
}

test("a PKP's sign-in for this page's PKP request is signed by the wallet and answered", async () => {
  const { answer, sent, walletCalls } = await askPkp(signIn());
  assert.ok(answer.result, JSON.stringify(answer));
  assert.deepEqual(walletCalls.filter((m) => m === 'personal_sign'), ['personal_sign']);
  assert.equal(sent[1].params.signature, SIGNATURE);
});

for (const [what, text, options] of [
  ['no PKP asked for by the page', signIn(), { extra: { pkpPublicKey: undefined } }],
  ['another site as domain', signIn({ domain: 'evil.example' })],
  ['another origin as uri', signIn({ uri: 'https://evil.example' })],
  ['a session key as uri', signIn({ uri: `lit:session:${KEY}` })],
  ['resources', signIn({ extra: ['Resources:', `- urn:recap:${base64url('{"att":{},"prf":[]}')}`] })],
  ['another PKP named', signIn({ statement: 'Sign in as the owner of PKP 0x0000000000000000000000000000000000000001' })],
  ['a later expiry than asked', signIn({ expiration: new Date(Date.now() + 7200_000).toISOString() }), { extra: { expiration: LATER } }],
  ['an unknown purpose', signIn(), { step: { purpose: 'anything' } }],
]) {
  test(`a PKP sign-in with ${what} never reaches the wallet`, async () => {
    const { answer, walletCalls, sent } = await askPkp(text, options);
    assert.equal(answer.error?.code, 4100, JSON.stringify(answer));
    assert.deepEqual(walletCalls, []);
    assert.equal(sent[1].params.rejected, true);
  });
}
