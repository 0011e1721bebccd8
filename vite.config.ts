/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Debian's Chromium ships SwiftShader's Vulkan ICD; Dawn (the `webgpu` npm package) uses it in Node
// on machines without a GPU. On a machine with a GPU, unset it to let Dawn pick the real driver.
const swiftshaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';

export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4000,
    // kernel-test.html: in-page GPU-vs-reference parity check (src/app/kernelTest.ts, test/e2e/kernels.test.ts).
    // storage-test.html: checkpoints through OPFS sync handles in a worker (test/e2e/opfsSync.test.ts).
    rollupOptions: {
      input: { main: 'index.html', kernelTest: 'kernel-test.html', storageTest: 'storage-test.html' },
    },
  },
  worker: { format: 'es' },
  // Builds into dist-*/ (E2E_DIST, test/e2e/harness.ts) and test screenshots must not reload a dev page.
  server: { watch: { ignored: ['**/dist*/**', '**/test-output/**'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          environment: 'node',
          env: { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? swiftshaderIcd },
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // One Dawn device per worker; SwiftShader already uses every core.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
