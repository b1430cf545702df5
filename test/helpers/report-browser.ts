// Test helper: opens a report file in headless Chromium (Debian's package, driven by playwright-core)
// with a fresh profile, aborting and recording every request that is not the file itself, and
// collecting console errors and page errors. Screenshots go to test-artifacts/ (gitignored).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO } from './project.js';

export const ARTIFACTS = join(REPO, 'test-artifacts', 'report');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Page-side scripts, as text: this project's TypeScript has no DOM types.
const CHART_POINTS = `(() => {
  const out = {};
  for (const el of document.querySelectorAll('[data-chart]')) {
    const series = echarts.getInstanceByDom(el).getOption().series.filter((s) => !String(s.id).startsWith('_'));
    out[el.dataset.chart] = series.reduce((n, s) => n + (s.data || []).filter((d) => d !== '-' && d !== null).length, 0);
  }
  return out;
})()`;
const DECLARED_POINTS = `Object.fromEntries([...document.querySelectorAll('[data-chart]')].map((el) => [el.dataset.chart, Number(el.dataset.points)]))`;

export interface OpenedReport {
  page: Page;
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** Requests for anything but the report file (each was aborted). */
  requests: string[];
  /** Data points of each chart, read through ECharts' own API, helper series (`_…`) excluded. */
  chartPoints(): Promise<Record<string, number>>;
  /** The points each chart says it carries (data-points). */
  declaredPoints(): Promise<Record<string, number>>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openReport(file: string): Promise<OpenedReport> {
  const profile = mkdtempSync(join(tmpdir(), 'strand-chromium-'));
  // A persistent context on a fresh directory: playwright passes it to Chromium as --user-data-dir.
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  const url = pathToFileURL(file).href;
  const errors: string[] = [];
  const requests: string[] = [];
  await context.route('**/*', (route) =>
    route.request().url() === url ? route.continue() : (requests.push(route.request().url()), route.abort()),
  );
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => {
    errors.push(e.message);
  });
  await page.goto(url);
  await page.waitForSelector('body[data-charts-ready]');
  return {
    page,
    errors,
    requests,
    chartPoints: () => page.evaluate<Record<string, number>>(CHART_POINTS),
    declaredPoints: () => page.evaluate<Record<string, number>>(DECLARED_POINTS),
    screenshot: async (name) => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
