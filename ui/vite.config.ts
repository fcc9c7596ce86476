// Build and test configuration for the careid web UI (served by Tauri from ui/dist).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      {
        // nhsuk-frontend's precompiled CSS points at /assets/images/*.svg on the
        // site root; resolve them from the package so Vite bundles them as files.
        find: /^\/assets\/images\//,
        replacement: 'nhsuk-frontend/dist/nhsuk/assets/images/',
      },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The CSP allows scripts and styles only from 'self', so emit every asset
    // as a file rather than an inline data: URL.
    assetsInlineLimit: 0,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
});
