/**
 * How small entropy coding would make a stream of symbols (Deep Compression's third stage):
 * the Shannon entropy, and the exact size of a Huffman code built for the symbol counts.
 */
import { MinHeap } from '../core/minHeap';

/** Shannon entropy in bits per symbol of a histogram of counts. */
export function shannonEntropyBits(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0) h -= (c / total) * Math.log2(c / total);
  }
  return h;
}

/** Huffman code length of each symbol (0 for symbols that never occur). */
export function huffmanCodeLengths(counts: ArrayLike<number>): number[] {
  const lengths = new Array<number>(counts.length).fill(0);
  const symbols: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) symbols.push(i);
  if (symbols.length === 1) lengths[symbols[0]] = 1; // one symbol still takes a bit per use
  if (symbols.length <= 1) return lengths;
  // Nodes: leaves first, then merged nodes; parent links give each leaf's depth.
  const weight: number[] = symbols.map((s) => counts[s]);
  const parent: number[] = symbols.map(() => -1);
  const heap = new MinHeap((a, b) => weight[a] - weight[b] || a - b);
  symbols.forEach((_, i) => heap.push(i));
  while (heap.size > 1) {
    const a = heap.pop();
    const b = heap.pop();
    const node = weight.length;
    weight.push(weight[a] + weight[b]);
    parent.push(-1);
    parent[a] = node;
    parent[b] = node;
    heap.push(node);
  }
  symbols.forEach((s, i) => {
    let depth = 0;
    for (let n = i; parent[n] !== -1; n = parent[n]) depth++;
    lengths[s] = depth;
  });
  return lengths;
}

/** Total bits of the stream when Huffman-coded (the code table itself not included). */
export function huffmanBits(counts: ArrayLike<number>): number {
  const lengths = huffmanCodeLengths(counts);
  let bits = 0;
  for (let i = 0; i < counts.length; i++) bits += counts[i] * lengths[i];
  return bits;
}
