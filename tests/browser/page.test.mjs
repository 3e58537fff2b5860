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
// The one flag WebGPU needs here; it then runs on SwiftShader (Vulkan on the CPU). Forcing
// ANGLE onto SwiftShader as well would draw the page itself through GL emulation, which takes
// most of a core from the page and the workers.
const webgpuArgs = ['--enable-unsafe-webgpu'];

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
    const tasks = await page.evaluate((t0) => window.__longTasks.filter((t) => t.start > t0), await page.evaluate(() => performance.now()) - (Date.now() - readyAt) + 500);
    console.log(`main-thread tasks over 50 ms while training: ${tasks.length}; longest ${Math.max(0, ...tasks.map((t) => t.ms)).toFixed(0)} ms`);
    assert.deepEqual(tasks.filter((t) => t.ms > 50), [], 'main-thread tasks over 50 ms while training');
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

test('the big sample answers a slider in the middle of a slow training step', { timeout: 300_000 }, async () => {
  // WebGPU on SwiftShader takes seconds a step; the sampling worker draws meanwhile.
  const { page, problems, close } = await open('?backend=webgpu&preset=tiny');
  try {
    await waitReady(page);
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 1, null, { timeout: 120_000 });
    let answered = [];
    for (const value of ['2.2', '-2.2', '1.1']) {
      const [stepBefore, v0] = [await stepCount(page), await version(page, 'sample')];
      const started = Date.now();
      await page.locator('#z0').fill(value);
      await page.waitForFunction((v) => Number(document.querySelector('#sample').dataset.version) > v, v0, { timeout: 60_000 });
      answered.push({ ms: Date.now() - started, sameStep: (await stepCount(page)) === stepBefore });
    }
    console.log(`slider to new sample during WebGPU (SwiftShader) training: ${answered.map((a) => a.ms).join(', ')} ms`);
    // A step takes seconds here: a sample drawn by the training worker would come after it.
    assert.ok(answered.filter((a) => a.sameStep).length >= 2, JSON.stringify(answered));
    await page.click('#play');
    assert.deepEqual(problems, []);
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
    // Training goes on from the kept weights; acting on the message clears it.
    await page.click('#step-once');
    await page.waitForFunction((k) => Number(document.querySelector('#step').innerText) === k + 1, kept);
    await page.locator('#error').waitFor({ state: 'detached' });
  } finally { await close(); }
});

test('a panic in the training worker is shown, and a new worker takes over', { timeout: 300_000 }, async () => {
  const { page, close } = await open('?backend=cpu&fault=panic');
  try {
    await waitReady(page);
    await page.click('#play');
    await page.locator('#error').waitFor({ timeout: 120_000 });
    assert.match(await text(page, '#error'), /training worker crashed \(.*a panic injected for testing.*\)\. The training worker was restarted and starts over/s);
    await waitReady(page);
    assert.equal(await stepCount(page), 0);
    await page.screenshot({ path: path.join(artifacts, 'worker-panic.png'), fullPage: true });
  } finally { await close(); }
});

test('a lost GPU device moves training to the CPU from the last snapshot', { timeout: 600_000 }, async () => {
  const { page, problems, close } = await open('?backend=webgpu&preset=tiny&fault=device-lost');
  try {
    await waitReady(page);
    assert.match(await text(page, '#backend'), /^WebGPU/);
    for (const n of [1, 2]) {
      await page.click('#step-once');
      await page.waitForFunction((n) => Number(document.querySelector('#step').innerText) === n, n, { timeout: 120_000 });
    }
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="2"]').waitFor({ timeout: 120_000 });
    await page.click('#play'); // the device is destroyed once step 3 is reported
    await page.locator('#error').waitFor({ timeout: 300_000 });
    const message = await text(page, '#error');
    assert.match(message, /(GPU stopped working|training worker crashed).*Training moved to the CPU and goes on from the snapshot at step 2/s, message);
    await page.waitForFunction(() => /CPU/.test(document.querySelector('#backend').innerText), null, { timeout: 120_000 });
    await page.waitForFunction(() => /Loaded the snapshot at step 2/.test(document.querySelector('#notice')?.innerText), null, { timeout: 120_000 });
    await waitReady(page);
    assert.equal(await stepCount(page), 2);
    await page.click('#step-once');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 3);
    await page.screenshot({ path: path.join(artifacts, 'device-lost.png'), fullPage: true });
    console.log(`device lost: ${message}`);
  } finally { await close(); }
});

test('switching the backend carries the run over to it', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=tiny&seed=3');
  try {
    await waitReady(page);
    await stepTo(page, 2);
    await page.selectOption('#backend-choice', 'webgpu');
    await page.waitForFunction(() => /^WebGPU/.test(document.querySelector('#backend').innerText), null, { timeout: 120_000 });
    await page.waitForFunction(() => /Loaded the snapshot at step 2/.test(document.querySelector('#notice')?.innerText), null, { timeout: 120_000 });
    await waitReady(page);
    assert.equal(await stepCount(page), 2);
    assert.equal(await points(page, 'chart-prob'), 2, 'the curves come along with the run');
    assert.equal(await page.locator('#seed').inputValue(), '3');
    assert.match(page.url(), /backend=webgpu/);
    await page.click('#step-once');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 3, null, { timeout: 120_000 });
    assert.equal(await points(page, 'chart-prob'), 3);
    // The snapshot that carried the run stays in the list.
    await page.locator('#snapshots li[data-step="2"]').waitFor();
    await page.screenshot({ path: path.join(artifacts, 'backend-switched.png'), fullPage: true });
    assert.deepEqual(problems, []);
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
  // A damaged pretrained generator is named; the page trains all the same.
  const { page, close } = await open('?backend=cpu', { route: ['**/generator.ganplay', (r) => r.fulfill({ status: 200, body: Buffer.from('GANPLAY\0\x01\0\0\0', 'latin1') })] });
  try {
    await waitReady(page);
    assert.match(await text(page, '#notice'), /pretrained generator \(assets\/pretrained\/generator\.ganplay\) was not loaded: the weights file is truncated.*shows the run's own generator/);
    // The run's own generator draws the grid once its first picture comes.
    await page.waitForFunction(() => /your run at step 0/.test(document.querySelector('#weights').innerText));
    await page.click('#step-once');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 1);
  } finally { await close(); }
});

test('unknown or out-of-range address settings are named in a note', { timeout: 120_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&lr_d=banana&batch=100000&colour=red&seed=7');
  try {
    await waitReady(page);
    const note = await text(page, '#notice');
    for (const bad of ['lr_d=banana', 'batch=100000', 'colour=red']) assert.ok(note.includes(bad), note);
    // A z of the wrong length is named once the networks say what size they take.
    const short = await open('?backend=cpu&z=0.5,1,-1');
    try {
      await waitReady(short.page);
      assert.match(await text(short.page, '#notice'), /Ignored the address's z: it has 3 numbers, and this generator takes 100/);
    } finally { await short.close(); }
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
    // small's G width, with nz and D width set apart from it: custom sizes.
    assert.deepEqual(values, { preset: 'custom', 'lr-d': '0.0005', 'lr-g': '0.0001', beta1: '0.3', batch: '16', seed: '9', nz: '20', ngf: '24', ndf: '12' });
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

/** Clicks `selector` and returns the downloaded file's name and bytes. */
async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const bytes = fs.readFileSync(await file.path());
  fs.writeFileSync(path.join(artifacts, file.suggestedFilename()), bytes);
  return { name: file.suggestedFilename(), bytes };
}

async function stepTo(page, n) {
  while (await stepCount(page) < n) {
    const now = await stepCount(page);
    await page.click('#step-once');
    await page.waitForFunction((k) => Number(document.querySelector('#step').innerText) === k + 1, now);
  }
}

/** The standard deviation of a canvas's grey levels: near 0 for a blank or flat picture. */
const spread = (page, id) => page.evaluate((id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sum = 0, sq = 0, n = d.length / 4;
  for (let i = 0; i < d.length; i += 4) { sum += d[i]; sq += d[i] * d[i]; }
  return Math.sqrt(sq / n - (sum / n) ** 2);
}, id);

test('pretrained digits show on load, before any training', { timeout: 300_000 }, async () => {
  for (const backend of ['cpu', 'webgpu']) {
    const opened = Date.now();
    const { page, problems, close } = await open(`?backend=${backend}&preset=tiny`);
    try {
      await page.waitForFunction(() => /pretrained generator/.test(document.querySelector('#weights')?.innerText ?? '')
        && Number(document.querySelector('#sample')?.dataset.version) >= 1, null, { timeout: 120_000 });
      console.log(`page open to pretrained digits (${await text(page, '#backend')}): ${Date.now() - opened} ms`);
      assert.equal(await stepCount(page), 0);
      assert.match(await text(page, '#weights'), /pretrained generator \(trained for \d+ steps/);
      assert.ok(await spread(page, 'grid') > 40, 'the grid looks flat');
      assert.ok(await spread(page, 'sample') > 40, 'the sample looks flat');
      await page.screenshot({ path: path.join(artifacts, `pretrained-${backend}.png`), fullPage: true });
      if (backend === 'cpu') {
        await page.click('#step-once');
        await page.waitForFunction(() => /your run at step 1/.test(document.querySelector('#weights').innerText));
      }
      assert.deepEqual(problems, []);
    } finally { await close(); }
  }
});

test('a saved run, loaded after a reload, takes the same next step', { timeout: 300_000 }, async () => {
  const query = '?backend=cpu&preset=tiny&seed=5&lr_d=0.0003';
  let saved, expected;
  {
    const { page, close } = await open(query);
    try {
      await waitReady(page);
      await stepTo(page, 3);
      saved = await download(page, '#save');
      assert.equal(saved.name, 'ganplay-step-3.ganplay');
      assert.equal(saved.bytes.subarray(0, 8).toString('latin1'), 'GANPLAY\0');
      await stepTo(page, 4);
      expected = (await download(page, '#export-csv')).bytes.toString().trim().split('\n').at(-1);
    } finally { await close(); }
  }
  const { page, problems, close } = await open('?backend=cpu&preset=small&seed=1');
  try {
    await waitReady(page);
    await page.setInputFiles('#load-file', { name: saved.name, mimeType: 'application/octet-stream', buffer: saved.bytes });
    await page.waitForFunction(() => /Loaded ganplay-step-3\.ganplay: the run is at step 3/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await stepCount(page), 3);
    // The settings came with the file.
    assert.equal(await page.locator('#seed').inputValue(), '5');
    assert.equal(await page.locator('#lr-d').inputValue(), '0.0003');
    assert.equal(await page.locator('#preset').inputValue(), 'tiny');
    await stepTo(page, 4);
    const row = (await download(page, '#export-csv')).bytes.toString().trim().split('\n').at(-1);
    assert.ok(row.startsWith('4,'), row);
    assert.equal(row, expected, 'the resumed step differs from the original');
    assert.deepEqual(problems, []);
  } finally { await close(); }
  // The same file goes on on WebGPU too (Adam's state moves to the GPU at the first step).
  const gpu = await open('?backend=webgpu&preset=tiny');
  try {
    await waitReady(gpu.page);
    await gpu.page.setInputFiles('#load-file', { name: saved.name, mimeType: 'application/octet-stream', buffer: saved.bytes });
    await gpu.page.waitForFunction(() => /Loaded ganplay-step-3\.ganplay/.test(document.querySelector('#notice')?.innerText));
    await stepTo(gpu.page, 4);
    const row = (await download(gpu.page, '#export-csv')).bytes.toString().trim().split('\n').at(-1).split(',');
    assert.equal(row[0], '4');
    assert.ok(row.slice(1, 6).every((v) => Number.isFinite(Number(v))), row.join(','));
    assert.deepEqual(gpu.problems, []);
  } finally { await gpu.close(); }
});

/** The step of the run kept in this browser's storage (null when none). */
const keptStep = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const opening = indexedDB.open('ganplay', 1);
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const request = opening.result.transaction('runs').objectStore('runs').get('last');
    request.onsuccess = () => { opening.result.close(); resolve(request.result?.steps ?? null); };
  };
}));

/** Waits (up to 30 s) until the stored run's step is `steps`. */
async function untilKept(page, steps) {
  for (let waited = 0; (await keptStep(page)) !== steps; waited += 200) {
    assert.ok(waited < 30_000, `the stored run did not become ${steps}`);
    await page.waitForTimeout(200);
  }
}

/** Reloads the page and checks that no kept run is offered (the offer comes within a second). */
async function noOfferAfterReload(page, message) {
  await page.reload();
  await waitReady(page);
  await page.waitForTimeout(1000);
  assert.equal(await page.locator('#kept-run').count(), 0, message);
}

test('a reload keeps the run: the page offers to go on from its last snapshot, or to forget it', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=tiny&seed=9');
  try {
    await waitReady(page);
    assert.equal(await page.locator('#kept-run').count(), 0, 'a fresh browser has no run to offer');
    await stepTo(page, 3);
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="3"]').waitFor();
    await untilKept(page, 3);
    await stepTo(page, 4);
    const expected = (await download(page, '#export-csv')).bytes.toString().trim().split('\n').at(-1);

    // A reload (another setup in the address, even) offers the kept run; going on resumes it exactly.
    await page.goto(page.url().replace('seed=9', 'seed=1').replace('preset=tiny', 'preset=small'));
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    assert.match(await text(page, '#kept-run'), /Your run from last time \(tiny networks, step 3\) is kept in this browser/);
    await page.screenshot({ path: path.join(artifacts, 'kept-run.png') });
    await page.click('#kept-go-on');
    await page.waitForFunction(() => /Loaded the run kept in this browser \(step 3\)/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await page.locator('#kept-run').count(), 0);
    assert.equal(await stepCount(page), 3);
    assert.equal(await page.locator('#seed').inputValue(), '9');
    await stepTo(page, 4);
    const row = (await download(page, '#export-csv')).bytes.toString().trim().split('\n').at(-1);
    assert.equal(row, expected, 'the resumed step differs from the original');

    // Forgotten, it is offered no more.
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    await page.click('#kept-forget');
    assert.equal(await page.locator('#kept-run').count(), 0);
    await untilKept(page, null);
    await noOfferAfterReload(page, 'a forgotten run is offered again');
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('a damaged run kept in the browser is refused with the reason, and not offered again', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=tiny');
  try {
    await waitReady(page);
    await stepTo(page, 2);
    await page.click('#snapshot-now');
    await untilKept(page, 2);
    // One byte near the end of the stored weights file flipped.
    await page.evaluate(() => new Promise((resolve, reject) => {
      const opening = indexedDB.open('ganplay', 1);
      opening.onsuccess = () => {
        const store = opening.result.transaction('runs', 'readwrite').objectStore('runs');
        const request = store.get('last');
        request.onsuccess = () => {
          const record = request.result;
          record.bytes[record.bytes.length - 5] ^= 0xff;
          store.put(record, 'last').onsuccess = () => resolve();
        };
      };
      opening.onerror = () => reject(opening.error);
    }));
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    await page.click('#kept-go-on');
    await page.locator('#error').waitFor();
    const message = await text(page, '#error');
    assert.match(message, /the run kept in this browser \(step 2\) was not loaded: .*damaged.*The current run goes on unchanged\. This browser no longer keeps it\./, message);
    assert.equal(await stepCount(page), 0);
    await untilKept(page, null);
    await stepTo(page, 1);
    await noOfferAfterReload(page, 'a refused run is offered again');
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('a browser that cannot store the run says so, and training goes on', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=tiny');
  try {
    await page.addInitScript(() => {
      IDBFactory.prototype.open = () => { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
    });
    await page.reload();
    await waitReady(page);
    await stepTo(page, 1);
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="1"]').waitFor();
    await page.waitForFunction(() => /did not keep the run for a later visit \(The quota has been exceeded\.\)\. Save run keeps it as a file/
      .test(document.querySelector('#notice')?.innerText));
    await stepTo(page, 2);
    assert.equal(await page.locator('#error').count(), 0);
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('snapshots are taken as training runs, and a run can go back to one', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=tiny');
  try {
    await waitReady(page);
    await stepTo(page, 3);
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="3"] img[src^="data:image/png"]').waitFor();
    await page.click('#play');
    // Every 250 steps (or 20 s), one more, without asking.
    await page.waitForFunction(() => [...document.querySelectorAll('#snapshots li')].some((li) => Number(li.dataset.step) >= 250),
      null, { timeout: 240_000 });
    await page.click('#play');
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Play');
    await page.screenshot({ path: path.join(artifacts, 'snapshots.png'), fullPage: true });
    await page.click('#snapshots li[data-step="3"] button');
    await page.waitForFunction(() => /Loaded the snapshot at step 3/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await stepCount(page), 3);
    assert.equal(await points(page, 'chart-prob'), 3, 'the curves go back with the run');
    await stepTo(page, 4);
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('a wrong, truncated or foreign file is refused and the run goes on', { timeout: 300_000 }, async () => {
  const { page, close } = await open('?backend=cpu&preset=tiny');
  try {
    await waitReady(page);
    await stepTo(page, 1);
    const real = await download(page, '#save');
    await page.click('#play');
    for (const [name, buffer, reason] of [
      ['photo.png', Buffer.from('\x89PNG\r\n\x1a\n not weights', 'latin1'), /not a ganplay weights file/],
      ['cut.ganplay', real.bytes.subarray(0, real.bytes.length - 100), /truncated/],
      ['flipped.ganplay', Buffer.from(real.bytes.map((b, i) => (i === real.bytes.length - 5 ? b ^ 0xff : b))), /damaged/],
    ]) {
      const before = await stepCount(page);
      await page.setInputFiles('#load-file', { name, mimeType: 'application/octet-stream', buffer });
      await page.waitForFunction((n) => document.querySelector('#error')?.innerText.includes(n), name);
      const message = await text(page, '#error');
      assert.match(message, reason, message);
      assert.match(message, new RegExp(`${name.replace('.', '\\.')} was not loaded: .*The current run goes on unchanged`));
      await page.waitForFunction((n) => Number(document.querySelector('#step').innerText) > n + 5, before);
      assert.equal(await text(page, '#play'), 'Pause');
    }
    await page.screenshot({ path: path.join(artifacts, 'load-refused.png'), fullPage: true });
    await page.click('#play');
  } finally { await close(); }
});

test('the address follows the setup, and opening it restores every parameter and z', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=tiny');
  try {
    await waitReady(page);
    for (const [id, value] of [['lr-d', '0.0004'], ['lr-g', '0.0003'], ['batch', '24'], ['seed', '11'], ['beta1', '0.4']]) {
      await page.locator(`#${id}`).fill(value);
      await page.locator(`#${id}`).dispatchEvent('change');
    }
    await page.selectOption('#loss', 'lsgan');
    await waitReady(page);
    const drawn = await version(page, 'sample');
    await page.locator('#z3').fill('1.75');
    await page.waitForFunction((v) => Number(document.querySelector('#sample').dataset.version) > v, drawn);
    await page.keyboard.press('p');
    await page.waitForFunction(() => /layout=presenter/.test(location.search) && /z=([^,]+,){3}1\.75/.test(location.search));
    const shared = page.url();
    for (const part of ['lr_d=0.0004', 'lr_g=0.0003', 'batch=24', 'seed=11', 'beta1=0.4', 'loss=lsgan', 'backend=cpu', 'preset=tiny']) {
      assert.ok(shared.includes(part), `${part} missing from ${shared}`);
    }
    // The digit for this z, once no other drawing is on its way.
    for (let v = -1; v !== await version(page, 'sample');) { v = await version(page, 'sample'); await page.waitForTimeout(500); }
    const sample = await page.evaluate(() => document.querySelector('#sample').toDataURL());
    const { page: other, close: closeOther } = await open(shared.slice(base.length));
    try {
      await waitReady(other);
      await other.waitForFunction(() => Number(document.querySelector('#sample').dataset.version) >= 1);
      const values = {};
      for (const id of ['preset', 'lr-d', 'lr-g', 'beta1', 'batch', 'seed', 'loss', 'nz', 'ngf', 'ndf']) values[id] = await other.locator(`#${id}`).inputValue();
      assert.deepEqual(values, { preset: 'tiny', 'lr-d': '0.0004', 'lr-g': '0.0003', beta1: '0.4', batch: '24', seed: '11', loss: 'lsgan', nz: '100', ngf: '16', ndf: '8' });
      assert.equal(await other.locator('#z3').inputValue(), '1.75');
      assert.ok(await other.evaluate(() => document.body.classList.contains('presenter')));
      assert.equal(await other.locator('#notice').count(), 0);
      await other.waitForFunction((s) => document.querySelector('#sample').toDataURL() === s, sample, { timeout: 10_000 });
    } finally { await closeOther(); }
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('keyboard shortcuts, the help overlay and presenter mode at projector size', { timeout: 300_000 }, async () => {
  const { page, problems, close } = await open('?backend=cpu&preset=tiny', { viewport: { width: 1280, height: 720 } });
  try {
    await waitReady(page);
    // Every control has a name a screen reader can say, and none is kept out of the tab order.
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select')].filter((el) => {
      const labelled = el.getAttribute('aria-label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label');
      const text = el.tagName === 'BUTTON' && el.innerText.trim();
      return !(labelled || text) || el.tabIndex < 0;
    }).map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, []);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('s');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 1);
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Pause');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Play');
    await page.keyboard.press('r');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 0);
    await waitReady(page);
    await page.keyboard.press('ArrowDown');
    assert.equal(await text(page, '.slider.selected span'), 'z1');
    const before = Number(await page.locator('#z1').inputValue());
    const v0 = await version(page, 'sample');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((v) => Number(document.querySelector('#sample').dataset.version) > v, v0);
    assert.equal(Number(await page.locator('#z1').inputValue()).toFixed(2), Math.min(3, before + 0.1).toFixed(2));
    await page.keyboard.press('?');
    await page.locator('#help').waitFor();
    for (const key of ['Space', 'S', 'R', 'P']) assert.ok((await text(page, '#help')).includes(key));
    await page.screenshot({ path: path.join(artifacts, 'help.png') });
    await page.keyboard.press('Escape');
    await page.locator('#help').waitFor({ state: 'detached' });
    await page.keyboard.press('p');
    await page.waitForFunction(() => document.body.classList.contains('presenter'));
    assert.equal(await page.locator('#lr-d').isVisible(), false, 'settings fold away in presenter mode');
    for (const id of ['#play', '#chart-prob', '#grid', '#sample']) assert.ok(await page.locator(id).isVisible(), id);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `presenter page is ${overflow}px too wide`);
    await page.keyboard.press(' ');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 40, null, { timeout: 120_000 });
    await page.screenshot({ path: path.join(artifacts, 'presenter-1280x720.png') });
    await page.keyboard.press(' ');
    await page.keyboard.press('p');
    await page.screenshot({ path: path.join(artifacts, 'normal-1280x720.png') });
    assert.deepEqual(problems, []);
  } finally { await close(); }
});

test('PNG and CSV exports hold the pictures and the curves', { timeout: 300_000 }, async () => {
  const { page, close } = await open('?backend=cpu&preset=tiny');
  try {
    await waitReady(page);
    await stepTo(page, 5);
    const png = (bytes) => ({ signature: bytes.subarray(1, 4).toString(), width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) });
    const grid = await download(page, '#export-grid');
    const gridSize = await page.evaluate(() => [document.querySelector('#grid').width, document.querySelector('#grid').height]);
    assert.equal(grid.name, 'ganplay-grid-step-5.png');
    assert.deepEqual(png(grid.bytes), { signature: 'PNG', width: gridSize[0] * 4, height: gridSize[1] * 4 });
    const sample = await download(page, '#export-sample');
    assert.deepEqual(png(sample.bytes), { signature: 'PNG', width: 280, height: 280 });
    // The exported digit is the one on screen, pixel for pixel (each pixel a 10x10 square).
    const same = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      // Drawn at its own size (no resampling); the centre of each square is the pixel it stands for.
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      c.getContext('2d').drawImage(img, 0, 0);
      const a = c.getContext('2d').getImageData(0, 0, img.width, img.height).data;
      const b = document.querySelector('#sample').getContext('2d').getImageData(0, 0, 28, 28).data;
      let worst = 0;
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          for (const [dx, dy] of [[0, 0], [9, 9], [5, 5]]) {
            worst = Math.max(worst, Math.abs(a[((y * 10 + dy) * img.width + x * 10 + dx) * 4] - b[(y * 28 + x) * 4]));
          }
        }
      }
      return worst;
    }, sample.bytes.toString('base64'));
    assert.equal(same, 0, `exported digit differs by up to ${same} grey levels`);
    const csv = (await download(page, '#export-csv')).bytes.toString().trim().split('\n');
    assert.equal(csv[0], 'step,loss_d,loss_g,d_x,d_g_z_before,d_g_z_after,steps_averaged');
    assert.deepEqual(csv.slice(1).map((r) => Number(r.split(',')[0])), [1, 2, 3, 4, 5]);
    for (const row of csv.slice(1)) assert.ok(row.split(',').slice(1, 6).every((v) => Number.isFinite(Number(v))), row);
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
