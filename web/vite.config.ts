// The client is served by parleyd from WEB_ROOT (scripts/build-web.sh sets
// the output directory). Hashed file names under assets/ are what parleyd
// caches as immutable; everything else is revalidated.
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.PARLEY_WEB_OUT || 'dist',
    emptyOutDir: true,
    target: 'es2020',
    // No inline module-preload polyfill: the page's CSP allows no inline script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api': 'http://localhost:4000',
      '/socket.io': { target: 'ws://localhost:4000', ws: true },
    },
  },
});
