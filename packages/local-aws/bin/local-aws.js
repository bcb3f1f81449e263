#!/usr/bin/env node
'use strict';
// local-aws is written in TypeScript. The first start after a change bundles it with esbuild into
// lib/cli.js (about a tenth of a second); later starts load that file directly.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'src');
const built = join(root, 'lib', 'cli.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (!existsSync(built) || statSync(built).mtimeMs < newestSource(source)) {
  try {
    require('esbuild').buildSync({
      entryPoints: [join(source, 'cli.ts')],
      outfile: built,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      logLevel: 'error',
    });
  } catch (error) {
    // Without a bundle (a read-only install, say), compile on the fly instead.
    process.emitWarning(`local-aws: bundling failed (${error.message}); starting from sources.`);
    require('tsx/cjs');
    require('../src/cli.ts').run();
    return;
  }
}
require(built).run();
