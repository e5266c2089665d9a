/**
 * The ONNX protobuf schema (onnx 1.23, IR 14 and everything before it), written as a table for
 * our wire-level decoder and encoder. Field numbers and wire types are the public ONNX format.
 *
 * Bulk tensor data (float_data, int32_data, int64_data, double_data, uint64_data) is declared as
 * `payload`: kept as byte runs until somebody asks for the values.
 */
import type { MessageSchema } from '../protobuf/schema';

const named = (p: Record<string, unknown>): string | undefined =>
  typeof p.name === 'string' && p.name !== '' ? `'${p.name}'` : undefined;

export const StringStringEntrySchema: MessageSchema = {
  name: 'StringStringEntryProto',
  fields: [
    { no: 1, name: 'key', kind: 'string' },
    { no: 2, name: 'value', kind: 'string' },
  ],
};

export const OperatorSetIdSchema: MessageSchema = {
  name: 'OperatorSetIdProto',
  fields: [
    { no: 1, name: 'domain', kind: 'string' },
    { no: 2, name: 'version', kind: 'int64' },
  ],
};

const SegmentSchema: MessageSchema = {
  name: 'TensorProto.Segment',
  fields: [
    { no: 1, name: 'begin', kind: 'int64' },
    { no: 2, name: 'end', kind: 'int64' },
  ],
};

export const TensorSchema: MessageSchema = {
  name: 'TensorProto',
  label: named,
  fields: [
    { no: 1, name: 'dims', kind: 'int64', repeated: true },
    { no: 2, name: 'dataType', kind: 'int32' },
    { no: 3, name: 'segment', kind: 'message', message: () => SegmentSchema },
    { no: 4, name: 'floatData', kind: 'payload', encoding: 'fixed32' },
    { no: 5, name: 'int32Data', kind: 'payload', encoding: 'varint' },
    { no: 6, name: 'stringData', kind: 'bytes', repeated: true },
    { no: 7, name: 'int64Data', kind: 'payload', encoding: 'varint' },
    { no: 8, name: 'name', kind: 'string' },
    { no: 9, name: 'rawData', kind: 'bytes' },
    { no: 10, name: 'doubleData', kind: 'payload', encoding: 'fixed64' },
    { no: 11, name: 'uint64Data', kind: 'payload', encoding: 'varint' },
    { no: 12, name: 'docString', kind: 'string' },
    { no: 13, name: 'externalData', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
    { no: 14, name: 'dataLocation', kind: 'int32' },
    { no: 16, name: 'metadataProps', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
  ],
};

export const SparseTensorSchema: MessageSchema = {
  name: 'SparseTensorProto',
  fields: [
    { no: 1, name: 'values', kind: 'message', message: () => TensorSchema },
    { no: 2, name: 'indices', kind: 'message', message: () => TensorSchema },
    { no: 3, name: 'dims', kind: 'int64', repeated: true },
  ],
};

const DimensionSchema: MessageSchema = {
  name: 'TensorShapeProto.Dimension',
  fields: [
    { no: 1, name: 'dimValue', kind: 'int64' },
    { no: 2, name: 'dimParam', kind: 'string' },
    { no: 3, name: 'denotation', kind: 'string' },
  ],
};

export const TensorShapeSchema: MessageSchema = {
  name: 'TensorShapeProto',
  fields: [{ no: 1, name: 'dim', kind: 'message', repeated: true, message: () => DimensionSchema }],
};

const TypeTensorSchema: MessageSchema = {
  name: 'TypeProto.Tensor',
  fields: [
    { no: 1, name: 'elemType', kind: 'int32' },
    { no: 2, name: 'shape', kind: 'message', message: () => TensorShapeSchema },
  ],
};

const TypeElemSchema = (name: string): MessageSchema => ({
  name,
  fields: [{ no: 1, name: 'elemType', kind: 'message', message: () => TypeSchema }],
});
const TypeSequenceSchema = TypeElemSchema('TypeProto.Sequence');
const TypeOptionalSchema = TypeElemSchema('TypeProto.Optional');

const TypeMapSchema: MessageSchema = {
  name: 'TypeProto.Map',
  fields: [
    { no: 1, name: 'keyType', kind: 'int32' },
    { no: 2, name: 'valueType', kind: 'message', message: () => TypeSchema },
  ],
};

const TypeOpaqueSchema: MessageSchema = {
  name: 'TypeProto.Opaque',
  fields: [
    { no: 1, name: 'domain', kind: 'string' },
    { no: 2, name: 'name', kind: 'string' },
  ],
};

export const TypeSchema: MessageSchema = {
  name: 'TypeProto',
  fields: [
    { no: 1, name: 'tensorType', kind: 'message', message: () => TypeTensorSchema },
    { no: 4, name: 'sequenceType', kind: 'message', message: () => TypeSequenceSchema },
    { no: 5, name: 'mapType', kind: 'message', message: () => TypeMapSchema },
    { no: 6, name: 'denotation', kind: 'string' },
    { no: 7, name: 'opaqueType', kind: 'message', message: () => TypeOpaqueSchema },
    { no: 8, name: 'sparseTensorType', kind: 'message', message: () => TypeTensorSchema },
    { no: 9, name: 'optionalType', kind: 'message', message: () => TypeOptionalSchema },
  ],
};

export const ValueInfoSchema: MessageSchema = {
  name: 'ValueInfoProto',
  label: named,
  fields: [
    { no: 1, name: 'name', kind: 'string' },
    { no: 2, name: 'type', kind: 'message', message: () => TypeSchema },
    { no: 3, name: 'docString', kind: 'string' },
    { no: 4, name: 'metadataProps', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
  ],
};

export const AttributeSchema: MessageSchema = {
  name: 'AttributeProto',
  label: named,
  fields: [
    { no: 1, name: 'name', kind: 'string' },
    { no: 2, name: 'f', kind: 'float' },
    { no: 3, name: 'i', kind: 'int64' },
    { no: 4, name: 's', kind: 'bytes' },
    { no: 5, name: 't', kind: 'message', message: () => TensorSchema },
    { no: 6, name: 'g', kind: 'message', message: () => GraphSchema },
    { no: 7, name: 'floats', kind: 'float', repeated: true },
    { no: 8, name: 'ints', kind: 'int64', repeated: true },
    { no: 9, name: 'strings', kind: 'bytes', repeated: true },
    { no: 10, name: 'tensors', kind: 'message', repeated: true, message: () => TensorSchema },
    { no: 11, name: 'graphs', kind: 'message', repeated: true, message: () => GraphSchema },
    { no: 13, name: 'docString', kind: 'string' },
    { no: 14, name: 'tp', kind: 'message', message: () => TypeSchema },
    { no: 15, name: 'typeProtos', kind: 'message', repeated: true, message: () => TypeSchema },
    { no: 20, name: 'type', kind: 'int32' },
    { no: 21, name: 'refAttrName', kind: 'string' },
    { no: 22, name: 'sparseTensor', kind: 'message', message: () => SparseTensorSchema },
    { no: 23, name: 'sparseTensors', kind: 'message', repeated: true, message: () => SparseTensorSchema },
  ],
};

const IntIntListEntrySchema: MessageSchema = {
  name: 'IntIntListEntryProto',
  fields: [
    { no: 1, name: 'key', kind: 'int64' },
    { no: 2, name: 'value', kind: 'int64', repeated: true },
  ],
};

const SimpleShardedDimSchema: MessageSchema = {
  name: 'SimpleShardedDimProto',
  fields: [
    { no: 1, name: 'dimValue', kind: 'int64' },
    { no: 2, name: 'dimParam', kind: 'string' },
    { no: 3, name: 'numShards', kind: 'int64' },
  ],
};

const ShardedDimSchema: MessageSchema = {
  name: 'ShardedDimProto',
  fields: [
    { no: 1, name: 'axis', kind: 'int64' },
    { no: 2, name: 'simpleSharding', kind: 'message', repeated: true, message: () => SimpleShardedDimSchema },
  ],
};

const ShardingSpecSchema: MessageSchema = {
  name: 'ShardingSpecProto',
  fields: [
    { no: 1, name: 'tensorName', kind: 'string' },
    { no: 2, name: 'device', kind: 'int64', repeated: true },
    { no: 3, name: 'indexToDeviceGroupMap', kind: 'message', repeated: true, message: () => IntIntListEntrySchema },
    { no: 4, name: 'shardedDim', kind: 'message', repeated: true, message: () => ShardedDimSchema },
  ],
};

const NodeDeviceConfigurationSchema: MessageSchema = {
  name: 'NodeDeviceConfigurationProto',
  fields: [
    { no: 1, name: 'configurationId', kind: 'string' },
    { no: 2, name: 'shardingSpec', kind: 'message', repeated: true, message: () => ShardingSpecSchema },
    { no: 3, name: 'pipelineStage', kind: 'int32' },
  ],
};

export const NodeSchema: MessageSchema = {
  name: 'NodeProto',
  label: (p) => named(p) ?? (typeof p.opType === 'string' ? `(${p.opType})` : undefined),
  fields: [
    { no: 1, name: 'input', kind: 'string', repeated: true },
    { no: 2, name: 'output', kind: 'string', repeated: true },
    { no: 3, name: 'name', kind: 'string' },
    { no: 4, name: 'opType', kind: 'string' },
    { no: 5, name: 'attribute', kind: 'message', repeated: true, message: () => AttributeSchema },
    { no: 6, name: 'docString', kind: 'string' },
    { no: 7, name: 'domain', kind: 'string' },
    { no: 8, name: 'overload', kind: 'string' },
    { no: 9, name: 'metadataProps', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
    { no: 10, name: 'deviceConfigurations', kind: 'message', repeated: true, message: () => NodeDeviceConfigurationSchema },
  ],
};

const TensorAnnotationSchema: MessageSchema = {
  name: 'TensorAnnotation',
  fields: [
    { no: 1, name: 'tensorName', kind: 'string' },
    { no: 2, name: 'quantParameterTensorNames', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
  ],
};

export const GraphSchema: MessageSchema = {
  name: 'GraphProto',
  label: named,
  fields: [
    { no: 1, name: 'node', kind: 'message', repeated: true, message: () => NodeSchema },
    { no: 2, name: 'name', kind: 'string' },
    { no: 5, name: 'initializer', kind: 'message', repeated: true, message: () => TensorSchema },
    { no: 10, name: 'docString', kind: 'string' },
    { no: 11, name: 'input', kind: 'message', repeated: true, message: () => ValueInfoSchema },
    { no: 12, name: 'output', kind: 'message', repeated: true, message: () => ValueInfoSchema },
    { no: 13, name: 'valueInfo', kind: 'message', repeated: true, message: () => ValueInfoSchema },
    { no: 14, name: 'quantizationAnnotation', kind: 'message', repeated: true, message: () => TensorAnnotationSchema },
    { no: 15, name: 'sparseInitializer', kind: 'message', repeated: true, message: () => SparseTensorSchema },
    { no: 16, name: 'metadataProps', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
  ],
};

const TrainingInfoSchema: MessageSchema = {
  name: 'TrainingInfoProto',
  fields: [
    { no: 1, name: 'initialization', kind: 'message', message: () => GraphSchema },
    { no: 2, name: 'algorithm', kind: 'message', message: () => GraphSchema },
    { no: 3, name: 'initializationBinding', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
    { no: 4, name: 'updateBinding', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
  ],
};

export const FunctionSchema: MessageSchema = {
  name: 'FunctionProto',
  label: named,
  fields: [
    { no: 1, name: 'name', kind: 'string' },
    { no: 4, name: 'input', kind: 'string', repeated: true },
    { no: 5, name: 'output', kind: 'string', repeated: true },
    { no: 6, name: 'attribute', kind: 'string', repeated: true },
    { no: 7, name: 'node', kind: 'message', repeated: true, message: () => NodeSchema },
    { no: 8, name: 'docString', kind: 'string' },
    { no: 9, name: 'opsetImport', kind: 'message', repeated: true, message: () => OperatorSetIdSchema },
    { no: 10, name: 'domain', kind: 'string' },
    { no: 11, name: 'attributeProto', kind: 'message', repeated: true, message: () => AttributeSchema },
    { no: 12, name: 'valueInfo', kind: 'message', repeated: true, message: () => ValueInfoSchema },
    { no: 13, name: 'overload', kind: 'string' },
    { no: 14, name: 'metadataProps', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
  ],
};

const DeviceConfigurationSchema: MessageSchema = {
  name: 'DeviceConfigurationProto',
  fields: [
    { no: 1, name: 'name', kind: 'string' },
    { no: 2, name: 'numDevices', kind: 'int32' },
    { no: 3, name: 'device', kind: 'string', repeated: true },
  ],
};

export const ModelSchema: MessageSchema = {
  name: 'ModelProto',
  fields: [
    { no: 1, name: 'irVersion', kind: 'int64' },
    { no: 2, name: 'producerName', kind: 'string' },
    { no: 3, name: 'producerVersion', kind: 'string' },
    { no: 4, name: 'domain', kind: 'string' },
    { no: 5, name: 'modelVersion', kind: 'int64' },
    { no: 6, name: 'docString', kind: 'string' },
    { no: 7, name: 'graph', kind: 'message', message: () => GraphSchema },
    { no: 8, name: 'opsetImport', kind: 'message', repeated: true, message: () => OperatorSetIdSchema },
    { no: 14, name: 'metadataProps', kind: 'message', repeated: true, message: () => StringStringEntrySchema },
    { no: 20, name: 'trainingInfo', kind: 'message', repeated: true, message: () => TrainingInfoSchema },
    { no: 25, name: 'functions', kind: 'message', repeated: true, message: () => FunctionSchema },
    { no: 26, name: 'configuration', kind: 'message', repeated: true, message: () => DeviceConfigurationSchema },
  ],
};
