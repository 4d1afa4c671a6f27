// Sessions for a PKP (docs/bridge-protocol.md, "Sessions for a PKP") through the extension, in a
// real Chromium and a real Firefox, the same tests in each: a page asks with `pkpPublicKey`;
// `lit-companion serve` (a policy approves) has the PKP's wallet sign in — a local wallet in the
// companion, or the page's EIP-6963 wallet, which the in-page script asks after checking the
// companion's `signWithWallet` step (`purpose: "pkpAuth"`) — and three simulated nodes holding
// shares of one BLS key sign the session for the PKP. The session's capability is the network's
// (LIT_BLS) over the PKP's address and this session key; the nodes' /web/pkp/sign accepts the
// sessionSigs for that PKP and no other; a second request is answered from the stored session
// without asking anyone (no decision, no wallet call).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, BROWSERS, WALLET_KEY, ethers, realPkp, pkpRequest, launchBrowser, startPages } from './harness.mjs';

// The local wallet `Stack.start` imports, the page's wallet account, and the two PKPs they sign in for.
const main = new ethers.Wallet(WALLET_KEY);
const owner = new ethers.Wallet('0x5d3f0e3c1b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e');
const localPkp = realPkp();
const browserPkp = realPkp();
const walletCalls = []; // { method, params }

/** The page's wallet, in Node: answers as MetaMask would, signing with `owner`. */
async function testWallet(method, params) {
  walletCalls.push({ method, params });
  if (method === 'eth_requestAccounts' || method === 'eth_accounts') return { result: [owner.address.toLowerCase()] };
  if (method !== 'personal_sign') return { error: { code: 4200, message: `unsupported ${method}` } };
  const [hex, address] = params;
  if (address.toLowerCase() !== owner.address.toLowerCase()) return { error: { code: 4100, message: 'not my account' } };
  return { result: await owner.signMessage(ethers.utils.arrayify(hex)) };
}

/**
 * In every page: the test wallet, announced via EIP-6963, and a record of every wallet step the
 * extension hands the in-page script (the page sees the content script's messages).
 */
function installWallet() {
  if (location.protocol !== 'http:') return;
  window.__steps = [];
  window.addEventListener('message', (event) => {
    const d = event.data;
    const step = d && d.channel === 'lit-companion' && d.direction === 'to-page' && d.response && d.response.result && d.response.result.signWithWallet;
    if (step) window.__steps.push(JSON.parse(JSON.stringify(step)));
  });
  const provider = {
    async request({ method, params }) {
      const r = await window.__testWallet(method, params ?? []);
      if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r.result;
    },
  };
  const detail = Object.freeze({
    info: Object.freeze({ uuid: '00000000-0000-4000-8000-000000000003', name: 'Test Wallet', icon: 'data:image/svg+xml,<svg/>', rdns: 'org.example.test' }),
    provider,
  });
  const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
}

for (const kind of BROWSERS) describe(kind, () => suite(kind));

function suite(kind) {
  const stack = new Stack(`pkp-${kind}`);
  let pages, browser, ORIGIN, nodes;

  before(async () => {
    pages = await startPages();
    ORIGIN = `http://127.0.0.1:${pages.address().port}`;
    nodes = await stack.startPkpNodes({ [localPkp.pubkey]: [main.address], [browserPkp.pubkey]: [owner.address] });
    await stack.start([{ origin: ORIGIN, resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400 }]);
    stack.cli(['wallet', 'add-external', owner.address, '--label', 'Test Wallet']);
    stack.cli(['wallet', 'add-pkp', localPkp.pubkey, '--auth', main.address, '--label', 'Local PKP']);
    stack.cli(['wallet', 'add-pkp', browserPkp.pubkey, '--auth', owner.address, '--label', 'Browser PKP']);
    browser = await launchBrowser(kind, stack);
    await browser.everyPage({ functions: { __testWallet: testWallet }, init: installWallet });
  });

  after(async () => {
    await browser?.close();
    pages?.close();
    await stack.stop();
  });

  async function open() {
    const page = await browser.newPage();
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction(() => Boolean(window.litCompanion));
    return page;
  }

  const ask = (page, params) =>
    page.evaluate(async (p) => {
      try {
        return { result: await window.litCompanion.requestSessionSigs(p) };
      } catch (e) {
        return { error: { code: e.code, name: e.name, message: e.message } };
      }
    }, params);

  const paramsFor = (pkp) => ({ network: 'sim-pkp', pkpPublicKey: pkp.pubkey, resourceAbilityRequests: [pkpRequest(pkp.id)], nodeUrls: nodes });

  /** The wallet calls made while `fn` runs. */
  async function callsDuring(fn) {
    const from = walletCalls.length;
    const out = await fn();
    return { out, calls: walletCalls.slice(from) };
  }

  /** The companion's decisions on getSessionSigs since log line `from`, once `n` are logged (or after 3 s). */
  async function decisionsSince(from, n) {
    const decisions = () =>
      stack.serveLog.slice(from).filter((l) => l.includes('getSessionSigs')).map((l) => /decision=(\w+)/.exec(l)?.[1]);
    for (let i = 0; i < 60 && decisions().length < n; i++) await new Promise((ok) => setTimeout(ok, 50));
    return decisions();
  }

  /** The network signed the session for `pkp` (LIT_BLS), and every node signs with it, for that PKP only. */
  async function assertNetworkSession(result, pkp) {
    assert.equal(result.wallet, pkp.address);
    assert.deepEqual(Object.keys(result.sessionSigs).sort(), [...nodes].sort());
    for (const node of nodes) {
      const signed = JSON.parse(result.sessionSigs[node].signedMessage);
      assert.equal(signed.sessionKey, result.sessionKey);
      const capability = signed.capabilities.at(-1);
      assert.equal(capability.algo, 'LIT_BLS');
      assert.equal(capability.derivedVia, 'lit.bls');
      assert.equal(capability.address, pkp.address);
      assert.match(JSON.parse(capability.sig).ProofOfPossession, /^[0-9a-f]{192}$/);
      assert.match(capability.signedMessage, /Lit Protocol PKP session signature/);
      assert.ok(capability.signedMessage.includes(`\nURI: lit:session:${result.sessionKey}\n`), capability.signedMessage);
      const signs = await stack.nodeSigns(node, result.sessionSigs, pkp.pubkey);
      assert.equal(signs.status, 200, JSON.stringify(signs.body));
    }
    const other = pkp === localPkp ? browserPkp : localPkp;
    assert.notEqual((await stack.nodeSigns(nodes[0], result.sessionSigs, other.pubkey)).status, 200, 'another PKP is not granted');
  }

  /** A second request inside the grant: the stored session, no decision, no wallet call, no step. */
  async function assertReused(page, pkp, first) {
    const log = stack.serveLog.length;
    const steps = await page.evaluate(() => window.__steps.length);
    const again = await callsDuring(() => ask(page, paramsFor(pkp)));
    assert.equal(again.out.result?.reused, true, JSON.stringify(again.out));
    assert.equal(again.out.result.sessionKey, first.sessionKey);
    assert.equal(again.out.result.wallet, pkp.address);
    assert.deepEqual(again.calls, [], 'the wallet is not asked');
    assert.equal(await page.evaluate(() => window.__steps.length), steps, 'no step reaches the page');
    assert.deepEqual(await decisionsSince(log, 1), ['reused']);
  }

  test('a PKP signed in by a local wallet: the network signs its session (LIT_BLS); a second request asks nobody', async () => {
    const page = await open();
    const log = stack.serveLog.length;
    const { out: r, calls } = await callsDuring(() => ask(page, paramsFor(localPkp)));
    assert.ok(r.result, JSON.stringify(r));
    assert.equal(r.result.reused, false);
    assert.deepEqual(calls, [], 'the page\'s wallet is asked nothing: the companion signs in');
    assert.deepEqual(await page.evaluate(() => window.__steps), [], 'no wallet step reaches the page');
    await assertNetworkSession(r.result, localPkp);
    assert.deepEqual(await decisionsSince(log, 1), ['approved'], stack.serveLog.slice(log).join('\n'));
    await assertReused(page, localPkp, r.result);
  });

  test('a PKP signed in by the page\'s wallet: a "pkpAuth" step, a plain sign-in for this page; the network signs; a second request asks nobody', async () => {
    const page = await open();
    const log = stack.serveLog.length;
    const { out: r, calls } = await callsDuring(() => ask(page, paramsFor(browserPkp)));
    assert.ok(r.result, JSON.stringify(r));
    assert.equal(r.result.reused, false);
    // The step the in-page script got: the PKP's sign-in, for the wallet that speaks for it.
    const steps = await page.evaluate(() => window.__steps);
    assert.equal(steps.length, 1, JSON.stringify(steps));
    assert.equal(steps[0].purpose, 'pkpAuth');
    assert.equal(steps[0].pkp, browserPkp.address);
    assert.equal(steps[0].address, owner.address);
    // The wallet signed exactly that text: a plain SIWE for this page naming the PKP, granting nothing.
    const signs = calls.filter((c) => c.method === 'personal_sign');
    assert.equal(signs.length, 1, calls.map((c) => c.method).join(', '));
    assert.equal(signs[0].params[1], owner.address);
    const text = ethers.utils.toUtf8String(signs[0].params[0]);
    assert.equal(text, steps[0].message);
    const lines = text.split('\n');
    assert.equal(lines[0], `${new URL(ORIGIN).host} wants you to sign in with your Ethereum account:`);
    assert.equal(lines[1], owner.address);
    assert.ok(lines[3].includes(browserPkp.address), lines[3]);
    assert.ok(lines.includes(`URI: ${ORIGIN}`), text);
    assert.doesNotMatch(text, /Resources:|urn:recap:|lit:session:/);
    await assertNetworkSession(r.result, browserPkp);
    assert.deepEqual(await decisionsSince(log, 1), ['approved'], stack.serveLog.slice(log).join('\n'));
    await assertReused(page, browserPkp, r.result);
  });
}
