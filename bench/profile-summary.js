#!/usr/bin/env node
'use strict';
// Summarises a .cpuprofile: self time by function and by package, to find the hot path's owners.
const { readFileSync } = require('node:fs');
const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 30);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const pkg = new Map();
for (const [id, t] of self) {
  const { callFrame: cf } = byId.get(id);
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${cf.lineNumber}`;
  fn.set(key, (fn.get(key) ?? 0) + t);
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(cf.url);
  const owner = m ? m[1] : cf.url.includes('/dist/') ? '(app)' : cf.url.startsWith('node:') ? '(node)' : cf.url ? '(other)' : `(${cf.functionName || 'native'})`;
  pkg.set(owner, (pkg.get(owner) ?? 0) + t);
}
const pct = (t) => ((100 * t) / total).toFixed(1).padStart(5) + '%';
console.log('By package:');
for (const [k, t] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(t)}  ${k}`);
console.log('\nBy function (self):');
for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
