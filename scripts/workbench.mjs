// A real VS Code workbench for UI tests and the editor benchmark: code-server with the extension
// installed from the VSIX we ship (`vsce package --target linux-x64`), driven by Debian's headless
// Chromium through Playwright. Everything lives in temporary folders removed by close().
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CODE_SERVER, NODE24, NODE24_DIR, ensureTools } from './vscode-tools.mjs';
import { packageVsix } from './package.mjs';


async function freePort() {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => done(p));
    });
  });
}

/**
 * Starts code-server on a workspace holding `files` ({ name in the workspace: source path }) and
 * opens it in Chromium. Returns the page, locators of the editor's and the report's webviews, the
 * tab of a file, and close().
 */
export async function launchWorkbench(files, { viewport = { width: 1500, height: 950 } } = {}) {
  ensureTools();
  const port = await freePort();
  const tmp = mkdtempSync(join(tmpdir(), 'onnx-compress-ui-'));
  const workspace = mkdtempSync(join(tmpdir(), 'onnx-compress-ui-ws-'));
  for (const [name, source] of Object.entries(files)) {
    mkdirSync(dirname(join(workspace, name)), { recursive: true });
    copyFileSync(source, join(workspace, name));
  }
  mkdirSync(join(tmp, 'user/User'), { recursive: true });
  writeFileSync(join(tmp, 'user/User/settings.json'), JSON.stringify({ 'files.autoSave': 'off', 'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true, 'telemetry.telemetryLevel': 'off', 'workbench.secondarySideBar.defaultVisibility': 'hidden' }));
  // What we ship is what we test: package the VSIX and install it into a fresh extensions folder.
  const vsix = packageVsix({ quiet: true });
  const env = { ...process.env, PATH: `${join(NODE24_DIR, 'bin')}:${process.env.PATH}`, XDG_CONFIG_HOME: join(tmp, 'c'), XDG_DATA_HOME: join(tmp, 'd'), XDG_CACHE_HOME: join(tmp, 'h') };
  execFileSync(NODE24, [CODE_SERVER, '--user-data-dir', join(tmp, 'user'), '--extensions-dir', join(tmp, 'extensions'), '--install-extension', vsix], { env, stdio: 'ignore' });
  const server = spawn(
    NODE24,
    [CODE_SERVER, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--ignore-last-opened',
      '--user-data-dir', join(tmp, 'user'), '--extensions-dir', join(tmp, 'extensions'), workspace],
    { env, stdio: 'ignore' },
  );
  let browser;
  const close = async () => {
    await browser?.close();
    server.kill();
    rmSync(tmp, { recursive: true, force: true });
    rmSync(workspace, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (i > 300) throw new Error('code-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const page = await browser.newPage({ viewport });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(3000);
    // Webviews are iframes at the workbench level, in the order they were made: the editor's comes
    // first, the report opens beside it later (nothing in the iframe's attributes tells them apart).
    const editor = page.frameLocator('iframe.webview.ready >> nth=0').frameLocator('iframe#active-frame');
    const report = page.frameLocator('iframe.webview.ready >> nth=1').frameLocator('iframe#active-frame');
    // With the report open there are two editor groups, each with an active tab: name the model's.
    const tab = (name) => page.locator('.tab').filter({ hasText: name });
    return { page, editor, report, tab, close, serverPid: server.pid };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Opens a workspace file with Quick Open; the returned time is when the file was chosen. */
export async function quickOpen(page, name) {
  await page.keyboard.press('Control+P');
  await page.keyboard.type(name);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: name }).first();
  await row.waitFor({ timeout: 30_000 });
  const chosen = performance.now();
  await page.keyboard.press('Enter');
  return chosen;
}
