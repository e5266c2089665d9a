/**
 * Per output, the metrics that fit its task (taskChoice.ts), accumulated batch by batch without
 * keeping outputs: a few numbers per sample, so each figure gets a bootstrap interval and the
 * worst sample can be named. Every output also gets SQNR and mean |err| against the baseline.
 */
import { chooseTask, mapLayout, type Task } from './taskChoice';
import { RatioFigure, type Figure } from './ratioFigure';
import { klDivergence } from './metrics';

export interface TaskOutput {
  readonly name: string;
  readonly task: Task;
  /** Why this task was chosen (shape, values, or --task). */
  readonly why: string;
  /** The figure `--min-agreement` and `--max-drop` judge: how often the candidate gives the baseline's answer. */
  readonly agreement: Figure;
  readonly sqnr: Figure;
  /** Every figure of the task, the two above first. */
  readonly figures: readonly Figure[];
}

/** Threshold of masks, heatmaps and scores. */
export const MAP_THRESHOLD = 0.5;

export function argmax(v: ArrayLike<number>, start = 0, end = v.length, stride = 1): number {
  let best = start;
  for (let i = start + stride; i < end; i += stride) if (v[i] > v[best]) best = i;
  return (best - start) / stride;
}

/** Greedy CTC decoding: the best class per step, repeats merged, blanks (class 0) dropped. */
export function ctcGreedy(steps: Float32Array, classes: number): number[] {
  const out: number[] = [];
  let previous = -1;
  for (let t = 0; t < steps.length / classes; t++) {
    const c = argmax(steps, t * classes, (t + 1) * classes);
    if (c !== previous && c !== 0) out.push(c);
    previous = c;
  }
  return out;
}

/** Levenshtein distance (insertions, deletions, substitutions each 1). */
export function editDistance(a: readonly number[], b: readonly number[]): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

class TaskAccumulator {
  private readonly sqnr = new RatioFigure('output SQNR', 'dB', true);
  private readonly meanError = new RatioFigure('mean |err|', 'value', false);
  private maxError = 0;
  /** Mask pixels above the threshold, or non-empty decoded sequences, in the baseline's outputs and the candidate's. */
  private readonly found = { base: 0, cand: 0 };
  private readonly agreement: RatioFigure;
  private readonly extra: RatioFigure[] = [];
  private readonly channels: number;
  private readonly pixels: number;

  constructor(
    readonly name: string,
    readonly task: Task,
    readonly why: string,
    dims: readonly number[],
  ) {
    ({ channels: this.channels, pixels: this.pixels } = mapLayout(dims));
    const agreementName: Record<Task, string> = {
      classification: 'top-1 agreement',
      sequence: 'decoded sequence agreement',
      mask: `IoU at ${MAP_THRESHOLD}`,
      segmentation: 'per-pixel class agreement',
      dense: "pixels agreeing above half the baseline's range",
      score: `decision agreement at ${MAP_THRESHOLD}`,
      embedding: 'cosine similarity',
    };
    // Two empty masks agree completely (a sample's share; a baseline empty on every sample is unmeasured, below).
    this.agreement = new RatioFigure(agreementName[task], 'share', true, task === 'mask' ? 1 : NaN);
    if (task === 'classification') this.extra.push(new RatioFigure('KL divergence', 'value', false));
    if (task === 'sequence') this.extra.push(new RatioFigure('edit distance per character', 'value', false), new RatioFigure('per-step agreement', 'share', true));
    if (task === 'mask') this.extra.push(new RatioFigure(`pixel agreement at ${MAP_THRESHOLD}`, 'share', true));
  }

  add(base: Float32Array, cand: Float32Array, samples: number, classes: number): void {
    const per = base.length / Math.max(1, samples);
    for (let s = 0; s < samples; s++) {
      const b = base.subarray(s * per, (s + 1) * per);
      const c = cand.subarray(s * per, (s + 1) * per);
      let signal = 0;
      let noise = 0;
      let abs = 0;
      for (let i = 0; i < b.length; i++) {
        const d = b[i] - c[i];
        signal += b[i] * b[i];
        noise += d * d;
        abs += Math.abs(d);
        if (Math.abs(d) > this.maxError) this.maxError = Math.abs(d);
      }
      this.sqnr.add(signal, noise);
      this.meanError.add(abs, b.length);
      this.addTask(b, c, classes);
    }
  }

  private addTask(b: Float32Array, c: Float32Array, classes: number): void {
    const rows = b.length / classes;
    switch (this.task) {
      case 'classification': {
        let agree = 0;
        let kl = 0;
        for (let r = 0; r < rows; r++) {
          if (argmax(b, r * classes, (r + 1) * classes) === argmax(c, r * classes, (r + 1) * classes)) agree++;
          kl += klDivergence(b.subarray(r * classes, (r + 1) * classes), c.subarray(r * classes, (r + 1) * classes));
        }
        this.agreement.add(agree, rows);
        this.extra[0].add(kl, rows);
        return;
      }
      case 'sequence': {
        const bs = ctcGreedy(b, classes);
        const cs = ctcGreedy(c, classes);
        if (bs.length) this.found.base++;
        if (cs.length) this.found.cand++;
        this.agreement.add(bs.length === cs.length && bs.every((x, i) => x === cs[i]) ? 1 : 0, 1);
        this.extra[0].add(editDistance(bs, cs), Math.max(1, bs.length));
        let steps = 0;
        for (let r = 0; r < rows; r++) if (argmax(b, r * classes, (r + 1) * classes) === argmax(c, r * classes, (r + 1) * classes)) steps++;
        this.extra[1].add(steps, rows);
        return;
      }
      case 'mask': {
        let inter = 0;
        let union = 0;
        let agree = 0;
        for (let i = 0; i < b.length; i++) {
          const x = b[i] > MAP_THRESHOLD;
          const y = c[i] > MAP_THRESHOLD;
          if (x && y) inter++;
          if (x || y) union++;
          if (x === y) agree++;
          if (x) this.found.base++;
          if (y) this.found.cand++;
        }
        this.agreement.add(inter, union);
        this.extra[0].add(agree, b.length);
        return;
      }
      case 'segmentation': {
        let agree = 0;
        for (let p = 0; p < this.pixels; p++) {
          if (argmax(b, p, p + this.channels * this.pixels, this.pixels) === argmax(c, p, p + this.channels * this.pixels, this.pixels)) agree++;
        }
        this.agreement.add(agree, this.pixels);
        return;
      }
      case 'dense': {
        let lo = Infinity;
        let hi = -Infinity;
        for (const x of b) {
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        const t = (lo + hi) / 2;
        let agree = 0;
        for (let i = 0; i < b.length; i++) if (b[i] > t === c[i] > t) agree++;
        this.agreement.add(agree, b.length);
        return;
      }
      case 'score': {
        let agree = 0;
        for (let i = 0; i < b.length; i++) if (b[i] > MAP_THRESHOLD === c[i] > MAP_THRESHOLD) agree++;
        this.agreement.add(agree, b.length);
        return;
      }
      case 'embedding': {
        let dot = 0;
        let bb = 0;
        let cc = 0;
        for (let i = 0; i < b.length; i++) {
          dot += b[i] * c[i];
          bb += b[i] * b[i];
          cc += c[i] * c[i];
        }
        this.agreement.add(bb && cc ? dot / Math.sqrt(bb * cc) : bb === cc ? 1 : 0, 1);
      }
    }
  }

  /**
   * Why the agreement figures have nothing to measure: the baseline found nothing on any sample
   * (an empty mask, all-blank sequences), so agreeing with it says nothing of the candidate.
   */
  private unmeasured(): string | undefined {
    if (this.found.base > 0) return undefined;
    if (this.task === 'mask') {
      const cand = this.found.cand ? ` (the candidate's have ${this.found.cand} pixels above ${MAP_THRESHOLD})` : '';
      return `the baseline's masks are empty on these inputs${cand}: no overlap to measure`;
    }
    if (this.task === 'sequence') {
      const cand = this.found.cand ? ` (the candidate's are not on ${this.found.cand} samples)` : '';
      return `the baseline's sequences all decode to blanks on these inputs${cand}: no text to compare`;
    }
    return undefined;
  }

  result(): TaskOutput {
    const why = this.unmeasured();
    // Agreement with nothing is no score: NaN with the reason instead of a perfect 100%.
    const blank = (f: Figure): Figure => (why ? { name: f.name, value: NaN, scale: f.scale, higherIsBetter: f.higherIsBetter, unmeasured: why } : f);
    const agreement = blank(this.agreement.figure());
    const sqnr = this.sqnr.figure();
    const worst: Figure[] = [];
    if (this.task === 'mask' || this.task === 'segmentation') worst.push(blank(this.agreement.worstFigure(`worst sample's ${this.agreement.name}`)));
    // A sequence agrees or not, so its worst sample is the one decoded furthest from the baseline's.
    if (this.task === 'sequence') worst.push(blank(this.extra[0].worstFigure(`worst sample's ${this.extra[0].name}`)));
    if (this.task === 'mask' || this.task === 'dense') worst.push(this.meanError.worstFigure("worst sample's mean |err|"));
    if (this.task === 'dense' || this.task === 'embedding') worst.push(this.sqnr.worstFigure("worst sample's SQNR"));
    const maxError: Figure = { name: 'max |err|', value: this.maxError, scale: 'value', higherIsBetter: false };
    return {
      name: this.name,
      task: this.task,
      why: this.why,
      agreement,
      sqnr,
      // Edits per character of an empty text measure nothing either; per-pixel and per-step figures still do.
      figures: [agreement, sqnr, ...this.extra.map((f, i) => (this.task === 'sequence' && i === 0 ? blank(f.figure()) : f.figure())), this.meanError.figure(), maxError, ...worst.filter((f) => !f.unmeasured)],
    };
  }
}

/** One batch of one output with its dims (batch first). */
export interface ShapedOutput {
  readonly name: string;
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Compares every float output of two models batch by batch, each with the metrics of its task. */
export class TaskComparison {
  private readonly outputs = new Map<string, TaskAccumulator>();

  /** `tasks` overrides the choice: one task for all outputs ('*') or per output name. */
  constructor(private readonly tasks: Readonly<Record<string, Task>> = {}) {}

  add(base: readonly ShapedOutput[], cand: readonly ShapedOutput[], samples: number): void {
    base.forEach((b, i) => {
      let acc = this.outputs.get(b.name);
      if (!acc) {
        const choice = chooseTask(b.name, b.dims, samples, b.data, this.tasks[b.name] ?? this.tasks['*']);
        this.outputs.set(b.name, (acc = new TaskAccumulator(b.name, choice.task, choice.why, b.dims)));
      }
      const rowsAreSamples = b.dims[0] === samples;
      acc.add(b.data, cand[i].data, rowsAreSamples ? samples : 1, Math.max(1, b.dims.at(-1) ?? 1));
    });
  }

  result(): TaskOutput[] {
    return [...this.outputs.values()].map((a) => a.result());
  }
}
