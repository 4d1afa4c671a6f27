// A private, real Secret Service for one test file (the JS twin of crates/testkit): its own D-Bus
// session bus, its own gnome-keyring-daemon with a "login" keyring unlocked by a throwaway
// password, and its own throwaway HOME. Items are checked independently with `secret-tool`.
// Needs the Debian packages dbus, gnome-keyring and libsecret-tools (scripts/setup).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.LIT_COMPANION_BIN || join(root, 'target/debug/lit-companion');
const PASSWORD = 'throwaway-test-password';

export class PrivateKeyring {
  constructor(name) {
    this.root = mkdtempSync(join(tmpdir(), `lit-companion-storage-${name}-`));
    this.home = join(this.root, 'home');
    mkdirSync(this.home);
    mkdirSync(join(this.root, 'run'), { mode: 0o700 });
    const base = {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_RUNTIME_DIR: join(this.root, 'run'),
      XDG_DATA_HOME: join(this.home, '.local/share'),
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_CACHE_HOME: join(this.home, '.cache'),
      LIT_COMPANION_BIN: BIN,
    };
    const bus = spawnSync('dbus-daemon', ['--session', '--fork', '--print-address=1', '--print-pid=1'], {
      env: base, encoding: 'utf8',
    });
    assert.equal(bus.status, 0, `dbus-daemon: ${bus.stderr}`);
    const [address, pid] = bus.stdout.trim().split('\n');
    this.busPid = Number(pid);
    this.env = { ...base, DBUS_SESSION_BUS_ADDRESS: address };
    const daemon = spawnSync('gnome-keyring-daemon', ['--unlock', '--components=secrets', '--daemonize'], {
      env: this.env, input: PASSWORD, encoding: 'utf8',
    });
    assert.equal(daemon.status, 0, `gnome-keyring-daemon: ${daemon.stderr}`);
    for (let i = 0; i < 100; i++) {
      if (this.secretTool(['search', 'probe', 'ready']).status !== null) break;
      spawnSync('sleep', ['0.05']);
    }
    this.daemonPid = this.secretsOwner();
    assert.ok(this.daemonPid, 'gnome-keyring-daemon owns org.freedesktop.secrets');
  }

  secretTool(args) {
    return spawnSync('secret-tool', args, { env: this.env, encoding: 'utf8' });
  }

  /** The pid owning org.freedesktop.secrets on this bus. */
  secretsOwner() {
    const r = spawnSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
      'org.freedesktop.DBus.GetConnectionUnixProcessID', 'string:org.freedesktop.secrets'], { env: this.env, encoding: 'utf8' });
    const n = Number(r.stdout.trim().split(/\s+/).pop());
    return Number.isInteger(n) && n > 0 ? n : null;
  }

  /** The secret of one item, as secret-tool sees it (null when there is none). */
  lookup(service, account) {
    const r = this.secretTool(['lookup', 'service', service, 'username', account]);
    return r.status === 0 ? r.stdout : null;
  }

  /** The accounts of every item of `service`, as secret-tool sees them, sorted. */
  accounts(service) {
    const r = this.secretTool(['search', '--all', 'service', service]);
    return (r.stdout + r.stderr).split('\n')
      .filter((l) => l.startsWith('attribute.username = '))
      .map((l) => l.slice('attribute.username = '.length))
      .sort();
  }

  /** Locks the login keyring (Secret Service `Lock`, as a session lock would). */
  lock() {
    const r = spawnSync('dbus-send', ['--session', '--print-reply', '--reply-timeout=5000', '--dest=org.freedesktop.secrets',
      '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login'],
    { env: this.env, encoding: 'utf8' });
    assert.equal(r.status, 0, `locking the keyring: ${r.stderr}`);
  }

  /** Every regular file under HOME: [path, bytes]. */
  filesUnderHome() {
    const files = [];
    const walk = (dir) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const st = lstatSync(path);
        if (st.isDirectory()) walk(path);
        else if (st.isFile()) files.push([path, readFileSync(path)]);
      }
    };
    walk(this.home);
    return files;
  }

  stop() {
    for (const pid of [this.daemonPid, this.busPid]) {
      if (pid) {
        try { process.kill(pid); } catch { /* already gone */ }
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
