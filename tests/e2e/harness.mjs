// Shared by the end-to-end suites: simulated Lit nodes, `lit-companion serve` with a policy, a
// vault in a private data dir and keychain service, and the official SDK's checks.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.LIT_COMPANION_BIN || join(root, 'target/debug/lit-companion');
export const SIM = process.env.LIT_NODE_SIM_BIN || join(root, 'target/debug/lit-node-sim');
export const HOST = process.env.LIT_COMPANION_HOST_BIN || join(root, 'target/debug/lit-companion-host');
export const { ethers } = createRequire(join(root, 'tests/sdk/package.json'))('ethers');
const EXTENSION = join(root, 'extension');

/** Debian's Chromium, headless, with the extension loaded, driven by playwright-core. */
function launchChromium(profile, env) {
  const { chromium } = createRequire(join(root, 'tests/browser/package.json'))('playwright-core');
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: false,
    ignoreDefaultArgs: ['--disable-extensions'],
    env,
    args: [
      '--headless=new', `--disable-extensions-except=${EXTENSION}`, `--load-extension=${EXTENSION}`, '--no-sandbox',
      '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic',
    ],
  });
}

/**
 * The browsers the extension suites run in: Chromium and Firefox, unless `LIT_E2E_BROWSERS`
 * names fewer (`chromium`). A browser that is not installed fails its suite: scripts/setup
 * installs both.
 */
export const BROWSERS = (process.env.LIT_E2E_BROWSERS || 'chromium,firefox').split(',').map((b) => b.trim()).filter(Boolean);

/** Our extension's id: Chromium's from the key in extension/manifest.json, Firefox's add-on id. */
export const EXTENSION_ID = { chromium: 'ilaebllfbkgdbaeahkmhkdhchcamhekg', firefox: 'companion@litcompanion.app' };

let firefoxPackage;
/** The .xpi `scripts/package --extension` builds (once per process): what addons.mozilla.org gets. */
function firefoxXpi() {
  if (!firefoxPackage) {
    const out = mkdtempSync(join(tmpdir(), 'lit-companion-xpi-'));
    process.on('exit', () => rmSync(out, { recursive: true, force: true }));
    const r = spawnSync(join(root, 'scripts/package'), ['--extension', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, `scripts/package --extension: ${r.stderr}`);
    firefoxPackage = r.stdout.split('\n').find((l) => l.endsWith('.xpi'));
    assert.ok(firefoxPackage, r.stdout);
  }
  return firefoxPackage;
}

/**
 * The Firefox package unpacked with one more background script that opens the popup in a tab:
 * WebDriver BiDi may not navigate to a moz-extension: page, so the extension opens it itself.
 */
function firefoxWithPopupTab(dir) {
  mkdirSync(dir);
  const r = spawnSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', firefoxXpi(), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  manifest.background.scripts.push('open-popup-tab.js');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'open-popup-tab.js'), "chrome.tabs.create({ url: 'popup.html' });\n");
  return dir;
}

/** Debian's Firefox ESR, headless, driven by puppeteer-core over WebDriver BiDi (no driver to download). */
function launchFirefox(env) {
  const executablePath = process.env.FIREFOX || '/usr/bin/firefox-esr';
  if (!existsSync(executablePath)) {
    throw new Error(`no Firefox at ${executablePath}: scripts/setup installs Debian's firefox-esr (LIT_E2E_BROWSERS=chromium leaves Firefox out)`);
  }
  const puppeteer = createRequire(join(root, 'tests/browser/package.json'))('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    env,
    extraPrefsFirefox: process.env.LIT_E2E_FIREFOX_CONSOLE ? { 'devtools.console.stdout.chrome': true } : {},
    dumpio: Boolean(process.env.LIT_E2E_FIREFOX_CONSOLE),
  });
}

/**
 * One real browser with the extension, for test bodies that both browsers share. The host
 * manifest allows the extension ids `allow` (ours by default; none: no manifest at all). Each
 * launch gets its own place for it: Chromium reads host manifests from its profile
 * (`--user-data-dir`), Firefox only from ~/.mozilla/native-messaging-hosts, so a Firefox launch
 * gets its own HOME. `popup`: the extension's popup is opened in a tab (see `popup()`).
 */
export async function launchBrowser(kind, stack, { name = 'main', allow = [EXTENSION_ID[kind]], popup = false } = {}) {
  const ids = allow.flatMap((id) => ['--extension-id', id]);
  if (kind === 'chromium') {
    const profile = join(stack.work, `chromium-${name}`);
    if (allow.length) stack.cli(['install-browser-host', '--browser', 'chromium', '--user-data-dir', profile, '--host-path', HOST, ...ids]);
    const context = await launchChromium(profile, stack.env);
    return {
      kind,
      newPage: () => context.newPage(),
      async everyPage({ functions = {}, init }) {
        for (const [fname, fn] of Object.entries(functions)) await context.exposeFunction(fname, fn);
        if (init) await context.addInitScript(init);
      },
      watchLinks(page, links) {
        page.on('request', (r) => {
          if (r.url().startsWith('lit-companion:')) links.push(r.url());
        });
      },
      async popup() {
        const page = await context.newPage();
        await page.goto(`chrome-extension://${EXTENSION_ID.chromium}/popup.html`);
        return page;
      },
      close: () => context.close(),
    };
  }
  if (kind !== 'firefox') throw new Error(`unknown browser ${kind}`);
  const home = join(stack.work, `firefox-${name}`);
  mkdirSync(home);
  const env = { ...stack.env, HOME: home };
  if (allow.length) stack.cli(['install-browser-host', '--browser', 'firefox', '--host-path', HOST, ...ids], '', env);
  const extension = popup ? firefoxWithPopupTab(join(stack.work, `firefox-${name}-extension`)) : firefoxXpi();
  const browser = await launchFirefox(env);
  const installed = await browser.installExtension(extension);
  assert.equal(installed, EXTENSION_ID.firefox);
  const functions = [];
  const inits = [];
  return {
    kind,
    async newPage() {
      const page = await browser.newPage();
      for (const [fname, fn] of functions) await page.exposeFunction(fname, fn);
      for (const init of inits) await page.evaluateOnNewDocument(init);
      return page;
    },
    async everyPage({ functions: fns = {}, init }) {
      functions.push(...Object.entries(fns));
      if (init) inits.push(init);
    },
    // Firefox fetches nothing for a scheme an application handles, so puppeteer reports no
    // request; WebDriver BiDi reports the navigation's start (read from puppeteer's BiDi session).
    watchLinks(page, links) {
      const context = page.mainFrame().browsingContext;
      context.userContext.browser.session.on('browsingContext.navigationStarted', (info) => {
        if (info.context === context.id && info.url.startsWith('lit-companion:')) links.push(info.url);
      });
    },
    async popup() {
      for (let i = 0; i < 100; i++) {
        for (const page of await browser.pages()) {
          const href = await page.evaluate(() => location.href).catch(() => '');
          if (href.startsWith('moz-extension://') && href.endsWith('/popup.html')) return page;
        }
        await new Promise((ok) => setTimeout(ok, 100));
      }
      throw new Error('the popup tab did not open');
    },
    close: () => browser.close(),
  };
}

/** A page server on 127.0.0.1 (also reached as localhost): `/client.js` is the JS client, anything else a bare page. */
export async function startPages() {
  const client = readFileSync(join(root, 'clients/js/index.js'));
  const server = createServer((req, res) => {
    if (req.url === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(client);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>dapp</title><h1>dapp</h1>');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

export const WALLET_KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

/** A made-up PKP public key and its token id (keccak256 of the 65 bytes, as nodes derive it). */
export function pkp(n) {
  const pubkey = '0x04' + n.toString(16).padStart(2, '0').repeat(64);
  return { pubkey, id: ethers.utils.keccak256(pubkey).slice(2) };
}

/** A PKP with a real secp256k1 public key (the companion and PKP nodes refuse any other): `{ pubkey, id, address }`. */
export function realPkp() {
  const pubkey = ethers.Wallet.createRandom().publicKey;
  return { pubkey, id: ethers.utils.keccak256(pubkey).slice(2), address: ethers.utils.computeAddress(pubkey) };
}

export const pkpRequest = (id) => ({ resource: { resource: id, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' });

/**
 * A `lit-companion://session` link carrying `envelope`, claimed by `origin`, with a fresh X25519
 * key pair: resolves `{ url, nonce, key }`, `key` being the private JWK for `openSealedAnswer`.
 */
export function deepLink(envelope, { origin, callback, exp = Math.floor(Date.now() / 1000) + 300 }) {
  const req = Buffer.from(JSON.stringify(envelope)).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const { privateKey } = generateKeyPairSync('x25519');
  const key = privateKey.export({ format: 'jwk' });
  const q = new URLSearchParams({ req, origin, callback, nonce, exp: String(exp), pk: key.x });
  return { url: `lit-companion://session?${q}`, nonce, key };
}

/**
 * The answer URL a browser was handed carries nothing usable at a Lit node: no signature, no
 * signed message, no base64 of the plaintext answer — only the sealed `enc ‖ ciphertext`.
 * `envelope` is the opened answer.
 */
export function assertSealedOnly(answerUrl, envelope) {
  const fragment = answerUrl.slice(answerUrl.indexOf('#') + 1);
  assert.match(fragment, /^litCompanion=[A-Za-z0-9_-]+$/, 'the fragment is one base64url value');
  for (const [what, re] of [['"sig"', /"sig"|%22sig%22/i], ['signedMessage', /signedMessage/i], ['a 128-hex signature', /[0-9a-f]{128}/i]]) {
    assert.doesNotMatch(answerUrl, re, `the answer URL shows ${what}`);
  }
  // The plaintext, base64url'd at any alignment: one of three 3-byte-aligned windows of the
  // envelope's start and of every string in it would appear verbatim.
  const texts = ['{"v":1,', JSON.stringify(envelope.result ?? envelope.error ?? {})];
  (function walk(v) {
    if (typeof v === 'string' && v.length >= 12) texts.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  })(envelope);
  for (const text of texts) {
    const bytes = Buffer.from(text);
    for (let k = 0; k < 3 && bytes.length - k >= 6; k++) {
      const aligned = bytes.subarray(k, k + Math.min(48, Math.floor((bytes.length - k) / 3) * 3));
      assert.ok(!fragment.includes(aligned.toString('base64url')), `the answer URL holds base64 of ${JSON.stringify(text.slice(0, 40))}`);
    }
  }
  const sealed = Buffer.from(fragment.slice('litCompanion='.length), 'base64url');
  assert.ok(sealed.length > 32 + 16, 'enc, ciphertext and tag');
  assert.ok(!sealed.includes('signedMessage') && !sealed.includes('"sig"'), 'the bytes are ciphertext');
}

export class Stack {
  constructor(name) {
    this.work = mkdtempSync(join(tmpdir(), `lit-companion-${name}-`));
    mkdirSync(join(this.work, 'run'), { mode: 0o700 });
    this.env = {
      ...process.env,
      LIT_COMPANION_DATA_DIR: join(this.work, 'data'),
      LIT_COMPANION_KEYCHAIN_SERVICE: `lit-companion-${name}-${process.pid}`,
      LIT_COMPANION_SOCKET: join(this.work, 'run', 'bridge.sock'),
    };
    this.children = [];
    this.serveLog = [];
  }

  cli(args, input = '', env = this.env) {
    const r = spawnSync(BIN, args, { env, input, encoding: 'utf8' });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Starts a program that prints "listening on URL" first; resolves the URL. */
  startListening(bin, args, log) {
    return new Promise((ok, fail) => {
      const child = spawn(bin, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.push(child);
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on (http:\/\/\S+)/);
        if (m) ok(m[1]);
      });
      let partial = '';
      child.stderr.on('data', (d) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop();
        if (log) log.push(...lines.filter(Boolean));
      });
      child.on('exit', (code) => fail(new Error(`${bin} exited with ${code} before listening`)));
    });
  }

  /**
   * Simulated nodes — 3 Datil, 2 Naga — added to the companion as the custom networks
   * `sim-datil` and `sim-naga` (`lit-companion network add`), the only nodes it will contact.
   */
  async startNodes({ networks = true } = {}) {
    this.datil = await Promise.all([1, 2, 3].map(() => this.startListening(SIM, ['--network', 'datil-dev'])));
    this.naga = await Promise.all([1, 2].map(() => this.startListening(SIM, ['--network', 'naga-dev'])));
    if (networks) this.addNetworks();
  }

  /**
   * A PKP network: three simulated Datil nodes holding shares (2 of 3) of one BLS key, each
   * letting the wallets `pkps` names (`{ '0x04…': ['0xWALLET', …] }`) sign in for each PKP,
   * added to the companion as the network `name`. Resolves their URLs.
   */
  async startPkpNodes(pkps, name = 'sim-pkp') {
    const seed = Buffer.from(`${name}: a test network key`).toString('hex');
    // One block time for all, or nodes answering across a second sign different messages.
    const blockTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const permits = Object.entries(pkps).flatMap(([pubkey, wallets]) => ['--pkp', `${pubkey}=${wallets.join(',')}`]);
    const nodes = await Promise.all([1, 2, 3].map((i) => this.startListening(SIM, ['--network', 'datil-dev', '--bls-seed', seed,
      '--share', String(i), '--of', '3', '--threshold', '2', '--block-time', blockTime, ...permits])));
    this.cli(['network', 'add', name, '--generation', 'datil', ...nodes.flatMap((n) => ['--node', n])]);
    return nodes;
  }

  /** `lit-companion network add` for the simulated nodes (a running companion picks it up). */
  addNetworks() {
    for (const [name, generation, nodes] of [['sim-datil', 'datil', this.datil], ['sim-naga', 'naga', this.naga]]) {
      this.cli(['network', 'add', name, '--generation', generation, ...nodes.flatMap((n) => ['--node', n])]);
    }
  }

  /** A wallet, simulated nodes and `serve` with `rules` as its policy. */
  async start(rules, serveArgs = []) {
    this.cli(['wallet', 'import', '--label', 'Main'], WALLET_KEY);
    const policy = join(this.work, 'policy.json');
    writeFileSync(policy, JSON.stringify({ version: 1, rules }));
    await this.startNodes();
    const url = await this.startListening(BIN, ['serve', '--listen', '127.0.0.1:0', '--approve', policy, ...serveArgs], this.serveLog);
    this.port = Number(new URL(url).port);
  }

  /**
   * Stops every program the stack started and waits until each has exited (a stopping `serve`
   * still writes its last reuse counts into the data directory), then removes the work folder.
   */
  async stop() {
    const exited = (c) => (c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise((ok) => { c.once('exit', ok); setTimeout(ok, 10000); }));
    for (const c of this.children) c.kill();
    await Promise.all(this.children.map(exited));
    rmSync(this.work, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }

  /** The official SDK's checks of one node's entry (tests/sdk/crosscheck.mjs). */
  sdkCheck(sigs, network, node, resource, ability) {
    const file = join(this.work, `sigs-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(sigs));
    return spawnSync(process.execPath, [join(root, 'tests/sdk/crosscheck.mjs'), 'check', '--sigs', file, '--network', network,
      '--node', node, '--resource', resource, '--ability', ability], { encoding: 'utf8' });
  }

  /** Asks a simulated node to sign with a PKP using the sessionSigs. */
  async nodeSigns(node, sigs, pubkey) {
    const r = await fetch(`${node}/web/pkp/sign`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ authSig: sigs[node], toSign: [1, 2, 3], pubkey }),
    });
    return { status: r.status, body: await r.json() };
  }
}
