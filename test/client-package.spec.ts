/**
 * The client package as it ships: ES2017 JavaScript plus declarations, no runtime dependencies, and
 * no require/import of anything outside its own files (a mini program has no node_modules at run time
 * except what its npm build copies, and no Node built-ins at all).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import * as acorn from 'acorn';
import { clientDist, repoRoot } from './support/client-support';

const dist = clientDist();
const jsFiles = readdirSync(dist, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.js'))
  .map((f) => join(dist, f));

/** Every node of an ESTree tree. */
function* nodes(node: unknown): Generator<any> {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) yield* nodes(n);
    return;
  }
  if (typeof (node as { type?: unknown }).type === 'string') yield node;
  for (const [key, value] of Object.entries(node)) if (key !== 'loc') yield* nodes(value);
}

test('package.json: no dependencies of any kind, entry points in the build', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'client', 'package.json'), 'utf8'));
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies']) {
    assert.ok(!pkg[field] || Object.keys(pkg[field]).length === 0, `client/package.json has ${field}`);
  }
  assert.equal(pkg.main, 'dist/index.js');
  assert.equal(pkg.types, 'dist/index.d.ts');
  assert.equal(pkg.miniprogram, 'dist', 'the folder the WeChat devtools npm build copies');
  assert.ok(existsSync(join(dist, 'index.d.ts')), 'declarations are emitted');
  assert.match(readFileSync(join(dist, 'index.d.ts'), 'utf8'), /createClient/);
});

test('the build is ES2017 and requires nothing outside itself', () => {
  assert.ok(jsFiles.length > 0, 'the build has JavaScript files');
  for (const file of jsFiles) {
    const name = relative(dist, file);
    let ast: acorn.Program;
    try {
      // Rejects any syntax newer than ES2017 (object spread, ?., ??, optional catch binding, import()).
      ast = acorn.parse(readFileSync(file, 'utf8'), { ecmaVersion: 2017, sourceType: 'script' });
    } catch (err) {
      assert.fail(`${name} is not ES2017 script: ${(err as Error).message}`);
    }
    for (const node of nodes(ast)) {
      if (node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === 'require') {
        const [arg] = node.arguments;
        assert.ok(arg?.type === 'Literal' && typeof arg.value === 'string', `${name}: require() of a computed name`);
        const target = arg.value as string;
        assert.ok(target.startsWith('./') || target.startsWith('../'), `${name} requires "${target}", outside the package`);
        const path = resolve(file, '..', target);
        assert.ok(!relative(dist, path).startsWith('..'), `${name} requires "${target}", outside the build`);
        assert.ok(existsSync(`${path}.js`) || existsSync(join(path, 'index.js')), `${name} requires "${target}", which is not in the build`);
      }
      // Node and browser globals a mini program does not have.
      if (node.type === 'Identifier' && ['process', 'Buffer', 'global', 'window', 'document', 'fetch', 'XMLHttpRequest', '__dirname'].includes(node.name)) {
        assert.fail(`${name} uses ${node.name}, which a mini program does not have`);
      }
    }
  }
});
