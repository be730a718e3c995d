#!/usr/bin/env node
// The structure bar of issue 15, as a check anyone can run: no source file in src/ over 600
// lines (tests aside), and no import cycle between src/ files (type-only imports included:
// a cycle of types is still two rooms that cannot be understood apart).
//
//   node scripts/structure-check.mjs [DIR...]   (default: src; exit 1 when the bar is not met)
import console from 'node:console';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const MAX_LINES = 600;
const roots = process.argv.length > 2 ? process.argv.slice(2) : ['src'];
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(repo, 'src');

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.tsx?$/.test(p) && !/\.test\.tsx?$/.test(p)) out.push(p);
  }
  return out;
}

const all = walk(src, []);
const wanted = new Set(roots.flatMap((r) => walk(path.resolve(repo, r), [])));
let failed = false;

for (const f of all) {
  if (!wanted.has(f)) continue;
  const n = fs.readFileSync(f, 'utf8').split('\n').length - 1;
  if (n > MAX_LINES) {
    console.log(`too long: ${path.relative(repo, f)} ${n} lines (at most ${MAX_LINES})`);
    failed = true;
  }
}

// Imports between src files (relative specifiers), type-only ones included.
const graph = new Map();
for (const f of all) {
  const text = fs.readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
    const t = path.resolve(path.dirname(f), m[1]).replace(/\.js$/, '.ts');
    if (fs.existsSync(t)) deps.add(t);
    else if (fs.existsSync(t.replace(/\.ts$/, '.tsx'))) deps.add(t.replace(/\.ts$/, '.tsx'));
  }
  graph.set(f, [...deps]);
}
// Tarjan's strongly connected components: every component of more than one file is a cycle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function visit(v) {
  index.set(v, counter);
  low.set(v, counter);
  counter++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const c = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      c.push(w);
    } while (w !== v);
    if (c.length > 1) cycles.push(c);
  }
}
for (const v of graph.keys()) if (!index.has(v)) visit(v);
for (const c of cycles) {
  if (!c.some((f) => wanted.has(f))) continue;
  console.log(`import cycle: ${c.map((f) => path.relative(repo, f)).join(' -> ')}`);
  failed = true;
}
if (!failed) console.log(`structure: ${wanted.size} files, none over ${MAX_LINES} lines, no import cycle`);
process.exit(failed ? 1 : 0);
