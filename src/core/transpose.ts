/** A row-major [rows, cols] matrix as its transpose [cols, rows], in a new array of the same kind. */
export function transposed<T extends Float32Array | Float64Array | Int32Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}
