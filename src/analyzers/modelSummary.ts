/**
 * The per-layer size report behind `onnx-compress analyze` (and, later, the editor's table).
 * Field names are a published contract: later work adds fields, never renames these.
 */
import * as path from 'node:path';
import { dataTypeName } from '../core/onnx/dataTypes';
import type { OnnxModel } from '../core/onnx/model';
import type { StoredTensor } from '../core/onnx/modelIndex';
import { attributeLayers, type LayerAttribution } from './layers';
import { storedAs, type StoredAs } from './storedAs';

export interface WeightSummary {
  name: string;
  dataType: string;
  shape: number[];
  elements: number;
  bytes: number;
  /** Where the tensor is stored: initializer, sparse-initializer, constant, attribute. */
  origin: string;
  /** 'inline' or 'external:<location>'. */
  storage: string;
}

export interface LayerSummary {
  name: string;
  opType: string;
  domain: string;
  /** Graph path: `main`, or the subgraph / function the node lives in. */
  graph: string;
  params: number;
  bytes: number;
  weights: WeightSummary[];
  /** How the main weight is stored: FP32, FP16, INT8 per-channel, INT4 block 32, 16 clusters... */
  storedAs: StoredAs;
}

export interface ModelSummary {
  model: {
    file: string;
    fileBytes: number;
    irVersion: number | null;
    opsets: Record<string, number>;
    producer: string;
    nodeCount: number;
    graphCount: number;
    parameterCount: number;
    weightBytes: number;
    externalDataBytes: number;
  };
  layers: LayerSummary[];
  unattributed: WeightSummary[];
  /** Parameters and bytes by the op type of the layer holding them ('(unattributed)' for the rest), and by data type. */
  breakdown: { byOpType: Record<string, Totals>; byDataType: Record<string, Totals> };
}

export interface Totals {
  params: number;
  bytes: number;
  tensors: number;
}

function weightSummary(t: StoredTensor): WeightSummary {
  return {
    name: t.name,
    dataType: dataTypeName(t.dataType),
    shape: [...t.dims],
    elements: t.elements,
    bytes: t.bytes,
    origin: t.origin,
    storage: t.storage.kind === 'external' ? `external:${t.storage.external.location}` : 'inline',
  };
}

export function summarizeModel(model: OnnxModel, attribution: LayerAttribution = attributeLayers(model.index)): ModelSummary {
  const { proto, index } = model;
  const { layers, unattributed } = attribution;
  const opsets: Record<string, number> = {};
  for (const o of proto.opsetImport) opsets[o.domain || 'ai.onnx'] = Number(o.version ?? 0);
  let parameterCount = 0;
  let weightBytes = 0;
  let externalDataBytes = 0;
  for (const t of index.tensors) {
    parameterCount += t.elements;
    weightBytes += t.bytes;
    if (t.storage.kind === 'external') externalDataBytes += t.bytes;
  }
  const byOpType: Record<string, Totals> = {};
  const byDataType: Record<string, Totals> = {};
  const add = (table: Record<string, Totals>, key: string, t: StoredTensor): void => {
    const row = (table[key] ??= { params: 0, bytes: 0, tensors: 0 });
    row.params += t.elements;
    row.bytes += t.bytes;
    row.tensors++;
  };
  for (const l of layers) for (const t of l.weights) add(byOpType, l.node.node.opType ?? '', t);
  for (const t of unattributed) add(byOpType, '(unattributed)', t);
  for (const t of index.tensors) add(byDataType, dataTypeName(t.dataType), t);
  return {
    breakdown: { byOpType, byDataType },
    model: {
      file: model.file ? path.basename(model.file) : '',
      fileBytes: model.bytes.length,
      irVersion: proto.irVersion === undefined ? null : Number(proto.irVersion),
      opsets,
      producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
      nodeCount: index.nodes.length,
      graphCount: index.graphs.length,
      parameterCount,
      weightBytes,
      externalDataBytes,
    },
    layers: layers.map((l) => ({
      name: l.node.label,
      opType: l.node.node.opType ?? '',
      domain: l.node.node.domain || 'ai.onnx',
      graph: l.node.graph.path,
      params: l.params,
      bytes: l.bytes,
      weights: l.weights.map(weightSummary),
      storedAs: storedAs(l),
    })),
    unattributed: unattributed.map(weightSummary),
  };
}
