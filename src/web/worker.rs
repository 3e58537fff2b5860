//! The training worker: owns the data, the networks and the device; runs steps while playing
//! and answers the page's commands between steps. It never touches the DOM.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{draw_digit, next_tick, now_ms, send, serve};
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::classifier::Classifier;
use crate::data::{Digits, Mnist, load_mnist};
use crate::quality::{Gaussian, PAGE_DIGITS as SCORED, PAGE_SEED, Quality};
use crate::image::GrayImage;
use crate::timelapse::early_grid_due;
use crate::latent::normal_values;
use crate::model::{CLASSES, Family, Generator, ModelConfig};
use crate::protocol::{Command, Fault, LoadKind, Report, Weights};
use crate::settings::{BackendRequest, Preset, Settings};
use crate::layers::{ConvPath, conv_path, force_conv_path};
use crate::training::{
    CONV_TRIAL_STEPS, ConvTrial, RefusalWatch, SOFTWARE_GPU_CONVOLUTIONS, Gan, PendingReport, StepReport, TrainConfig, conv_trials_line,
};

/// Digits in the sample grid (8x8), drawn from fixed latent vectors. A conditional model's
/// grid has a row of each class instead: the first `GRID_COLUMNS` vectors, once a class.
const GRID_DIGITS: usize = 64;
const GRID_COLUMNS: usize = 8;
/// The grid is redrawn at most this often while training.
const GRID_EVERY_MS: f64 = 1500.0;
/// Steps run back to back before the worker looks at its messages and reports.
const CHUNK_MS: f64 = 200.0;
/// A snapshot is taken after this many steps, or this long, of training (whichever first).
const SNAPSHOT_EVERY_STEPS: u64 = 250;
const SNAPSHOT_EVERY_MS: f64 = 20_000.0;
/// The digit classifier that scores the run's digits.
const CLASSIFIER: &str = "assets/classifier/classifier.bin";
/// The run is scored after this long of training (scoring 500 tiny-model digits on the CPU
/// takes about 0.7 s: under a tenth of the training time).
const QUALITY_EVERY_MS: f64 = 8000.0;

/// The generator shipped with the page, with its sizes, its steps and its file.
struct Pretrained {
    generator: Generator,
    model: ModelConfig,
    steps: u64,
    file: Vec<u8>,
}

/// The digit classifier, with what it needs to score a generator.
struct Judge {
    classifier: Classifier,
    held_out: Digits,
    /// The held-out digits' features (worked out at the first score).
    reference: Option<Gaussian>,
    /// The latent vectors scored, `SCORED` x nz.
    z: Vec<f32>,
}

/// Messages from the page, and a way to wake the loop when one arrives.
#[derive(Default)]
struct Inbox {
    queue: VecDeque<Command>,
    wake: Option<js_sys::Function>,
}

pub fn start() {
    if super::sampler::is_sampler() {
        return super::sampler::start();
    }
    let inbox = Rc::new(RefCell::new(Inbox::default()));
    let receiver = inbox.clone();
    serve(move |command| {
        let mut inbox = receiver.borrow_mut();
        inbox.queue.push_back(command);
        if let Some(wake) = inbox.wake.take() {
            let _ = wake.call0(&JsValue::NULL);
        }
    });
    wasm_bindgen_futures::spawn_local(run(inbox));
}

async fn next_command(inbox: &Rc<RefCell<Inbox>>) -> Command {
    loop {
        if let Some(command) = inbox.borrow_mut().queue.pop_front() {
            return command;
        }
        let promise = js_sys::Promise::new(&mut |resolve, _| inbox.borrow_mut().wake = Some(resolve));
        let _ = JsFuture::from(promise).await;
    }
}

/// The worker's state between commands.
struct Session {
    digits: Digits,
    device: Option<Device>,
    /// The backend asked for, and in words as reported to the page.
    request: BackendRequest,
    backend: String,
    /// The device is a GPU that is not emulated on the CPU.
    real_gpu: bool,
    gan: Option<Gan>,
    /// The weights after the last step whose losses were finite.
    last_good: Option<Gan>,
    /// The quality panel's classifier (none if it did not load), and when it last scored.
    judge: Option<Judge>,
    last_quality_ms: f64,
    /// The latent vectors of the grid, `GRID_DIGITS` x nz.
    grid_z: Vec<f32>,
    /// The generators shipped with the page, on the CPU, by model family: fetched (or tried:
    /// `None`) when a run of their family is first built. The run's family's is shown until
    /// the run takes a step.
    pretrained: Vec<(Family, Option<Pretrained>)>,
    /// Held-out digits, one of each class ([CLASSES, 1, 28, 28], on the CPU): what a VAE's
    /// reconstructions are shown of.
    strip: Tensor<4>,
    /// Which generator the sampling worker last got.
    generator_sent: Option<Weights>,
    /// The run's networks have not yet taken a step on this GPU (see `Report::Kernels`).
    kernels_pending: bool,
    /// The sizes and batch the convolution paths were last timed for, and what the trial
    /// said: networks of the same shapes keep its choice.
    conv_trial: Option<((ModelConfig, usize), String)>,
    /// The WebGPU device, to watch for its loss (and to lose it on purpose in tests).
    gpu: Option<WebGpuDevice>,
    /// Set by the device-lost callback.
    gpu_lost: Arc<AtomicBool>,
    running: bool,
    inject_nan: bool,
    /// `Fault::KernelRefused`, for the next convolution trial: it runs even on a software GPU,
    /// and the GPU is handed a pipeline past its limits while the tiled kernel is timed.
    inject_refusal: bool,
    last_grid_ms: f64,
    /// The step of the last grid drawn, and how long drawing it took (ms).
    last_grid_step: Option<u64>,
    grid_cost_ms: f64,
    /// Step and time of the last snapshot.
    snapshot_at: (u64, f64),
    /// The reports sent since the run was built (the last `REPORTS_KEPT` of them at least):
    /// a save adds those past the page's curves, sent after it asked.
    reports_sent: Vec<StepReport>,
    /// Likewise the quality scores sent (the last `SCORES_KEPT` at least).
    scores_sent: Vec<(u64, Option<Quality>)>,
}

/// Reports the worker keeps of those it sent (see `reports_sent`).
const REPORTS_KEPT: usize = 1024;
/// Quality scores the worker keeps of those it sent (see `scores_sent`): one comes every few
/// seconds of training.
const SCORES_KEPT: usize = 64;

/// Keeps the last `kept` of `sent` at least, dropping older ones in bulk.
fn keep_last<T>(sent: &mut Vec<T>, kept: usize) {
    if sent.len() > 2 * kept {
        sent.drain(..sent.len() - kept);
    }
}

async fn run(inbox: Rc<RefCell<Inbox>>) {
    let Mnist { train: digits, held_out } = match load_digits().await {
        Ok(d) => d,
        Err(message) => {
            send(Report::Error(message));
            // No run can be built without the digits; a load is still answered as one.
            loop {
                if let Command::Load { kind, source, .. } = next_command(&inbox).await {
                    let message = format!("{source} was not loaded: the training digits could not be loaded.");
                    send(Report::LoadFailed { kind, message });
                }
            }
        }
    };
    let first_of_each: Vec<usize> = (0..CLASSES as u8).filter_map(|class| (0..held_out.len()).find(|&i| held_out.label(i) == class)).collect();
    let strip = held_out.batch(&first_of_each, &Device::flex());
    let judge = match load_classifier().await {
        Ok(classifier) => Some(Judge { classifier, held_out, reference: None, z: Vec::new() }),
        Err(message) => {
            send(Report::QualityUnavailable(message));
            None
        }
    };
    let mut session = Session {
        digits,
        device: None,
        request: BackendRequest::Auto,
        backend: String::new(),
        real_gpu: false,
        gan: None,
        last_good: None,
        judge,
        last_quality_ms: now_ms(),
        grid_z: Vec::new(),
        pretrained: Vec::new(),
        strip,
        generator_sent: None,
        kernels_pending: false,
        conv_trial: None,
        gpu: None,
        gpu_lost: Arc::new(AtomicBool::new(false)),
        running: false,
        inject_nan: false,
        inject_refusal: false,
        last_grid_ms: 0.0,
        last_grid_step: None,
        grid_cost_ms: 0.0,
        snapshot_at: (0, 0.0),
        reports_sent: Vec::new(),
        scores_sent: Vec::new(),
    };
    loop {
        let command = if session.running && session.gan.is_some() {
            inbox.borrow_mut().queue.pop_front()
        } else {
            Some(next_command(&inbox).await)
        };
        match command {
            Some(command) => {
                if let Err(message) = session.handle(command).await {
                    session.set_running(false);
                    send(Report::Error(message));
                }
            }
            None => {
                if let Err(message) = session.train_chunk().await {
                    session.set_running(false);
                    send(Report::Error(message));
                }
                next_tick().await;
            }
        }
    }
}

/// The bytes at `url`, or why not (in words).
async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let fail = |e: JsValue| format!("{e:?}");
    let response = super::fetch(url).await?;
    let buffer = JsFuture::from(response.array_buffer().map_err(fail)?).await.map_err(fail)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The digit classifier shipped with the page, on the CPU.
async fn load_classifier() -> Result<Classifier, String> {
    let bytes = fetch_bytes(CLASSIFIER).await.map_err(|why| format!("the digit classifier ({CLASSIFIER}) could not be loaded: {why}"))?;
    Classifier::from_bytes(&bytes, &Device::flex()).map_err(|e| format!("the digit classifier ({CLASSIFIER}) was refused: {e}"))
}

/// The digits, fetched from the page's assets.
async fn load_digits() -> Result<Mnist, String> {
    let fetch = |path: String| async move { fetch_bytes(&path).await };
    match load_mnist("assets/mnist", fetch).await {
        Ok(mnist) => Ok(mnist),
        Err(e) if e.is_damage() => Err(format!("The MNIST files are damaged: {e}")),
        Err(e) => Err(e.to_string()),
    }
}

/// The generator shipped with the page for `family`, on the CPU (drawing one digit there takes
/// about a millisecond), with the steps it was trained for.
async fn load_pretrained(family: Family) -> Result<Pretrained, String> {
    let path = format!("{}/generator.ganplay", crate::checkpoint::shipped_folder(family));
    let bytes = fetch_bytes(&path).await.map_err(|why| format!("Could not load {path}: {why}"))?;
    let refused = |e: crate::checkpoint::CheckpointError| format!("The pretrained generator ({path}) was not loaded: {e}");
    let checkpoint = Checkpoint::from_bytes(&bytes).map_err(refused)?;
    if checkpoint.model.family != family {
        return Err(format!("The pretrained generator ({path}) was not loaded: it is {}'s, not {}'s", checkpoint.model.family.long_name(), family.long_name()));
    }
    let generator = checkpoint.generator(&Device::flex()).map_err(refused)?;
    Ok(Pretrained { generator: generator.valid(), model: checkpoint.model, steps: checkpoint.steps, file: bytes })
}

/// What the browser's WebGPU offers: `None` when there is none, or the adapter's description
/// and whether it is a software emulation.
async fn webgpu_adapter() -> Option<(String, bool)> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).ok().filter(|g| !g.is_undefined())?;
    let request: js_sys::Function = js_sys::Reflect::get(&gpu, &"requestAdapter".into()).ok()?.dyn_into().ok()?;
    let adapter = JsFuture::from(request.call0(&gpu).ok()?.dyn_into::<js_sys::Promise>().ok()?).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    let info = js_sys::Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let field = |name: &str| {
        js_sys::Reflect::get(&info, &name.into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
    };
    let fallback = js_sys::Reflect::get(&adapter, &"isFallbackAdapter".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false);
    let (vendor, architecture, description) = (field("vendor"), field("architecture"), field("description"));
    let software = fallback || architecture.eq_ignore_ascii_case("swiftshader") || description.to_lowercase().contains("swiftshader");
    let name = [vendor, architecture, description].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    Some((if name.is_empty() { "unnamed adapter".into() } else { name }, software))
}

/// A device opened for training.
struct Opened {
    device: Device,
    /// In words, as the page shows it.
    name: String,
    /// The WebGPU device, when it is one.
    gpu: Option<WebGpuDevice>,
    /// A GPU that is not emulated on the CPU.
    real_gpu: bool,
}

/// Picks and starts the device for `request`, telling the page which and why.
async fn open_device(request: BackendRequest) -> Opened {
    let adapter = match request {
        BackendRequest::Cpu => None,
        _ => webgpu_adapter().await,
    };
    let cpu = |reason: String| {
        let name = "CPU (burn-flex, wasm SIMD)".to_string();
        send(Report::Backend { name: name.clone(), reason, on_gpu: false, software: false });
        Opened { device: Device::flex(), name, gpu: None, real_gpu: false }
    };
    let (name, software) = match (request, adapter) {
        (BackendRequest::Cpu, _) => return cpu("CPU chosen in the settings".into()),
        (_, None) => return cpu("No WebGPU here: training on the CPU".into()),
        (BackendRequest::Auto, Some((name, true))) => {
            return cpu(format!(
                "WebGPU here is a software emulation ({name}), slower than the CPU: training on the CPU"
            ));
        }
        (_, Some(adapter)) => adapter,
    };
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let reason = match (request, software) {
                (BackendRequest::WebGpu, true) => "WebGPU chosen in the settings (software emulation: slow)".into(),
                (BackendRequest::WebGpu, false) => "WebGPU chosen in the settings".into(),
                _ => "Training on your GPU through WebGPU".into(),
            };
            let name = format!("WebGPU: {name}");
            send(Report::Backend { name: name.clone(), reason, on_gpu: true, software });
            Opened { device, name, gpu: Some(setup.device), real_gpu: !software }
        }
        Err(e) => cpu(format!("WebGPU failed to start ({e}): training on the CPU")),
    }
}

/// A picture as a `data:` URL (base64 through the worker's `btoa`, which takes the bytes as a
/// string of chars 0-255).
fn png_data_url(image: &GrayImage) -> String {
    let binary: String = image.to_png().into_iter().map(char::from).collect();
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    scope.btoa(&binary).map(|b64| format!("data:image/png;base64,{b64}")).unwrap_or_default()
}

impl Session {
    fn set_running(&mut self, running: bool) {
        if self.running != running {
            self.running = running;
            if running {
                // Scores come after so long of training, not of waiting.
                self.last_quality_ms = now_ms();
            }
            send(Report::Running(running));
        }
    }

    fn gan(&mut self) -> Result<&mut Gan, String> {
        self.gan.as_mut().ok_or_else(|| "The networks are not built yet.".to_string())
    }

    async fn handle(&mut self, command: Command) -> Result<(), String> {
        match command {
            Command::Reset(settings) => self.reset(settings).await?,
            Command::Play => self.set_running(true),
            Command::Pause => {
                // Always answered, so the page's "pausing" ends even if the run had stopped.
                self.running = false;
                send(Report::Running(false));
                // The grid and the latent explorer's digit then show the step the run stopped at
                // (while training they are redrawn only every few seconds), and a snapshot keeps
                // it (also in the browser, for a reload), if it moved since the last one.
                let stopped_at = self.gan.as_ref().map(|g| g.steps).filter(|steps| *steps > 0);
                if stopped_at.is_some_and(|steps| self.generator_sent != Some(Weights::Run { steps })) {
                    self.send_grid().await?;
                }
                if stopped_at.is_some_and(|steps| steps > self.snapshot_at.0) {
                    self.snapshot().await?;
                }
            }
            Command::Step => {
                self.set_running(false);
                self.train_steps(1).await?;
                self.send_grid().await?;
            }
            Command::Tune(next) => {
                next.check().map_err(|e| format!("Settings refused: {e}."))?;
                let request = self.request;
                let gan = self.gan()?;
                // Only what the settings table says applies at once; the rest waits for a reset.
                gan.train = Settings::of_run(request, gan.model.clone(), gan.train.clone()).tuned(&next).train;
            }
            Command::Sample { z, class } => {
                let (generator, weights) = self.generator_on_show()?;
                let picture = draw_digit(&generator, &self.gan()?.model, z, class).await?;
                send(Report::Sample { picture, weights });
            }
            Command::Bench { steps } => self.bench(steps).await?,
            Command::InjectFault(Fault::Nan) => self.inject_nan = true,
            Command::InjectFault(Fault::Collapse) => {
                let gan = self.gan()?;
                gan.generator = gan.generator.clone().collapsed();
                gan.ema = gan.ema.take().map(Generator::collapsed);
                self.last_good = self.gan.as_ref().map(Gan::snapshot);
                // Scored at once, before training moves the generator again; then paused, so the
                // collapse stays on screen (a fast run trains its way out of a zeroed layer
                // before the next score, and the alarm would come and go in seconds).
                self.score().await?;
                self.send_grid().await?;
                self.set_running(false);
            }
            Command::InjectFault(Fault::Panic) => panic!("a panic injected for testing"),
            Command::InjectFault(Fault::KernelRefused) => match &self.gpu {
                Some(_) => self.inject_refusal = true,
                None => return Err("There is no GPU to refuse a kernel: training runs on the CPU.".into()),
            },
            Command::InjectFault(Fault::DeviceLost) => match &self.gpu {
                Some(gpu) => gpu.destroy(),
                None => return Err("There is no GPU device to lose: training runs on the CPU.".into()),
            },
            Command::Save { curves } => {
                let mut file = self.weights_file().await?;
                if let Some(mut curves) = curves {
                    curves.catch_up(&self.reports_sent, &self.scores_sent);
                    file = file.with_curves(&curves);
                }
                send(Report::Saved { steps: file.steps, bytes: file.to_bytes() });
            }
            Command::Snapshot => self.snapshot().await?,
            Command::HandOver => {
                self.set_running(false);
                self.snapshot().await?;
                send(Report::HandedOver { steps: self.gan()?.steps });
            }
            Command::Load { kind, source, bytes } => self.load(kind, &source, &bytes).await?,
            Command::UseGenerator { .. } => return Err("The training worker draws with its own generator.".into()),
        }
        Ok(())
    }

    async fn open(&mut self, backend: BackendRequest) -> Device {
        if let Some(device) = &self.device {
            return device.clone();
        }
        let Opened { device, name, gpu, real_gpu } = open_device(backend).await;
        if let Some(gpu) = &gpu {
            let lost = self.gpu_lost.clone();
            gpu.set_device_lost_callback(move |reason, message| {
                lost.store(true, Ordering::SeqCst);
                let why = if message.is_empty() { format!("{reason:?}") } else { format!("{reason:?}: {message}") };
                send(Report::DeviceLost(why));
            });
        }
        self.device = Some(device.clone());
        self.request = backend;
        self.backend = name;
        self.real_gpu = real_gpu;
        if gpu.is_none() {
            // The CPU runs burn's convolutions (no trial there).
            force_conv_path(None);
        }
        self.gpu = gpu;
        device
    }

    /// The run's settings as the page knows them.
    fn settings_of(&self, gan: &Gan) -> Settings {
        Settings::of_run(self.request, gan.model.clone(), gan.train.clone())
    }

    /// Makes `gan` the run, paused, and shows it.
    async fn start(&mut self, gan: Gan) -> Result<(), String> {
        let nz = gan.model.nz;
        if self.grid_z.len() != GRID_DIGITS * nz {
            self.grid_z = normal_values(&mut StdRng::seed_from_u64(0x5EED), GRID_DIGITS * nz);
        }
        self.last_good = Some(gan.snapshot());
        self.snapshot_at = (gan.steps, now_ms());
        self.last_quality_ms = now_ms();
        self.reports_sent.clear();
        self.scores_sent.clear();
        self.generator_sent = None;
        // New networks on a GPU: their first step compiles (and tunes) kernels.
        self.kernels_pending = self.gpu.is_some();
        let settings = self.settings_of(&gan);
        self.gan = Some(gan);
        super::check_static_constructors("the training worker");
        send(Report::Ready { settings });
        self.send_grid().await
    }

    /// Fresh networks; sizes left to the hardware are picked for the device opened.
    async fn reset(&mut self, mut settings: Settings) -> Result<(), String> {
        settings.check().map_err(|e| format!("Settings refused: {e}."))?;
        self.set_running(false);
        let device = self.open(settings.backend).await;
        if settings.auto_size {
            settings.model = Preset::for_hardware(self.real_gpu).model().with_family(settings.model.family);
        }
        self.fetch_pretrained(settings.model.family).await;
        self.start(Gan::new(settings.model, settings.train, &device.autodiff())).await
    }

    /// Fetches the generator shipped for `family`, the first time a run of it is built (a page
    /// that never shows a family does not download its generator).
    async fn fetch_pretrained(&mut self, family: Family) {
        if self.pretrained.iter().any(|(fetched, _)| *fetched == family) {
            return;
        }
        let shipped = match load_pretrained(family).await {
            Ok(shipped) => Some(shipped),
            Err(message) => {
                send(Report::Notice(format!("{message}. The latent explorer shows the run's own generator.")));
                None
            }
        };
        self.pretrained.push((family, shipped));
    }

    /// Goes on from a weights file; a file that does not load leaves the run as it was.
    async fn load(&mut self, kind: LoadKind, source: &str, bytes: &[u8]) -> Result<(), String> {
        // Every load is answered as a load, so that an error of another command is not taken
        // for its answer.
        let (Some(device), Some(gan)) = (self.device.clone(), self.gan.as_ref()) else {
            send(Report::LoadFailed { kind, message: format!("{source} was not loaded: the networks are not built yet.") });
            return Ok(());
        };
        let here = gan.model.family;
        // A file the user picks must be of the run's model; the run kept in the browser and a
        // snapshot bring theirs (a page opened without an address offers the kept VAE run).
        let checkpoint = Checkpoint::from_bytes(bytes).and_then(|c| if kind == LoadKind::File { c.of_family(here).map(|_| c) } else { Ok(c) });
        let (curves, gan) = match checkpoint.and_then(|c| Ok((c.curves(), c.into_gan(&device.autodiff())?))) {
            Ok(run) => run,
            Err(e) => {
                // Weights that do not fit come with burn's long account of each tensor: the
                // sentence names the problem, the account goes in the folded details.
                let (reason, details) = match e {
                    CheckpointError::BadWeights { section, detail } => {
                        (format!("its {section} weights do not fit the sizes in its header"), Some(detail))
                    }
                    e => (e.to_string(), None),
                };
                // The page says what goes on (the run under way, if one has started).
                let message = format!("{source} was not loaded: {reason}.");
                send(Report::LoadRefused { kind, message, details });
                return Ok(());
            }
        };
        self.set_running(false);
        let (settings, steps) = (self.settings_of(&gan), gan.steps);
        send(Report::Loaded { kind, settings, steps, source: source.to_string(), curves });
        self.start(gan).await
    }

    /// The run as a weights file, read back without blocking (as WebGPU requires).
    async fn weights_file(&self) -> Result<Checkpoint, String> {
        let gan = self.gan.as_ref().ok_or("The networks are not built yet.")?;
        Checkpoint::of_gan_async(gan).await
    }

    async fn snapshot(&mut self) -> Result<(), String> {
        let file = self.weights_file().await?;
        let (steps, bytes) = (file.steps, file.to_bytes());
        let nz = self.gan()?.model.nz;
        // The first 16 digits of the grid, as a 4x4 thumbnail.
        let (values, _) = self.draw(self.grid_z[..16 * nz].to_vec(), None).await?;
        let thumbnail = png_data_url(&GrayImage::grid(&values, 4));
        self.snapshot_at = (steps, now_ms());
        send(Report::Snapshot { steps, report: self.reports_sent.last().cloned(), thumbnail, bytes });
        Ok(())
    }

    /// Runs steps for about `CHUNK_MS`, then reports them (and the grid, now and then).
    async fn train_chunk(&mut self) -> Result<(), String> {
        if self.gpu_lost.load(Ordering::SeqCst) {
            self.set_running(false);
            return Ok(());
        }
        let started = now_ms();
        let mut steps = 1;
        let done = self.train_steps(steps).await?;
        // Fast steps (a GPU, a tiny model): batch more of them per report.
        let per_step = (now_ms() - started).max(1.0);
        if done && per_step < CHUNK_MS / 2.0 {
            steps = ((CHUNK_MS / per_step) as usize).clamp(1, 50);
            self.train_steps(steps).await?;
        }
        let step = self.gan.as_ref().map_or(0, |g| g.steps);
        // Now and then the grid and the generator (for the big digit); early in a run, the
        // grid alone more often, where it is cheap.
        let since_grid = now_ms() - self.last_grid_ms;
        if since_grid > GRID_EVERY_MS {
            self.send_grid().await?;
        } else if early_grid_due(step, self.last_grid_step, since_grid, self.grid_cost_ms) {
            self.send_grid_with(false).await?;
        }
        if now_ms() - self.last_quality_ms > QUALITY_EVERY_MS {
            // The panel goes, training does not.
            if let Err(why) = self.score().await {
                self.judge = None;
                send(Report::QualityUnavailable(format!("scoring failed ({why})")));
            }
        }
        let (at_step, at_ms) = self.snapshot_at;
        if step >= at_step + SNAPSHOT_EVERY_STEPS || (step > at_step && now_ms() - at_ms > SNAPSHOT_EVERY_MS) {
            self.snapshot().await?;
        }
        Ok(())
    }

    /// Runs `count` steps and reports them; false (and paused) if a loss went non-finite. The
    /// first steps of new networks on a GPU are reported as preparing its kernels.
    async fn train_steps(&mut self, count: usize) -> Result<bool, String> {
        let preparing = std::mem::take(&mut self.kernels_pending);
        if !preparing {
            return self.train_steps_warm(count).await;
        }
        send(Report::Kernels(None));
        let started = now_ms();
        // The convolution paths are timed with the kernels' preparation, which they share.
        let done = match self.choose_convolutions().await {
            Ok(()) => self.train_steps_warm(count).await,
            Err(why) => Err(why),
        };
        // Said even when the steps failed, so the page does not show "preparing" for ever.
        send(Report::Kernels(Some((now_ms() - started) as f32)));
        done
    }

    /// Times each convolution path (`CONV_TRIAL_PATHS`) on a copy of the run, which leaves
    /// the run as it was, and keeps the fastest for this worker's steps. The page has no
    /// autotune: this is how a visitor's GPU picks. A path whose kernels the GPU refuses is
    /// left out, and the page says so. A software GPU is not timed (but for the test fault
    /// `Fault::KernelRefused`): there burn's convolutions won every trial measured
    /// (`SOFTWARE_GPU_CONVOLUTIONS`), and the trial's eight steps took from 10 to over 30 s of
    /// the first click (`?bench=1` still times both).
    async fn choose_convolutions(&mut self) -> Result<(), String> {
        let gan = self.gan.as_ref().ok_or("The networks are not built yet.")?;
        // The test fault is for this trial, which then runs on a software GPU too.
        let inject = std::mem::take(&mut self.inject_refusal);
        if !self.real_gpu && !inject {
            force_conv_path(Some(ConvPath::Burn));
            send(Report::Convolutions(SOFTWARE_GPU_CONVOLUTIONS.into()));
            return Ok(());
        }
        let shapes = (gan.model.clone(), gan.train.batch_size);
        if let Some((timed, summary)) = &self.conv_trial {
            if *timed == shapes {
                // The choice stands (`conv_path` is still the one it left).
                send(Report::Convolutions(summary.clone()));
                return Ok(());
            }
        }
        let mut refusals = GpuRefusals::new(self.gpu.as_ref(), inject);
        let trial = ConvTrial::run(gan, &self.digits, CONV_TRIAL_STEPS, now_ms, &mut refusals).await;
        let summary = trial.summary();
        send(Report::Convolutions(summary.clone()));
        if let Some(notice) = trial.notice() {
            send(Report::Notice(notice));
        }
        // A trial in which no path ran is not kept: the next networks try again.
        self.conv_trial = trial.ms(trial.fastest()).map(|_| (shapes, summary));
        Ok(())
    }

    async fn train_steps_warm(&mut self, count: usize) -> Result<bool, String> {
        let started = now_ms();
        let digits = &self.digits;
        let gan = self.gan.as_mut().ok_or("The networks are not built yet.")?;
        let pending: Vec<_> = (0..count).map(|_| gan.step(digits)).collect();
        let mut reports = PendingReport::read_all_async(pending).await?;
        if std::mem::take(&mut self.inject_nan) {
            if let Some(last) = reports.last_mut() {
                last.measures.poison();
            }
        }
        let seconds = ((now_ms() - started) / 1000.0).max(1e-6);
        if let Some(bad) = reports.iter().find(|r| !r.is_finite()).map(|r| r.step) {
            // The whole chunk is undone, so none of its steps is reported: the charts and the
            // step counter stay at the restored weights.
            self.gan = self.last_good.as_ref().map(Gan::snapshot);
            self.set_running(false);
            let restored_step = self.gan.as_ref().map_or(0, |g| g.steps);
            send(Report::Diverged { step: bad, restored_step });
            return Ok(false);
        }
        self.last_good = self.gan.as_ref().map(Gan::snapshot);
        self.reports_sent.extend_from_slice(&reports);
        keep_last(&mut self.reports_sent, REPORTS_KEPT);
        send(Report::Steps { reports, steps_per_second: (count as f64 / seconds) as f32 });
        Ok(true)
    }

    /// Scores the generator on show with the digit classifier and reports it to the page.
    async fn score(&mut self) -> Result<(), String> {
        let started = now_ms();
        self.last_quality_ms = started;
        let (step, nz) = self.gan.as_ref().map_or((0, 0), |g| (g.steps, g.model.nz));
        // A conditional model draws 0 to 9 in turn (`draw` with no classes).
        let asked = self.gan.as_ref().and_then(|g| g.model.classes_asked(SCORED));
        let Some(judge) = self.judge.as_mut() else { return Ok(()) };
        if judge.z.len() != SCORED * nz {
            judge.z = normal_values(&mut StdRng::seed_from_u64(PAGE_SEED), SCORED * nz);
        }
        let z = judge.z.clone();
        // Read back first: the classifier runs on the CPU, and a GPU's tensors are read with await.
        let (values, _) = self.draw(z, None).await?;
        let images = Tensor::from_data(TensorData::new(values, [SCORED, 1, 28, 28]), &Device::flex());
        let judge = self.judge.as_mut().expect("checked above");
        if judge.reference.is_none() {
            judge.reference = Some(judge.classifier.reference(&judge.held_out).await?);
        }
        let reference = judge.reference.as_ref().expect("set above");
        let quality = judge.classifier.quality_asked(images, reference, asked.as_deref()).await?;
        self.scores_sent.push((step, quality.clone()));
        keep_last(&mut self.scores_sent, SCORES_KEPT);
        send(Report::Quality { step, quality, millis: (now_ms() - started) as f32 });
        // Scoring time is not training time.
        self.last_quality_ms = now_ms();
        Ok(())
    }

    /// The generator on show, and which it is: the shipped one until the run has taken a step
    /// (when the sizes match), then the run's.
    fn generator_on_show(&self) -> Result<(Generator, Weights), String> {
        let gan = self.gan.as_ref().ok_or("The networks are not built yet.")?;
        Ok(match self.shipped() {
            Some(shipped) if gan.steps == 0 => (shipped.generator.clone(), Weights::Pretrained { steps: shipped.steps }),
            _ => (gan.sampler(), Weights::Run { steps: gan.steps }),
        })
    }

    /// The generator shipped for the run's model, if one was, and it takes the run's z. (It is
    /// of its own widths: the same z draws digits all the same.)
    fn shipped(&self) -> Option<&Pretrained> {
        let model = &self.gan.as_ref()?.model;
        self.pretrained.iter().filter_map(|(_, shipped)| shipped.as_ref()).find(|p| (p.model.family, p.model.nz) == (model.family, model.nz))
    }

    /// Draws digits from `z` (count x nz values) with the generator on show; a conditional
    /// model draws the `classes` (0 to 9 in turn where none are given).
    async fn draw(&self, z: Vec<f32>, classes: Option<&[u8]>) -> Result<(Vec<f32>, Weights), String> {
        let (generator, weights) = self.generator_on_show()?;
        let model = &self.gan.as_ref().ok_or("The networks are not built yet.")?.model;
        let device = generator.devices()[0].clone();
        let count = z.len() / model.nz;
        let z = Tensor::from_data(TensorData::new(z, [count, model.nz, 1, 1]), &device);
        Ok((read_values(generator.forward(model.generator_input(z, classes))).await?, weights))
    }

    async fn send_grid(&mut self) -> Result<(), String> {
        self.send_grid_with(true).await
    }

    /// The grid, and (`with_generator`) the generator for the sampler's big digit; the time
    /// the grid took (not the generator) is `grid_cost_ms`.
    async fn send_grid_with(&mut self, with_generator: bool) -> Result<(), String> {
        if self.gan.is_none() {
            return Ok(());
        }
        let started = now_ms();
        let (model, step) = (self.gan()?.model.clone(), self.gan()?.steps);
        let (values, weights) = if model.family.conditional() {
            // Row c: the first vectors, each drawn as a c. Same column, same z: same style.
            let z = self.grid_z[..GRID_COLUMNS * model.nz].repeat(CLASSES);
            let classes: Vec<u8> = (0..CLASSES * GRID_COLUMNS).map(|i| (i / GRID_COLUMNS) as u8).collect();
            self.draw(z, Some(&classes)).await?
        } else {
            self.draw(self.grid_z.clone(), None).await?
        };
        let grid = GrayImage::grid(&values, GRID_COLUMNS);
        send(Report::Grid { width: grid.width as u32, height: grid.height as u32, weights, pixels: grid.pixels });
        if model.family == Family::Vae {
            self.send_reconstructions().await?;
        }
        (self.last_grid_step, self.grid_cost_ms) = (Some(step), now_ms() - started);
        if with_generator {
            self.send_generator(weights).await?;
        }
        self.last_grid_ms = now_ms();
        Ok(())
    }

    /// A VAE's reconstructions of the held-out strip, under the strip itself.
    async fn send_reconstructions(&self) -> Result<(), String> {
        let gan = self.gan.as_ref().ok_or("The networks are not built yet.")?;
        let [count, ..] = self.strip.dims();
        let mut values = read_values(self.strip.clone()).await?;
        values.extend(read_values(gan.reconstruct(self.strip.clone())).await?);
        let strip = GrayImage::grid(&values, count.max(1));
        send(Report::Reconstructions(crate::protocol::Picture { width: strip.width as u32, height: strip.height as u32, pixels: strip.pixels }));
        Ok(())
    }

    /// Hands the generator on show to the sampling worker (through the page), when it changed.
    async fn send_generator(&mut self, weights: Weights) -> Result<(), String> {
        if self.generator_sent == Some(weights) {
            return Ok(());
        }
        let bytes = match (self.shipped(), weights, &self.gan) {
            (Some(shipped), Weights::Pretrained { .. }, _) => shipped.file.clone(),
            (_, _, Some(gan)) => Checkpoint::generator_of_gan_async(gan).await?.to_bytes(),
            _ => return Ok(()),
        };
        self.generator_sent = Some(weights);
        send(Report::Generator { weights, bytes });
        Ok(())
    }

    async fn bench(&mut self, steps: u32) -> Result<(), String> {
        self.set_running(false);
        let device = self.device.clone().ok_or("The networks are not built yet.")?.autodiff();
        let ModelConfig { family, refine, drefine, .. } = self.gan()?.model.clone();
        let mut results = Vec::new();
        let (mut trials, chosen) = (Vec::new(), conv_path());
        for preset in Preset::ALL {
            // Batch 64, the DCGAN example's and the command line's benchmark; the run's model,
            // with its extra layers in G and D.
            let model = ModelConfig { refine, drefine, ..preset.model().with_family(family) };
            let mut gan = Gan::new(model, TrainConfig::new().with_batch_size(64), &device);
            if self.gpu.is_some() {
                // Both convolution paths, as a run's trial times them (on a copy).
                let mut refusals = GpuRefusals::new(self.gpu.as_ref(), self.inject_refusal);
                let trial = ConvTrial::run(&gan, &self.digits, steps as usize, now_ms, &mut refusals).await;
                let Some(ms) = trial.ms(trial.fastest()) else {
                    force_conv_path(Some(chosen));
                    return Err(trial.summary());
                };
                results.push((preset, ms));
                trials.push(trial);
            } else {
                gan.step(&self.digits).read_async().await?; // warm-up: allocation
                let started = now_ms();
                for _ in 0..steps.max(1) {
                    gan.step(&self.digits).read_async().await?;
                }
                results.push((preset, (now_ms() - started) / steps.max(1) as f64));
            }
            next_tick().await;
        }
        // The run's own choice stands.
        force_conv_path(Some(chosen));
        let convolutions = (!trials.is_empty()).then(|| conv_trials_line(&trials));
        send(Report::Bench { backend: self.backend.clone(), results, convolutions });
        Ok(())
    }
}

type WebGpuDevice = burn::tensor::wgpu::wgpu::Device;

/// What the WebGPU device reports while a convolution path is timed (`RefusalWatch`): a
/// kernel the browser refuses (a shader it cannot compile, a workgroup past its limits) is
/// told only to the device's error scopes, and outside one cubecl's handler panics the worker.
/// The scopes are the browser's own (`pushErrorScope`), pushed before the path's steps and
/// popped after them, so they catch what creating its kernels' pipelines raises (cubecl's own
/// scopes around a shader module are pushed and popped within one call, inside ours): wgpu's
/// web backend reads only validation and out-of-memory errors from a scope, and panics on an
/// internal one (a shader the driver fails to compile).
struct GpuRefusals<'a> {
    gpu: Option<&'a WebGpuDevice>,
    /// How many of the two scopes (validation, then internal errors) are pushed, while a path
    /// runs (a browser that knows no internal-error scope has the first only).
    pushed: usize,
    /// `Fault::KernelRefused`.
    inject: bool,
}

impl<'a> GpuRefusals<'a> {
    fn new(gpu: Option<&'a WebGpuDevice>, inject: bool) -> Self {
        GpuRefusals { gpu, pushed: 0, inject }
    }

    /// The browser's device, and one of its methods called with `args`.
    fn call(&self, method: &str, args: &[&str]) -> Option<JsValue> {
        let device: &JsValue = self.gpu?.as_webgpu()?.as_ref();
        let function: js_sys::Function = js_sys::Reflect::get(device, &method.into()).ok()?.dyn_into().ok()?;
        let args: js_sys::Array = args.iter().map(|a| JsValue::from_str(a)).collect();
        function.apply(device, &args).ok()
    }

    /// Pops the scopes pushed (the last pushed first): what each caught, if anything, to come.
    fn pop(&mut self) -> Vec<js_sys::Promise> {
        (0..std::mem::take(&mut self.pushed)).filter_map(|_| self.call("popErrorScope", &[])?.dyn_into().ok()).collect()
    }
}

impl RefusalWatch for GpuRefusals<'_> {
    fn watch(&mut self, path: ConvPath) {
        debug_assert_eq!(self.pushed, 0, "a watch that did not end");
        let Some(gpu) = self.gpu else { return };
        for filter in ["validation", "internal"] {
            if self.call("pushErrorScope", &[filter]).is_none() {
                break;
            }
            self.pushed += 1;
        }
        if self.inject && path == ConvPath::Tiled {
            pipeline_past_the_limits(gpu);
        }
    }

    async fn refused(&mut self) -> Option<String> {
        for promise in self.pop() {
            // A GPUError, or null where the scope caught nothing.
            let Ok(error) = JsFuture::from(promise).await else { continue };
            if let Some(message) = js_sys::Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string()) {
                return Some(device_error_words(&message));
            }
        }
        None
    }
}

impl Drop for GpuRefusals<'_> {
    /// A watch ended without `refused` (a trial that was dropped) leaves no scope behind.
    fn drop(&mut self) {
        self.pop();
    }
}

/// The browser's words for a device error, on one line: without the lines that say where it
/// came from ("- While calling [Device].CreateComputePipeline(…)"), and without a closing full
/// stop (the page's sentence goes on after it).
fn device_error_words(message: &str) -> String {
    let said: Vec<&str> = message.lines().map(str::trim).filter(|line| !line.is_empty() && !line.trim_start_matches("- ").starts_with("While ")).collect();
    let words = if said.is_empty() { message.trim().to_string() } else { said.join(" ") };
    words.split_whitespace().collect::<Vec<_>>().join(" ").trim_end_matches('.').to_string()
}

/// A compute pipeline whose workgroup (1024 x 1024 units) is past every GPU's limits: what the
/// device reports of it is what it would report of a kernel of ours it cannot run
/// (`Fault::KernelRefused`).
fn pipeline_past_the_limits(gpu: &WebGpuDevice) {
    use burn::tensor::wgpu::wgpu;
    let module = gpu.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("a workgroup past the limits"),
        source: wgpu::ShaderSource::Wgsl("@compute @workgroup_size(1024, 1024) fn main() {}".into()),
    });
    drop(gpu.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("a workgroup past the limits"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    }));
}

async fn read_values(tensor: Tensor<4>) -> Result<Vec<f32>, String> {
    let data = tensor.into_data_async().await.map_err(|e| format!("{e:?}"))?;
    data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))
}
