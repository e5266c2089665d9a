/**
 * Whether a model is a language model, read from its graph: token ids int64 [batch, seq] that
 * index an embedding of V rows, and the logits output (named so, else the first float output of
 * rank 3, as the evaluation reads it) [batch, seq, V]. Per-step scores over a vocabulary the
 * input indexes are next-token predictions, not CTC steps; a token classifier's [batch, seq,
 * labels] has fewer labels than its vocabulary, so it is not taken for one.
 */
import { graphValues, type GraphValue } from '../core/onnx/graphValues';
import type { ModelProto } from '../core/onnx/proto';
import { vocabularySizes } from './tokenRanges';

const FLOATS = new Set(['FLOAT', 'FLOAT16', 'BFLOAT16', 'DOUBLE']);
const shapeText = (v: GraphValue): string => `[${v.shape.join(', ')}]`;

/** Two dims that can be the same: equal, or either unknown. */
const sameDim = (a: number | string, b: number | string): boolean => a === b || a === '?' || b === '?' || typeof a !== typeof b;

/** Why the model is a language model (the sentence the report shows), or undefined when it is not one. */
export function languageModelReason(proto: ModelProto): string | undefined {
  const { inputs, outputs } = graphValues(proto);
  const logits = outputs.find((o) => o.name === 'logits') ?? outputs.find((o) => FLOATS.has(o.dataType) && o.shape.length === 3);
  if (!logits || !FLOATS.has(logits.dataType) || logits.shape.length !== 3) return undefined;
  const ids = inputs.find((i) => i.name === 'input_ids') ?? inputs.find((i) => i.dataType === 'INT64' && i.shape.length === 2);
  if (!ids || ids.dataType !== 'INT64' || ids.shape.length !== 2) return undefined;
  const vocab = vocabularySizes(proto)[ids.name];
  if (!vocab || logits.shape[2] !== vocab || !sameDim(ids.shape[0], logits.shape[0]) || !sameDim(ids.shape[1], logits.shape[1])) return undefined;
  return `${ids.name} int64 ${shapeText(ids)} indexes ${vocab} tokens and ${logits.name} is ${shapeText(logits)}: a language model, scored by perplexity and next-token agreement (--task TASK for per-output metrics instead)`;
}

/**
 * The task a model is scored by when the caller names none: 'lm', with the reason, for a language
 * model; nothing (per-output tasks) otherwise, or when a task or per-output tasks are given.
 */
export function chooseTask(proto: ModelProto, task?: 'lm', outputTasks?: unknown): { task?: 'lm'; why?: string } {
  if (task || outputTasks) return { task };
  const why = languageModelReason(proto);
  return why ? { task: 'lm', why } : {};
}
