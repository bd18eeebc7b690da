// Bundles the agent into two CommonJS files: dist/agent.cjs (Ferry's own code) and dist/agent-deps.cjs (execa,
// winston). Pacemaker runs monitor every few seconds for every container; one pre-linked file spares Node its
// ESM loader and hundreds of module lookups, and keeping the third-party code apart spares a monitor from
// parsing 650 kB it never runs (bench/monitor.ts measures both).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', logLevel: 'warning' };

await build({ ...common, entryPoints: ['src/util/third-party.ts'], outfile: 'dist/agent-deps.cjs' });

/**
 * Imports of src/util/third-party.ts become a require of the deps bundle, evaluated when first needed: through a
 * stub bundled here, so that a dynamic import of it is esbuild's own lazy init, not a real import(), which the
 * agent's entry (it compiles this bundle with vm.Script, for V8's code cache) could not serve.
 */
const depsBundle = {
  name: 'deps-bundle',
  setup(b) {
    b.onResolve({ filter: /third-party\.js$/ }, () => ({ path: 'third-party', namespace: 'deps-bundle' }));
    b.onLoad({ filter: /.*/, namespace: 'deps-bundle' }, () => ({ contents: "module.exports = require('./agent-deps.cjs');", loader: 'js' }));
    b.onResolve({ filter: /agent-deps\.cjs$/ }, () => ({ path: './agent-deps.cjs', external: true }));
  },
};

/**
 * In the bundle, `require` is CommonJS's own (agent.cjs hands it in): the createRequire of src/util/lazy-crypto.ts
 * and src/util/ip.ts is that, so that loading the bundle never loads node:module (and Node's ESM loader behind it), a third of a
 * millisecond of every monitor without the helper.
 */
const ownRequire = {
  name: 'own-require',
  setup(b) {
    b.onResolve({ filter: /^node:module$/ }, (args) => (/src\/util\/(lazy-crypto|ip)\.ts$/.test(args.importer) ? { path: 'own-require', namespace: 'own-require' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'own-require' }, () => ({ contents: 'exports.createRequire = () => require;', loader: 'js' }));
  },
};

// every action, and monitor alone (what a monitor without the helper's verdict compiles): the same options
for (const [entry, outfile] of [['src/ocf/main.ts', 'dist/agent.cjs'], ['src/ocf/monitor-main.ts', 'dist/agent-monitor.cjs']]) await build({
  ...common,
  entryPoints: [entry],
  outfile,
  plugins: [depsBundle, ownRequire],
  // worked out when asked for: few actions need the bundle's own URL
  define: { 'import.meta.url': '__ferry_module.url' },
  banner: { js: "const __ferry_module = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
});
