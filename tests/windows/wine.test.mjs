// The Windows build under Wine (run by scripts/test-windows, which cross-builds the .exe files
// with mingw and makes a throwaway Wine prefix). Each program runs as Windows would run it: the
// keys in the Credential Manager (Wine's advapi32 Cred* API), data under %APPDATA%, the browser
// road over the per-user named pipe. The sessionSigs must pass the official SDK's checks.
//
// Env: LIT_WINDOWS_BIN_DIR (the .exe files and the test-only bcryptprimitives.dll), WINEPREFIX.
// What Wine cannot show: the WebView2 window (the app shell is only compiled for Windows), and a
// second Windows user (every Wine process runs as the same one), so another user's process at
// the pipe's other end is covered by the code path, not by a test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, lstatSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.LIT_WINDOWS_BIN_DIR;
const prefix = process.env.WINEPREFIX;
assert.ok(bin && prefix, 'LIT_WINDOWS_BIN_DIR and WINEPREFIX are required (run scripts/test-windows)');

const WALLET_KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
const WALLET_ADDRESS = '0x2c7536e3605d9c16a7a3d7b1898e529396a65c23';
const NONCE = '0x' + 'ab'.repeat(32);
const work = mkdtempSync(join(tmpdir(), 'lit-companion-wine-'));
const env = { ...process.env, WINEDEBUG: '-all', RUST_LOG: 'info' };
const children = [];

/** A Unix path as the Windows programs see it (Wine maps / to Z:). */
const winPath = (p) => 'Z:' + p.replaceAll('/', '\\');

function wine(exe, args, { input = '', extraEnv = {} } = {}) {
  return spawnSync('wine', [join(bin, exe), ...args], { env: { ...env, ...extraEnv }, input, maxBuffer: 64 << 20 });
}

function cli(args, input = '', extraEnv = {}) {
  const r = wine('lit-companion.exe', args, { input, extraEnv });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString('utf8'));
}

/** Starts a program that prints "listening on URL" on stdout; resolves the URL and its log. */
function startListening(exe, args, extraEnv = {}) {
  return new Promise((ok, fail) => {
    const child = spawn('wine', [join(bin, exe), ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const log = [];
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) ok({ url: m[1], log, child });
    });
    child.stderr.on('data', (d) => log.push(...String(d).split(/\r?\n/).filter(Boolean)));
    child.on('exit', (code) => fail(new Error(`${exe} exited with ${code} before listening: ${log.join('\n')}`)));
  });
}

/** Every file under `dir`, not following links (Wine links dosdevices/z: to / and the user's
 * folders to $HOME). */
function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    let s;
    try { s = lstatSync(p); } catch { continue; }
    if (s.isDirectory()) yield* files(p);
    else if (s.isFile()) yield p;
  }
}

/** A made-up PKP token id. */
const pkpId = (n) => n.toString(16).padStart(2, '0').repeat(32);
const pkpRequest = (id) => ({ resource: { resource: id, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' });

function sdkCheck(sigs, node, id) {
  const file = join(work, `sigs-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(sigs));
  return spawnSync(process.execPath, [join(root, 'tests/sdk/crosscheck.mjs'), 'check', '--sigs', file, '--network', 'datil-dev',
    '--node', node, '--resource', `lit-pkp://${id}`, '--ability', 'pkp-signing'], { encoding: 'utf8' });
}

let datil = [];

before(async () => {
  datil = (await Promise.all([1, 2, 3].map(() => startListening('lit-node-sim.exe', ['--network', 'datil-dev'])))).map((s) => s.url);
});

after(() => {
  for (const c of children) c.kill();
  rmSync(work, { recursive: true, force: true });
});

test('the vault under Wine: import, list and sign against the Credential Manager, no key in any file', () => {
  const version = wine('lit-companion.exe', ['--version']);
  assert.match(version.stdout.toString(), /^lit-companion \d+\.\d+\.\d+/);

  const imported = cli(['wallet', 'import', '--label', 'Main'], WALLET_KEY);
  assert.equal(imported.address.toLowerCase(), WALLET_ADDRESS);
  const listed = JSON.stringify(cli(['wallet', 'list']));
  assert.ok(listed.toLowerCase().includes(WALLET_ADDRESS) && listed.includes('Main'), listed);

  // The key is in Wine's Credential Manager (its registry), named for our service.
  const creds = spawnSync('wine', ['reg', 'query', 'HKCU\\Software\\Wine\\Credential Manager', '/s'], { env, encoding: 'utf8' });
  assert.match(creds.stdout, /lit-companion/i, `no credential of ours: ${creds.stdout}`);

  // Data under %APPDATA%.
  const user = userInfo().username;
  const appData = join(prefix, 'drive_c/users', user, 'AppData/Roaming/lit-companion');
  assert.ok(readdirSync(appData).length > 0, `nothing in ${appData}`);

  // `session sign`, as on Linux: the sessionSigs pass the SDK's checks.
  const expiration = new Date(Date.now() + 2 * 3600e3).toISOString();
  const node = 'https://127.0.0.1:7470';
  const signed = cli(['session', 'sign', '--wallet', WALLET_ADDRESS, '--origin', 'https://app.example.com', '--node', node,
    '--nonce', NONCE, '--expiration', expiration, '--network', 'datil-dev'], JSON.stringify([pkpRequest(pkpId(1))]));
  assert.ok(signed[node]?.sig, JSON.stringify(signed));
  const checked = sdkCheck(signed, node, pkpId(1));
  assert.equal(checked.status, 0, checked.stderr);

  // No file in the prefix (registry hives included) nor in the data holds the key in clear.
  const hex = WALLET_KEY.slice(2);
  const raw = Buffer.from(hex, 'hex');
  for (const f of files(prefix)) {
    if (f.includes('/windows/') || f.endsWith('.exe') || f.endsWith('.dll')) continue;
    const bytes = readFileSync(f);
    for (const needle of [Buffer.from(hex), Buffer.from(hex.toUpperCase()), raw, Buffer.from(hex, 'utf16le')]) {
      assert.ok(!bytes.includes(needle), `${f} holds the wallet key`);
    }
  }
});

test('serve and the browser host relay over the named pipe, end to end to simulated nodes', async () => {
  cli(['network', 'add', 'sim-datil', '--generation', 'datil', ...datil.flatMap((n) => ['--node', n])]);
  const policy = join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ origin: 'https://app.example.com', resources: ['lit-pkp://*'], maxLifetimeSeconds: 86400 }] }));
  const serve = await startListening('lit-companion.exe', ['serve', '--listen', '127.0.0.1:0', '--approve', winPath(policy)]);

  const id = pkpId(7);
  const message = { origin: 'https://app.example.com', envelope: { v: 1, id: 'ext-1', method: 'getSessionSigs',
    params: { network: 'sim-datil', resourceAbilityRequests: [pkpRequest(id)], nodeUrls: datil } } };
  const answer = throughHost(message);
  assert.equal(answer.id, 'ext-1');
  assert.ok(answer.result, JSON.stringify(answer));
  const checked = sdkCheck(answer.result.sessionSigs, datil[0], id);
  assert.equal(checked.status, 0, checked.stderr);
  const siwe = JSON.parse(answer.result.sessionSigs[datil[0]].signedMessage).capabilities.at(-1).signedMessage;
  assert.ok(siwe.startsWith('app.example.com wants you to sign in'), siwe);
  // The companion logged who asked, by which road.
  const relayed = () => serve.log.some((l) => l.includes('https://app.example.com via browser extension'));
  for (let i = 0; i < 50 && !relayed(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(relayed(), serve.log.join('\n'));

  // The doctor finds the companion on the pipe.
  const doctor = wine('lit-companion.exe', ['doctor']);
  assert.match(doctor.stdout.toString() + doctor.stderr.toString(), /running and listening on [^\n]*pipe[^\n]*lit-companion-S-1-/);
  serve.child.kill();
});

test('a squatted pipe is refused: the companion will not share a name someone else created first', async () => {
  const pipe = `\\\\.\\pipe\\lit-companion-squat-${process.pid}`;
  // The squatter creates the name first, open to everyone, without the first-instance flag.
  const squatter = spawn('wine', [join(bin, 'squat.exe'), pipe], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(squatter);
  await new Promise((ok, fail) => {
    squatter.stdout.on('data', (d) => String(d).includes('squatting') && ok());
    squatter.on('exit', (code) => fail(new Error(`squat.exe exited with ${code}`)));
  });
  const serve = await startListening('lit-companion.exe', ['serve', '--listen', '127.0.0.1:0'], { LIT_COMPANION_SOCKET: pipe });
  for (let i = 0; i < 50 && !serve.log.some((l) => /unavailable/.test(l)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(serve.log.some((l) => /already held by another process/.test(l)), serve.log.join('\n'));
  serve.child.kill();
  squatter.kill();
});

function throughHost(message) {
  const body = Buffer.from(JSON.stringify(message));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  const r = wine('lit-companion-host.exe', ['chrome-extension://ilaebllfbkgdbaeahkmhkdhchcamhekg/'], { input: Buffer.concat([len, body]) });
  assert.equal(r.status, 0, String(r.stderr));
  assert.ok(r.stdout.length >= 4, `no answer: ${r.stderr}`);
  const n = r.stdout.readUInt32LE(0);
  return JSON.parse(r.stdout.subarray(4, 4 + n).toString('utf8'));
}
