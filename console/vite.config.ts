// Build: `vite build console` from the package root (npm run build:console). The root is this
// folder; the output goes to dist/console and is served by the service itself at /console/.
import preact from '@preact/preset-vite';
import type { UserConfig } from 'vite';

const config: UserConfig = {
  base: '/console/',
  plugins: [preact()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // Every asset is a file of its own: nothing inlined as data: URLs (the CSP allows only 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // The browser signer imports the pure canonicalization from ../src/crypto.
    fs: { allow: ['..'] },
  },
};

export default config;
