// Browser tests: the built page (pkg/, from `trunk build`) served on localhost and driven in
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
const pkg = path.resolve(here, '../../pkg');
const artifacts = path.join(here, 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.gz': 'application/octet-stream' };
let server, base;
/** Bytes sent for each path, as the browser received them. */
const wire = new Map();

before(async () => {
  assert.ok(fs.existsSync(path.join(pkg, 'index.html')), `no built page in ${pkg}: run trunk build`);
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = path.join(pkg, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(pkg) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404); res.end('not found'); return;
    }
    // As scripts/serve.py: the compressed copy (scripts/compress.sh) where the browser takes gzip.
    const type = types[path.extname(file)] || 'application/octet-stream';
    const gzipped = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') && fs.existsSync(`${file}.gz`);
    const sent = gzipped ? `${file}.gz` : file;
    wire.set(url.pathname, fs.statSync(sent).size);
    res.writeHead(200, { 'content-type': type, ...(gzipped ? { 'content-encoding': 'gzip' } : {}) });
    fs.createReadStream(sent).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}/`;
});
after(() => {
  const wasm = [...wire].filter(([p]) => p.endsWith('.wasm')).map(([p, n]) => `${p} ${(n / 1e6).toFixed(2)} MB`);
  if (wasm.length) console.log(`wasm on the wire: ${wasm.join(', ')}`);
  server?.close();
});

const baseArgs = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];
// The one flag WebGPU needs here; it then runs on SwiftShader (Vulkan on the CPU). Forcing
// ANGLE onto SwiftShader as well would draw the page itself through GL emulation, which takes
// most of a core from the page and the workers.
const webgpuArgs = ['--enable-unsafe-webgpu'];

/**
 * Every test goes through here. Opens base + query in a fresh browser, runs `body(page)` and
 * returns what it returns; then fails the test on any console error or uncaught error (the page's
 * or a worker's) that no pattern in `allowErrors` matches, and always closes the browser.
 * `options` (may be left out): webgpu, viewport, route (the arguments of context.route),
 * allowErrors, for the few tests that cause errors on purpose, and testHooks (default on: the
 * switch that lets `?fault=` inject failures; off, the page behaves as for a visitor).
 */
async function withPage(query, options, body) {
  if (typeof options === 'function') [options, body] = [{}, options];
  const { webgpu = true, viewport = { width: 1280, height: 900 }, route = null, allowErrors = [], testHooks = true } = options;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ganplay-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium', headless: true, viewport,
    args: [...baseArgs, ...(webgpu ? webgpuArgs : [])],
  });
  const problems = [];
  const unexpected = () => problems.filter((p) => !allowErrors.some((allowed) => allowed.test(p)));
  try {
    if (route) await context.route(...route);
    const page = context.pages()[0] ?? await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    // The page takes `?fault=` only where this switch is on (never on a visitor's browser).
    if (testHooks) await page.addInitScript(() => localStorage.setItem('ganplay.testHooks', '1'));
    await page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration }); })
        .observe({ type: 'longtask', buffered: true });
    });
    await page.goto(base + query);
    let result;
    try {
      result = await body(page);
    } catch (e) {
      // A failed wait often has its cause on the console.
      if (unexpected().length) console.log(`console and page errors before the failure (${query}):`, unexpected());
      // And on screen: what the page said when the wait gave up.
      const shown = await page.evaluate(() => Object.fromEntries(['status', 'step', 'notice', 'error', 'quality', 'collapse-alarm']
        .map((id) => [id, document.getElementById(id)?.innerText.replace(/\s+/g, ' ').slice(0, 400)]).filter(([, t]) => t)))
        .catch(() => ({}));
      console.log(`on screen at the failure (${query}):`, shown);
      await page.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
      throw e;
    }
    assert.deepEqual(unexpected(), [], `console or page errors on ${query}`);
    return result;
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

const text = (page, sel) => page.locator(sel).innerText();
const stepCount = async (page) => Number(await text(page, '#step'));
const points = (page, id) => page.locator(`#${id} > svg`).getAttribute('data-points').then(Number);
const version = (page, id) => page.locator(`#${id}`).getAttribute('data-version').then((v) => Number(v || 0));

async function waitReady(page, timeout = 120_000) {
  await page.locator('#play:not([disabled])').waitFor({ timeout });
}

test('loads without errors, names the WebGPU adapter, trains on it and the curves move', { timeout: 600_000 }, async () => {
  await withPage('?backend=webgpu&preset=tiny', async (page) => {
    await waitReady(page);
    // Plain words on screen, the adapter's technical name on hover.
    const backend = await text(page, '#backend');
    assert.match(backend, /^a software GPU \(WebGPU/, backend);
    const adapter = await page.locator('#backend').getAttribute('title');
    assert.match(adapter, /^WebGPU: .*swiftshader/i, adapter);
    assert.equal(await stepCount(page), 0);
    const gridBefore = await version(page, 'grid');
    const started = Date.now();
    await page.click('#play');
    // The first step compiles (and tunes) the GPU kernels: the status line says so meanwhile.
    await page.locator('#kernels.preparing', { hasText: 'preparing GPU kernels…' }).waitFor({ timeout: 60_000 });
    // No speed before the first steps are counted (not "0.0 steps/s").
    const rate = await text(page, '#rate');
    assert.ok(rate === 'starting' || Number(rate) > 0, rate);
    await page.locator('#kernels.ready').waitFor({ state: 'attached', timeout: 400_000 });
    const warmUp = await page.locator('#kernels').getAttribute('title');
    assert.match(warmUp, /ready after \d+\.\d s/, warmUp);
    console.log(`WebGPU (SwiftShader), tiny: ${warmUp}`);
    // A real GPU times both convolution paths meanwhile; a software one is not timed, and
    // keeps burn's. The adapter's hover text says which (the benchmark below times both here).
    const convolutions = await page.locator('#backend').getAttribute('data-convolutions');
    assert.equal(convolutions, "convolutions: burn's convolutions, untimed (the faster on every software GPU measured)");
    assert.ok((await page.locator('#backend').getAttribute('title')).endsWith(convolutions));
    console.log(`WebGPU (SwiftShader), tiny: ${convolutions}`);
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 3, null, { timeout: 400_000 });
    const ms = (Date.now() - started) / (await stepCount(page));
    console.log(`WebGPU (SwiftShader), tiny, batch 16: about ${ms.toFixed(0)} ms/step including start-up`);
    await page.click('#play'); // pause
    await page.waitForFunction(() => document.querySelector('#play').innerText.includes('Play'));
    const paused = await stepCount(page);
    await page.waitForTimeout(3000);
    assert.equal(await stepCount(page), paused, 'the step counter moved while paused');
    assert.equal(await points(page, 'chart-prob'), paused, 'one chart point a step');
    assert.equal(await points(page, 'chart-loss'), paused);
    await page.waitForFunction((v) => Number(document.querySelector('#grid').dataset.version) > v, gridBefore, { timeout: 60_000 });
    await page.screenshot({ path: path.join(artifacts, 'webgpu-trained.png'), fullPage: true });
  });
});

test('automatic choice prefers the CPU over a software WebGPU, says why, and digits form', { timeout: 600_000 }, async () => {
  await withPage('?preset=tiny&batch=32', async (page) => {
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
    // Charts a class can read: the two D(G(z)) lines differ in hue and dash, the axes have titles
    // and round ticks, and their text is at least 12 px on a desktop screen.
    const chart = await page.evaluate(() => {
      const line = (name) => document.querySelector(`#chart-prob polyline[data-series="${name}"]`);
      const [before, after] = [line('D(G(z)) before'), line('D(G(z)) after')];
      const ticks = [...document.querySelectorAll('#chart-prob .axes text.tick, #chart-loss .axes text.tick')].map((t) => t.textContent);
      const texts = [...document.querySelectorAll('#chart-prob .axes text, #chart-loss .axes text')];
      return {
        hues: [before.getAttribute('stroke'), after.getAttribute('stroke')],
        dashes: [before.getAttribute('stroke-dasharray'), after.getAttribute('stroke-dasharray')],
        titles: [...document.querySelectorAll('.chart .axes text.title')].map((t) => t.textContent),
        ticks,
        smallest: Math.min(...texts.map((t) => {
          const svg = t.ownerSVGElement, r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
          return parseFloat(getComputedStyle(t).fontSize) * Math.min(r.width / vb.width, r.height / vb.height);
        })),
      };
    });
    assert.notEqual(chart.hues[0], chart.hues[1]);
    assert.notEqual(chart.dashes[0] ?? '', chart.dashes[1] ?? '');
    assert.ok(chart.titles.includes('training step') && chart.titles.includes('loss'), chart.titles.join(', '));
    for (const tick of chart.ticks) {
      assert.ok(/^-?\d+(\.\d\d?)?$/.test(tick) && Math.abs(Number(tick) * 100 - Math.round(Number(tick) * 100)) < 1e-6, `tick ${tick} is not a round value`);
    }
    assert.ok(chart.smallest >= 12, `axis text is ${chart.smallest.toFixed(1)} px`);
    // What the explanation says students will see: the curves split and stay apart (D(x) well
    // above D(G(z))), rather than meeting at 0.5.
    const rows = (await download(page, '#export-csv')).bytes.toString().trim().split('\n').slice(1).map((r) => r.split(',').map(Number));
    const recent = rows.slice(-30);
    const mean = (i) => recent.reduce((sum, r) => sum + r[i], 0) / recent.length;
    console.log(`after ${rows.length} steps: D(x) ${mean(3).toFixed(2)}, D(G(z)) ${mean(4).toFixed(2)}`);
    assert.ok(mean(3) > mean(4) + 0.1, `D(x) ${mean(3)} and D(G(z)) ${mean(4)} should have split`);
    assert.match(await page.locator('#about').textContent(), /settle apart, around 0\.85 for real digits and 0\.2 for fakes/);
    await page.screenshot({ path: path.join(artifacts, 'cpu-trained.png'), fullPage: true });
  });
});

test('the quality panel scores the digits as training runs, and a collapse raises the alarm with the way back', { timeout: 400_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&fault=collapse', async (page) => {
    await waitReady(page);
    const started = Date.now();
    await page.click('#play');
    // Before its first score (some seconds into training), the score chart's steps axis spans
    // the run's curves, as the other charts' does.
    const spans = await (await page.waitForFunction(() => {
      const [prob, score] = ['#chart-prob > svg', '#chart-score > svg'].map((s) => document.querySelector(s));
      return Number(prob.dataset.points) >= 3 && { prob: prob.dataset.steps, score: score.dataset.steps, scored: Number(score.dataset.points) };
    }, null, { timeout: 120_000 })).jsonValue();
    assert.equal(spans.scored, 0, 'no score yet');
    assert.equal(spans.score, spans.prob, 'the empty score chart spans the steps of the curves');
    const [first, last] = spans.prob.split('-').map(Number);
    assert.ok(last >= first + 2, `the curves' steps ${spans.prob} span more than a step or two`);
    // A point after a few seconds of training, with numbers (never NaN) and ten bars.
    await page.waitForFunction(() => Number(document.querySelector('#quality').dataset.points) >= 1, null, { timeout: 120_000 });
    assert.match(await text(page, '#quality-score'), /^(\d+\.\d\d|—)$/);
    assert.equal(await page.locator('#histogram .bar').count(), 10);
    assert.ok(await points(page, 'chart-score') >= 1);
    // For scale, the shipped generator's score as the page scores a run (assets/pretrained/quality.json):
    // a sentence and a dashed level on the score chart.
    const shipped = JSON.parse(fs.readFileSync(path.join(here, '../../assets/pretrained/quality.json'), 'utf8'));
    assert.match(await text(page, '#quality-reference'), new RegExp(`the dashed line: the ${{ Dcgan: 'DCGAN', Cgan: 'conditional DCGAN', Vae: 'VAE' }[shipped.family]} shipped with this page, trained for `
      + `${shipped.steps.toLocaleString('en-US')} steps, scores ${shipped.quality.score.toFixed(2)} \\(Fréchet distance ${shipped.quality.frechet.toFixed(1)}\\); `
      + `real digits it never trained on score ${shipped.real_score.toFixed(2)}`));
    assert.equal(await page.locator('#chart-score .level text').innerHTML(), `pretrained ${shipped.quality.score.toFixed(1)}`);
    // The first scoring also reads the held-out digits' features once: the cost is a later one's
    // (the next point, or the collapse's, which replaces a point of the same step).
    await page.waitForFunction(() => Number(document.querySelector('#quality').dataset.points) >= 2 || document.querySelector('#collapse-alarm'),
      null, { timeout: 120_000 });
    const cost = Number(await page.locator('#quality').getAttribute('data-cost-ms'));
    console.log(`quality scoring (500 digits, tiny, CPU): ${cost} ms every 8 s of training (${(cost / 80).toFixed(1)} %)`);
    // Once the run draws digits (a classifier score of 3 over six kinds or more), the hook makes G
    // collapse onto one picture.
    await page.locator('#collapse-alarm').waitFor({ timeout: 300_000 });
    const alarm = await text(page, '#collapse-alarm');
    console.log(`collapse alarm after ${((Date.now() - started) / 1000).toFixed(0)} s: ${alarm}`);
    assert.match(alarm, /Mode collapse at step \d+: G draws only (one kind|\d kinds) of digit/);
    assert.match(alarm, /lower G learning rate.*label smoothing.*another loss/s);
    assert.equal(await page.locator('#chart-prob .marker').count(), 1, 'the moment is marked on the curves');
    await page.screenshot({ path: path.join(artifacts, 'collapse-alarm.png'), fullPage: true });
    // Presenter mode folds the quality panel away, not the alarm: it is among the messages, on
    // the one screen a projector shows.
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.click('#presenter');
    await page.locator('#quality').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('[id$="collapse-alarm"]').count(), 1, 'one alarm');
    assert.equal(await page.locator('#quality #collapse-alarm').count(), 0, 'not in the folded panel');
    const shown = await page.locator('#collapse-alarm').boundingBox();
    assert.ok(shown && shown.y >= 0 && shown.y + shown.height <= 720, `the alarm on screen: ${JSON.stringify(shown)}`);
    assert.equal(await text(page, '#collapse-alarm'), alarm);
    await page.screenshot({ path: path.join(artifacts, 'collapse-alarm-presenter.png') });
    await page.click('#presenter');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator('#quality #collapse-alarm').waitFor();
    // The hook pauses the run with the collapse on screen (a fast run trains its way out of it
    // within seconds); the way back, where a snapshot came before it.
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Play');
    // With points every few seconds, the quality charts still line up with the curves above.
    const [prob, score, fd] = await Promise.all(['chart-prob', 'chart-score', 'chart-fd'].map((id) => page.locator(`#${id} > svg`).getAttribute('data-steps')));
    assert.ok(prob.startsWith('1-') && score === prob && fd === prob, `${prob}, ${score}, ${fd}`);
    const back = page.locator('#collapse-go-back');
    if (await back.count()) {
      await back.click();
      await page.waitForFunction(() => /Loaded the snapshot at step/.test(document.querySelector('#notice')?.innerText ?? ''));
      await page.locator('#collapse-alarm').waitFor({ state: 'detached' });
    }
    // Training goes on, and the panel goes on scoring every few seconds.
    const scored = await points(page, 'chart-score');
    await page.click('#play');
    await page.waitForFunction((n) => Number(document.querySelector('#chart-score > svg').dataset.points) > n, scored, { timeout: 60_000 });
  });
});

test('without its classifier the quality panel says why in one line, and training goes on', { timeout: 120_000 }, async () => {
  const route = ['**/classifier.bin', (r) => r.fulfill({ status: 404, body: 'gone' })];
  await withPage('?backend=cpu&preset=tiny', { route, allowErrors: [/Failed to load resource.*404/] }, async (page) => {
    await waitReady(page);
    assert.match(await text(page, '#quality-unavailable'), /No quality scores: the digit classifier .* could not be loaded: the server answered 404.*Training goes on/);
    await stepTo(page, 2);
  });
});

test('the model menu trains a VAE: its ELBO curves, its reconstructions, a GAN file refused naming both, and its kept run resumed as a VAE', { timeout: 400_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&model=vae', async (page) => {
    await waitReady(page);
    assert.equal(await page.locator('#model').inputValue(), 'vae');
    assert.match(await text(page, '.samples h2'), /What the decoder draws/);
    // "What is going on here?" explains the VAE first, and the GANs' game among the other models.
    const about = await page.locator('#about').textContent();
    assert.match(about, /^What is going on here\?A VAE \(variational autoencoder\) learns to draw digits without a game/);
    assert.match(about, /What the curves do\. The VAE is scored on the ELBO/);
    assert.doesNotMatch(about, /settle apart/);
    assert.match(about, /Other models\. A DCGAN learns by a game between two networks/);
    // Settings that only a GAN has are not offered.
    for (const id of ['loss', 'label-smoothing', 'd-steps', 'augment']) assert.equal(await page.locator(`#${id}`).count(), 0, id);
    const readyAt = Date.now();
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 200, null, { timeout: 300_000 });
    await page.click('#play');
    console.log(`VAE, tiny, CPU: 200 steps in ${((Date.now() - readyAt) / 1000).toFixed(0)} s`);
    assert.equal(await page.locator('#chart-prob').count(), 0, 'no D(x) chart for a VAE');
    assert.ok(await points(page, 'chart-elbo') > 10);
    assert.deepEqual(await page.locator('#chart-terms polyline').evaluateAll((ls) => ls.map((l) => l.dataset.series)), ['reconstruction', 'KL']);
    // Held-out digits over their reconstructions: 10 columns, 2 rows, and the rows alike.
    await page.waitForFunction(() => Number(document.querySelector('#reconstructions')?.dataset.version) >= 1);
    const strip = await page.evaluate(() => {
      const c = document.getElementById('reconstructions');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const half = c.width * Math.floor(c.height / 2);
      let diff = 0, lit = 0;
      for (let i = 0; i < half; i++) { diff += Math.abs(d[4 * i] - d[4 * (i + half)]); lit += d[4 * i] > 128; }
      return { width: c.width, height: c.height, diff: diff / half, lit: lit / half };
    });
    console.log(`VAE reconstructions after 200 steps: mean difference ${strip.diff.toFixed(1)} grey levels (of 255), ${(strip.lit * 100).toFixed(0)} % lit`);
    assert.ok(strip.width > 4 * strip.height, `${strip.width}x${strip.height}`);
    assert.ok(strip.diff < 40, `reconstructions far from the digits: ${strip.diff}`);
    const rows = (await download(page, '#export-csv')).bytes.toString().trim().split('\n');
    assert.match(rows[0], /^step,reconstruction,kl,elbo,steps_averaged/);
    const elbo = rows.slice(1).map((r) => Number(r.split(',')[3]));
    assert.ok(elbo.at(-1) > elbo[0] + 50, `ELBO ${elbo[0]} -> ${elbo.at(-1)}`);
    await page.screenshot({ path: path.join(artifacts, 'vae.png'), fullPage: true });
    // A DCGAN's weights are not a VAE's: refused, naming both, and the run stays.
    const dcgan = fs.readFileSync(path.join(here, '../../assets/pretrained/generator.ganplay'));
    await page.setInputFiles('#load-file', { name: 'dcgan.ganplay', mimeType: 'application/octet-stream', buffer: dcgan });
    await page.waitForFunction(() => document.querySelector('#error')?.innerText.includes('dcgan.ganplay'));
    assert.match(await text(page, '#error'), /dcgan\.ganplay was not loaded: it holds a DCGAN \(nz 100, generator 32 wide with 2 extra layers, discriminator 32 wide with 2 extra layers\), and the run here is a VAE: choose DCGAN in the model menu first/);
    const steps = await stepCount(page);
    assert.ok(steps >= 200);
    // The run kept in this browser is a VAE's: a page opened without a model goes on from it as
    // one, even a page that compares a VAE with a DCGAN: the compared run becomes the DCGAN.
    await page.click('#snapshot-now');
    await untilKept(page, steps);
    await page.goto(`${base}?backend=cpu&compare=vae`);
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    assert.match(await text(page, '#kept-run'), /\(tiny VAE, step \d+\)/);
    await page.click('#kept-go-on');
    await page.waitForFunction(() => /Loaded the run kept in this browser/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await page.locator('#model').inputValue(), 'vae');
    assert.equal(Number(await text(page, '#column-step')), steps);
    await page.waitForFunction(() => /now a DCGAN/.test(document.querySelector('#b-notice')?.innerText));
    assert.deepEqual((await page.locator('.run-title').allInnerTexts()).map((t) => t.split('\n')[0].replace(/ step.*/, '')), ['VAE', 'DCGAN']);
    await page.waitForFunction(() => /model=vae/.test(location.search) && /compare=dcgan/.test(location.search));
    assert.equal(await page.locator('#compare').inputValue(), 'dcgan');
    // The compared model is offered as a trade of places.
    assert.deepEqual(await page.locator('#model option').evaluateAll((all) => all.map((o) => o.textContent)),
      ['DCGAN (trades places with the run beside)', 'conditional DCGAN', 'VAE']);
    assert.equal(await text(page, '#b-save'), 'Save the DCGAN run');
  });
});

test('a conditional DCGAN draws a row of each digit, and the class buttons redraw the same z as another digit', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&model=cgan', async (page) => {
    await waitReady(page);
    assert.match(await text(page, '.samples h2'), /a row for each digit/);
    // Where its curves settle is said for this model, not quoted from a DCGAN's.
    assert.match(await text(page, '#chart-prob .explain'), /about 0\.6 and 0\.3 in the default conditional run/);
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 100, null, { timeout: 200_000 });
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#grid').dataset.version) >= 2);
    const grid = await page.evaluate(() => [document.getElementById('grid').width, document.getElementById('grid').height]);
    assert.ok(Math.abs(grid[1] / grid[0] - 10 / 8) < 0.05, `grid ${grid}: 10 rows of 8`);
    const buttons = page.locator('.classes button.class');
    assert.equal(await buttons.count(), 10);
    const picture = () => page.evaluate(() => document.querySelector('#sample').toDataURL());
    const before = await picture();
    await buttons.nth(7).click();
    assert.equal(await buttons.nth(7).getAttribute('aria-pressed'), 'true');
    await page.waitForFunction((b) => document.querySelector('#sample').toDataURL() !== b, before, { timeout: 30_000 });
    await page.screenshot({ path: path.join(artifacts, 'cgan.png'), fullPage: true });
    // The keyboard: the arrows on a digit button go to the next digit (and take the focus
    // along), leaving the latent sliders alone; a digit key picks that digit.
    const z0 = await page.locator('#z0').inputValue();
    await page.keyboard.press('ArrowRight');
    assert.equal(await buttons.nth(8).getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), '8');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await buttons.nth(6).getAttribute('aria-pressed'), 'true');
    assert.equal(await page.locator('#z0').inputValue(), z0, 'the sliders stay');
    await page.locator('#play').focus();
    await page.keyboard.press('3');
    assert.equal(await buttons.nth(3).getAttribute('aria-pressed'), 'true');
    assert.equal(await page.locator('.classes button.class[aria-pressed="true"]').count(), 1);
  });
});

test('compare trains a DCGAN and a VAE side by side, driven by one set of buttons and sliders', { timeout: 500_000 }, async () => {
  // No size in the address: the workers pick it for the hardware, and each keeps its model.
  await withPage('?backend=cpu&compare=vae', async (page) => {
    await waitReady(page);
    assert.deepEqual((await page.locator('.run-title').allInnerTexts()).map((t) => t.split('\n')[0].replace(/ step.*/, '')), ['DCGAN', 'VAE']);
    await page.waitForFunction(() => Number(document.querySelector('#b-grid')?.dataset.version) >= 1, null, { timeout: 120_000 });
    assert.equal(await page.locator('#b-notice').count(), 0, 'the second run starts once, without a rebuild');
    // Before any training (so no snapshot is taken on its own), one press snapshots both; each
    // run lists its own.
    assert.equal(await page.locator('.snapshots li').count(), 0);
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="0"]').waitFor();
    await page.locator('#b-snapshots li[data-step="0"]').waitFor();
    assert.deepEqual(await page.locator('.run-snapshots h4').allInnerTexts(), ['The DCGAN run', 'The VAE run']);
    const started = Date.now();
    await page.click('#play');
    const steps = () => page.evaluate(() => [Number(document.querySelector('#column-step').innerText), Number(document.querySelector('#b-column-step').innerText)]);
    await page.waitForFunction(() => Number(document.querySelector('#column-step').innerText) >= 150 && Number(document.querySelector('#b-column-step').innerText) >= 150, null, { timeout: 300_000 });
    const [a, b] = await steps();
    assert.match(await text(page, '#b-column-rate'), /^\d+\.\d$/, 'the VAE\'s speed while it trains');
    console.log(`compare, tiny, CPU, two workers: DCGAN ${a} and VAE ${b} steps in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // Quality for both, then one pause for both.
    await page.waitForFunction(() => ['#quality', '#b-quality'].every((q) => Number(document.querySelector(q).dataset.points) >= 1), null, { timeout: 120_000 });
    await page.click('#play');
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Play', null, { timeout: 60_000 });
    // Each pauses after the steps it has under way; then neither moves.
    let [paused, now] = [await steps(), null];
    for (let tries = 0; tries < 20; tries++, paused = now) {
      await page.waitForTimeout(1000);
      now = await steps();
      if (now[0] === paused[0] && now[1] === paused[1]) break;
    }
    assert.deepEqual(now, paused, 'both runs paused');
    // Each column's title has its run's step and speed; the header has no step of one run alone.
    assert.deepEqual((await page.locator('.run-title').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ')),
      [`DCGAN step ${now[0]} · paused`, `VAE step ${now[1]} · paused`]);
    assert.equal(await page.locator('#status #step').count(), 0);
    // Paused, each grid shows the step its run stopped at (not the last redraw while training).
    await page.waitForFunction(([a, b]) => document.querySelector('#weights').innerText === `Showing your run at step ${a}.`
      && document.querySelector('#b-weights').innerText === `Showing your run at step ${b}.`, now, { timeout: 30_000 });
    assert.ok(await points(page, 'chart-prob') > 10);
    assert.ok(await points(page, 'b-chart-elbo') > 10);
    // Each run saves itself, named by its model; the rest of the panel says whose it is.
    assert.deepEqual([await text(page, '#save'), await text(page, '#b-save')], ['Save the DCGAN run', 'Save the VAE run']);
    assert.match(await text(page, '#keep-which'), /A loaded file goes to the DCGAN run \(the first\)/);
    // Each run exports its own curves, named by its model.
    const curves = { dcgan: await download(page, '#export-csv'), vae: await download(page, '#b-export-csv') };
    assert.equal(curves.dcgan.name, `ganplay-dcgan-metrics-step-${now[0]}.csv`);
    assert.equal(curves.vae.name, `ganplay-vae-metrics-step-${now[1]}.csv`);
    assert.match(curves.dcgan.bytes.toString(), /^step,loss_d/);
    assert.match(curves.vae.bytes.toString(), /^step,reconstruction,kl,elbo/);
    assert.equal(await text(page, '#b-export-grid'), 'VAE grid as PNG');
    for (const [button, family, step] of [['#save', 'dcgan', now[0]], ['#b-save', 'vae', now[1]]]) {
      const saved = await download(page, button);
      assert.equal(saved.name, `ganplay-${family}-step-${step}.ganplay`);
      assert.ok(Buffer.from(saved.bytes).includes(`"family":"${family === 'vae' ? 'Vae' : 'Dcgan'}"`), `${saved.name} holds a ${family}`);
    }
    console.log(`compare scores: DCGAN ${await text(page, '#quality-score')}, VAE ${await text(page, '#b-quality-score')}`);
    // One slider, both digits.
    const both = () => page.evaluate(() => [document.querySelector('#sample').toDataURL(), document.querySelector('#b-sample').toDataURL()]);
    const before = await both();
    await page.locator('input[aria-label="latent dimension 0"]').fill('2.5');
    await page.waitForFunction(([a, b]) => document.querySelector('#sample').toDataURL() !== a && document.querySelector('#b-sample').toDataURL() !== b, before, { timeout: 30_000 });
    const ids = await page.evaluate(() => [...document.querySelectorAll('[id]')].map((e) => e.id));
    assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'no id is used twice');
    await page.waitForFunction(() => location.search.includes('compare=vae'));
    await page.screenshot({ path: path.join(artifacts, 'compare.png'), fullPage: true });
    // The menu opens the page again with another model beside the first.
    assert.equal(await page.locator('#compare').inputValue(), 'vae');
    // The model on show is not offered beside itself (the same settings and seed: the same run).
    const offered = (menu) => page.locator(`${menu} option:not([hidden])`).evaluateAll((all) => all.map((o) => o.value));
    assert.deepEqual(await offered('#compare'), ['', 'cgan', 'vae']);
    // The model menu offers the compared model as a trade of places.
    assert.deepEqual(await page.locator('#model option').evaluateAll((all) => all.map((o) => o.value)), ['dcgan', 'cgan', 'vae']);
    assert.equal(await page.locator('#model option[value="vae"]').innerText(), 'VAE (trades places with the run beside)');
    await page.selectOption('#model', 'vae');
    await page.waitForFunction(() => /^VAE/.test(document.querySelectorAll('.run-title')[0]?.innerText) && /^DCGAN/.test(document.querySelectorAll('.run-title')[1]?.innerText));
    await page.waitForFunction(() => /model=vae/.test(location.search) && /compare=dcgan/.test(location.search));
    assert.match(await text(page, '#b-notice'), /The first run is now a VAE, so this one is now a DCGAN: training starts over/);
    await page.selectOption('#model', 'dcgan');
    await page.waitForFunction(() => /^DCGAN/.test(document.querySelectorAll('.run-title')[0]?.innerText) && /^VAE/.test(document.querySelectorAll('.run-title')[1]?.innerText));
    await page.selectOption('#compare', 'cgan');
    await page.waitForFunction(() => location.search.includes('compare=cgan') && document.querySelectorAll('.run-title').length === 2);
    assert.match(await page.locator('.run-column').nth(1).innerText(), /conditional DCGAN/);
    // The first run made a VAE: the menu still names the model compared, and offers the others.
    await page.selectOption('#model', 'vae');
    await page.waitForFunction(() => /^VAE/.test(document.querySelector('.run-title').innerText));
    assert.equal(await page.locator('#compare').inputValue(), 'cgan');
    assert.deepEqual(await offered('#compare'), ['', 'dcgan', 'cgan']);
  });
});

test('with a VAE first and a DCGAN compared, the DCGAN\'s own settings are in the form, marked so, and reach it', { timeout: 180_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&model=vae&compare=dcgan', async (page) => {
    await waitReady(page);
    // A step pressed as soon as the first run is ready (the compared run, started second, is
    // often not ready yet; the page-state tests cover both orders): both take it.
    await page.click('#step-once');
    await page.waitForFunction(() => ['#column-step', '#b-column-step'].every((s) => document.querySelector(s).innerText === '1'), null, { timeout: 60_000 });
    await page.waitForTimeout(1000);
    assert.deepEqual(await page.evaluate(() => ['#column-step', '#b-column-step'].map((s) => document.querySelector(s).innerText)), ['1', '1']);
    const label = (id) => page.locator(`label[for="${id}"] > span`).innerText();
    assert.equal(await label('loss'), 'Loss (DCGAN only)');
    assert.match(await label('augment'), /\(DCGAN only\)$/);
    // A setting both share, named for each run's networks; the sizes' menu in the VAE's words.
    assert.equal(await label('lr-d'), "Encoder learning rate, and the DCGAN's D learning rate");
    assert.equal(await label('ema'), "Average of the decoder (EMA), and the DCGAN's average of G (EMA)");
    assert.equal(await label('batch'), 'Batch size');
    assert.equal(await page.locator('#preset option[value="tiny"]').innerText(), 'tiny (16 and 8 wide)');
    assert.match(await text(page, '#preset-explain'), /The widths are the decoder's, then the encoder's/);
    await page.selectOption('#loss', 'hinge');
    await page.locator('#d-steps').fill('2');
    await page.locator('#d-steps').dispatchEvent('change');
    await page.waitForFunction(() => /loss=hinge/.test(location.search) && /d_steps=2/.test(location.search));
    // The compared DCGAN's saved run holds them.
    let header = '';
    for (let tries = 0; tries < 10 && !(header.includes('"loss":"Hinge"') && header.includes('"d_steps":2')); tries++) {
      await page.waitForTimeout(500);
      header = Buffer.from((await download(page, '#b-save')).bytes).subarray(16, 2000).toString('latin1');
    }
    assert.ok(header.includes('"family":"Dcgan"') && header.includes('"loss":"Hinge"') && header.includes('"d_steps":2'), header);
  });
});

test('settings that make each step slow on the processor are warned of before Play', { timeout: 120_000 }, async () => {
  await withPage('?backend=cpu&nz=512&ngf=128&ndf=128&batch=256', async (page) => {
    await waitReady(page, 300_000);
    assert.match(await text(page, '#heavy'), /heavy for the processor: about \d+ s a step/);
    await page.locator('#preset').selectOption('tiny');
    await page.locator('#heavy').waitFor({ state: 'detached' });
  });
});

test('moving a latent slider changes the big sample, while paused and while training', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
    await waitReady(page);
    await page.waitForFunction(() => Number(document.querySelector('#sample').dataset.version) >= 1);
    const snapshot = () => page.evaluate(() => document.querySelector('#sample').toDataURL());
    const before = await snapshot();
    const slider = page.locator('input[aria-label="latent dimension 0"]');
    await slider.fill('2.5');
    // A redraw of the old z may still be on its way: the sample must change once the new one lands.
    const changed = await page.waitForFunction((b) => document.querySelector('#sample').toDataURL() !== b, before, { timeout: 30_000 })
      .then(() => true, () => false);
    assert.ok(changed, 'the sample did not change');
    await page.click('#play');
    const v1 = await version(page, 'sample');
    await slider.fill('-2.5');
    await page.waitForFunction((v) => Number(document.querySelector('#sample').dataset.version) > v, v1, { timeout: 30_000 });
    await page.click('#walk-new');
    await page.locator('#walk').fill('0.5');
    await page.click('#play');
    // A random z sits on the sliders as it is, to the two decimals shown beside them (a
    // coarser step would move each thumb to its nearest step).
    await page.click('#random-z');
    const shown = await page.evaluate(() => [...document.querySelectorAll('.sliders label.slider')]
      .map((l) => [Number(l.querySelector('input').value), Number(l.querySelector('output').textContent)]));
    assert.ok(shown.length >= 8 && shown.every(([thumb, z]) => Math.abs(thumb - z) < 1e-6 || Math.abs(z) > 3), `sliders and z: ${JSON.stringify(shown)}`);
    // "Walk somewhere new" walks there: the walk slider goes from 0 to 1, the digit redrawn on
    // the way; dragging the slider takes over.
    const v2 = await version(page, 'sample');
    await page.click('#walk-new');
    await page.waitForFunction(() => Number(document.querySelector('#walk').value) === 1, null, { timeout: 20_000 });
    assert.ok(await version(page, 'sample') >= v2 + 3, 'the digit is redrawn along the walk');
    await page.click('#walk-new');
    await page.locator('#walk').fill('0.3');
    await page.waitForTimeout(1000);
    assert.equal(await page.locator('#walk').inputValue(), '0.3');
    await page.screenshot({ path: path.join(artifacts, 'latent.png'), fullPage: true });
  });
});

test('the big sample answers a slider in the middle of a slow training step', { timeout: 300_000 }, async () => {
  // WebGPU on SwiftShader takes seconds a step; the sampling worker draws meanwhile.
  await withPage('?backend=webgpu&preset=tiny', async (page) => {
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
  });
});

test('without WebGPU the CPU path runs and says so', { timeout: 300_000 }, async () => {
  await withPage('?preset=tiny', { webgpu: false }, async (page) => {
    await waitReady(page);
    assert.equal(await text(page, '#backend-reason'), 'No WebGPU here: training on the CPU');
    await page.click('#step-once');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 1);
    assert.equal(await points(page, 'chart-prob'), 1);
  });
});

test('a diverging run pauses with a message and keeps the last good weights', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&fault=nan', async (page) => {
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
  });
});

test('a panic in the training worker is shown, and a new worker takes over', { timeout: 300_000 }, async () => {
  // The injected panic: the panic hook's message, then the trap it ends in.
  await withPage('?backend=cpu&fault=panic', { allowErrors: [/a panic injected for testing/, /\bunreachable\b/] }, async (page) => {
    await waitReady(page);
    await page.click('#play');
    await page.locator('#error').waitFor({ timeout: 120_000 });
    assert.match(await text(page, '#error'), /^The training worker crashed \(a panic injected for testing\)\. The training worker was restarted and starts over/);
    // Where it panicked is a detail, folded away.
    assert.doesNotMatch(await text(page, '#error'), /src\/|panicked at/);
    assert.match(await page.locator('.error details pre').textContent(), /panicked at src\/web\/worker\.rs/);
    await waitReady(page);
    assert.equal(await stepCount(page), 0);
    await page.screenshot({ path: path.join(artifacts, 'worker-panic.png'), fullPage: true });
    // New networks: the crash of the run they replace is old news.
    await page.locator('#seed').fill('5');
    await page.locator('#seed').dispatchEvent('change');
    await page.waitForFunction(() => /training starts over/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await page.locator('#error').count(), 0);
  });
});

test('a lost GPU device moves training to the CPU from the last snapshot', { timeout: 600_000 }, async () => {
  // The destroyed device may crash the worker (a panic and its trap), and the GPU may say it is lost.
  const allowErrors = [/panicked at/, /\bunreachable\b/, /\blost\b|destroyed/i];
  await withPage('?backend=webgpu&preset=tiny&fault=device-lost', { allowErrors }, async (page) => {
    await waitReady(page);
    assert.match(await text(page, '#backend'), /WebGPU/);
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
  });
});

test('a GPU that refuses the tiled convolution kernel keeps training on WebGPU with burn\'s, and says so', { timeout: 300_000 }, async () => {
  // The fault hands the GPU a pipeline past its limits while the tiled kernel is timed, as an
  // adapter that cannot run that kernel would report it; the trial runs on SwiftShader too.
  await withPage('?backend=webgpu&preset=tiny&fault=kernel-refused', async (page) => {
    await waitReady(page);
    assert.match(await text(page, '#backend'), /WebGPU/);
    await stepTo(page, 1);
    const convolutions = await page.locator('#backend').getAttribute('data-convolutions');
    assert.match(convolutions, /^convolutions: burn's convolutions, \d+\.\d ms a step; ganplay's tiled kernel refused by the GPU: \S.*workgroup/i, convolutions);
    const notice = await text(page, '#notice');
    // The browser's words, without where they came from ("While calling [Device]…").
    assert.match(notice, /^Convolutions: this GPU refused ganplay's tiled kernel, so training goes on with burn's convolutions\. The browser said: \S[^\n]*workgroup[^\n]*[^.]\.$/i, notice);
    assert.doesNotMatch(notice, /While calling/);
    assert.equal(await page.locator('#error').count(), 0, 'no crash, no error');
    // Training goes on, on the GPU.
    await stepTo(page, 2);
    assert.match(await text(page, '#backend'), /WebGPU/);
    assert.equal(await page.locator('#error').count(), 0);
    await page.screenshot({ path: path.join(artifacts, 'kernel-refused.png'), fullPage: true });
    console.log(`kernel refused: ${notice}`);
  });
});

test('switching the backend carries the run over to it', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&seed=3', async (page) => {
    await waitReady(page);
    await stepTo(page, 2);
    await page.selectOption('#backend-choice', 'webgpu');
    await page.waitForFunction(() => /WebGPU/.test(document.querySelector('#backend').innerText), null, { timeout: 120_000 });
    // Said as the move it is, where the run went.
    await page.waitForFunction(() => document.querySelector('#notice')?.innerText
      === 'Moved the run to a software GPU (WebGPU, emulated on the processor) at step 2, paused. Press play to go on.', null, { timeout: 120_000 });
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
    // Changed again before the run has reached the new worker, the run goes to the newer one
    // (automatic: the CPU here, over a software GPU).
    await page.selectOption('#backend-choice', 'cpu');
    await page.waitForFunction(() => /Moving the run at step 3/.test(document.querySelector('#notice')?.innerText));
    await page.selectOption('#backend-choice', 'auto');
    await page.waitForFunction(() => document.querySelector('#notice')?.innerText
      === 'Moved the run to your processor (CPU) at step 3, paused. Press play to go on.', null, { timeout: 120_000 });
    await waitReady(page);
    assert.equal(await stepCount(page), 3);
    assert.equal(await points(page, 'chart-prob'), 3);
    assert.doesNotMatch(page.url(), /backend=(cpu|webgpu)/);
  });
});

test('a missing or damaged data file is named on the page', { timeout: 300_000 }, async () => {
  // The browser reports the 404 on the console ("Failed to load resource: ... 404 (Not Found)").
  for (const [route, expected, allowErrors] of [
    [(r) => r.fulfill({ status: 404, body: 'gone' }), /Could not load assets\/mnist\/images-idx3-ubyte\.gz: the server answered 404/, [/Failed to load resource.*404/]],
    [(r) => r.fulfill({ status: 200, body: 'not a gzip file at all' }), /MNIST files are damaged: images file: not a gzip file/, []],
  ]) {
    await withPage('?backend=cpu', { route: ['**/images-idx3-ubyte.gz', route], allowErrors }, async (page) => {
      await page.locator('#error').waitFor({ timeout: 120_000 });
      assert.match(await text(page, '#error'), expected);
      // A file loaded then is answered, not left waiting: the worker has no run to load it into.
      await page.setInputFiles('#load-file', { name: 'run.ganplay', mimeType: 'application/octet-stream', buffer: Buffer.from('GANPLAY\0') });
      await page.waitForFunction(() => /run\.ganplay was not loaded: the training digits could not be loaded/.test(document.querySelector('#error')?.innerText));
      assert.match(await text(page, '#load-refused'), /run\.ganplay was not loaded/);
    });
  }
  // A damaged pretrained generator is named; the page trains all the same.
  await withPage('?backend=cpu', { route: ['**/generator.ganplay', (r) => r.fulfill({ status: 200, body: Buffer.from('GANPLAY\0\x01\0\0\0', 'latin1') })] }, async (page) => {
    await waitReady(page);
    assert.match(await text(page, '#notice'), /pretrained generator \(assets\/pretrained\/generator\.ganplay\) was not loaded: the weights file is truncated.*shows the run's own generator/);
    // The run's own generator draws the grid once its first picture comes.
    await page.waitForFunction(() => /your run at step 0/.test(document.querySelector('#weights').innerText));
    await page.click('#step-once');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 1);
  });
});

test('unknown or out-of-range address settings are named in a note', { timeout: 120_000 }, async () => {
  // A visitor's browser: the test hooks are off, so a link cannot inject a failure.
  await withPage('?backend=cpu&lr_d=banana&batch=100000&colour=red&seed=7&fault=panic', { testHooks: false }, async (page) => {
    await waitReady(page);
    const note = await text(page, '#notice');
    for (const bad of ['lr_d=banana', 'batch=100000', 'colour=red', 'fault=panic']) assert.ok(note.includes(bad), note);
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 8, null, { timeout: 120_000 });
    await page.click('#play');
    assert.equal(await page.locator('#error').count(), 0, 'the ignored fault was not injected');
    // A z of the wrong length is named once the networks say what size they take.
    await withPage('?backend=cpu&z=0.5,1,-1', async (short) => {
      await waitReady(short);
      assert.match(await text(short, '#notice'), /Ignored the address's z: it has 3 numbers, and this generator takes 100/);
    });
    assert.ok(!note.includes('seed=7'), note);
    assert.equal(await page.locator('#seed').inputValue(), '7');
  });
});

test('a shared address restores the settings, and size changes rebuild the networks', { timeout: 120_000 }, async () => {
  await withPage('?backend=cpu&preset=small&lr_d=0.0006&lr_g=0.0001&beta1=0.3&batch=8&seed=9&nz=20&ndf=12', async (page) => {
    await waitReady(page);
    const values = {};
    for (const id of ['preset', 'lr-d', 'lr-g', 'beta1', 'batch', 'seed', 'nz', 'ngf', 'ndf']) values[id] = await page.locator(`#${id}`).inputValue();
    // small's G width, with nz and D width set apart from it: custom sizes.
    assert.deepEqual(values, { preset: 'custom', 'lr-d': '0.0006', 'lr-g': '0.0001', beta1: '0.3', batch: '8', seed: '9', nz: '20', ngf: '24', ndf: '12' });
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
  });
});

/** Clicks `selector` and returns the downloaded file's name and bytes. */
async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const bytes = fs.readFileSync(await file.path());
  fs.writeFileSync(path.join(artifacts, file.suggestedFilename()), bytes);
  return { name: file.suggestedFilename(), bytes };
}

/** The logical screen size of a GIF and each frame's delay (hundredths of a second), read by
 *  walking its blocks. */
function gifFrames(bytes) {
  assert.equal(bytes.subarray(0, 6).toString('latin1'), 'GIF89a');
  const [width, height, packed] = [bytes.readUInt16LE(6), bytes.readUInt16LE(8), bytes[10]];
  let at = 13 + (packed & 0x80 ? 3 * (1 << ((packed & 7) + 1)) : 0);
  const skipSubBlocks = () => {
    while (bytes[at] !== 0) at += bytes[at] + 1;
    at += 1;
  };
  const delays = [];
  let delay = 0;
  for (;;) {
    const block = bytes[at++];
    if (block === 0x3b) break;
    if (block === 0x21) {
      // An extension: a frame's graphic control (its delay), or another (the loop count).
      if (bytes[at++] === 0xf9) delay = bytes.readUInt16LE(at + 2);
      skipSubBlocks();
    } else if (block === 0x2c) {
      const local = bytes[at + 8];
      at += 9 + (local & 0x80 ? 3 * (1 << ((local & 7) + 1)) : 0) + 1;
      skipSubBlocks();
      delays.push(delay);
    } else {
      throw new Error(`not a GIF block: ${block} at byte ${at - 1}`);
    }
  }
  return { width, height, delays };
}

/** Steps the run one step at a time up to step `n`. A GPU's first step prepares its kernels,
 *  which on SwiftShader in a busy machine can take longer than Playwright's 30 s default. */
async function stepTo(page, n) {
  while (await stepCount(page) < n) {
    const now = await stepCount(page);
    await page.click('#step-once');
    await page.waitForFunction((k) => Number(document.querySelector('#step').innerText) === k + 1, now, { timeout: 120_000 });
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
    await withPage(`?backend=${backend}&preset=tiny`, async (page) => {
      await page.waitForFunction(() => /pretrained generator/.test(document.querySelector('#weights')?.innerText ?? '')
        && Number(document.querySelector('#sample')?.dataset.version) >= 1, null, { timeout: 120_000 });
      console.log(`page open to pretrained digits (${await text(page, '#backend')}): ${Date.now() - opened} ms`);
      assert.equal(await stepCount(page), 0);
      assert.match(await text(page, '#weights'), /pretrained generator \(trained for [\d,]+ steps/);
      assert.ok(await spread(page, 'grid') > 40, 'the grid looks flat');
      assert.ok(await spread(page, 'sample') > 40, 'the sample looks flat');
      await page.screenshot({ path: path.join(artifacts, `pretrained-${backend}.png`), fullPage: true });
      if (backend === 'cpu') {
        await page.click('#step-once');
        await page.waitForFunction(() => /your run at step 1/.test(document.querySelector('#weights').innerText));
      }
    });
  }
  // A conditional DCGAN and a VAE have generators of their own shipped: their digits, their
  // quality for scale.
  for (const [model, drawer, title] of [['cgan', 'generator', 'conditional DCGAN'], ['vae', 'decoder', 'VAE']]) {
    await withPage(`?backend=cpu&preset=tiny&model=${model}`, async (page) => {
      await page.waitForFunction(() => /pretrained/.test(document.querySelector('#weights')?.innerText ?? '')
        && Number(document.querySelector('#sample')?.dataset.version) >= 1, null, { timeout: 120_000 });
      assert.match(await text(page, '#weights'), new RegExp(`Showing the pretrained ${drawer} \\(trained for [\\d,]+ steps`));
      assert.ok(await spread(page, 'grid') > 40, `the ${model} grid looks flat`);
      assert.ok(await spread(page, 'sample') > 40, `the ${model} sample looks flat`);
      const shipped = JSON.parse(fs.readFileSync(path.join(here, `../../assets/pretrained/${model}/quality.json`), 'utf8'));
      assert.equal(shipped.family.toLowerCase(), model);
      await page.locator('#quality-reference').waitFor();
      assert.match(await text(page, '#quality-reference'), new RegExp(`the ${title} shipped with this page, trained for .* scores ${shipped.quality.score.toFixed(2)}`));
      // A VAE's reconstructions are its run's own: they come once it trains.
      assert.equal(await page.locator('#reconstructions').count(), 0);
      await page.screenshot({ path: path.join(artifacts, `pretrained-${model}.png`), fullPage: true });
      await page.click('#step-once');
      await page.waitForFunction(() => /your run at step 1/.test(document.querySelector('#weights').innerText));
      if (model === 'vae') await page.locator('#reconstructions').waitFor();
    });
  }
});

test('a saved run, loaded after a reload, takes the same next step', { timeout: 300_000 }, async () => {
  const query = '?backend=cpu&preset=tiny&seed=5&lr_d=0.0003';
  const { saved, expected, curves } = await withPage(query, async (page) => {
    await waitReady(page);
    await stepTo(page, 3);
    const saved = await download(page, '#save');
    assert.equal(saved.name, 'ganplay-dcgan-step-3.ganplay');
    assert.equal(saved.bytes.subarray(0, 8).toString('latin1'), 'GANPLAY\0');
    await stepTo(page, 4);
    const csv = (await download(page, '#export-csv')).bytes.toString().trim().split('\n');
    return { saved, expected: csv.at(-1), curves: csv.slice(0, 5) };
  });
  // A row's step and losses (the scores depend on when the panel last scored).
  const losses = (rows) => rows.map((row) => row.split(',').slice(0, 6).join(','));
  await withPage('?backend=cpu&preset=small&seed=1', async (page) => {
    await waitReady(page);
    await stepTo(page, 1);
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="1"]').waitFor();
    await page.setInputFiles('#load-file', { name: saved.name, mimeType: 'application/octet-stream', buffer: saved.bytes });
    await page.waitForFunction(() => /Loaded ganplay-dcgan-step-3\.ganplay: the run is at step 3/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await stepCount(page), 3);
    // The file brought its curves: the charts show its three steps, not this page's run.
    assert.doesNotMatch(await page.locator('#notice').innerText(), /brings no curves/);
    const brought = (await download(page, '#export-csv')).bytes.toString().trim().split('\n');
    assert.deepEqual(losses(brought), losses(curves.slice(0, 4)));
    // The snapshots are the loaded run's: the run it replaced is not the one a crash would bring back.
    await page.locator('#snapshots li[data-step="3"]').waitFor();
    assert.deepEqual(await page.locator('#snapshots li').evaluateAll((items) => items.map((li) => li.dataset.step)), ['3']);
    // The settings came with the file.
    assert.equal(await page.locator('#seed').inputValue(), '5');
    assert.equal(await page.locator('#lr-d').inputValue(), '0.0003');
    assert.equal(await page.locator('#preset').inputValue(), 'tiny');
    await stepTo(page, 4);
    const rows = (await download(page, '#export-csv')).bytes.toString().trim().split('\n');
    const row = rows.at(-1);
    assert.ok(row.startsWith('4,'), row);
    assert.equal(row, expected, 'the resumed step differs from the original');
    assert.deepEqual(losses(rows), losses(curves));
  });
  // The same file goes on on WebGPU too (Adam's state moves to the GPU at the first step).
  await withPage('?backend=webgpu&preset=tiny', async (gpu) => {
    await waitReady(gpu);
    await gpu.setInputFiles('#load-file', { name: saved.name, mimeType: 'application/octet-stream', buffer: saved.bytes });
    await gpu.waitForFunction(() => /Loaded ganplay-dcgan-step-3\.ganplay/.test(document.querySelector('#notice')?.innerText));
    await stepTo(gpu, 4);
    const row = (await download(gpu, '#export-csv')).bytes.toString().trim().split('\n').at(-1).split(',');
    assert.equal(row[0], '4');
    assert.ok(row.slice(1, 6).every((v) => v !== '' && Number.isFinite(Number(v))), row.join(','));
  });
});

test('G\'s and D\'s extra layers come from the address, train on the CPU, and a saved file brings them to WebGPU', { timeout: 300_000 }, async () => {
  const saved = await withPage('?backend=cpu&preset=tiny&refine=2&d_refine=1&seed=3', async (page) => {
    await waitReady(page);
    assert.equal(await page.locator('#refine').inputValue(), '2');
    assert.equal(await page.locator('#d-refine').inputValue(), '1');
    // A preset is its widths: tiny with extra layers is tiny.
    assert.equal(await page.locator('#preset').inputValue(), 'tiny');
    await stepTo(page, 3);
    const row = (await download(page, '#export-csv')).bytes.toString().trim().split('\n').at(-1).split(',');
    assert.ok(row.slice(1, 6).every((v) => v !== '' && Number.isFinite(Number(v))), row.join(','));
    assert.ok(await spread(page, 'grid') > 5, 'the grid looks flat');
    return download(page, '#save');
  });
  await withPage('?backend=webgpu&preset=tiny', async (page) => {
    await waitReady(page);
    assert.equal(await page.locator('#refine').inputValue(), '0');
    assert.equal(await page.locator('#d-refine').inputValue(), '2', 'the default: two extra layers in D');
    await page.setInputFiles('#load-file', { name: saved.name, mimeType: 'application/octet-stream', buffer: saved.bytes });
    await page.waitForFunction(() => /Loaded ganplay-dcgan-step-3\.ganplay/.test(document.querySelector('#notice')?.innerText));
    assert.match(await text(page, '#notice'), /generator 16 wide with 2 extra layers, discriminator 8 wide with 1 extra layer\), and the run here was .*generator 16 wide, discriminator 8 wide with 2 extra layers:/);
    assert.equal(await page.locator('#refine').inputValue(), '2');
    assert.equal(await page.locator('#d-refine').inputValue(), '1');
    await page.waitForFunction(() => /[?&]refine=2/.test(location.search) && /d_refine=1/.test(location.search) && /preset=tiny/.test(location.search));
    await stepTo(page, 4);
    const row = (await download(page, '#export-csv')).bytes.toString().trim().split('\n').at(-1).split(',');
    assert.equal(row[0], '4');
    assert.ok(row.slice(1, 6).every((v) => v !== '' && Number.isFinite(Number(v))), row.join(','));
    // Changing it starts over with new networks.
    await page.locator('#refine').fill('1');
    await page.locator('#refine').dispatchEvent('change');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 0);
    await page.waitForFunction(() => /[?&]refine=1/.test(location.search) && /d_refine=1/.test(location.search));
  });
});

/** The step of the run kept in this browser's storage (null when none). */
const keptStep = (page, key = 'last') => page.evaluate((key) => new Promise((resolve, reject) => {
  const opening = indexedDB.open('ganplay', 1);
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const request = opening.result.transaction('runs').objectStore('runs').get(key);
    request.onsuccess = () => { opening.result.close(); resolve(request.result?.steps ?? null); };
  };
}), key);

/** Waits (up to 30 s) until the stored run's step is `steps` (`key`: 'compared' for the run
 *  compared beside it). */
async function untilKept(page, steps, key = 'last') {
  for (let waited = 0; (await keptStep(page, key)) !== steps; waited += 200) {
    assert.ok(waited < 30_000, `the stored ${key} run did not become ${steps}`);
    await page.waitForTimeout(200);
  }
}

/** Takes a snapshot now, at step `steps`, and waits until the browser keeps it. */
async function snapshotKept(page, steps) {
  await page.click('#snapshot-now');
  await page.locator(`#snapshots li[data-step="${steps}"]`).waitFor();
  await untilKept(page, steps);
}

/** Reloads the page and checks that no kept run is offered (the offer comes within a second). */
async function noOfferAfterReload(page, message) {
  await page.reload();
  await waitReady(page);
  await page.waitForTimeout(1000);
  assert.equal(await page.locator('#kept-run').count(), 0, message);
}

test('a reload keeps the run: the page offers to go on from its last snapshot, or to forget it', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&seed=9', async (page) => {
    await waitReady(page);
    assert.equal(await page.locator('#kept-run').count(), 0, 'a fresh browser has no run to offer');
    await stepTo(page, 3);
    await snapshotKept(page, 3);
    await stepTo(page, 4);
    const expected = (await download(page, '#export-csv')).bytes.toString().trim();

    // A reload (another setup in the address, even) offers the kept run; going on resumes it exactly.
    await page.goto(page.url().replace('seed=9', 'seed=1').replace('preset=tiny', 'preset=small'));
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    assert.match(await text(page, '#kept-run'), /Your last run \(tiny DCGAN, step 3\) is kept in this browser\. Training here replaces it once the new run gets that far\./);
    await page.screenshot({ path: path.join(artifacts, 'kept-run.png') });
    await page.click('#kept-go-on');
    await page.waitForFunction(() => /Loaded the run kept in this browser \(step 3\)/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await page.locator('#kept-run').count(), 0);
    assert.equal(await stepCount(page), 3);
    assert.equal(await page.locator('#seed').inputValue(), '9');
    // Its curves came along: the charts show steps 1 to 3 before any new step.
    assert.equal(await points(page, 'chart-prob'), 3);
    await stepTo(page, 4);
    const csv = (await download(page, '#export-csv')).bytes.toString().trim();
    assert.equal(csv.split('\n').at(-1), expected.split('\n').at(-1), 'the resumed step differs from the original');
    assert.equal(csv, expected, 'the curves after going on are the run\'s own');

    // Forgotten, it is offered no more.
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    await page.click('#kept-forget');
    assert.equal(await page.locator('#kept-run').count(), 0);
    await untilKept(page, null);
    await noOfferAfterReload(page, 'a forgotten run is offered again');
  });
});

test('a run that a changed seed or Reset starts over is offered to go on from', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&seed=9', async (page) => {
    await waitReady(page);
    await stepTo(page, 3);
    await snapshotKept(page, 3);
    await stepTo(page, 5);
    // A new seed starts over; the run before stays, offered as the run kept in this browser:
    // as it was (step 5), not only as its last snapshot (step 3).
    await page.locator('#seed').fill('2');
    await page.locator('#seed').dispatchEvent('change');
    await page.waitForFunction(() => /training starts over/.test(document.querySelector('#notice')?.innerText));
    await page.locator('#kept-run', { hasText: 'step 5)' }).waitFor();
    assert.match(await text(page, '#kept-run'), /^Your last run \(tiny DCGAN, step 5\) is kept in this browser\. Training here replaces it once the new run gets that far\./);
    await waitReady(page);
    await stepTo(page, 1);
    await page.screenshot({ path: path.join(artifacts, 'replaced-run-offered.png') });
    // Going on from it brings back its seed, its step and its curves.
    await page.click('#kept-go-on');
    await page.waitForFunction(() => /Loaded the run kept in this browser \(step 5\)/.test(document.querySelector('#notice')?.innerText));
    assert.equal(await stepCount(page), 5);
    assert.equal(await page.locator('#seed').inputValue(), '9');
    assert.equal(await points(page, 'chart-prob'), 5);
    assert.equal(await page.locator('#kept-run').count(), 0);
    // Reset offers the run it replaces too, and the browser keeps it for a reload.
    await stepTo(page, 7);
    await page.click('#reset');
    await page.locator('#kept-run', { hasText: 'step 7)' }).waitFor();
    await waitReady(page);
    assert.equal(await stepCount(page), 0);
    await untilKept(page, 7);
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run', { hasText: '(tiny DCGAN, step 7)' }).waitFor();
    // Trained further and, while training, another model: the run as the worker last had it
    // is offered (its snapshot comes before the new networks), with the steps it took since
    // its last snapshot, and its curves to that step.
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#step').innerText) >= 30, null, { timeout: 120_000 });
    const reached = await stepCount(page);
    await page.selectOption('#model', 'vae');
    const offeredStep = () => page.evaluate(() => Number(document.querySelector('#kept-run')?.innerText.match(/tiny DCGAN, step (\d+)\)/)?.[1]));
    await page.waitForFunction((n) => Number(document.querySelector('#kept-run')?.innerText.match(/tiny DCGAN, step (\d+)\)/)?.[1]) >= n, reached);
    const offered = await offeredStep();
    await waitReady(page);
    // The new model trains on, as the run it replaced did.
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Pause' && Number(document.querySelector('#step').innerText) >= 2,
      null, { timeout: 60_000 });
    await page.click('#kept-go-on');
    await page.waitForFunction((n) => Number(document.querySelector('#step').innerText) === n, offered, { timeout: 120_000 });
    assert.equal(await page.locator('#model').inputValue(), 'dcgan');
    assert.equal(await points(page, 'chart-prob'), offered, 'the curves come back with it, to its step');
  });
});

test('the time-lapse GIF animates the run\'s grid over its steps, each frame saying its step', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
    await waitReady(page);
    assert.ok(await page.locator('#export-gif').isDisabled(), 'the shipped generator\'s grid is not the run\'s');
    // (A grid a second and a half while training; each a frame early in a run.)
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#export-gif').dataset.frames) >= 6, null, { timeout: 200_000 });
    await page.click('#play');
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Play');
    // Paused, the worker draws the grid of the step it stopped at, then snapshots it.
    await page.locator(`#snapshots li[data-step="${await stepCount(page)}"]`).waitFor();
    const frames = Number(await page.locator('#export-gif').getAttribute('data-frames'));
    const started = Date.now();
    const gif = await download(page, '#export-gif');
    const ms = Date.now() - started;
    const parsed = gifFrames(gif.bytes);
    console.log(`time-lapse at step ${await stepCount(page)}: ${parsed.delays.length} frames, ${gif.bytes.length} bytes, ${ms} ms from the click to the file`);
    assert.equal(gif.name, `ganplay-timelapse-step-${await stepCount(page)}.gif`, 'named by the step it ends on');
    assert.ok(frames >= 5 && parsed.delays.length === frames, `${parsed.delays.length} frames in the file, ${frames} said`);
    // The grid over the strip that says the step.
    const grid = await page.evaluate(() => [document.getElementById('grid').width, document.getElementById('grid').height]);
    assert.deepEqual([parsed.width, parsed.height], [grid[0], grid[1] + 11]);
    assert.ok(parsed.delays.slice(0, -1).every((d) => d === parsed.delays[0]) && parsed.delays.at(-1) > parsed.delays[0], `delays ${parsed.delays}`);
    // New networks: a new run, with no time-lapse yet.
    await page.click('#reset');
    await waitReady(page);
    assert.ok(await page.locator('#export-gif').isDisabled());
  });
});

test('compare mode keeps both runs in the browser, and after a reload both go on from theirs', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny&seed=4&compare=vae', async (page) => {
    await waitReady(page);
    await page.waitForFunction(() => Number(document.querySelector('#b-grid')?.dataset.version) >= 1, null, { timeout: 120_000 });
    const steps = () => page.evaluate(() => ['#column-step', '#b-column-step'].map((id) => Number(document.querySelector(id).innerText)));
    // One press steps both runs.
    const stepBoth = async (n) => {
      for (let [k] = await steps(); k < n; k++) {
        await page.click('#step-once');
        await page.waitForFunction((k) => ['#column-step', '#b-column-step'].every((id) => Number(document.querySelector(id).innerText) === k), k + 1, { timeout: 60_000 });
      }
    };
    await stepBoth(3);
    assert.deepEqual(await steps(), [3, 3]);
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="3"]').waitFor();
    await page.locator('#b-snapshots li[data-step="3"]').waitFor();
    await untilKept(page, 3);
    await untilKept(page, 3, 'compared');
    const curves = async () => [(await download(page, '#export-csv')).bytes.toString().trim(), (await download(page, '#b-export-csv')).bytes.toString().trim()];
    const before = await curves();

    // The offer names both; going on brings each run back at its step, with its curves.
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run', { hasText: 'beside it' }).waitFor();
    assert.match(await text(page, '#kept-run'), /^Your last runs \(tiny DCGAN, step 3, and beside it tiny VAE, step 3\) are kept in this browser\. Training here replaces each once its new run gets that far\./);
    await page.screenshot({ path: path.join(artifacts, 'kept-compared-runs.png') });
    // A step pressed at once is a step of the runs gone on from, for both.
    await page.click('#kept-go-on');
    await page.click('#step-once');
    await page.waitForFunction(() => ['#column-step', '#b-column-step'].every((id) => Number(document.querySelector(id).innerText) === 4), null, { timeout: 60_000 });
    await page.waitForTimeout(1000);
    assert.deepEqual(await steps(), [4, 4]);
    const after = await curves();
    assert.ok(after.every((csv, i) => csv.startsWith(before[i] + '\n') && csv.split('\n').length === before[i].split('\n').length + 1), 'each run\'s curves came back with it');
    assert.equal(await points(page, 'b-chart-elbo'), 4);
    // The loads' "paused, press play" notices went with that step.
    assert.ok(!/Press play/.test(await page.evaluate(() => ['#notice', '#b-notice'].map((id) => document.querySelector(id)?.innerText ?? '').join(' '))));
    await page.screenshot({ path: path.join(artifacts, 'kept-compared-runs-resumed.png') });

    // Forgotten, neither is kept any more.
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    await page.click('#kept-forget');
    await untilKept(page, null);
    await untilKept(page, null, 'compared');

    // A compared run kept by another visit than the first run's is not offered beside it.
    await page.click('#snapshot-now');
    await untilKept(page, 0);
    await untilKept(page, 0, 'compared');
    await page.evaluate(() => new Promise((resolve, reject) => {
      const opening = indexedDB.open('ganplay', 1);
      opening.onsuccess = () => {
        const store = opening.result.transaction('runs', 'readwrite').objectStore('runs');
        const read = store.get('compared');
        read.onsuccess = () => { store.put({ ...read.result, pair: read.result.pair + 1 }, 'compared').onsuccess = () => { opening.result.close(); resolve(); }; };
        read.onerror = () => reject(read.error);
      };
    }));
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    assert.match(await text(page, '#kept-run'), /^Your last run \(tiny DCGAN, step 0\) is kept in this browser\./);
  });
});

test('a damaged run kept in the browser is refused with the reason, and not offered again', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
    await waitReady(page);
    await stepTo(page, 2);
    await page.click('#snapshot-now');
    await untilKept(page, 2);
    // One byte near the end of the stored weights file flipped (marked, so a later write of
    // the same step, an automatic snapshot still on its way, is seen and damaged again).
    const damage = () => page.evaluate(() => new Promise((resolve, reject) => {
      const opening = indexedDB.open('ganplay', 1);
      opening.onsuccess = () => {
        const store = opening.result.transaction('runs', 'readwrite').objectStore('runs');
        const request = store.get('last');
        request.onsuccess = () => {
          const record = request.result;
          if (record.damaged) { opening.result.close(); resolve(false); return; }
          record.bytes[record.bytes.length - 5] ^= 0xff;
          record.damaged = true;
          store.put(record, 'last').onsuccess = () => { opening.result.close(); resolve(true); };
        };
      };
      opening.onerror = () => reject(opening.error);
    }));
    assert.ok(await damage());
    for (let quiet = 0; quiet < 3;) { await page.waitForTimeout(500); quiet = (await damage()) ? 0 : quiet + 1; }
    await page.reload();
    await waitReady(page);
    await page.locator('#kept-run').waitFor();
    await page.click('#kept-go-on');
    await page.locator('#error').waitFor();
    const message = await text(page, '#error');
    assert.match(message, /the run kept in this browser \(step 2\) was not loaded: .*damaged.*\. This browser no longer keeps it\./, message);
    assert.doesNotMatch(message, /goes on unchanged/, 'no run had started');
    assert.equal(await stepCount(page), 0);
    await untilKept(page, null);
    await stepTo(page, 1);
    await noOfferAfterReload(page, 'a refused run is offered again');
  });
});

test('a browser that cannot store the run says so, and training goes on', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
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
  });
});

test('snapshots are taken as training runs, and a run can go back to one', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
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
    // A pause keeps the step it stopped at (a reload then goes on from there).
    const paused = await stepCount(page);
    await page.locator(`#snapshots li[data-step="${paused}"]`).waitFor({ timeout: 30_000 });
    // What a screen reader hears: the step it paused at, and again after going back.
    const spoken = () => page.locator('#status [role="status"]').textContent();
    assert.equal(await spoken(), `Paused at step ${paused}.`);
    await page.screenshot({ path: path.join(artifacts, 'snapshots.png'), fullPage: true });
    await page.click('#snapshots li[data-step="3"] button');
    await page.waitForFunction(() => document.querySelector('#notice')?.innerText === 'Loaded the snapshot at step 3, paused. Press play to go on.');
    assert.equal(await stepCount(page), 3);
    assert.equal(await spoken(), 'Paused at step 3.');
    assert.equal(await points(page, 'chart-prob'), 3, 'the curves go back with the run');
    await stepTo(page, 4);
    // The later snapshots were of the branch left behind: the run's next one replaces them.
    await page.click('#snapshot-now');
    await page.locator('#snapshots li[data-step="4"]').waitFor();
    assert.deepEqual(await page.locator('#snapshots li').evaluateAll((items) => items.map((li) => li.dataset.step)), ['4', '3']);
  });
});

/** A real weights file with its header JSON edited by `edit`, its sections and checksums intact. */
function withHeader(bytes, edit) {
  const length = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.subarray(16, 16 + length).toString('utf8'));
  edit(header);
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const size = Buffer.alloc(4);
  size.writeUInt32LE(json.length);
  return Buffer.concat([bytes.subarray(0, 12), size, json, bytes.subarray(16 + length)]);
}

test('a wrong, truncated, foreign or crafted file is refused and the run goes on', { timeout: 400_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
    await waitReady(page);
    await stepTo(page, 1);
    const real = await download(page, '#save');
    await page.click('#play');
    for (const [name, buffer, reason] of [
      ['photo.png', Buffer.from('\x89PNG\r\n\x1a\n not weights', 'latin1'), /not a ganplay weights file/],
      ['empty.ganplay', Buffer.alloc(0), /the file is empty/],
      ['cut.ganplay', real.bytes.subarray(0, real.bytes.length - 100), /truncated/],
      ['flipped.ganplay', Buffer.from(real.bytes.map((b, i) => (i === real.bytes.length - 5 ? b ^ 0xff : b))), /damaged/],
      // Settings out of range in an intact file: the same checks as the form and the address.
      ['wide.ganplay', withHeader(real.bytes, (h) => { h.model.ngf = 50000; }), /settings are out of range \(ngf=50000 is out of range/],
      ['batch.ganplay', withHeader(real.bytes, (h) => { h.train.batch_size = 100000000; }), /batch=100000000 is out of range/],
      ['lr.ganplay', withHeader(real.bytes, (h) => { h.train.lr_d = -5; }), /lr_d=-5 is out of range/],
      ['beta.ganplay', withHeader(real.bytes, (h) => { h.train.beta1 = 7.5; }), /beta1=7.5 is out of range/],
      ['steps.ganplay', withHeader(real.bytes, (h) => { h.steps = 1e15; }), /step count 1000000000000000 is beyond any real run/],
    ]) {
      const before = await stepCount(page);
      await page.setInputFiles('#load-file', { name, mimeType: 'application/octet-stream', buffer });
      await page.waitForFunction((n) => document.querySelector('#error')?.innerText.includes(n), name);
      const message = await text(page, '#error');
      assert.match(message, reason, message);
      assert.match(message, new RegExp(`${name.replace('.', '\\.')} was not loaded: .*The current run goes on unchanged`));
      // Said beside the button too, where the eyes are.
      assert.equal(await text(page, '#load-refused'), message);
      await page.waitForFunction((n) => Number(document.querySelector('#step').innerText) > n + 5, before);
      assert.equal(await text(page, '#play'), 'Pause');
    }
    await page.screenshot({ path: path.join(artifacts, 'load-refused.png'), fullPage: true });
    await page.click('#play');
  });
});

test('the address follows the setup, and opening it restores every parameter and z', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
    await waitReady(page);
    for (const [id, value] of [['lr-d', '0.0004'], ['lr-g', '0.0003'], ['batch', '24'], ['seed', '11'], ['beta1', '0.4'],
      ['label-smoothing', '0.1'], ['d-steps', '2'], ['augment', '2']]) {
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
    for (const part of ['lr_d=0.0004', 'lr_g=0.0003', 'batch=24', 'seed=11', 'beta1=0.4', 'loss=lsgan', 'backend=cpu', 'preset=tiny',
      'label_smoothing=0.1', 'd_steps=2', 'augment=2']) {
      assert.ok(shared.includes(part), `${part} missing from ${shared}`);
    }
    // The digit for this z, once no other drawing is on its way.
    for (let v = -1; v !== await version(page, 'sample');) { v = await version(page, 'sample'); await page.waitForTimeout(500); }
    const sample = await page.evaluate(() => document.querySelector('#sample').toDataURL());
    await withPage(shared.slice(base.length), async (other) => {
      await waitReady(other);
      await other.waitForFunction(() => Number(document.querySelector('#sample').dataset.version) >= 1);
      const values = {};
      for (const id of ['preset', 'lr-d', 'lr-g', 'beta1', 'batch', 'seed', 'loss', 'nz', 'ngf', 'ndf', 'label-smoothing', 'd-steps', 'augment']) {
        values[id] = await other.locator(`#${id}`).inputValue();
      }
      assert.deepEqual(values, { preset: 'tiny', 'lr-d': '0.0004', 'lr-g': '0.0003', beta1: '0.4', batch: '24', seed: '11', loss: 'lsgan',
        nz: '100', ngf: '16', ndf: '8', 'label-smoothing': '0.1', 'd-steps': '2', augment: '2' });
      assert.equal(await other.locator('#z3').inputValue(), '1.75');
      assert.ok(await other.evaluate(() => document.body.classList.contains('presenter')));
      assert.equal(await other.locator('#notice').count(), 0);
      await other.waitForFunction((s) => document.querySelector('#sample').toDataURL() === s, sample, { timeout: 10_000 });
    });
    // A value out of range is put back in its field, and the note says why.
    await page.keyboard.press('p');
    await page.waitForFunction(() => !document.body.classList.contains('presenter'));
    // (By the field's label, not the address's key.)
    for (const [id, typed, kept, reason] of [['beta1', '7.5', '0.4', /Adam beta1: 0 to 0\.999, not “7\.5”/],
      ['lr-d', '-5', '0.0004', /D learning rate: 0\.000001 to 1, not “-5”/],
      ['batch', '100000000', '24', /Batch size: whole numbers 1 to \d+, not “100000000”/],
      ['augment', '9', '2', /Shift D's digits \(pixels\): whole numbers 0 to 4, not “9”/], ['seed', '', '11', /the Seed field is empty; it takes whole numbers/]]) {
      await page.locator(`#${id}`).fill(typed);
      await page.locator(`#${id}`).dispatchEvent('change');
      await page.waitForFunction((r) => new RegExp(r).test(document.querySelector('#notice')?.innerText ?? ''), reason.source);
      assert.equal(await page.locator(`#${id}`).inputValue(), kept);
      // Said beside the field too, which may be far below the notice; only there.
      assert.match(await text(page, `#${id}-refused`), reason);
      assert.equal(await page.locator('.field .refused').count(), 1);
      // A screen reader hears the field by its label, the refusal and the explanation as its
      // description, and that the field is in error.
      assert.equal(await page.locator(`#${id}`).getAttribute('aria-describedby'), `${id}-refused ${id}-explain`);
      assert.equal(await page.locator(`#${id}`).getAttribute('aria-invalid'), 'true');
    }
    // Text the field cannot read as a number reaches the page as an empty value; it is said
    // as what it is. (Typed key by key: a fill of a number field takes numbers only.)
    const lrG = await page.locator('#lr-g').inputValue();
    await page.locator('#lr-g').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('1e');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /what was typed in the G learning rate field is not a number; it takes/.test(document.querySelector('#notice')?.innerText ?? ''));
    assert.match(await text(page, '#lr-g-refused'), /is not a number; it takes/);
    assert.equal(await page.locator('#lr-g').inputValue(), lrG);
    // A value taken, both notes go.
    await page.locator('#augment').fill('1');
    await page.locator('#augment').dispatchEvent('change');
    await page.waitForFunction(() => !document.querySelector('#augment-refused') && !document.querySelector('#notice'));
    assert.equal(await page.locator('#augment').getAttribute('aria-describedby'), 'augment-explain');
    assert.equal(await page.locator('#augment').getAttribute('aria-invalid'), null);
  });
});

test('shifting D\'s digits (augment) trains on both backends and is said in words', { timeout: 300_000 }, async () => {
  for (const backend of ['cpu', 'webgpu']) {
    await withPage(`?backend=${backend}&preset=tiny&augment=3`, async (page) => {
      await waitReady(page);
      assert.equal(await page.locator('#augment').inputValue(), '3');
      assert.match(await text(page, 'label[for="augment"]'), /Shift D's digits/);
      await stepTo(page, 3);
      assert.equal(await page.locator('#error').count(), 0);
    });
  }
});

test('keyboard shortcuts, the help overlay and presenter mode at projector size', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', { viewport: { width: 1280, height: 720 } }, async (page) => {
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
    const presenterBehind = await page.evaluate(() => document.body.classList.contains('presenter'));
    await page.keyboard.press('?');
    await page.locator('#help').waitFor();
    for (const key of ['Space', 'S', 'R', 'P']) assert.ok((await text(page, '#help')).includes(key));
    await page.screenshot({ path: path.join(artifacts, 'help.png') });
    // Behind the dialog the shortcuts wait: S takes no step, P leaves the layout alone.
    const stepBehind = await stepCount(page);
    await page.keyboard.press('s');
    await page.keyboard.press('p');
    await page.waitForTimeout(1000);
    assert.equal(await stepCount(page), stepBehind);
    assert.equal(await page.evaluate(() => document.body.classList.contains('presenter')), presenterBehind);
    await page.keyboard.press('Escape');
    await page.locator('#help').waitFor({ state: 'detached' });
    // The dialog takes focus at every opening, keeps it on Tab, and gives it back on close.
    const focused = () => page.evaluate(() => document.activeElement?.id);
    for (let opening = 0; opening < 2; opening++) {
      await page.focus('#help-button');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'help-close');
      await page.keyboard.press('Tab');
      assert.equal(await focused(), 'help-close', 'Tab stays in the dialog');
      await page.keyboard.press('Escape');
      await page.locator('#help').waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.id === 'help-button');
    }
    // Every number field is valid at the values it shows.
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('input:invalid')].map((e) => e.id)), []);
    // Space after a click on a button plays and pauses (a teacher who clicked a button, say
    // "Presenter mode", then presses Space must not press it again); on a button reached by
    // Tab, Space is the button's.
    await page.click('#random-z');
    const zBefore = await page.locator('#z0').inputValue();
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Pause');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#play').innerText === 'Play');
    assert.equal(await page.locator('#z0').inputValue(), zBefore, 'Space after a click on "New random z" drew no new z');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'random-z');
    await page.keyboard.press(' ');
    await page.waitForFunction((z) => document.querySelector('#z0').value !== z, zBefore);
    assert.equal(await text(page, '#play'), 'Play', 'Space on a button reached by Tab is the button\'s');
    // Leave the focus on the page for the shortcuts.
    await page.evaluate(() => document.activeElement?.blur());
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
  });
});

test('PNG and CSV exports hold the pictures and the curves', { timeout: 300_000 }, async () => {
  await withPage('?backend=cpu&preset=tiny', async (page) => {
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
    assert.equal(csv[0], 'step,loss_d,loss_g,d_x,d_g_z_before,d_g_z_after,steps_averaged,score,frechet_distance,classes_drawn');
    assert.deepEqual(csv.slice(1).map((r) => Number(r.split(',')[0])), [1, 2, 3, 4, 5]);
    for (const row of csv.slice(1)) assert.ok(row.split(',').slice(1, 6).every((v) => Number.isFinite(Number(v))), row);
  });
});

/** The smallest chart text on screen, in CSS pixels (the SVG's units scaled to its size); 0 if
 * none is on screen. */
const smallestChartText = (page) => page.evaluate(() => {
  const sizes = [...document.querySelectorAll('.chart > svg text')]
    .filter((t) => t.getBoundingClientRect().width > 0 && getComputedStyle(t).display !== 'none')
    .map((t) => {
      const svg = t.ownerSVGElement, r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      return parseFloat(getComputedStyle(t).fontSize) * Math.min(r.width / vb.width, r.height / vb.height);
    });
  return sizes.length ? Math.min(...sizes) : 0;
});

/** Where an element is on screen, in CSS pixels. */
const box = (page, selector) => page.locator(selector).first().evaluate((el) => {
  const r = el.getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
});

test('a phone shows the digits and the curves in its first screen, the settings below', { timeout: 120_000 }, async () => {
  await withPage('?backend=cpu', { viewport: { width: 390, height: 844 } }, async (page) => {
    await waitReady(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    const [play, grid, chart, settings] = await Promise.all(['#play', '#grid', '#chart-prob > svg', '.settings'].map((s) => box(page, s)));
    console.log(`phone 390x844: play at ${play.top.toFixed(0)} px, grid ${grid.top.toFixed(0)}-${grid.bottom.toFixed(0)} px, ` +
      `curves ${chart.top.toFixed(0)}-${chart.bottom.toFixed(0)} px, settings from ${settings.top.toFixed(0)} px`);
    assert.ok(play.bottom <= 844 && grid.bottom <= 844, 'Play and the whole grid in the first screen');
    // The charts' type as a phone shows it: 12 px or more, as on a desktop, on a narrower
    // phone too.
    for (const width of [390, 360]) {
      await page.setViewportSize({ width, height: 844 });
      const smallest = await smallestChartText(page);
      assert.ok(smallest >= 12, `chart text on a phone ${width} px wide is ${smallest.toFixed(1)} px`);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(chart.top < 844 - 100, 'the curves start in the first screen');
    assert.ok(settings.top > chart.top, 'settings after the curves');
    await page.screenshot({ path: path.join(artifacts, 'phone-first-screen.png') });
    await page.screenshot({ path: path.join(artifacts, 'phone.png'), fullPage: true });
  });
});

test('presenter mode fits the curves, the grid and the latent explorer on one projector screen', { timeout: 300_000 }, async () => {
  for (const [width, height] of [[1024, 768], [1280, 720], [1920, 1080]]) {
    await withPage('?backend=cpu&preset=tiny&layout=presenter', { viewport: { width, height } }, async (page) => {
      await waitReady(page);
      await page.click('#step-once');
      await page.waitForFunction(() => Number(document.querySelector('#step').innerText) === 1);
      for (const selector of ['#play', '#chart-prob > svg', '#chart-loss > svg', '#grid', '#sample', '#walk', '#z0', '#z9', '#step']) {
        const b = await box(page, selector);
        assert.ok(b.top >= 0 && b.left >= 0 && b.bottom <= height + 0.5 && b.right <= width + 0.5,
          `${selector} at ${width}x${height} is outside the screen: ${JSON.stringify(b)}`);
      }
      // Rendered text sizes: CSS pixels, an SVG's own units scaled to its box.
      const sizes = await page.evaluate(() => {
        const css = (el) => parseFloat(getComputedStyle(el).fontSize);
        // An SVG's text scales with the drawing, which fits its box keeping its proportions.
        const svgText = (el) => {
          const svg = el.ownerSVGElement, r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
          return css(el) * Math.min(r.width / vb.width, r.height / vb.height);
        };
        return {
          step: css(document.querySelector('#step')),
          legend: Math.min(...[...document.querySelectorAll('.legend-item')].map(css)),
          axis: Math.min(...[...document.querySelectorAll('#chart-prob .axes text, #chart-loss .axes text')].map(svgText)),
          // Drawn whole inside its box (object-fit: contain).
          grid: ((c) => { const r = c.getBoundingClientRect(); return c.width * Math.min(r.width / c.width, r.height / c.height); })(document.querySelector('#grid')),
          charts: document.querySelector('#chart-prob > svg').getBoundingClientRect().width,
        };
      });
      console.log(`presenter ${width}x${height}: step ${sizes.step.toFixed(1)} px, legend ${sizes.legend.toFixed(1)} px, ` +
        `axis text ${sizes.axis.toFixed(1)} px, grid ${sizes.grid.toFixed(0)} px, charts ${sizes.charts.toFixed(0)} px wide`);
      if (width >= 1280) {
        for (const [what, px] of Object.entries({ step: sizes.step, legend: sizes.legend, axis: sizes.axis })) {
          assert.ok(px >= 20, `${what} text is ${px.toFixed(1)} px at ${width}x${height}`);
        }
      }
      await page.screenshot({ path: path.join(artifacts, `presenter-${width}x${height}.png`) });
    });
  }
});

test('presenter mode fits a conditional DCGAN\'s ten rows and digit buttons under a note, at every projector size', { timeout: 300_000 }, async () => {
  for (const [width, height] of [[1024, 768], [1280, 720], [1920, 1080]]) {
    // A refused address value puts a note at the top, as the kept-run offer does after a reload.
    await withPage('?backend=cpu&preset=tiny&model=cgan&layout=presenter&lr_d=77', { viewport: { width, height } }, async (page) => {
      await waitReady(page);
      await page.locator('#notice').waitFor();
      // Measured once the pictures are drawn (before, a canvas has the browser's default size).
      await page.locator('#grid[data-version]').waitFor({ state: 'attached', timeout: 60_000 });
      await page.locator('#sample[data-version]').waitFor({ state: 'attached', timeout: 60_000 });
      const latent = await box(page, '.latent');
      const samples = await box(page, '.samples');
      for (const [selector, within] of [['#grid', samples], ['#sample', latent], ['.classes button.class >> nth=9', latent], ['#z9', latent], ['#walk', latent]]) {
        const b = await box(page, selector);
        assert.ok(b.top >= within.top && b.bottom <= within.bottom + 0.5 && b.bottom <= height + 0.5 && b.right <= width + 0.5,
          `${selector} at ${width}x${height} is cut off: ${JSON.stringify(b)} in ${JSON.stringify(within)}`);
      }
      // The pictures are drawn whole inside their boxes (object-fit): what size they are drawn at.
      const drawn = (selector) => page.locator(selector).evaluate((c) => {
        const r = c.getBoundingClientRect(), scale = Math.min(r.width / c.width, r.height / c.height);
        return { width: c.width * scale, height: c.height * scale };
      });
      const [grid, sample] = [await drawn('#grid'), await drawn('#sample')];
      console.log(`presenter, conditional DCGAN, ${width}x${height}: grid drawn ${grid.width.toFixed(0)}x${grid.height.toFixed(0)}, ` +
        `big digit ${sample.height.toFixed(0)} px`);
      assert.ok(grid.height >= 0.35 * height, `the grid is drawn ${grid.height.toFixed(0)} px high at ${width}x${height}`);
      assert.ok(sample.height >= 100, `the big digit is drawn ${sample.height.toFixed(0)} px high`);
      await page.screenshot({ path: path.join(artifacts, `presenter-cgan-${width}x${height}.png`) });
    });
  }
});

test('presenter mode on a phone is one scrolling column with the grid and the big digit at full size', { timeout: 240_000 }, async () => {
  for (const [query, shot] of [['', 'presenter-phone.png'], ['&compare=vae', 'presenter-phone-compare.png']]) {
    await withPage(`?backend=cpu&preset=tiny&layout=presenter${query}`, { viewport: { width: 390, height: 844 } }, async (page) => {
      await waitReady(page);
      // Drawn (an empty canvas has a default size of its own).
      await page.waitForFunction(() => ['#grid', '#sample'].every((s) => Number(document.querySelector(s).dataset.version) >= 1), null, { timeout: 60_000 });
      for (const [selector, least] of [['#grid', 300], ['#sample', 150]]) {
        const b = await box(page, selector);
        assert.ok(b.bottom - b.top >= least && b.right - b.left >= least, `${selector} on a phone: ${JSON.stringify(b)}`);
      }
      // Charts as wide as the phone keep the page's own type (a projector's would crowd them),
      // with their axis titles.
      const axes = await page.evaluate(() => [...document.querySelectorAll('.chart > svg')].filter((svg) => svg.getBoundingClientRect().width > 0)
        .map((svg) => ({ title: [...svg.querySelectorAll('.axes text.title')].some((t) => getComputedStyle(t).display !== 'none'),
          ticks: [...new Set([...svg.querySelectorAll('.axes text.tick')].map((t) => getComputedStyle(t).fontSize))] })));
      assert.ok(axes.length >= 2 && axes.every((a) => a.title && a.ticks.length === 1 && a.ticks[0] === axes[0].ticks[0]), JSON.stringify(axes));
      assert.ok(await smallestChartText(page) >= 12, 'chart text a phone reads at 12 px or more');
      await page.screenshot({ path: path.join(artifacts, shot), fullPage: true });
    });
  }
});

test('presenter mode with two models fits both columns and the shared latent explorer on one screen', { timeout: 300_000 }, async () => {
  for (const [width, height] of [[800, 600], [1024, 768], [1280, 720], [1920, 1080]]) {
    await withPage('?backend=cpu&preset=tiny&compare=vae&layout=presenter', { viewport: { width, height } }, async (page) => {
      await waitReady(page);
      // The compared run ready too (its first digits drawn), so that it takes the step.
      await page.waitForFunction(() => Number(document.querySelector('#b-grid')?.dataset.version) >= 1, null, { timeout: 120_000 });
      await page.click('#step-once');
      await page.waitForFunction(() => Number(document.querySelector('#b-column-step').innerText) >= 1);
      for (const selector of ['#play', '#column-step', '#b-column-step', '#chart-prob > svg', '#b-chart-elbo > svg', '#grid', '#b-grid',
        '#b-reconstructions', '#sample', '#b-sample', '#walk', '#z0', '#z9']) {
        const b = await box(page, selector);
        assert.ok(b.right > b.left && b.bottom > b.top, `${selector} at ${width}x${height} is not shown: ${JSON.stringify(b)}`);
        assert.ok(b.top >= 0 && b.left >= 0 && b.bottom <= height + 0.5 && b.right <= width + 0.5,
          `${selector} at ${width}x${height} is outside the screen: ${JSON.stringify(b)}`);
      }
      const [a, b] = [await box(page, '#grid'), await box(page, '#b-grid')];
      assert.ok(a.bottom - a.top >= 0.35 * height && Math.abs((a.bottom - a.top) - (b.bottom - b.top)) < 2,
        `the two grids are big and alike at ${width}x${height}: ${JSON.stringify([a, b])}`);
      const ticks = (await page.locator('#chart-prob > svg .axes text.tick').evaluateAll((all) => all.map((t) => t.getBoundingClientRect().height)))
        .filter((h) => h > 0);
      assert.ok(ticks.length > 0 && Math.min(...ticks) >= 13, `chart tick labels ${ticks.map(Math.round)} px high at ${width}x${height}`);
      const slider = await box(page, '#z0');
      assert.ok(slider.right - slider.left >= 60, `the z0 slider is ${slider.right - slider.left} px wide at ${width}x${height}`);
      const [s, t] = [await box(page, '#sample'), await box(page, '#b-sample')];
      assert.ok(Math.abs(s.top - t.top) < 2 && Math.abs((s.right - s.left) - (t.right - t.left)) < 2 && s.right <= t.left,
        `the two digits side by side, the same size: ${JSON.stringify([s, t])}`);
      await page.screenshot({ path: path.join(artifacts, `presenter-compare-${width}x${height}.png`) });
    });
  }
});

test('benchmark mode prints ms/step per preset', { timeout: 600_000 }, async () => {
  for (const backend of ['cpu', 'webgpu']) {
    await withPage(`?bench=1&backend=${backend}`, async (page) => {
      await page.waitForFunction(() => /ms\/step/.test(document.querySelector('#bench')?.innerText ?? ''), null, { timeout: 550_000 });
      const result = await text(page, '#bench');
      console.log(`bench ${backend}: ${result}`);
      assert.match(result, /tiny: \d+ ms\/step, small: \d+ ms\/step, standard: \d+ ms\/step/);
      if (backend === 'webgpu') {
        // A GPU's benchmark is its convolution trial on each preset: both paths, each timed.
        assert.match(result, /steps queued and read together: burn's convolutions \d+ ms \/ \d+ ms \/ \d+ ms, ganplay's tiled kernel \d+ ms \/ \d+ ms \/ \d+ ms;/, result);
      }
    });
  }
});
