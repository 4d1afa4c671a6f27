// The Windows installer under Wine (run by scripts/test-windows, which builds it with
// `scripts/package --windows`): a silent per-user install, what it put where (files, the browser
// host's registry keys and manifests for the browsers installed here and no others, the
// lit-companion:// scheme, its Apps & features entry), the installed CLI working and its doctor
// reading the app's "start at login" entry, then a silent uninstall leaving none of it behind.
//
// Env: LIT_WINDOWS_INSTALLER (the installer), LIT_WINDOWS_BIN_DIR (the test-only
// bcryptprimitives.dll, see tests/windows/bcryptprimitives.c), WINEPREFIX.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

const installer = process.env.LIT_WINDOWS_INSTALLER;
const bin = process.env.LIT_WINDOWS_BIN_DIR;
const prefix = process.env.WINEPREFIX;
assert.ok(installer && bin && prefix, 'LIT_WINDOWS_INSTALLER, LIT_WINDOWS_BIN_DIR and WINEPREFIX are required (run scripts/test-windows)');

const env = { ...process.env, WINEDEBUG: '-all' };
const user = join(prefix, 'drive_c/users', userInfo().username);
const winUser = `C:\\users\\${userInfo().username}`;
const instDir = join(user, 'AppData/Local/Programs/Lit Companion');
const winInstDir = `${winUser}\\AppData\\Local\\Programs\\Lit Companion`;
const ourData = join(user, 'AppData/Local/lit-companion');

const HOST = 'app.litcompanion.host';
const hostKeys = {
  chrome: `HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\${HOST}`,
  edge: `HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\${HOST}`,
  firefox: `HKCU\\Software\\Mozilla\\NativeMessagingHosts\\${HOST}`,
  chromium: `HKCU\\Software\\Chromium\\NativeMessagingHosts\\${HOST}`,
  brave: `HKCU\\Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\${HOST}`,
};
const schemeKey = 'HKCU\\Software\\Classes\\lit-companion';
const uninstallKey = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\LitCompanion';
const runKey = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run';
const approvedKey = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run';

function run(args, timeout = 120_000) {
  const r = spawnSync('wine', args, { env, encoding: 'utf8', timeout });
  assert.ok(!r.error, `wine ${args.join(' ')}: ${r.error}`);
  return r;
}

/** A registry string value (`name` undefined: the default value), or null when absent. */
function regValue(key, name) {
  const r = run(['reg', 'query', key, ...(name === undefined ? ['/ve'] : ['/v', name])]);
  if (r.status !== 0) return null;
  const m = r.stdout.match(/REG_SZ[ \t]*([^\r\n]*)/);
  assert.ok(m, `reg query ${key}: ${r.stdout}`);
  return m[1];
}

const regKeyExists = (key) => run(['reg', 'query', key]).status === 0;

/** A C:\ path as a file in the prefix. */
const unixPath = (p) => join(prefix, 'drive_c', p.replace(/^C:\\/i, '').replaceAll('\\', '/'));

test('the installer: silent per-user install, registrations for installed browsers only, the CLI runs, and the uninstaller removes it all', async () => {
  assert.ok(statSync(installer).size < 10 << 20, 'the installer is small');
  for (const key of [...Object.values(hostKeys), schemeKey, uninstallKey]) {
    assert.ok(!regKeyExists(key), `${key} exists before installing`);
  }
  // Rust's std needs ProcessPrng, which Wine 8 lacks: the test-only stand-in goes into the
  // prefix's system32 (a real Windows has it; the installer never ships it).
  copyFileSync(join(bin, 'bcryptprimitives.dll'), join(prefix, 'drive_c/windows/system32/bcryptprimitives.dll'));
  // Browsers "installed" here: Chrome and Firefox by their profile folders, Edge by the App
  // Paths entry its installer writes. Chromium and Brave are absent.
  mkdirSync(join(user, 'AppData/Local/Google/Chrome/User Data'), { recursive: true });
  mkdirSync(join(user, 'AppData/Roaming/Mozilla/Firefox'), { recursive: true });
  const edgeAppPath = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\App Paths\\msedge.exe';
  assert.equal(run(['reg', 'add', edgeAppPath, '/ve', '/d', 'C:\\Program Files\\Microsoft\\Edge\\msedge.exe', '/f']).status, 0);

  const install = run([installer, '/S']);
  assert.equal(install.status, 0, `the installer failed: ${install.stderr}`);

  // Files.
  for (const f of ['lit-companion.exe', 'lit-companion-host.exe', 'uninstall.exe']) {
    assert.ok(existsSync(join(instDir, f)), `${f} not installed in ${instDir}`);
  }
  assert.ok(!existsSync(join(instDir, 'bcryptprimitives.dll')), 'the test-only DLL was shipped');

  // The host: a key naming a manifest that names the installed host, for installed browsers only.
  for (const browser of ['chrome', 'edge', 'firefox']) {
    const manifestPath = regValue(hostKeys[browser]);
    assert.ok(manifestPath, `${browser}: no ${hostKeys[browser]}`);
    const manifest = JSON.parse(readFileSync(unixPath(manifestPath), 'utf8'));
    assert.equal(manifest.name, HOST);
    assert.equal(manifest.path.toLowerCase(), `${winInstDir}\\lit-companion-host.exe`.toLowerCase(), manifestPath);
    if (browser === 'firefox') assert.deepEqual(manifest.allowed_extensions, ['companion@litcompanion.app']);
    else assert.deepEqual(manifest.allowed_origins, ['chrome-extension://ilaebllfbkgdbaeahkmhkdhchcamhekg/']);
  }
  for (const browser of ['chromium', 'brave']) {
    assert.ok(!regKeyExists(hostKeys[browser]), `${browser} is not installed but got ${hostKeys[browser]}`);
  }

  // lit-companion:// runs the installed CLI's open-url.
  assert.equal(regValue(schemeKey, 'URL Protocol'), '');
  const command = regValue(`${schemeKey}\\shell\\open\\command`);
  assert.equal(command?.toLowerCase(), `"${winInstDir}\\lit-companion.exe" open-url "%1"`.toLowerCase());

  // Apps & features.
  assert.equal(regValue(uninstallKey, 'DisplayName'), 'Lit Companion');
  assert.match(regValue(uninstallKey, 'UninstallString') ?? '', /uninstall\.exe/);

  // The installed CLI runs, and its doctor finds the three registrations.
  const cli = join(instDir, 'lit-companion.exe');
  const list = run([cli, 'wallet', 'list']);
  assert.equal(list.status, 0, list.stderr);
  assert.ok(Array.isArray(JSON.parse(list.stdout)), list.stdout);
  const doctor = run([cli, 'doctor']);
  for (const browser of ['chrome', 'edge', 'firefox']) {
    assert.match(doctor.stderr, new RegExp(`ok: +${browser}: host manifest in place`), doctor.stderr);
  }
  assert.doesNotMatch(doctor.stderr, /registry key/, doctor.stderr);

  // Starting at login. The desktop app is not in this installer (it is only compiled for Windows
  // here), so its first run is played by writing its entry as the app writes it
  // (crates/platform/src/autostart.rs), the installed CLI standing in for the app's program:
  // the doctor reads it back, Task Manager's "Disabled" reads as off, and the uninstaller
  // removes it, since it starts a program from the install folder.
  const entry = `"${winInstDir}\\lit-companion.exe" --hidden`;
  assert.equal(run(['reg', 'add', runKey, '/v', 'Lit Companion', '/d', entry, '/f']).status, 0);
  assert.equal(regValue(runKey, 'Lit Companion'), entry);
  let checked = run([cli, 'doctor']).stderr;
  assert.match(checked, /ok: +the app starts at login, in the tray: HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Lit Companion runs C:\\.*\\lit-companion\.exe --hidden/i, checked);
  assert.equal(run(['reg', 'add', approvedKey, '/v', 'Lit Companion', '/t', 'REG_BINARY', '/d', '030000000000000000000000', '/f']).status, 0);
  checked = run([cli, 'doctor']).stderr;
  assert.match(checked, /ok: +the app does not start at login: it is switched off in Task Manager's Startup apps/, checked);

  // Uninstall. NSIS's uninstaller copies itself to %TEMP% and returns at once: wait for it.
  const uninstall = run([join(instDir, 'uninstall.exe'), '/S']);
  assert.equal(uninstall.status, 0, uninstall.stderr);
  for (let i = 0; i < 600 && (existsSync(instDir) || regKeyExists(uninstallKey)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(!existsSync(instDir), `${instDir} is still there`);
  for (const key of [...Object.values(hostKeys), schemeKey, uninstallKey]) {
    assert.ok(!regKeyExists(key), `${key} is still there after uninstalling`);
  }
  assert.ok(!existsSync(ourData), `${ourData} (the manifests' folder) is still there`);
  assert.equal(regValue(runKey, 'Lit Companion'), null, 'the login entry is still there after uninstalling');
  assert.equal(run(['reg', 'query', approvedKey, '/v', 'Lit Companion']).status === 0, false, 'Task Manager\'s mark is still there');
  // The browsers' own folders are theirs.
  assert.ok(existsSync(join(user, 'AppData/Local/Google/Chrome/User Data')));
  run(['reg', 'delete', edgeAppPath, '/f']);
});
