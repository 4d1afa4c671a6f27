// The stale-screenshot check itself (tests/app/screenshots.mjs), on made-up screenshots: what
// changes from run to run is masked, what a person would see change is reported by file name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, normalize, writeRecord } from './screenshots.mjs';

const CHECK = join(dirname(fileURLToPath(import.meta.url)), 'screenshots.mjs');

/** The first bytes of a PNG of `width` × `height` (all the check reads of the picture). */
function png(width, height) {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

function screens(root, name, shots) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, { text, styles = ['p 1'], size = [1280, 900] }] of Object.entries(shots)) {
    writeFileSync(join(dir, `${file}.png`), png(...size));
    writeRecord(dir, file, { text, styles, width: size[0], height: size[1] }, ['/tmp/run-a', '/tmp/run-b']);
  }
  return dir;
}

test('what differs on every run is masked: times, dates, addresses, keys, ports, temporary folders', () => {
  const a = normalize('Until Wed 25 Nov, 21:57 (24 hours) · 23 h 59 min left · as 0x19E7…Ff2A (Main)\n'
    + 'read 12/7/2026, 7:30:00 AM on http://127.0.0.1:41410 and /tmp/run-a/run/lit.sock\nsession ea4a6c63e29c520abef5507b132ec5f9', ['/tmp/run-a']);
  const b = normalize('Until Thu 3 Dec, 09:02 (24 hours) · 23 h 58 min left · as 0xAbCd…0001 (Main)\n'
    + 'read 1/13/2027, 11:05:59 PM on http://127.0.0.1:52001 and /tmp/run-b/run/lit.sock\nsession 0123456789abcdef0123456789abcdef', ['/tmp/run-b']);
  assert.equal(a, b);
  assert.notEqual(normalize('Approved app.example.com for 24 hours'), normalize('Approved app.example.com for 24 minutes'));
  assert.notEqual(normalize('Datil (main network)'), normalize('Datil (main network) — retired by Lit after 31 Mar 2026'));
});

test('stale screenshots are named, each with why; fresh ones that match pass', () => {
  const root = mkdtempSync(join(tmpdir(), 'lit-shots-'));
  try {
    const committed = screens(root, 'committed', {
      same: { text: 'Sessions\nUntil Wed 25 Nov, 21:57 · as 0x19E7…Ff2A' },
      reworded: { text: 'Welcome\nStart with a wallet.' },
      restyled: { text: 'Settings', styles: ['button.primary rgb(217, 115, 31)'] },
      resized: { text: 'Activity', size: [1280, 900] },
      dropped: { text: 'Old screen' },
    });
    const fresh = screens(root, 'fresh', {
      same: { text: 'Sessions\nUntil Fri 4 Dec, 08:15 · as 0xAbCd…0001' },
      reworded: { text: 'Welcome\n1. Your wallet' },
      restyled: { text: 'Settings', styles: ['button.primary rgb(198, 40, 40)'] },
      resized: { text: 'Activity', size: [880, 700] },
      added: { text: 'New screen' },
    });
    const stale = compare(fresh, committed);
    assert.deepEqual(stale.map((s) => s.file), ['added.png', 'dropped.png', 'resized.png', 'restyled.png', 'reworded.png']);
    const why = Object.fromEntries(stale.map((s) => [s.file, s.why]));
    assert.equal(why['added.png'], 'new: not in the committed screenshots yet');
    assert.equal(why['dropped.png'], 'the app suite no longer takes it');
    assert.equal(why['reworded.png'], 'the screen says something else (line 2: was "Start with a wallet.", now "#. Your wallet")');
    assert.equal(why['resized.png'], 'the picture is 880x700 now, 1280x900 committed');
    assert.equal(why['restyled.png'], 'the screen is styled differently');

    // As scripts/test runs it: exit 1, every stale file by name on stderr.
    const run = spawnSync(process.execPath, [CHECK, fresh, committed], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    for (const f of ['added.png', 'dropped.png', 'reworded.png', 'resized.png', 'restyled.png']) {
      assert.ok(run.stderr.includes(`stale: ${join(committed, f)}: `), run.stderr);
    }
    assert.ok(!run.stderr.includes('same.png'), run.stderr);
    const ok = spawnSync(process.execPath, [CHECK, fresh, fresh], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /the 5 in .* show the app as it is/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
