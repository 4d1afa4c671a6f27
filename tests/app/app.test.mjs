// The desktop app end to end: the real Tauri window under Xvfb, driven over WebDriver
// (tauri-driver + WebKitWebDriver), a real keychain (the suite runs under scripts/with-keyring),
// simulated Lit nodes, and requests arriving over loopback HTTP and through an OS-opened deep
// link. The sessionSigs the app hands out must pass the official SDK's checks.
//
// Env: LIT_COMPANION_APP_BIN, LIT_COMPANION_BIN, LIT_NODE_SIM_BIN, LIT_COMPANION_HOST_BIN, TAURI_DRIVER (defaults:
// target/debug/…, tauri-driver on PATH). Screenshots go to target/screenshots/ (or
// $LIT_COMPANION_SCREENSHOTS); scripts/screenshots refreshes the copies in docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync, readFileSync, existsSync, realpathSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { requestSessionSigs, openSealedAnswer, CompanionError } from '../../clients/js/index.js';
import { Stack, root, HOST, pkp, realPkp, pkpRequest, deepLink, assertSealedOnly } from '../e2e/harness.mjs';
import { WebDriver } from './webdriver.mjs';
import { captureScript, writeRecord } from './screenshots.mjs';

const { ethers } = createRequire(join(root, 'tests/sdk/package.json'))('ethers');
const APP = process.env.LIT_COMPANION_APP_BIN || join(root, 'target/debug/lit-companion-app');
const DRIVER = process.env.TAURI_DRIVER || 'tauri-driver';
const SHOTS = process.env.LIT_COMPANION_SCREENSHOTS || join(root, 'target/screenshots');
const ORIGIN = 'https://app.example.com';

const stack = new Stack('app');
const children = [];
const wd = new WebDriver('');
let env, port, datil, service, watcher;
/** The items registered with the tray watcher (their D-Bus names). */
const trayItems = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

/** Starts Xvfb on a free display; resolves ":N". */
function startXvfb() {
  return new Promise((ok, fail) => {
    const x = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(x);
    x.stdout.once('data', (d) => ok(`:${String(d).trim()}`));
    x.on('exit', (c) => fail(new Error(`Xvfb exited with ${c} (apt-get install xvfb; see scripts/setup)`)));
  });
}

async function waitForPort(p) {
  for (let i = 0; i < 200; i++) {
    const up = await fetch(`http://127.0.0.1:${p}/status`).then(() => true, () => false);
    if (up) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${p}`);
}

/** The keychain items of the app's service, as secret-tool (not our code) sees them. */
function keychainAccounts() {
  const r = spawnSync('secret-tool', ['search', '--all', 'service', service], { env, encoding: 'utf8' });
  return (r.stdout + r.stderr).split('\n').filter((l) => l.startsWith('attribute.username = ')).map((l) => l.slice(21)).sort();
}

/** A request from a web page at `origin`, as a browser would send it (Origin, Fetch Metadata). */
function ask(requests, { origin = ORIGIN, network = 'sim-datil', nodeUrls = datil, ...params } = {}) {
  const browserFetch = (url, init) => fetch(url, {
    ...init,
    headers: { ...init.headers, origin, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' },
  });
  return requestSessionSigs(
    { network, resourceAbilityRequests: requests, nodeUrls, ...params },
    { transports: ['http'], port, fetch: browserFetch, timeoutMs: 60000 },
  );
}

const visible = (css) => `const e = document.querySelector(${JSON.stringify(css)}); return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;`;
const promptState = `const p = document.getElementById('prompt');
  if (p.hidden) return null;
  return { who: document.getElementById('prompt-who').innerText, where: document.getElementById('prompt-where').innerText,
    will: [...document.querySelectorAll('#prompt-new li')].map((l) => ({ text: l.innerText, danger: l.classList.contains('danger') })),
    already: [...document.querySelectorAll('#prompt-already-list li')].map((l) => l.innerText),
    alreadyShown: !document.getElementById('prompt-already').hidden,
    not: [...document.querySelectorAll('#prompt-not li')].map((l) => l.innerText),
    flags: [...document.querySelectorAll('#prompt-flags li')].map((l) => l.innerText),
    raw: document.getElementById('prompt-raw').textContent,
    approveDisabled: document.getElementById('prompt-approve').disabled,
    rejectDisabled: document.getElementById('prompt-reject').disabled };`;

/** A screenshot, and beside it the record of what it shows (tests/app/screenshots.mjs). */
async function shot(name) {
  mkdirSync(SHOTS, { recursive: true });
  // The last change painted: two animation frames (a busy machine paints late), then a pause.
  await wd.execAsync(`const done = arguments[arguments.length - 1];
    setTimeout(done, 2000); requestAnimationFrame(() => requestAnimationFrame(() => done()));`);
  await sleep(200);
  writeFileSync(join(SHOTS, `${name}.png`), await wd.screenshot());
  const dirs = [stack.work, env.HOME, process.env.XDG_RUNTIME_DIR, process.env.HOME, tmpdir()];
  writeRecord(SHOTS, name, await wd.exec(captureScript), dirs);
}

/** Waits until the app serves the network `name` (it applies `network add` within a second). */
async function served(name) {
  for (let i = 0; i < 100; i++) {
    const on = await wd.execAsync(`const done = arguments[arguments.length - 1];
      window.__TAURI__.core.invoke('networks').then((l) => done(l.some((n) => n.name === arguments[0] && n.served)), () => done(false));`, name);
    if (on) return;
    await sleep(100);
  }
  assert.fail(`the app does not serve ${name}`);
}

/** Waits for the prompt, checks the buttons start disabled, and returns what it shows. */
async function waitForPrompt() {
  const first = await wd.until(promptState, 'the prompt');
  assert.ok(first.approveDisabled && first.rejectDisabled, 'Approve and Reject start disabled (no click-through)');
  await wd.until(`return !document.getElementById('prompt-approve').disabled;`, 'the buttons to wake up', 3000);
  const woke = await wd.exec(`return document.getElementById('prompt').dataset.wokeAfterMs;`);
  assert.ok(Number(woke) >= 500, `the buttons woke ${woke} ms after this prompt was shown`);
  assert.ok(!['prompt-approve', 'prompt-reject'].includes(await wd.exec('return document.activeElement && document.activeElement.id;')),
    'neither button has focus: a keypress meant for another app answers nothing');
  return wd.exec(promptState);
}

async function pendingPrompts() {
  return wd.execAsync(`const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke('prompts').then((q) => done(q.length), (e) => done(String(e)));`);
}

before(async () => {
  assert.ok(existsSync(APP), `${APP} is missing: cargo build -p lit-companion-app`);
  const display = await startXvfb();
  // The simulated networks are added once the app runs: it picks up `network add` by itself.
  await stack.startNodes({ networks: false });
  datil = stack.datil;
  port = await freePort();
  service = stack.env.LIT_COMPANION_KEYCHAIN_SERVICE;
  const home = join(stack.work, 'home');
  mkdirSync(home, { recursive: true });
  // The deep link's callback is "opened" by a script that records the URL.
  const opener = join(stack.work, 'opener.sh');
  writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${join(stack.work, 'opened.txt')}'\n`);
  chmodSync(opener, 0o755);
  env = {
    ...stack.env,
    DISPLAY: display,
    HOME: home,
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    LIT_COMPANION_HTTP_PORT: String(port),
    LIT_COMPANION_OPENER: opener,
  };
  const driverPort = await freePort();
  const nativePort = await freePort();
  const driver = spawn(DRIVER, ['--port', String(driverPort), '--native-port', String(nativePort)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(driver);
  driver.on('error', (e) => console.error(`tauri-driver did not start (${e.message}): scripts/tools installs it`));
  wd.base = `http://127.0.0.1:${driverPort}`;
  // The desktop's tray (a StatusNotifierWatcher, as a panel provides), before the companion
  // starts: it registers its icon there.
  // Debian's Python, which has PyGObject (python3-gi, scripts/setup).
  watcher = spawn('/usr/bin/python3', [join(root, 'tests/app/sni-watcher.py')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(watcher);
  watcher.stdout.setEncoding('utf8');
  watcher.stdout.on('data', (d) => { trayItems.push(...d.split('\n').filter((l) => l && l !== 'ready')); });
  await new Promise((ok, fail) => {
    watcher.stdout.once('data', (d) => (d.startsWith('ready') ? ok() : fail(new Error(d))));
    watcher.once('exit', (c) => fail(new Error(`the tray watcher exited with ${c} (python3-gi: scripts/setup)`)));
  });
  await wd.start(APP);
  stack.addNetworks();
});

/**
 * The companion the window started (`lit-companion tray`, beside the app): it outlives the
 * window, so the suite finds it by its data directory.
 */
function companionPids() {
  const found = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd[1] !== 'tray') continue;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (environ.includes(`LIT_COMPANION_DATA_DIR=${stack.env.LIT_COMPANION_DATA_DIR}`)) found.push(Number(pid));
    } catch { /* gone, or not ours */ }
  }
  return found;
}

/** The pids of every process whose program is `path`. */
function pidsOf(path) {
  const real = realpathSync(path);
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try { return readlinkSync(`/proc/${pid}/exe`) === real; } catch { return false; }
  });
}

after(async () => {
  await wd.stop().catch(() => {});
  for (const pid of [...companionPids(), ...pidsOf(APP)]) { try { process.kill(pid); } catch { /* gone */ } }
  for (const c of children) c.kill();
  await stack.stop();
});

test('first run: a wallet (the browser wallet first), then the network or skip; the key goes to the keychain, Lit\'s retired networks stay off', async () => {
  await wd.until(visible('#first-external'), 'the first-run screen');
  // The networks `network add` gave the running app (listed in the network step).
  await served('sim-datil');
  await served('sim-naga');
  const cards = await wd.exec(`return [...document.querySelectorAll('#first-run-wallet .card')].map((c) => ({
    title: c.querySelector('h3').textContent, says: c.querySelector('p') ? c.querySelector('p').textContent : null }));`);
  assert.deepEqual(cards.map((c) => c.title), ['Use my browser wallet', 'Create a new wallet', 'Import a private key'], 'the browser wallet first');
  assert.match(cards[0].says, /keeps its key and signs in the page: Lit Companion keeps only its address/);
  assert.equal(await wd.exec(`return document.getElementById('first-external').className;`), 'primary');
  assert.equal(await wd.exec(visible('#first-run-network')), false, 'the network comes second');
  await shot('first-run');
  // A browser wallet is added by its address only: one that is not an address is refused here.
  await wd.type('#first-external-address', '0x1234');
  await wd.click('#first-external');
  await wd.until(visible('#first-run-error'), 'the refusal');
  assert.equal(JSON.parse(stack.cli(['wallet', 'list'])).length, 0, 'nothing was added');
  await wd.type('#new-label', 'Main');
  await wd.click('#create-wallet');
  // Step two: which network, with the Settings' own form (by chain RPC and Staking contract, or
  // by a node list), or skip.
  await wd.until(visible('#first-run-network #net-rpc'), 'the network step');
  assert.equal(await wd.exec(visible('#first-run-wallet')), false, 'the wallet step is done');
  assert.equal(await wd.exec(`return document.querySelectorAll('#network-form').length;`), 1, 'one form, the Settings\' own');
  assert.deepEqual(await wd.exec(`return [...document.querySelectorAll('#first-run-served li')].map((l) => l.textContent);`),
    ['✓ Served: sim-datil (your Datil network)', '✓ Served: sim-naga (your Naga network)']);
  await shot('first-run-network');
  const rpc = `http://127.0.0.1:${await freePort()}`;
  await wd.type('#net-name', 'my-chain');
  await wd.click('#net-generation option[value="naga"]');
  await wd.type('#net-rpc', rpc);
  await wd.type('#net-staking', '0x21d6');
  await wd.click('#net-add');
  await wd.until(visible('#first-run-network #net-problem'), 'the refusal');
  assert.match(await wd.exec(`return document.getElementById('net-problem').textContent;`), /staking contract "0x21d6" is not a 0x-prefixed 20-byte address/);
  await wd.type('#net-staking', '0x21d636d95eE71150c0c3Ffa79268c989a329d1CE');
  await wd.click('#net-add');
  await wd.until(visible('#sessions h2'), 'the sessions screen');
  assert.equal(await wd.exec(visible('#first-run')), false);
  assert.equal(await wd.exec(`return document.querySelector('#network-add #network-form') !== null;`), true, 'the form is back in Settings');
  const saved = JSON.parse(readFileSync(join(stack.env.LIT_COMPANION_DATA_DIR, 'settings.json'), 'utf8'));
  assert.deepEqual(saved.customNetworks.find((n) => n.name === 'my-chain'),
    { name: 'my-chain', generation: 'naga', rpc, staking: '0x21d636d95eE71150c0c3Ffa79268c989a329d1CE' });
  assert.deepEqual([...saved.networks].sort(), ['my-chain', 'sim-datil', 'sim-naga'], 'served: the user\'s networks, none of Lit\'s retired ones');
  const wallets = JSON.parse(stack.cli(['wallet', 'list']));
  assert.equal(wallets.length, 1);
  assert.equal(wallets[0].label, 'Main');
  assert.deepEqual(keychainAccounts(), [`wallet:${wallets[0].address}`]);
  await waitForPort(port);
  // The first start registered the browser host for this user, for the browsers installed here
  // only (Chromium's and Firefox's programs are on PATH, though they have no profile yet),
  // pointing at the host beside the app; no profile folder is made for a browser that is not here.
  const manifest = JSON.parse(readFileSync(join(env.HOME, '.config/chromium/NativeMessagingHosts/app.litcompanion.host.json'), 'utf8'));
  assert.equal(manifest.path, join(dirname(APP), 'lit-companion-host'));
  assert.deepEqual(manifest.allowed_origins, ['chrome-extension://ilaebllfbkgdbaeahkmhkdhchcamhekg/']);
  const firefox = JSON.parse(readFileSync(join(env.HOME, '.mozilla/native-messaging-hosts/app.litcompanion.host.json'), 'utf8'));
  assert.equal(firefox.path, manifest.path);
  assert.deepEqual(firefox.allowed_extensions, ['companion@litcompanion.app']);
  for (const dir of ['.config/BraveSoftware', '.config/microsoft-edge']) {
    assert.ok(!existsSync(join(env.HOME, dir)), `${dir} was made for a browser that is not installed`);
  }
});

let firstKey;

test('a request over loopback HTTP prompts in plain words; approving gives sigs the SDK and the nodes accept', async () => {
  const { pubkey, id } = pkp(1);
  const pending = ask([pkpRequest(id)]);
  const p = await waitForPrompt();
  assert.equal(p.who, 'app.example.com — verified by your browser');
  assert.match(p.where, /^On sim-datil \(your Datil network\), as 0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4} \(Main\) · via loopback HTTP$/);
  assert.equal(p.will.length, 1);
  assert.match(p.will[0].text, /^Sign messages and transactions with your PKP 0x[0-9a-f]{4}…[0-9a-f]{4}/);
  assert.ok(p.will[0].danger, 'signing with a PKP is marked dangerous');
  assert.ok(p.not.some((l) => /other PKPs/.test(l)), p.not.join('\n'));
  assert.deepEqual(p.flags, [], 'one named PKP for a day raises no flag');
  assert.equal(p.alreadyShown, false);
  assert.match(p.raw, /^app\.example\.com wants you to sign in with your Ethereum account:/);
  assert.match(p.raw, /urn:recap:/);
  await shot('prompt');
  await wd.click('#prompt-approve');
  const got = await pending;
  assert.equal(got.reused, false);
  firstKey = got.sessionKey;
  assert.deepEqual(Object.keys(got.sessionSigs).sort(), [...datil].sort());
  for (const node of datil) {
    const c = stack.sdkCheck(got.sessionSigs, 'datil-dev', node, `lit-pkp://${id}`, 'pkp-signing');
    assert.equal(c.status, 0, c.stderr);
    assert.equal((await stack.nodeSigns(node, got.sessionSigs, pubkey)).status, 200);
    assert.equal((await stack.nodeSigns(node, got.sessionSigs, pkp(2).pubkey)).status, 401, 'another PKP is not granted');
  }
  assert.ok(keychainAccounts().includes(`session:${firstKey}`), 'the session key is in the keychain');
});

test('a second request inside the grant is answered without a prompt', async () => {
  const got = await ask([pkpRequest(pkp(1).id)]);
  assert.equal(got.reused, true);
  assert.equal(got.sessionKey, firstKey);
  assert.equal(await pendingPrompts(), 0);
  assert.equal(await wd.exec(`return document.getElementById('prompt').hidden;`), true);
});

test('an escalation prompts again and shows only what is new', async () => {
  // The activity screen orders by time to the second: a clear second after the last request's
  // line (reuse counts are written about once a second) keeps its screenshot's order the same on
  // every run.
  await sleep(2100);
  const one = pkp(1);
  const two = pkp(2);
  const pending = ask([pkpRequest(one.id), pkpRequest(two.id)]);
  const p = await waitForPrompt();
  assert.equal(p.alreadyShown, true);
  assert.equal(p.already.length, 1);
  assert.equal(p.will.length, 1, 'only the new PKP is asked about');
  assert.ok(p.will[0].text.includes(`0x${two.id.slice(0, 4)}`), `${p.will[0].text} names the new PKP`);
  assert.ok(p.already[0].includes(`0x${one.id.slice(0, 4)}`), p.already[0]);
  await shot('prompt-escalation');
  await wd.click('#prompt-approve');
  const got = await pending;
  assert.equal(got.reused, false);
  assert.notEqual(got.sessionKey, firstKey);
  for (const pk of [one.pubkey, two.pubkey]) assert.equal((await stack.nodeSigns(datil[0], got.sessionSigs, pk)).status, 200);
  firstKey = got.sessionKey;
});

test('prompts queue: a second caller waits behind the first and never replaces it', async () => {
  const first = ask([pkpRequest(pkp(11).id)], { origin: 'https://one.example' }).then(() => null, (e) => e);
  const p1 = await waitForPrompt();
  assert.match(p1.who, /^one\.example/);
  const second = ask([pkpRequest(pkp(12).id)], { origin: 'https://two.example' }).then(() => null, (e) => e);
  await sleep(500);
  const still = await wd.exec(promptState);
  assert.match(still.who, /^one\.example/, 'the prompt in front stays in front');
  assert.equal(still.approveDisabled, false, 'and is not re-rendered (its buttons stay awake)');
  await wd.click('#prompt-reject');
  const p2 = await wd.until(`const s = (() => { ${promptState} })(); return s && s.who.startsWith('two.example') ? s : null;`, 'the second prompt');
  assert.ok(p2.approveDisabled, 'the next prompt starts with its buttons asleep');
  await wd.until(`return !document.getElementById('prompt-approve').disabled;`, 'the buttons to wake up', 3000);
  await wd.click('#prompt-reject');
  assert.equal((await first).code, 4001);
  assert.equal((await second).code, 4001);
  assert.equal(await pendingPrompts(), 0);
});

test('a prompt whose caller goes away closes itself (the extension road)', async () => {
  const host = spawn(HOST, ['chrome-extension://ilaebllfbkgdbaeahkmhkdhchcamhekg/'], { env, stdio: ['pipe', 'ignore', 'inherit'] });
  children.push(host);
  const body = Buffer.from(JSON.stringify({ origin: 'https://gone.example', envelope: { v: 1, id: 'ext-gone', method: 'getSessionSigs',
    params: { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(pkp(13).id)], nodeUrls: datil } } }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length); // native byte order on x86-64 and arm64
  host.stdin.write(Buffer.concat([len, body]));
  const p = await waitForPrompt();
  assert.equal(p.who, 'gone.example — verified by your browser');
  assert.ok(p.where.endsWith('via browser extension'), p.where);
  host.kill('SIGKILL'); // the tab closed, the browser killed the host
  await wd.until(`return document.getElementById('prompt').hidden;`, 'the prompt to close itself', 10000);
  assert.equal(await pendingPrompts(), 0);
});

test('a rejected request gets 4001 and stores nothing', async () => {
  const before = keychainAccounts();
  const pending = ask([pkpRequest(pkp(5).id)], { origin: 'https://other.example' }).then(() => null, (e) => e);
  const p = await waitForPrompt();
  assert.equal(p.who, 'other.example — verified by your browser');
  await wd.click('#prompt-reject');
  const e = await pending;
  assert.ok(e instanceof CompanionError, String(e));
  assert.equal(e.code, 4001);
  assert.deepEqual(keychainAccounts(), before);
});

test('the sessions screen lists the grant in plain words; revoking removes the key from the keychain', async () => {
  await wd.click('.tab[data-screen="sessions"]');
  await wd.until(visible('.site'), 'a session card');
  const text = await wd.text('#session-list');
  assert.match(text, /app\.example\.com/);
  assert.match(text, /Sign messages and transactions with your PKP/);
  assert.match(text, /left/);
  await shot('sessions');
  assert.ok(keychainAccounts().includes(`session:${firstKey}`));
  await wd.click('.session .revoke');
  await wd.until(`return document.querySelectorAll('.session').length === 0;`, 'the session to go');
  assert.ok(!keychainAccounts().includes(`session:${firstKey}`), 'the key left the keychain');
  // The next request needs a new approval.
  const pending = ask([pkpRequest(pkp(1).id)]).then(() => null, (e) => e);
  await waitForPrompt();
  await wd.click('#prompt-reject');
  assert.equal((await pending).code, 4001);
});

test('the activity screen says what happened in plain words, one row per event, within the window', async () => {
  await wd.click('.tab[data-screen="history"]');
  await wd.until(`return document.querySelectorAll('#history-list li.event').length > 2;`, 'activity rows');
  const seen = await wd.exec(`return {
    sites: [...document.querySelectorAll('#history-list .site-name')].map((h) => h.innerText),
    rows: [...document.querySelectorAll('#history-list li.event .summary')].map((s) => s.innerText),
    technical: [...document.querySelectorAll('#history-list details.technical')].filter((d) => d.open).length };`);
  const mine = seen.rows.join('\n');
  // Grouped by site, the site named once as a heading.
  assert.equal(seen.sites.filter((s) => s === 'app.example.com').length, 1, seen.sites.join(' | '));
  assert.match(mine, /Approved app\.example\.com for \d+ (hours?|minutes?|days?): sign messages and transactions with your PKP 0x[0-9a-f]+/);
  assert.match(mine, /Handed out signatures to app\.example\.com \(no prompt, within the grant\)/);
  // One revoke is one row ("Revoked"), not a "removed" and a "revoked".
  assert.equal(seen.rows.filter((r) => /^Revoked what app\.example\.com may do/.test(r)).length, 1, mine);
  assert.doesNotMatch(mine, /removed|sessionSigs for|pkp-signing@|lit-pkp:\/\//);
  assert.equal(seen.technical, 0, 'the technical lines stay behind their disclosure');
  // At 880 px nothing runs off the window: no horizontal scrolling, no row wider than its box.
  await wd.resize(880, 700);
  await sleep(300);
  const overflow = await wd.exec(`const doc = document.scrollingElement;
    const wide = [...document.querySelectorAll('#history-list li.event')].filter((e) => e.scrollWidth > e.clientWidth + 1).length;
    return { page: doc.scrollWidth - doc.clientWidth, wide, width: window.innerWidth };`);
  assert.ok(overflow.width <= 880, `window ${overflow.width}`);
  assert.equal(overflow.page, 0, 'the page does not scroll sideways');
  assert.equal(overflow.wide, 0, 'no row is wider than the list');
  await shot('history');
});

test('pausing in the settings turns requests away with 4900 until resumed', async () => {
  await wd.click('.tab[data-screen="settings"]');
  await wd.until(visible('#set-paused'), 'the settings screen');
  // The form is filled in once everything it saves was read (the network list last).
  await wd.until(`return document.querySelectorAll('#set-networks input').length > 0;`, 'the settings to load');
  await wd.click('#set-paused');
  await wd.until(visible('#paused-badge'), 'the paused badge');
  await shot('settings');
  const e = await ask([pkpRequest(pkp(1).id)]).then(() => null, (x) => x);
  assert.equal(e && e.code, 4900, String(e));
  const saved = JSON.parse(readFileSync(join(stack.env.LIT_COMPANION_DATA_DIR, 'settings.json'), 'utf8'));
  assert.equal(saved.paused, true, 'the pause is remembered');
  await wd.click('#set-paused');
  await wd.until(`return document.getElementById('paused-badge').hidden;`, 'the badge to go');
});

test('starting at login: the first run turned it on; the Settings switch removes the entry and writes it back, hidden', async () => {
  const entry = join(env.XDG_CONFIG_HOME, 'autostart', 'lit-companion.desktop');
  const exec = () => readFileSync(entry, 'utf8').split('\n').find((l) => l.startsWith('Exec='));
  const choice = () => JSON.parse(readFileSync(join(stack.env.LIT_COMPANION_DATA_DIR, 'settings.json'), 'utf8')).startAtLogin;
  const eventually = async (ok, what) => {
    for (let i = 0; !ok(); i++) { assert.ok(i < 100, `timed out waiting for ${what}`); await sleep(50); }
  };
  // The app was started without --hidden; the entry it wrote starts it in the tray.
  assert.equal(exec(), `Exec=${realpathSync(APP)} --hidden`);
  assert.equal(choice(), true);
  await wd.click('.tab[data-screen="settings"]');
  await wd.until(`return document.getElementById('set-login').checked;`, 'the switch to show the entry');
  await wd.click('#set-login');
  // The entry changes first, then the choice is stored.
  await eventually(() => !existsSync(entry) && choice() === false, 'the entry to go, and the choice to be stored');
  await wd.click('#set-login');
  await eventually(() => existsSync(entry) && choice() === true, 'the entry to come back');
  assert.equal(exec(), `Exec=${realpathSync(APP)} --hidden`);
  // The switch shows the entry, not the choice: switched off by the desktop, it reads off.
  writeFileSync(entry, readFileSync(entry, 'utf8').replace('X-GNOME-Autostart-enabled=true', 'Hidden=true'));
  await wd.click('.tab[data-screen="sessions"]');
  await wd.click('.tab[data-screen="settings"]');
  await wd.until(`return !document.getElementById('set-login').checked && document.getElementById('login-problem').innerText.includes('switched off');`, 'the switch to read off');
  await wd.click('#set-login');
  await wd.until(`return document.getElementById('set-login').checked && document.getElementById('login-problem').hidden;`, 'the switch to read on');
  assert.ok(!readFileSync(entry, 'utf8').includes('Hidden=true'));
});

test('the settings list each network with its nodes; a network added there is stored, served and removable', async () => {
  await wd.click('.tab[data-screen="settings"]');
  // Added with `lit-companion network add` while the app ran: shown with exactly its nodes.
  await wd.until(visible('#network-sim-datil'), 'the sim-datil network');
  // Read in one go: the list may be redrawn while the test looks at it.
  const all = await wd.exec(`return document.querySelector('#network-sim-datil').textContent;`);
  assert.match(all, /Serve sim-datil \(your Datil network\)/);
  for (const node of datil) assert.ok(all.includes(node), `${node} in ${all}`);
  // Lit's public networks: after the user's, each labelled with its retirement, off unless switched on.
  const rows = await wd.exec(`return [...document.querySelectorAll('#set-networks li.network')].map((li) => ({
    name: li.id.replace(/^network-/, ''), label: li.querySelector('label').textContent.trim(), on: li.querySelector('input').checked }));`);
  const presets = ['datil-dev', 'datil-test', 'datil', 'naga-dev', 'naga-test', 'naga'];
  assert.deepEqual(rows.slice(-6).map((r) => r.name).sort(), [...presets].sort(), rows.map((r) => r.name).join(' '));
  assert.deepEqual(rows.find((r) => r.name === 'naga'), { name: 'naga', label: 'Serve Naga (main network) — retired by Lit after 31 Mar 2026', on: false });
  for (const r of rows.slice(-6)) {
    assert.ok(r.label.endsWith(' — retired by Lit after 31 Mar 2026') && !r.on, JSON.stringify(r));
  }
  assert.ok(rows.slice(0, -6).every((r) => r.on && !r.label.includes('retired')), JSON.stringify(rows));
  // Check asks each node now: a network that answers says how many did; one that does not
  // answer says so in plain words.
  const checked = (name) => wd.until(`const r = document.querySelector('#network-${name} .network-result'); return r && { ok: r.classList.contains('ok'), text: r.textContent };`, `${name} checked`, 30000);
  await wd.click('#network-sim-datil .network-check');
  assert.deepEqual(await checked('sim-datil'), { ok: true, text: '3 of 3 nodes answered' });
  await wd.click('#network-my-chain .network-check');
  const silent = await checked('my-chain');
  assert.equal(silent.ok, false);
  assert.match(silent.text, /^The chain that lists the nodes of my-chain \(your Naga network\) did not answer at http:\/\/127\.0\.0\.1:\d+\/$/);
  // The browser host was set up at first start for the browsers installed here (Chromium and
  // Firefox, which the suite runs), and only for those; the settings say which, and the doctor
  // checks each where it reads its manifest.
  const hosts = await wd.until(`return document.getElementById('host-browsers').textContent || null;`, 'the browsers line');
  assert.match(hosts, /^Set up for (.*, )?Chromium[,.]/);
  assert.match(hosts, /^Set up for (.*, )?Firefox[,.]/);
  assert.ok(!/Brave/.test(hosts), hosts);
  await wd.click('#host-check');
  const findings = await wd.until(`const l = [...document.querySelectorAll('#host-findings li')].map((li) => li.textContent);
    return l.length ? l : null;`, 'the doctor\'s findings');
  for (const [browser, folder] of [['chromium', '.config/chromium/NativeMessagingHosts'], ['firefox', '.mozilla/native-messaging-hosts']]) {
    assert.ok(findings.includes(`✓ ${browser}: host manifest in place (${join(env.HOME, folder, 'app.litcompanion.host.json')}), allowing ${browser === 'firefox' ? 'companion@litcompanion.app' : 'ilaebllfbkgdbaeahkmhkdhchcamhekg'}`), findings.join('\n'));
  }
  assert.ok(existsSync(join(env.HOME, '.config/chromium/NativeMessagingHosts/app.litcompanion.host.json')), 'the manifest is in place');
  assert.ok(!existsSync(join(env.HOME, '.config/BraveSoftware')), 'no profile folder is made for a browser that is not installed');
  await wd.exec(`document.getElementById('network-add').closest('.card').scrollIntoView();`);
  await shot('settings-networks');

  await wd.click('#network-add summary');
  await wd.type('#net-name', 'typed-net');
  await wd.type('#net-nodes', 'http://10.0.0.1:7470');
  await wd.click('#net-add');
  await wd.until(visible('#net-problem'), 'the refusal');
  assert.match(await wd.exec(`return document.getElementById('net-problem').textContent;`), /plain http is allowed only for nodes on this machine/);
  await wd.type('#net-nodes', 'https://203.0.113.5:7470');
  await wd.click('#net-add');
  await wd.until(visible('#network-typed-net'), 'the new network');
  const saved = JSON.parse(readFileSync(join(stack.env.LIT_COMPANION_DATA_DIR, 'settings.json'), 'utf8'));
  assert.deepEqual(saved.customNetworks.find((n) => n.name === 'typed-net').nodes, ['https://203.0.113.5:7470']);
  assert.ok(saved.networks.includes('typed-net'));
  assert.ok(saved.customNetworks.some((n) => n.name === 'sim-datil'), 'the networks added elsewhere are kept');
  await wd.click('#network-typed-net .network-remove');
  await wd.until(`return !document.getElementById('network-typed-net');`, 'the network to go');
});

/** One envelope posted as a web page at `origin` would (Origin, Fetch Metadata); the answer. */
async function post(envelope, origin = ORIGIN) {
  const res = await fetch(`http://127.0.0.1:${port}/v1/request`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' },
    body: JSON.stringify(envelope),
  });
  return res.json();
}

/** One envelope for a page of `origin` through the browser host (the extension road): its answer. */
function viaHost(origin, envelope) {
  const host = spawn(HOST, ['chrome-extension://ilaebllfbkgdbaeahkmhkdhchcamhekg/'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(host);
  const body = Buffer.from(JSON.stringify({ origin, envelope }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length); // native byte order on x86-64 and arm64
  host.stdin.write(Buffer.concat([len, body]));
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    host.stdout.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32LE(0)) {
        host.kill();
        resolve(JSON.parse(got.subarray(4, 4 + got.readUInt32LE(0)).toString('utf8')));
      }
    });
    host.on('exit', () => reject(new Error('the host ended without an answer')));
  });
}

test('a browser wallet: added by address and listed by kind; its prompt says the wallet signs next, and its signature makes the session', async () => {
  const page = ethers.Wallet.createRandom(); // the wallet in the browser, which the app never sees
  await wd.click('.tab[data-screen="wallets"]');
  await wd.type('#external-label', 'Rabby');
  await wd.type('#external-address', page.address.toLowerCase());
  await wd.click('#add-external');
  await wd.until(visible('#wallet-list li[data-kind="external"]'), 'the browser wallet in the list');
  const kinds = await wd.exec(`return [...document.querySelectorAll('#wallet-list li')].map((li) => ({
    kind: li.dataset.kind, address: li.querySelector('.mono').textContent, says: li.querySelector('.wallet-kind').textContent }));`);
  const local = kinds.find((k) => k.kind === 'local');
  const browser = kinds.find((k) => k.kind === 'external');
  assert.match(local.says, /Key in your system keychain/);
  assert.equal(browser.address, page.address, 'stored with its EIP-55 checksum');
  assert.match(browser.says, /Browser wallet: signs in your browser; only its address is kept here/);
  await shot('wallets-kinds');

  const { pubkey, id } = pkp(7);
  const params = { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil, wallet: page.address };
  // Over loopback HTTP the page cannot tell the companion from a squatter: the prompt says the
  // request cannot be carried out and offers only Reject; the page learns why afterwards.
  const refused = post({ v: 1, id: 'bw-0', method: 'getSessionSigs', params });
  const r = await waitForPrompt();
  const unavailable = await wd.exec(`return { shown: !document.getElementById('prompt-unavailable').hidden,
    text: document.getElementById('prompt-unavailable').innerText, approve: !document.getElementById('prompt-approve').hidden };`);
  assert.ok(unavailable.shown && /Lit Companion extension/.test(unavailable.text), JSON.stringify(unavailable));
  assert.equal(unavailable.approve, false, 'only Reject is offered');
  assert.ok(r.where.endsWith('via loopback HTTP'), r.where);
  await wd.click('#prompt-reject');
  assert.equal((await refused).error.code, 4001);
  // Through the extension (the browser's host), the browser wallet signs next.
  const ask = viaHost('https://app.example.com', { v: 1, id: 'bw-1', method: 'getSessionSigs', params });
  const p = await waitForPrompt();
  assert.match(p.where, /as 0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4} \(Rabby\) — your browser wallet will ask you to sign next · via browser extension$/);
  await shot('prompt-browser-wallet');
  await wd.click('#prompt-approve');
  const step = (await ask).result.signWithWallet;
  assert.ok(step, 'the page is asked to have its wallet sign');
  assert.equal(step.address, page.address);
  assert.match(step.message, /^app\.example\.com wants you to sign in with your Ethereum account:\n/);
  const signature = await page.signMessage(step.message);
  const got = await viaHost('https://app.example.com', { v: 1, id: 'bw-2', method: 'walletSignature', params: { ticket: step.ticket, signature } });
  assert.ok(got.result, JSON.stringify(got));
  assert.equal(got.result.wallet, page.address);
  const c = stack.sdkCheck(got.result.sessionSigs, 'datil-dev', datil[0], `lit-pkp://${id}`, 'pkp-signing');
  assert.equal(c.status, 0, c.stderr);
  assert.equal((await stack.nodeSigns(datil[0], got.result.sessionSigs, pubkey)).status, 200);
  const items = keychainAccounts();
  assert.ok(items.includes(`session:${got.result.sessionKey}`), 'the session key is in the keychain');
  assert.ok(!items.some((i) => i.toLowerCase().includes(page.address.toLowerCase().slice(2))), 'nothing is kept for the browser wallet');
});

// A PKP whose key the Lit network holds: the simulated PKP network's nodes let "Main" sign in for it.
const appPkp = realPkp();
let pkpNodes, pkpSessionKey;

/** The Wallets screen's list, as a person reads it. */
const walletItems = `return [...document.querySelectorAll('#wallet-list li')].map((li) => ({
  kind: li.dataset.kind, address: li.querySelector('.wallet-address').textContent, says: li.querySelector('.wallet-kind').textContent,
  facts: li.querySelector('.pkp-facts') ? li.querySelector('.pkp-facts').innerText : null,
  problem: li.querySelector('.wallet-problem').hidden ? null : li.querySelector('.wallet-problem').textContent }));`;
/** Clicks `css` and waits until the Wallets screen's list is drawn anew (not the one left from before). */
async function walletsRedrawnBy(css) {
  await wd.exec(`for (const li of document.querySelectorAll('#wallet-list li')) li.dataset.old = '1';`);
  await wd.click(css);
  await wd.until(`return !document.getElementById('wallets').hidden && document.querySelector('#wallet-list li')
    && !document.querySelector('#wallet-list li[data-old]');`, 'the wallets screen');
}
const openWallets = () => walletsRedrawnBy('.tab[data-screen="wallets"]');
const mainWallet = () => JSON.parse(stack.cli(['wallet', 'list'])).find((w) => w.label === 'Main');

test('a PKP: added on the Wallets screen with the wallet that signs in for it, beside a local and a browser wallet; a bad key is refused beside what was typed', async () => {
  const main = mainWallet();
  await openWallets();
  // Only local and browser wallets can sign in for a PKP.
  const choices = await wd.exec(`return [...document.querySelectorAll('#pkp-auth option')].map((o) => o.textContent);`);
  assert.equal(choices.length, 2, choices.join(' | '));
  assert.ok(choices.some((c) => c.startsWith('Main (') && c.endsWith('key in your keychain')), choices.join(' | '));
  assert.ok(choices.some((c) => c.startsWith('Rabby (') && c.endsWith('browser wallet')), choices.join(' | '));
  await wd.type('#pkp-label', 'Vault PKP');
  await wd.type('#pkp-key', appPkp.pubkey.slice(0, 100));
  await wd.click(`#pkp-auth option[value="${main.address}"]`);
  await wd.click('#add-pkp');
  await wd.until(visible('#pkp-error'), 'the refusal');
  const refused = await wd.exec(`return { error: document.getElementById('pkp-error').textContent, label: document.getElementById('pkp-label').value,
    key: document.getElementById('pkp-key').value, auth: document.getElementById('pkp-auth').value };`);
  assert.deepEqual(refused, { error: 'PKP public key is not a secp256k1 public key (0x04 followed by 128 hex digits)',
    label: 'Vault PKP', key: appPkp.pubkey.slice(0, 100), auth: main.address }, 'the reason, and everything typed is still there');
  assert.ok(!JSON.parse(stack.cli(['wallet', 'list'])).some((w) => w.kind === 'pkp'), 'nothing was added');

  await wd.type('#pkp-key', appPkp.pubkey);
  await walletsRedrawnBy('#add-pkp');
  const items = await wd.exec(walletItems);
  assert.deepEqual(items.map((i) => i.kind), ['local', 'external', 'pkp'], 'the three kinds, each saying how it signs');
  const [local, browser, added] = items;
  assert.match(local.says, /^Key in your system keychain$/);
  assert.match(browser.says, /^Browser wallet: signs in your browser; only its address is kept here$/);
  assert.equal(added.address, appPkp.address, 'the PKP is shown by its address (EIP-55)');
  assert.equal(added.says, 'PKP: the Lit network signs once "Main" signs in');
  const tokenShort = `0x${appPkp.id.slice(0, 4)}…${appPkp.id.slice(-4)}`;
  assert.equal(added.facts, `Token id ${tokenShort} · signs in with Main (${main.address.slice(0, 6)}…${main.address.slice(-4)})`);
  assert.equal(await wd.exec(`return document.getElementById('pkp-key').value;`), '', 'the form is ready for the next');
  assert.equal(await wd.exec(`return document.getElementById('pkp-error').hidden;`), true);
  const stored = JSON.parse(stack.cli(['wallet', 'list'])).find((w) => w.kind === 'pkp');
  assert.deepEqual({ address: stored.address, label: stored.label, publicKey: stored.publicKey, auth: stored.auth, tokenId: stored.tokenId },
    { address: appPkp.address, label: 'Vault PKP', publicKey: appPkp.pubkey, auth: main.address, tokenId: `0x${appPkp.id}` });
  await wd.exec(`document.getElementById('wallets').scrollIntoView();`);
  await shot('wallets');

  // Renamed in place.
  await wd.type('#wallet-list li[data-kind="pkp"] .wallet-label', 'Treasury');
  await walletsRedrawnBy('#wallet-list li[data-kind="pkp"] .wallet-rename');
  assert.equal(await wd.exec(`return document.querySelector('#wallet-list li[data-kind="pkp"] .wallet-label').value;`), 'Treasury');
  assert.equal(JSON.parse(stack.cli(['wallet', 'list'])).find((w) => w.kind === 'pkp').label, 'Treasury');

  // The wallet that signs in for it cannot go while the PKP stays: the core's refusal names the PKP.
  await wd.click('#wallet-list li[data-kind="local"] .wallet-remove');
  const question = await wd.alertText();
  assert.match(question, /^Remove Main \(0x[0-9a-fA-F]{40}\)\? Its key leaves the keychain for good/);
  await wd.acceptAlert();
  const problem = await wd.until(`const p = document.querySelector('#wallet-list li[data-kind="local"] .wallet-problem');
    return p && !p.hidden && p.textContent;`, 'the refusal');
  assert.equal(problem, `wallet ${main.address} signs in for PKP ${appPkp.address} (Treasury); remove the PKP first`);
  assert.ok(JSON.parse(stack.cli(['wallet', 'list'])).some((w) => w.address === main.address), 'Main is still there');
  assert.ok(keychainAccounts().includes(`wallet:${main.address}`), 'and so is its key');
});

test('a PKP prompt says the Lit network signs for your PKP once "Main" signs in; approving gives sessionSigs the network signed (LIT_BLS)', async () => {
  const main = mainWallet();
  pkpNodes = await stack.startPkpNodes({ [appPkp.pubkey]: [main.address] });
  // The app applies `network add` within half a second.
  let served = false;
  for (let i = 0; i < 100 && !served; i++) {
    served = await wd.execAsync(`const done = arguments[arguments.length - 1];
      window.__TAURI__.core.invoke('networks').then((l) => done(l.some((n) => n.name === 'sim-pkp' && n.served)), () => done(false));`);
    if (!served) await sleep(100);
  }
  assert.ok(served, 'the app serves sim-pkp');
  const pending = ask([pkpRequest(appPkp.id)], { network: 'sim-pkp', nodeUrls: pkpNodes, pkpPublicKey: appPkp.pubkey });
  const p = await waitForPrompt();
  assert.equal(p.who, 'app.example.com — verified by your browser');
  assert.ok(p.where.includes(`as your PKP ${appPkp.address.slice(0, 6)}…${appPkp.address.slice(-4)} (Treasury)`), p.where);
  assert.ok(p.where.includes('signed in with wallet "Main"'), p.where);
  assert.ok(p.where.includes("the Lit network signs this session on your PKP's behalf"), p.where);
  assert.ok(p.where.endsWith('via loopback HTTP'), p.where);
  assert.match(p.will[0].text, /^Sign messages and transactions with your PKP/);
  assert.match(p.raw, /Lit Protocol PKP session signature/);
  await shot('prompt-pkp');
  await wd.click('#prompt-approve');
  const got = await pending;
  assert.equal(got.reused, false);
  assert.equal(got.wallet, appPkp.address, 'the session speaks for the PKP');
  pkpSessionKey = got.sessionKey;
  assert.deepEqual(Object.keys(got.sessionSigs).sort(), [...pkpNodes].sort());
  for (const node of pkpNodes) {
    const capability = JSON.parse(got.sessionSigs[node].signedMessage).capabilities.at(-1);
    assert.equal(capability.algo, 'LIT_BLS');
    assert.equal(capability.derivedVia, 'lit.bls');
    assert.equal(capability.address, appPkp.address);
    assert.ok(capability.signedMessage.includes(`URI: lit:session:${got.sessionKey}`), capability.signedMessage);
    const signs = await stack.nodeSigns(node, got.sessionSigs, appPkp.pubkey);
    assert.equal(signs.status, 200, JSON.stringify(signs.body));
  }
  const items = keychainAccounts();
  assert.ok(items.includes(`session:${got.sessionKey}`), 'the session key is in the keychain');
  assert.ok(items.includes(`pkp-auth:${got.sessionKey}`), 'and Main\'s sign-in beside it');
  // Inside the grant: no prompt.
  const again = await ask([pkpRequest(appPkp.id)], { network: 'sim-pkp', nodeUrls: pkpNodes, pkpPublicKey: appPkp.pubkey });
  assert.equal(again.reused, true);
  assert.equal(again.sessionKey, got.sessionKey);
  assert.equal(await pendingPrompts(), 0);
});

test('a PKP removed on the Wallets screen goes with its session; the PKP itself stays on the network', async () => {
  await openWallets();
  await wd.click('#wallet-list li[data-kind="pkp"] .wallet-remove');
  assert.match(await wd.alertText(), /^Forget the PKP Treasury \(0x[0-9a-fA-F]{40}\)\? Its sessions are revoked; the PKP itself stays on the Lit network/);
  await wd.acceptAlert();
  await wd.until(`return !document.querySelector('#wallet-list li[data-kind="pkp"]');`, 'the PKP to go');
  const wallets = JSON.parse(stack.cli(['wallet', 'list']));
  assert.deepEqual(wallets.map((w) => w.kind), ['local', 'external']);
  assert.ok(!keychainAccounts().includes(`session:${pkpSessionKey}`), 'its session key left the keychain');
  assert.equal(await wd.exec(`return document.querySelectorAll('#pkp-auth option').length;`), 2, 'Main and Rabby can sign in for the next one');
});

test('a deep link opened through the OS reaches the running app as an unverified prompt', async () => {
  const q = spawnSync('xdg-mime', ['query', 'default', 'x-scheme-handler/lit-companion'], { env, encoding: 'utf8' });
  assert.match(q.stdout.trim(), /\.desktop$/, 'the app registered itself for lit-companion://');
  const callbackOrigin = 'https://links.example';
  const envelope = { v: 1, id: 'link-1', method: 'getSessionSigs', params: { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(pkp(7).id)], nodeUrls: datil } };
  const link = deepLink(envelope, { origin: callbackOrigin, callback: `${callbackOrigin}/done` });
  const opened = spawnSync('gio', ['open', link.url], { env, encoding: 'utf8' });
  assert.equal(opened.status, 0, opened.stderr);
  const p = await waitForPrompt();
  assert.match(p.who, /links\.example/);
  assert.match(p.who, /not verified/);
  assert.equal(p.where.endsWith('via deep link'), true, p.where);
  await shot('prompt-deep-link');
  await wd.click('#prompt-reject');
  const openedFile = join(stack.work, 'opened.txt');
  for (let i = 0; i < 100 && !existsSync(openedFile); i++) await sleep(100);
  const callback = readFileSync(openedFile, 'utf8').trim();
  assert.ok(callback.startsWith(`${callbackOrigin}/done#`), callback);
  // Sealed to the link's key (HPKE, aad = the nonce): the recorded argv shows nothing but ciphertext.
  const answer = await openSealedAnswer(link.key, link.nonce, callback.split('#litCompanion=')[1]);
  assert.equal(answer.id, 'link-1');
  assert.equal(answer.error.code, 4001);
  assertSealedOnly(callback, answer);
});

test('a locked keychain is a banner saying what to do; a request needing it gets 4503 and the app runs on', async () => {
  const locked = spawnSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets',
    'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login'], { env, encoding: 'utf8' });
  assert.equal(locked.status, 0, locked.stderr);
  await wd.click('.tab[data-screen="settings"]');
  await wd.until(visible('#keychain-problem'), 'the keychain banner');
  assert.match(await wd.text('#keychain-problem'), /keychain is locked\. Unlock it/);
  await shot('keychain-locked');
  const pending = ask([pkpRequest(pkp(21).id)], { origin: 'https://late.example' }).then(() => null, (e) => e);
  await waitForPrompt();
  await wd.click('#prompt-approve');
  const e = await pending;
  assert.ok(e instanceof CompanionError, String(e));
  assert.equal(e.code, 4503, e.message);
  assert.equal((await wd.exec(`return document.title;`)), 'Lit Companion', 'the window still answers');
});

test('the tray icon says how the bridge is; its Pause turns requests away and back, as the settings say', async () => {
  const title = gdbus(trayItems[0], '/StatusNotifierItem', 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', 'Title');
  assert.match(title, /Lit Companion/);
  const pixmap = gdbus(trayItems[0], '/StatusNotifierItem', 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', 'IconPixmap');
  assert.match(pixmap, /\(32, 32, \[byte 0x/, 'the app\'s 32×32 icon, as ARGB pixels');
  const menu = trayMenu();
  assert.deepEqual(menu.map((i) => i.label), ['Bridge on', 'Open Lit Companion', 'Pause bridge', 'Quit']);
  assert.equal(menu.find((i) => i.label === 'Pause bridge').checked, false);
  trayClick('Pause bridge');
  await trayUntil((m) => m[0].label === 'Bridge paused: apps are turned away' && m.find((i) => i.label === 'Pause bridge').checked, 'the pause');
  const settings = () => JSON.parse(readFileSync(join(stack.env.LIT_COMPANION_DATA_DIR, 'settings.json'), 'utf8'));
  assert.equal(settings().paused, true, 'the pause is kept');
  await wd.until(`return !document.getElementById('paused-badge').hidden;`, 'the window to show the pause');
  const e = await ask([pkpRequest(pkp(41).id)], { origin: 'https://paused.example' }).then(() => null, (err) => err);
  assert.equal(e?.code, 4900, String(e));
  trayClick('Pause bridge');
  await trayUntil((m) => m[0].label === 'Bridge on', 'the bridge back on');
  assert.equal(settings().paused, false);
  await wd.until(`return document.getElementById('paused-badge').hidden;`, 'the window to show it on');
});

/** RSS in KiB of `pid` (0 when gone). */
function rssKib(pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]); } catch { return 0; }
}

/** Whether a window titled "Lit Companion" is on the suite's display. */
function windowShown() {
  const r = spawnSync('xwininfo', ['-root', '-tree'], { env, encoding: 'utf8' });
  return r.stdout.includes('"Lit Companion"');
}

test('with its window closed the companion runs on in the tray without WebKit; a question brings a window back (measured)', async () => {
  const [companion] = companionPids();
  assert.ok(companion, 'the window started the companion (lit-companion tray)');
  await wd.stop(); // the window closes: its program, and WebKit's, end
  for (let i = 0; i < 100 && (pidsOf(APP).length || windowShown()); i++) await sleep(100);
  assert.deepEqual(pidsOf(APP), [], 'no window program is left');
  assert.equal(windowShown(), false, 'no window is left');
  const children = spawnSync('pgrep', ['-P', String(companion)], { encoding: 'utf8' }).stdout.trim();
  assert.equal(children, '', 'the companion has no WebKit (or other) process beside it');
  const status = await fetch(`http://127.0.0.1:${port}/v1/status`).then((r) => r.json());
  assert.equal(status.app, 'lit-companion', 'the roads still answer');
  // A debug build: reported, not held to the release target (scripts/measure-app holds that).
  console.log(`# idle in the tray (debug build): companion RSS ${Math.round(rssKib(companion) / 1024)} MiB, no other process`);

  const leaving = new AbortController();
  const started = Date.now();
  const pending = requestSessionSigs(
    { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(pkp(31).id)], nodeUrls: datil },
    { transports: ['http'], port, timeoutMs: 60000, signal: leaving.signal,
      fetch: (url, init) => fetch(url, { ...init, signal: leaving.signal, headers: { ...init.headers, origin: 'https://woken.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' } }) },
  ).catch((e) => e);
  while (!windowShown()) {
    assert.ok(Date.now() - started < 30000, 'a window came for the question');
    await sleep(20);
  }
  console.log(`# a question with the window closed, to its window on screen (debug build): ${Date.now() - started} ms`);
  const windows = pidsOf(APP);
  assert.equal(windows.length, 1, 'one window program, started by the companion');
  assert.equal(readFileSync(`/proc/${windows[0]}/cmdline`, 'utf8').split('\0').slice(1, 3).join(' '), '--window --for-prompt');
  leaving.abort(); // the caller leaves; its question goes with it
  await pending;
  for (const pid of windows) process.kill(pid);
  for (let i = 0; i < 200 && (pidsOf(APP).length || windowShown()); i++) await sleep(50);
  assert.equal(windowShown(), false, 'the window closed');
});

/** One D-Bus call on the session bus, by gdbus (not our code); its output. */
function gdbus(dest, path, method, ...args) {
  const r = spawnSync('gdbus', ['call', '--session', '--dest', dest, '--object-path', path, '--method', method, '--', ...args], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The tray icon's menu, as a panel reads it (com.canonical.dbusmenu): `{ id, label, checked }` per item with a label. */
function trayMenu() {
  assert.equal(trayItems.length, 1, `one tray icon registered: ${trayItems.join(', ')}`);
  const layout = gdbus(trayItems[0], '/MenuBar', 'com.canonical.dbusmenu.GetLayout', '0', '-1', '[]');
  return [...layout.matchAll(/\((\d+), \{([^}]*)\}/g)]
    .map(([, id, props]) => ({
      id: Number(id),
      label: (/'label': <'([^']*)'>/.exec(props) || [])[1],
      checked: (/'toggle-state': <(\d)>/.exec(props) || [])[1] === '1',
    }))
    .filter((i) => i.label);
}

/** Clicks the tray menu's item `label`, as a panel does. */
function trayClick(label) {
  const item = trayMenu().find((i) => i.label === label);
  assert.ok(item, `the tray menu has "${label}"`);
  gdbus(trayItems[0], '/MenuBar', 'com.canonical.dbusmenu.Event', String(item.id), 'clicked', '<int32 0>', '0');
}

async function trayUntil(check, what) {
  for (let i = 0; i < 100; i++) {
    const menu = trayMenu();
    if (check(menu)) return menu;
    await sleep(100);
  }
  assert.fail(`the tray menu never showed ${what}: ${JSON.stringify(trayMenu())}`);
}

test('the tray\'s Open brings a window back; its Quit ends the companion and the window with it', async () => {
  const [companion] = companionPids();
  assert.ok(companion, 'the companion runs');
  assert.equal(windowShown(), false, 'no window to begin with');
  trayClick('Open Lit Companion');
  for (let i = 0; i < 300 && !windowShown(); i++) await sleep(20);
  assert.ok(windowShown(), 'the tray opened a window');
  const [window] = pidsOf(APP);
  assert.equal(readFileSync(`/proc/${window}/cmdline`, 'utf8').split('\0')[1], '--window');
  trayClick('Quit');
  for (let i = 0; i < 200 && (companionPids().length || pidsOf(APP).length); i++) await sleep(50);
  assert.deepEqual(companionPids(), [], 'the companion ended');
  assert.deepEqual(pidsOf(APP), [], 'its window went with it');
  assert.equal(await fetch(`http://127.0.0.1:${port}/v1/status`).then(() => 'answered', () => 'closed'), 'closed', 'the roads are closed');
});
