// Renders a loadgen HTML report in headless Chromium and saves a full-page screenshot, as kept in
// docs/loadgen-report.png: `npx tsx test/loadgen-report-screenshot.ts report.html out.png`.
// Uses the system's Chromium (Debian: apt-get install chromium), never a downloaded browser;
// CHROMIUM=/path chooses another binary.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [html, png] = process.argv.slice(2);
if (html === undefined || png === undefined) {
  process.stderr.write('usage: npx tsx test/loadgen-report-screenshot.ts REPORT.html OUT.png\n');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(resolve(html)).href);
  await page.screenshot({ path: png, fullPage: true });
} finally {
  await browser.close();
}
