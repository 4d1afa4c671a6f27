// Stale screenshots: the pictures in docs/screenshots/ against fresh ones from the current UI.
//
// Pixels are a poor judge (fonts, antialiasing, the clock and random addresses move them), so
// each screenshot the app suite takes comes with a record of what the screen showed, made from
// the page itself: its text as a person reads it (numbers, addresses, keys, dates, times and
// temporary paths masked, since those differ on every run), a digest of the computed styles of
// what is on screen (colors, weights, sizes: what a style change changes, never what a font or
// the clock does), and the picture's size. A committed screenshot is stale when its record
// differs from the fresh one's, when the suite no longer makes it, or when the suite makes one
// that is not committed.
//
//   node tests/app/screenshots.mjs <fresh dir> <committed dir>
// prints each stale file by name with why, and exits 1 when any is stale.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Elements whose showing depends on a timer, not on the screen's content (left out). */
const TRANSIENT = ['#settings-saved'];

/** The style properties the digest covers: those a style sheet sets, none that layout or fonts decide. */
const STYLE = ['color', 'background-color', 'font-size', 'font-weight', 'font-style', 'text-transform', 'text-decoration-line',
  'border-top-color', 'border-top-width', 'border-top-style', 'border-radius', 'display', 'opacity', 'list-style-type'];

/** A WebDriver script body: the window's text and its styles, as the page renders them. */
export const captureScript = `
  // Transient elements are taken out of the layout while the record is read (and put back), so
  // that whether a timer had run out leaves no trace, not even a blank line.
  const transient = ${JSON.stringify(TRANSIENT)}.flatMap((s) => [...document.querySelectorAll(s)]);
  const before = transient.map((t) => t.style.display);
  for (const t of transient) t.style.display = 'none';
  const text = document.body.innerText;
  const props = ${JSON.stringify(STYLE)};
  const styles = [...document.body.querySelectorAll('*')].filter((e) => e.getClientRects().length > 0).map((e) => {
    const c = getComputedStyle(e);
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + [...e.classList].map((k) => '.' + k).join('') + ' ' + props.map((p) => c.getPropertyValue(p)).join(';');
  });
  transient.forEach((t, i) => { t.style.display = before[i]; });
  return { text, styles, width: window.innerWidth, height: window.innerHeight };`;

const WEEKDAYS = /\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)(day|sday|nesday|rsday|urday)?\b/g;
const MONTHS = /\b(Jan(uary)?|Feb(ruary)?|Mar(ch)?|Apr(il)?|May|June?|July?|Aug(ust)?|Sept?(ember)?|Oct(ober)?|Nov(ember)?|Dec(ember)?)\b/g;

/**
 * The screen's text with what differs from run to run masked: `dirs` (the run's temporary
 * folders) first, then hex (addresses, keys, token ids), times, dates, numbers.
 */
export function normalize(text, dirs = []) {
  let t = text.replace(/\r/g, '');
  for (const d of [...dirs].filter(Boolean).sort((a, b) => b.length - a.length)) t = t.split(d).join('<dir>');
  return t
    .replace(/\/tmp\/[^\s)"',]*/g, '<dir>')
    .replace(/0x[0-9a-fA-F]*…[0-9a-fA-F]*/g, '0x…')
    .replace(/0x[0-9a-fA-F]+/g, '0x<hex>')
    .replace(/\b[0-9a-fA-F]{16,}\b/g, '<hex>')
    .replace(/\b[0-9A-Za-z_-]{40,}\b/g, '<token>')
    .replace(/\b\d{1,2}:\d{2}(:\d{2})?\b(\s?[AaPp]\.?[Mm]\b\.?)?/g, '<time>')
    .replace(WEEKDAYS, '<day>')
    .replace(MONTHS, '<month>')
    .replace(/\d+/g, '#')
    .split('\n').map((l) => l.replace(/\s+$/, '')).filter((l, i, all) => l || (i > 0 && all[i - 1])).join('\n')
    .trim();
}

/** The record kept beside `<name>.png`: what `compare` reads. */
export function record(name, captured, dirs) {
  const digest = createHash('sha256').update(captured.styles.join('\n')).digest('hex');
  return [
    `# ${name}.png: what the screen says (run-dependent parts masked) and a digest of its styles;`,
    '# written by tests/app/app.test.mjs, compared by tests/app/screenshots.mjs.',
    `window ${captured.width}x${captured.height}`,
    `styles ${digest}`,
    '--- text',
    normalize(captured.text, dirs),
    '',
  ].join('\n');
}

/** Writes the record of `name` into `dir`. */
export function writeRecord(dir, name, captured, dirs) {
  writeFileSync(join(dir, `${name}.txt`), record(name, captured, dirs));
}

/** The width and height in a PNG's header. */
export function pngSize(bytes) {
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

function parse(text) {
  const [head, ...rest] = text.split('\n--- text\n');
  const field = (k) => (head.match(new RegExp(`^${k} (.*)$`, 'm')) || [])[1];
  return { window: field('window'), styles: field('styles'), text: rest.join('\n--- text\n').trimEnd() };
}

/** Where two texts first differ, quoted. */
function firstDifference(was, now) {
  const a = was.split('\n');
  const b = now.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: was ${JSON.stringify(a[i] ?? '(nothing)')}, now ${JSON.stringify(b[i] ?? '(nothing)')}`;
  }
  return 'the same lines';
}

/**
 * Compares the screenshots in `committed` with those in `fresh`: one `{ file, why }` per stale
 * file, by name, sorted.
 */
export function compare(fresh, committed) {
  const made = new Set(pngs(fresh));
  const kept = new Set(pngs(committed));
  const stale = [];
  for (const file of [...new Set([...made, ...kept])].sort()) {
    const name = basename(file, '.png');
    if (!made.has(file)) { stale.push({ file, why: 'the app suite no longer takes it' }); continue; }
    if (!kept.has(file)) { stale.push({ file, why: 'new: not in the committed screenshots yet' }); continue; }
    const recordOf = (dir) => (existsSync(join(dir, `${name}.txt`)) ? parse(readFileSync(join(dir, `${name}.txt`), 'utf8')) : null);
    const now = recordOf(fresh);
    const was = recordOf(committed);
    if (!now) { stale.push({ file, why: `the suite wrote no ${name}.txt beside it` }); continue; }
    if (!was) { stale.push({ file, why: `no ${name}.txt records what it shows` }); continue; }
    const reasons = [];
    const size = { now: pngSize(readFileSync(join(fresh, file))), was: pngSize(readFileSync(join(committed, file))) };
    if (size.now !== size.was) reasons.push(`the picture is ${size.now} now, ${size.was} committed`);
    if (now.text !== was.text) reasons.push(`the screen says something else (${firstDifference(was.text, now.text)})`);
    if (now.styles !== was.styles) reasons.push('the screen is styled differently');
    if (reasons.length) stale.push({ file, why: reasons.join('; ') });
  }
  return stale;
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const [fresh, committed] = process.argv.slice(2);
  if (!fresh || !committed) {
    console.error('usage: node tests/app/screenshots.mjs <fresh dir> <committed dir>');
    process.exit(2);
  }
  if (pngs(fresh).length === 0) {
    console.error(`screenshots: no screenshots in ${fresh}: run the app suite (node --test tests/app/) first`);
    process.exit(2);
  }
  const stale = compare(fresh, committed);
  for (const s of stale) console.error(`stale: ${join(committed, s.file)}: ${s.why}`);
  if (stale.length) {
    console.error(`screenshots: ${stale.length} of the README's screenshots are stale; scripts/screenshots refreshes ${committed}`);
    process.exit(1);
  }
  console.log(`screenshots: the ${pngs(committed).length} in ${committed} show the app as it is`);
}

function pngs(dir) {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.png')) : [];
}
