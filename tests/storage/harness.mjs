// Shared by the storage tests: running the SDK child programs and scanning HOME for secrets.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.mjs');

function parseResult(stdout, stderr) {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `the child printed no result.\nstdout: ${stdout}\nstderr: ${stderr}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/**
 * Runs `child.mjs args…` as a separate Node process against `keyring`, with its working
 * directory inside HOME (where `node-localstorage` would have put `./lit_storage.db`).
 */
export function runChild(keyring, args, { env = {} } = {}) {
  const cwd = join(keyring.home, 'work');
  mkdirSync(cwd, { recursive: true });
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CHILD, ...args], {
    cwd, env: { ...keyring.env, ...env }, encoding: 'utf8', timeout: 60_000,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { status: r.status, stderr: r.stderr, ms, result: parseResult(r.stdout, r.stderr) };
}

/** Starts `child.mjs args…`; resolves once it printed READY, with a `go()` to let it continue. */
export function startChild(keyring, args) {
  const cwd = join(keyring.home, 'work');
  mkdirSync(cwd, { recursive: true });
  const child = spawn(process.execPath, [CHILD, ...args], { cwd, env: keyring.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const finished = new Promise((ok) => child.on('close', (status) => ok({ status, stderr, result: parseResult(stdout, stderr) })));
  return new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      const before = stdout;
      stdout += d;
      if (!before.includes('READY\n') && stdout.includes('READY\n')) {
        ok({ go: () => { child.stdin.end('go\n'); return finished; } });
      }
    });
    child.on('close', (status) => fail(new Error(`the child exited (${status}) before READY: ${stderr}`)));
  });
}

/**
 * Asserts that no file under HOME holds any of `secrets` (hex strings: as text, and as the raw
 * bytes they encode), then shows that the scan works: a canary file holding the first secret
 * must be found. Returns how many files were scanned.
 */
export function assertNoSecretUnderHome(keyring, secrets) {
  const needles = [];
  for (const hex of secrets) {
    needles.push(Buffer.from(hex, 'utf8'), Buffer.from(hex.toUpperCase(), 'utf8'), Buffer.from(hex, 'hex'));
  }
  const hits = () => keyring.filesUnderHome()
    .filter(([, bytes]) => needles.some((n) => bytes.includes(n)))
    .map(([path]) => path);

  const files = keyring.filesUnderHome();
  assert.ok(files.some(([path]) => path.endsWith('/keyrings/login.keyring')), 'the scan sees the keyring file');
  assert.deepEqual(hits(), [], 'no file under HOME holds the session key');

  // The scan itself works: a file holding the secret is found.
  const canary = join(keyring.home, 'canary.txt');
  writeFileSync(canary, `{"secretKey":"${secrets[0]}"}`);
  assert.deepEqual(hits(), [canary], 'the scan finds a secret that is there');
  rmSync(canary);
  return files.length;
}
