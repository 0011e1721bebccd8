// End-to-end harness: serve the built app (dist/) on localhost, drive Debian's Chromium headless with
// WebGPU on SwiftShader through playwright-core, collect console errors, save screenshots.
import { mkdirSync } from 'node:fs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve('test-output/screenshots');
/** The built app to serve: dist/ (npm run build), or E2E_DIST when several checkouts' builds must not collide. */
const DIST = process.env.E2E_DIST ?? 'dist';

/** Flags that give headless Chromium a WebGPU adapter on SwiftShader with no GPU and no network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-vulkan-surface',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export interface AppHarness {
  baseUrl: string;
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * `userDataDir`: a persistent browser profile (storage on disk, as a user's browser has) instead of a
 * fresh in-memory context (scripts/scale-check-browser.ts --profile; the tests use the default).
 */
export async function startApp(opts: { args?: string[]; userDataDir?: string } = {}): Promise<AppHarness> {
  if (!existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/ is missing: run \`npm run build\` first (npm run test:e2e does).`);
  }
  const server: PreviewServer = await preview({
    build: { outDir: DIST },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
    logLevel: 'error',
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no port');
  // 127.0.0.1 is a secure context, which navigator.gpu requires.
  const baseUrl = `http://127.0.0.1:${address.port}/`;
  const launch = {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
  };
  const view = { viewport: { width: 1440, height: 900 }, acceptDownloads: true };
  let browser: Browser, context: BrowserContext;
  if (opts.userDataDir) {
    context = await chromium.launchPersistentContext(opts.userDataDir, { ...launch, ...view });
    browser = context.browser()!;
  } else {
    browser = await chromium.launch(launch);
    context = await browser.newContext(view);
  }
  return {
    baseUrl,
    browser,
    context,
    async close() {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
      await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    },
  };
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  /** Throws if any console error or page error was seen (call at the end of each test). */
  assertNoErrors(allow?: RegExp[]): void;
}

export async function openPage(h: AppHarness, urlPath = ''): Promise<WatchedPage> {
  const page = await h.context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  await page.goto(h.baseUrl + urlPath);
  return {
    page,
    errors,
    assertNoErrors(allow = []) {
      const real = errors.filter((e) => !allow.some((re) => re.test(e)));
      if (real.length) throw new Error(`Console errors in the page:\n${real.join('\n')}`);
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
