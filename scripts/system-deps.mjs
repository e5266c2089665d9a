// The Debian packages the tests in real VS Code need: `chromium` (the headless browser that drives
// the workbench) and `libkrb5-dev` (code-server's native kerberos module builds against it).
// `npm test` runs this first: when a package is missing and we are root with apt-get, it installs
// them (one line says so); otherwise it stops with one line naming the packages and the command.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Each package, and the file whose presence says it is installed. */
export const SYSTEM_PACKAGES = [
  { name: 'chromium', file: '/usr/bin/chromium' },
  { name: 'libkrb5-dev', file: '/usr/include/krb5.h' },
];

const installArgs = (packages) => ['install', '-y', '-qq', '--no-install-recommends', ...packages];

/**
 * What to do about the system packages, decided from what is present (pure: no probing, no I/O).
 * Returns { action: 'none' }, { action: 'install', packages, message } or { action: 'error', message }.
 */
export function planSystemDeps({ missing, isRoot, hasAptGet }) {
  if (missing.length === 0) return { action: 'none' };
  const list = missing.join(' ');
  if (isRoot && hasAptGet) {
    return { action: 'install', packages: missing, message: `installing the Debian packages the tests in VS Code need: ${list} (apt-get)…` };
  }
  const how = hasAptGet
    ? `run \`sudo apt-get install -y --no-install-recommends ${list}\` (or run npm test as root, which installs them)`
    : `install them with this system's package manager`;
  return { action: 'error', message: `error: the tests in VS Code need the Debian packages ${list}, missing here: ${how}; npm run test:unit runs the unit tests alone` };
}

function onPath(program) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, program)));
}

/** What is installed here, as planSystemDeps takes it. */
export function probeSystem() {
  return {
    missing: SYSTEM_PACKAGES.filter((p) => !existsSync(p.file)).map((p) => p.name),
    isRoot: process.getuid?.() === 0,
    hasAptGet: onPath('apt-get'),
  };
}

/** Makes sure the packages are there, installing them when it may; exits with one line when it cannot. */
export function ensureSystemDeps(state = probeSystem()) {
  const plan = planSystemDeps(state);
  if (plan.action === 'none') return;
  if (plan.action === 'error') {
    console.error(plan.message);
    process.exit(1);
  }
  console.log(plan.message);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    // A failed update (an unreachable mirror) may still leave a usable package list.
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    // go on: install says what is wrong if it cannot proceed
  }
  try {
    execFileSync('apt-get', installArgs(plan.packages), { env, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    console.error(`error: apt-get could not install ${plan.packages.join(' ')} (exit ${e.status ?? e.code}); see its message above`);
    process.exit(1);
  }
  const still = probeSystem().missing;
  if (still.length) {
    console.error(`error: apt-get finished but ${still.join(' ')} is still missing`);
    process.exit(1);
  }
}

// Run as a script (`node scripts/system-deps.mjs`); the unit test bundles this file and only imports it.
if (process.argv[1]?.endsWith('system-deps.mjs')) ensureSystemDeps();
