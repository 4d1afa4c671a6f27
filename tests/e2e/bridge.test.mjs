// End to end over real sockets: the dapp-side JS client (clients/js) in Node, against
// `lit-companion serve` with a policy, a real keychain (run under scripts/with-keyring, as
// scripts/test does), and simulated Lit nodes (`lit-node-sim`). The sessionSigs it gets must
// pass the official SDK's checks (tests/sdk/crosscheck.mjs) and be accepted by the nodes.
//
// Env: LIT_COMPANION_BIN, LIT_NODE_SIM_BIN (default: target/debug/…).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { requestSessionSigs, listGrants, disconnect, openSealedAnswer, CompanionError } from '../../clients/js/index.js';
import { Stack, BIN, HOST, pkp, pkpRequest, deepLink as makeDeepLink, assertSealedOnly } from './harness.mjs';

const stack = new Stack('e2e');
const { env, serveLog } = stack;
const cli = (args, input) => stack.cli(args, input);
const sdkCheck = (...a) => stack.sdkCheck(...a);
const nodeSigns = (...a) => stack.nodeSigns(...a);
let port, token, datil, naga, callbackServer, callbackOrigin;
const callbacks = [];

before(async () => {
  // The deep link's callback page, on this machine (http is allowed for localhost only).
  callbackServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { callbacks.push({ url: req.url, body, opened: decodeURIComponent(req.headers['x-opened'] || '') }); res.end('ok'); });
  });
  await new Promise((ok) => callbackServer.listen(0, '127.0.0.1', ok));
  callbackOrigin = `http://localhost:${callbackServer.address().port}`;
  // Stands in for the browser the OS would open on the callback: like the page's script, it
  // reads the (sealed) answer from the fragment and posts it, with the whole URL it was given,
  // to its own server.
  const opener = join(stack.work, 'fake-browser.mjs');
  writeFileSync(opener, `#!${process.execPath}
const [page, fragment] = process.argv[2].split('#');
await fetch(page, { method: 'POST', headers: { 'x-opened': encodeURIComponent(process.argv[2]) }, body: fragment });
`);
  chmodSync(opener, 0o755);
  await stack.start([{
    origin: 'pairing:e2e', networks: ['sim-datil', 'sim-naga', 'my-two'],
    resources: ['lit-pkp://*', 'lit-litaction://*'], maxLifetimeSeconds: 86400,
  }, {
    origin: 'https://app.example.com', resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400,
  }, {
    origin: callbackOrigin, resources: ['lit-pkp://*'], unverified: true, maxLifetimeSeconds: 86400,
  }], ['--opener', opener]);
  token = JSON.parse(cli(['pair', 'new', '--name', 'e2e'])).token;
  ({ port, datil, naga } = stack);
});

after(async () => {
  callbackServer.close();
  await stack.stop();
});

const opts = () => ({ transports: ['http'], port, token, timeoutMs: 30000 });

test('a Node script gets sessionSigs the SDK and the nodes accept, then reuses them', async () => {
  const { pubkey, id } = pkp(1);
  const first = await requestSessionSigs({ network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil }, opts());
  assert.equal(first.reused, false);
  assert.deepEqual(Object.keys(first.sessionSigs).sort(), [...datil].sort());
  for (const node of datil) {
    const r = sdkCheck(first.sessionSigs, 'datil-dev', node, `lit-pkp://${id}`, 'pkp-signing');
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await nodeSigns(node, first.sessionSigs, pubkey)).status, 200);
    assert.equal((await nodeSigns(node, first.sessionSigs, pkp(2).pubkey)).status, 401, 'another PKP is not granted');
  }
  const again = await requestSessionSigs({ network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil }, opts());
  assert.equal(again.reused, true);
  assert.equal(again.sessionKey, first.sessionKey);
});

test('an escalation is approved anew and covers old and new', async () => {
  const one = pkp(1);
  const two = pkp(3);
  const r = await requestSessionSigs({ network: 'sim-datil', resourceAbilityRequests: [pkpRequest(one.id), pkpRequest(two.id)], nodeUrls: datil }, opts());
  assert.equal(r.reused, false);
  for (const { pubkey } of [one, two]) assert.equal((await nodeSigns(datil[0], r.sessionSigs, pubkey)).status, 200);
  const decisions = serveLog.filter((l) => l.includes('getSessionSigs')).map((l) => /decision=(\w+)/.exec(l)?.[1]);
  assert.deepEqual(decisions.slice(-3), ['approved', 'reused', 'approved']);
});

test('what the policy does not allow is rejected with 4001 and a plain reason', async () => {
  await assert.rejects(
    requestSessionSigs({ network: 'sim-datil', resourceAbilityRequests: [pkpRequest('*')], nodeUrls: datil }, opts()),
    (e) => e instanceof CompanionError && e.code === 4001 && /wildcard/.test(e.message),
  );
  await assert.rejects(
    requestSessionSigs({ network: 'sim-datil', resourceAbilityRequests: [pkpRequest(pkp(4).id)], nodeUrls: datil }, { ...opts(), token: 'lcp_wrong' }),
    (e) => e instanceof CompanionError && e.code === 4100,
  );
});

test('Naga sessions carry maxPrice and pass the SDK and Naga nodes', async () => {
  const { pubkey, id } = pkp(5);
  const r = await requestSessionSigs({ network: 'sim-naga', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: naga, maxPrice: 10n ** 16n }, opts());
  for (const node of naga) {
    const c = sdkCheck(r.sessionSigs, 'naga-dev', node, `lit-pkp://${id}`, 'pkp-signing');
    assert.equal(c.status, 0, c.stderr);
    assert.equal((await nodeSigns(node, r.sessionSigs, pubkey)).status, 200);
  }
  assert.equal(JSON.parse(r.sessionSigs[naga[0]].signedMessage).maxPrice, '0x2386f26fc10000');
});

test('grants are listed in plain words and disconnect revokes them', async () => {
  const { grants } = await listGrants(opts());
  assert.equal(grants.length, 2);
  assert.ok(grants.every((g) => g.mayDo.every((s) => s.startsWith('Sign messages and transactions with your PKP'))));
  const { revoked } = await disconnect(opts());
  assert.equal(revoked, 2);
  assert.equal((await listGrants(opts())).grants.length, 0);
});

/** One framed native message through the host binary, as a browser would send it. */
function throughHost(message) {
  const body = Buffer.from(JSON.stringify(message));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length); // native byte order on x86-64 and arm64
  const r = spawnSync(HOST, ['chrome-extension://abcdefghijklmnopabcdefghijklmnop/'], { env, input: Buffer.concat([len, body]) });
  assert.equal(r.status, 0, String(r.stderr));
  const n = r.stdout.readUInt32LE(0);
  return JSON.parse(r.stdout.subarray(4, 4 + n).toString('utf8'));
}

test('the native-messaging host relays an extension request; the SIWE domain is the page origin', async () => {
  const { pubkey, id } = pkp(7);
  const answer = throughHost({ origin: 'https://app.example.com', envelope: { v: 1, id: 'ext-1', method: 'getSessionSigs',
    params: { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil } } });
  assert.equal(answer.id, 'ext-1');
  await assertAccepted(answer, { id, pubkey, host: 'app.example.com' });
  assert.ok(serveLog.some((l) => l.includes('https://app.example.com via browser extension')));
  // An origin the policy does not know gets its own answer: rejected.
  const other = throughHost({ origin: 'https://evil.example', envelope: { v: 1, id: 'ext-2', method: 'getSessionSigs',
    params: { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil } } });
  assert.equal(other.error.code, 4001);
});

/** An answer whose sessionSigs pass the SDK's checks and a node, signed in for `host`. */
async function assertAccepted(answer, { id, pubkey, host }) {
  assert.ok(answer.result, JSON.stringify(answer));
  const sigs = answer.result.sessionSigs;
  const c = sdkCheck(sigs, 'datil-dev', datil[0], `lit-pkp://${id}`, 'pkp-signing');
  assert.equal(c.status, 0, c.stderr);
  assert.equal((await nodeSigns(datil[0], sigs, pubkey)).status, 200);
  const siwe = JSON.parse(sigs[datil[0]].signedMessage).capabilities.at(-1).signedMessage;
  assert.ok(siwe.startsWith(`${host} wants you to sign in`), siwe);
}

const deepLink = (envelope, o = {}) => makeDeepLink(envelope, { origin: callbackOrigin, callback: `${callbackOrigin}/done`, ...o });

test('a deep link opened through the OS reaches the running companion; the answer lands on the callback', async () => {
  const desktopEnv = { ...env, HOME: join(stack.work, 'home'), XDG_DATA_HOME: join(stack.work, 'home/.local/share'), XDG_CONFIG_HOME: join(stack.work, 'home/.config') };
  const reg = spawnSync(BIN, ['register-url-handler'], { env: desktopEnv, encoding: 'utf8' });
  assert.equal(reg.status, 0, reg.stderr);
  const q = spawnSync('xdg-mime', ['query', 'default', 'x-scheme-handler/lit-companion'], { env: desktopEnv, encoding: 'utf8' });
  assert.equal(q.stdout.trim(), 'lit-companion-url.desktop');

  const { pubkey, id } = pkp(9);
  const envelope = { v: 1, id: 'link-1', method: 'getSessionSigs', params: { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil } };
  const link = deepLink(envelope);
  const opened = spawnSync('gio', ['open', link.url], { env: desktopEnv, encoding: 'utf8' });
  assert.equal(opened.status, 0, opened.stderr);
  for (let i = 0; i < 200 && callbacks.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(callbacks.length, 1, 'the answer reaches the callback');
  assert.equal(callbacks[0].url, '/done');
  // Sealed to the link's key: the page opens it with its private key and the link's nonce.
  const answer = await openSealedAnswer(link.key, link.nonce, callbacks[0].body.replace(/^litCompanion=/, ''));
  assert.equal(answer.id, 'link-1');
  await assertAccepted(answer, { id, pubkey, host: new URL(callbackOrigin).host });
  assert.ok(callbacks[0].opened.startsWith(`${callbackOrigin}/done#litCompanion=`), callbacks[0].opened);
  assertSealedOnly(callbacks[0].opened, answer);
  await assert.rejects(openSealedAnswer(deepLink(envelope).key, link.nonce, callbacks[0].body.replace(/^litCompanion=/, '')), { code: 4400 },
    'another key does not open it');
  assert.ok(serveLog.some((l) => l.includes(`unverified:${callbackOrigin} via deep link`)), serveLog.join('\n'));

  // The same link again: refused. An expired link, and one whose callback is elsewhere: refused.
  const again = spawnSync(BIN, ['open-url', link.url], { env, encoding: 'utf8' });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already used/);
  const expired = spawnSync(BIN, ['open-url', deepLink(envelope, { exp: Math.floor(Date.now() / 1000) - 1 }).url], { env, encoding: 'utf8' });
  assert.equal(expired.status, 1);
  assert.match(expired.stderr, /expired/);
  const elsewhere = spawnSync(BIN, ['open-url', deepLink(envelope, { callback: 'https://evil.example/steal' }).url], { env, encoding: 'utf8' });
  assert.equal(elsewhere.status, 1);
  assert.match(elsewhere.stderr, /callback is not on the claimed origin/);
  const bare = new URL(deepLink(envelope).url);
  bare.searchParams.delete('pk');
  const withoutKey = spawnSync(BIN, ['open-url', bare.href], { env, encoding: 'utf8' });
  assert.equal(withoutKey.status, 1, 'a link without pk (an old client) is refused');
  assert.match(withoutKey.stderr, /lacks `pk`/);
  assert.equal(callbacks.length, 1, 'refused links deliver nothing');

  const unreg = spawnSync(BIN, ['unregister-url-handler'], { env: desktopEnv, encoding: 'utf8' });
  assert.equal(unreg.status, 0, unreg.stderr);
});

test('a custom network added with `network add` while serve runs: sessionSigs for exactly its nodes, no nodeUrls needed', async () => {
  // A third network of two of the simulated Datil nodes, added while `serve` is running.
  const mine = datil.slice(0, 2);
  cli(['network', 'add', 'my-two', '--generation', 'datil', ...mine.flatMap((n) => ['--node', n])]);
  const listed = JSON.parse(cli(['network', 'list', '--json'])).find((n) => n.name === 'my-two');
  assert.deepEqual(listed.nodes, mine);
  assert.equal(listed.builtIn, false);
  const { pubkey, id } = pkp(31);
  let r;
  for (let i = 0; i < 40; i++) { // serve applies the settings within a second
    r = await requestSessionSigs({ network: 'my-two', resourceAbilityRequests: [pkpRequest(id)] }, opts()).catch((e) => e);
    if (!(r instanceof CompanionError)) break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.ok(!(r instanceof CompanionError), String(r));
  assert.deepEqual(Object.keys(r.sessionSigs).sort(), [...mine].sort());
  for (const node of mine) {
    const c = sdkCheck(r.sessionSigs, 'datil-dev', node, `lit-pkp://${id}`, 'pkp-signing');
    assert.equal(c.status, 0, c.stderr);
    assert.equal((await nodeSigns(node, r.sessionSigs, pubkey)).status, 200);
  }
  // The third node is not the network's: naming it is refused, and nothing is signed for it.
  const e = await requestSessionSigs({ network: 'my-two', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil }, opts()).catch((x) => x);
  assert.equal(e.code, 4400, String(e));
  assert.match(e.message, /is not a node of my-two/);
  cli(['network', 'remove', 'my-two']);
});
