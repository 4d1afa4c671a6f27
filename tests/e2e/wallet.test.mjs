// The user's own browser wallet signs (docs/bridge-protocol.md, "When the page's wallet signs"),
// in a real Chromium and a real Firefox with the extension, the same tests in each (its in-page
// script checks the text, then the wallet signs); over the loopback HTTP road the page's wallet
// is asked nothing. The page's EIP-1193 wallet is a test provider whose every call goes to Node
// (page.exposeFunction), where an ethers wallet signs for real (secp256k1, EIP-191); it is
// announced via EIP-6963 (`?wallet=eip6963`), exposed only as `window.ethereum`
// (`?wallet=injected`), or announced after a decoy wallet holding another account (`?wallet=two`).
// The sessionSigs must pass the SDK's checks, name the external address and carry a SIWE whose
// domain is the page's host; a request inside the grant asks neither the companion nor the
// wallet; a wallet that signs other text, signs as another account, gives a malformed signature
// or refuses is refused with the documented code, and the vault and the keychain stay unchanged.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Stack, BROWSERS, pkp, pkpRequest, ethers, launchBrowser, startPages } from './harness.mjs';

// The page's wallet account (new to the companion until it first signs), another account it
// might sign as, and the decoy wallet's account.
const owner = new ethers.Wallet('0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f');
const stranger = new ethers.Wallet('0x2c7536e3605d9c16a7a3d7b1898e529396a65c23a3ddf9e2e2ad3ee0b8a0b6d1');
const decoy = new ethers.Wallet('0x0123456789012345678901234567890123456789012345678901234567890123');
let holder = owner; // the account the page's wallet holds
let mode = 'honest'; // how it answers personal_sign
const walletCalls = []; // { wallet, method, params }

/** The test wallet, in Node: answers the page's provider as MetaMask would. */
async function testWallet(id, method, params) {
  walletCalls.push({ wallet: id, method, params });
  const account = id === 'decoy' ? decoy : holder;
  if (method === 'eth_requestAccounts' || method === 'eth_accounts') return { result: [account.address.toLowerCase()] };
  if (method !== 'personal_sign') return { error: { code: 4200, message: `unsupported ${method}` } };
  const [hex, address] = params;
  if (address.toLowerCase() !== account.address.toLowerCase()) return { error: { code: 4100, message: 'not my account' } };
  const bytes = ethers.utils.arrayify(hex);
  switch (mode) {
    case 'reject':
      return { error: { code: 4001, message: 'User rejected the request.' } };
    case 'other-text':
      return { result: await account.signMessage(ethers.utils.concat([bytes, ethers.utils.toUtf8Bytes(' ')])) };
    case 'other-address':
      return { result: await stranger.signMessage(bytes) };
    case 'malformed':
      return { result: '0x1234' };
    default:
      return { result: await account.signMessage(bytes) };
  }
}

/** In every page: the provider(s) the query asks for, each call going to testWallet in Node. */
function installWallet() {
  const kind = new URLSearchParams(location.search).get('wallet');
  if (location.protocol !== 'http:' || !kind) return;
  const provider = (id) => ({
    async request({ method, params }) {
      const r = await window.__testWallet(id, method, params ?? []);
      if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r.result;
    },
  });
  const announce = (id, name) => {
    const detail = Object.freeze({
      info: Object.freeze({ uuid: `00000000-0000-4000-8000-00000000000${id === 'decoy' ? 1 : 2}`, name, icon: 'data:image/svg+xml,<svg/>', rdns: `org.example.${id}` }),
      provider: provider(id),
    });
    const send = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }));
    window.addEventListener('eip6963:requestProvider', send);
    send();
  };
  if (kind === 'injected') window.ethereum = provider('holder');
  if (kind === 'two') announce('decoy', 'Decoy Wallet');
  if (kind === 'eip6963' || kind === 'two') announce('holder', 'Test Wallet');
}

for (const kind of BROWSERS) describe(kind, () => suite(kind));

function suite(kind) {
  const stack = new Stack(`wallet-${kind}`);
  let pagesOne, pagesTwo, browser, EXT, EXT_INJECTED, WEB, REFUSED;

  before(async () => {
    // Two servers, four origins: extension pages on the first, loopback-HTTP pages on the second.
    pagesOne = await startPages();
    pagesTwo = await startPages();
    EXT = `http://127.0.0.1:${pagesOne.address().port}`;
    EXT_INJECTED = `http://localhost:${pagesOne.address().port}`;
    WEB = `http://127.0.0.1:${pagesTwo.address().port}`;
    REFUSED = `http://localhost:${pagesTwo.address().port}`;
    await stack.start([EXT, EXT_INJECTED, WEB, REFUSED].map((origin) => ({ origin, resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400 })));
    browser = await launchBrowser(kind, stack);
    await browser.everyPage({ functions: { __testWallet: testWallet }, init: installWallet });
  });

  after(async () => {
    await browser?.close();
    pagesOne?.close();
    pagesTwo?.close();
    await stack.stop();
  });

  async function open(origin, wallet, { extension = true } = {}) {
    const page = await browser.newPage();
    await page.goto(`${origin}/?wallet=${wallet}`);
    if (extension) await page.waitForFunction(() => Boolean(window.litCompanion));
    return page;
  }

  /** getSessionSigs from the page: the extension's own API, or (with `options`) the JS client. */
  const ask = (page, params, options) =>
    page.evaluate(async ({ params, options }) => {
      try {
        if (!options) return { result: await window.litCompanion.requestSessionSigs(params) };
        const { requestSessionSigs } = await import('/client.js');
        return { result: await requestSessionSigs(params, options) };
      } catch (e) {
        return { error: { code: e.code, name: e.name, message: e.message } };
      }
    }, { params, options });

  const paramsFor = (id, wallet = 'browser') => ({ network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: stack.datil, wallet });

  /** The wallet calls made while `fn` runs, as "wallet method" strings. */
  async function callsDuring(fn) {
    const from = walletCalls.length;
    const out = await fn();
    return { out, calls: walletCalls.slice(from) };
  }
  const methods = (calls) => calls.map((c) => `${c.wallet} ${c.method}`);

  /**
   * The companion's decisions on getSessionSigs since log line `from` (approved = the user was
   * asked), once `n` are logged (a line may reach us just after the answer) or after 3 s.
   */
  async function decisionsSince(from, n) {
    const decisions = () =>
      stack.serveLog.slice(from).filter((l) => l.includes('getSessionSigs')).map((l) => /decision=(\w+)/.exec(l)?.[1]);
    for (let i = 0; i < 60 && decisions().length < n; i++) await new Promise((ok) => setTimeout(ok, 50));
    return decisions();
  }

  /** sessionSigs the SDK and a node accept, whose AuthSig the owner signed over `signed`, for `origin`'s host. */
  async function assertOwnersSession(result, { id, pubkey }, origin, signed) {
    const sigs = result.sessionSigs;
    for (const node of stack.datil) {
      const c = stack.sdkCheck(sigs, 'datil-dev', node, `lit-pkp://${id}`, 'pkp-signing');
      assert.equal(c.status, 0, c.stderr);
    }
    assert.equal((await stack.nodeSigns(stack.datil[0], sigs, pubkey)).status, 200);
    assert.equal(result.wallet, owner.address);
    const authSig = JSON.parse(sigs[stack.datil[0]].signedMessage).capabilities.at(-1);
    assert.equal(authSig.address, owner.address);
    assert.equal(ethers.utils.verifyMessage(authSig.signedMessage, authSig.sig), owner.address, 'the owner signed it (EIP-191)');
    assert.equal(authSig.signedMessage, signed, 'the wallet signed exactly the AuthSig text');
    const [first, second] = authSig.signedMessage.split('\n');
    assert.equal(first, `${new URL(origin).host} wants you to sign in with your Ethereum account:`);
    assert.equal(second, owner.address);
    assert.match(authSig.signedMessage, new RegExp(`\nURI: lit:session:${result.sessionKey}\n`));
  }

  /** The text the wallet was asked to personal_sign (its UTF-8 bytes, hex). */
  const signedText = (calls) => {
    const signs = calls.filter((c) => c.method === 'personal_sign');
    assert.equal(signs.length, 1, methods(calls).join(', '));
    return ethers.utils.toUtf8String(signs[0].params[0]);
  };

  /** The keychain items of the companion's service, as secret-tool (not our code) sees them. */
  function keychainAccounts() {
    const r = spawnSync('secret-tool', ['search', '--all', 'service', stack.env.LIT_COMPANION_KEYCHAIN_SERVICE], { env: stack.env, encoding: 'utf8' });
    return (r.stdout + r.stderr).split('\n').filter((l) => l.startsWith('attribute.username = ')).map((l) => l.slice(21)).sort();
  }
  const vaultState = () => ({
    wallets: JSON.parse(stack.cli(['wallet', 'list'])),
    sessions: JSON.parse(stack.cli(['sessions', 'list'])),
    keychain: keychainAccounts(),
  });

  test('extension, EIP-6963 wallet: sessionSigs signed by the page wallet; reuse asks neither the companion nor the wallet', async () => {
    const target = pkp(41);
    const page = await open(EXT, 'eip6963');
    const keychainBefore = keychainAccounts();
    let log = stack.serveLog.length;
    const { out: r, calls } = await callsDuring(() => ask(page, paramsFor(target.id)));
    assert.ok(r.result, JSON.stringify(r));
    assert.equal(r.result.reused, false);
    assert.deepEqual(methods(calls).filter((m) => !m.endsWith('eth_accounts')), ['holder eth_requestAccounts', 'holder personal_sign']);
    assert.equal(calls.find((c) => c.method === 'personal_sign').params[1], owner.address, 'personal_sign names the EIP-55 address');
    await assertOwnersSession(r.result, target, EXT, signedText(calls));
    assert.deepEqual(await decisionsSince(log, 1), ['approved'], stack.serveLog.slice(log).join('\n'));

    // The wallet was added (its address only) and the session is kept like any other.
    const wallet = JSON.parse(stack.cli(['wallet', 'list'])).find((w) => w.address === owner.address);
    assert.equal(wallet?.kind, 'external', JSON.stringify(wallet));
    const session = JSON.parse(stack.cli(['sessions', 'list', '--origin', EXT])).find((s) => s.sessionKey === r.result.sessionKey);
    assert.equal(session?.wallet, owner.address, JSON.stringify(session));
    assert.equal(keychainAccounts().length, keychainBefore.length + 1, 'one new item: the session key, nothing for the wallet');

    // Inside the grant: reused, no prompt, and the wallet is not asked to sign (wallet 'browser'
    // still asks for the already connected account), or not asked at all (by address).
    log = stack.serveLog.length;
    const again = await callsDuring(() => ask(page, paramsFor(target.id)));
    assert.equal(again.out.result?.reused, true, JSON.stringify(again.out));
    assert.equal(again.out.result.sessionKey, r.result.sessionKey);
    assert.deepEqual(methods(again.calls), ['holder eth_requestAccounts']);
    const byAddress = await callsDuring(() => ask(page, paramsFor(target.id, owner.address)));
    assert.equal(byAddress.out.result?.reused, true, JSON.stringify(byAddress.out));
    assert.deepEqual(byAddress.calls, []);
    assert.deepEqual(await decisionsSince(log, 2), ['reused', 'reused']);
  });

  test('extension, wallet only at window.ethereum, JS client in the page: one call, one signature', async () => {
    const target = pkp(42);
    const page = await open(EXT_INJECTED, 'injected');
    const log = stack.serveLog.length;
    const { out: r, calls } = await callsDuring(() => ask(page, paramsFor(target.id), { transports: ['extension'], timeoutMs: 60000 }));
    assert.ok(r.result, JSON.stringify(r));
    // The in-page script signs; the client does not sign again.
    assert.deepEqual(methods(calls), ['holder eth_requestAccounts', 'holder personal_sign']);
    await assertOwnersSession(r.result, target, EXT_INJECTED, signedText(calls));
    assert.deepEqual(await decisionsSince(log, 1), ['approved']);
    assert.ok(stack.serveLog.slice(log).some((l) => l.includes(`${EXT_INJECTED} via browser extension`)), stack.serveLog.slice(log).join('\n'));
  });

  test('loopback HTTP, JS client in the page: the page wallet is asked nothing and the answer names the extension', async () => {
    // Whoever holds the loopback port answers there: a page cannot tell the companion from a
    // squatter, so a browser wallet's step goes only through the extension.
    const target = pkp(43);
    const page = await open(WEB, 'eip6963', { extension: false });
    const http = { transports: ['http'], port: stack.port, timeoutMs: 60000 };
    const log = stack.serveLog.length;
    const { out: r, calls } = await callsDuring(() => ask(page, paramsFor(target.id), http));
    assert.equal(r.error?.code, 4200, JSON.stringify(r));
    assert.match(r.error.message, /Lit Companion extension/);
    assert.deepEqual(calls, [], 'not even the account was asked');
    // A held browser wallet named by address: the companion refuses it on this road too.
    const named = await callsDuring(() => ask(page, paramsFor(target.id, owner.address), http));
    assert.ok(named.out.error, JSON.stringify(named.out));
    assert.ok(!named.calls.some((c) => c.method === 'personal_sign'), 'the wallet signed nothing');
    assert.ok(!stack.serveLog.slice(log).some((l) => l.includes('walletSignature')), 'no signature went back');
  });

  test('of two wallets, the one whose accounts hold the address signs; the other is only asked for its accounts', async () => {
    const target = pkp(44);
    const page = await open(EXT, 'two');
    const log = stack.serveLog.length;
    // The owner is a known external wallet by now: named by address.
    const { out: r, calls } = await callsDuring(() => ask(page, paramsFor(target.id, owner.address)));
    assert.ok(r.result, JSON.stringify(r));
    assert.deepEqual(methods(calls.filter((c) => c.wallet === 'decoy')), ['decoy eth_accounts']);
    assert.deepEqual(methods(calls.filter((c) => c.wallet === 'holder')), ['holder eth_accounts', 'holder personal_sign']);
    await assertOwnersSession(r.result, target, EXT, signedText(calls));
    assert.deepEqual(await decisionsSince(log, 1), ['approved']);
  });

  for (const [road, options] of [['extension', undefined]]) {
    for (const [how, code] of [['other-text', 4100], ['other-address', 4100], ['malformed', 4400], ['reject', 4001]]) {
      test(`${road}: a wallet that answers ${how} → ${code}, and the vault and keychain are unchanged`, async (t) => {
        t.after(() => {
          mode = 'honest';
          holder = owner;
        });
        // A wallet new to the companion: refusing must not add it either.
        holder = ethers.Wallet.createRandom();
        mode = how;
        const page = await open(REFUSED, 'eip6963', { extension: options === undefined });
        t.after(() => page.close());
        const opts = options && { transports: ['http'], port: stack.port, timeoutMs: 60000 };
        const before = vaultState();
        const { out: r, calls } = await callsDuring(() => ask(page, paramsFor(pkp(45).id), opts));
        assert.equal(r.error?.code, code, JSON.stringify(r));
        assert.equal(calls.filter((c) => c.method === 'personal_sign').length, 1, 'the wallet was asked once');
        assert.deepEqual(vaultState(), before);
        assert.ok(!before.wallets.some((w) => w.address.toLowerCase() === holder.address.toLowerCase()));
      });
    }
  }
}
