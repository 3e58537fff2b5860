// What a visitor gets from pressing Play on the page's CPU path: for each setup, opens the built
// page (pkg/) in Debian's headless Chromium, presses Play, and reads the quality panel (classifier
// score and Fréchet distance of 500 digits, scored every 8 s of training) and the step count at
// each checkpoint in time. Prints one markdown row per setup, and writes them to
// artifacts/quality-per-minute.md.
//
//   node quality-per-minute.mjs                       # the setups below, at 60 s and 180 s
//   node quality-per-minute.mjs 'preset=tiny&batch=64' 'preset=small'
//
// A benchmark, not a test: its numbers depend on the machine (say which in what you report).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const checkpoints = (process.env.AT_SECONDS ?? '60,180').split(',').map(Number);
const setups = process.argv.slice(2).length ? process.argv.slice(2) : [
  'preset=tiny&batch=32&lr_d=0.0005&lr_g=0.0005',
  'preset=tiny&batch=32&lr_d=0.0002&lr_g=0.0002',
  'preset=tiny&batch=32&lr_d=0.001&lr_g=0.001',
  'preset=tiny&batch=16&lr_d=0.0005&lr_g=0.0005',
  'preset=tiny&batch=16&lr_d=0.0005&lr_g=0.0005&d_refine=0',
  'preset=tiny&batch=16&lr_d=0.0005&lr_g=0.0005&d_refine=1',
  'preset=tiny&batch=64&lr_d=0.0005&lr_g=0.0005',
  'preset=tiny&batch=32&lr_d=0.0005&lr_g=0.0005&ema=0.99',
  'preset=tiny&batch=32&lr_d=0.0005&lr_g=0.0005&refine=1',
  'preset=small&batch=32&lr_d=0.0005&lr_g=0.0005',
  'preset=standard&batch=32&lr_d=0.0005&lr_g=0.0005',
];

const port = 8000 + Math.floor(Math.random() * 1000);
const server = spawn('python3', [path.join(here, '../../scripts/serve.py'), path.join(here, '../../pkg'), String(port)], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 1000));

const rows = [];
try {
  for (const setup of setups) {
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganplay-quality-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 },
      args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/?backend=cpu&seed=42&${setup}`);
      await page.locator('#play:not([disabled])').waitFor({ timeout: 120_000 });
      const started = Date.now();
      await page.click('#play');
      const readings = [];
      for (const at of checkpoints) {
        await page.waitForTimeout(Math.max(0, started + at * 1000 - Date.now()));
        readings.push(await page.evaluate(() => ({
          step: Number(document.querySelector('#step').innerText),
          score: document.querySelector('#quality-score')?.innerText ?? '—',
          fd: document.querySelector('#quality-fd')?.innerText ?? '—',
          classes: document.querySelector('#quality-classes')?.innerText ?? '—',
        })));
      }
      await page.screenshot({ path: path.join(here, 'artifacts', `quality-${setup.replace(/[^a-z0-9.]+/gi, '-')}.png`) });
      const cells = readings.map((r) => `${r.score} · ${r.fd} · ${r.classes}/10 · step ${r.step}`);
      const row = `| \`${setup}\` | ${cells.join(' | ')} |`;
      console.log(row);
      rows.push(row);
    } finally {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  }
} finally {
  server.kill();
}
const head = `| setup (CPU path; seed 42 unless it says) | ${checkpoints.map((s) => `after ${s} s: score · Fréchet distance · classes · step`).join(' | ')} |`;
const table = [head, `|---|${checkpoints.map(() => '---').join('|')}|`, ...rows].join('\n');
fs.mkdirSync(path.join(here, 'artifacts'), { recursive: true });
fs.writeFileSync(path.join(here, 'artifacts', 'quality-per-minute.md'), table + '\n');
console.log(table);
