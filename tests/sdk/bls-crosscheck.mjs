#!/usr/bin/env node
// BLS cross-check: Lit Companion's BLS12-381 shares, combinations and LIT_BLS AuthSigs vs the official Lit JS SDK.
//   v7 (Datil): @lit-protocol/crypto 7.4.0 (the copy lit-node-client-nodejs 7.4.0 uses) combineSignatureShares and
//               verifySignature, and lit-node-client-nodejs 7.4.0 blsSessionSigVerify (its check of a LIT_BLS AuthSig).
//   v8 (Naga):  @lit-protocol/crypto 8.1.0 combineSignatureShares and verifySignature.
//   An independent dealer: @noble/curves 1.8.1 bls12_381 (Shamir shares with full-scalar identifiers, as Naga's).
// Subcommands:
//   check --rust F|-       the document `cargo run -p lit-companion-session --example bls_fixture` prints: the SDKs
//                          combine our shares to our signatures and verify them; blsSessionSigVerify accepts our AuthSig
//   make --out F|-         SDK-made combinations (of noble-dealt shares and of Lit's published vectors) for the Rust
//                          tests (crates/session/tests/vectors/bls-sdk.json)
//   selftest --rust F      make (must equal the committed file) and check; prints "N passed, N failed"
// All output is JSON on stdout; on failure: exit 1 and a one-line reason on stderr.

import { Fail, fail, hex, unhex, parseArgs, readJson } from './common.mjs';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';


const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SDK_FIXTURE = path.join(ROOT, 'crates/session/tests/vectors/bls-sdk.json');
const PUBLISHED = path.join(ROOT, 'crates/session/tests/vectors/bls.json');

const require = createRequire(import.meta.url);
// v7: resolve from lit-node-client-nodejs 7.4.0, so we get the crypto it really uses
const LNC_DIR = path.dirname(require.resolve('@lit-protocol/lit-node-client-nodejs/package.json'));
const requireLnc = createRequire(path.join(LNC_DIR, 'package.json'));
const crypto7 = requireLnc('@lit-protocol/crypto');
const { blsSessionSigVerify } = requireLnc(path.join(LNC_DIR, 'src/lib/helpers/validate-bls-session-sig.js'));
const { SiweMessage } = requireLnc('siwe');
const { ethers } = requireLnc('ethers');
// v8: the top-level @lit-protocol/crypto
const crypto8 = require('@lit-protocol/crypto');
// noble: the copy @lit-protocol/crypto 8 itself depends on
const { bls12_381: noble } = createRequire(require.resolve('@lit-protocol/crypto'))('@noble/curves/bls12-381');

const versionOf = (req, name) => {
  const main = req.resolve(name);
  let dir = path.dirname(main);
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
    dir = path.dirname(dir);
  }
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
};
const VERSIONS = {
  crypto7: versionOf(requireLnc, '@lit-protocol/crypto'),
  crypto8: versionOf(require, '@lit-protocol/crypto'),
  litNodeClient: JSON.parse(fs.readFileSync(path.join(LNC_DIR, 'package.json'), 'utf8')).version,
};

const POP_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
// The SDKs' object literal for a PKP session's AuthSig (v7 _signSessionKey, v8 signSessionKey handleResponse).
const LIT_BLS_AUTHSIG_KEYS = ['sig', 'algo', 'derivedVia', 'signedMessage', 'address'];

// ---------------------------------------------------------------- helpers
const sha256 = (s) => new Uint8Array(crypto.createHash('sha256').update(s).digest());

async function withFixedNow(iso, fn) {
  const RealDate = globalThis.Date;
  const t = RealDate.parse(iso);
  if (Number.isNaN(t)) fail(`bad time ${iso}`);
  class FixedDate extends RealDate {
    constructor(...a) {
      if (a.length === 0) super(t);
      else super(...a);
    }
    static now() {
      return t;
    }
  }
  globalThis.Date = FixedDate;
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}


// The two SDKs' calls, each with the argument types it takes.
const combine7 = (shares) => crypto7.combineSignatureShares(shares);
const combine8 = (shares) => crypto8.combineSignatureShares(shares);
const verify7 = (keyHex, msg, sigHex) => crypto7.verifySignature(keyHex, msg, Buffer.from(sigHex, 'hex'));
const verify8 = (keyHex, msg, sigHex) => crypto8.verifySignature(keyHex, msg, sigHex);
const verifies = async (fn) => {
  try {
    await fn();
    return true;
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------- independent dealer (noble)
const Fr = noble.fields.Fr;
const frFrom = (label) => Fr.create(BigInt('0x' + hex(sha256(label))));
const leHex = (x) => {
  const be = x.toString(16).padStart(64, '0');
  return be.match(/../g).reverse().join('');
};

/** Shamir shares of a key dealt from `label` (degree threshold-1) at identifiers `xs`, each signing msg. */
function nobleDeal(label, threshold, xs, msg) {
  const coeffs = Array.from({ length: threshold }, (_, k) => frFrom(`${label} coefficient ${k}`));
  const at = (x) => coeffs.reduceRight((acc, a) => Fr.add(Fr.mul(acc, x), a), 0n);
  const H = noble.G2.hashToCurve(msg, { DST: POP_DST });
  const key = noble.G1.ProjectivePoint.BASE.multiply(coeffs[0]);
  const direct = H.multiply(coeffs[0]);
  const shares = xs.map((x) => ({ x, value: hex(H.multiply(at(x)).toRawBytes(true)) }));
  return { networkKey: hex(key.toRawBytes(true)), direct: hex(direct.toRawBytes(true)), shares };
}

// ---------------------------------------------------------------- make: SDK-made combinations for the Rust tests
async function make() {
  const msg = sha256('lit-companion bls-crosscheck message');
  // Naga: identifiers are full scalars (lit-peer derives them from the peers), written little-endian.
  const naga = nobleDeal('lit-companion naga', 3, [1, 2, 3, 4].map((i) => frFrom(`lit-companion naga identifier ${i}`)), msg);
  const nagaShares = naga.shares.map((s) => ({ ProofOfPossession: { identifier: leHex(s.x), value: s.value } }));
  const nagaUsed = [nagaShares[3], nagaShares[0], nagaShares[2]];
  const nagaCombined = await combine8(nagaUsed);
  if (nagaCombined !== naga.direct) fail('SDK 8 combination of noble shares is not the direct signature');
  if (!(await verifies(() => verify8(naga.networkKey, msg, nagaCombined)))) fail('SDK 8 refuses its own combination');
  // Datil: one-byte identifiers 1..n.
  const datil = nobleDeal('lit-companion datil', 2, [1n, 2n, 3n], msg);
  const datilShares = datil.shares.map((s) => ({ ProofOfPossession: s.x.toString(16).padStart(2, '0') + s.value }));
  const datilUsed = [datilShares[2], datilShares[0]];
  const datilCombined = await combine7(datilUsed);
  if (datilCombined !== datil.direct) fail('SDK 7 combination of noble shares is not the direct signature');
  if (!(await verifies(() => verify7(datil.networkKey, msg, datilCombined)))) fail('SDK 7 refuses its own combination');

  const pub = readJson(PUBLISHED);
  const parse = (list) => list.map((s) => JSON.parse(s));
  const published = {
    nagaThreeShares: await combine8(parse(pub.nagaThreeShares.shares)),
    earlyWasmTwoFormsNaga: await combine8(parse(pub.earlyWasmTwoForms.sharesNaga)),
    earlyWasmTwoFormsDatil: await combine7(parse(pub.earlyWasmTwoForms.sharesDatil)),
    datilThreeSharesFirstTwo: await combine7(pub.datilThreeSharesAndSignature.sharesHex.slice(0, 2).map((h) => ({ ProofOfPossession: h }))),
  };
  const msgOf = (v) => (v.messageHex ? unhex(v.messageHex) : new TextEncoder().encode(v.messageUtf8));
  const publishedVerifies = {
    nagaThreeShares: await verifies(() => verify8(pub.nagaThreeShares.networkKey, msgOf(pub.nagaThreeShares), published.nagaThreeShares)),
    earlyWasmTwoFormsNaga: await verifies(() => verify8(pub.earlyWasmTwoForms.networkKey, msgOf(pub.earlyWasmTwoForms), published.earlyWasmTwoFormsNaga)),
    earlyWasmTwoFormsDatil: await verifies(() => verify7(pub.earlyWasmTwoForms.networkKey, msgOf(pub.earlyWasmTwoForms), published.earlyWasmTwoFormsDatil)),
    datilThreeSharesFirstTwo: await verifies(() => verify7(pub.datilThreeSharesAndSignature.networkKey, msgOf(pub.datilThreeSharesAndSignature), published.datilThreeSharesFirstTwo)),
  };
  return {
    about:
      'Made by tests/sdk/bls-crosscheck.mjs make: shares dealt by @noble/curves (an implementation independent of ours), combined by the official SDK; and the SDK combinations of the published vectors in bls.json.',
    sdk: VERSIONS,
    dst: POP_DST,
    messageHex: hex(msg),
    naga: { networkKey: naga.networkKey, threshold: 3, shares: nagaUsed, sdkCombined: nagaCombined, sdkVerifies: true },
    datil: { networkKey: datil.networkKey, threshold: 2, shares: datilUsed, sdkCombined: datilCombined, sdkVerifies: true },
    published,
    publishedVerifies,
  };
}

// ---------------------------------------------------------------- check: our shares, combinations and AuthSig
async function check(doc) {
  const results = [];
  const result = (name, ok, detail) => results.push(ok ? { name, ok } : { name, ok, detail });
  const keys = doc.networks.map((n) => n.networkKey);
  for (const n of doc.networks) {
    const tag = `${n.threshold} of ${n.of}`;
    const msg = unhex(n.messageHex);
    const c7 = await combine7(n.sharesV7);
    result(`${tag}: SDK 7 combines our Datil-form shares to our signature`, c7 === n.combined, c7);
    const c8 = await combine8(n.sharesV8);
    result(`${tag}: SDK 8 combines our Naga-form shares to our signature`, c8 === n.combined, c8);
    result(`${tag}: SDK 7 verifies our signature`, await verifies(() => verify7(n.networkKey, msg, n.combined)));
    result(`${tag}: SDK 8 verifies our signature`, await verifies(() => verify8(n.networkKey, msg, n.combined)));
    const other = keys.find((k) => k !== n.networkKey);
    result(`${tag}: SDK 7 refuses it under another network key`, !(await verifies(() => verify7(other, msg, n.combined))));
    result(`${tag}: SDK 8 refuses it over another message`, !(await verifies(() => verify8(n.networkKey, sha256('other'), n.combined))));
    // Fewer shares than the threshold interpolate another point (the SDK combines any two or more).
    if (n.threshold > 2) {
      const few = await combine8(n.sharesV8.slice(0, n.threshold - 1));
      result(`${tag}: SDK 8 combination of too few shares does not verify`, !(await verifies(() => verify8(n.networkKey, msg, few))));
    }
  }

  const p = doc.pkpSession;
  const a = p.authSig;
  result('AuthSig keys are in the SDK object literal order', JSON.stringify(Object.keys(a)) === JSON.stringify(LIT_BLS_AUTHSIG_KEYS), Object.keys(a));
  result('AuthSig JSON is what JSON.stringify writes', JSON.stringify(a) === p.authSigJson);
  result('algo and derivedVia are the SDK constants', a.algo === 'LIT_BLS' && a.derivedVia === 'lit.bls');
  const combined = JSON.parse(a.sig).ProofOfPossession;
  result('sig is JSON.stringify({ProofOfPossession: combined})', /^[0-9a-f]{192}$/.test(combined) && a.sig === JSON.stringify({ ProofOfPossession: combined }));
  result('address is computeAddress(pkpPublicKey)', ethers.utils.computeAddress(p.pkpPublicKey) === a.address);
  result('dataSigned is the SDK formula', (() => {
    const eip191 = ethers.utils.hashMessage(a.signedMessage).slice(2);
    return ethers.utils.sha256(ethers.utils.toUtf8Bytes('lit_session:' + eip191)).slice(2) === doc.dataSigned;
  })());
  const sdkCheck = (key, authSig) =>
    verifies(() => withFixedNow(p.now, () => blsSessionSigVerify(crypto7.verifySignature, key, authSig, new SiweMessage(authSig.signedMessage))));
  result('blsSessionSigVerify (SDK 7) accepts the AuthSig our verifier accepts', await sdkCheck(p.networkKey, a));
  result('blsSessionSigVerify refuses it under another network key', !(await sdkCheck(keys.find((k) => k !== p.networkKey), a)));
  const tampered = { ...a, signedMessage: a.signedMessage.replace('localhost', 'evil.example') };
  result('blsSessionSigVerify refuses a tampered signedMessage', !(await sdkCheck(p.networkKey, tampered)));
  result(
    'SDK 8 verifies the AuthSig signature over dataSigned',
    await verifies(() => verify8(p.networkKey, unhex(doc.dataSigned), combined))
  );
  return summarize(results);
}

function summarize(results) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  return { ok: failed === 0, sdk: VERSIONS, passed, failed, results: results.filter((r) => !r.ok), summaryLine: `${passed} passed, ${failed} failed` };
}

function writeJson(file, value) {
  const text = JSON.stringify(value, null, 2) + '\n';
  if (file === '-') process.stdout.write(text);
  else fs.writeFileSync(file, text);
}

// ---------------------------------------------------------------- main
async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (VERSIONS.crypto7 !== '7.4.0' || !VERSIONS.crypto8.startsWith('8.')) fail(`unexpected SDK versions ${JSON.stringify(VERSIONS)}`);
  switch (args._[0]) {
    case 'check': {
      if (!args.rust || args.rust === true) fail('usage: check --rust FILE|-');
      const out = await check(readJson(args.rust));
      console.log(JSON.stringify(out, null, 2));
      if (!out.ok) fail(`check: ${out.summaryLine}; first: ${out.results[0]?.name}`);
      return;
    }
    case 'make': {
      if (!args.out || args.out === true) fail('usage: make --out FILE|-');
      writeJson(args.out, await make());
      return;
    }
    case 'selftest': {
      if (!args.rust || args.rust === true) fail('usage: selftest --rust FILE|-');
      const made = await make();
      const committed = readJson(SDK_FIXTURE);
      const same = JSON.stringify(made) === JSON.stringify(committed);
      const out = await check(readJson(args.rust));
      out.results.unshift(...(same ? [] : [{ name: `${path.relative(ROOT, SDK_FIXTURE)} is what make writes`, ok: false }]));
      out.passed += same ? 1 : 0;
      out.failed += same ? 0 : 1;
      out.ok = out.failed === 0;
      out.summaryLine = `${out.passed} passed, ${out.failed} failed`;
      console.log(JSON.stringify(out, null, 2));
      console.log(out.summaryLine);
      if (!out.ok) fail(`selftest: ${out.summaryLine}; first: ${out.results[0]?.name}`);
      return;
    }
    default:
      fail('usage: bls-crosscheck.mjs check --rust F|make --out F|selftest --rust F');
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    const msg = e instanceof Fail ? e.message : `internal error: ${e?.stack?.split('\n').slice(0, 2).join(' | ') ?? e}`;
    process.stderr.write(msg.replace(/\n/g, ' ') + '\n');
    process.exit(1);
  }
);
