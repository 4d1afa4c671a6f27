// The browser extension in a real Chromium (Debian's, headless, driven by playwright-core) and a
// real Firefox (Debian's ESR, headless, driven by puppeteer-core over WebDriver BiDi, with the
// .xpi that scripts/package builds), the same tests in each: pages on loopback ask through
// `window.litCompanion`; the extension's background relays over native messaging to
// `lit-companion-host`, which relays to `lit-companion serve`. The sessionSigs must pass the
// official SDK's checks with the SIWE domain equal to the page's host. A browser whose host
// manifest is missing, or names another extension, starts no host: the page gets a typed error
// naming the fix. The deep-link road too: the client in a page builds the link (its X25519 key in
// sessionStorage), the test hands it to `lit-companion open-url` as the OS would, and the sealed
// answer comes back to the same tab, or to a new one that forwards it to the tab that asked.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, BIN, BROWSERS, pkp, pkpRequest, assertSealedOnly, launchBrowser, startPages } from './harness.mjs';

// Extension ids the host manifest may name instead of ours.
const STRANGER = { chromium: 'abcdefghijklmnopabcdefghijklmnop', firefox: 'impostor@example.org' };

for (const kind of BROWSERS) describe(kind, () => suite(kind));

function suite(kind) {
  const stack = new Stack(`ext-${kind}`);
  let pages, A, B, browser, openedFile;

  before(async () => {
    // One server, two origins: http://127.0.0.1:P and http://localhost:P.
    pages = await startPages();
    const port = pages.address().port;
    A = `http://127.0.0.1:${port}`;
    B = `http://localhost:${port}`;
    // What the OS would do with the answer URL (open it in the browser): here, record it.
    openedFile = join(stack.work, 'opened.txt');
    const opener = join(stack.work, 'opener.sh');
    writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${openedFile}'\n`);
    chmodSync(opener, 0o755);
    await stack.start([
      { origin: A, resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400 },
      { origin: B, resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400 },
      // Deep links from A are claims; headless serve answers them only under such a rule.
      { origin: A, resources: ['lit-pkp://*'], unverified: true, maxLifetimeSeconds: 86400 },
    ], ['--opener', opener]);
    browser = await launchBrowser(kind, stack);
  });

  after(async () => {
    await browser?.close();
    pages?.close();
    await stack.stop();
  });

  async function open(origin, within = browser) {
    const page = await within.newPage();
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
    const bare = await launchBrowser(kind, stack, { name: 'without-host', allow: [], popup: true });
    try {
      const page = await open(A, bare);
      const r = await ask(page, { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(pkp(23).id)], nodeUrls: stack.datil });
      assert.equal(r.error.code, 4900, JSON.stringify(r));
      assert.match(r.error.message, /install-browser-host/);
      const popup = await bare.popup();
      await popup.waitForFunction(() => !document.getElementById('problem').hidden);
      const shown = await popup.evaluate(() => ({ fix: document.getElementById('fix').textContent, status: document.getElementById('status').textContent }));
      assert.match(shown.fix, /install-browser-host/);
      assert.match(shown.status, /Not connected/);
    } finally {
      await bare.close();
    }
  });

  test('a host manifest that names another extension starts no host for ours: the page gets the fix, the companion hears nothing', async () => {
    const other = await launchBrowser(kind, stack, { name: 'other-extension', allow: [STRANGER[kind]] });
    try {
      const page = await open(A, other);
      const from = stack.serveLog.length;
      const r = await ask(page, { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(pkp(26).id)], nodeUrls: stack.datil });
      assert.equal(r.error?.code, 4900, JSON.stringify(r));
      assert.match(r.error.message, /not installed for this browser.*install-browser-host/);
      await new Promise((ok) => setTimeout(ok, 200));
      assert.deepEqual(stack.serveLog.slice(from).filter((l) => l.includes(A)), [], 'no request reached serve');
    } finally {
      await other.close();
    }
  });

  /** Hands a link to `lit-companion open-url` as the OS would; resolves the answer URL the companion opened. */
  async function openThroughOs(link) {
    rmSync(openedFile, { force: true });
    const r = spawnSync(BIN, ['open-url', link], { env: stack.env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (let i = 0; i < 200 && !existsSync(openedFile); i++) await new Promise((ok) => setTimeout(ok, 50));
    const lines = readFileSync(openedFile, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, lines.join('\n'));
    return lines[0];
  }

  /** sessionSigs the SDK accepts for `id`, signed in for the host of A (a claim: not verified). */
  async function assertSdkAccepts(sigs, { id, pubkey }) {
    for (const node of stack.datil) {
      const c = stack.sdkCheck(sigs, 'datil-dev', node, `lit-pkp://${id}`, 'pkp-signing');
      assert.equal(c.status, 0, c.stderr);
    }
    assert.equal((await stack.nodeSigns(stack.datil[0], sigs, pubkey)).status, 200);
    const siwe = JSON.parse(sigs[stack.datil[0]].signedMessage).capabilities.at(-1).signedMessage;
    assert.ok(siwe.startsWith(`${new URL(A).host} wants you to sign in`), siwe);
  }

  test('deep link, same tab: buildDeepLink in the page → open-url → the callback → readDeepLinkResult opens the sealed answer', async () => {
    const { pubkey, id } = pkp(24);
    const page = await browser.newPage();
    await page.goto(`${A}/mint?step=2`);
    const built = await page.evaluate(async ({ id, nodes }) => {
      const { buildDeepLink } = await import('/client.js');
      const { url, nonce, key } = await buildDeepLink({ v: 1, id: 'link-1', method: 'getSessionSigs', params: {
        network: 'sim-datil', resourceAbilityRequests: [{ resource: { resource: id, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }],
        nodeUrls: nodes } });
      return { url, nonce, x: key.x, stored: JSON.parse(sessionStorage.getItem('litCompanion:deeplink')), local: localStorage.length };
    }, { id, nodes: stack.datil });
    const link = new URL(built.url);
    assert.equal(link.searchParams.get('pk'), built.x);
    assert.equal(link.searchParams.get('callback'), `${A}/mint?step=2`);
    assert.equal(built.stored['link-1'].nonce, built.nonce, 'the key waits in sessionStorage');
    assert.equal(built.local, 0, 'nothing in localStorage');

    const answerUrl = await openThroughOs(built.url);
    assert.ok(answerUrl.startsWith(`${A}/mint?step=2#litCompanion=`), answerUrl);
    await page.goto(answerUrl);
    const read = await page.evaluate(async () => {
      const { readDeepLinkResult } = await import('/client.js');
      try {
        return { result: await readDeepLinkResult(), href: location.href, stored: sessionStorage.getItem('litCompanion:deeplink') };
      } catch (e) {
        return { error: { code: e.code, name: e.name, message: e.message } };
      }
    });
    assert.ok(read.result, JSON.stringify(read));
    assert.equal(read.href, `${A}/mint?step=2`, 'the answer is gone from the address');
    assert.equal(read.stored, null, 'and the key from sessionStorage');
    await assertSdkAccepts(read.result.sessionSigs, { id, pubkey });
    assertSealedOnly(answerUrl, { v: 1, id: 'link-1', result: read.result });
    assert.ok(stack.serveLog.some((l) => l.includes(`unverified:${A} via deep link`)), stack.serveLog.join('\n'));
  });

  test('deep link, new tab: the answer opened in another tab reaches the pending requestSessionSigs over BroadcastChannel', async () => {
    const { pubkey, id } = pkp(25);
    const asker = await browser.newPage();
    await asker.goto(`${A}/asker`);
    const links = [];
    browser.watchLinks(asker, links);
    await asker.evaluate(({ id, nodes }) => {
      window.__answer = import('/client.js')
        .then(({ requestSessionSigs }) => requestSessionSigs({ network: 'sim-datil',
          resourceAbilityRequests: [{ resource: { resource: id, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }], nodeUrls: nodes },
        { transports: ['deeplink'], timeoutMs: 60000 }))
        .then((result) => ({ result }), (e) => ({ error: { code: e.code, name: e.name, message: e.message } }));
    }, { id, nodes: stack.datil });
    for (let i = 0; i < 100 && links.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
    assert.equal(links.length, 1, 'the page went to the lit-companion:// link');

    const answerUrl = await openThroughOs(links[0]);
    // The OS opens the answer in a new tab: its sessionStorage is empty, so it forwards.
    const tab = await browser.newPage();
    await tab.goto(answerUrl);
    const forwarded = await tab.evaluate(async () => {
      const { readDeepLinkResult } = await import('/client.js');
      try {
        return { result: await readDeepLinkResult(), href: location.href };
      } catch (e) {
        return { error: { code: e.code, name: e.name, message: e.message } };
      }
    });
    assert.deepEqual(forwarded, { result: { forwarded: true }, href: `${A}/asker` });
    const answer = await asker.evaluate(() => window.__answer);
    assert.ok(answer.result, JSON.stringify(answer));
    await assertSdkAccepts(answer.result.sessionSigs, { id, pubkey });
    assert.equal(await asker.evaluate(() => sessionStorage.getItem('litCompanion:deeplink')), null, "the asking tab's key is gone");
    assertSealedOnly(answerUrl, { result: answer.result });
  });
}
