// Bundles the designer, the diagram viewer and the run viewer with esbuild into web/static/dist/ (run from the repository root: npm run build).
// The bpmnlint configuration is compiled at build time (bpmnlint/lib/support/compile-config) and bundled.
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);
const compileConfig = require('bpmnlint/lib/support/compile-config');
const here = path.dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');

const lintConfigPlugin = {
  name: 'bpmnlint-config',
  setup(build) {
    build.onResolve({ filter: /^seq-bpmnlint-config$/ }, () => ({ path: 'seq-bpmnlint-config', namespace: 'lint' }));
    build.onLoad({ filter: /.*/, namespace: 'lint' }, async () => {
      const rc = path.join(here, 'src/seq-extension/.bpmnlintrc');
      const config = JSON.parse(await readFile(rc, 'utf8'));
      return { contents: await compileConfig(config), loader: 'js', resolveDir: here };
    });
  }
};

const options = {
  entryPoints: {
    modeler: path.join(here, 'src/modeler/index.js'),
    viewer: path.join(here, 'src/viewer/index.js'),
    'run-viewer': path.join(here, 'src/run-viewer/index.js'),
    migration: path.join(here, 'src/migration/index.js')
  },
  outdir: path.join(here, 'dist'),
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: !watch,
  sourcemap: true,
  target: [ 'es2020' ],
  jsx: 'automatic',
  jsxImportSource: '@bpmn-io/properties-panel/preact',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  chunkNames: 'chunks/[name]-[hash]',
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
  plugins: [ lintConfigPlugin ],
  logLevel: 'info'
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
