// What the SDK cross-check scripts share: a quiet SDK (its loggers and the wasm modules' init
// warning say nothing here that anyone acts on), the one failure type, hex, argument and JSON
// reading. Imported first, so the environment is set before any SDK module loads.
import fs from 'node:fs';

process.noDeprecation = true; // depd / LitErrorKind warnings go to stderr otherwise
process.env.LOG_LEVEL ??= 'silent';
process.env.PINO_LOG_LEVEL ??= 'silent';
const consoleWarn = console.warn;
console.warn = (...a) => {
  if (typeof a[0] === 'string' && a[0].includes('initSync')) return;
  consoleWarn(...a);
};

/** A check that failed: its message is the one line a script prints. */
export class Fail extends Error {}
export const fail = (msg) => {
  throw new Fail(msg);
};
export const hex = (u8) => Buffer.from(u8).toString('hex');
export const unhex = (h) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'));

/** `--flag value` and `--switch` into an object; the rest in `_`. */
export function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) out[a.slice(2)] = true;
      else {
        out[a.slice(2)] = v;
        i++;
      }
    } else out._.push(a);
  }
  return out;
}

/** A JSON file (`-`: stdin); anything else fails with the file's name. */
export function readJson(file) {
  const txt = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(txt);
  } catch (e) {
    return fail(`${file}: not JSON (${e.message})`);
  }
}
