/**
 * What each command takes, said once: `--help` prints it, and an option a command does not know
 * is checked against it ("did you mean", or "belongs to eval").
 */
import { didYouMean } from '../core/didYouMean';

export interface OptionSpec {
  readonly name: string;
  /** The value it takes, e.g. FILE.md; absent for a flag. */
  readonly value?: string;
  readonly about: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly usage: string;
  readonly about: string;
  readonly options: readonly OptionSpec[];
}

const COMMON: readonly OptionSpec[] = [
  { name: '--json', about: 'print the result as JSON on stdout (progress, if any, stays on stderr)' },
  { name: '--debug', about: 'print the stack trace of an error' },
  { name: '--help', about: 'print this help' },
];

const DATA: readonly OptionSpec[] = [
  { name: '--data', value: 'DATA.npz|DIR', about: 'samples: a .npz with one array per input (and "labels"), or a folder of <input>.npy' },
  { name: '--labels', value: 'LABELS.npy', about: 'labels, when not in the data' },
  { name: '--images', value: 'ROOT', about: 'an image folder, ROOT/<class>/<image> (classes in sorted order)' },
  { name: '--input', value: 'NAME', about: 'the model input the images feed' },
  { name: '--resize', value: 'N|WxH', about: 'resize images: the shorter side to N, or exactly WxH (default 256)' },
  { name: '--crop', value: 'WxH', about: 'center-crop images (default 224x224)' },
  { name: '--no-crop', about: 'do not crop images' },
  { name: '--scale', value: 'S', about: 'multiply pixel values by S (default 1/255)' },
  { name: '--mean', value: 'R,G,B', about: "subtract a per-channel mean (default ImageNet's 0.485,0.456,0.406)" },
  { name: '--std', value: 'R,G,B', about: "divide by a per-channel deviation (default ImageNet's 0.229,0.224,0.225)" },
  { name: '--bgr', about: 'channels in BGR order' },
  { name: '--nhwc', about: 'NHWC layout instead of NCHW' },
  { name: '--samples', value: 'N', about: 'no data: this many seeded synthetic inputs (default 32)' },
  { name: '--shape', value: 'INPUT=DxD...', about: 'no data: the whole shape of an input whose dims are symbolic (repeatable)' },
  { name: '--dim', value: 'NAME=N', about: 'no data: the value of a named symbolic dim, e.g. sequence=512 (repeatable)' },
  { name: '--value', value: 'INPUT=V', about: 'no data: the value of an integer input, e.g. a sample rate sr=16000 (token ids come from the embedding table)' },
  { name: '--limit', value: 'N', about: 'use at most N samples' },
  { name: '--batch', value: 'N', about: 'batch size when the batch dim is symbolic (default 8)' },
  { name: '--threads', value: 'N', about: 'onnxruntime intra-op threads (default 1)' },
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'analyze',
    usage: 'onnx-compress analyze MODEL [options]',
    about: 'Per-layer table of where the weight bytes go, with what quantization, clustering and factorization would do.',
    options: [
      { name: '--report', value: 'FILE.md', about: 'also write the analysis as Markdown' },
      { name: '--no-redundancy', about: 'statistics only: skip the quantization/clustering/SVD estimates' },
      { name: '--bins', value: 'N', about: 'histogram bins (default 256)' },
      { name: '--epsilon', value: 'E', about: 'near-zero threshold: |w| <= E * max|w|, 0 < E < 1 (default 0.001)' },
      { name: '--dim', value: 'NAME=VALUE', about: 'a value for a symbolic dim, for MACs (repeatable)' },
      { name: '--shape', value: 'INPUT=DxD...', about: 'a whole input shape, for dims with no name (repeatable)' },
      { name: '--workers', value: 'N', about: 'worker threads (default: one per core, at most 4; 1 = this thread)' },
      ...COMMON,
    ],
  },
  {
    name: 'apply',
    usage: 'onnx-compress apply MODEL --recipe RECIPE.json (--output OUT.onnx | --in-place) [options]',
    about: 'Apply a recipe of transforms and write the compressed model. Exits 3, writing nothing, when no layer changed.',
    options: [
      { name: '--recipe', value: 'RECIPE.json', about: 'the steps to apply (see schemas/recipe.schema.json and recipes/)' },
      { name: '--output', value: 'OUT.onnx', about: 'where to write the result (-o for short)' },
      { name: '--in-place', about: 'replace MODEL (written beside it, then renamed over it)' },
      { name: '--external-data', value: 'auto|always|never', about: "store weights in a side file (default auto: those the input has there, the rest only past protobuf's 2 GB limit)" },
      ...COMMON,
    ],
  },
  {
    name: 'eval',
    usage: 'onnx-compress eval MODEL [--baseline BASE.onnx] [data options] [options]',
    about: 'Run MODEL (and BASE) in onnxruntime: accuracy, agreement, output error, latency. No data: synthetic inputs (fidelity, not accuracy).',
    options: [
      { name: '--baseline', value: 'BASE.onnx', about: 'the model to compare with, on the same batches' },
      ...DATA,
      { name: '--optimization', value: 'disabled|basic|extended|all', about: 'onnxruntime graph optimization level (default all)' },
      { name: '--provider', value: 'NAME', about: 'an execution provider to try before the CPU one, e.g. cuda (repeatable); if it cannot start, eval runs on the CPU and says so' },
      { name: '--task', value: '[OUTPUT=]TASK', about: 'the metrics an output gets instead of those its shape and values suggest: classification, segmentation, mask, dense, sequence, score, embedding; lm for a language model (perplexity of next-token predictions from input_ids, optional attention_mask and labels; the default when int64 ids [batch, seq] index an embedding of V rows and the logits are [batch, seq, V])' },
      { name: '--max-drop', value: '[OUTPUT=]Npt', about: 'budget: accuracy (with labels) or agreement with the baseline may fall by at most N points; FAIL exits 1' },
      { name: '--min-agreement', value: '[OUTPUT=]A', about: "budget: each output's agreement with the baseline (its task's figure) at least A, e.g. 0.99" },
      { name: '--min-sqnr', value: '[OUTPUT=]DB', about: "budget: each output's SQNR against the baseline at least DB, e.g. 30" },
      { name: '--timeout', value: 'SECONDS', about: 'stop the run after this long (default 3600)' },
      ...COMMON,
    ],
  },
  {
    name: 'sensitivity',
    usage: 'onnx-compress sensitivity MODEL --transform STEP.json [data options] [options]',
    about: 'Apply a step to one layer at a time, rank the layers by harm, and plan which to transform for a size target or, measured, an accuracy budget. Exits 3, writing no plan, when the plan takes no layer.',
    options: [
      { name: '--transform', value: 'JSON|STEP.json', about: 'a recipe step, e.g. \'{"transform": "quantize", "dtype": "int4"}\', or a file of one (a step, or a recipe of one step)' },
      ...DATA,
      { name: '--target-bytes', value: 'N', about: 'plan for weights of at most N bytes (or --target-ratio)' },
      { name: '--target-ratio', value: 'R', about: 'plan for weights of at most R times their size now, 0 < R < 1 (or --target-bytes)' },
      { name: '--task', value: '[OUTPUT=]TASK', about: 'lm: rank layers by the perplexity each adds (input_ids [samples, seq] data, logits output; the default when the graph is a language model); another task: the metrics an output is judged by, as in eval' },
      { name: '--plan', value: 'PLAN.json', about: 'write the plan as a recipe (then: apply MODEL --recipe PLAN.json)' },
      { name: '--max-drop', value: '[OUTPUT=]Npt', about: 'plan to a budget: the most ranked layers whose combined model, measured, loses at most N points (accuracy or agreement)' },
      { name: '--min-agreement', value: '[OUTPUT=]A', about: "plan to a budget: each output's measured agreement with the original at least A" },
      { name: '--min-sqnr', value: '[OUTPUT=]DB', about: "plan to a budget: each output's measured SQNR at least DB" },
      ...COMMON,
    ],
  },
  {
    name: 'report',
    usage: 'onnx-compress report MODEL --baseline BASE.onnx [--format md|html|json] [--output FILE]',
    about: "The editor's Compression Report, headless: sizes before and after, and each layer's weight error against BASE (a model from any tool).",
    options: [
      { name: '--baseline', value: 'BASE.onnx', about: 'the model MODEL is compared with (layers matched by name)' },
      { name: '--format', value: 'md|html|json', about: "default: from --output's extension, else md" },
      { name: '--output', value: 'FILE', about: 'write the report here (-o for short; default: stdout)' },
      { name: '--debug', about: 'print the stack trace of an error' },
      { name: '--help', about: 'print this help' },
    ],
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function commandHelp(c: CommandSpec): string {
  const width = Math.max(...c.options.map((o) => label(o).length));
  return [`usage: ${c.usage}`, '', c.about, '', 'options:', ...c.options.map((o) => `  ${label(o).padEnd(width)}  ${o.about}`)].join('\n');
}

function label(o: OptionSpec): string {
  return o.value ? `${o.name} ${o.value}` : o.name;
}

export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: onnx-compress COMMAND MODEL [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.about}`),
    '',
    "'onnx-compress COMMAND --help' lists a command's options; '--version' prints the version.",
    'exit codes: 0 done; 1 eval missed a budget (FAIL); 2 bad input or usage; 3 apply changed no layer or sensitivity planned none (nothing written, reasons in the output or in --json)',
  ].join('\n');
}

/** Why `option` is not one of `command`'s: another command's option, or a typo of one of its own, or unknown. */
export function unknownOption(option: string, command: string): string {
  const own = commandSpec(command)?.options.map((o) => o.name) ?? [];
  const elsewhere = COMMANDS.filter((c) => c.name !== command && c.options.some((o) => o.name === option)).map((c) => c.name);
  if (elsewhere.length) return `${option} is an option of ${elsewhere.join(' and ')}, not of ${command}`;
  return `unknown option ${option} for ${command}${didYouMean(option, own)}`;
}

export function unknownCommand(command: string): string {
  return `unknown command '${command}'${didYouMean(command, COMMANDS.map((c) => c.name))}`;
}
