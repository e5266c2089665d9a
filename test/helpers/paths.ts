/** Where the tests find their inputs (paths relative to the repository root, the tests' cwd). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = process.cwd();
export const fixtureModels = path.join(repoRoot, 'test/fixtures/models');
export const thirdPartyModels = path.join(repoRoot, '.cache/models');

export function tempDir(prefix = 'onnx-compress-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Reference {
  file: string;
  fileBytes: number;
  irVersion: number;
  opsets: Record<string, number>;
  producer: string;
  graphCount: number;
  nodeCount: number;
  storedTensorCount: number;
  parameterCount: number;
  values?: Record<string, number[]>;
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

