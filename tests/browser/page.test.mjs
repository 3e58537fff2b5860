// Browser tests: the built page (dist/, from `trunk build`) served on localhost and driven in
// Debian's Chromium. WebGPU there is SwiftShader, a software emulation, so tests use the tiny
// model and a few steps. Screenshots go to tests/browser/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../../dist');
const artifacts = path.join(here, 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.gz': 'application/octet-stream' };
let server, base;

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, 'index.html')), `no built page in ${dist}: run trunk build`);
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = path.join(dist, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404); res.end('not found'); return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}/`;
});
after(() => server?.close());

const baseArgs = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];
const webgpuArgs = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader'];

/** Opens the page in a fresh browser; returns { page, problems, close }. */
async function open(query = '', { webgpu = true, viewport = { width: 1280, height: 900 }, route = null } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganplay-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium', headless: true, viewport,
    args: [...baseArgs, ...(webgpu ? webgpuArgs : [])],
  });
  if (route) await context.route(...route);
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  });
  await page.goto(base + query);
  return { page, problems, close: () => context.close() };
}

const text = (page, sel) => page.locator(sel).innerText();
const stepCount = async (page) => Number(await text(page, '#step'));
const points = (page, id) => page.locator(`#${id} svg`).getAttribute('data-points').then(Number);
const version = (page, id) => page.locator(`#${id}`).getAttribute('data-version').then((v) => Number(v || 0));

async function waitReady(page, timeout = 120_000) {
  await page.locator('#play:not([disabled])').waitFor({ timeout });
}

test('loads without errors, names the WebGPU adapter, trains on it and the curves move', { timeout: 600_000 }, async () => {
  const { page, problems, close } = await open('?backend=webgpu&preset=tiny');
  try {
    await waitReady(page);
    const backend = await text(page, '#backend');
    assert.match(backend, /^WebGPU: .*swiftshader/i, backend);
    assert.equal(await stepCount(page), 0);
    const gridBefore = await version(page, 'grid');
    const started = Date.now();
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 3, null, { timeout: 400_000 });
    const ms = (Date.now() - started) / (await stepCount(page));
    console.log(`WebGPU (SwiftShader), tiny, batch 32: about ${ms.toFixed(0)} ms/step including start-up`);
    await page.click('#play'); // pause
    await page.waitForFunction(() => document.querySelector('#play').innerText.includes('Play'));
    const paused = await stepCount(page);
    await page.waitForTimeout(3000);
    assert.equal(await stepCount(page), paused, 'the step counter moved while paused');
    assert.equal(await points(page, 'chart-prob'), paused, 'one chart point a step');
    assert.equal(await points(page, 'chart-loss'), paused);
    await page.waitForFunction((v) => Number(document.querySelector('#grid').dataset.version) > v, gridBefore, { timeout: 60_000 });
    await page.screenshot({ path: path.join(artifacts, 'webgpu-trained.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('automatic choice prefers the CPU over a software WebGPU, says why, and digits form', { timeout: 600_000 }, async () => {
  const { page, problems, close } = await open('?preset=tiny&batch=32');
  try {
    await waitReady(page);
    assert.match(await text(page, '#backend'), /CPU/);
    assert.match(await text(page, '#backend-reason'), /software emulation.*slower than the CPU/i);
    const readyAt = Date.now();
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 150, null, { timeout: 400_000 });
    const steps = await stepCount(page);
    console.log(`CPU fallback, tiny, batch 32: ${((Date.now() - readyAt) / steps).toFixed(1)} ms/step over ${steps} steps`);
    const longTasks = await page.evaluate((t0) => window.__longTasks.filter((t) => t.start > t0 && t.ms > 50), await page.evaluate(() => performance.now()) - (Date.now() - readyAt) + 500);
    assert.deepEqual(longTasks, [], 'main-thread tasks over 50 ms while training');
    const probs = await page.locator('#chart-prob polyline[data-series="D(x)"]').getAttribute('points');
    assert.ok(probs.split(' ').length > 10);
    await page.click('#play');
    await page.screenshot({ path: path.join(artifacts, 'cpu-trained.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('moving a latent slider changes the big sample, while paused and while training', { timeout: 300_000 }, async () => {
  const { page, close } = await open('?backend=cpu&preset=tiny');
  try {
    await waitReady(page);
    await page.waitForFunction(() => Number(document.querySelector('#sample').dataset.version) >= 1);
    const snapshot = () => page.evaluate(() => document.querySelector('#sample').toDataURL());
    const before = await snapshot();
    const v0 = await version(page, 'sample');
    const slider = page.locator('input[aria-label="latent dimension 0"]');
    await slider.fill('2.5');
    await page.waitForFunction((v) => Number(document.querySelector('#sample').dataset.version) > v, v0);
    assert.notEqual(await snapshot(), before, 'the sample did not change');
    await page.click('#play');
    const v1 = await version(page, 'sample');
    await slider.fill('-2.5');
    await page.waitForFunction((v) => Number(document.querySelector('#sample').dataset.version) > v, v1, { timeout: 30_000 });
    await page.click('#walk-new');
    await page.locator('#walk').fill('0.5');
    await page.click('#play');
    await page.screenshot({ path: path.join(artifacts, 'latent.png'), fullPage: true });
  } finally { await close(); }
});

test('without WebGPU the CPU path runs and says so', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?preset=tiny', { webgpu: false });
  try {
    await waitReady(page);
    assert.equal(await text(page, '#backend-reason'), 'No WebGPU here: training on the CPU');
    await page.click('#step-once');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 1);
    assert.equal(await points(page, 'chart-prob'), 1);
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('a diverging run pauses with a message and keeps the last good weights', { timeout: 300_000 }, async () => {
  const { page, close } = await open('?backend=cpu&preset=tiny&fault=nan');
  try {
    await waitReady(page);
    await page.click('#play');
    await page.locator('#error').waitFor({ timeout: 120_000 });
    const message = await text(page, '#error');
    assert.match(message, /diverged at step \d+.*paused.*weights from step \d+ are kept/s, message);
    await page.waitForFunction(() => document.querySelector('#play').innerText.includes('Play'));
    const kept = Number(message.match(/weights from step (\d+)/)[1]);
    assert.equal(await stepCount(page), kept);
    assert.equal(await points(page, 'chart-prob'), kept, 'undone steps must not stay on the chart');
    await page.screenshot({ path: path.join(artifacts, 'diverged.png'), fullPage: true });
    // Training goes on from the kept weights.
    await page.click('#step-once');
    await page.waitForFunction((k) => Number(document.querySelector('#step').innerText) === k + 1, kept);
  } finally { await close(); }
});

test('a panic in the training worker is shown on the page', { timeout: 300_000 }, async () => {
  const { page, close } = await open('?backend=cpu&fault=panic');
  try {
    await waitReady(page);
    await page.click('#play');
    await page.locator('#error').waitFor({ timeout: 120_000 });
    assert.match(await text(page, '#error'), /training worker crashed: .*a panic injected for testing.*Reload/s);
    await page.screenshot({ path: path.join(artifacts, 'worker-panic.png'), fullPage: true });
  } finally { await close(); }
});

test('a missing or damaged data file is named on the page', { timeout: 300_000 }, async () => {
  for (const [route, expected] of [
    [(r) => r.fulfill({ status: 404, body: 'gone' }), /Could not load assets\/mnist\/images-idx3-ubyte\.gz: the server answered 404/],
    [(r) => r.fulfill({ status: 200, body: 'not a gzip file at all' }), /MNIST files are damaged: images file: not a gzip file/],
  ]) {
    const { page, close } = await open('?backend=cpu', { route: ['**/images-idx3-ubyte.gz', route] });
    try {
      await page.locator('#error').waitFor({ timeout: 120_000 });
      assert.match(await text(page, '#error'), expected);
    } finally { await close(); }
  }
});

test('unknown or out-of-range address settings are named in a note', { timeout: 120_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&lr_d=banana&batch=100000&colour=red&seed=7');
  try {
    await waitReady(page);
    const note = await text(page, '#notice');
    for (const bad of ['lr_d=banana', 'batch=100000', 'colour=red']) assert.ok(note.includes(bad), note);
    assert.ok(!note.includes('seed=7'), note);
    assert.equal(await page.locator('#seed').inputValue(), '7');
  } finally { await close(); }
});

test('a shared address restores the settings, and size changes rebuild the networks', { timeout: 120_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=small&lr_d=0.0005&lr_g=0.0001&beta1=0.3&batch=16&seed=9&nz=20&ndf=12');
  try {
    await waitReady(page);
    const values = {};
    for (const id of ['preset', 'lr-d', 'lr-g', 'beta1', 'batch', 'seed', 'nz', 'ngf', 'ndf']) values[id] = await page.locator(`#${id}`).inputValue();
    assert.deepEqual(values, { preset: 'small', 'lr-d': '0.0005', 'lr-g': '0.0001', beta1: '0.3', batch: '16', seed: '9', nz: '20', ngf: '24', ndf: '12' });
    assert.equal(await page.locator('#notice').count(), 0);
    // nz=20: ten sliders (dimensions 0-9) and a working sample.
    assert.equal(await page.locator('.sliders input[type=range]').count(), 10);
    await page.click('#step-once');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 1);
    await page.locator('#nz').fill('8');
    await page.locator('#nz').dispatchEvent('change');
    await page.locator('#notice').waitFor();
    assert.match(await text(page, '#notice'), /training starts over/);
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 0);
    await waitReady(page);
    assert.equal(await page.locator('.sliders input[type=range]').count(), 8);
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('a phone-sized screen shows the whole page', { timeout: 120_000 }, async () => {
  const { page, close } = await open('?backend=cpu', { viewport: { width: 390, height: 844 } });
  try {
    await waitReady(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await page.screenshot({ path: path.join(artifacts, 'phone.png'), fullPage: true });
  } finally { await close(); }
});

test('benchmark mode prints ms/step per preset', { timeout: 600_000 }, async () => {
  for (const backend of ['cpu', 'webgpu']) {
    const { page, close } = await open(`?bench=1&backend=${backend}`);
    try {
      await page.waitForFunction(() => /ms\/step/.test(document.querySelector('#bench')?.innerText ?? ''), null, { timeout: 550_000 });
      const result = await text(page, '#bench');
      console.log(`bench ${backend}: ${result}`);
      assert.match(result, /tiny: \d+ ms\/step, small: \d+ ms\/step, standard: \d+ ms\/step/);
    } finally { await close(); }
  }
});
