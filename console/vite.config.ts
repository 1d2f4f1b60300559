// Build: `vite build console` from the package root (npm run build:console). The root is this
// folder; the output goes to dist/console and is served by the service itself at /console/.
import preact from '@preact/preset-vite';
import type { UserConfig } from 'vite';

const API_TARGET = process.env.DWS_CONSOLE_API || 'http://127.0.0.1:8080';

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
    // `npx vite console` (development): API calls go to a running service. The Host header is kept
    // (no changeOrigin), so requests signed in the browser still verify.
    proxy: Object.fromEntries(['/v1', '/v2', '/v3'].map((prefix) => [prefix, { target: API_TARGET }])),
  },
};

export default config;
