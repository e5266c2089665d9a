/** A row of the layer table: the layer's summary (at once) and its analysis (when the workers get to it). */
import type { TableLayer } from '../../shared/tableLayer';
import type { LayerSummary } from '../../analyzers/modelSummary';

export type Row = LayerSummary & {
  /** Position in the summary's layers (the host's and the workers' index of the layer). */
  readonly index: number;
  /** Graph-qualified name (the key selections and edits use). */
  readonly name: string;
  /** Set when its analysis comes in (rows are updated in place as layers stream in). */
  analyzed?: TableLayer;
};

/** The key of a layer across versions of the model: its graph and name. */
export const layerKey = (l: { graph: string; name: string }): string => `${l.graph}\u0000${l.name}`;
