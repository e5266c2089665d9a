/** What evaluation data is (its spec as the user gives it), what a model input is, and what a dataset hands out. */
import type { TensorData } from './feed';

export interface ImagePreprocess {
  /** Resize so the shorter side is this long (aspect kept), or to exactly [width, height]. */
  readonly resize?: number | readonly [number, number];
  /** Center crop [width, height] after resizing. */
  readonly crop?: readonly [number, number];
  /** Multiplies the 0..255 pixel values first (e.g. 1/255). */
  readonly scale: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly channels: 'rgb' | 'bgr';
  readonly layout: 'nchw' | 'nhwc';
}

export type DatasetSpec =
  | { readonly kind: 'numpy'; readonly path: string; readonly labels?: string }
  | { readonly kind: 'images'; readonly root: string; readonly preprocess: ImagePreprocess; readonly input?: string }
  | {
      readonly kind: 'synthetic';
      readonly samples: number;
      readonly seed: number;
      /** Whole shapes by input name. */
      readonly shapes?: Readonly<Record<string, readonly number[]>>;
      /** Values of named symbolic dims. */
      readonly dims?: Readonly<Record<string, number>>;
      /** A value for every element of an input (a sample rate, a fixed id). */
      readonly values?: Readonly<Record<string, number>>;
    };

/** A model input as onnxruntime describes it. */
export interface InputInfo {
  readonly name: string;
  readonly type: string;
  /** Dims; symbolic ones as strings or -1. */
  readonly shape: readonly (number | string)[];
}

export interface Sample {
  /** One sample per input, with a leading batch dim of 1. */
  readonly feed: Record<string, TensorData>;
  readonly label?: number;
  /** Per-token labels of a language-model sample (`labels` [samples, seq]; -100 marks positions left out). */
  readonly targets?: Int32Array;
}

export interface Dataset {
  readonly size: number;
  readonly labelled: boolean;
  readonly synthetic: boolean;
  readonly description: string;
  sample(i: number): Promise<Sample>;
  /** Samples first..first+count-1 as one batch, without per-sample copies, where the data allows. */
  batch?(first: number, count: number): { feed: Record<string, TensorData>; labels?: number[] };
}

