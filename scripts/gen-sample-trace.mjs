#!/usr/bin/env node
// Writes the sample trace bundled in samples/ (what `nstrace top` analyses without a trace):
// a simulated 4-CPU host with Docker, Podman, Kubernetes, LXC, nested and anonymous containers,
// written with nstrace's CTF writer (src/synthetic/simulate.ts). It is synthetic, not a recording;
// replace it with a real recording once `nstrace record` exists.
//
// Usage: npm run build && node scripts/gen-sample-trace.mjs [DIR]   (default samples/containers-demo)
import { rmSync } from 'node:fs';
import process from 'node:process';
import { resolve } from 'node:path';
import { writeSampleTrace } from '../dist/synthetic/simulate.js';

const dir = resolve(process.argv[2] ?? 'samples/containers-demo');
rmSync(dir, { recursive: true, force: true });
const { events } = writeSampleTrace(resolve(dir, 'kernel'));
process.stdout.write(`wrote ${events} events to ${dir}/kernel\n`);
