// Bundles the CLI into dist/bin/ (what the `nstrace` bin runs): one entry plus chunks loaded
// per command, so that a command loads only its own code, and Node resolves and compiles a few
// files instead of ~150 modules (about 0.1 s of every invocation). tsc's dist/ stays the
// library build. See docs/adr/0005-bundled-cli.md. Then the page of `nstrace view` (ADR 0200).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bin', { recursive: true, force: true });

await build({
  entryPoints: { nstrace: 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bin',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
  // koffi and @duckdb/node-bindings load their prebuilt native binaries from their own packages:
  // never bundled (@duckdb/node-api, plain JavaScript over the bindings, is: docs/adr/0210).
  external: ['koffi', '@duckdb/node-bindings'],
  // Dependencies written as CommonJS call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __nstraceCreateRequire } from 'node:module'; const require = __nstraceCreateRequire(import.meta.url);",
  },
});

// The page of `nstrace view` (src/view/page/): one script and one stylesheet (uPlot's included),
// which the server and `--html` inline into the HTML document. No CDN: everything ships here.
rmSync('dist/view/page.js', { force: true });
rmSync('dist/view/page.css', { force: true });
await build({
  entryPoints: { page: 'src/view/page/main.ts' },
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  outdir: 'dist/view',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
});
