// Runs the integration suite inside a real VS Code extension host: code-server's workbench,
// opened by headless Chromium with the test payload; the workbench reports the suite's exit
// code through codeAutomationExit. See ../shared/VSCODE-TESTING.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CODE_SERVER, NODE24, NODE24_DIR, ensureTools } from './vscode-tools.mjs';

const root = resolve('.');
const suite = join(root, 'dist/test/integration/index.js');
if (!existsSync(suite)) throw new Error('build first: dist/test/integration/index.js is missing');
ensureTools();

const port = await new Promise((done) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => done(p));
  });
});
const tmp = mkdtempSync(join(tmpdir(), 'onnx-compress-vscode-'));
const results = join(tmp, 'results.json');
// A quiet, predictable workbench: nothing saved behind the tests' back.
mkdirSync(join(tmp, 'user/User'), { recursive: true });
writeFileSync(
  join(tmp, 'user/User/settings.json'),
  JSON.stringify({ 'files.autoSave': 'off', 'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true, 'telemetry.telemetryLevel': 'off', 'security.workspace.trust.enabled': false }),
);
const workspace = mkdtempSync(join(tmpdir(), 'onnx-compress-workspace-'));
const server = spawn(
  NODE24,
  [CODE_SERVER, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--ignore-last-opened', '--user-data-dir', join(tmp, 'user'), '--extensions-dir', join(tmp, 'extensions'), '--vscode-option', 'enable-smoke-test-driver', workspace],
  {
    env: { ...process.env, PATH: `${join(NODE24_DIR, 'bin')}:${process.env.PATH}`, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data'), XDG_CACHE_HOME: join(tmp, 'cache'), ONNX_COMPRESS_TEST_RESULTS: results, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let serverLog = '';
server.stdout.on('data', (d) => (serverLog += d));
server.stderr.on('data', (d) => (serverLog += d));

let browser;
let code = 1;
try {
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error(`code-server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  let exited;
  const exit = new Promise((done) => (exited = done));
  await page.exposeFunction('codeAutomationExit', (c) => exited(c));
  await page.exposeFunction('codeAutomationLog', (type, args) => console.log(`[vscode ${type}]`, ...(Array.isArray(args) ? args : [args])));
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [['extensionDevelopmentPath', remote(root)], ['extensionTestsPath', remote(suite)]];
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const timeout = new Promise((_, fail) => setTimeout(() => fail(new Error('the integration suite did not finish within 10 minutes')), 600_000));
  code = await Promise.race([exit, timeout]);
} catch (e) {
  console.error(String(e?.stack ?? e));
  code = 1;
} finally {
  await browser?.close();
  server.kill();
  if (existsSync(results)) {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    for (const t of r.results) console.log(`${t.state === 'passed' ? '✔' : '✖'} ${t.title}${t.error ? `\n${t.error}` : ''}`);
    console.log(`integration tests in VS Code (code-server): ${r.results.filter((t) => t.state === 'passed').length} passed, ${r.failures} failed`);
  } else {
    console.log(`no results were written; code-server said:\n${serverLog.slice(-4000)}`);
    if (code === 0) code = 1;
  }
  rmSync(tmp, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
}
process.exit(code);
