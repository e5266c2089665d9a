/**
 * Which metric fits an output, decided from its shape and its first batch of baseline values (and
 * `--task` when the user says): class scores, per-step scores of a sequence (CTC), a one-channel
 * probability map (mask or heatmap), per-pixel class scores (segmentation), an unbounded map, a
 * single score per sample, or a vector (embedding / regression). The reason goes into the report.
 */

export const TASKS = ['classification', 'segmentation', 'mask', 'dense', 'sequence', 'score', 'embedding'] as const;
export type Task = (typeof TASKS)[number];

export interface TaskChoice {
  readonly task: Task;
  readonly why: string;
}

const EMBEDDING_NAME = /embed|feature|hidden|pool|vector|latent|state/i;

function inUnitRange(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!(values[i] >= 0 && values[i] <= 1)) return false;
  return true;
}

/** Do the rows of `classes` values each sum to 1 (softmax outputs)? Checks the first 64 rows. */
function rowsAreDistributions(values: Float32Array, classes: number): boolean {
  const rows = Math.min(64, Math.floor(values.length / classes));
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = r * classes; i < (r + 1) * classes; i++) s += values[i];
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return rows > 0 && inUnitRange(values.subarray(0, rows * classes));
}

/** Channels of a per-sample map [C, H, W] (1 for [H, W] and [H, W, 1]) and pixels per channel. */
export function mapLayout(dims: readonly number[]): { channels: number; pixels: number } {
  const per = dims.slice(1);
  const perSample = per.reduce((a, b) => a * b, 1);
  const channels = per.length === 3 && per[2] !== 1 ? per[0] : 1;
  return { channels, pixels: perSample / channels };
}

const shapeText = (dims: readonly number[]): string => `[${dims.join(', ')}]`;

/** The task of one output from its dims (batch first), its first batch of baseline values and the data given. */
export function chooseTask(name: string, dims: readonly number[], samples: number, values: Float32Array, override?: Task): TaskChoice {
  const per = dims.slice(1);
  const shown = shapeText(dims);
  if (override) return { task: override, why: `--task ${override}` };
  if (dims[0] !== samples) return { task: 'embedding', why: `${shown}: the first axis is not the batch, so the output is compared as one vector (cosine, SQNR)` };
  const perSample = per.reduce((a, b) => a * b, 1);
  const unit = inUnitRange(values);
  if (perSample === 1) {
    return unit
      ? { task: 'score', why: `${shown}: one value in [0, 1] per sample, a detector's score: decisions at 0.5 agree or not` }
      : { task: 'embedding', why: `${shown}: one unbounded value per sample, a regression: error and SQNR` };
  }
  const trailing = per.filter((d) => d !== 1);
  if (trailing.length === 1) {
    if (EMBEDDING_NAME.test(name)) return { task: 'embedding', why: `${shown}, named '${name}': a feature vector: cosine and SQNR (--task classification to score it as classes)` };
    return { task: 'classification', why: `${shown}: one score per class: top-1 agreement and KL (--task embedding for a feature vector)` };
  }
  if (per.length === 2) {
    const [steps, classes] = per;
    if (rowsAreDistributions(values, classes)) return { task: 'sequence', why: `${shown}: ${steps} steps of ${classes}-way probabilities: greedy CTC decoding (blank 0), sequence agreement and edit distance` };
    if (unit) return { task: 'mask', why: `${shown}: a one-channel map with values in [0, 1]: IoU at 0.5, mean |err|, worst image` };
    return { task: 'sequence', why: `${shown}: ${steps} steps of ${classes} scores: greedy CTC decoding (blank 0), sequence agreement and edit distance (--task dense for a map)` };
  }
  if (per.length === 3) {
    const { channels } = mapLayout(dims);
    if (channels === 1) {
      return unit
        ? { task: 'mask', why: `${shown}: a one-channel map with values in [0, 1] (mask or heatmap): IoU at 0.5, mean |err|, worst image` }
        : { task: 'dense', why: `${shown}: a one-channel unbounded map: per-pixel error, SQNR, agreement above half the baseline's range` };
    }
    return { task: 'segmentation', why: `${shown}: ${channels} scores per pixel: per-pixel class agreement, worst image` };
  }
  return { task: 'embedding', why: `${shown}: compared as a vector per sample: cosine and SQNR` };
}
