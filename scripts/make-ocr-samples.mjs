/**
 * Realistic inputs for the PaddleOCR models, rendered with sharp (SVG text in DejaVu Sans, the
 * font Debian's fonts-dejavu-core installs): text lines for the recognizer (3×48×320, PaddleOCR's
 * (x/255 − 0.5)/0.5) and pages of text lines for the detector (3×640×640, ImageNet mean/std).
 * Writes <out>/rec/x.npy and <out>/det/x.npy, folders `eval --data` reads.
 *
 *   node scripts/make-ocr-samples.mjs OUT [LINES=32] [PAGES=4]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Buffer } from 'node:buffer';
import sharp from 'sharp';

const [out = 'out/ocr-samples', lineCount = '32', pageCount = '4'] = process.argv.slice(2);
const WORDS = ['invoice', 'total', '2026', 'ONNX', 'compress', 'model', 'weights', 'quantize', 'accuracy', 'budget', 'verdict', 'Paris', 'receipt', '42.50', 'EUR', 'order', 'No.', '17', 'delivery', 'street', 'sensor', 'report', 'page', 'batch'];

/** A seeded choice of words, so every run renders the same images. */
function line(i) {
  let s = (i * 2654435761) >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return Array.from({ length: 2 + (next() % 3) }, () => WORDS[next() % WORDS.length]).join(' ');
}

const escape = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');

async function rgb(svg, width, height) {
  const { data } = await sharp(Buffer.from(svg)).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return data;
}

function writeNpy(file, values, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  head.writeUInt16LE(header.length, 8);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(values.buffer, values.byteOffset, values.byteLength)]));
}

/** HWC bytes → CHW floats, (v/255 − mean)/std per channel. */
function chw(bytes, width, height, mean, std, into, offset) {
  const plane = width * height;
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) into[offset + c * plane + p] = (bytes[p * 3 + c] / 255 - mean[c]) / std[c];
}

const lines = Number(lineCount);
const rec = new Float32Array(lines * 3 * 48 * 320);
for (let i = 0; i < lines; i++) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="48"><rect width="100%" height="100%" fill="#f4f1ea"/><text x="8" y="34" font-family="DejaVu Sans" font-size="26" fill="#1a1a1a">${escape(line(i))}</text></svg>`;
  chw(await rgb(svg, 320, 48), 320, 48, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], rec, i * 3 * 48 * 320);
}
writeNpy(path.join(out, 'rec', 'x.npy'), rec, [lines, 3, 48, 320]);

const pages = Number(pageCount);
const det = new Float32Array(pages * 3 * 640 * 640);
for (let i = 0; i < pages; i++) {
  const rows = Array.from({ length: 12 }, (_, r) => `<text x="${30 + ((r * 37) % 90)}" y="${60 + r * 48}" font-family="DejaVu Sans" font-size="${22 + (r % 3) * 4}" fill="#222">${escape(line(i * 12 + r))} ${escape(line(i * 12 + r + 99))}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="640"><rect width="100%" height="100%" fill="#fbfaf7"/>${rows}</svg>`;
  chw(await rgb(svg, 640, 640), 640, 640, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], det, i * 3 * 640 * 640);
}
writeNpy(path.join(out, 'det', 'x.npy'), det, [pages, 3, 640, 640]);
process.stdout.write(`wrote ${lines} text lines to ${path.join(out, 'rec')} and ${pages} pages to ${path.join(out, 'det')}\n`);
