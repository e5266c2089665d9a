/** Synthetic text lines (dark strokes on a light page), normalized as PaddleOCR does: inputs for the OCR models in tests and benches. */
export function textImages(count: number, h: number, w: number, first = 0): Float32Array {
  const out = new Float32Array(count * 3 * h * w);
  for (let s = 0; s < count; s++) {
    const shift = first + s;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const ink = (i + shift) % 24 > 8 && (i + shift) % 24 < 16 && ((j + shift) >> 2) % 3 !== 0 && (j * 7 + i + shift) % 11 !== 0;
          out[((s * 3 + c) * h + i) * w + j] = ((ink ? 0.1 : 0.9) - 0.5) / 0.5;
        }
      }
    }
  }
  return out;
}
