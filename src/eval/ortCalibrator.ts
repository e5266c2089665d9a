/** A Calibrator that runs the model in the onnxruntime child process on prepared inputs. */
import type { Calibrator } from '../transforms/calibration';
import type { Feed } from './feed';
import { OrtProcess } from './ortProcess';

export function ortCalibrator(feeds: readonly Feed[], description: string, runner: OrtProcess, signal?: AbortSignal): Calibrator {
  return {
    description,
    async collect(modelFile, values, histograms) {
      const reply = await runner.run({ kind: 'stats', model: modelFile, feeds, outputs: values, histograms }, undefined, signal);
      return reply.stats;
    },
    async hessians(modelFile, values, convs, allocate) {
      const reply = await runner.run({ kind: 'hessian', model: modelFile, feeds, values, ...(convs ? { convs } : {}) }, undefined, signal, undefined, allocate);
      return { hessians: reply.hessians, rows: reply.rows };
    },
  };
}
