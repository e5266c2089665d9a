/** npm test's first step: which Debian packages to install, or the one line to stop with. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SYSTEM_PACKAGES, planSystemDeps } from '../../../scripts/system-deps.mjs';

test('nothing to do when every package is present, whoever runs it', () => {
  for (const isRoot of [true, false]) {
    for (const hasAptGet of [true, false]) assert.deepEqual(planSystemDeps({ missing: [], isRoot, hasAptGet }), { action: 'none' });
  }
});

test('as root with apt-get, the missing packages (only those) are installed, with one line saying so', () => {
  const plan = planSystemDeps({ missing: ['chromium', 'libkrb5-dev'], isRoot: true, hasAptGet: true });
  assert.equal(plan.action, 'install');
  assert.ok(plan.action === 'install');
  assert.deepEqual(plan.packages, ['chromium', 'libkrb5-dev']);
  assert.match(plan.message, /^installing .*chromium libkrb5-dev/);
  assert.doesNotMatch(plan.message, /\n/);
  const one = planSystemDeps({ missing: ['libkrb5-dev'], isRoot: true, hasAptGet: true });
  assert.ok(one.action === 'install');
  assert.deepEqual(one.packages, ['libkrb5-dev']);
});

test('not root: one line naming the packages and the command to run', () => {
  const plan = planSystemDeps({ missing: ['chromium', 'libkrb5-dev'], isRoot: false, hasAptGet: true });
  assert.equal(plan.action, 'error');
  assert.ok(plan.action === 'error');
  assert.doesNotMatch(plan.message, /\n/);
  assert.match(plan.message, /^error: .*chromium libkrb5-dev/);
  assert.ok(plan.message.includes('`sudo apt-get install -y --no-install-recommends chromium libkrb5-dev`'), plan.message);
  assert.match(plan.message, /npm run test:unit/);
  const one = planSystemDeps({ missing: ['chromium'], isRoot: false, hasAptGet: true });
  assert.ok(one.action === 'error');
  assert.ok(one.message.includes('--no-install-recommends chromium`'), one.message);
});

test('root without apt-get: an error, not an install that cannot work', () => {
  const plan = planSystemDeps({ missing: ['chromium'], isRoot: true, hasAptGet: false });
  assert.ok(plan.action === 'error');
  assert.doesNotMatch(plan.message, /\n|apt-get/);
  assert.match(plan.message, /chromium.*package manager/);
});

test('the packages are checked by the files the tests use', () => {
  assert.deepEqual(
    SYSTEM_PACKAGES.map((p) => [p.name, p.file]),
    [['chromium', '/usr/bin/chromium'], ['libkrb5-dev', '/usr/include/krb5.h']],
  );
});
