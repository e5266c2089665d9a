/**
 * The name recipes, selections, the editor's table and reports use for a layer: its name, prefixed
 * by its graph's path for layers inside subgraphs. One rule, so a name the table shows is one a
 * recipe step matches. Pure and browser-safe.
 */
export const qualifiedLayerName = (l: { readonly graph: string; readonly name: string }): string => (l.graph === 'main' ? l.name : `${l.graph}/${l.name}`);
