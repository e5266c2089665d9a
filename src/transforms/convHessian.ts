/**
 * GPTQ's Hessian for a 2-D Conv: the Conv is a matrix product of its weight [M, C/g · kh · kw]
 * with the im2col rows of its input (one row per batch item and output position, holding the
 * patch the kernel sees), so H = 2·XᵀX / rows over those rows, one H per group of channels.
 * A row's features are in (y, x, c) order — kernel position first, then input channel — so the
 * channels of one kernel position are consecutive, as GPTQ's blocks along the channel axis need.
 * Rows are built a chunk at a time: memory is the Hessians and one chunk, whatever the input.
 */
import { hessianSum, type HessianSum } from './hessian';

export type AutoPad = 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER';

/** A 2-D Conv's attributes, as the node gives them. */
export interface ConvGeometry {
  readonly group: number;
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** [top, left, bottom, right] when autoPad is NOTSET. */
  readonly pads: readonly [number, number, number, number];
  readonly autoPad: AutoPad;
}

/** The padding before each spatial axis and the output size, for an input of h × w (ONNX's Conv rules). */
export function convExtent(g: ConvGeometry, h: number, w: number): { padTop: number; padLeft: number; oh: number; ow: number } {
  const axis = (size: number, i: 0 | 1): { before: number; out: number } => {
    const k = (g.kernel[i] - 1) * g.dilations[i] + 1;
    const s = g.strides[i];
    if (g.autoPad === 'SAME_UPPER' || g.autoPad === 'SAME_LOWER') {
      const out = Math.ceil(size / s);
      const total = Math.max(0, (out - 1) * s + k - size);
      const small = Math.floor(total / 2);
      return { before: g.autoPad === 'SAME_UPPER' ? small : total - small, out };
    }
    const [before, after] = g.autoPad === 'VALID' ? [0, 0] : [g.pads[i], g.pads[i + 2]];
    return { before, out: Math.floor((size + before + after - k) / s) + 1 };
  };
  const y = axis(h, 0);
  const x = axis(w, 1);
  if (y.out < 1 || x.out < 1) throw new Error(`a ${g.kernel.join('×')} kernel leaves no output on a ${h}×${w} input`);
  return { padTop: y.before, padLeft: x.before, oh: y.out, ow: x.out };
}

/**
 * Rows [from, from + count) of group `group`'s im2col matrix of x [N, C, H, W] into `out`
 * (count × kh·kw·C/g values, (y, x, c) order, zeros where the kernel reads padding).
 */
export function patchRows(x: Float32Array, dims: readonly number[], g: ConvGeometry, group: number, from: number, count: number, out: Float32Array): void {
  const [, c, h, w] = dims;
  const cg = c / g.group;
  const [kh, kw] = g.kernel;
  const { padTop, padLeft, oh, ow } = convExtent(g, h, w);
  const k = kh * kw * cg;
  const plane = h * w;
  for (let r = 0; r < count; r++) {
    const row = from + r;
    const n = Math.floor(row / (oh * ow));
    const oy = Math.floor(row / ow) % oh;
    const ox = row % ow;
    const base = (n * c + group * cg) * plane;
    let at = r * k;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * g.strides[0] - padTop + ky * g.dilations[0];
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * g.strides[1] - padLeft + kx * g.dilations[1];
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
          out.fill(0, at, at + cg);
          at += cg;
          continue;
        }
        const pixel = base + iy * w + ix;
        for (let ch = 0; ch < cg; ch++) out[at++] = x[pixel + ch * plane];
      }
    }
  }
}

/** Rows of im2col built per add: K · 256 floats at a time. */
const ROWS = 256;

/** The Hessians of one Conv input, one per group, gathered over batches of the input. */
export class ConvHessians {
  private readonly groups: HessianSum[] = [];
  private chunk = new Float32Array(0);

  constructor(readonly geometry: ConvGeometry, readonly channels: number) {
    if (!(channels % geometry.group === 0)) throw new Error(`${channels} input channels do not split into ${geometry.group} groups`);
    const k = this.k;
    for (let i = 0; i < geometry.group; i++) this.groups.push(hessianSum(k));
  }

  /** Features per group: kh · kw · C/g. */
  get k(): number {
    return this.geometry.kernel[0] * this.geometry.kernel[1] * (this.channels / this.geometry.group);
  }

  get rows(): number {
    return this.groups[0].rows;
  }

  /** Adds every output position of x [N, C, H, W]. */
  add(x: Float32Array, dims: readonly number[]): void {
    if (dims.length !== 4 || dims[1] !== this.channels) throw new Error(`a Conv input of ${this.channels} channels should be [N, C, H, W], got [${dims.join(', ')}]`);
    const { oh, ow } = convExtent(this.geometry, dims[2], dims[3]);
    const total = dims[0] * oh * ow;
    const k = this.k;
    if (this.chunk.length < ROWS * k) this.chunk = new Float32Array(ROWS * k);
    for (let group = 0; group < this.groups.length; group++) {
      for (let from = 0; from < total; from += ROWS) {
        const count = Math.min(ROWS, total - from);
        patchRows(x, dims, this.geometry, group, from, count, this.chunk);
        this.groups[group].add(this.chunk, count);
      }
    }
  }

  /** The groups' Hessians one after another: [group, K, K]. */
  finish(): Float64Array {
    if (this.groups.length === 1) return this.groups[0].finish(); // no copy of the one K × K
    const k = this.k;
    const out = new Float64Array(this.groups.length * k * k);
    this.groups.forEach((acc, i) => out.set(acc.finish(), i * k * k));
    return out;
  }
}
