// Writes schemas/recipe.schema.json from the step specification (src/transforms/recipeSchema.ts).
// test/unit/shared/stepSpec.unit.test.ts fails when the committed file and the specification differ.
import * as esbuild from 'esbuild';
import { writeFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';

const { outputFiles } = await esbuild.build({ entryPoints: ['src/transforms/recipeSchema.ts'], bundle: true, format: 'esm', platform: 'neutral', write: false });
const { recipeSchema } = await import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`);
writeFileSync('schemas/recipe.schema.json', `${JSON.stringify(recipeSchema(), null, 2)}\n`);
console.log('wrote schemas/recipe.schema.json');
