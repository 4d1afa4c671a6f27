// Cross-checks the `lit-companion` CLI against the official Lit JS SDK, both ways:
//  (a) sessionSigs made by `lit-companion session sign` pass the SDK's own checks (crosscheck.mjs check);
//  (b) sessionSigs made by the SDK pass `lit-companion session verify`, and every tampered copy is refused.
// Usage: node cli-crosscheck.mjs [--bin PATH]   (default: ../../target/debug/lit-companion or $LIT_COMPANION_BIN)
// Ends with "N passed, N failed"; exits 1 when anything failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argBin = process.argv.indexOf('--bin');
const bin = argBin > 0 ? process.argv[argBin + 1]
  : process.env.LIT_COMPANION_BIN || resolve(here, '../../target/debug/lit-companion');
const work = mkdtempSync(join(tmpdir(), 'lit-crosscheck-'));
let passed = 0, failed = 0;

function ok(name, cond, detail = '') {
  if (cond) { passed++; console.log(`ok     ${name}`); }
  else { failed++; console.log(`FAILED ${name}${detail ? ': ' + detail : ''}`); }
}
function run(cmd, args, input) {
  return spawnSync(cmd, args, { input, encoding: 'utf8', cwd: here, maxBuffer: 64 << 20 });
}
function sdk(args, input) { return run(process.execPath, ['crosscheck.mjs', ...args], input); }
function cli(args, input) { return run(bin, args, input); }

const walletKey = join(work, 'wallet.key');
const seedFile = join(work, 'session.seed');
writeFileSync(walletKey, '0x' + '11'.repeat(32), { mode: 0o600 });
writeFileSync(seedFile, '07'.repeat(32), { mode: 0o600 });

// 0. The golden SIWE of DESIGN §3 comes out of the SDK unchanged (our Rust test rebuilds the same bytes).
{
  const r = sdk(['golden']);
  ok('SDK rebuilds the DESIGN golden SIWE message', r.status === 0, r.stderr.trim());
}

// (a) Our output through the SDK's checks, Datil and Naga, several request shapes.
const PKP = '0x5e5d03b0ff5f9f21d6a1c2f7d8e9b0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7';
const ACC = 'lit-accesscontrolcondition://14805f09ce08f4ec3c59250addf4098a3132f1f2c5201d849b0850cff389c130/059bb9ff863871da96a6904c6fb4de3048a8551136e07b9f9b8ae6769ee8bc42';
const requests = [
  { resource: { resource: PKP, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' },
  { resource: { resource: '*', resourcePrefix: 'lit-litaction' }, ability: 'lit-action-execution' },
  { resource: { resource: ACC.split('://')[1], resourcePrefix: 'lit-accesscontrolcondition' }, ability: 'access-control-condition-decryption' },
];
const checks = [
  ['lit-pkp://' + PKP.slice(2), 'pkp-signing'],
  ['lit-litaction://QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG', 'lit-action-execution'],
  [ACC, 'access-control-condition-decryption'],
];
const nodes = ['http://127.0.0.1:7470', 'https://localhost:7471', 'https://node.example:443'];
const expiration = new Date(Date.now() + 3600e3).toISOString();
for (const [network, extra] of [['datil-dev', []], ['datil', []], ['naga-dev', ['--max-price', '5000000000000000']], ['naga', []]]) {
  const args = ['session', 'sign', '--wallet-key-file', walletKey, '--session-seed-file', seedFile,
    ...nodes.flatMap((n) => ['--node', n]), '--nonce', '0x' + 'ab'.repeat(32), '--expiration', expiration,
    '--network', network, '--domain', 'app.example.com', '--statement', 'Sign in to app.example.com.', ...extra];
  const signed = cli(args, JSON.stringify(requests));
  ok(`${network}: lit-companion session sign succeeds`, signed.status === 0, signed.stderr.trim());
  if (signed.status !== 0) continue;
  const file = join(work, `ours-${network}.json`);
  writeFileSync(file, signed.stdout);
  for (const node of nodes) {
    for (const [resource, ability] of checks) {
      const r = sdk(['check', '--sigs', file, '--network', network, '--node', node, '--resource', resource, '--ability', ability]);
      ok(`${network}: SDK accepts our entry for ${node} (${ability})`, r.status === 0, r.stderr.trim());
    }
  }
  // And least privilege holds in the SDK's eyes too: a PKP we did not name is not covered.
  const other = sdk(['check', '--sigs', file, '--network', network, '--node', nodes[0], '--resource', 'lit-pkp://' + '99'.repeat(32), '--ability', 'pkp-signing']);
  ok(`${network}: SDK finds another PKP not covered by our AuthSig`, other.status !== 0);
}

// (b) SDK output through our verifier; every tampered variant refused, each for its own reason.
const EXPECTED = {
  'signedMessage-tampered': 'bad_session_signature', 'sig-forged': 'bad_session_signature', 'sig-zero': 'bad_session_signature',
  'wallet-sig-broken': 'authsig_bad_signature', 'wallet-sig-wrong-signer': 'authsig_bad_signature',
  'nodeAddress-wrong': 'wrong_node', 'nodeAddress-other-host': 'wrong_node', 'session-expired': 'expired',
  'session-issued-in-future': 'issued_in_future', 'session-over-30-days': 'lifetime_too_long',
  'session-expiration-before-issuedAt': 'expires_before_issued', 'siwe-expired': 'authsig_expired',
  'authsig-extra-key': 'authsig_malformed', 'authsig-address-lowercase': 'authsig_address_not_checksummed',
  'siwe-address-lowercase': 'authsig_siwe_parse', 'siwe-uri-other-session-key': 'authsig_uri_mismatch',
  'session-key-swapped': 'authsig_uri_mismatch', 'entry-address-mismatch': 'session_key_mismatch',
  'recap-not-covering-resource': 'resource_not_covered', 'requests-not-covering-resource': 'resource_not_requested',
  'siwe-statement-mismatch': 'authsig_recap_invalid', 'recap-unsorted': 'authsig_recap_invalid',
  'recap-padded-base64': 'authsig_recap_invalid', 'capabilities-empty': 'no_capability', 'maxPrice-missing': 'bad_max_price',
  // A PKP resource with a Lit Action ability is not a request any node makes: refused as bad input (exit 2).
  'wrong-ability': 'input',
};
for (const [gen, network] of [['v7', 'datil-dev'], ['v8', 'naga-dev']]) {
  const out = join(work, `${gen}.json`);
  const made = sdk([`make-${gen}`, '--out', out]);
  ok(`${gen}: SDK makes sessionSigs`, made.status === 0, made.stderr.trim());
  if (made.status !== 0) continue;
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  const sigs = JSON.stringify(doc.sessionSigs);
  for (const c of doc.checks) {
    const r = cli(['session', 'verify', '--node', c.node, '--now', c.now, '--resource', c.resource, '--ability', c.ability], sigs);
    ok(`${gen}: we accept the SDK's entry for ${c.node} (${c.ability})`, r.status === 0, r.stderr.trim());
  }
  const tampered = JSON.parse(readFileSync(out.replace(/\.json$/, '.tampered.json'), 'utf8'));
  for (const v of tampered.variants) {
    const r = cli(['session', 'verify', '--node', v.node, '--now', v.now, '--resource', v.resource, '--ability', v.ability,
      '--network', network], JSON.stringify(v.sessionSigs));
    const code = r.status === 2 ? 'input' : r.stderr.trim().replace(/^error: /, '').split(':')[0];
    ok(`${gen}: we refuse ${v.name} (${code})`, r.status !== 0 && r.stdout === '' && code === EXPECTED[v.name],
      `exit ${r.status}, expected ${EXPECTED[v.name]}: ${r.stderr.trim() || r.stdout.slice(0, 200)}`);
  }
}

rmSync(work, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
