// The browser extension in a real Chromium (Debian's, headless, driven by playwright-core):
// pages on loopback ask through `window.litCompanion`; the service worker relays over native
// messaging to `lit-companion-host`, which relays to `lit-companion serve`. The sessionSigs must
// pass the official SDK's checks with the SIWE domain equal to the page's host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Stack, HOST, root, pkp, pkpRequest } from './harness.mjs';

const { chromium } = createRequire(join(root, 'tests/browser/package.json'))('playwright-core');
const EXTENSION = join(root, 'extension');
const EXTENSION_ID = 'ilaebllfbkgdbaeahkmhkdhchcamhekg';
const stack = new Stack('ext');
let pages, A, B, context;

async function launch(profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: false,
    ignoreDefaultArgs: ['--disable-extensions'],
    env: stack.env,
    args: [
      '--headless=new', `--disable-extensions-except=${EXTENSION}`, `--load-extension=${EXTENSION}`, '--no-sandbox',
      '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic',
    ],
  });
}

before(async () => {
  // One server, two origins: http://127.0.0.1:P and http://localhost:P.
  const client = readFileSync(join(root, 'clients/js/index.js'));
  pages = createServer((req, res) => {
    if (req.url === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(client);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>dapp</title><h1>dapp</h1>');
  });
  await new Promise((ok) => pages.listen(0, '127.0.0.1', ok));
  const port = pages.address().port;
  A = `http://127.0.0.1:${port}`;
  B = `http://localhost:${port}`;
  await stack.start([
    { origin: A, resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400 },
    { origin: B, resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400 },
  ]);
  const profile = join(stack.work, 'profile');
  stack.cli(['install-browser-host', '--user-data-dir', profile, '--host-path', HOST]);
  context = await launch(profile);
});

after(async () => {
  await context?.close();
  pages.close();
  stack.stop();
});

async function open(origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/`);
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

test('a page gets sessionSigs through the extension; the SIWE domain is its host', async () => {
  const { pubkey, id } = pkp(21);
  const page = await open(A);
  const r = await ask(page, { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: stack.datil });
  assert.ok(r.result, JSON.stringify(r));
  const sigs = r.result.sessionSigs;
  for (const node of stack.datil) {
    const c = stack.sdkCheck(sigs, 'datil-dev', node, `lit-pkp://${id}`, 'pkp-signing');
    assert.equal(c.status, 0, c.stderr);
  }
  assert.equal((await stack.nodeSigns(stack.datil[0], sigs, pubkey)).status, 200);
  const siwe = JSON.parse(sigs[stack.datil[0]].signedMessage).capabilities.at(-1).signedMessage;
  assert.ok(siwe.startsWith(`${new URL(A).host} wants you to sign in`), siwe);
  assert.ok(stack.serveLog.some((l) => l.includes(`${A} via browser extension`)));

  // The JS client in the page finds the extension first and reuses the grant.
  const viaClient = await page.evaluate(async ({ id, nodes }) => {
    const { requestSessionSigs } = await import('/client.js');
    return requestSessionSigs({ network: 'sim-datil', resourceAbilityRequests: [
      { resource: { resource: id, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }], nodeUrls: nodes },
    { transports: ['extension'] });
  }, { id, nodes: stack.datil });
  assert.equal(viaClient.reused, true);
  assert.equal(viaClient.sessionKey, r.result.sessionKey);
});

test("another origin cannot see or use the first origin's session, whatever it writes", async () => {
  const a = await open(A);
  const aGrants = await a.evaluate(() => window.litCompanion.request({ v: 1, id: 'g', method: 'listGrants' }));
  assert.equal(aGrants.result.grants.length, 1);

  const b = await open(B);
  const spoofed = await b.evaluate((claimed) => new Promise((resolve) => {
    window.addEventListener('message', (e) => {
      if (e.data && e.data.channel === 'lit-companion' && e.data.direction === 'to-page' && e.data.ticket === 'spoof') resolve(e.data.response);
    });
    // The page names the other origin everywhere it can; the extension ignores all of it.
    window.postMessage({ channel: 'lit-companion', direction: 'to-extension', ticket: 'spoof', origin: claimed,
      envelope: { v: 1, id: 's', method: 'listGrants' } }, window.location.origin);
  }), A);
  assert.deepEqual(spoofed.result.grants, [], 'B sees none of A\'s grants');

  const { id } = pkp(22);
  const r = await ask(b, { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: stack.datil });
  assert.ok(r.result, JSON.stringify(r));
  assert.notEqual(r.result.sessionKey, aGrants.result.grants[0].sessionKey);
  const siwe = JSON.parse(r.result.sessionSigs[stack.datil[0]].signedMessage).capabilities.at(-1).signedMessage;
  assert.ok(siwe.startsWith(`${new URL(B).host} wants you to sign in`), siwe);
});

test('without the host manifest the page gets a typed error and the popup shows the fix', async () => {
  const bare = await launch(join(stack.work, 'profile-without-host'));
  try {
    const page = await bare.newPage();
    await page.goto(`${A}/`);
    await page.waitForFunction(() => Boolean(window.litCompanion));
    const r = await ask(page, { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(pkp(23).id)], nodeUrls: stack.datil });
    assert.equal(r.error.code, 4900, JSON.stringify(r));
    assert.match(r.error.message, /install-browser-host/);
    const popup = await bare.newPage();
    await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
    await popup.waitForFunction(() => !document.getElementById('problem').hidden);
    assert.match(await popup.textContent('#fix'), /install-browser-host/);
    assert.match(await popup.textContent('#status'), /Not connected/);
  } finally {
    await bare.close();
  }
});
