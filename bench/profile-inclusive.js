#!/usr/bin/env node
'use strict';
// Inclusive (total) time of functions matching a pattern in a .cpuprofile: where a request's time goes.
const { readFileSync } = require('node:fs');
const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const pattern = new RegExp(process.argv[3] ?? '.');
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
let active = 0;
const total = new Map();
for (const [id, t] of self) {
  const { callFrame } = byId.get(id);
  if (callFrame.functionName === '(idle)') continue;
  active += t;
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cf = byId.get(cur).callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${cf.lineNumber}`;
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + t);
  }
}
for (const [k, t] of [...total]
  .filter(([k]) => pattern.test(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(process.argv[4] ?? 40))) {
  console.log(`${((100 * t) / active).toFixed(1).padStart(5)}%  ${k}`);
}
