// Lint rules. The one that matters most: the pure core never imports `vscode`,
// so tests, the CLI and workers can load it in plain Node.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The integration suite runs inside VS Code's extension host, so it may use the API too.
const hostLayer = ['src/extension.ts', 'src/host/**/*.ts', 'test/integration/**/*.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'out/**', '.tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Only the host layer (src/extension.ts, src/host/) may import vscode; keep the core pure.' }],
      }],
    },
  },
  { files: hostLayer, rules: { 'no-restricted-imports': 'off' } },
  // src/shared/ is read by both sides of the webview line: the browser bundles and the host.
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: 'src/shared/ runs in the webview too: no vscode.' },
          ...['fs', 'path', 'os', 'crypto', 'zlib', 'child_process', 'worker_threads'].map((name) => ({ name, message: 'src/shared/ runs in the webview too: no Node built-ins.' })),
        ],
        patterns: [
          { group: ['node:*'], message: 'src/shared/ runs in the webview too: no Node built-ins.' },
          { group: ['**/host', '**/host/**'], message: 'src/shared/ must not reach into the host layer.' },
        ],
      }],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs', '.vscode-test.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly' } },
  },
);
