/**
 * Builds the dashboard (preact + lightweight-charts) into `dashboard/dist`, served by the
 * aggregator under `/dashboard/`. Relative asset paths (`base: './'`), so the same files also
 * open from any other path or a static host in read-only mode (`?rpc=…&hub=…`).
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
});
