//! The page: controls, live charts, the sample grid and the latent explorer. It holds no
//! tensors; it sends `Command`s to the training worker and draws the `Report`s it gets back.

use std::rc::Rc;

use leptos::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::metrics::{MetricHistory, MetricPoint};
use crate::model::ModelConfig;
use crate::protocol::{BackendRequest, Command, Fault, Picture, Preset, Report};
use crate::training::{LossKind, TrainConfig, normal_values};

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

/// Settings read from the address bar (`?preset=small&backend=cpu&lr_d=0.0002&seed=3`).
/// Unknown or unusable values are listed so the page can say it ignored them.
struct UrlSettings {
    /// None: picked for the hardware found (tiny on a CPU, standard on a GPU).
    preset: Option<Preset>,
    /// Sizes that override the preset's.
    nz: Option<usize>,
    ngf: Option<usize>,
    ndf: Option<usize>,
    backend: BackendRequest,
    train: TrainConfig,
    bench: bool,
    /// `?fault=nan|panic`: a failure injected after step 3 (for tests).
    fault: Option<Fault>,
    ignored: Vec<String>,
}

fn url_settings() -> UrlSettings {
    let mut settings = UrlSettings {
        preset: None,
        nz: None,
        ngf: None,
        ndf: None,
        backend: BackendRequest::Auto,
        train: TrainConfig::new().with_batch_size(32),
        bench: false,
        fault: None,
        ignored: Vec::new(),
    };
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    for pair in search.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = value.parse::<f64>().ok().filter(|v| v.is_finite());
        let t = &mut settings.train;
        let ok = match (key, number) {
            ("preset", _) => Preset::from_name(value).map(|p| settings.preset = Some(p)).is_some(),
            ("nz", Some(v)) if (1.0..=512.0).contains(&v) && v.fract() == 0.0 => { settings.nz = Some(v as usize); true }
            ("ngf", Some(v)) if (1.0..=128.0).contains(&v) && v.fract() == 0.0 => { settings.ngf = Some(v as usize); true }
            ("ndf", Some(v)) if (1.0..=128.0).contains(&v) && v.fract() == 0.0 => { settings.ndf = Some(v as usize); true }
            ("backend", _) => match value {
                "auto" => Some(BackendRequest::Auto),
                "cpu" => Some(BackendRequest::Cpu),
                "webgpu" => Some(BackendRequest::WebGpu),
                _ => None,
            }
            .map(|b| settings.backend = b)
            .is_some(),
            ("lr_d", Some(v)) if v > 0.0 && v <= 1.0 => { t.lr_d = v; true }
            ("lr_g", Some(v)) if v > 0.0 && v <= 1.0 => { t.lr_g = v; true }
            ("beta1", Some(v)) if (0.0..1.0).contains(&v) => { t.beta1 = v as f32; true }
            ("batch", Some(v)) if v >= 1.0 && v <= 256.0 && v.fract() == 0.0 => { t.batch_size = v as usize; true }
            ("seed", Some(v)) if (0.0..=1e9).contains(&v) && v.fract() == 0.0 => { t.seed = v as u64; true }
            ("bench", _) => { settings.bench = value == "1"; true }
            ("fault", _) => match value {
                "nan" => Some(Fault::Nan),
                "panic" => Some(Fault::Panic),
                _ => None,
            }
            .map(|f| settings.fault = Some(f))
            .is_some(),
            _ => false,
        };
        if !ok {
            settings.ignored.push(format!("{key}={value}"));
        }
    }
    settings
}

/// True when the backend named is WebGPU on a software emulation (chosen by hand).
fn gpu_is_software(backend: &RwSignal<Option<(String, String, bool)>>) -> bool {
    backend.with_untracked(|b| b.as_ref().is_some_and(|(name, _, _)| name.to_lowercase().contains("swiftshader")))
}

/// The page's link to the training worker (kept in leptos' local arena, so it is `Copy`).
#[derive(Clone, Copy)]
struct Trainer(StoredValue<Worker, LocalStorage>);

impl Trainer {
    fn send(&self, command: &Command) {
        self.0.with_value(|worker| {
            let _ = worker.post_message(&JsValue::from_str(&command.to_json()));
        });
    }
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
    let series = std::sync::Arc::new(series);
    let legend = series.iter().map(|(name, color, _)| view! {
        <span class="legend-item"><span class="swatch" style=format!("background:{color}")></span>{*name}</span>
    }).collect_view();
    let lines = {
        let series = series.clone();
        move || {
            history.with(|h| {
                let points = h.points();
                let (lo, hi) = fixed_range.unwrap_or_else(|| {
                    let values = points.iter().flat_map(|p| series.iter().map(move |(_, _, f)| f(p)));
                    let (lo, hi) = values.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
                    if lo > hi { (0.0, 1.0) } else { (lo.min(0.0), hi.max(lo + 1e-3)) }
                });
                let (first, last) = (points.first().map_or(0, |p| p.report.step), points.last().map_or(1, |p| p.report.step));
                let span = (last.saturating_sub(first)).max(1) as f32;
                let x = move |step: u64| LEFT + (step - first) as f32 / span * (W - LEFT - 4.0);
                let y = move |v: f32| (H - BOTTOM) - (v - lo) / (hi - lo) * (H - BOTTOM - 6.0);
                let polylines = series.iter().map(|(name, color, f)| {
                    let coords = points.iter().map(|p| format!("{:.1},{:.1}", x(p.report.step), y(f(p)))).collect::<Vec<_>>().join(" ");
                    view! { <polyline points=coords stroke=*color fill="none" stroke-width="1.5" data-series=*name></polyline> }
                }).collect_view();
                let mid = (lo + hi) / 2.0;
                view! {
                    <g class="axes">
                        <line x1=LEFT y1=H - BOTTOM x2=W y2=H - BOTTOM></line>
                        <line x1=LEFT y1="0" x2=LEFT y2=H - BOTTOM></line>
                        <text x=LEFT - 4.0 y=y(hi) + 4.0 text-anchor="end">{format!("{hi:.2}")}</text>
                        <text x=LEFT - 4.0 y=y(mid) + 4.0 text-anchor="end">{format!("{mid:.2}")}</text>
                        <text x=LEFT - 4.0 y=y(lo) text-anchor="end">{format!("{lo:.2}")}</text>
                        <line class="grid" x1=LEFT y1=y(mid) x2=W y2=y(mid)></line>
                        <text x=LEFT y=H - 4.0>{format!("step {first}")}</text>
                        <text x=W - 4.0 y=H - 4.0 text-anchor="end">{format!("step {last}")}</text>
                    </g>
                    {polylines}
                }
            })
        }
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

#[component]
pub fn App() -> impl IntoView {
    let url = url_settings();
    let backend_request = RwSignal::new(url.backend);
    let preset = RwSignal::new(url.preset.unwrap_or(Preset::Tiny));
    let start_model = preset.get_untracked().model();
    let model_nz = RwSignal::new(url.nz.unwrap_or(start_model.nz) as f64);
    let ngf = RwSignal::new(url.ngf.unwrap_or(start_model.ngf) as f64);
    let ndf = RwSignal::new(url.ndf.unwrap_or(start_model.ndf) as f64);
    let use_preset = move |p: Preset| {
        let model = p.model();
        preset.set(p);
        model_nz.set(model.nz as f64);
        ngf.set(model.ngf as f64);
        ndf.set(model.ndf as f64);
    };
    let lr_d = RwSignal::new(url.train.lr_d);
    let lr_g = RwSignal::new(url.train.lr_g);
    // beta1 is an f32 in the config: round so that 0.3 shows as 0.3, not 0.30000001.
    let beta1 = RwSignal::new((url.train.beta1 as f64 * 1e6).round() / 1e6);
    let batch = RwSignal::new(url.train.batch_size as f64);
    let seed = RwSignal::new(url.train.seed as f64);
    let loss = RwSignal::new(LossKind::Bce);

    let backend = RwSignal::new(None::<(String, String, bool)>);
    let running = RwSignal::new(false);
    let ready = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let steps_per_second = RwSignal::new(0.0f32);
    let history = RwSignal::new(MetricHistory::new(CHART_POINTS));
    let grid = RwSignal::new(None::<Picture>);
    let sample = RwSignal::new(None::<Picture>);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(if url.ignored.is_empty() {
        None
    } else {
        Some(format!("Ignored address settings that are unknown or out of range: {}", url.ignored.join(", ")))
    });
    let bench = RwSignal::new(None::<String>);

    let nz = RwSignal::new(preset.get_untracked().model().nz);
    let z_from = RwSignal::new(Vec::<f32>::new());
    let z_to = RwSignal::new(Vec::<f32>::new());
    let walk = RwSignal::new(0.0f64);
    let z_seed = RwSignal::new(1u64);
    let sample_in_flight = RwSignal::new(false);
    let sample_dirty = RwSignal::new(false);

    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = match Worker::new_with_options("./worker_loader.js", &options) {
        Ok(w) => w,
        Err(e) => {
            return view! { <p id="error" class="error">{format!("Could not start the training worker: {e:?}")}</p> }.into_any();
        }
    };
    let trainer = Trainer(StoredValue::new_local(worker.clone()));

    let train_config = move || {
        TrainConfig::new()
            .with_lr_d(lr_d.get_untracked())
            .with_lr_g(lr_g.get_untracked())
            .with_beta1(beta1.get_untracked() as f32)
            .with_batch_size(batch.get_untracked() as usize)
            .with_seed(seed.get_untracked() as u64)
            .with_loss(loss.get_untracked())
    };
    let current_z = move || {
        let (a, b, t) = (z_from.get(), z_to.get(), walk.get() as f32);
        a.iter().zip(&b).map(|(a, b)| a * (1.0 - t) + b * t).collect::<Vec<f32>>()
    };
    let request_sample = {
        let trainer = trainer.clone();
        move |z: Vec<f32>| {
            if z.is_empty() || !ready.get_untracked() {
                return;
            }
            if sample_in_flight.get_untracked() {
                sample_dirty.set(true);
            } else {
                sample_in_flight.set(true);
                trainer.send(&Command::Sample { z });
            }
        }
    };
    let new_z = move |seed: u64, nz: usize| normal_values(&mut StdRng::seed_from_u64(seed), nz);
    let reset = {
        let trainer = trainer.clone();
        move || {
            ready.set(false);
            history.update(|h| h.clear());
            step.set(0);
            steps_per_second.set(0.0);
            trainer.send(&Command::Reset {
                backend: backend_request.get_untracked(),
                model: ModelConfig::new()
                    .with_nz(model_nz.get_untracked() as usize)
                    .with_ngf(ngf.get_untracked() as usize)
                    .with_ndf(ndf.get_untracked() as usize),
                train: train_config(),
            });
        }
    };

    {
        let request_sample = request_sample.clone();
        let reset = reset.clone();
        let fault = url.fault;
        let chose_preset = url.preset.is_some() || url.nz.is_some() || url.ngf.is_some() || url.ndf.is_some();
        let run_bench = url.bench;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else { return };
            let report = match Report::from_json(&text) {
                Ok(r) => r,
                Err(e) => return error.set(Some(e)),
            };
            match report {
                Report::Listening => reset(),
                Report::Backend { name, reason, on_gpu } => {
                    backend.set(Some((name, reason, on_gpu)));
                    // A real GPU trains the standard model faster than a CPU trains the tiny one.
                    if on_gpu && !chose_preset && !gpu_is_software(&backend) {
                        use_preset(Preset::Standard);
                        reset();
                    }
                }
                Report::Ready { nz: n } => {
                    nz.set(n);
                    z_from.set(new_z(z_seed.get_untracked(), n));
                    z_to.set(new_z(z_seed.get_untracked() + 1_000_000, n));
                    ready.set(true);
                    request_sample(current_z());
                    if run_bench {
                        bench.set(Some("Benchmark running…".into()));
                        trainer.send(&Command::Bench { steps: 3 });
                    }
                }
                Report::Steps { reports, steps_per_second: rate } => {
                    if let Some(last) = reports.last() {
                        step.set(last.step);
                        if let Some(fault) = fault.filter(|_| (3..6).contains(&last.step)) {
                            trainer.send(&Command::InjectFault(fault));
                        }
                    }
                    steps_per_second.set(rate);
                    history.update(|h| reports.iter().for_each(|r| h.push(r)));
                    error.set(None);
                }
                Report::Grid(picture) => {
                    grid.set(Some(picture));
                    // The big sample follows training too.
                    request_sample(current_z());
                }
                Report::Sample(picture) => {
                    sample.set(Some(picture));
                    sample_in_flight.set(false);
                    if sample_dirty.get_untracked() {
                        sample_dirty.set(false);
                        request_sample(current_z());
                    }
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
                Report::Error(message) => {
                    sample_in_flight.set(false);
                    running.set(false);
                    error.set(Some(message));
                }
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            ready.set(false);
            running.set(false);
            // A crash reports itself first (see the worker's panic hook); keep that message.
            if error.get_untracked().is_none() {
                error.set(Some("The training worker stopped or failed to load. Reload the page to try again.".into()));
            }
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
    }

    let play_pause = {
        let trainer = trainer.clone();
        move |_| trainer.send(if running.get_untracked() { &Command::Pause } else { &Command::Play })
    };
    let single_step = {
        let trainer = trainer.clone();
        move |_| trainer.send(&Command::Step)
    };
    let tune: Rc<dyn Fn()> = {
        let trainer = trainer.clone();
        Rc::new(move || trainer.send(&Command::Tune(train_config())))
    };
    let rebuild: Rc<dyn Fn()> = {
        let reset = reset.clone();
        Rc::new(move || {
            notice.set(Some("New networks built with the changed setting: training starts over.".into()));
            reset();
        })
    };

    let sliders = move || {
        (0..SLIDERS.min(nz.get())).map(|dim| {
            let value = move || current_z().get(dim).copied().unwrap_or(0.0);
            let request_sample = request_sample.clone();
            view! {
                <label class="slider">
                    <span>{format!("z{dim}")}</span>
                    <input type="range" min="-3" max="3" step="0.01" aria-label=format!("latent dimension {dim}")
                        prop:value=move || format!("{:.2}", value())
                        on:input=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                                // Moving a slider edits the current point: fold the walk into it.
                                let mut z = current_z();
                                z[dim] = v;
                                z_from.set(z.clone());
                                z_to.set(z.clone());
                                walk.set(0.0);
                                request_sample(z);
                            }
                        }/>
                    <output>{move || format!("{:+.2}", value())}</output>
                </label>
            }
        }).collect_view()
    };
    let random_z = {
        let request_sample = request_sample.clone();
        move |_| {
            z_seed.update(|s| *s += 1);
            z_from.set(new_z(z_seed.get_untracked(), nz.get_untracked()));
            z_to.set(z_from.get_untracked());
            walk.set(0.0);
            request_sample(current_z());
        }
    };
    let new_walk = {
        let request_sample = request_sample.clone();
        move |_| {
            z_from.set(current_z());
            z_seed.update(|s| *s += 1);
            z_to.set(new_z(z_seed.get_untracked() + 1_000_000, nz.get_untracked()));
            walk.set(0.0);
            request_sample(current_z());
        }
    };
    let on_walk = {
        let request_sample = request_sample.clone();
        move |ev| {
            if let Ok(t) = event_target_value(&ev).parse::<f64>() {
                walk.set(t);
                request_sample(current_z());
            }
        }
    };
    let on_preset = {
        let reset = reset.clone();
        move |ev| {
            if let Some(p) = Preset::from_name(&event_target_value(&ev)) {
                use_preset(p);
                notice.set(Some(format!("New {} networks built: training starts over.", p.name())));
                reset();
            }
        }
    };
    let on_loss = {
        let tune = tune.clone();
        move |ev| {
            loss.set(match event_target_value(&ev).as_str() {
                "lsgan" => LossKind::LeastSquares,
                "hinge" => LossKind::Hinge,
                _ => LossKind::Bce,
            });
            tune();
        }
    };
    let on_backend = move |ev| {
        let choice = match event_target_value(&ev).as_str() {
            "cpu" => BackendRequest::Cpu,
            "webgpu" => BackendRequest::WebGpu,
            _ => BackendRequest::Auto,
        };
        backend_request.set(choice);
        // The worker keeps its device for its life: a new backend takes a reload.
        if let Some(window) = web_sys::window() {
            let name = match choice { BackendRequest::Cpu => "cpu", BackendRequest::WebGpu => "webgpu", BackendRequest::Auto => "auto" };
            let _ = window.location().set_search(&format!("backend={name}&preset={}", preset.get_untracked().name()));
        }
    };
    let reset_click = {
        let reset = reset.clone();
        move |_| reset()
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
        </header>
        {move || error.get().map(|e| view! { <p id="error" class="error" role="alert">{e}</p> })}
        {move || notice.get().map(|n| view! { <p id="notice" class="notice">{n}</p> })}
        <main>
            <section class="controls" aria-label="Training controls">
                <div class="buttons">
                    <button id="play" on:click=play_pause disabled=move || !ready.get()>
                        {move || if running.get() { "Pause" } else { "Play" }}
                    </button>
                    <button id="step-once" on:click=single_step disabled=move || !ready.get() || running.get()>"Step"</button>
                    <button id="reset" on:click=reset_click>"Reset"</button>
                </div>
                <label class="field" for="preset">
                    <span>"Model size"</span>
                    <select id="preset" on:change=on_preset prop:value=move || preset.get().name()>
                        <option value="tiny">"tiny (G 16, D 8 wide)"</option>
                        <option value="small">"small (G 24, D 16 wide)"</option>
                        <option value="standard">"standard (G and D 32 wide)"</option>
                    </select>
                    <small>"Bigger networks draw better digits but each step takes longer."</small>
                </label>
                <label class="field" for="backend-choice">
                    <span>"Run on"</span>
                    <select id="backend-choice" on:change=on_backend prop:value=move || match backend_request.get() {
                        BackendRequest::Auto => "auto", BackendRequest::Cpu => "cpu", BackendRequest::WebGpu => "webgpu" }>
                        <option value="auto">"the faster (automatic)"</option>
                        <option value="webgpu">"WebGPU"</option>
                        <option value="cpu">"CPU"</option>
                    </select>
                    <small>"Changing this reloads the page."</small>
                </label>
                <NumberField label="Latent size (nz)" id="nz" value=model_nz min=1.0 max=512.0 step="1"
                    explain="How many random numbers G draws each digit from; changing it starts over." on_change=rebuild.clone()/>
                <NumberField label="G width" id="ngf" value=ngf min=1.0 max=128.0 step="1"
                    explain="Feature maps in the generator; changing it starts over." on_change=rebuild.clone()/>
                <NumberField label="D width" id="ndf" value=ndf min=1.0 max=128.0 step="1"
                    explain="Feature maps in the discriminator; changing it starts over." on_change=rebuild.clone()/>
                <NumberField label="D learning rate" id="lr-d" value=lr_d min=1e-6 max=1.0 step="0.0001"
                    explain="How big a step the discriminator (the critic) takes." on_change=tune.clone()/>
                <NumberField label="G learning rate" id="lr-g" value=lr_g min=1e-6 max=1.0 step="0.0001"
                    explain="How big a step the generator (the artist) takes." on_change=tune.clone()/>
                <NumberField label="Batch size" id="batch" value=batch min=1.0 max=256.0 step="1"
                    explain="Real and fake digits looked at in each step." on_change=tune.clone()/>
                <label class="field" for="loss">
                    <span>"Loss"</span>
                    <select id="loss" on:change=on_loss>
                        <option value="bce">"cross-entropy (DCGAN)"</option>
                        <option value="lsgan">"least squares (LSGAN)"</option>
                        <option value="hinge">"hinge"</option>
                    </select>
                    <small>"How D is scored for telling real from fake."</small>
                </label>
                <NumberField label="Adam beta1" id="beta1" value=beta1 min=0.0 max=0.999 step="0.05"
                    explain="Momentum of the optimizer; changing it starts over." on_change=rebuild.clone()/>
                <NumberField label="Seed" id="seed" value=seed min=0.0 max=1e9 step="1"
                    explain="Same seed, same run; changing it starts over." on_change=rebuild.clone()/>
                {move || bench.get().map(|b| view! { <p id="bench" class="bench">{b}</p> })}
            </section>
            <section class="charts" aria-label="Training curves">
                <LineChart history=history id="chart-prob" title="What D believes" fixed_range=Some((0.0, 1.0))
                    explain="D(x): how real the discriminator finds real digits. D(G(z)): how real it finds the generator's, \
                             before and after its own update. When both meet near 0.5, D can no longer tell them apart."
                    series=vec![
                        ("D(x)", "#2b8a3e", |p: &MetricPoint| p.report.d_real),
                        ("D(G(z)) before", "#c92a2a", |p: &MetricPoint| p.report.d_fake_before),
                        ("D(G(z)) after", "#e8590c", |p: &MetricPoint| p.report.d_fake_after),
                    ]/>
                <LineChart history=history id="chart-loss" title="Losses" fixed_range=None
                    explain="Lower is better for each player, but they fight: when one wins, the other's loss rises."
                    series=vec![
                        ("loss D", "#1864ab", |p: &MetricPoint| p.report.loss_d),
                        ("loss G", "#9c36b5", |p: &MetricPoint| p.report.loss_g),
                    ]/>
            </section>
            <section class="samples" aria-label="Generated digits">
                <h2>"What G draws"</h2>
                <PictureCanvas picture=grid id="grid" label="64 digits drawn by the generator from fixed random inputs"/>
                <p class="explain">"The same 64 random inputs z, redrawn as G learns. If many look alike, G has collapsed onto a few modes."</p>
            </section>
            <section class="latent" aria-label="Latent space explorer">
                <h2>"Explore the latent space"</h2>
                <PictureCanvas picture=sample id="sample" label="The digit G draws from the latent vector set by the sliders"/>
                <div class="buttons">
                    <button id="random-z" on:click=random_z disabled=move || !ready.get()>"New random z"</button>
                    <button id="walk-new" on:click=new_walk disabled=move || !ready.get()>"Walk somewhere new"</button>
                </div>
                <label class="slider walk">
                    <span>"walk"</span>
                    <input id="walk" type="range" min="0" max="1" step="0.01" aria-label="walk between two latent vectors"
                        prop:value=move || walk.get().to_string() on:input=on_walk/>
                </label>
                <div class="sliders">{sliders}</div>
                <p class="explain">"z is a list of random numbers, each drawn from a bell curve (mostly between -3 and 3). \
                    G turns each z into a digit; nearby z give similar digits."</p>
            </section>
        </main>
    }
    .into_any()
}
