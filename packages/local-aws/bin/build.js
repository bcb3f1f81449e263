#!/usr/bin/env node
'use strict';
/**
 * Builds local-aws from its TypeScript sources into `lib/`: `lib/cli.js` (the command) and
 * `lib/index.js` (the `startLocalAws` API), each one CommonJS file with no dependency, bundled by
 * esbuild. `node bin/build.js` (run by `npm pack` and `npm publish` through `prepack`) also
 * writes the type declarations to `lib/types/` and copies the license, so the package holds
 * everything it needs and nothing of the repository around it.
 */
const {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'src');
const lib = join(root, 'lib');
const ENTRIES = { cli: 'cli.ts', index: 'index.ts' };

/** The newest modification time of the files under `dir`. */
function newest(dir) {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return time;
}

/** True when a bundle in `lib/` is missing or older than a source file. */
function stale() {
  const sources = newest(source);
  return Object.keys(ENTRIES).some((name) => {
    const out = join(lib, `${name}.js`);
    return !existsSync(out) || statSync(out).mtimeMs < sources;
  });
}

/**
 * Bundles every entry into `lib/` (about a tenth of a second). Each file is written beside its
 * place and renamed into it, so a second process starting at the same time never loads half a
 * bundle.
 */
function bundle() {
  const result = require('esbuild').buildSync({
    entryPoints: Object.entries(ENTRIES).map(([out, file]) => ({
      in: join(source, file),
      out,
    })),
    outdir: lib,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'error',
    write: false,
  });
  mkdirSync(lib, { recursive: true });
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

/** Writes `lib/types/*.d.ts` with the TypeScript compiler. */
function declarations() {
  const { spawnSync } = require('node:child_process');
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [
    tsc,
    join(source, 'index.ts'),
    '--declaration',
    '--emitDeclarationOnly',
    '--outDir',
    join(lib, 'types'),
    '--rootDir',
    source,
    '--target',
    'es2022',
    '--module',
    'commonjs',
    '--moduleResolution',
    'node10',
    '--strict',
    '--esModuleInterop',
    '--skipLibCheck',
    '--types',
    'node',
  ];
  const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`tsc exited with ${run.status}`);
}

/** Bundles when the sources are newer than `lib/`; used by `bin/local-aws.js` in a checkout. */
function buildIfStale() {
  if (stale()) bundle();
}

/** The full build for a package: bundles, declarations and the license. */
function buildPackage() {
  bundle();
  declarations();
  mkdirSync(lib, { recursive: true });
  const license = [join(root, 'LICENSE'), join(root, '..', '..', 'LICENSE')].find(existsSync);
  if (license) copyFileSync(license, join(lib, 'LICENSE'));
}

module.exports = { buildIfStale, buildPackage };

if (require.main === module) {
  try {
    buildPackage();
  } catch (error) {
    console.error(`local-aws: build failed: ${error.message}`);
    process.exit(1);
  }
}
