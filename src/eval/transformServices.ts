/**
 * The services transforms ask of their caller (today: calibration for static quantization, by
 * onnxruntime in a child process), wired the same way by the CLI and the editor: a step's own
 * `calibration.data` first, else the caller's default data, else seeded random inputs.
 */
import * as path from 'node:path';
import type { CalibrationSettings } from '../transforms/recipe';
import type { TransformServices } from '../transforms/transform';
import type { DatasetSpec } from './dataset';
import { loadCalibrationFeeds } from './calibrationData';
import { ortCalibrator } from './ortCalibrator';
import type { OrtProcess } from './ortProcess';

export interface CalibrationDefaults {
  /** The folder a step's relative `calibration.data` is resolved from (the CLI: the recipe's). */
  readonly relativeTo: string;
  /** Data to calibrate on when a step names none (the editor: the accuracy checks' dataset). */
  readonly data?: string;
  /** Input shapes for random inputs when a step gives none. */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
}

/** Where a step's calibration inputs come from: its data, else the default data, else random inputs of these shapes. */
export function calibrationSource(settings: CalibrationSettings, defaults: CalibrationDefaults): { data?: string; shapes?: Readonly<Record<string, readonly number[]>> } {
  if (settings.data) return { data: path.resolve(defaults.relativeTo, settings.data), shapes: settings.shapes };
  if (defaults.data) return { data: defaults.data, shapes: settings.shapes };
  return { shapes: settings.shapes ?? defaults.shapes };
}

/** Calibration defaults from an accuracy check's dataset: NumPy data is used as is, synthetic data gives its shapes; images are not calibration data. */
export function calibrationFromDataset(relativeTo: string, dataset: DatasetSpec | undefined): CalibrationDefaults {
  if (dataset?.kind === 'numpy') return { relativeTo, data: dataset.path };
  if (dataset?.kind === 'synthetic') return { relativeTo, shapes: dataset.shapes };
  return { relativeTo };
}

/** Transform services backed by an onnxruntime process; `defaults` is read for each step. */
export function ortTransformServices(runner: OrtProcess, defaults: () => CalibrationDefaults): TransformServices {
  return {
    calibrator: (proto, settings) => {
      const { data, shapes } = calibrationSource(settings, defaults());
      const { feeds, description } = loadCalibrationFeeds(proto, data, settings.samples, shapes);
      return ortCalibrator(feeds, description, runner);
    },
  };
}
