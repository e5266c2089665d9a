/**
 * A test-only builder of ONNX models in memory, encoded with the core's encoder. For cases the
 * Python-built fixtures cannot express: hostile sizes, unknown fields, new data types.
 */
import { encodeMessage } from '../../src/core/protobuf/encode';
import { concatBytes } from '../../src/core/bytes';
import { ModelSchema } from '../../src/core/onnx/schema';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../../src/core/onnx/proto';

export function tensor(name: string, dataType: number, dims: number[], rawData?: Uint8Array, extra: Partial<TensorProto> = {}): TensorProto {
  return {
    dims, dataType, name, rawData,
    floatData: [], int32Data: [], stringData: [], int64Data: [], doubleData: [], uint64Data: [],
    externalData: [], metadataProps: [],
    ...extra,
  };
}

export function floatTensor(name: string, dims: number[], values: number[]): TensorProto {
  return tensor(name, 1, dims, new Uint8Array(Float32Array.from(values).buffer));
}

export function attribute(name: string, extra: Partial<AttributeProto>): AttributeProto {
  return { name, floats: [], ints: [], strings: [], tensors: [], graphs: [], typeProtos: [], sparseTensors: [], ...extra };
}

export function node(opType: string, input: string[], output: string[], name = '', attributes: AttributeProto[] = []): NodeProto {
  return { input, output, name, opType, attribute: attributes, metadataProps: [], deviceConfigurations: [] };
}

export function valueInfo(name: string, elemType = 1, dims: number[] = []): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    metadataProps: [],
  };
}

export function graph(nodes: NodeProto[], initializers: TensorProto[] = [], inputs: ValueInfoProto[] = [], outputs: ValueInfoProto[] = []): GraphProto {
  return {
    node: nodes, name: 'g', initializer: initializers, input: inputs, output: outputs,
    valueInfo: [], quantizationAnnotation: [], sparseInitializer: [], metadataProps: [],
  };
}

export function model(g: GraphProto, opset = 13, extra: Partial<ModelProto> = {}): ModelProto {
  return {
    irVersion: 8, producerName: 'test', graph: g,
    opsetImport: [{ domain: '', version: opset }],
    metadataProps: [], trainingInfo: [], functions: [], configuration: [],
    ...extra,
  };
}

export function encodeModel(m: ModelProto): Uint8Array {
  return concatBytes(encodeMessage(ModelSchema, m).finish());
}
