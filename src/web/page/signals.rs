//! `PageState`: the page's state as typed signals, one a part (settings, run, charts, messages,
//! backend...), provided to every component as a leptos context. Components read the parts they
//! show; every change goes through `PageState::update`, which runs one of `Page`'s methods (the
//! pure logic in `state.rs`) and carries out the effects it returns.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::state::{BackendInfo, Effect, KeptRun, KeptSlot, Latent, Lead, Links, Messages, Page, QualityPanel, Run, Snapshot};
use crate::metrics::MetricHistory;
use crate::protocol::{Command, Picture, Report};
use crate::settings::Settings;
use crate::timelapse::Timelapse;
use crate::web::files::download_array;
use crate::web::{JsBytes, kept, pack, pack_with, unpack};

/// The page's link to a worker, which it can replace (kept in leptos' local arena, so it is
/// `Copy`). The page has two: the training worker, and a sampling worker that draws the big
/// sample from a copy of the generator.
#[derive(Clone, Copy)]
pub struct WorkerLink {
    url: &'static str,
    worker: StoredValue<Option<Worker>, LocalStorage>,
    on_message: StoredValue<Option<js_sys::Function>, LocalStorage>,
    on_error: StoredValue<Option<js_sys::Function>, LocalStorage>,
}

impl WorkerLink {
    fn new(url: &'static str) -> Self {
        Self { url, worker: StoredValue::new_local(None), on_message: StoredValue::new_local(None), on_error: StoredValue::new_local(None) }
    }

    fn send(&self, command: Command) {
        self.worker.with_value(|worker| {
            if let Some(worker) = worker {
                let (message, transfer) = pack(command);
                let _ = worker.post_message_with_transfer(&message, &transfer);
            }
        });
    }

    /// Sends `command` with bytes the page holds (the browser copies them).
    fn send_with(&self, command: Command, bytes: &JsBytes) {
        self.worker.with_value(|worker| {
            if let Some(worker) = worker {
                let _ = worker.post_message(&pack_with(command, bytes));
            }
        });
    }

    /// Starts a fresh worker, ending the one before (if any).
    fn start(&self) -> Result<(), String> {
        if let Some(old) = self.worker.try_update_value(|w| w.take()).flatten() {
            old.terminate();
        }
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(self.url, &options).map_err(|e| format!("Could not start a worker: {e:?}"))?;
        self.on_message.with_value(|f| worker.set_onmessage(f.as_ref()));
        self.on_error.with_value(|f| worker.set_onerror(f.as_ref()));
        self.worker.set_value(Some(worker));
        Ok(())
    }
}

/// The page's state as signals, and its links to the workers.
#[derive(Clone, Copy)]
pub struct PageState {
    pub settings: RwSignal<Settings>,
    pub run: RwSignal<Run>,
    pub charts: RwSignal<MetricHistory>,
    pub messages: RwSignal<Messages>,
    pub backend: RwSignal<Option<BackendInfo>>,
    pub snapshots: RwSignal<Vec<Snapshot>>,
    pub latent: RwSignal<Latent>,
    pub grid: RwSignal<Option<Picture>>,
    pub sample: RwSignal<Option<Picture>>,
    pub reconstructions: RwSignal<Option<Picture>>,
    pub kept: RwSignal<Option<KeptRun>>,
    pub bench: RwSignal<Option<String>>,
    pub quality: RwSignal<QualityPanel>,
    pub timelapse: RwSignal<Timelapse>,
    links: StoredValue<Links>,
    /// The presenter layout (view only: not part of the run).
    pub presenter: RwSignal<bool>,
    /// The shortcuts dialog is open.
    pub help_open: RwSignal<bool>,
    trainer: WorkerLink,
    sampler: WorkerLink,
    /// A run compared beside this one, which follows it (`Page::follow`), and what it was
    /// last told.
    follower: StoredValue<Option<(PageState, Option<Lead>)>, LocalStorage>,
}

/// The element ids of one run's parts. The page's own run has the plain ids (`grid`,
/// `chart-prob`...); a run shown beside it for comparison has them with a prefix, so no id is
/// used twice. Provided as a context around the run's components.
#[derive(Clone, Copy, Debug)]
pub struct RunIds(pub &'static str);

/// The id `name` of the run the component shows.
pub fn run_id(name: &str) -> String {
    format!("{}{name}", use_context::<RunIds>().map_or("", |ids| ids.0))
}

/// Sets `signal` to `value` when it differs, so that only the parts that changed redraw.
fn put<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|old| *old != value) {
        signal.set(value);
    }
}

impl PageState {
    pub fn new(page: Page, presenter: bool) -> Self {
        Self {
            settings: RwSignal::new(page.settings),
            run: RwSignal::new(page.run),
            charts: RwSignal::new(page.charts),
            messages: RwSignal::new(page.messages),
            backend: RwSignal::new(page.backend),
            snapshots: RwSignal::new(page.snapshots),
            latent: RwSignal::new(page.latent),
            grid: RwSignal::new(page.grid),
            sample: RwSignal::new(page.sample),
            reconstructions: RwSignal::new(page.reconstructions),
            kept: RwSignal::new(page.kept),
            bench: RwSignal::new(page.bench),
            quality: RwSignal::new(page.quality),
            timelapse: RwSignal::new(page.timelapse),
            links: StoredValue::new(page.links),
            presenter: RwSignal::new(presenter),
            help_open: RwSignal::new(false),
            trainer: WorkerLink::new("./worker_loader.js"),
            sampler: WorkerLink::new("./worker_loader.js?role=sampler"),
            follower: StoredValue::new_local(None),
        }
    }

    /// This state with `presenter` as its presenter switch: a compared run shares the page's.
    pub fn with_presenter(self, presenter: RwSignal<bool>) -> Self {
        Self { presenter, ..self }
    }

    /// The state provided by `App`.
    pub fn get() -> Self {
        expect_context::<PageState>()
    }

    fn page(self) -> Page {
        Page {
            settings: self.settings.get_untracked(),
            run: self.run.get_untracked(),
            charts: self.charts.get_untracked(),
            messages: self.messages.get_untracked(),
            backend: self.backend.get_untracked(),
            snapshots: self.snapshots.get_untracked(),
            latent: self.latent.get_untracked(),
            grid: self.grid.get_untracked(),
            sample: self.sample.get_untracked(),
            reconstructions: self.reconstructions.get_untracked(),
            kept: self.kept.get_untracked(),
            bench: self.bench.get_untracked(),
            quality: self.quality.get_untracked(),
            timelapse: self.timelapse.get_untracked(),
            links: self.links.get_value(),
        }
    }

    /// Runs `change` on the page, writes back the parts it changed, and carries out its effects.
    pub fn update(self, change: impl FnOnce(&mut Page) -> Vec<Effect>) {
        let mut page = self.page();
        let drawn = page.drawn();
        let effects = change(&mut page);
        let (grid_arrived, sample_arrived) = (page.drawn().0 != drawn.0, page.drawn().1 != drawn.1);
        let Page { settings, run, charts, messages, backend, snapshots, latent, grid, sample, reconstructions, kept, bench, quality, timelapse, links } =
            page;
        put(self.settings, settings);
        put(self.run, run);
        put(self.charts, charts);
        put(self.messages, messages);
        put(self.backend, backend);
        put(self.snapshots, snapshots);
        put(self.latent, latent);
        // A picture that arrives is painted even when it is the same as the last.
        if grid_arrived {
            self.grid.set(grid);
        }
        if sample_arrived {
            self.sample.set(sample);
        }
        put(self.reconstructions, reconstructions);
        put(self.kept, kept);
        put(self.bench, bench);
        put(self.quality, quality);
        put(self.timelapse, timelapse);
        self.links.set_value(links);
        effects.into_iter().for_each(|effect| self.carry_out(effect));
        self.lead_follower();
    }

    /// Makes `other` follow this run: its settings (but its model: the two trade if this run
    /// takes the other's), z, and run buttons.
    pub fn set_follower(self, other: PageState) {
        self.follower.set_value(Some((other, None)));
    }

    /// The run compared beside this one, if any.
    pub fn follower(self) -> Option<PageState> {
        self.follower.get_value().map(|(other, _)| other)
    }

    /// Tells the follower what changed here, if anything did.
    fn lead_follower(self) {
        let Some((other, told)) = self.follower.get_value() else { return };
        let lead = Lead {
            settings: self.settings.get_untracked(),
            latent: self.latent.get_untracked(),
            running: self.run.with_untracked(|r| r.running),
            resets: self.run.with_untracked(|r| r.resets),
            single_steps: self.run.with_untracked(|r| r.single_steps),
            kept: self.kept.with_untracked(|offered| self.links.with_value(|links| links.kept_lead(offered.as_ref()))),
        };
        if told.as_ref() != Some(&lead) {
            self.follower.set_value(Some((other, Some(lead.clone()))));
            other.update(|page| page.follow(&lead));
        }
    }

    /// A failure of the browser layer, shown as the page's error.
    pub fn fail(self, message: String) {
        self.update(|page| {
            page.failed(message);
            Vec::new()
        });
    }

    fn carry_out(self, effect: Effect) {
        match effect {
            Effect::Trainer(command) => self.trainer.send(command),
            Effect::TrainerWith(command, bytes) => self.trainer.send_with(command, &bytes),
            Effect::Sampler(command) => self.sampler.send(command),
            Effect::SamplerWith(command, bytes) => self.sampler.send_with(command, &bytes),
            Effect::StartTrainer => {
                if let Err(e) = self.trainer.start() {
                    self.fail(e);
                }
            }
            Effect::Keep(slot, run) => leptos::task::spawn_local(async move {
                if let Err(why) = kept::keep(slot, &run).await {
                    self.update(|page| {
                        page.keep_failed(&why);
                        Vec::new()
                    });
                }
            }),
            Effect::ForgetKept(slot) => leptos::task::spawn_local(async move {
                let _ = kept::forget(slot).await;
            }),
            Effect::Download { name, bytes } => {
                if let Err(e) = download_array(&name, &bytes, "application/octet-stream") {
                    self.fail(format!("The weights file could not be offered for download: {e}"));
                }
            }
        }
    }

    /// Starts both workers, and looks for a run kept by an earlier visit.
    pub fn start(self) -> Result<(), String> {
        let on_report = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match unpack::<Report>(&event.data()) {
                Ok((report, payload)) => {
                    if matches!(report, Report::Ready { .. }) {
                        crate::web::check_static_constructors("the page");
                    }
                    self.update(|page| page.apply(report, payload));
                }
                Err(e) => self.fail(format!("A message from the training worker could not be read: {e}")),
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            self.update(|page| {
                page.trainer_failed();
                Vec::new()
            });
        });
        self.trainer.on_message.set_value(Some(on_report.into_js_value().unchecked_into()));
        self.trainer.on_error.set_value(Some(on_error.into_js_value().unchecked_into()));
        self.trainer.start()?;

        let on_sample = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok((report, _)) = unpack::<Report>(&event.data()) {
                self.update(|page| page.apply_sampler(report));
            }
        });
        self.sampler.on_message.set_value(Some(on_sample.into_js_value().unchecked_into()));
        // The page works without it: a sampler that cannot start is not an error.
        let _ = self.sampler.start();

        // A compared run's kept run comes from the run it follows (set by then), with its own.
        let compared = self.links.with_value(Links::is_compared);
        leptos::task::spawn_local(async move {
            if compared {
                return;
            }
            let Ok(Some(run)) = kept::kept(KeptSlot::Run).await else { return };
            let beside = match self.follower() {
                Some(_) => kept::kept(KeptSlot::Compared).await.ok().flatten().filter(|beside| run.kept_beside(beside)),
                None => None,
            };
            // Both at once: the offer is whole from the start.
            self.update(|page| {
                page.kept_found(run);
                Vec::new()
            });
            if let (Some(other), Some(beside)) = (self.follower(), beside) {
                other.update(|page| {
                    page.kept_found(beside);
                    Vec::new()
                });
            }
        });
        Ok(())
    }
}
