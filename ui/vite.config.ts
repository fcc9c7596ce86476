// Build and test configuration for the careid web UI (served by Tauri from ui/dist).
import { defineConfig } from 'vitest/config';
import purgecss from '@fullhuman/postcss-purgecss';

// NHS.UK frontend's stylesheet is 289 KB, most of it components careid does not draw. The build
// keeps only the rules whose classes, elements and attributes appear in the UI's source (class
// names are always whole strings there, but for the button variant built from its name):
// WebKit then parses and holds a fraction of it, before the first screen and for the app's life.
const keepUsedStyles = purgecss({
  content: ['index.html', 'src/**/*.ts'],
  // Class names, tags and attribute names as they are written in the TypeScript.
  defaultExtractor: (text: string) => text.match(/[A-Za-z0-9_-]+/g) ?? [],
  safelist: { standard: [/^nhsuk-button--/] },
  variables: false,
  keyframes: true,
  fontFace: true,
});

export default defineConfig(({ mode }) => ({
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
  css: {
    // The tests render from the source's own stylesheet: only the build is trimmed.
    postcss: { plugins: mode === 'test' ? [] : [keepUsedStyles] },
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
}));
