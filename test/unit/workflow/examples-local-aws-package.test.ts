/**
 * local-aws is meant to run from any repository (`npm install @shipkit/local-aws`), so its
 * package must stand on its own: a scoped name, the files it ships, and no import of anything
 * it does not declare or of the repository around it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const PKG_DIR = join(ROOT, 'packages', 'local-aws');
const pkg = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')) as {
  name: string;
  private?: boolean;
  main: string;
  types: string;
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Every module specifier a source file imports or requires. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ...text.matchAll(/require\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]);
}

test('the package has a scoped name, is publishable and names its command local-aws', () => {
  expect(pkg.name).toBe('@shipkit/local-aws');
  expect(pkg.private).toBeUndefined();
  expect(pkg.bin).toEqual({ 'local-aws': 'bin/local-aws.js' });
  expect(pkg.files.sort()).toEqual(['bin/', 'lib/']);
});

test('what the package loads is built into lib/ before it is packed', () => {
  expect(pkg.main).toBe('lib/index.js');
  expect(pkg.types).toMatch(/^lib\/.+\.d\.ts$/);
  expect(pkg.scripts.prepack).toBe('node bin/build.js');
  const build = readFileSync(join(PKG_DIR, 'bin', 'build.js'), 'utf8');
  expect(build).toContain("cli: 'cli.ts'");
  expect(build).toContain("index: 'index.ts'");
});

test('the root workspace installs the package under its scoped name', () => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { link?: boolean; resolved?: string; name?: string }>;
  };
  expect(lock.packages['node_modules/@shipkit/local-aws']).toMatchObject({
    link: true,
    resolved: 'packages/local-aws',
  });
  expect(lock.packages['node_modules/local-aws']).toBeUndefined();
  expect(lock.packages['packages/local-aws'].name).toBe('@shipkit/local-aws');
});

test.each(sources(join(PKG_DIR, 'src')).map((f) => [relative(PKG_DIR, f), f]))(
  '%s imports only Node, its own files and declared dependencies',
  (_, file) => {
    const runtime = Object.keys(pkg.dependencies ?? {});
    for (const spec of specifiers(file)) {
      if (spec.startsWith('.')) {
        // A relative import stays inside the package's sources.
        const target = resolve(dirname(file), spec);
        expect(relative(join(PKG_DIR, 'src'), target).startsWith('..')).toBe(false);
      } else if (spec.startsWith('node:') || builtinModules.includes(spec)) {
        continue;
      } else {
        const name = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : spec.split('/')[0];
        expect(runtime).toContain(name);
      }
    }
  },
);

test('the launcher needs nothing but Node and lib/ in an installed package', () => {
  const launcher = readFileSync(join(PKG_DIR, 'bin', 'local-aws.js'), 'utf8');
  // esbuild and tsx are development dependencies: the launcher only reaches them in a checkout.
  expect(launcher).toMatch(
    /if \(existsSync\(join\(root, 'src', 'cli\.ts'\)\)\) \{[\s\S]*require\('\.\/build'\)/,
  );
  for (const dev of ['esbuild', 'tsx'])
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain(dev);
});
