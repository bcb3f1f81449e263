#!/usr/bin/env node
'use strict';
// The `local-aws` command. An installed package ships lib/cli.js ready to run. In a checkout of
// the sources (src/ is present) the first start after a change bundles them into lib/ with
// esbuild (about a tenth of a second); later starts load lib/cli.js directly.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const built = join(root, 'lib', 'cli.js');

if (existsSync(join(root, 'src', 'cli.ts'))) {
  try {
    require('./build').buildIfStale();
  } catch (error) {
    // Without a bundle (a read-only checkout, say), compile on the fly instead.
    process.emitWarning(`local-aws: bundling failed (${error.message}); starting from sources.`);
    require('tsx/cjs');
    require('../src/cli.ts').run();
    return;
  }
}
require(built).run();
