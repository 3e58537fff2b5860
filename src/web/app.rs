//! The page: controls, live charts, the sample grid and the latent explorer. It holds no
//! tensors; it sends `Command`s to the training worker and draws the `Report`s it gets back.

use std::fmt::Write as _;
use std::rc::Rc;

use leptos::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::files::{download_array, download_bytes, download_canvas_png, read_file};
use super::kept::{self, KeptRun};
use super::{JsBytes, pack, pack_js, unpack, unpack_js};
use crate::checkpoint::MAX_FILE_BYTES;
use crate::metrics::{MetricHistory, MetricPoint};
use crate::model::ModelConfig;
use crate::protocol::{BackendRequest, Command, Picture, Preset, Report, Weights};
use crate::share::{MAX_BATCH, MAX_NZ, MAX_SEED, MAX_WIDTH, PageSetup, backend_from_name, backend_name, loss_from_name, loss_name};
use crate::training::{LossKind, StepReport, TrainConfig, normal_values};

/// Chart points kept (older ones are merged pairwise, see `MetricHistory`).
const CHART_POINTS: usize = 600;
/// Latent dimensions with a slider of their own.
const SLIDERS: usize = 10;

/// Shows a Rust panic on the page, whatever state the UI is in.
fn show_panic(message: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        if let Ok(banner) = document.create_element("div") {
            banner.set_id("panic");
            banner.set_text_content(Some(&format!("Something went wrong in the page: {message}. Reload to start again.")));
            if let Some(body) = document.body() {
                let _ = body.prepend_with_node_1(&banner);
            }
        }
    }
}

pub fn mount() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_panic(&info.to_string());
    }));
    leptos::mount::mount_to_body(App);
}

fn round_latent(value: f32) -> f32 {
    (value * 100.0).round() / 100.0
}

/// True when the backend named is WebGPU on a software emulation (chosen by hand).
fn gpu_is_software(backend: &RwSignal<Option<(String, String, bool)>>) -> bool {
    backend.with_untracked(|b| b.as_ref().is_some_and(|(name, _, _)| name.to_lowercase().contains("swiftshader")))
}

fn paint(canvas: &web_sys::HtmlCanvasElement, picture: &Picture) {
    canvas.set_width(picture.width);
    canvas.set_height(picture.height);
    let Ok(Some(context)) = canvas.get_context("2d") else { return };
    let context: web_sys::CanvasRenderingContext2d = context.unchecked_into();
    let rgba: Vec<u8> = picture.pixels.iter().flat_map(|&p| [p, p, p, 255]).collect();
    if let Ok(image) =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), picture.width, picture.height)
    {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}

#[component]
fn PictureCanvas(picture: RwSignal<Option<Picture>>, id: &'static str, label: &'static str) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    // Counts repaints, so tests (and curious users) can see the picture change.
    let version = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let (Some(canvas), Some(picture)) = (canvas.get(), picture.get()) {
            paint(&canvas, &picture);
            version.update_untracked(|v| *v += 1);
            let _ = canvas.set_attribute("data-version", &version.get_untracked().to_string());
        }
    });
    view! { <canvas id=id node_ref=canvas role="img" aria-label=label class="pixels"></canvas> }
}

/// What a chart's axes show: the y range and the steps at both ends.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ChartFrame {
    lo: f32,
    hi: f32,
    first: u64,
    last: u64,
}

impl ChartFrame {
    fn mid(&self) -> f32 {
        (self.lo + self.hi) / 2.0
    }

    /// The height in the picture of `value`, for a chart `height` high with `bottom` for labels.
    fn y(&self, value: f32, height: f32, bottom: f32) -> f32 {
        (height - bottom) - (value - self.lo) / (self.hi - self.lo) * (height - bottom - 6.0)
    }
}

/// A line chart of the run's history: one polyline a series, fixed or fitted y range.
#[component]
fn LineChart(
    history: RwSignal<MetricHistory>,
    id: &'static str,
    title: &'static str,
    explain: &'static str,
    series: Vec<(&'static str, &'static str, fn(&MetricPoint) -> f32)>,
    fixed_range: Option<(f32, f32)>,
) -> impl IntoView {
    const W: f32 = 420.0;
    const H: f32 = 180.0;
    const LEFT: f32 = 40.0;
    const BOTTOM: f32 = 20.0;
    // The frame (y range, first and last step) is worked out once an update; the elements are
    // built once and only their attributes and texts change as training runs.
    let fitted = series.clone();
    let frame = Memo::new(move |_| {
        let series = &fitted;
        history.with(|h| {
            let points = h.points();
            let (lo, hi) = fixed_range.unwrap_or_else(|| {
                let values = points.iter().flat_map(|p| series.iter().map(move |(_, _, f)| f(p)));
                let (lo, hi) = values.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
                if lo > hi { (0.0, 1.0) } else { (lo.min(0.0), hi.max(lo + 1e-3)) }
            });
            let (first, last) = (points.first().map_or(0, |p| p.report.step), points.last().map_or(1, |p| p.report.step));
            ChartFrame { lo, hi, first, last }
        })
    });
    let legend = series.iter().map(|(name, color, _)| view! {
        <span class="legend-item"><span class="swatch" style=format!("background:{color}")></span>{*name}</span>
    }).collect_view();
    let polylines = series.iter().map(|&(name, color, value)| {
        let points = move || {
            let f = frame.get();
            let span = f.last.saturating_sub(f.first).max(1) as f32;
            history.with(|h| {
                let mut coords = String::with_capacity(h.points().len() * 12);
                for p in h.points() {
                    let x = LEFT + (p.report.step - f.first) as f32 / span * (W - LEFT - 4.0);
                    let _ = write!(coords, "{x:.1},{:.1} ", f.y(value(p), H, BOTTOM));
                }
                coords
            })
        };
        view! { <polyline points=points stroke=color fill="none" stroke-width="1.5" data-series=name></polyline> }
    }).collect_view();
    let lines = view! {
        <g class="axes">
            <line x1=LEFT y1=H - BOTTOM x2=W y2=H - BOTTOM></line>
            <line x1=LEFT y1="0" x2=LEFT y2=H - BOTTOM></line>
            <text x=LEFT - 4.0 y=move || frame.with(|f| f.y(f.hi, H, BOTTOM)) + 4.0 text-anchor="end">{move || frame.with(|f| format!("{:.2}", f.hi))}</text>
            <text x=LEFT - 4.0 y=move || frame.with(|f| f.y(f.mid(), H, BOTTOM)) + 4.0 text-anchor="end">{move || frame.with(|f| format!("{:.2}", f.mid()))}</text>
            <text x=LEFT - 4.0 y=move || frame.with(|f| f.y(f.lo, H, BOTTOM)) text-anchor="end">{move || frame.with(|f| format!("{:.2}", f.lo))}</text>
            <line class="grid" x1=LEFT y1=move || frame.with(|f| f.y(f.mid(), H, BOTTOM)) x2=W y2=move || frame.with(|f| f.y(f.mid(), H, BOTTOM))></line>
            <text x=LEFT y=H - 4.0>{move || format!("step {}", frame.get().first)}</text>
            <text x=W - 4.0 y=H - 4.0 text-anchor="end">{move || format!("step {}", frame.get().last)}</text>
        </g>
        {polylines}
    };
    let count = move || history.with(|h| h.points().len());
    view! {
        <figure class="chart" id=id>
            <figcaption><strong>{title}</strong><span class="legend">{legend}</span></figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title data-points=count>{lines}</svg>
            <p class="explain">{explain}</p>
        </figure>
    }
}

#[component]
fn NumberField(
    label: &'static str,
    explain: &'static str,
    id: &'static str,
    value: RwSignal<f64>,
    min: f64,
    max: f64,
    step: &'static str,
    on_change: Rc<dyn Fn()>,
) -> impl IntoView {
    view! {
        <label class="field" for=id>
            <span>{label}</span>
            <input id=id type="number" min=min max=max step=step prop:value=move || value.get().to_string()
                on:change=move |ev| {
                    match event_target_value(&ev).parse::<f64>() {
                        Ok(v) if v.is_finite() && (min..=max).contains(&v) => { value.set(v); on_change(); }
                        _ => value.update(|_| {}),
                    }
                }/>
            <small>{explain}</small>
        </label>
    }
}

/// Snapshots kept in the page (older ones are dropped).
const SNAPSHOTS_KEPT: usize = 5;
/// A worker that crashes is restarted at most this many times before the page gives up.
const RESTARTS: u32 = 3;

/// A snapshot of the run, kept in the page so that it outlives the worker (a lost GPU, a crash).
#[derive(Clone)]
struct Snapshot {
    steps: u64,
    report: Option<StepReport>,
    /// A few of its digits, as a PNG data URL.
    thumbnail: String,
    bytes: JsBytes,
}

/// What a weights file being loaded is: the page's own snapshot keeps the curves up to its
/// step, an uploaded file or the kept run starts them afresh, and a kept run that is refused is
/// forgotten.
#[derive(Clone, Copy, PartialEq)]
enum Loading {
    File,
    Snapshot,
    KeptRun,
}

/// The page's link to a worker, which it can replace (kept in leptos' local arena, so it is
/// `Copy`). The page has two: the training worker, and a sampling worker that draws the big
/// sample from a copy of the generator.
#[derive(Clone, Copy)]
struct WorkerLink {
    url: &'static str,
    worker: StoredValue<Option<Worker>, LocalStorage>,
    on_message: StoredValue<Option<js_sys::Function>, LocalStorage>,
    on_error: StoredValue<Option<js_sys::Function>, LocalStorage>,
}

impl WorkerLink {
    fn new(url: &'static str) -> Self {
        Self {
            url,
            worker: StoredValue::new_local(None),
            on_message: StoredValue::new_local(None),
            on_error: StoredValue::new_local(None),
        }
    }

    fn send(&self, command: &Command) {
        self.worker.with_value(|worker| {
            if let Some(worker) = worker {
                let (message, transfer) = pack(command.to_json(), command.payload());
                let _ = worker.post_message_with_transfer(&message, &transfer);
            }
        });
    }

    /// Sends `command` with bytes the page holds as its binary part (the browser copies them).
    fn send_with(&self, command: &Command, bytes: &JsBytes) {
        self.worker.with_value(|worker| {
            if let Some(worker) = worker {
                let _ = worker.post_message(&pack_js(command.to_json(), bytes));
            }
        });
    }

    /// Starts a fresh worker with `on_message`, ending the one before (if any).
    fn start(&self, on_message: Option<Closure<dyn FnMut(MessageEvent)>>) -> Result<(), String> {
        if let Some(handler) = on_message {
            self.on_message.set_value(Some(handler.into_js_value().unchecked_into()));
        }
        if let Some(old) = self.worker.try_update_value(|w| w.take()).flatten() {
            old.terminate();
        }
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker =
            Worker::new_with_options(self.url, &options).map_err(|e| format!("Could not start a worker: {e:?}"))?;
        self.on_message.with_value(|f| worker.set_onmessage(f.as_ref()));
        self.on_error.with_value(|f| worker.set_onerror(f.as_ref()));
        self.worker.set_value(Some(worker));
        Ok(())
    }
}

/// Is the key press meant for a text field or a list rather than for a shortcut?
fn typing_into(event: &web_sys::KeyboardEvent) -> bool {
    let Some(element) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    match element.tag_name().as_str() {
        "INPUT" => element.get_attribute("type").as_deref() != Some("range"),
        "SELECT" | "TEXTAREA" => true,
        _ => false,
    }
}

fn target_is(event: &web_sys::KeyboardEvent, tag: &str) -> bool {
    event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| e.tag_name() == tag)
}

const SHORTCUTS: [(&str, &str); 9] = [
    ("Space", "play / pause"),
    ("S", "one training step"),
    ("R", "reset: new networks"),
    ("← →", "move the selected latent slider"),
    ("↑ ↓", "select another latent slider"),
    ("N", "new random z"),
    ("P", "presenter mode on / off"),
    ("?", "this help"),
    ("Esc", "close this help"),
];

/// A plain-language account of the game, the curves and what goes wrong, for a student who has
/// never seen a GAN.
#[component]
fn About() -> impl IntoView {
    view! {
    <details class="about" id="about">
        <summary>"What is going on here?"</summary>
        <p>"Two small neural networks play a game. The " <b>"generator (G)"</b> " turns a list of random numbers, z, \
            into a picture. The " <b>"discriminator (D)"</b> " looks at a picture and says how likely it is to be a real \
            handwritten digit. D learns from real digits (from MNIST) and from G's fakes; G learns only from D's verdicts, \
            by changing itself so that D calls its pictures real."</p>
        <p>"At first G draws noise and D easily wins: D(x), its score for real digits, goes up toward 1 and D(G(z)), \
            its score for fakes, down toward 0. As G improves, the two curves move toward each other. If they meet \
            near 0.5, D is guessing: G's digits fool it half the time."</p>
        <p>"Things to watch for. " <b>"Mode collapse"</b> ": the grid fills with copies of one or two digits, because G \
            found a few pictures D accepts and stopped exploring. " <b>"D wins outright"</b> ": D(G(z)) stays at 0 and \
            the digits stay blurry; try a smaller D learning rate. A run that goes wrong can be rolled back with a snapshot."</p>
    </details>
    }
}

/// The keyboard shortcuts, over the page.
#[component]
fn HelpOverlay(open: RwSignal<bool>) -> impl IntoView {
    let help_open = open;
    view! {
    <Show when=move || help_open.get()>
        <div class="overlay" on:click=move |_| help_open.set(false)>
            <div id="help" class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title"
                on:click=|ev| ev.stop_propagation()>
                <h2 id="help-title">"Keyboard shortcuts"</h2>
                <table>
                    {SHORTCUTS.iter().map(|(key, what)| view! { <tr><td><kbd>{*key}</kbd></td><td>{*what}</td></tr> }).collect_view()}
                </table>
                <p class="explain">"Tab moves between controls; every button and slider works from the keyboard."</p>
                <button id="help-close" autofocus on:click=move |_| help_open.set(false)>"Close"</button>
            </div>
        </div>
    </Show>
    }
}

/// The snapshots kept in the page, newest first, each with a few digits and a way back to it.
#[component]
fn SnapshotList(snapshots: RwSignal<Vec<Snapshot>>, go_back: impl Fn(String, JsBytes) + Copy + Send + Sync + 'static) -> impl IntoView {
    // Keyed by step: a new snapshot adds one item and leaves the others as they are.
    let item = move |s: Snapshot| {
        let label = format!("digits at step {}", s.steps);
        let numbers = s.report.as_ref().map(|r| format!("D(x) {:.2} · D(G(z)) {:.2}", r.d_real, r.d_fake_before)).unwrap_or_default();
        let bytes = s.bytes.clone();
        view! {
            <li class="snapshot" data-step=s.steps>
                <img src=s.thumbnail.clone() class="pixels thumb" alt=label/>
                <span><b>{format!("step {}", s.steps)}</b><br/><small>{numbers}</small></span>
                <button class="secondary" aria-label=format!("go back to step {}", s.steps)
                    on:click=move |_| go_back(format!("the snapshot at step {}", s.steps), bytes.clone())>"Go back"</button>
            </li>
        }
    };
    view! {
        <ol id="snapshots" class="snapshots">
            <For each=move || snapshots.get().into_iter().rev() key=|s| s.steps children=item/>
        </ol>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let (url, ignored) = PageSetup::from_query(&search);
    let backend_request = RwSignal::new(url.backend);
    let start_model = url.model();
    let model_nz = RwSignal::new(start_model.nz as f64);
    let ngf = RwSignal::new(start_model.ngf as f64);
    let ndf = RwSignal::new(start_model.ndf as f64);
    let use_preset = move |p: Preset| {
        let model = p.model();
        model_nz.set(model.nz as f64);
        ngf.set(model.ngf as f64);
        ndf.set(model.ndf as f64);
    };
    let lr_d = RwSignal::new(url.train.lr_d);
    let lr_g = RwSignal::new(url.train.lr_g);
    // beta1 is an f32 in the config: round so that 0.3 shows as 0.3, not 0.30000001.
    let round_beta1 = |b: f32| (b as f64 * 1e6).round() / 1e6;
    let beta1 = RwSignal::new(round_beta1(url.train.beta1));
    let batch = RwSignal::new(url.train.batch_size as f64);
    let seed = RwSignal::new(url.train.seed as f64);
    let loss = RwSignal::new(url.train.loss);
    let presenter = RwSignal::new(url.presenter);
    let help_open = RwSignal::new(false);

    let backend = RwSignal::new(None::<(String, String, bool)>);
    let running = RwSignal::new(false);
    let ready = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let steps_per_second = RwSignal::new(0.0f32);
    let history = RwSignal::new(MetricHistory::new(CHART_POINTS));
    let grid = RwSignal::new(None::<Picture>);
    let sample = RwSignal::new(None::<Picture>);
    let showing = RwSignal::new(None::<Weights>);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(if ignored.is_empty() {
        None
    } else {
        Some(format!("Ignored address settings that are unknown or out of range: {}", ignored.join(", ")))
    });
    let bench = RwSignal::new(None::<String>);
    let snapshots = RwSignal::new(Vec::<Snapshot>::new());
    // A run an earlier visit left in this browser, offered until it is taken, forgotten or
    // replaced by this page's own next snapshot.
    let kept_run = RwSignal::new(None::<KeptRun>);
    let keep_failed = StoredValue::new(false);
    let forget_kept_run = move || {
        kept_run.set(None);
        leptos::task::spawn_local(async { let _ = kept::forget().await; });
    };
    leptos::task::spawn_local(async move {
        if let Ok(Some(run)) = kept::kept().await {
            kept_run.set(Some(run));
        }
    });
    // A snapshot to go on from once a restarted worker is listening.
    let pending_restore = StoredValue::new(None::<Snapshot>);
    let restarts = StoredValue::new(0u32);
    let saving = RwSignal::new(false);

    let nz = RwSignal::new(start_model.nz);
    // The address's z is used for the first networks of its size only.
    let url_z = StoredValue::new(url.z.clone());
    let z_from = RwSignal::new(Vec::<f32>::new());
    let z_to = RwSignal::new(Vec::<f32>::new());
    let walk = RwSignal::new(0.0f64);
    let z_seed = RwSignal::new(1u64);
    let selected_dim = RwSignal::new(0usize);
    let sample_in_flight = RwSignal::new(false);
    let sample_dirty = RwSignal::new(false);

    let trainer = WorkerLink::new("./worker_loader.js");
    let sampler = WorkerLink::new("./worker_loader.js?role=sampler");
    // The sampler draws the big sample once it is listening and holds the generator on show
    // (until then, and if it fails, the training worker draws it).
    let sampler_listening = StoredValue::new(false);
    let sampler_ready = StoredValue::new(false);
    let last_generator = StoredValue::new(None::<(Weights, JsBytes)>);

    let train_config = move || {
        TrainConfig::new()
            .with_lr_d(lr_d.get_untracked())
            .with_lr_g(lr_g.get_untracked())
            .with_beta1(beta1.get_untracked() as f32)
            .with_batch_size(batch.get_untracked() as usize)
            .with_seed(seed.get_untracked() as u64)
            .with_loss(loss.get_untracked())
    };
    let sizes = move || {
        ModelConfig::new().with_nz(model_nz.get() as usize).with_ngf(ngf.get() as usize).with_ndf(ndf.get() as usize)
    };
    let model_config = move || untrack(sizes);
    // The preset that the networks' sizes make, if any.
    let size_preset = move || {
        let model = sizes();
        Preset::ALL.into_iter().find(|p| p.model() == model)
    };
    // Latent values are kept to two decimals, the precision the address carries, so a shared
    // link draws exactly the same digit.
    let current_z = move || {
        let (a, b, t) = (z_from.get(), z_to.get(), walk.get() as f32);
        a.iter().zip(&b).map(|(a, b)| round_latent(a * (1.0 - t) + b * t)).collect::<Vec<f32>>()
    };
    let request_sample = move |z: Vec<f32>| {
        if z.is_empty() || !ready.get_untracked() {
            return;
        }
        if sample_in_flight.get_untracked() {
            sample_dirty.set(true);
        } else {
            sample_in_flight.set(true);
            let command = Command::Sample { z };
            if sampler_ready.get_value() { sampler.send(&command) } else { trainer.send(&command) }
        }
    };
    let show_sample = move |picture: Picture| {
        sample.set(Some(picture));
        sample_in_flight.set(false);
        if sample_dirty.get_untracked() {
            sample_dirty.set(false);
            request_sample(current_z());
        }
    };
    // Hands the generator on show to the sampler, if it is listening.
    let feed_sampler = move || {
        if !sampler_listening.get_value() {
            return;
        }
        last_generator.with_value(|g| {
            if let Some((weights, bytes)) = g {
                sampler.send_with(&Command::UseGenerator { weights: *weights, bytes: Vec::new() }, bytes);
                sampler_ready.set_value(true);
            }
        });
    };
    let set_z = move |z: Vec<f32>| {
        z_from.set(z.clone());
        z_to.set(z.clone());
        walk.set(0.0);
        request_sample(z);
    };
    let new_z = move |seed: u64, nz: usize| {
        normal_values(&mut StdRng::seed_from_u64(seed), nz).into_iter().map(round_latent).collect::<Vec<f32>>()
    };
    // New networks in the worker; the page's step and curves are left to the caller.
    let build_networks = move || {
        trainer.send(&Command::Reset { backend: backend_request.get_untracked(), model: model_config(), train: train_config() });
    };
    let reset = move || {
        ready.set(false);
        history.update(|h| h.clear());
        step.set(0);
        steps_per_second.set(0.0);
        build_networks();
    };
    let loading = StoredValue::new(Loading::File);
    let load = move |source: String, bytes: Vec<u8>| {
        loading.set_value(Loading::File);
        trainer.send(&Command::Load { source, bytes })
    };
    let load_js = move |source: String, bytes: JsBytes, what: Loading| {
        loading.set_value(what);
        trainer.send_with(&Command::Load { source, bytes: Vec::new() }, &bytes)
    };
    let load_kept = move |source: String, bytes: JsBytes| load_js(source, bytes, Loading::Snapshot);

    // The address follows the setup (debounced: browsers throttle frequent address changes).
    let url_pending = StoredValue::new(false);
    let url_query = StoredValue::new(String::new());
    Effect::new(move |_| {
        let setup = PageSetup {
            preset: size_preset(),
            nz: Some(model_nz.get() as usize),
            ngf: Some(ngf.get() as usize),
            ndf: Some(ndf.get() as usize),
            backend: backend_request.get(),
            train: TrainConfig::new()
                .with_lr_d(lr_d.get())
                .with_lr_g(lr_g.get())
                .with_beta1(beta1.get() as f32)
                .with_batch_size(batch.get() as usize)
                .with_seed(seed.get() as u64)
                .with_loss(loss.get()),
            z: Some(current_z()).filter(|z| !z.is_empty()),
            presenter: presenter.get(),
            ..PageSetup::default()
        };
        url_query.set_value(setup.to_query());
        if url_pending.get_value() {
            return;
        }
        url_pending.set_value(true);
        set_timeout(
            move || {
                url_pending.set_value(false);
                if let Some(window) = web_sys::window() {
                    let query = url_query.get_value();
                    let _ = window.history().and_then(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(&query)));
                }
            },
            std::time::Duration::from_millis(300),
        );
    });
    // Presenter mode is a class on the body, so the stylesheet can lay out the whole page.
    Effect::new(move |_| {
        let on = presenter.get();
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.class_list().toggle_with_force("presenter", on);
        }
    });

    // After a crash or a lost GPU: a new worker (on the CPU if the GPU was lost), going on from
    // the last snapshot.
    // A worker keeps its device for its life, so a new backend takes a new worker; the run goes
    // along as a snapshot, so nothing trained is lost.
    let switching_backend = StoredValue::new(false);
    let restart_on_backend = move |run: Option<Snapshot>| {
        ready.set(false);
        running.set(false);
        sample_in_flight.set(false);
        backend.set(None);
        notice.set(Some(match &run {
            Some(s) => format!("Moving the run at step {} to the new backend…", s.steps),
            None => "Starting on the new backend…".to_string(),
        }));
        pending_restore.set_value(run);
        if let Err(e) = trainer.start(None) {
            error.set(Some(e));
        }
    };

    let recover = move |what: String| {
        let on_gpu = backend.get_untracked().is_some_and(|b| b.2);
        ready.set(false);
        running.set(false);
        sample_in_flight.set(false);
        let count = restarts.get_value() + 1;
        restarts.set_value(count);
        if count > RESTARTS {
            error.set(Some(format!("{what}. The training worker failed {RESTARTS} times: reload the page to start again.")));
            return;
        }
        if on_gpu {
            backend_request.set(BackendRequest::Cpu);
        }
        backend.set(None);
        let latest = snapshots.with_untracked(|s| s.last().cloned());
        let moved = if on_gpu { "Training moved to the CPU" } else { "The training worker was restarted" };
        let from = match &latest {
            Some(s) => format!("and goes on from the snapshot at step {}", s.steps),
            None => "and starts over (no snapshot had been taken yet)".to_string(),
        };
        pending_restore.set_value(latest);
        error.set(Some(format!("{what}. {moved} {from}.")));
        if let Err(e) = trainer.start(None) {
            error.set(Some(e));
        }
    };

    {
        let fault = StoredValue::new(url.fault);
        let chose_size = url.preset.is_some() || url.nz.is_some() || url.ngf.is_some() || url.ndf.is_some();
        let run_bench = url.bench;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // Weights files stay in the browser's hands: the page keeps them and passes them on.
            let Some((text, payload)) = unpack_js(&event.data()) else { return };
            let report = match Report::from_json(&text) {
                Ok(r) => r,
                Err(e) => return error.set(Some(e)),
            };
            let payload = match (report.payload().is_some(), payload) {
                (true, None) => return error.set(Some("A message from the training worker came without its data.".into())),
                (_, payload) => payload,
            };
            match report {
                Report::Listening => match pending_restore.try_update_value(|p| p.take()).flatten() {
                    // A new worker after a crash, a lost GPU or a change of backend: the step and
                    // the curves stay until the snapshot it goes on from is loaded.
                    Some(snapshot) => {
                        steps_per_second.set(0.0);
                        build_networks();
                        load_kept(format!("the snapshot at step {}", snapshot.steps), snapshot.bytes);
                    }
                    None => reset(),
                },
                Report::Backend { name, reason, on_gpu } => {
                    backend.set(Some((name, reason, on_gpu)));
                    // A real GPU trains the standard model faster than a CPU trains the tiny one.
                    // Only for a fresh start: a run coming along from a snapshot keeps its step
                    // (above 0) and its size.
                    if on_gpu && !chose_size && !gpu_is_software(&backend) && step.get_untracked() == 0 {
                        use_preset(Preset::Standard);
                        reset();
                    }
                }
                Report::Ready { nz: n } => {
                    super::check_static_constructors("the page");
                    // The sampler's generator may be of another size until the next one comes.
                    sampler_ready.set_value(false);
                    last_generator.set_value(None);
                    nz.set(n);
                    selected_dim.update(|d| *d = (*d).min(SLIDERS.min(n) - 1));
                    ready.set(true);
                    let shared_z = url_z.try_update_value(|z| z.take()).flatten();
                    if let Some(z) = shared_z.as_ref().filter(|z| z.len() != n) {
                        notice.set(Some(format!(
                            "Ignored the address's z: it has {} numbers, and this generator takes {n}.",
                            z.len()
                        )));
                    }
                    match shared_z.filter(|z| z.len() == n) {
                        Some(z) => set_z(z),
                        None if z_from.with_untracked(|z| z.len()) == n => request_sample(current_z()),
                        None => {
                            z_from.set(new_z(z_seed.get_untracked(), n));
                            z_to.set(new_z(z_seed.get_untracked() + 1_000_000, n));
                            request_sample(current_z());
                        }
                    }
                    if run_bench {
                        bench.set(Some("Benchmark running…".into()));
                        trainer.send(&Command::Bench { steps: 3 });
                    }
                }
                Report::Steps { reports, steps_per_second: rate } => {
                    if let Some(last) = reports.last() {
                        step.set(last.step);
                        if (3..6).contains(&last.step) {
                            // Once per page: a worker restarted after the fault must not get it again.
                            if let Some(fault) = fault.try_update_value(|f| f.take()).flatten() {
                                trainer.send(&Command::InjectFault(fault));
                            }
                        }
                    }
                    steps_per_second.set(rate);
                    history.update(|h| reports.iter().for_each(|r| h.push(r)));
                }
                Report::Grid { width, height, weights, .. } => {
                    let pixels = payload.map(|p| p.to_vec()).unwrap_or_default();
                    grid.set(Some(Picture { width, height, pixels }));
                    showing.set(Some(weights));
                    // The big sample follows training too.
                    request_sample(current_z());
                }
                Report::Sample { picture, .. } => show_sample(picture),
                Report::Generator { weights, .. } => {
                    last_generator.set_value(payload.map(|bytes| (weights, bytes)));
                    feed_sampler();
                    request_sample(current_z());
                }
                Report::Running(r) => running.set(r),
                Report::Diverged { step: bad, restored_step } => {
                    step.set(restored_step);
                    error.set(Some(format!(
                        "Training diverged at step {bad}: a loss became NaN or infinite. Training is paused and the \
                         weights from step {restored_step} are kept. Try lower learning rates, then press play."
                    )));
                }
                Report::Bench { backend, results } => {
                    let text = results.iter().map(|(p, ms)| format!("{}: {ms:.0} ms/step", p.name())).collect::<Vec<_>>().join(", ");
                    bench.set(Some(format!("{backend} — {text}")));
                }
                Report::Saved { steps, .. } => {
                    saving.set(false);
                    let name = format!("ganplay-step-{steps}.ganplay");
                    if let Err(e) = payload.ok_or_else(|| "no file came".to_string()).and_then(|b| download_array(&name, &b, "application/octet-stream")) {
                        error.set(Some(format!("The weights file could not be offered for download: {e}")));
                    }
                }
                Report::Snapshot { steps, report, thumbnail, .. } => {
                    let Some(bytes) = payload else { return };
                    let what = untrack(size_preset).map_or("custom-size", |p| p.name());
                    let run = KeptRun { steps, what: what.to_string(), bytes: bytes.clone() };
                    kept_run.set(None);
                    leptos::task::spawn_local(async move {
                        if let Err(e) = kept::keep(&run).await {
                            if !keep_failed.get_value() {
                                keep_failed.set_value(true);
                                notice.set(Some(format!(
                                    "This browser did not keep the run for a later visit ({e}). Save run keeps it as a file."
                                )));
                            }
                        }
                    });
                    snapshots.update(|list| {
                        list.retain(|s| s.steps != steps);
                        list.push(Snapshot { steps, report, thumbnail, bytes });
                        let extra = list.len().saturating_sub(SNAPSHOTS_KEPT);
                        list.drain(..extra);
                    });
                    // The snapshot asked for after pausing (one taken while still running is older).
                    if switching_backend.get_value() && !running.get_untracked() {
                        switching_backend.set_value(false);
                        restart_on_backend(snapshots.with_untracked(|l| l.iter().find(|s| s.steps == steps).cloned()));
                    }
                }
                Report::Loaded { model, train, steps, source } => {
                    model_nz.set(model.nz as f64);
                    ngf.set(model.ngf as f64);
                    ndf.set(model.ndf as f64);
                    lr_d.set(train.lr_d);
                    lr_g.set(train.lr_g);
                    beta1.set(round_beta1(train.beta1));
                    batch.set(train.batch_size as f64);
                    seed.set(train.seed as f64);
                    loss.set(train.loss);
                    if loading.get_value() == Loading::Snapshot {
                        history.update(|h| h.keep_until(steps));
                    } else {
                        history.update(|h| h.clear());
                    }
                    step.set(steps);
                    notice.set(Some(format!("Loaded {source}: the run is at step {steps}, paused. Press play to go on.")));
                }
                Report::LoadRefused(message) => {
                    if loading.get_value() == Loading::KeptRun {
                        forget_kept_run();
                        return error.set(Some(format!("{message} This browser no longer keeps it.")));
                    }
                    error.set(Some(message))
                }
                Report::DeviceLost(why) => recover(format!("The GPU stopped working (device lost: {why})")),
                Report::Crashed(why) => recover(format!("The training worker crashed ({why})")),
                Report::Notice(message) => notice.set(Some(message)),
                Report::Error(message) => {
                    sample_in_flight.set(false);
                    saving.set(false);
                    error.set(Some(message));
                }
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            ready.set(false);
            running.set(false);
            // A crash reports itself first (see the worker's panic hook); keep that message.
            if error.get_untracked().is_none() {
                error.set(Some("The training worker stopped or failed to load. Reload the page to try again.".into()));
            }
        });
        trainer.on_error.set_value(Some(on_error.into_js_value().unchecked_into()));
        if let Err(e) = trainer.start(Some(on_message)) {
            return view! { <p id="error" class="error">{e}</p> }.into_any();
        }
        let on_sampler_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(report) = unpack(&event.data()).and_then(|(text, payload)| Report::from_message(&text, payload).ok()) else {
                return;
            };
            match report {
                Report::Listening => {
                    sampler_listening.set_value(true);
                    feed_sampler();
                }
                Report::Sample { picture, .. } => show_sample(picture),
                // A sampler that fails leaves the big sample to the training worker.
                Report::Crashed(_) | Report::Error(_) => {
                    if matches!(report, Report::Crashed(_)) {
                        sampler_listening.set_value(false);
                    }
                    sampler_ready.set_value(false);
                    sample_in_flight.set(false);
                    request_sample(current_z());
                }
                _ => {}
            }
        });
        // The page works without it: a sampler that cannot start is not an error.
        let _ = sampler.start(Some(on_sampler_message));
    }

    // A message stays until the user acts: playing, stepping or resetting clears it.
    let play_pause = move || {
        error.set(None);
        trainer.send(if running.get_untracked() { &Command::Pause } else { &Command::Play })
    };
    let single_step = move || {
        if ready.get_untracked() && !running.get_untracked() {
            error.set(None);
            trainer.send(&Command::Step)
        }
    };
    let user_reset = move || {
        error.set(None);
        reset();
    };
    let tune: Rc<dyn Fn()> = Rc::new(move || trainer.send(&Command::Tune(train_config())));
    let rebuild: Rc<dyn Fn()> = Rc::new(move || {
        notice.set(Some("New networks built with the changed setting: training starts over.".into()));
        reset();
    });
    let move_slider = move |dim: usize, value: f32| {
        // Moving a slider edits the current point: fold the walk into it.
        let mut z = current_z();
        if let Some(v) = z.get_mut(dim) {
            *v = value.clamp(-3.0, 3.0);
            set_z(z);
        }
    };
    let random_z = move || {
        z_seed.update(|s| *s += 1);
        set_z(new_z(z_seed.get_untracked(), nz.get_untracked()));
    };

    window_event_listener(leptos::ev::keydown, move |event: web_sys::KeyboardEvent| {
        if typing_into(&event) || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let on_range = target_is(&event, "INPUT");
        let handled = match event.key().as_str() {
            // Space on a focused button or slider is theirs.
            " " if !target_is(&event, "BUTTON") && !on_range && ready.get_untracked() => {
                play_pause();
                true
            }
            "s" | "S" => {
                single_step();
                true
            }
            "r" | "R" => {
                user_reset();
                true
            }
            "n" | "N" if ready.get_untracked() => {
                random_z();
                true
            }
            "p" | "P" => {
                presenter.update(|p| *p = !*p);
                true
            }
            "?" | "h" | "H" => {
                help_open.update(|h| *h = !*h);
                true
            }
            "Escape" if help_open.get_untracked() => {
                help_open.set(false);
                true
            }
            "ArrowLeft" | "ArrowRight" if !on_range && ready.get_untracked() => {
                let dim = selected_dim.get_untracked();
                let delta = if event.key() == "ArrowLeft" { -0.1 } else { 0.1 };
                let value = current_z().get(dim).copied().unwrap_or(0.0);
                move_slider(dim, ((value + delta) * 100.0).round() / 100.0);
                true
            }
            "ArrowUp" | "ArrowDown" if !on_range => {
                let count = SLIDERS.min(nz.get_untracked());
                let up = event.key() == "ArrowUp";
                selected_dim.update(|d| *d = if up { (*d + count - 1) % count } else { (*d + 1) % count });
                true
            }
            _ => false,
        };
        if handled {
            event.prevent_default();
        }
    });

    let sliders = move || {
        (0..SLIDERS.min(nz.get())).map(|dim| {
            let value = move || current_z().get(dim).copied().unwrap_or(0.0);
            view! {
                <label class="slider" class:selected=move || selected_dim.get() == dim>
                    <span>{format!("z{dim}")}</span>
                    <input type="range" min="-3" max="3" step="0.01" id=format!("z{dim}")
                        aria-label=format!("latent dimension {dim}")
                        prop:value=move || format!("{:.2}", value())
                        on:focus=move |_| selected_dim.set(dim)
                        on:input=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                                selected_dim.set(dim);
                                move_slider(dim, v);
                            }
                        }/>
                    <output>{move || format!("{:+.2}", value())}</output>
                </label>
            }
        }).collect_view()
    };
    let new_walk = move |_| {
        z_from.set(current_z());
        z_seed.update(|s| *s += 1);
        z_to.set(new_z(z_seed.get_untracked() + 1_000_000, nz.get_untracked()));
        walk.set(0.0);
        request_sample(current_z());
    };
    let on_walk = move |ev| {
        if let Ok(t) = event_target_value(&ev).parse::<f64>() {
            walk.set(t);
            request_sample(current_z());
        }
    };
    let on_preset = move |ev| {
        if let Some(p) = Preset::from_name(&event_target_value(&ev)) {
            use_preset(p);
            notice.set(Some(format!("New {} networks built: training starts over.", p.name())));
            reset();
        }
    };
    let on_loss = {
        let tune = tune.clone();
        move |ev| {
            loss.set(loss_from_name(&event_target_value(&ev)).unwrap_or(LossKind::Bce));
            tune();
        }
    };
    let on_backend = move |ev| {
        let choice = backend_from_name(&event_target_value(&ev)).unwrap_or_default();
        if choice == backend_request.get_untracked() {
            return;
        }
        backend_request.set(choice);
        if ready.get_untracked() && step.get_untracked() > 0 {
            // Pause, take a snapshot, and go on from it on the new backend (see the Snapshot report).
            switching_backend.set_value(true);
            trainer.send(&Command::Pause);
            trainer.send(&Command::Snapshot);
        } else {
            restart_on_backend(None);
        }
    };
    let on_upload = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        let name = file.name();
        if file.size() > MAX_FILE_BYTES as f64 {
            error.set(Some(format!(
                "{name} was not loaded: it is {:.0} MB, too large for a ganplay weights file. The current run goes on unchanged.",
                file.size() / 1e6
            )));
            return;
        }
        leptos::task::spawn_local(async move {
            match read_file(&file).await {
                Ok(bytes) => load(name, bytes),
                Err(e) => error.set(Some(format!("{e}. The current run goes on unchanged."))),
            }
        });
    };
    let export = move |what: &'static str| {
        let steps = step.get_untracked();
        let result = match what {
            "grid" => download_canvas_png("grid", &format!("ganplay-grid-step-{steps}.png"), 4),
            "sample" => download_canvas_png("sample", &format!("ganplay-sample-step-{steps}.png"), 10),
            _ => download_bytes(&format!("ganplay-metrics-step-{steps}.csv"), history.with_untracked(|h| h.to_csv()).as_bytes(), "text/csv"),
        };
        if let Err(e) = result {
            error.set(Some(format!("The export failed: {e}")));
        }
    };
    let weights_label = move || match showing.get() {
        Some(Weights::Pretrained { steps }) => format!(
            "Showing the pretrained generator (trained for {steps} steps, shipped with the page). Press play to train your own."
        ),
        Some(Weights::Run { steps }) => format!("Showing your run at step {steps}."),
        None => "Loading…".to_string(),
    };

    view! {
        <header>
            <h1>"ganplay"</h1>
            <p class="tagline">"Watch a generator learn to draw digits, on your own machine."</p>
            <div id="status" role="status" aria-live="polite">
                <span id="backend" data-gpu=move || backend.get().map(|b| b.2.to_string())>
                    {move || backend.get().map_or("Starting…".to_string(), |b| b.0)}
                </span>
                <span id="backend-reason">{move || backend.get().map(|b| b.1)}</span>
                <span>"step "<b id="step">{move || step.get()}</b></span>
                <span><b id="rate">{move || format!("{:.1}", steps_per_second.get())}</b>" steps/s"</span>
            </div>
            <div class="buttons top">
                <button id="presenter" class="secondary" aria-pressed=move || presenter.get().to_string()
                    on:click=move |_| presenter.update(|p| *p = !*p)>
                    {move || if presenter.get() { "Leave presenter mode" } else { "Presenter mode" }}
                </button>
                <button id="help-button" class="secondary" aria-haspopup="dialog" on:click=move |_| help_open.set(true)>"Help and shortcuts (?)"</button>
            </div>
        </header>
        {move || error.get().map(|e| view! { <p id="error" class="error" role="alert">{e}</p> })}
        {move || notice.get().map(|n| view! { <p id="notice" class="notice" role="status">{n}</p> })}
        {move || kept_run.get().map(|run| {
            let (steps, bytes) = (run.steps, run.bytes.clone());
            view! {
                <div id="kept-run" class="notice offer" role="status">
                    <span>{format!("Your run from last time ({} networks, step {}) is kept in this browser. ", run.what, run.steps)}
                        <small>"Training here replaces it at the next snapshot."</small></span>
                    <button id="kept-go-on" disabled=move || !ready.get() on:click=move |_| {
                        kept_run.set(None);
                        load_js(format!("the run kept in this browser (step {steps})"), bytes.clone(), Loading::KeptRun);
                    }>"Go on from it"</button>
                    <button id="kept-forget" class="secondary" on:click=move |_| forget_kept_run()>"Forget it"</button>
                </div>
            }
        })}
        <About/>
        <main>
            <section class="controls" aria-label="Training controls">
                <div class="buttons">
                    <button id="play" on:click=move |_| play_pause() disabled=move || !ready.get()>
                        {move || if running.get() { "Pause" } else { "Play" }}
                    </button>
                    <button id="step-once" class="secondary" on:click=move |_| single_step() disabled=move || !ready.get() || running.get()>"Step"</button>
                    <button id="reset" class="secondary" on:click=move |_| user_reset()>"Reset"</button>
                </div>
                <div class="settings">
                <label class="field" for="preset">
                    <span>"Model size"</span>
                    // The networks' sizes decide what shows: sizes set by hand are "custom".
                    <select id="preset" on:change=on_preset prop:value=move || size_preset().map_or("custom", |p| p.name())>
                        <option value="tiny">"tiny (G 16, D 8 wide)"</option>
                        <option value="small">"small (G 24, D 16 wide)"</option>
                        <option value="standard">"standard (G and D 32 wide)"</option>
                        <option value="custom" disabled>"custom (the sizes below)"</option>
                    </select>
                    <small>"Bigger networks draw better digits but each step takes longer."</small>
                </label>
                <label class="field" for="backend-choice">
                    <span>"Run on"</span>
                    <select id="backend-choice" on:change=on_backend prop:value=move || backend_name(backend_request.get())>
                        <option value="auto">"the faster (automatic)"</option>
                        <option value="webgpu">"WebGPU"</option>
                        <option value="cpu">"CPU"</option>
                    </select>
                    <small>"Where the training runs: your graphics card (WebGPU) or the processor. Changing this moves the run there."</small>
                </label>
                <NumberField label="Latent size (nz)" id="nz" value=model_nz min=1.0 max=MAX_NZ as f64 step="1"
                    explain="How many random numbers G draws each digit from; changing it starts over." on_change=rebuild.clone()/>
                <NumberField label="G width" id="ngf" value=ngf min=1.0 max=MAX_WIDTH as f64 step="1"
                    explain="Feature maps in the generator: its capacity. Changing it starts over." on_change=rebuild.clone()/>
                <NumberField label="D width" id="ndf" value=ndf min=1.0 max=MAX_WIDTH as f64 step="1"
                    explain="Feature maps in the discriminator. A D much stronger than G wins and G stops learning." on_change=rebuild.clone()/>
                <NumberField label="D learning rate" id="lr-d" value=lr_d min=1e-6 max=1.0 step="0.0001"
                    explain="How big a step the discriminator (the critic) takes. Applies at once." on_change=tune.clone()/>
                <NumberField label="G learning rate" id="lr-g" value=lr_g min=1e-6 max=1.0 step="0.0001"
                    explain="How big a step the generator (the artist) takes. Too big and training blows up." on_change=tune.clone()/>
                <NumberField label="Batch size" id="batch" value=batch min=1.0 max=MAX_BATCH as f64 step="1"
                    explain="Real and fake digits looked at in each step. Applies at once." on_change=tune.clone()/>
                <label class="field" for="loss">
                    <span>"Loss"</span>
                    <select id="loss" on:change=on_loss prop:value=move || loss_name(loss.get())>
                        <option value="bce">"cross-entropy (DCGAN)"</option>
                        <option value="lsgan">"least squares (LSGAN)"</option>
                        <option value="hinge">"hinge"</option>
                    </select>
                    <small>"How D is scored for telling real from fake. Applies at once."</small>
                </label>
                <NumberField label="Adam beta1" id="beta1" value=beta1 min=0.0 max=0.999 step="0.05"
                    explain="Momentum of the optimizer: how much each step keeps of the last. Changing it starts over." on_change=rebuild.clone()/>
                <NumberField label="Seed" id="seed" value=seed min=0.0 max=MAX_SEED as f64 step="1"
                    explain="Same seed and settings, same run, step for step. Changing it starts over." on_change=rebuild.clone()/>
                </div>
                {move || bench.get().map(|b| view! { <p id="bench" class="bench">{b}</p> })}
            </section>
            <div class="board">
            <section class="charts" aria-label="Training curves">
                <LineChart history=history id="chart-prob" title="What D believes" fixed_range=Some((0.0, 1.0))
                    explain="D(x): how real the discriminator finds real digits (1 = surely real). D(G(z)): how real it finds \
                             the generator's fakes, before and after G's update. When both meet near 0.5, D can no longer tell them apart."
                    series=vec![
                        ("D(x)", "#2b8a3e", |p: &MetricPoint| p.report.d_real),
                        ("D(G(z)) before", "#c92a2a", |p: &MetricPoint| p.report.d_fake_before),
                        ("D(G(z)) after", "#d9480f", |p: &MetricPoint| p.report.d_fake_after),
                    ]/>
                <LineChart history=history id="chart-loss" title="Losses" fixed_range=None
                    explain="Each player's score of its own mistakes: lower is better for it. They fight, so when one \
                             wins the other's loss rises. Neither reaching zero is normal."
                    series=vec![
                        ("loss D", "#1864ab", |p: &MetricPoint| p.report.loss_d),
                        ("loss G", "#9c36b5", |p: &MetricPoint| p.report.loss_g),
                    ]/>
            </section>
            <section class="samples" aria-label="Generated digits">
                <h2>"What G draws"</h2>
                <p id="weights" class="weights" aria-live="polite">{weights_label}</p>
                <PictureCanvas picture=grid id="grid" label="64 digits drawn by the generator from fixed random inputs"/>
                <p class="explain">"The same 64 random inputs z, redrawn as G learns. If many look alike, G has collapsed onto a few modes."</p>
            </section>
            <section class="latent" aria-label="Latent space explorer">
                <h2>"Explore the latent space"</h2>
                <PictureCanvas picture=sample id="sample" label="The digit G draws from the latent vector set by the sliders"/>
                <div class="buttons">
                    <button id="random-z" class="secondary" on:click=move |_| random_z() disabled=move || !ready.get()>"New random z"</button>
                    <button id="walk-new" class="secondary" on:click=new_walk disabled=move || !ready.get()>"Walk somewhere new"</button>
                </div>
                <label class="slider walk">
                    <span>"walk"</span>
                    <input id="walk" type="range" min="0" max="1" step="0.01" aria-label="walk between two latent vectors"
                        prop:value=move || walk.get().to_string() on:input=on_walk/>
                </label>
                <div class="sliders">{sliders}</div>
                <p class="explain">"z is a list of random numbers, each drawn from a bell curve (mostly between -3 and 3). \
                    G turns each z into a digit; nearby z give similar digits. The sliders set the first ten numbers."</p>
            </section>
            <section class="keep" aria-label="Save, load and export">
                <h2>"Keep and share"</h2>
                <div class="buttons">
                    <button id="save" class="secondary" disabled=move || !ready.get() || saving.get()
                        on:click=move |_| { saving.set(true); trainer.send(&Command::Save) }>"Save run"</button>
                    <label class="button secondary" for="load-file">"Load run…"</label>
                    <input id="load-file" type="file" accept=".ganplay" class="visually-hidden" on:change=on_upload/>
                    <button id="snapshot-now" class="secondary" disabled=move || !ready.get() on:click=move |_| trainer.send(&Command::Snapshot)>"Snapshot now"</button>
                </div>
                <p class="explain">"A saved run holds both networks, the optimizer's memory, the settings and the step: \
                    loaded later, it goes on exactly as if never stopped. The link in the address bar holds the settings and z."</p>
                <div class="buttons">
                    <button id="export-grid" class="secondary" disabled=move || grid.get().is_none() on:click=move |_| export("grid")>"Grid as PNG"</button>
                    <button id="export-sample" class="secondary" disabled=move || sample.get().is_none() on:click=move |_| export("sample")>"Digit as PNG"</button>
                    <button id="export-csv" class="secondary" on:click=move |_| export("csv")>"Curves as CSV"</button>
                </div>
                <h3>"Snapshots"</h3>
                <p class="explain">"Taken every 250 steps or 20 seconds of training (the last five are kept). If a run collapses, go back to one. \
                    The newest is also kept in this browser, to go on from after a reload."</p>
                <SnapshotList snapshots=snapshots go_back=load_kept/>
            </section>
            </div>
        </main>
        <HelpOverlay open=help_open/>
    }
    .into_any()
}
