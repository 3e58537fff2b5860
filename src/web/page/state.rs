//! The page's state and everything that changes it. Each report from the workers and each action
//! of the user goes through a method of `Page`, which updates the state and returns the
//! `Effect`s for the browser layer to carry out (messages to send, a worker to start, a file to
//! offer). Nothing here touches the browser, so all of it is tested natively.

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::image::GrayImage;
use crate::latent::normal_values;
use crate::metrics::{CHART_POINTS, Curves, MetricHistory};
use crate::protocol::{Command, Fault, LoadKind, Message, Picture, Report, Weights};
use crate::quality::{Quality, QualityHistory};
use crate::settings::{Applies, Key, Settings};
use crate::share::PageSetup;
use crate::timelapse::Timelapse;
use crate::training::StepReport;

/// Bytes the page holds for a worker (a weights file, grey levels): in the browser they stay
/// a JavaScript array, natively a vector.
#[cfg(target_arch = "wasm32")]
pub type Payload = crate::web::JsBytes;
#[cfg(not(target_arch = "wasm32"))]
pub type Payload = Vec<u8>;

/// Latent dimensions with a slider of their own.
pub const SLIDERS: usize = 10;
/// Snapshots kept in the page (older ones are dropped).
pub const SNAPSHOTS_KEPT: usize = 5;
/// A worker that crashes is restarted at most this many times before the page gives up.
pub const RESTARTS: u32 = 3;
/// Steps of each preset `?bench=1` times.
const BENCH_STEPS: u32 = 3;

/// The run as the status bar and the buttons show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    /// Networks are built and the worker takes commands.
    pub ready: bool,
    pub running: bool,
    /// Play was sent and the worker has not yet said it trains.
    pub play_sent: bool,
    pub step: u64,
    /// Steps a second over the last few seconds of training (`SPEED_SECONDS`): the worker's
    /// figure for each chunk jumps with what else the machine does.
    pub steps_per_second: f32,
    /// Steps and seconds of training behind `steps_per_second`, older chunks fading.
    speed_window: (f64, f64),
    /// Which generator the pictures come from.
    pub showing: Option<Weights>,
    /// A save is on its way.
    pub saving: bool,
    /// A weights file is on its way to the worker: until it answers, the curves on show are
    /// not those of the run a save would write.
    pub loading: bool,
    /// A pause was asked for; it takes effect after the step under way.
    pub pausing: bool,
    /// The GPU is preparing the kernels of new networks (`Some(None)`), or had them ready
    /// after so many milliseconds (`Some(Some(ms))`).
    pub kernels: Option<Option<f32>>,
    /// On a GPU, the convolution path it timed fastest for these networks, and the times
    /// (`ConvTrial::summary`).
    pub convolutions: Option<String>,
    /// Times the user pressed reset and step: what a compared run follows.
    pub resets: u32,
    pub single_steps: u32,
}

/// The time over which the speed on show is averaged, older chunks fading: `exp(-t / this)`.
const SPEED_SECONDS: f64 = 3.0;

impl Run {
    /// A chunk of `steps` steps trained at `rate` steps a second.
    fn add_speed(&mut self, steps: usize, rate: f32) {
        if steps == 0 || !(rate.is_finite() && rate > 0.0) {
            return;
        }
        let seconds = steps as f64 / rate as f64;
        let fade = (-seconds / SPEED_SECONDS).exp();
        let (s, t) = self.speed_window;
        self.speed_window = (s * fade + steps as f64, t * fade + seconds);
        self.steps_per_second = (self.speed_window.0 / self.speed_window.1) as f32;
    }

    /// Training stopped: the next speed is measured afresh.
    fn clear_speed(&mut self) {
        self.steps_per_second = 0.0;
        self.speed_window = (0.0, 0.0);
    }
}

/// What the page tells the user: an error stays until they act (play, step, reset); a notice
/// until it is closed, replaced, or (`notice_until_play`) training starts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Messages {
    /// What went wrong, in a sentence.
    pub error: Option<String>,
    /// The technical details of the error, shown folded.
    pub details: Option<String>,
    pub notice: Option<String>,
    /// The notice no longer holds once training runs ("paused, press play").
    pub notice_until_play: bool,
    /// The notice no longer holds once the worker is ready ("moving the run…").
    pub notice_until_ready: bool,
    /// The notice refused a value of this setting: it no longer holds once a value is taken.
    pub notice_refused: Option<Key>,
    /// The error is a file refused by "Load run…" (said beside the button as well).
    pub error_about_file: bool,
    /// Notes a worker sent: one that a new worker sends again (after a crash or a move to
    /// another backend, say that the shipped generator could not be fetched) is not said twice.
    pub worker_notes: Vec<String>,
}

/// A panic's message without where it happened: ("a panic injected for testing",
/// Some("panicked at src/web/worker.rs:300:62")).
pub fn split_panic(why: &str) -> (String, Option<String>) {
    match why.split_once('\n') {
        Some((place, message)) if place.starts_with("panicked at") => {
            (message.trim().to_string(), Some(place.trim_end_matches(':').to_string()))
        }
        _ => (why.to_string(), None),
    }
}

/// The device the run trains on, as the worker described it.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendInfo {
    pub name: String,
    pub reason: String,
    pub on_gpu: bool,
    /// A GPU emulated on the CPU.
    pub software: bool,
}

impl BackendInfo {
    /// What the status bar says, in plain words.
    pub fn in_words(&self) -> &'static str {
        match (self.on_gpu, self.software) {
            (false, _) => "your processor (CPU)",
            (true, false) => "your graphics card (WebGPU)",
            (true, true) => "a software GPU (WebGPU, emulated on the processor)",
        }
    }
}

/// A snapshot of the run, kept in the page so that it outlives the worker (a lost GPU, a crash).
#[derive(Clone)]
pub struct Snapshot {
    pub steps: u64,
    pub report: Option<StepReport>,
    /// A few of its digits, as a PNG data URL.
    pub thumbnail: String,
    pub bytes: Payload,
}

impl PartialEq for Snapshot {
    fn eq(&self, other: &Self) -> bool {
        (self.steps, &self.report, &self.thumbnail) == (other.steps, &other.report, &other.thumbnail)
    }
}

/// A run kept in this browser (by an earlier visit, or replaced by new networks): its step, what it is (for the offer), its
/// model, the comparison it was part of (`Links::pair`), its file, and its curves (`Curves` as
/// JSON). A record of before the model, the pair or the curves were kept has none.
#[derive(Clone)]
pub struct KeptRun {
    pub steps: u64,
    pub what: String,
    pub family: Option<crate::model::Family>,
    pub pair: Option<u64>,
    pub bytes: Payload,
    pub curves: Option<String>,
}

impl KeptRun {
    /// `beside`, kept in `KeptSlot::Compared`, is the run compared beside this one, kept in
    /// `KeptSlot::Run`: both were kept by the same comparison (rather than one left over from
    /// an earlier one, or from before a run kept alone).
    pub fn kept_beside(&self, beside: &KeptRun) -> bool {
        self.pair.is_some() && self.pair == beside.pair
    }
}

/// What the browser keeps of a run with its file (`KeptRun`), but its step and the file.
#[derive(Clone)]
pub struct KeptDescription {
    what: String,
    family: crate::model::Family,
    pair: u64,
    curves: Curves,
}

impl KeptDescription {
    fn with(self, steps: u64, bytes: Payload) -> KeptRun {
        let KeptDescription { what, family, pair, curves } = self;
        KeptRun { steps, what, family: Some(family), pair: Some(pair), bytes, curves: serde_json::to_string(&curves).ok() }
    }
}

/// Where the browser keeps a run: the page's own run, or the run compared beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeptSlot {
    Run,
    Compared,
}

impl PartialEq for KeptRun {
    fn eq(&self, other: &Self) -> bool {
        (self.steps, &self.what) == (other.steps, &other.what)
    }
}

/// The model a compared run of model `own` has once the run it follows goes from model
/// `before` to model `now` (the form's choice, a file's or a kept run's): its own, unless `now`
/// is its own, then the two trade, so no model is beside itself.
pub fn model_beside(before: crate::model::Family, own: crate::model::Family, now: crate::model::Family) -> crate::model::Family {
    if now == own && before != own { before } else { own }
}

/// Latent values are kept to two decimals, the precision the address carries, so a shared link
/// draws exactly the same digit.
pub fn round_latent(value: f32) -> f32 {
    (value * 100.0).round() / 100.0
}

/// A latent vector from a seed, rounded as the page keeps them.
pub fn latent_from_seed(seed: u64, nz: usize) -> Vec<f32> {
    normal_values(&mut StdRng::seed_from_u64(seed), nz).into_iter().map(round_latent).collect()
}

/// The latent explorer: the big sample's z is a point on a walk from `from` to `to`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latent {
    pub from: Vec<f32>,
    pub to: Vec<f32>,
    /// How far along the walk, 0 to 1.
    pub walk: f32,
    /// Seed of the last random z drawn.
    pub seed: u64,
    /// The slider the arrow keys move.
    pub selected: usize,
    /// The generator's latent size.
    pub nz: usize,
    /// The digit a conditional model is asked to draw (the class buttons).
    pub class: u8,
    /// A sample is being drawn; another asked for meanwhile waits (`dirty`).
    in_flight: bool,
    dirty: bool,
}

impl Latent {
    /// The big sample's z: `walk` of the way from `from` to `to`, along the sphere z lies near.
    pub fn current(&self) -> Vec<f32> {
        crate::latent::slerp(&self.from, &self.to, self.walk).into_iter().map(round_latent).collect()
    }

    /// Sliders shown: the first latent dimensions.
    pub fn sliders(&self) -> usize {
        SLIDERS.min(self.nz)
    }

    fn set(&mut self, z: Vec<f32>) {
        self.from = z.clone();
        self.to = z;
        self.walk = 0.0;
    }
}

/// Mode collapse, caught by the quality panel: when, and the snapshot from before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Collapse {
    pub step: u64,
    pub classes: usize,
    pub snapshot_before: Option<u64>,
}

impl Collapse {
    /// The alarm, in plain words, for a model of `family`.
    pub fn message(&self, family: crate::model::Family) -> String {
        let kinds = if self.classes == 1 { "one kind".to_string() } else { format!("{} kinds", self.classes) };
        let back = self.snapshot_before.map_or(String::new(), |s| format!(", and go back to the snapshot at step {s}, from before it"));
        match family {
            crate::model::Family::Vae => format!(
                "Mode collapse at step {}: the decoder draws only {kinds} of digit out of 10. A VAE rarely does this; \
                 its KL term may be pulling every code to the same z. Try a lower learning rate{back}.",
                self.step
            ),
            _ => format!(
                "Mode collapse at step {}: G draws only {kinds} of digit out of 10. It found a few pictures that fool D \
                 and stopped exploring. Try a lower G learning rate, some label smoothing, or another loss{back}.",
                self.step
            ),
        }
    }
}

/// The quality panel: the classifier's scores over the run, or why there are none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QualityPanel {
    pub history: QualityHistory,
    /// The panel is hidden, for this reason (the classifier did not load).
    pub unavailable: Option<String>,
    /// Mode collapse under way.
    pub collapse: Option<Collapse>,
    /// How long the last scoring took in the worker (time not spent training).
    pub cost_ms: f32,
}

/// What the page remembers about its workers, shown nowhere.
#[derive(Clone, Default)]
pub struct Links {
    /// A run to go on from once a new training worker listens: its step and weights file.
    pending_restore: Option<(u64, Payload)>,
    /// The run new networks are replacing, until they are ready: the worker sends a snapshot
    /// of it first, which is offered to go on from (`Page::offer_replaced_run`).
    replacing: Option<KeptDescription>,
    /// That run, on its way to the new worker, whose networks are fresh until it loads: kept
    /// until then, so that another change of backend takes it to the next worker.
    restoring: Option<(u64, Payload)>,
    /// The step of the snapshot the run went back to, until its next snapshot: the listed ones
    /// after it are of the branch left behind (still there to go back to, but not this run's).
    branch_from: Option<u64>,
    /// The kept run on its way to the worker. Until it is loaded (or refused), a snapshot of
    /// the run it replaces does not replace it in the browser; once loaded, its curves are
    /// shown; if the worker goes before it answers, it is offered again.
    kept_loading: Option<KeptRun>,
    /// The step of the kept run just loaded: its first snapshot is the run the browser keeps
    /// already, and is not written again.
    kept_as_loaded: Option<u64>,
    restarts: u32,
    /// The sampler is listening, and holds the generator on show.
    sampler_listening: bool,
    sampler_ready: bool,
    /// The generator on show as a weights file, for the sampler.
    last_generator: Option<(Weights, Payload)>,
    /// The browser refused to keep a snapshot (said once).
    keep_failed: bool,
    /// The address's z, used for the first networks of its size.
    shared_z: Option<Vec<f32>>,
    /// The address's test hook, injected once per page after step 3.
    fault: Option<Fault>,
    /// `?bench=1`, run once the first networks are ready.
    bench: bool,
    /// The run was training when it moved to another backend: it trains on once there.
    resume_after_move: bool,
    /// Fresh networks that were about to train when they moved to another backend: they
    /// train once the new worker has built them.
    play_when_ready: bool,
    /// The snapshot on its way to a new worker is the run moving to another backend (not a
    /// snapshot gone back to, nor the last one after a crash): its load says so.
    moving: bool,
    /// A `HandOver` is on its way: another change of backend waits for it.
    handing_over: bool,
    /// The run this one follows, as it was at the last `follow`.
    lead: Option<Lead>,
    /// This is the second run of a comparison (`Page::compared`).
    compared: bool,
    /// A run is compared beside this one (the address's `compare`).
    leads: bool,
    /// What the runs this page keeps in the browser are marked with, so that the two of a
    /// comparison are offered together (`KeptRun::kept_beside`): a number of the page's own
    /// (`Page::with_kept_pair`), or that of the kept runs it went on from. A compared run
    /// marks its runs with the number of the run it follows.
    pair: u64,
    /// See `KeptLead::went_on`.
    went_on: u32,
    /// The run it follows went on from its kept run: this one goes on from its own, as this
    /// model, once its networks (of this model) are built.
    owed_go_on: Option<crate::model::Family>,
    /// A compared run's play or pause, asked for by the run it follows, that its own
    /// `Running` report must confirm: one that came while it was still pausing (or starting)
    /// is sent when that report comes.
    catch_up: Option<bool>,
    /// Steps the run it follows took while this one could not (its networks not built yet, or
    /// still training or stopping): taken once it can, so the two stay at the same step.
    owed_steps: u32,
    /// The snapshot the collapse alarm offers, kept while the alarm is up (the list moves on).
    before_collapse: Option<(u64, Payload)>,
    /// Grids and samples that arrived: each is a repaint, even of the same picture.
    grids_drawn: u64,
    samples_drawn: u64,
}

impl Links {
    /// This is the second run of a comparison.
    pub fn is_compared(&self) -> bool {
        self.compared
    }

    /// What a compared run follows of the runs kept in the browser; `offered`: the kept run
    /// the page offers to go on from.
    pub fn kept_lead(&self, offered: Option<&KeptRun>) -> KeptLead {
        let going_on = self.kept_loading.is_some();
        let offered_pair = offered.and_then(|run| run.pair);
        let replacing = self.replacing.is_some();
        KeptLead { went_on: self.went_on, offering: offered.is_some() || going_on || replacing, offered_pair, replacing, going_on, pair: self.pair }
    }
}

/// Everything the page shows, and what it remembers between reports.
#[derive(Clone)]
pub struct Page {
    pub settings: Settings,
    pub run: Run,
    pub charts: MetricHistory,
    pub messages: Messages,
    pub backend: Option<BackendInfo>,
    pub snapshots: Vec<Snapshot>,
    pub latent: Latent,
    pub grid: Option<Picture>,
    pub sample: Option<Picture>,
    /// A VAE's held-out digits above its reconstructions of them.
    pub reconstructions: Option<Picture>,
    pub kept: Option<KeptRun>,
    pub bench: Option<String>,
    pub quality: QualityPanel,
    /// The run's grid over its steps, for its time-lapse.
    pub timelapse: Timelapse,
    pub links: Links,
}

/// What a run compared beside this one takes from it (`Page::follow`): the settings (the
/// follower keeps its own model family, unless the lead takes it: then they trade), the latent
/// explorer, and the run buttons pressed.
#[derive(Clone, Debug, PartialEq)]
pub struct Lead {
    pub settings: Settings,
    pub latent: Latent,
    pub running: bool,
    pub resets: u32,
    pub single_steps: u32,
    pub kept: KeptLead,
}

/// What a compared run follows of the runs kept in the browser.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KeptLead {
    /// Times the run went on from its kept run (counted once it has loaded): the compared run
    /// goes on from its own.
    pub went_on: u32,
    /// Its kept run is offered (or on its way to the worker, or a run new networks replace is
    /// about to be): until the offer ends, the compared run's kept run stays, and its
    /// snapshots replace it only once they are as far.
    pub offering: bool,
    /// The comparison the offered run was kept by: the compared run's own replaced run is
    /// offered beside it only if it is this page's (`pair`).
    pub offered_pair: Option<u64>,
    /// The run new networks replace is on its way to be offered (`Links::replacing`).
    pub replacing: bool,
    /// Its kept run is on its way to the worker: steps pressed meanwhile are for the runs
    /// gone on from, so the compared run takes them once it has gone on too.
    pub going_on: bool,
    /// See `Links::pair`.
    pub pair: u64,
}

/// What the browser layer does after a change.
#[derive(Clone)]
pub enum Effect {
    /// Send to the training worker.
    Trainer(Command),
    /// Send to the training worker with bytes the page holds (the browser copies them).
    TrainerWith(Command, Payload),
    Sampler(Command),
    SamplerWith(Command, Payload),
    /// Start a fresh training worker; once it listens the page goes on from the run pending.
    StartTrainer,
    /// Keep this run in the browser for a later visit.
    Keep(KeptSlot, KeptRun),
    /// Forget the run kept in the browser there.
    ForgetKept(KeptSlot),
    /// Offer a file for download.
    Download { name: String, bytes: Payload },
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::Trainer(c) => write!(f, "Trainer({c:?})"),
            Effect::TrainerWith(c, _) => write!(f, "TrainerWith({c:?}, ..)"),
            Effect::Sampler(c) => write!(f, "Sampler({c:?})"),
            Effect::SamplerWith(c, _) => write!(f, "SamplerWith({c:?}, ..)"),
            Effect::StartTrainer => write!(f, "StartTrainer"),
            Effect::Keep(slot, run) => write!(f, "Keep({slot:?}, step {})", run.steps),
            Effect::ForgetKept(slot) => write!(f, "ForgetKept({slot:?})"),
            Effect::Download { name, .. } => write!(f, "Download({name})"),
        }
    }
}

type Effects = Vec<Effect>;

impl Page {
    /// The page for an address: its setup, and a note on what it ignored.
    pub fn new(setup: PageSetup, ignored: &[String]) -> Self {
        let notice = (!ignored.is_empty())
            .then(|| format!("Ignored address settings that are unknown, out of range or not possible here: {}", ignored.join(", ")));
        Self {
            settings: setup.settings,
            run: Run::default(),
            charts: MetricHistory::new(CHART_POINTS),
            messages: Messages { notice, ..Messages::default() },
            backend: None,
            snapshots: Vec::new(),
            latent: Latent { seed: 1, ..Latent::default() },
            grid: None,
            reconstructions: None,
            sample: None,
            kept: None,
            bench: None,
            quality: QualityPanel::default(),
            timelapse: Timelapse::default(),
            links: Links { shared_z: setup.z, fault: setup.fault, bench: setup.bench, leads: setup.compare.is_some(), ..Links::default() },
        }
    }

    /// Marks the runs this page keeps in the browser with `pair` (see `Links::pair`): a number
    /// no earlier visit used, such as the time.
    pub fn with_kept_pair(mut self, pair: u64) -> Self {
        self.links.pair = pair;
        self
    }

    /// The page's second run, trained beside the first to compare with it: a model of
    /// `family`, the first run's settings and z. The browser keeps it beside the first run
    /// (`KeptSlot::Compared`), and it goes on from there when the first run does. It takes no
    /// test hooks.
    pub fn compared(setup: &PageSetup, family: crate::model::Family) -> Self {
        let mut settings = setup.settings.clone();
        settings.model.family = family;
        let mut page = Self::new(PageSetup { settings, z: setup.z.clone(), ..PageSetup::default() }, &[]);
        page.links.compared = true;
        page
    }

    fn error(&mut self, message: impl Into<String>) {
        self.error_with(message, None);
    }

    fn error_with(&mut self, message: impl Into<String>, details: Option<String>) {
        self.messages.error = Some(message.into());
        self.messages.details = details;
        self.messages.error_about_file = false;
    }

    /// What a refused load leaves: the run under way, if one has started.
    fn goes_on_unchanged(&self) -> &'static str {
        if self.run.step > 0 { " The current run goes on unchanged." } else { "" }
    }

    /// A load answered without a run to show for it: the page waits no more, and a run
    /// moving to another backend no longer goes on by itself.
    fn load_not_taken(&mut self) {
        self.run.loading = false;
        self.links.resume_after_move = false;
        self.links.moving = false;
        if std::mem::take(&mut self.messages.notice_until_ready) {
            self.messages.notice = None;
        }
    }

    /// Why a load was not taken, beside the "Load run…" button too when the user picked the file.
    fn load_refused(&mut self, kind: LoadKind, message: String, details: Option<String>) {
        if kind == LoadKind::File {
            self.file_refused(message, details);
        } else {
            self.error_with(message, details);
        }
    }

    /// A file picked with "Load run…" was refused.
    fn file_refused(&mut self, message: impl Into<String>, details: Option<String>) {
        self.error_with(message, details);
        self.messages.error_about_file = true;
    }

    fn clear_error(&mut self) {
        self.messages.error = None;
        self.messages.details = None;
        self.messages.error_about_file = false;
    }

    fn notice(&mut self, message: impl Into<String>) {
        self.messages.notice = Some(message.into());
        self.messages.notice_until_play = false;
        self.messages.notice_until_ready = false;
        self.messages.notice_refused = None;
    }

    /// The user closed the notice.
    pub fn close_notice(&mut self) {
        self.messages.notice = None;
        self.messages.notice_refused = None;
    }

    // ---- Reports from the training worker ----

    /// A report from the training worker, with the bytes that came beside it.
    pub fn apply(&mut self, report: Report, payload: Option<Payload>) -> Effects {
        if report.has_bytes() && payload.is_none() {
            self.error("A message from the training worker came without its data.");
            return Vec::new();
        }
        match report {
            Report::Listening => self.trainer_listening(),
            Report::Backend { name, reason, on_gpu, software } => {
                if !on_gpu {
                    self.run.kernels = None;
                    self.run.convolutions = None;
                }
                self.backend = Some(BackendInfo { name, reason, on_gpu, software });
                Vec::new()
            }
            Report::Ready { settings } => self.ready(settings),
            // Until the new networks are ready, what the worker still sends is of the ones they
            // replace (it finishes a round of training before it reads the reset); a snapshot
            // of them is offered to go on from.
            Report::Snapshot { steps, .. } if !self.run.ready && self.links.replacing.is_some() => {
                self.replaced_run_snapshot(steps, payload.expect("checked above"))
            }
            // Its steps and scores until then, for its curves.
            Report::Steps { reports, .. } if !self.run.ready && self.links.replacing.is_some() => {
                if let Some(replaced) = &mut self.links.replacing {
                    reports.iter().for_each(|r| replaced.curves.charts.push(r));
                }
                Vec::new()
            }
            Report::Quality { step, quality, .. } if !self.run.ready && self.links.replacing.is_some() => {
                if let Some(replaced) = &mut self.links.replacing {
                    replaced.curves.quality.push(step, quality);
                }
                Vec::new()
            }
            Report::Steps { .. } | Report::Grid { .. } | Report::Quality { .. } | Report::Snapshot { .. } | Report::Diverged { .. }
                if !self.run.ready =>
            {
                Vec::new()
            }
            Report::Steps { reports, steps_per_second } => self.steps(&reports, steps_per_second),
            Report::Grid { width, height, weights, .. } => {
                let pixels = payload.map(|p| p.to_vec()).unwrap_or_default();
                // A grid of the run (not the shipped generator's) is a frame of its time-lapse.
                if let (Weights::Run { steps }, true) = (&weights, pixels.len() == width as usize * height as usize) {
                    self.timelapse.offer(*steps, GrayImage { width: width as usize, height: height as usize, pixels: pixels.clone() });
                }
                self.grid = Some(Picture { width, height, pixels });
                self.links.grids_drawn += 1;
                self.run.showing = Some(weights);
                // The big sample follows training too.
                self.request_sample()
            }
            Report::Sample { picture, .. } => self.show_sample(picture),
            Report::Reconstructions(picture) => {
                self.reconstructions = Some(picture);
                Vec::new()
            }
            Report::Generator { weights, .. } => {
                self.links.last_generator = payload.map(|bytes| (weights, bytes));
                let mut effects = self.feed_sampler();
                effects.extend(self.request_sample());
                effects
            }
            Report::Kernels(ready_after) => {
                self.run.kernels = Some(ready_after);
                Vec::new()
            }
            Report::Convolutions(summary) => {
                self.run.convolutions = Some(summary);
                Vec::new()
            }
            Report::Running(running) => {
                self.run.running = running;
                self.run.pausing = false;
                self.run.play_sent = false;
                // Each stretch of training is measured afresh (single steps taken while
                // paused are not its speed).
                self.run.clear_speed();
                if running && std::mem::take(&mut self.messages.notice_until_play) {
                    self.close_notice();
                }
                // A compared run whose play or pause crossed one of its own on the way catches
                // up (once; a stop of its own, an error or a divergence, is left as it is).
                let mut effects = match self.links.catch_up.take() {
                    Some(want) if want != running && self.run.ready && !self.links.handing_over => {
                        vec![if want { self.play() } else { Effect::Trainer(Command::Pause) }]
                    }
                    _ => Vec::new(),
                };
                // Stopped with networks to step: the steps the run it follows took meanwhile.
                if !running && self.run.ready && !self.links.handing_over {
                    effects.extend(self.take_owed_steps());
                }
                effects
            }
            Report::Quality { step, quality, millis } => {
                self.quality.cost_ms = millis;
                self.judged(step, quality)
            }
            Report::QualityUnavailable(why) => {
                self.quality.unavailable = Some(why);
                Vec::new()
            }
            Report::Diverged { step, restored_step } => {
                self.run.step = restored_step;
                self.charts.keep_until(restored_step);
                self.timelapse.keep_until(restored_step);
                self.quality.history.keep_until(restored_step);
                self.error(format!(
                    "Training diverged at step {step}: a loss became NaN or infinite. Training is paused and the \
                     weights from step {restored_step} are kept. Try lower learning rates, then press play."
                ));
                Vec::new()
            }
            Report::Bench { backend, results, convolutions } => {
                let text = results.iter().map(|(p, ms)| format!("{}: {ms:.0} ms/step", p.name())).collect::<Vec<_>>().join(", ");
                // What it times: on the CPU single steps at batch 64, each waited for; on a GPU
                // both convolution paths, steps queued and read together; training here runs at
                // its own batch size and queues several steps before waiting.
                let batch = self.settings.train.batch_size;
                let (drawing, judging) = self.settings.model.family.network_names();
                let extra = |network: &str, layers: usize| match layers {
                    0 => String::new(),
                    _ => format!(", the {network}{}", crate::model::extra_layers(layers)),
                };
                let layers = extra(drawing, self.settings.model.refine) + &extra(judging, self.settings.model.drefine);
                let how = convolutions.unwrap_or_else(|| "one step at a time".into());
                self.bench = Some(format!("{backend} — {text} (batch 64{layers}, {how}; training here uses batch {batch})"));
                Vec::new()
            }
            Report::Saved { steps, .. } => {
                self.run.saving = false;
                let bytes = payload.expect("checked above");
                vec![Effect::Download { name: format!("ganplay-{}-step-{steps}.ganplay", self.settings.model.family.name()), bytes }]
            }
            Report::Snapshot { steps, report, thumbnail, .. } => {
                self.snapshot(Snapshot { steps, report, thumbnail, bytes: payload.expect("checked above") })
            }
            Report::HandedOver { steps } => {
                let run = self.snapshots.iter().find(|s| s.steps == steps).map(|s| (steps, s.bytes.clone()));
                self.start_trainer_with(run)
            }
            // A load answered before a reset the worker had yet to read: the run is the reset's.
            Report::Loaded { .. } if !self.run.ready => {
                self.offer_kept_again();
                Vec::new()
            }
            Report::Loaded { kind, settings, steps, source, curves } => self.loaded(kind, settings, steps, &source, curves),
            Report::LoadRefused { kind: LoadKind::KeptRun, message, details } => {
                self.links.kept_loading = None;
                self.run.loading = false;
                self.error_with(format!("{message}{} This browser no longer keeps it.", self.goes_on_unchanged()), details);
                self.kept = None;
                let mut effects = vec![Effect::ForgetKept(self.kept_slot())];
                effects.extend(self.take_owed_steps());
                effects
            }
            Report::LoadRefused { kind, message, details } => {
                self.load_not_taken();
                // The run a new worker was to go on from: its networks are fresh, and the page
                // shows them so.
                if kind == LoadKind::Snapshot && self.links.restoring.take().is_some() {
                    self.reset_shown();
                    self.error_with(format!("{message} The run could not be brought back: training starts over from step 0."), details);
                    return Vec::new();
                }
                let message = format!("{message}{}", self.goes_on_unchanged());
                self.load_refused(kind, message, details);
                Vec::new()
            }
            Report::DeviceLost(why) => self.recover(format!("The GPU stopped working (device lost: {why})"), None),
            Report::Crashed(why) => {
                let (message, place) = split_panic(&why);
                self.recover(format!("The training worker crashed ({message})"), place)
            }
            Report::Notice(message) => {
                if !self.messages.worker_notes.contains(&message) {
                    self.messages.worker_notes.push(message.clone());
                    self.notice(message);
                }
                Vec::new()
            }
            // A load the worker could not take up: whatever waited on it waits no more.
            Report::LoadFailed { kind, message } => {
                self.load_not_taken();
                self.offer_kept_again();
                self.links.kept_as_loaded = None;
                // The run a new worker was to go on from: what it has is not that run.
                if self.links.restoring.take().is_some() && kind == LoadKind::Snapshot {
                    // Nor are its pictures: the worker has no networks to draw new ones.
                    self.run.showing = None;
                    self.reset_shown();
                    self.error(format!("{message} The run could not be brought back."));
                    return Vec::new();
                }
                self.load_refused(kind, message, None);
                Vec::new()
            }
            // Never a load's answer (see `Report::Error`): a load on its way is still answered.
            Report::Error(message) => {
                self.links.handing_over = false;
                self.latent.in_flight = false;
                self.run.saving = false;
                self.error(message);
                // A go-on that waited for a hand-over that failed: the run stays here.
                let mut effects = self.take_owed_go_on();
                effects.extend(self.take_owed_steps());
                effects
            }
        }
    }

    /// A weights file was loaded: its settings, and curves cut back to its step (a snapshot of
    /// this run) or its own (a file that holds them, the kept run) or none.
    fn loaded(&mut self, kind: LoadKind, settings: Settings, steps: u64, source: &str, curves: Option<Curves>) -> Effects {
        self.links.restoring = None;
        self.run.loading = false;
        // A file of other sizes brings its own: the form follows it, and the note says so.
        let resized = (kind == LoadKind::File && settings.model != self.settings.model).then(|| {
            format!(
                " It holds {} ({}), and the run here was {}: the sizes are now the file's.",
                settings.model.family.long_name(),
                settings.model.sizes(),
                self.settings.model.sizes()
            )
        });
        self.settings = settings;
        // A compared run that went back to a snapshot of its own trains on with the settings
        // of the run it follows that apply at once (the form shows those), not the snapshot's.
        let mut effects = Vec::new();
        if let Some(lead) = self.links.lead.as_ref().filter(|_| kind == LoadKind::Snapshot) {
            let tuned = self.settings.tuned(&lead.settings);
            if tuned != self.settings {
                self.settings = tuned;
                effects.push(Effect::Trainer(Command::Tune(self.settings.clone())));
            }
        }
        match kind {
            LoadKind::Snapshot => {
                self.charts.keep_until(steps);
                self.timelapse.keep_until(steps);
                self.quality.history.keep_until(steps);
                self.links.branch_from = Some(steps);
                // One no longer listed (the one from before a collapse): taken again, so that a
                // crash from here on goes on from it.
                if !self.snapshots.iter().any(|s| s.steps == steps) {
                    effects.push(Effect::Trainer(Command::Snapshot));
                }
            }
            LoadKind::File | LoadKind::KeptRun => {
                self.charts.clear();
                self.timelapse.clear();
                self.quality.history.clear();
                // The snapshots were of the run this one replaces; its first is taken now, so
                // a crash or a lost GPU from here on goes on from this run.
                self.snapshots.clear();
                self.links.branch_from = None;
                effects.push(Effect::Trainer(Command::Snapshot));
                // The kept run's own curves (kept beside its file), or the file's; read from
                // storage or a file, they are used only if they are as a run makes them.
                self.links.kept_as_loaded = (kind == LoadKind::KeptRun).then_some(steps);
                let kept = self.links.kept_loading.take().filter(|_| kind == LoadKind::KeptRun);
                if let Some(run) = &kept {
                    // A compared run goes on from its own now (after any change of settings
                    // the load brought, which it follows first), and the two are kept as a
                    // pair still.
                    self.links.went_on += 1;
                    if let (true, Some(pair)) = (self.links.leads, run.pair) {
                        self.links.pair = pair;
                    }
                }
                let family = self.settings.model.family;
                let curves = match kept.and_then(|run| run.curves) {
                    Some(json) => Curves::read(json.as_bytes(), steps, family),
                    None => curves.and_then(|curves| curves.until(steps, family)),
                };
                if let Some(curves) = curves {
                    (self.charts, self.quality.history) = (curves.charts, curves.quality);
                }
                // What went wrong with the run before (a refused file, a divergence) no
                // longer holds for this one.
                self.clear_error();
            }
        }
        self.quality.collapse = None;
        self.links.before_collapse = None;
        self.run.step = steps;
        // A run that moved to another backend says where it is; it goes on training if it was.
        let moved = kind == LoadKind::Snapshot && std::mem::take(&mut self.links.moving);
        let moved_to = || format!("Moved the run to {} at step {steps}", self.backend.as_ref().map_or("the new backend", BackendInfo::in_words));
        if kind == LoadKind::Snapshot && std::mem::take(&mut self.links.resume_after_move) {
            let said = if moved { format!("{}: it goes on.", moved_to()) } else { format!("Loaded {source}: the run goes on.") };
            self.notice(said);
            effects.push(self.play());
            return effects;
        }
        // Where the charts start, when the file or the kept run did not bring them from step 1.
        let charts_from = match (self.charts.first_step(), self.charts.last_step()) {
            _ if kind == LoadKind::Snapshot => String::new(),
            (None, _) if steps > 0 => format!(" It brings no curves: the charts start at step {steps}."),
            (first, last) => match (first.filter(|&first| first > 1), last.filter(|&last| last < steps)) {
                (Some(first), Some(last)) => format!(" Its curves run from step {first} to step {last}."),
                (Some(first), None) => format!(" Its curves begin at step {first}."),
                (None, Some(last)) => format!(" Its curves end at step {last}."),
                (None, None) => String::new(),
            },
        };
        // A snapshot's or a kept run's source names its step already.
        let at = if kind == LoadKind::File { format!(": the run is at step {steps}, paused") } else { ", paused".to_string() };
        let said = if moved {
            format!("{}, paused. Press play to go on.", moved_to())
        } else {
            format!("Loaded {source}{at}. Press play to go on.{charts_from}{}", resized.unwrap_or_default())
        };
        self.notice(said);
        self.messages.notice_until_play = true;
        // Steps the run it follows took after going on (a compared run going on from its own).
        effects.extend(self.take_owed_steps());
        effects
    }

    /// A new worker: fresh networks, or (after a crash, a lost GPU or a change of backend) the
    /// run pending, whose step and curves stay until it is loaded.
    fn trainer_listening(&mut self) -> Effects {
        // A load sent to the worker before went with it.
        self.run.loading = false;
        match self.links.pending_restore.take() {
            Some((steps, bytes)) => {
                self.run.clear_speed();
                self.links.restoring = Some((steps, bytes.clone()));
                let load = Command::Load { kind: LoadKind::Snapshot, source: format!("the snapshot at step {steps}"), bytes: Vec::new() };
                vec![Effect::Trainer(Command::Reset(Settings { auto_size: false, ..self.settings.clone() })), Effect::TrainerWith(load, bytes)]
            }
            None => self.reset(),
        }
    }

    fn ready(&mut self, settings: Settings) -> Effects {
        // What the worker sends from now on is of these networks.
        self.links.replacing = None;
        let nz = settings.model.nz;
        // The worker picked the sizes left to the hardware: show them, still left to it.
        self.settings.model = settings.model;
        if self.settings.model.family != crate::model::Family::Vae {
            self.reconstructions = None;
        }
        // The sampler's generator may be of another size until the next one comes.
        self.links.sampler_ready = false;
        self.links.last_generator = None;
        self.latent.nz = nz;
        self.latent.selected = self.latent.selected.min(self.latent.sliders().saturating_sub(1));
        self.run.ready = true;
        if std::mem::take(&mut self.messages.notice_until_ready) {
            self.messages.notice = None;
        }
        if let Some(z) = self.links.shared_z.take() {
            if z.len() == nz {
                self.latent.set(z);
            } else {
                self.notice(format!("Ignored the address's z: it has {} numbers, and this generator takes {nz}.", z.len()));
            }
        }
        if self.latent.from.len() != nz {
            self.latent.from = latent_from_seed(self.latent.seed, nz);
            self.latent.to = latent_from_seed(self.latent.seed + 1_000_000, nz);
        }
        let mut effects = Vec::new();
        // Before the first step, whose convolution trial it is for (once per page, as the others).
        if self.links.fault == Some(Fault::KernelRefused) {
            effects.push(Effect::Trainer(Command::InjectFault(Fault::KernelRefused)));
            self.links.fault = None;
        }
        effects.extend(self.request_sample());
        // A compared run owed a go-on loads its kept run first (a load pauses the worker).
        effects.extend(self.take_owed_go_on());
        // A compared run that comes up while the run it follows trains joins in; one that
        // comes up after it took single steps takes them too.
        let moved_training = std::mem::take(&mut self.links.play_when_ready);
        if moved_training || self.links.lead.as_ref().is_some_and(|lead| lead.running) {
            effects.push(self.play());
        }
        effects.extend(self.take_owed_steps());
        if std::mem::take(&mut self.links.bench) {
            self.bench = Some("Benchmark running…".into());
            effects.push(Effect::Trainer(Command::Bench { steps: BENCH_STEPS }));
        }
        effects
    }

    fn steps(&mut self, reports: &[StepReport], steps_per_second: f32) -> Effects {
        let mut effects = Vec::new();
        if let Some(last) = reports.last() {
            self.run.step = last.step;
            // Once per page: a worker restarted after the fault must not get it again. (A
            // collapse waits for a run that draws digits: see `judged`.)
            if last.step >= 3 && !matches!(self.links.fault, Some(Fault::Collapse)) {
                if let Some(fault) = self.links.fault.take() {
                    effects.push(Effect::Trainer(Command::InjectFault(fault)));
                }
            }
        }
        // A step pressed before a "paused, press play" notice came (a load's, say) is training
        // gone on since: the notice is old news, as when the step is pressed after it.
        // (A setting refused meanwhile is said until it is changed or training goes on after it.)
        if !self.run.running && self.messages.notice_refused.is_none() && std::mem::take(&mut self.messages.notice_until_play) {
            self.close_notice();
        }
        // A first step on a GPU compiles its kernels: not a training speed.
        if self.run.kernels != Some(None) {
            self.run.add_speed(reports.len(), steps_per_second);
        }
        reports.iter().for_each(|r| self.charts.push(r));
        effects
    }

    fn snapshot(&mut self, mut snapshot: Snapshot) -> Effects {
        // A run just loaded has sent no report yet: its curves (the file's) have the step's.
        if snapshot.report.is_none() {
            let last = self.charts.points().last().filter(|p| p.report.step == snapshot.steps && p.steps == 1);
            snapshot.report = last.map(|p| p.report);
        }
        // A collapsed run does not replace the run kept in the browser, nor does one still
        // short of the kept run that the page offers to go on from.
        // (While the kept run is on its way to the worker, the run it replaces may still send one.)
        let kept_steps = self.kept.as_ref().or(self.links.kept_loading.as_ref()).map(|kept| kept.steps);
        let shorter = kept_steps.is_some_and(|steps| snapshot.steps < steps);
        let kept_already = self.links.kept_as_loaded.take() == Some(snapshot.steps);
        let keep = !(self.quality.collapse.is_some() || shorter || kept_already);
        // This run's own snapshot replaces the one an earlier visit kept (the offer goes).
        if !shorter {
            self.kept = None;
        }
        let (steps, bytes) = (snapshot.steps, snapshot.bytes.clone());
        // Those after the snapshot the run went back to, or at a later step than this one, are
        // of a branch left behind.
        let branch_from = self.links.branch_from.take().unwrap_or(u64::MAX);
        self.snapshots.retain(|s| s.steps < steps && s.steps <= branch_from);
        self.snapshots.push(snapshot);
        let extra = self.snapshots.len().saturating_sub(SNAPSHOTS_KEPT);
        self.snapshots.drain(..extra);
        if !keep {
            return Vec::new();
        }
        vec![Effect::Keep(self.kept_slot(), self.described().with(steps, bytes))]
    }

    /// Where the browser keeps this run.
    pub fn kept_slot(&self) -> KeptSlot {
        if self.links.compared { KeptSlot::Compared } else { KeptSlot::Run }
    }

    /// A worker on another backend, going on from `run` (or starting afresh).
    fn start_trainer_with(&mut self, run: Option<(u64, Payload)>) -> Effects {
        self.offer_kept_again();
        self.run.ready = false;
        self.run.running = false;
        self.latent.in_flight = false;
        self.backend = None;
        self.notice(match &run {
            Some((steps, _)) => format!("Moving the run at step {steps} to {}…", self.settings.backend.in_words()),
            None => format!("Starting on {}…", self.settings.backend.in_words()),
        });
        self.messages.notice_until_ready = true;
        self.links.handing_over = false;
        self.links.replacing = None;
        self.run.play_sent = false;
        if run.is_none() {
            self.links.resume_after_move = false;
        }
        // (Its callers are moves to another backend.)
        self.links.moving = run.is_some();
        self.links.pending_restore = run;
        vec![Effect::StartTrainer]
    }

    /// After a crash or a lost GPU: a new worker (on the CPU if the GPU was lost), going on
    /// from the last snapshot.
    fn recover(&mut self, what: String, details: Option<String>) -> Effects {
        // A load sent to the worker went with it (a new one starts from the pending restore).
        self.offer_kept_again();
        self.run.loading = false;
        let on_gpu = self.backend.as_ref().is_some_and(|b| b.on_gpu);
        self.run.ready = false;
        self.run.running = false;
        self.run.play_sent = false;
        self.run.kernels = None;
        self.latent.in_flight = false;
        self.links.restarts += 1;
        self.links.resume_after_move = false;
        self.links.play_when_ready = false;
        self.links.moving = false;
        self.links.replacing = None;
        if self.links.restarts > RESTARTS {
            self.error_with(format!("{what}. The training worker failed {RESTARTS} times: reload the page to start again."), details);
            return Vec::new();
        }
        if on_gpu {
            self.settings.backend = crate::settings::BackendRequest::Cpu;
        }
        self.backend = None;
        let latest = self.runs_snapshots().last().map(|s| (s.steps, s.bytes.clone()));
        let moved = if on_gpu { "Training moved to the CPU" } else { "The training worker was restarted" };
        let from = match &latest {
            Some((steps, _)) => format!("and goes on from the snapshot at step {steps}"),
            None => "and starts over (no snapshot had been taken yet)".to_string(),
        };
        self.links.pending_restore = latest;
        self.error_with(format!("{what}. {moved} {from}."), details);
        vec![Effect::StartTrainer]
    }

    /// A quality point: kept for the curves. A collapse raises the alarm, naming the snapshot
    /// from before it: once, until the generator draws enough kinds of digit again, and only
    /// after the run has drawn digits (a fresh run's noise is not a collapse).
    fn judged(&mut self, step: u64, quality: Option<Quality>) -> Effects {
        let mut effects = Vec::new();
        let drew_digits = self.quality.history.points().iter().any(|(_, q)| q.as_ref().is_some_and(Quality::draws_digits));
        match &quality {
            Some(q) if q.collapsed() => {
                if self.quality.collapse.is_none() && drew_digits {
                    // The newest snapshot no later than the last point that drew digits: it is
                    // from before the collapse, and is kept while the alarm is up.
                    let last_good = self.quality.history.points().iter().rev().find(|(_, q)| q.as_ref().is_some_and(Quality::draws_digits));
                    let before = last_good.and_then(|(good, _)| self.runs_snapshots().rev().find(|s| s.steps <= *good)).map(|s| (s.steps, s.bytes.clone()));
                    let snapshot_before = before.as_ref().map(|(steps, _)| *steps);
                    self.links.before_collapse = before;
                    self.quality.collapse = Some(Collapse { step, classes: q.classes_drawn(), snapshot_before });
                }
            }
            Some(q) => {
                self.quality.collapse = None;
                self.links.before_collapse = None;
                if q.draws_digits() && matches!(self.links.fault, Some(Fault::Collapse)) {
                    self.links.fault = None;
                    effects.push(Effect::Trainer(Command::InjectFault(Fault::Collapse)));
                }
            }
            None => {}
        }
        self.quality.history.push(step, quality);
        effects
    }

    /// The curves as CSV, with the quality scores.
    pub fn csv(&self) -> String {
        self.charts.to_csv_with(&self.quality.history)
    }

    /// The training worker stopped without a word (it failed to load, or died).
    pub fn trainer_failed(&mut self) {
        self.run.ready = false;
        self.run.running = false;
        self.run.play_sent = false;
        self.links.play_when_ready = false;
        // A load on its way went with it: the kept run is offered again.
        self.offer_kept_again();
        self.run.loading = false;
        // A crash reports itself first (see the worker's panic hook); keep that message.
        if self.messages.error.is_none() {
            self.error("The training worker stopped or failed to load. Reload the page to try again.");
        }
    }

    // ---- The sampling worker ----

    /// A report from the sampling worker.
    pub fn apply_sampler(&mut self, report: Report) -> Effects {
        match report {
            Report::Listening => {
                self.links.sampler_listening = true;
                self.feed_sampler()
            }
            Report::Sample { picture, .. } => self.show_sample(picture),
            // A sampler that fails leaves the big sample to the training worker.
            Report::Crashed(_) | Report::Error(_) => {
                if matches!(report, Report::Crashed(_)) {
                    self.links.sampler_listening = false;
                }
                self.links.sampler_ready = false;
                self.latent.in_flight = false;
                self.request_sample()
            }
            _ => Vec::new(),
        }
    }

    /// Hands the generator on show to the sampler, if it is listening.
    fn feed_sampler(&mut self) -> Effects {
        match (&self.links.last_generator, self.links.sampler_listening) {
            (Some((weights, bytes)), true) => {
                self.links.sampler_ready = true;
                vec![Effect::SamplerWith(Command::UseGenerator { weights: *weights, bytes: Vec::new() }, bytes.clone())]
            }
            _ => Vec::new(),
        }
    }

    /// The digit the conditional model draws in the big sample.
    pub fn set_class(&mut self, class: u8) -> Effects {
        self.latent.class = class % crate::model::CLASSES as u8;
        self.request_sample()
    }

    /// Asks for the big sample of the current z: from the sampler once it holds the generator,
    /// else from the training worker. One drawing at a time; the latest z waits its turn.
    pub fn request_sample(&mut self) -> Effects {
        let z = self.latent.current();
        if z.is_empty() || !self.run.ready {
            return Vec::new();
        }
        if self.latent.in_flight {
            self.latent.dirty = true;
            return Vec::new();
        }
        self.latent.in_flight = true;
        let class = self.settings.model.family.conditional().then_some(self.latent.class);
        let command = Command::Sample { z, class };
        vec![if self.links.sampler_ready { Effect::Sampler(command) } else { Effect::Trainer(command) }]
    }

    fn show_sample(&mut self, picture: Picture) -> Effects {
        self.sample = Some(picture);
        self.links.samples_drawn += 1;
        self.latent.in_flight = false;
        if std::mem::take(&mut self.latent.dirty) { self.request_sample() } else { Vec::new() }
    }

    // ---- What the user does ----

    /// New networks in the worker, the step and curves back to zero.
    pub fn reset(&mut self) -> Effects {
        self.run.ready = false;
        // New networks do not train until asked (a compared run coming up must not join in
        // with a run that is no longer training).
        self.run.running = false;
        self.run.pausing = false;
        self.run.play_sent = false;
        // A run on its way to a new worker is not gone on from: new networks replace it.
        self.links.pending_restore = None;
        self.links.restoring = None;
        // A move whose load the reset overtakes is over: a later snapshot's load is not its.
        self.links.moving = false;
        self.links.resume_after_move = false;
        // The grid on screen is of the networks being replaced (another model's, even) until
        // the new ones draw theirs.
        self.run.showing = None;
        self.reset_shown();
        vec![Effect::Trainer(Command::Reset(self.settings.clone()))]
    }

    /// The page as for a run at step 0: no curves, no snapshots (theirs was the run before).
    fn reset_shown(&mut self) {
        self.run.step = 0;
        self.run.clear_speed();
        self.charts.clear();
        self.timelapse.clear();
        self.quality.history.clear();
        self.quality.collapse = None;
        self.links.before_collapse = None;
        self.links.owed_steps = 0;
        self.snapshots.clear();
        self.links.branch_from = None;
        self.links.kept_as_loaded = None;
        self.run.loading = false;
    }

    /// The listed snapshots of the run on show, oldest first (not those of a branch it left by
    /// going back).
    fn runs_snapshots(&self) -> impl DoubleEndedIterator<Item = &Snapshot> {
        let branch_from = self.links.branch_from.unwrap_or(u64::MAX);
        self.snapshots.iter().filter(move |s| s.steps <= branch_from)
    }

    pub fn user_reset(&mut self) -> Effects {
        self.clear_error();
        // "Loaded …, paused. Press play to go on." is of the run replaced.
        if std::mem::take(&mut self.messages.notice_until_play) {
            self.close_notice();
        }
        self.run.resets += 1;
        self.links.play_when_ready = false;
        let mut effects = self.offer_replaced_run();
        effects.extend(self.reset());
        effects
    }

    /// Play, or pause: a pause takes effect after the step under way, which on a slow
    /// backend takes seconds, so the button says so meanwhile.
    pub fn play_pause(&mut self) -> Effects {
        self.clear_error();
        if self.run.running {
            self.run.pausing = true;
            vec![Effect::Trainer(Command::Pause)]
        } else {
            vec![self.play()]
        }
    }

    /// Play, sent to the worker: until it says it trains, a move takes the run along training.
    fn play(&mut self) -> Effect {
        self.run.play_sent = true;
        Effect::Trainer(Command::Play)
    }

    /// Goes on from the run kept in this browser, as the run it follows did, once its networks
    /// of the model it owes it as are built (networks asked for before, of its model before a
    /// trade, are not those): if the kept run is of that model, else this run trains on as it
    /// is, and lets the kept run go.
    fn take_owed_go_on(&mut self) -> Effects {
        let Some(family) = self.links.owed_go_on else { return Vec::new() };
        if !self.run.ready || self.links.handing_over || self.settings.model.family != family {
            return Vec::new();
        }
        self.links.owed_go_on = None;
        if self.kept.as_ref().is_some_and(|kept| kept.family == Some(family)) {
            self.go_on_from_kept()
        } else {
            // Not this run's model: the run it follows went on without it, and marks its kept
            // runs as that pair still, so the record goes.
            match self.kept.take() {
                Some(_) => vec![Effect::ForgetKept(KeptSlot::Compared)],
                None => Vec::new(),
            }
        }
    }

    /// The steps owed to the run this one follows (see `Links::owed_steps`), taken if that run
    /// is stopped; if it trains again, this one trains along instead, and they are dropped.
    fn take_owed_steps(&mut self) -> Effects {
        let lead_going_on = self.links.lead.as_ref().is_some_and(|lead| lead.kept.going_on);
        if lead_going_on || self.links.owed_go_on.is_some() || self.links.kept_loading.is_some() {
            // After its own kept run is loaded (`loaded`), as the run it follows takes them.
            return Vec::new();
        }
        let owed = std::mem::take(&mut self.links.owed_steps);
        if self.links.lead.as_ref().is_some_and(|lead| lead.running) {
            return Vec::new();
        }
        (0..owed).flat_map(|_| self.single_step()).collect()
    }

    pub fn single_step(&mut self) -> Effects {
        if !self.run.ready || self.run.running {
            return Vec::new();
        }
        self.run.single_steps += 1;
        self.clear_error();
        // A step is training going on: a "paused, press play" notice is old news.
        if std::mem::take(&mut self.messages.notice_until_play) {
            self.close_notice();
        }
        vec![Effect::Trainer(Command::Step)]
    }

    /// A setting changed in the form, as text. The table says what the change takes: a tune of
    /// the running networks, new networks, or a move to another backend. A value out of range
    /// changes nothing and says why.
    pub fn change(&mut self, key: Key, text: &str) -> Effects {
        let mut next = self.settings.clone();
        if next.set_text(key, text).is_err() {
            return self.refuse(key, key.refused_in_the_form(self.settings.model.family, text));
        }
        // The user has moved on: a note on a refused value, or a refused file's error (which
        // may have asked for this very change, "choose that model first"), is old news.
        if self.messages.notice_refused.is_some() {
            self.close_notice();
        }
        if self.messages.error_about_file {
            self.clear_error();
        }
        self.adopt(next, Some(key), true)
    }

    /// What typing into a number field that the browser could not read as a number does
    /// (it gives an empty value, as an empty field does): nothing changes, and the note says why.
    pub fn change_unreadable(&mut self, key: Key) -> Effects {
        self.refuse(key, key.unreadable_in_the_form(self.settings.model.family))
    }

    /// Says why the form did not take a value for `key`, beside its field and at the top.
    fn refuse(&mut self, key: Key, why: String) -> Effects {
        self.notice(format!("Not changed: {why}."));
        self.messages.notice_refused = Some(key);
        // Once training goes on, the field shows what it trains with: the note is old news.
        self.messages.notice_until_play = true;
        Vec::new()
    }

    /// The run that new networks are about to replace (a changed seed, size or model, Reset),
    /// offered as the run kept in this browser to go on from, as a run kept by an earlier
    /// visit is, with its curves. The browser keeps it until the new run gets as far. At once
    /// from its last snapshot (a collapsed run's from before the collapse, as the browser keeps
    /// it); then, if the run has gone further, from a snapshot of it as it is, which the worker
    /// sends before it builds the new networks (`Links::replacing`). Not offered while a longer
    /// run's offer stands, nor for a compared run unless the run it follows offers its own.
    fn offer_replaced_run(&mut self) -> Effects {
        let beside_the_leads = self.links.lead.as_ref().is_none_or(|lead| lead.kept.replacing || lead.kept.offered_pair == Some(lead.kept.pair));
        if !beside_the_leads || self.links.kept_loading.is_some() {
            return Vec::new();
        }
        let collapsed = self.quality.collapse.as_ref().map(|c| c.snapshot_before);
        let latest = match collapsed {
            None => self.runs_snapshots().last(),
            Some(before) => self.runs_snapshots().rev().find(|s| Some(s.steps) == before),
        };
        let offer_steps = self.kept.as_ref().map(|kept| kept.steps);
        let longer_offer = |steps: u64| offer_steps.is_some_and(|offered| offered >= steps);
        let described = self.described();
        let mut effects = Vec::new();
        let mut offered = 0;
        if let Some(latest) = latest.filter(|s| !longer_offer(s.steps)) {
            offered = latest.steps;
            let run = described.clone().with(latest.steps, latest.bytes.clone());
            self.kept = Some(run.clone());
            // Kept again: the browser may hold an earlier snapshot (a collapsed run's last one
            // is not kept) or none (forgotten, or refused).
            effects.push(Effect::Keep(self.kept_slot(), run));
        }
        // (Not a run on its way back to a new worker, whose snapshot it is: after a crash the
        // worker is ready before it has loaded it.)
        let further = collapsed.is_none()
            && self.run.ready
            && !self.run.loading
            && self.links.restoring.is_none()
            && self.run.step > offered
            && !longer_offer(self.run.step);
        if further {
            self.links.replacing = Some(described);
            effects.push(Effect::Trainer(Command::Snapshot));
        }
        effects
    }

    /// A snapshot of the run new networks replace (sent before they are ready): offered.
    fn replaced_run_snapshot(&mut self, steps: u64, bytes: Payload) -> Effects {
        let Some(described) = self.links.replacing.clone() else { return Vec::new() };
        if self.kept.as_ref().is_some_and(|kept| kept.steps > steps) {
            return Vec::new();
        }
        let run = described.with(steps, bytes);
        self.kept = Some(run.clone());
        vec![Effect::Keep(self.kept_slot(), run)]
    }

    /// This run as the browser keeps it, but for its step and file: its size and model in
    /// words ("tiny DCGAN"), its curves, and the comparison it belongs to.
    fn described(&self) -> KeptDescription {
        let size = self.settings.preset().map_or("custom-size", |p| p.name());
        let family = self.settings.model.family;
        KeptDescription {
            what: format!("{size} {}", family.title()),
            family,
            pair: self.links.lead.as_ref().map_or(self.links.pair, |lead| lead.kept.pair),
            curves: self.curves(),
        }
    }

    /// New settings (checked), from the form's `key` or from the run this one follows: what
    /// the table says the change takes.
    /// `offer_replaced`: a run that new networks replace is offered to go on from.
    fn adopt(&mut self, next: Settings, key: Option<Key>, offer_replaced: bool) -> Effects {
        let change = self.settings.change_to(&next);
        // Described with the settings it had.
        let replaced = if change == Some(Applies::Rebuild) && offer_replaced { self.offer_replaced_run() } else { Vec::new() };
        self.settings = next;
        let effects = match change {
            None => Vec::new(),
            Some(Applies::AtOnce) => vec![Effect::Trainer(Command::Tune(self.settings.clone()))],
            Some(Applies::Rebuild) => {
                // What went wrong with the run replaced (a crash it came back from, a
                // divergence) is old news; a worker that is not there (not ready) still is.
                if self.run.ready {
                    self.clear_error();
                }
                self.notice(match (key, self.settings.preset()) {
                    (Some(Key::Preset), Some(preset)) => format!("New {} networks built: training starts over.", preset.name()),
                    _ => "New networks built with the changed setting: training starts over.".to_string(),
                });
                // A run under way (or new networks about to train: a change made while the
                // last ones were built) goes on training as the new networks; a compared run
                // trains when the run it follows does.
                let training = self.links.play_when_ready || (self.run.ready && ((self.run.running && !self.run.pausing) || self.run.play_sent));
                let training = training || self.links.lead.as_ref().is_some_and(|lead| lead.running);
                // Paused, the notice is news until the new networks train; training, it says
                // why the steps began again, until closed or replaced.
                self.messages.notice_until_play = !training;
                let effects = self.reset();
                self.links.play_when_ready = training && self.links.lead.is_none();
                effects
            }
            Some(Applies::Move) => {
                // A worker keeps its device for its life: a new backend takes a new worker, and
                // a run under way goes along as a weights file (training on, if it was). A
                // hand-over under way takes the latest choice along; a run still on its way to
                // a new worker goes to the newer one instead.
                if self.links.handing_over {
                    Vec::new()
                } else if self.run.ready && self.run.step > 0 && self.links.restoring.is_none() {
                    self.links.handing_over = true;
                    // Training, or about to: a Play on its way (a move's, going on) counts.
                    self.links.resume_after_move = (self.run.running && !self.run.pausing) || self.run.play_sent;
                    vec![Effect::Trainer(Command::HandOver)]
                } else {
                    // The run goes along whether it still waits for the worker to listen or
                    // is already on its way there (the worker may be ready before it loads).
                    let pending = self.links.pending_restore.take().or_else(|| self.links.restoring.take());
                    // Fresh networks about to train (Play just pressed) train in the new worker;
                    // a compared run trains when the run it follows does.
                    let training = self.run.ready && ((self.run.running && !self.run.pausing) || self.run.play_sent);
                    let fresh = pending.is_none() && self.links.lead.is_none();
                    let effects = self.start_trainer_with(pending);
                    self.links.play_when_ready |= fresh && training;
                    effects
                }
            }
        };
        [replaced, effects].concat()
    }

    /// What a compared run follows of this one.
    pub fn lead(&self) -> Lead {
        let (settings, latent) = (self.settings.clone(), self.latent.clone());
        let kept = self.links.kept_lead(self.kept.as_ref());
        Lead { settings, latent, running: self.run.running, resets: self.run.resets, single_steps: self.run.single_steps, kept }
    }

    /// Follows the run it is compared with: what changed there since the last call happens
    /// here too (settings but the model family, z and class, play and pause, reset, step). If
    /// the run it follows has become this one's model, this one takes the model that run had.
    pub fn follow(&mut self, lead: &Lead) -> Effects {
        let last = self.links.lead.replace(lead.clone());
        let mut effects = Vec::new();
        let mut settings = lead.settings.clone();
        // Its own model, unless the run it follows has just become that model (a run kept in
        // the browser brings its own): then the two trade, so no model is beside itself.
        let own = self.settings.model.family;
        settings.model.family = last.as_ref().map_or(own, |l| model_beside(l.settings.model.family, own, lead.settings.model.family));
        let traded = settings.model.family != own;
        if settings.auto_size && self.settings.auto_size {
            // Sizes left to the hardware: each worker picks them for itself (the same ones),
            // whichever of the two is ready first.
            let own = &self.settings.model;
            (settings.model.nz, settings.model.ngf, settings.model.ndf) = (own.nz, own.ngf, own.ndf);
        }
        let mut rebuilt = false;
        let went_on = last.as_ref().is_some_and(|l| l.kept.went_on != lead.kept.went_on);
        // Steps held while the run it follows loaded its kept run are for the runs gone on
        // from: new networks for the settings that run brought (a rebuild) do not drop them.
        let held_steps = self.links.owed_steps;
        if last.as_ref().is_none_or(|l| l.settings != lead.settings) && settings != self.settings {
            // Named as the first run's form names them.
            let changed = self.settings.rebuilds_for(&settings, lead.settings.model.family);
            rebuilt = self.settings.change_to(&settings) == Some(Applies::Rebuild);
            // Its run is offered as the run it follows offers its own (not when it goes on from
            // its kept run).
            effects.extend(self.adopt(settings, None, !went_on));
            // Rebuilt for the first run's new settings (the form's, or a file's it loaded).
            if !traded && !changed.is_empty() && rebuilt {
                let lead_name = lead.settings.model.family.title();
                self.notice(format!("The {lead_name} run now has {}: this run starts over with the same.", changed.join(", ")));
                self.messages.notice_until_play = true;
            }
            if traded {
                self.notice(format!(
                    "The first run is now {}, so this one is now {}: training starts over.",
                    own.long_name(),
                    self.settings.model.family.long_name()
                ));
            }
        }
        let same_z = |a: &Latent, b: &Latent| (&a.from, &a.to, a.walk, a.class) == (&b.from, &b.to, b.walk, b.class);
        if last.as_ref().is_none_or(|l| !same_z(&l.latent, &lead.latent)) && !same_z(&self.latent, &lead.latent) && lead.latent.nz == self.latent.nz {
            let Latent { from, to, walk, class, seed, .. } = lead.latent.clone();
            (self.latent.from, self.latent.to, self.latent.walk, self.latent.class, self.latent.seed) = (from, to, walk, class, seed);
            effects.extend(self.request_sample());
        }
        if let Some(last) = &last {
            if lead.resets != last.resets {
                effects.extend(self.user_reset());
            }
            if went_on {
                self.links.owed_steps = held_steps;
                self.links.owed_go_on = Some(self.settings.model.family);
                effects.extend(self.take_owed_go_on());
            } else if lead.resets != last.resets || rebuilt {
                // Started over since the run it follows went on: this one does not go on (nor
                // offers its kept run again when a load already sent is answered).
                self.links.owed_go_on = None;
                self.links.kept_loading = None;
            }
        }
        if !lead.kept.offering && self.links.owed_go_on.is_none() && self.links.kept_loading.is_none() {
            // The offer ended without going on (the new run's snapshot replaced the kept run,
            // or it was forgotten or refused): this run's kept run goes too, and its own
            // snapshots are kept from now on.
            self.kept = None;
        }
        if let Some(last) = &last {
            // Taken now if it can, else once its networks are built or once it has stopped.
            self.links.owed_steps += lead.single_steps.wrapping_sub(last.single_steps);
            if self.run.ready && !self.run.running {
                effects.extend(self.take_owed_steps());
            }
            if lead.running != last.running {
                // Confirmed by this run's next `Running` report, or sent then if it cannot be now.
                self.links.catch_up = Some(lead.running);
                if lead.running != self.run.running && self.run.ready && !self.run.pausing {
                    effects.extend(self.play_pause());
                }
            }
        }
        effects
    }

    pub fn save(&mut self) -> Effects {
        self.run.saving = true;
        // While a file is on its way the worker saves that run, whose curves are not these.
        let curves = (!self.run.loading).then(|| self.curves());
        vec![Effect::Trainer(Command::Save { curves })]
    }

    /// The run's curves, as a saved file and the run kept in the browser carry them.
    fn curves(&self) -> Curves {
        Curves { charts: self.charts.clone(), quality: self.quality.history.clone() }
    }

    pub fn snapshot_now(&mut self) -> Effects {
        // Before its networks are built a worker has nothing to snapshot.
        if !self.run.ready {
            return Vec::new();
        }
        vec![Effect::Trainer(Command::Snapshot)]
    }

    /// A file the user picked, `size` bytes long, to go on from.
    pub fn file_too_large(&mut self, name: &str, size: f64) -> bool {
        let too_large = size > crate::checkpoint::MAX_FILE_BYTES as f64;
        if too_large {
            self.file_refused(format!(
                "{name} was not loaded: it is {:.0} MB, too large for a ganplay weights file.{}",
                size / 1e6,
                self.goes_on_unchanged()
            ), None);
        }
        too_large
    }

    pub fn load_file(&mut self, name: String, bytes: Payload) -> Effects {
        self.run.loading = true;
        // A loaded run waits for Play, whatever the networks it replaces were to do.
        self.links.play_when_ready = false;
        vec![Effect::TrainerWith(Command::Load { kind: LoadKind::File, source: name, bytes: Vec::new() }, bytes)]
    }

    /// Goes back to the snapshot at `steps` (in the list, or the one kept from before a collapse).
    pub fn go_back(&mut self, steps: u64) -> Effects {
        let listed = self.snapshots.iter().find(|s| s.steps == steps).map(|s| s.bytes.clone());
        let kept = self.links.before_collapse.as_ref().filter(|(s, _)| *s == steps).map(|(_, b)| b.clone());
        let Some(bytes) = listed.or(kept) else {
            self.notice(format!("The snapshot at step {steps} is no longer kept."));
            return Vec::new();
        };
        let load = Command::Load { kind: LoadKind::Snapshot, source: format!("the snapshot at step {steps}"), bytes: Vec::new() };
        self.run.loading = true;
        self.links.play_when_ready = false;
        vec![Effect::TrainerWith(load, bytes)]
    }

    pub fn kept_found(&mut self, run: KeptRun) {
        self.kept = Some(run);
    }

    pub fn go_on_from_kept(&mut self) -> Effects {
        // (A run moving to another backend goes first: its worker is about to go.)
        if self.links.handing_over {
            return Vec::new();
        }
        let Some(run) = self.kept.take() else { return Vec::new() };
        let source = format!("the run kept in this browser (step {})", run.steps);
        let bytes = run.bytes.clone();
        self.links.kept_loading = Some(run);
        self.run.loading = true;
        self.links.play_when_ready = false;
        vec![Effect::TrainerWith(Command::Load { kind: LoadKind::KeptRun, source, bytes: Vec::new() }, bytes)]
    }

    /// The worker went (a crash, a lost GPU, a move) or failed before it answered the load of
    /// the kept run: the run is offered again.
    fn offer_kept_again(&mut self) {
        if let Some(run) = self.links.kept_loading.take() {
            self.kept = Some(run);
            // A compared run goes on from it as soon as it can, as the run it follows did.
            if self.links.compared {
                self.links.owed_go_on = Some(self.settings.model.family);
            }
        }
    }

    /// Forgets the run kept in the browser, and the run kept beside it.
    pub fn forget_kept(&mut self) -> Effects {
        self.kept = None;
        vec![Effect::ForgetKept(KeptSlot::Run), Effect::ForgetKept(KeptSlot::Compared)]
    }

    /// The browser would not keep a snapshot: said once.
    pub fn keep_failed(&mut self, why: &str) {
        if !std::mem::replace(&mut self.links.keep_failed, true) {
            self.notice(format!("This browser did not keep the run for a later visit ({why}). Save run keeps it as a file."));
        }
    }

    /// A failure of the browser layer (a download, a worker that would not start).
    pub fn failed(&mut self, message: String) {
        self.error(message);
    }

    /// A file picked with "Load run…" could not be read.
    pub fn file_unreadable(&mut self, why: &str) {
        self.file_refused(format!("{why}.{}", self.goes_on_unchanged()), None);
    }

    // ---- The latent explorer ----

    /// Sets one latent dimension (a slider); the walk is folded into the current point.
    pub fn move_slider(&mut self, dim: usize, value: f32) -> Effects {
        let mut z = self.latent.current();
        let Some(v) = z.get_mut(dim) else { return Vec::new() };
        *v = round_latent(value.clamp(-3.0, 3.0));
        self.latent.selected = dim;
        self.latent.set(z);
        self.request_sample()
    }

    /// Moves the selected slider by `delta` (the arrow keys).
    pub fn nudge(&mut self, delta: f32) -> Effects {
        let dim = self.latent.selected;
        let value = self.latent.current().get(dim).copied().unwrap_or(0.0);
        self.move_slider(dim, value + delta)
    }

    /// Selects the slider above or below (the arrow keys), wrapping around.
    pub fn select_next(&mut self, up: bool) {
        let count = self.latent.sliders().max(1);
        let d = self.latent.selected;
        self.latent.selected = if up { (d + count - 1) % count } else { (d + 1) % count };
    }

    pub fn select(&mut self, dim: usize) {
        self.latent.selected = dim;
    }

    pub fn random_z(&mut self) -> Effects {
        self.latent.seed += 1;
        self.latent.set(latent_from_seed(self.latent.seed, self.latent.nz));
        self.request_sample()
    }

    /// A new walk from the current z to a random one.
    pub fn new_walk(&mut self) -> Effects {
        self.latent.from = self.latent.current();
        self.latent.seed += 1;
        self.latent.to = latent_from_seed(self.latent.seed + 1_000_000, self.latent.nz);
        self.latent.walk = 0.0;
        self.request_sample()
    }

    pub fn set_walk(&mut self, t: f32) -> Effects {
        self.latent.walk = t.clamp(0.0, 1.0);
        self.request_sample()
    }

    /// How many grids and samples have arrived (each is a repaint).
    pub fn drawn(&self) -> (u64, u64) {
        (self.links.grids_drawn, self.links.samples_drawn)
    }

    /// The address that reproduces what the page shows.
    pub fn address(&self, presenter: bool) -> String {
        address(&self.settings, &self.latent, presenter, None)
    }
}

/// Arithmetic the CPU path does in a second in the page (flex with wasm SIMD, measured between
/// 10 and 20 GFLOP/s from the standard model to the largest sizes on a laptop-class CPU).
const CPU_FLOPS_PER_SECOND: f64 = 15e9;
/// Steps slower than this get a warning before Play.
const HEAVY_STEP_SECONDS: f64 = 2.0;

/// A warning when the settings make each training step slow on the CPU, before Play.
pub fn heavy_warning(settings: &Settings, backend: Option<&BackendInfo>) -> Option<String> {
    if backend.is_none_or(|b| b.on_gpu) {
        return None;
    }
    let seconds = settings.model.step_flops(settings.train.batch_size) * settings.train.d_steps.max(1) as f64 / CPU_FLOPS_PER_SECOND;
    (seconds > HEAVY_STEP_SECONDS).then(|| {
        format!(
            "These settings are heavy for the processor: about {seconds:.0} s a step, so digits take many minutes to form. \
             Smaller widths, a smaller batch or the tiny preset train far faster."
        )
    })
}

/// The address that reproduces a setup and the big sample's z.
/// `compare`: the family of a run compared beside this one, if any.
pub fn address(settings: &Settings, latent: &Latent, presenter: bool, compare: Option<crate::model::Family>) -> String {
    let z = Some(latent.current()).filter(|z| !z.is_empty());
    PageSetup { settings: settings.clone(), z, presenter, compare, ..PageSetup::default() }.to_query()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelConfig;
    use crate::settings::{BackendRequest, Preset};
    use crate::training::TrainConfig;

    fn page(query: &str) -> Page {
        let (setup, ignored) = PageSetup::from_query(query);
        Page::new(setup, &ignored)
    }

    fn report(step: u64) -> StepReport {
        StepReport::gan(step, 1.0, 1.5, 0.8, 0.3, 0.35)
    }

    /// A page whose worker is ready with tiny networks, its effects so far dropped.
    fn ready_page(query: &str) -> Page {
        let mut page = page(query);
        page.apply(Report::Listening, None);
        let mut settings = page.settings.clone();
        settings.model = Preset::Tiny.model();
        page.apply(Report::Ready { settings }, None);
        page
    }

    fn steps(page: &mut Page, range: std::ops::RangeInclusive<u64>) -> Effects {
        page.apply(Report::Steps { reports: range.map(report).collect(), steps_per_second: 20.0 }, None)
    }

    fn sent(effects: &[Effect]) -> Vec<Command> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Trainer(c) | Effect::TrainerWith(c, _) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_new_worker_builds_networks_with_the_pages_settings() {
        let mut page = page("?seed=9&lr_g=0.001");
        let effects = page.apply(Report::Listening, None);
        let [Command::Reset(settings)] = &sent(&effects)[..] else { panic!("{effects:?}") };
        assert_eq!((settings.train.seed, settings.train.lr_g), (9, 0.001));
        assert!(settings.auto_size, "no size in the address: the worker picks for its hardware");
        assert!(!page.run.ready);
    }

    #[test]
    fn ready_shows_the_sizes_the_worker_picked_and_asks_for_a_sample() {
        let mut page = page("?backend=cpu");
        page.apply(Report::Listening, None);
        let mut settings = page.settings.clone();
        settings.model = Preset::Standard.model().with_nz(12);
        let effects = page.apply(Report::Ready { settings }, None);
        assert!(page.run.ready);
        assert_eq!(page.settings.model.nz, 12);
        assert!(page.settings.auto_size);
        assert_eq!((page.latent.nz, page.latent.current().len(), page.latent.sliders()), (12, 12, 10));
        assert!(matches!(sent(&effects)[..], [Command::Sample { ref z, class: None }] if z.len() == 12));
    }

    #[test]
    fn the_speed_on_show_is_the_last_seconds_average_and_starts_afresh_after_a_pause() {
        let mut page = ready_page("");
        page.apply(Report::Running(true), None);
        // On a GPU the first step compiles kernels for seconds: no training speed.
        page.apply(Report::Kernels(None), None);
        page.apply(Report::Steps { reports: vec![report(1)], steps_per_second: 0.1 }, None);
        assert_eq!(page.run.steps_per_second, 0.0);
        page.apply(Report::Kernels(Some(10_000.0)), None);
        // 10 steps in 1 s, then 10 in 0.25 s: not 40, not 10, but what the last seconds did.
        page.apply(Report::Steps { reports: (1..=10).map(report).collect(), steps_per_second: 10.0 }, None);
        assert_eq!(page.run.steps_per_second, 10.0);
        page.apply(Report::Steps { reports: (11..=20).map(report).collect(), steps_per_second: 40.0 }, None);
        let fade = (-0.25f64 / 3.0).exp();
        let expected = (10.0 * fade + 10.0) / (1.0 * fade + 0.25);
        assert!((page.run.steps_per_second as f64 - expected).abs() < 1e-3, "{}", page.run.steps_per_second);
        // A chunk long ago weighs little against the last few seconds.
        page.apply(Report::Steps { reports: (21..=300).map(report).collect(), steps_per_second: 28.0 }, None);
        assert!((page.run.steps_per_second - 28.0).abs() < 0.5, "{}", page.run.steps_per_second);
        page.apply(Report::Running(false), None);
        page.apply(Report::Running(true), None);
        page.apply(Report::Steps { reports: (301..=305).map(report).collect(), steps_per_second: 5.0 }, None);
        assert_eq!(page.run.steps_per_second, 5.0);
    }

    #[test]
    fn a_report_of_steps_extends_the_charts_and_moves_the_counter() {
        let mut page = ready_page("");
        steps(&mut page, 1..=4);
        steps(&mut page, 5..=7);
        assert_eq!(page.run.step, 7);
        assert_eq!(page.run.steps_per_second, 20.0);
        assert_eq!(page.charts.points().len(), 7);
        assert_eq!(page.charts.points().last().unwrap().report, report(7));
    }

    #[test]
    fn a_diverged_report_trims_the_charts_to_the_restored_step_and_says_so() {
        let mut page = ready_page("");
        steps(&mut page, 1..=10);
        page.apply(Report::Diverged { step: 12, restored_step: 6 }, None);
        assert_eq!(page.run.step, 6);
        assert_eq!(page.charts.points().last().unwrap().report.step, 6);
        assert!(page.messages.error.as_deref().unwrap().contains("diverged at step 12"));
        // The message stays until the user acts.
        page.play_pause();
        assert_eq!(page.messages.error, None);
    }

    #[test]
    fn loaded_writes_every_setting_back() {
        let mut page = ready_page("?backend=cpu");
        steps(&mut page, 1..=5);
        let settings = Settings::of_run(
            BackendRequest::Cpu,
            ModelConfig::new().with_nz(7).with_ngf(5).with_ndf(3),
            TrainConfig::new().with_lr_d(0.0007).with_lr_g(0.0003).with_beta1(0.2).with_batch_size(12).with_seed(99).with_d_steps(2),
        );
        let loaded = Report::Loaded { kind: LoadKind::File, settings: settings.clone(), steps: 40, source: "run.ganplay".into(), curves: None };
        page.apply(loaded, None);
        assert_eq!(page.settings, settings);
        assert_eq!(page.run.step, 40);
        assert!(page.charts.points().is_empty(), "a file without curves starts them afresh");
        assert!(page.messages.notice.as_deref().unwrap().contains("Press play to go on. It brings no curves: the charts start at step 40."));
        assert!(page.messages.notice.as_deref().unwrap().starts_with("Loaded run.ganplay: the run is at step 40"));
        assert!(
            page.messages.notice.as_deref().unwrap().ends_with(
                "It holds a DCGAN (nz 7, generator 5 wide, discriminator 3 wide with 2 extra layers), and the run here was nz 100, \
                 generator 16 wide, discriminator 8 wide with 2 extra layers: the sizes are now the file's."
            ),
            "{:?}",
            page.messages.notice
        );
        assert!(page.address(false).contains("ngf=5"), "{}", page.address(false));
    }

    #[test]
    fn going_back_to_a_snapshot_keeps_the_curves_up_to_it() {
        let mut page = ready_page("");
        steps(&mut page, 1..=3);
        let effects = page.apply(Report::Snapshot { steps: 3, report: Some(report(3)), thumbnail: "data:".into(), bytes: Vec::new() }, Some(vec![3; 8]));
        assert!(matches!(effects[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 3, .. })]));
        steps(&mut page, 4..=9);
        let effects = page.go_back(3);
        assert!(matches!(&effects[..], [Effect::TrainerWith(Command::Load { kind: LoadKind::Snapshot, .. }, bytes)] if bytes == &vec![3; 8]));
        page.apply(Report::Loaded { kind: LoadKind::Snapshot, settings: page.settings.clone(), steps: 3, source: "the snapshot at step 3".into(), curves: None }, None);
        assert_eq!((page.run.step, page.charts.points().len()), (3, 3));
        // The source names the step, which the notice does not say again.
        assert_eq!(page.messages.notice.as_deref(), Some("Loaded the snapshot at step 3, paused. Press play to go on."));
    }

    #[test]
    fn a_saved_file_brings_its_curves_back() {
        let mut page = ready_page("");
        steps(&mut page, 1..=6);
        page.apply(Report::Quality { step: 4, quality: None, millis: 1.0 }, None);
        let [Command::Save { curves: Some(curves) }] = &sent(&page.save())[..] else { panic!("a save with curves") };
        assert_eq!((&curves.charts, &curves.quality), (&page.charts, &page.quality.history));
        // Another page loads the file (saved at step 5, its curves read back up to there).
        let mut curves = curves.clone();
        curves.keep_until(5);
        let mut other = ready_page("");
        steps(&mut other, 1..=9);
        other.apply(Report::Loaded { kind: LoadKind::File, settings: other.settings.clone(), steps: 5, source: "a.ganplay".into(), curves: Some(curves) }, None);
        assert_eq!(other.charts.points().iter().map(|p| p.report.step).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(other.quality.history.points().len(), 1);
        assert_eq!(other.messages.notice.as_deref(), Some("Loaded a.ganplay: the run is at step 5, paused. Press play to go on."));
        // The loaded run's first snapshot (its worker has no report yet) lists the step's numbers from the curves.
        other.apply(Report::Snapshot { steps: 5, report: None, thumbnail: "data:".into(), bytes: Vec::new() }, Some(vec![5]));
        assert_eq!(other.snapshots.last().and_then(|s| s.report).map(|r| r.step), Some(5));
        // Curves not as a run makes them are left out, as if the file held none.
        let odd = Curves { charts: MetricHistory::new(4), ..Curves::new() };
        other.apply(Report::Loaded { kind: LoadKind::File, settings: other.settings.clone(), steps: 5, source: "b.ganplay".into(), curves: Some(odd) }, None);
        assert!(other.charts.points().is_empty());
        assert!(other.messages.notice.as_deref().unwrap().ends_with("It brings no curves: the charts start at step 5."));
        // Saved at once, the file's curves begin at the step it was loaded at; loaded, it says so.
        steps(&mut other, 6..=7);
        let [Command::Save { curves: Some(curves) }] = &sent(&other.save())[..] else { panic!("a save with curves") };
        other.apply(Report::Loaded { kind: LoadKind::File, settings: other.settings.clone(), steps: 7, source: "c.ganplay".into(), curves: Some(curves.clone()) }, None);
        assert!(other.messages.notice.as_deref().unwrap().ends_with("Press play to go on. Its curves begin at step 6."));
        // A file whose curves stop short of its step says so too.
        other.apply(Report::Loaded { kind: LoadKind::File, settings: other.settings.clone(), steps: 9, source: "e.ganplay".into(), curves: Some(curves.clone()) }, None);
        assert!(other.messages.notice.as_deref().unwrap().ends_with("Press play to go on. Its curves run from step 6 to step 7."));
        // While a file is on its way to the worker, a save is of that run: the curves on show are not its.
        other.load_file("d.ganplay".into(), vec![1]);
        assert!(matches!(sent(&other.save())[..], [Command::Save { curves: None }]));
        other.apply(Report::LoadRefused { kind: LoadKind::File, message: "d.ganplay was not loaded.".into(), details: None }, None);
        assert!(matches!(sent(&other.save())[..], [Command::Save { curves: Some(_) }]));
        // A worker that crashes with a load on its way never answers it: the new one ends the wait.
        other.load_file("f.ganplay".into(), vec![1]);
        other.apply(Report::Crashed("panicked at src/x.rs:1:1: boom".into()), None);
        other.apply(Report::Listening, None);
        assert!(!other.run.loading);
    }

    #[test]
    fn a_note_a_new_worker_sends_again_is_not_said_twice() {
        let mut page = ready_page("");
        let note = "Could not load assets/pretrained/generator.ganplay: 404. The latent explorer shows the run's own generator.";
        page.apply(Report::Notice(note.into()), None);
        assert_eq!(page.messages.notice.as_deref(), Some(note));
        page.close_notice();
        // A new worker (after a crash, say) fails to fetch it again.
        page.apply(Report::Notice(note.into()), None);
        assert_eq!(page.messages.notice, None);
        page.apply(Report::Notice("Something else.".into()), None);
        assert_eq!(page.messages.notice.as_deref(), Some("Something else."));
    }

    fn snapshot_at(steps: u64) -> Report {
        Report::Snapshot { steps, report: Some(report(steps)), thumbnail: "data:".into(), bytes: Vec::new() }
    }

    #[test]
    fn the_kept_run_brings_its_curves_to_the_next_visit() {
        let mut page = ready_page("");
        steps(&mut page, 1..=5);
        page.apply(Report::Quality { step: 4, quality: None, millis: 1.0 }, None);
        let effects = page.apply(Report::Snapshot { steps: 5, report: Some(report(5)), thumbnail: "data:".into(), bytes: Vec::new() }, Some(vec![5; 8]));
        let [Effect::Keep(KeptSlot::Run, kept)] = &effects[..] else { panic!("{effects:?}") };
        assert_eq!(kept.family, Some(crate::model::Family::Dcgan));
        let (charts, quality) = (page.charts.clone(), page.quality.history.clone());
        // The next visit: the offer, then going on from it.
        let mut next = ready_page("");
        next.kept_found(kept.clone());
        next.go_on_from_kept();
        // A snapshot the run here sends before the kept run is loaded does not replace it.
        steps(&mut next, 1..=2);
        assert!(next.apply(snapshot_at(2), Some(vec![2; 8])).is_empty());
        next.apply(Report::Loaded { kind: LoadKind::KeptRun, settings: next.settings.clone(), steps: 5, source: "the run kept".into(), curves: None }, None);
        assert_eq!((next.charts.clone(), next.quality.history.clone()), (charts, quality));
        // Its first snapshot is listed, but the browser keeps that run already: not written again.
        assert!(next.apply(snapshot_at(5), Some(vec![5; 8])).is_empty());
        assert_eq!(next.snapshots.iter().map(|s| s.steps).collect::<Vec<_>>(), [5]);
        steps(&mut next, 6..=6);
        assert!(matches!(next.apply(snapshot_at(6), Some(vec![6; 8]))[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 6, .. })]));
        // A file loaded later starts its own curves, and its snapshots are kept, however short.
        next.apply(Report::Loaded { kind: LoadKind::File, settings: next.settings.clone(), steps: 2, source: "a.ganplay".into(), curves: None }, None);
        assert_eq!(next.charts.points().len(), 0);
        steps(&mut next, 3..=3);
        assert!(matches!(next.apply(snapshot_at(3), Some(vec![3; 8]))[..], [Effect::Keep(..)]));
        // A worker that cannot take the load up: the kept run is offered again.
        let mut failed = ready_page("");
        failed.kept_found(kept.clone());
        failed.go_on_from_kept();
        assert!(failed.kept.is_none());
        let message = "the run kept in this browser (step 5) was not loaded: the networks are not built yet.";
        failed.apply(Report::LoadFailed { kind: LoadKind::KeptRun, message: message.into() }, None);
        assert_eq!(failed.kept.as_ref().map(|k| k.steps), Some(5));
        assert!(!failed.run.loading);
        assert_eq!(failed.messages.error.as_deref(), Some(message));
        // An error of another command while the kept run is on its way is not the load's
        // answer: the load still waits, and lands with the kept run's curves.
        let mut ran = ready_page("");
        steps(&mut ran, 1..=5);
        let mut raced = ready_page("");
        raced.kept_found(KeptRun { curves: Some(serde_json::to_string(&ran.curves()).unwrap()), ..kept.clone() });
        raced.go_on_from_kept();
        raced.apply(Report::Error("The snapshot could not be read back.".into()), None);
        assert!(raced.run.loading && raced.kept.is_none(), "still loading, and not offered again");
        raced.apply(Report::Loaded { kind: LoadKind::KeptRun, settings: raced.settings.clone(), steps: 5, source: "the run kept".into(), curves: None }, None);
        assert!(!raced.run.loading && raced.kept.is_none());
        assert_eq!(raced.run.step, 5);
        assert_eq!(raced.charts.points().len(), 5, "the kept run's curves came with it");
        // Curves that do not read (or a record of before they were kept) leave the charts empty.
        let mut old = ready_page("");
        old.kept_found(KeptRun { curves: Some("{".into()), ..kept.clone() });
        old.go_on_from_kept();
        old.apply(Report::Loaded { kind: LoadKind::KeptRun, settings: old.settings.clone(), steps: 5, source: "the run kept".into(), curves: None }, None);
        assert_eq!((old.run.step, old.charts.points().len()), (5, 0));
    }

    #[test]
    fn a_refused_load_leaves_the_run_untouched() {
        let mut page = ready_page("?seed=4");
        steps(&mut page, 1..=5);
        let (settings, charts, run) = (page.settings.clone(), page.charts.clone(), page.run.clone());
        let effects = page.apply(Report::LoadRefused { kind: LoadKind::File, message: "bad.ganplay was not loaded: damaged.".into(), details: None }, None);
        assert!(effects.is_empty());
        assert_eq!((page.settings.clone(), page.charts.clone(), page.run.clone()), (settings, charts, run));
        assert_eq!(page.messages.error.as_deref(), Some("bad.ganplay was not loaded: damaged. The current run goes on unchanged."));
        assert!(page.messages.error_about_file, "said beside the button too");
        // A file that loads next: the refusal no longer holds.
        let settings = page.settings.clone();
        page.apply(Report::Loaded { kind: LoadKind::File, settings, steps: 9, source: "good.ganplay".into(), curves: None }, None);
        assert_eq!(page.messages.error, None);
    }

    fn listed(page: &Page) -> Vec<u64> {
        page.snapshots.iter().map(|s| s.steps).collect()
    }

    #[test]
    fn snapshots_are_of_the_run_on_show_and_a_crash_goes_on_from_it() {
        let mut page = ready_page("");
        steps(&mut page, 1..=4);
        for step in [1, 2, 3, 4] {
            page.apply(snapshot_at(step), Some(vec![step as u8]));
        }
        // Back to step 2: the later ones stay listed until the run passes them again, when
        // they are of a branch left behind.
        page.go_back(2);
        page.apply(Report::Loaded { kind: LoadKind::Snapshot, settings: page.settings.clone(), steps: 2, source: "the snapshot at step 2".into(), curves: None }, None);
        assert_eq!(listed(&page), [1, 2, 3, 4]);
        // A crash meanwhile goes on from where the run went back to, not from the branch left.
        let mut crashed = page.clone();
        crashed.apply(Report::Crashed("boom".into()), None);
        assert!(crashed.messages.error.as_deref().unwrap().contains("goes on from the snapshot at step 2"), "{:?}", crashed.messages.error);
        steps(&mut page, 3..=3);
        page.apply(snapshot_at(3), Some(vec![30]));
        assert_eq!(listed(&page), [1, 2, 3]);
        assert_eq!(page.snapshots.last().unwrap().bytes, vec![30]);
        // Those between the step gone back to and the next snapshot go too.
        let mut again = page.clone();
        again.go_back(1);
        again.apply(Report::Loaded { kind: LoadKind::Snapshot, settings: again.settings.clone(), steps: 1, source: "the snapshot at step 1".into(), curves: None }, None);
        again.apply(snapshot_at(250), Some(vec![25]));
        assert_eq!(listed(&again), [1, 250]);

        // A file that loads replaces the run: its snapshots go, and its first is asked for.
        let effects = page.apply(Report::Loaded { kind: LoadKind::File, settings: page.settings.clone(), steps: 900, source: "a.ganplay".into(), curves: None }, None);
        assert!(sent(&effects).contains(&Command::Snapshot), "{effects:?}");
        assert!(listed(&page).is_empty());
        page.apply(snapshot_at(900), Some(vec![9]));
        // A crash now goes on from the file's run, not the one it replaced.
        page.apply(Report::Crashed("boom".into()), None);
        assert!(page.messages.error.as_deref().unwrap().contains("goes on from the snapshot at step 900"), "{:?}", page.messages.error);
        let effects = page.apply(Report::Listening, None);
        assert!(matches!(&effects[..], [Effect::Trainer(Command::Reset(_)), Effect::TrainerWith(Command::Load { .. }, bytes)] if bytes == &vec![9]));

        // A reset starts a new run: a crash before its first snapshot starts over.
        let mut page = ready_page("");
        steps(&mut page, 1..=3);
        page.apply(snapshot_at(3), Some(vec![3]));
        page.user_reset();
        assert!(listed(&page).is_empty());
        page.apply(Report::Crashed("boom".into()), None);
        assert!(page.messages.error.as_deref().unwrap().contains("starts over"), "{:?}", page.messages.error);
    }

    #[test]
    fn a_step_ends_a_paused_notice_and_a_rebuild_says_its_digits_are_on_the_way() {
        let mut page = ready_page("");
        page.apply(Report::Grid { width: 1, height: 1, weights: Weights::Pretrained { steps: 8000 }, pixels: Vec::new() }, Some(vec![0]));
        page.apply(Report::Loaded { kind: LoadKind::File, settings: page.settings.clone(), steps: 4, source: "a.ganplay".into(), curves: None }, None);
        assert!(page.messages.notice.as_deref().unwrap().contains("paused"));
        page.single_step();
        assert_eq!(page.messages.notice, None);
        assert!(page.run.showing.is_some());
        page.change(Key::Model, "cgan");
        assert_eq!(page.run.showing, None, "the grid on screen is of the model replaced");
    }

    #[test]
    fn a_load_answered_before_a_reset_is_of_no_run_on_show() {
        let mut page = ready_page("");
        page.kept_found(KeptRun { steps: 5, what: "tiny".into(), family: None, pair: None, bytes: vec![5], curves: None });
        page.go_on_from_kept();
        page.user_reset();
        let effects = page.apply(Report::Loaded { kind: LoadKind::KeptRun, settings: page.settings.clone(), steps: 5, source: "the run kept".into(), curves: None }, None);
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!((page.run.step, page.kept.as_ref().map(|k| k.steps)), (0, Some(5)), "the kept run is offered again");
    }

    #[test]
    fn a_run_that_cannot_be_brought_back_starts_over_and_says_so() {
        let mut page = ready_page("");
        steps(&mut page, 1..=6);
        page.apply(snapshot_at(5), Some(vec![5]));
        page.apply(Report::Crashed("boom".into()), None);
        page.apply(Report::Listening, None);
        // The new worker builds fresh networks, then refuses the run.
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        let message = "The snapshot at step 5 was not loaded: damaged.";
        page.apply(Report::LoadRefused { kind: LoadKind::Snapshot, message: message.into(), details: None }, None);
        assert_eq!(page.messages.error.as_deref(), Some(format!("{message} The run could not be brought back: training starts over from step 0.").as_str()));
        assert_eq!((page.run.step, page.charts.points().len()), (0, 0));
        assert!(listed(&page).is_empty());
        // Going back to a snapshot of the run under way, refused, leaves it as it was.
        steps(&mut page, 1..=4);
        page.apply(snapshot_at(4), Some(vec![4]));
        page.go_back(4);
        page.apply(Report::LoadRefused { kind: LoadKind::Snapshot, message: message.into(), details: None }, None);
        assert_eq!((page.run.step, listed(&page)), (4, vec![4]));
        assert!(page.messages.error.as_deref().unwrap().ends_with("The current run goes on unchanged."));
        // A new worker that could not take the restore up at all: the old run is not shown
        // as if it went on.
        page.apply(snapshot_at(4), Some(vec![4]));
        page.apply(Report::Crashed("boom".into()), None);
        page.apply(Report::Listening, None);
        let failed = "The snapshot at step 4 was not loaded: the networks are not built yet.";
        page.apply(Report::LoadFailed { kind: LoadKind::Snapshot, message: failed.into() }, None);
        assert_eq!(page.messages.error.as_deref(), Some(format!("{failed} The run could not be brought back.").as_str()));
        assert_eq!((page.run.step, page.charts.points().len(), page.run.loading, page.links.restoring.is_some()), (0, 0, false, false));
        assert!(listed(&page).is_empty());
        assert_eq!(page.run.showing, None, "the grid on screen is of the run not brought back");
    }

    #[test]
    fn a_refused_value_is_said_until_a_value_is_taken() {
        let mut page = ready_page("");
        page.change(Key::Augment, "9");
        assert_eq!(page.messages.notice.as_deref(), Some("Not changed: Shift D's digits (pixels): whole numbers 0 to 4, not “9”."));
        page.change(Key::Augment, "2");
        assert_eq!(page.messages.notice, None);
        assert_eq!(page.settings.train.augment, 2);
        // Another setting's change: the user has moved on.
        page.change(Key::Augment, "9");
        page.change(Key::LrD, "0.001");
        assert_eq!(page.messages.notice, None);
        // Or until training goes on.
        page.change(Key::Augment, "9");
        page.apply(Report::Running(true), None);
        assert_eq!(page.messages.notice, None);
    }

    #[test]
    fn a_refused_file_before_any_training_promises_no_run_and_goes_once_the_user_changes_a_setting() {
        let mut page = ready_page("");
        let message = "cgan.ganplay was not loaded: it holds a conditional DCGAN; choose that model first.";
        page.apply(Report::LoadRefused { kind: LoadKind::File, message: message.into(), details: None }, None);
        assert_eq!(page.messages.error.as_deref(), Some(message), "no run has started to go on");
        page.change(Key::Model, "cgan");
        assert_eq!((page.messages.error.clone(), page.messages.error_about_file), (None, false));
        // Once a run has started, the refusal says it goes on.
        let settings = page.settings.clone();
        page.apply(Report::Ready { settings }, None);
        steps(&mut page, 1..=2);
        page.apply(Report::LoadRefused { kind: LoadKind::File, message: "bad.ganplay was not loaded: damaged.".into(), details: None }, None);
        assert_eq!(page.messages.error.as_deref(), Some("bad.ganplay was not loaded: damaged. The current run goes on unchanged."));
    }

    /// A DCGAN with a VAE compared beside it, as the page builds them for `?compare=vae`, both
    /// ready with tiny networks; the VAE has followed the DCGAN once.
    fn compared_pair() -> (Page, Page) {
        compared_pair_marked(22)
    }

    /// `compared_pair`, the page marking its kept runs with `pair`.
    fn compared_pair_marked(pair: u64) -> (Page, Page) {
        let (setup, ignored) = PageSetup::from_query("?model=dcgan&compare=vae");
        let mut lead = Page::new(setup.clone(), &ignored).with_kept_pair(pair);
        let mut vae = Page::compared(&setup, crate::model::Family::Vae);
        for page in [&mut lead, &mut vae] {
            page.apply(Report::Listening, None);
            let mut settings = page.settings.clone();
            settings.model = Preset::Tiny.model().with_family(settings.model.family);
            page.apply(Report::Ready { settings }, None);
        }
        vae.follow(&lead.lead());
        (lead, vae)
    }

    #[test]
    fn a_compared_run_is_kept_beside_the_first_and_goes_on_when_it_does() {
        let (mut lead, mut vae) = compared_pair_marked(11);
        steps(&mut lead, 1..=4);
        steps(&mut vae, 1..=3);
        let effects = lead.apply(snapshot_at(4), Some(vec![4; 8]));
        let [Effect::Keep(KeptSlot::Run, first)] = &effects[..] else { panic!("the first run, and nothing forgotten: {effects:?}") };
        let effects = vae.apply(snapshot_at(3), Some(vec![3; 8]));
        let [Effect::Keep(KeptSlot::Compared, beside)] = &effects[..] else { panic!("{effects:?}") };
        assert_eq!((first.family, beside.family), (Some(crate::model::Family::Dcgan), Some(crate::model::Family::Vae)));
        assert_eq!((first.pair, beside.pair), (Some(11), Some(11)));
        assert!(first.kept_beside(beside));
        // A run kept alone, or by another visit, is not the compared run's.
        let alone = KeptRun { pair: Some(12), ..first.clone() };
        assert!(!alone.kept_beside(beside));
        assert!(!KeptRun { pair: None, ..first.clone() }.kept_beside(&KeptRun { pair: None, ..beside.clone() }));

        // The next visit finds both; the compared run goes on from its own once the first run's
        // is loaded (after any settings that brought, which it follows first).
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(first.clone());
        vae.kept_found(beside.clone());
        let effects = lead.go_on_from_kept();
        assert!(matches!(sent(&effects)[..], [Command::Load { kind: LoadKind::KeptRun, .. }]));
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "not before the first run's is loaded");
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings: lead.settings.clone(), steps: 4, source: "the run kept".into(), curves: None }, None);
        let effects = vae.follow(&lead.lead());
        let [Effect::TrainerWith(Command::Load { kind: LoadKind::KeptRun, source, .. }, bytes)] = &effects[..] else { panic!("{effects:?}") };
        assert_eq!((source.as_str(), &bytes[..]), ("the run kept in this browser (step 3)", &[3u8; 8][..]));
        vae.apply(Report::Loaded { kind: LoadKind::KeptRun, settings: vae.settings.clone(), steps: 3, source: source.clone(), curves: None }, None);
        assert_eq!(vae.run.step, 3);
        // The source names the step, which the notice does not say again.
        assert!(vae.messages.notice.as_deref().unwrap().starts_with("Loaded the run kept in this browser (step 3), paused. Press play to go on."));
        // Its first snapshot is the run kept already; the next replaces it, in its own place.
        assert!(vae.apply(snapshot_at(3), Some(vec![3; 8])).is_empty());
        // Both go on marking their kept runs as the pair they went on from.
        assert!(matches!(vae.apply(snapshot_at(5), Some(vec![5; 8]))[..], [Effect::Keep(KeptSlot::Compared, KeptRun { steps: 5, pair: Some(11), .. })]));
        steps(&mut lead, 5..=6);
        assert!(matches!(lead.apply(snapshot_at(6), Some(vec![6; 8]))[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 6, pair: Some(11), .. })]));
    }

    #[test]
    fn an_offer_that_ends_without_going_on_lets_the_compared_runs_kept_run_go() {
        let kept = |steps, family| KeptRun { steps, what: "tiny".into(), family: Some(family), pair: Some(1), bytes: vec![1], curves: None };
        // The new run's snapshot passes the kept run: the compared run, far short of its own
        // kept run, has its snapshots kept from then on (marked as this visit's).
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(kept(4, crate::model::Family::Dcgan));
        vae.kept_found(kept(300, crate::model::Family::Vae));
        vae.follow(&lead.lead());
        steps(&mut vae, 1..=2);
        assert!(vae.apply(snapshot_at(2), Some(vec![2; 8])).is_empty(), "short of the kept run on offer");
        steps(&mut lead, 1..=5);
        assert!(matches!(lead.apply(snapshot_at(5), Some(vec![5; 8]))[..], [Effect::Keep(KeptSlot::Run, KeptRun { pair: Some(22), .. })]));
        vae.follow(&lead.lead());
        assert!(vae.kept.is_none());
        steps(&mut vae, 3..=3);
        assert!(matches!(vae.apply(snapshot_at(3), Some(vec![3; 8]))[..], [Effect::Keep(KeptSlot::Compared, KeptRun { pair: Some(22), .. })]));
        // Reset after the first run went on, before the compared run could: it does not go on.
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(kept(4, crate::model::Family::Dcgan));
        vae.kept_found(kept(3, crate::model::Family::Vae));
        vae.reset();
        lead.go_on_from_kept();
        let settings = lead.settings.clone();
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 4, source: "the run kept".into(), curves: None }, None);
        vae.follow(&lead.lead());
        lead.user_reset();
        vae.follow(&lead.lead());
        let settings = vae.settings.clone();
        let effects = sent(&vae.apply(Report::Ready { settings }, None));
        assert!(!effects.iter().any(|c| matches!(c, Command::Load { .. })), "{effects:?}");
        // Its kept run stays on offer beside the run the reset replaced there (of the same
        // comparison), which the worker is about to send.
        assert!(lead.lead().kept.replacing);
        assert_eq!(vae.kept.as_ref().map(|k| k.steps), Some(3));
        // Reset while its load is on its way: the answer, after the reset, offers nothing again.
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(kept(4, crate::model::Family::Dcgan));
        vae.kept_found(kept(3, crate::model::Family::Vae));
        lead.go_on_from_kept();
        let settings = lead.settings.clone();
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 4, source: "the run kept".into(), curves: None }, None);
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Load { .. }]));
        lead.user_reset();
        vae.follow(&lead.lead());
        let settings = vae.settings.clone();
        vae.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 3, source: "the run kept".into(), curves: None }, None);
        assert!(vae.kept.is_none());
        assert!(matches!(vae.apply(Report::Crashed("boom".into()), None)[..], [Effect::StartTrainer]));
        vae.apply(Report::Listening, None);
        let settings = vae.settings.clone();
        assert!(!sent(&vae.apply(Report::Ready { settings }, None)).iter().any(|c| matches!(c, Command::Load { .. })));
    }

    #[test]
    fn a_compared_run_whose_worker_crashed_while_loading_its_kept_run_goes_on_from_it_in_the_next() {
        let (mut lead, mut vae) = compared_pair_kept(4, 3);
        lead.go_on_from_kept();
        let settings = lead.settings.clone();
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 4, source: "the run kept".into(), curves: None }, None);
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Load { kind: LoadKind::KeptRun, .. }]));
        assert!(matches!(vae.apply(Report::Crashed("boom".into()), None)[..], [Effect::StartTrainer]));
        vae.follow(&lead.lead());
        assert!(vae.kept.is_some(), "still owed");
        vae.apply(Report::Listening, None);
        let settings = vae.settings.clone();
        let effects = sent(&vae.apply(Report::Ready { settings }, None));
        assert!(effects.iter().any(|c| matches!(c, Command::Load { kind: LoadKind::KeptRun, .. })), "{effects:?}");
    }

    #[test]
    fn a_compared_run_kept_with_another_model_or_forgotten_is_not_gone_on_from() {
        let kept = |steps, family| KeptRun { steps, what: "tiny".into(), family: Some(family), pair: Some(1), bytes: vec![1], curves: None };
        let loaded = |page: &mut Page| {
            let settings = page.settings.clone();
            page.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 4, source: "the run kept".into(), curves: None }, None)
        };
        // Kept beside another model (an older comparison): this run trains on as it is.
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(kept(4, crate::model::Family::Dcgan));
        vae.kept_found(kept(3, crate::model::Family::Cgan));
        lead.go_on_from_kept();
        loaded(&mut lead);
        let effects = vae.follow(&lead.lead());
        assert!(matches!(effects[..], [Effect::ForgetKept(KeptSlot::Compared)]), "not loaded, and not kept as the pair: {effects:?}");
        // Forgotten with the first run's: both places are cleared, and the compared run lets
        // go of its own (its snapshots are kept from then on, however short).
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(kept(4, crate::model::Family::Dcgan));
        vae.kept_found(kept(300, crate::model::Family::Vae));
        let effects = lead.forget_kept();
        assert!(matches!(effects[..], [Effect::ForgetKept(KeptSlot::Run), Effect::ForgetKept(KeptSlot::Compared)]), "{effects:?}");
        vae.follow(&lead.lead());
        assert!(vae.kept.is_none());
        steps(&mut vae, 1..=2);
        assert!(matches!(vae.apply(snapshot_at(2), Some(vec![2; 8]))[..], [Effect::Keep(KeptSlot::Compared, _)]));
    }

    #[test]
    fn a_first_run_kept_as_the_compared_model_trades_and_the_compared_run_goes_on_as_the_other() {
        use crate::model::Family::{Dcgan, Vae};
        // Kept when the first run was the VAE and the DCGAN beside it; opened as `?compare=vae`.
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(KeptRun { steps: 4, what: "tiny VAE".into(), family: Some(Vae), pair: Some(1), bytes: vec![4], curves: None });
        vae.kept_found(KeptRun { steps: 3, what: "tiny DCGAN".into(), family: Some(Dcgan), pair: Some(1), bytes: vec![3], curves: None });
        assert_eq!(model_beside(Dcgan, Vae, Vae), Dcgan, "what the offer says it goes on as");
        assert_eq!(model_beside(Dcgan, Vae, Dcgan), Vae);
        lead.go_on_from_kept();
        let mut settings = lead.settings.clone();
        settings.model.family = Vae;
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 4, source: "the run kept".into(), curves: None }, None);
        let effects = sent(&vae.follow(&lead.lead()));
        assert!(matches!(&effects[..], [Command::Reset(s)] if s.model.family == Dcgan), "traded: {effects:?}");
        // The networks asked for before the trade (a VAE's) come first: not those to load into.
        let mut stale = vae.settings.clone();
        stale.model.family = Vae;
        let mut settings = vae.settings.clone();
        assert!(sent(&vae.apply(Report::Ready { settings: stale }, None)).iter().all(|c| !matches!(c, Command::Load { .. })));
        settings.model.family = Dcgan;
        let effects = sent(&vae.apply(Report::Ready { settings }, None));
        assert!(effects.iter().any(|c| matches!(c, Command::Load { kind: LoadKind::KeptRun, .. })), "{effects:?}");
    }

    /// A DCGAN and a VAE compared beside it, each told of the run it kept (at steps `dcgan` and
    /// `vae`, in one pair; their bytes [4] and [3]).
    fn compared_pair_kept(dcgan: u64, vae_steps: u64) -> (Page, Page) {
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(KeptRun { steps: dcgan, what: "tiny".into(), family: Some(crate::model::Family::Dcgan), pair: Some(1), bytes: vec![4], curves: None });
        vae.kept_found(KeptRun { steps: vae_steps, what: "tiny".into(), family: Some(crate::model::Family::Vae), pair: Some(1), bytes: vec![3], curves: None });
        (lead, vae)
    }

    /// The same kept at steps 130 and 183, the first run's load sent: "Go on from them" just
    /// pressed.
    fn compared_pair_going_on() -> (Page, Page) {
        let (mut lead, mut vae) = compared_pair_kept(130, 183);
        vae.follow(&lead.lead());
        lead.go_on_from_kept();
        (lead, vae)
    }

    #[test]
    fn a_step_pressed_while_the_kept_runs_load_is_taken_by_both_after_going_on() {
        let (mut lead, mut vae) = compared_pair_going_on();
        assert!(matches!(sent(&lead.single_step())[..], [Command::Step]), "the worker steps after its load");
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "not a step of the run it is about to leave");
        let settings = lead.settings.clone();
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 130, source: "the run kept".into(), curves: None }, None);
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Load { kind: LoadKind::KeptRun, .. }]));
        let settings = vae.settings.clone();
        let effects = sent(&vae.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 183, source: "the run kept".into(), curves: None }, None));
        assert!(matches!(effects[..], [Command::Snapshot, Command::Step]), "{effects:?}");
        // The load's "press play" notice, which came after the step was pressed, goes with it.
        assert!(lead.messages.notice.as_deref().unwrap().starts_with("Loaded the run kept"));
        lead.apply(Report::Steps { reports: vec![report(131)], steps_per_second: 5.0 }, None);
        assert_eq!(lead.messages.notice, None);
    }

    #[test]
    fn a_step_pressed_while_the_kept_runs_load_survives_the_rebuild_their_settings_bring() {
        let (mut lead, mut vae) = compared_pair_going_on();
        lead.single_step();
        vae.follow(&lead.lead());
        // The kept run had another seed: the compared run is rebuilt with it, then goes on.
        let mut settings = lead.settings.clone();
        settings.train.seed = 7;
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 130, source: "the run kept".into(), curves: None }, None);
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Reset(_)]));
        let settings = vae.settings.clone();
        assert!(matches!(sent(&vae.apply(Report::Ready { settings }, None))[..], [Command::Load { kind: LoadKind::KeptRun, .. }]));
        let settings = vae.settings.clone();
        let effects = sent(&vae.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 183, source: "the run kept".into(), curves: None }, None));
        assert!(matches!(effects[..], [Command::Snapshot, Command::Step]), "{effects:?}");
    }

    #[test]
    fn a_compared_run_still_building_goes_on_from_its_kept_run_once_ready() {
        let (mut lead, mut vae) = compared_pair_kept(4, 3);
        vae.reset();
        lead.go_on_from_kept();
        let settings = lead.settings.clone();
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 4, source: "the run kept".into(), curves: None }, None);
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "no networks to load into yet");
        // Meanwhile the first run trains: the load (which pauses a worker) comes before the play.
        lead.apply(Report::Running(true), None);
        vae.follow(&lead.lead());
        let settings = vae.settings.clone();
        let effects = sent(&vae.apply(Report::Ready { settings }, None));
        let load = effects.iter().position(|c| matches!(c, Command::Load { kind: LoadKind::KeptRun, .. }));
        let play = effects.iter().position(|c| matches!(c, Command::Play));
        assert!(matches!((load, play), (Some(l), Some(p)) if l < p), "{effects:?}");
    }

    #[test]
    fn a_refused_kept_run_is_forgotten() {
        let mut page = ready_page("");
        page.kept_found(KeptRun { steps: 3, what: "tiny".into(), family: None, pair: None, bytes: vec![1], curves: None });
        let effects = page.go_on_from_kept();
        assert!(matches!(sent(&effects)[..], [Command::Load { kind: LoadKind::KeptRun, .. }]));
        let effects = page.apply(Report::LoadRefused { kind: LoadKind::KeptRun, message: "It is damaged.".into(), details: Some("crc".into()) }, None);
        assert!(matches!(effects[..], [Effect::ForgetKept(KeptSlot::Run)]));
        assert!(page.messages.error.as_deref().unwrap().ends_with("This browser no longer keeps it."));
        assert_eq!(page.messages.details.as_deref(), Some("crc"));
        // Refused, it holds back no snapshot of the run here.
        steps(&mut page, 1..=1);
        assert!(matches!(page.apply(snapshot_at(1), Some(vec![1; 8]))[..], [Effect::Keep(..)]));
    }

    #[test]
    fn the_table_decides_what_a_change_takes() {
        let mut page = ready_page("?backend=cpu&preset=tiny");
        steps(&mut page, 1..=2);
        assert!(matches!(&sent(&page.change(Key::LrD, "0.0003"))[..], [Command::Tune(s)] if s.train.lr_d == 0.0003));
        assert_eq!(page.run.step, 2, "a tune keeps the run");
        // (The run it replaces is offered: a snapshot of it first.)
        assert!(matches!(sent(&page.change(Key::Seed, "3"))[..], [Command::Snapshot, Command::Reset(_)]));
        assert_eq!((page.run.step, page.run.ready), (0, false));
        assert!(page.messages.notice.as_deref().unwrap().contains("training starts over"));
        assert!(sent(&page.change(Key::Seed, "3")).is_empty(), "no change, nothing sent");
        // Out of range: nothing changes, and the note says why.
        let before = page.settings.clone();
        assert!(page.change(Key::Beta1, "7.5").is_empty());
        assert_eq!(page.settings, before);
        assert!(page.messages.notice.as_deref().unwrap().contains("Adam beta1: 0 to 0.999, not “7.5”"));
        // Text the browser could not read as a number is said as such, not as an empty field.
        assert!(page.change_unreadable(Key::Seed).is_empty());
        assert_eq!(page.settings, before);
        assert_eq!(page.messages.notice_refused, Some(Key::Seed));
        assert!(page.messages.notice.as_deref().unwrap().contains("what was typed in the Seed field is not a number"));
        page.change(Key::Preset, "small");
        assert_eq!(page.settings.model, Preset::Small.model());
        assert_eq!(page.messages.notice.as_deref(), Some("New small networks built: training starts over."));
    }

    #[test]
    fn a_new_backend_takes_the_run_along() {
        let mut page = ready_page("?backend=cpu");
        steps(&mut page, 1..=4);
        assert!(matches!(sent(&page.change(Key::Backend, "webgpu"))[..], [Command::HandOver]));
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4; 4]));
        let effects = page.apply(Report::HandedOver { steps: 4 }, None);
        assert!(matches!(effects[..], [Effect::StartTrainer]));
        assert!(page.messages.notice.as_deref().unwrap().contains("Moving the run at step 4"));
        assert!(!page.run.ready);
        // Another change while the run is on its way: the run goes to the newer worker.
        assert!(matches!(page.change(Key::Backend, "auto")[..], [Effect::StartTrainer]));
        assert!(matches!(page.change(Key::Backend, "webgpu")[..], [Effect::StartTrainer]));
        let effects = page.apply(Report::Listening, None);
        assert!(matches!(&sent(&effects)[..], [Command::Reset(s), Command::Load { kind: LoadKind::Snapshot, .. }] if s.backend == BackendRequest::WebGpu));
        assert_eq!(page.charts.points().len(), 4, "the curves stay until the run is loaded");
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert_eq!(page.messages.notice, None, "the move is over");
        // The load is the move's, and says where the run went (not a snapshot gone back to).
        page.apply(Report::Backend { name: "WebGPU: an adapter".into(), reason: String::new(), on_gpu: true, software: false }, None);
        let settings = page.settings.clone();
        page.apply(Report::Loaded { kind: LoadKind::Snapshot, settings, steps: 4, source: "the snapshot at step 4".into(), curves: None }, None);
        assert_eq!(page.messages.notice.as_deref(), Some("Moved the run to your graphics card (WebGPU) at step 4, paused. Press play to go on."));
        // A snapshot gone back to later is one.
        page.apply(Report::Snapshot { steps: 5, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![5; 4]));
        page.go_back(4);
        let settings = page.settings.clone();
        page.apply(Report::Loaded { kind: LoadKind::Snapshot, settings, steps: 4, source: "the snapshot at step 4".into(), curves: None }, None);
        assert_eq!(page.messages.notice.as_deref(), Some("Loaded the snapshot at step 4, paused. Press play to go on."));
    }

    #[test]
    fn a_reset_during_a_moves_load_ends_the_move() {
        let mut page = ready_page("?backend=cpu");
        steps(&mut page, 1..=4);
        page.change(Key::Backend, "webgpu");
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4; 4]));
        page.apply(Report::HandedOver { steps: 4 }, None);
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        page.user_reset();
        // The move's load, answered after the reset, is not taken; the reset's networks come.
        page.apply(Report::Loaded { kind: LoadKind::Snapshot, settings: page.settings.clone(), steps: 4, source: "the snapshot at step 4".into(), curves: None }, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        steps(&mut page, 1..=2);
        page.apply(Report::Snapshot { steps: 1, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![1; 4]));
        page.apply(Report::Snapshot { steps: 2, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![2; 4]));
        assert!(!sent(&page.go_back(1)).is_empty());
        let effects = page.apply(Report::Loaded { kind: LoadKind::Snapshot, settings: page.settings.clone(), steps: 1, source: "the snapshot at step 1".into(), curves: None }, None);
        assert_eq!(page.messages.notice.as_deref(), Some("Loaded the snapshot at step 1, paused. Press play to go on."));
        assert!(!sent(&effects).contains(&Command::Play), "nor does it play as a move would");
    }

    #[test]
    fn a_second_change_of_backend_during_a_hand_over_waits_for_it() {
        let mut page = ready_page("?backend=cpu");
        steps(&mut page, 1..=4);
        assert!(matches!(sent(&page.change(Key::Backend, "webgpu"))[..], [Command::HandOver]));
        assert!(page.change(Key::Backend, "auto").is_empty());
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4]));
        assert!(matches!(page.apply(Report::HandedOver { steps: 4 }, None)[..], [Effect::StartTrainer]));
        let effects = page.apply(Report::Listening, None);
        assert!(matches!(&sent(&effects)[..], [Command::Reset(s), Command::Load { .. }] if s.backend == BackendRequest::Auto));
    }

    #[test]
    fn a_lost_gpu_moves_to_the_cpu_from_the_last_snapshot_and_gives_up_after_three() {
        let mut page = ready_page("?backend=webgpu");
        page.apply(Report::Backend { name: "WebGPU".into(), reason: String::new(), on_gpu: true, software: false }, None);
        steps(&mut page, 1..=2);
        page.apply(Report::Snapshot { steps: 2, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![2]));
        let effects = page.apply(Report::DeviceLost("destroyed".into()), None);
        assert!(matches!(effects[..], [Effect::StartTrainer]));
        assert_eq!(page.settings.backend, BackendRequest::Cpu);
        assert!(page.messages.error.as_deref().unwrap().contains("moved to the CPU and goes on from the snapshot at step 2"));
        assert!(matches!(sent(&page.apply(Report::Listening, None))[..], [Command::Reset(_), Command::Load { .. }]));
        for _ in 0..2 {
            assert!(matches!(page.apply(Report::Crashed("boom".into()), None)[..], [Effect::StartTrainer]));
        }
        assert!(page.apply(Report::Crashed("boom".into()), None).is_empty());
        assert!(page.messages.error.as_deref().unwrap().contains("failed 3 times"));
    }

    #[test]
    fn a_fault_from_the_address_is_injected_once() {
        let mut page = ready_page("?fault=nan");
        assert!(matches!(sent(&steps(&mut page, 1..=3))[..], [Command::InjectFault(Fault::Nan)]));
        assert!(sent(&steps(&mut page, 4..=4)).is_empty());
        // A collapse waits for a run that draws digits.
        let mut page = ready_page("?fault=collapse");
        assert!(sent(&steps(&mut page, 1..=3)).is_empty());
        assert!(sent(&page.apply(Report::Quality { step: 3, quality: Some(quality(2)), millis: 1.0 }, None)).is_empty());
        let effects = page.apply(Report::Quality { step: 9, quality: Some(quality(8)), millis: 1.0 }, None);
        assert!(matches!(sent(&effects)[..], [Command::InjectFault(Fault::Collapse)]));
        assert!(sent(&page.apply(Report::Quality { step: 12, quality: Some(quality(8)), millis: 1.0 }, None)).is_empty());
        // A refused kernel comes before the first step, whose convolution trial it is for.
        let mut refused = self::page("?fault=kernel-refused");
        refused.apply(Report::Listening, None);
        let settings = refused.settings.clone();
        let effects = sent(&refused.apply(Report::Ready { settings: settings.clone() }, None));
        assert!(matches!(effects[..], [Command::InjectFault(Fault::KernelRefused), ..]), "{effects:?}");
        assert!(!sent(&refused.apply(Report::Ready { settings }, None)).iter().any(|c| matches!(c, Command::InjectFault(_))));
        assert!(sent(&steps(&mut refused, 1..=3)).is_empty());
    }

    /// A ready DCGAN, and a VAE compared beside it, ready with the DCGAN's settings.
    fn dcgan_and_compared_vae() -> (Page, Page) {
        let lead = ready_page("?model=dcgan");
        let mut vae = page("?model=vae");
        vae.apply(Report::Listening, None);
        let mut settings = lead.settings.clone();
        settings.model.family = crate::model::Family::Vae;
        vae.apply(Report::Ready { settings }, None);
        (lead, vae)
    }

    #[test]
    fn a_compared_run_rebuilt_for_a_file_the_first_run_loaded_says_what_changed() {
        let (mut lead, mut vae) = dcgan_and_compared_vae();
        vae.follow(&lead.lead());
        steps(&mut vae, 1..=90);
        let mut settings = lead.settings.clone();
        settings.train.seed = 7;
        lead.apply(Report::Loaded { kind: LoadKind::File, settings, steps: 300, source: "a.ganplay".into(), curves: None }, None);
        let effects = sent(&vae.follow(&lead.lead()));
        assert!(matches!(&effects[..], [Command::Reset(s)] if s.train.seed == 7 && s.model.family == crate::model::Family::Vae), "{effects:?}");
        assert_eq!(vae.messages.notice.as_deref(), Some("The DCGAN run now has Seed 7: this run starts over with the same."));
        assert_eq!(vae.run.step, 0);
    }

    #[test]
    fn a_compared_run_follows_settings_z_and_the_buttons_but_keeps_its_model() {
        let (mut lead, mut vae) = dcgan_and_compared_vae();
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "nothing to follow yet");
        // Sizes left to the hardware, picked by the lead's worker first: not a change to follow.
        let mut follower = page("?model=vae");
        follower.apply(Report::Listening, None);
        let mut auto = page("");
        auto.apply(Report::Listening, None);
        auto.apply(Report::Ready { settings: Settings { model: Preset::Tiny.model(), ..auto.settings.clone() } }, None);
        assert!(auto.settings.auto_size);
        assert!(sent(&follower.follow(&auto.lead())).is_empty(), "no rebuild for sizes each worker picks");
        assert_eq!(follower.messages.notice, None);

        // A setting that applies at once, a new z, play: the follower does the same.
        lead.change(Key::LrG, "0.001");
        lead.random_z();
        lead.apply(Report::Running(true), None);
        let effects = sent(&vae.follow(&lead.lead()));
        // (The new z's sample waits for the one in flight since Ready.)
        assert!(matches!(&effects[..], [Command::Tune(t), Command::Play] if t.train.lr_g == 0.001), "{effects:?}");
        assert_eq!(vae.settings.model.family, crate::model::Family::Vae, "its own model");
        assert_eq!(vae.latent.current(), lead.latent.current());
        vae.apply(Report::Running(true), None);
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "nothing new: nothing sent");

        // Pause, then reset.
        lead.apply(Report::Running(false), None);
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Pause]));
        vae.apply(Report::Running(false), None);
        lead.user_reset();
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Reset(ref s)] if s.model.family == crate::model::Family::Vae));

        // The follower's own stop (a divergence) while the lead trains: left as it is.
        let settings = vae.settings.clone();
        vae.apply(Report::Ready { settings }, None);
        lead.apply(Report::Ready { settings: lead.settings.clone() }, None);
        lead.apply(Report::Running(true), None);
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Play]));
        assert!(sent(&vae.apply(Report::Running(true), None)).is_empty());
        assert!(sent(&vae.apply(Report::Running(false), None)).is_empty(), "no restart after a stop of its own");
        vae.apply(Report::Diverged { step: 9, restored_step: 8 }, None);
        lead.apply(Report::Running(false), None);
        vae.follow(&lead.lead());

        // A play that comes while the follower is still pausing: it catches up when it stops.
        let settings = vae.settings.clone();
        vae.apply(Report::Ready { settings }, None);
        lead.apply(Report::Ready { settings: lead.settings.clone() }, None);
        vae.apply(Report::Running(true), None);
        vae.run.pausing = true;
        lead.apply(Report::Running(true), None);
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "still running: nothing to send yet");
        assert!(matches!(sent(&vae.apply(Report::Running(false), None))[..], [Command::Play]));
    }

    #[test]
    fn steps_taken_before_a_compared_run_is_ready_are_taken_once_it_is() {
        let mut lead = ready_page("?model=dcgan");
        let mut vae = page("?model=vae");
        vae.apply(Report::Listening, None);
        assert!(sent(&vae.follow(&lead.lead())).is_empty());
        lead.single_step();
        lead.single_step();
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "no networks to step yet");
        let mut settings = lead.settings.clone();
        settings.model.family = crate::model::Family::Vae;
        let effects = sent(&vae.apply(Report::Ready { settings: settings.clone() }, None));
        assert_eq!(effects.iter().filter(|c| matches!(c, Command::Step)).count(), 2, "{effects:?}");
        // Once taken, not again; and a reset forgets steps owed to the networks it replaces.
        assert!(!sent(&vae.apply(Report::Ready { settings: settings.clone() }, None)).contains(&Command::Step));
        vae.reset();
        lead.single_step();
        vae.follow(&lead.lead());
        lead.user_reset();
        vae.follow(&lead.lead());
        assert!(!sent(&vae.apply(Report::Ready { settings }, None)).contains(&Command::Step));
        // A step the lead took while this run was still stopping is taken once it has stopped.
        vae.apply(Report::Running(true), None);
        lead.apply(Report::Ready { settings: lead.settings.clone() }, None);
        lead.single_step();
        assert!(sent(&vae.follow(&lead.lead())).is_empty(), "still running");
        assert_eq!(sent(&vae.apply(Report::Running(false), None)), vec![Command::Step]);
        // Reset while training: a step the lead takes before this run's new networks are built
        // waits for them, not for the stop its worker reports on its way to the reset.
        vae.apply(Report::Running(true), None);
        lead.user_reset();
        vae.follow(&lead.lead());
        lead.apply(Report::Running(false), None);
        lead.apply(Report::Ready { settings: lead.settings.clone() }, None);
        lead.single_step();
        vae.follow(&lead.lead());
        assert!(!sent(&vae.apply(Report::Running(false), None)).contains(&Command::Step));
        let settings = vae.settings.clone();
        assert_eq!(sent(&vae.apply(Report::Ready { settings }, None)).iter().filter(|c| **c == Command::Step).count(), 1);
    }

    #[test]
    fn a_first_run_that_becomes_the_compared_model_trades_models_with_it() {
        let mut lead = ready_page("?model=dcgan");
        let mut vae = page("?model=vae");
        vae.apply(Report::Listening, None);
        vae.follow(&lead.lead());
        // A VAE kept in the browser, gone on from: the first run is a VAE now.
        let mut kept = lead.settings.clone();
        kept.model.family = crate::model::Family::Vae;
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings: kept, steps: 300, source: "the run kept".into(), curves: None }, None);
        let effects = sent(&vae.follow(&lead.lead()));
        assert_eq!(vae.settings.model.family, crate::model::Family::Dcgan, "the model the first run was");
        assert!(matches!(&effects[..], [Command::Reset(s)] if s.model.family == crate::model::Family::Dcgan), "{effects:?}");
        assert!(vae.messages.notice.as_deref().is_some_and(|n| n.contains("now a DCGAN")), "{:?}", vae.messages.notice);
        // Other changes keep it a DCGAN.
        lead.change(Key::LrG, "0.001");
        vae.follow(&lead.lead());
        assert_eq!(vae.settings.model.family, crate::model::Family::Dcgan);
    }

    #[test]
    fn a_compared_run_back_at_its_own_snapshot_keeps_the_first_runs_rates() {
        let (mut lead, mut vae) = dcgan_and_compared_vae();
        vae.follow(&lead.lead());
        let then = vae.settings.clone();
        lead.change(Key::LrG, "0.001");
        vae.follow(&lead.lead());
        // The snapshot was taken with the rate before the change.
        vae.apply(snapshot_at(250), Some(vec![2]));
        let loaded = Report::Loaded { kind: LoadKind::Snapshot, settings: then, steps: 250, source: "the snapshot at step 250".into(), curves: None };
        let effects = sent(&vae.apply(loaded, None));
        assert!(matches!(&effects[..], [Command::Tune(t)] if t.train.lr_g == 0.001), "{effects:?}");
        assert_eq!(vae.settings.train.lr_g, 0.001);
        assert_eq!(vae.settings.model.family, crate::model::Family::Vae);
    }

    #[test]
    fn the_benchmark_says_what_it_timed() {
        let mut page = page("?refine=2&d_refine=0&model=vae&preset=tiny");
        page.apply(Report::Listening, None);
        assert_eq!(page.settings.model.refine, 2);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        page.apply(Report::Bench { backend: "CPU".into(), results: vec![(Preset::Tiny, 40.0), (Preset::Small, 90.0)], convolutions: None }, None);
        assert_eq!(
            page.bench.as_deref(),
            Some("CPU — tiny: 40 ms/step, small: 90 ms/step (batch 64, the decoder with 2 extra layers, one step at a time; training here uses batch 16)")
        );
        let mut judged = self::page("?d_refine=1&preset=tiny");
        judged.apply(Report::Listening, None);
        judged.apply(Report::Ready { settings: judged.settings.clone() }, None);
        judged.apply(Report::Bench { backend: "CPU".into(), results: vec![(Preset::Tiny, 50.0)], convolutions: None }, None);
        assert_eq!(
            judged.bench.as_deref(),
            Some("CPU — tiny: 50 ms/step (batch 64, the discriminator with 1 extra layer, one step at a time; training here uses batch 16)")
        );
        let gpu = "each on its faster convolutions, steps queued and read together: burn's convolutions 30 ms, ganplay's tiled kernel 12 ms";
        judged.apply(Report::Bench { backend: "WebGPU".into(), results: vec![(Preset::Tiny, 12.0)], convolutions: Some(gpu.into()) }, None);
        assert_eq!(
            judged.bench.as_deref(),
            Some(format!("WebGPU — tiny: 12 ms/step (batch 64, the discriminator with 1 extra layer, {gpu}; training here uses batch 16)").as_str())
        );
    }

    #[test]
    fn steps_of_another_model_on_their_way_when_it_changed_are_not_charted() {
        // A DCGAN's step still on its way when the model became a VAE.
        let mut page = ready_page("?model=dcgan");
        page.change(Key::Model, "vae");
        page.apply(Report::Steps { reports: vec![report(1)], steps_per_second: 1.0 }, None);
        assert!(page.charts.points().is_empty());
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        let vae_step = StepReport { step: 1, measures: crate::training::Measures::Vae { reconstruction: 200.0, kl: 5.0 } };
        page.apply(Report::Steps { reports: vec![vae_step], steps_per_second: 1.0 }, None);
        assert_eq!(page.charts.points().len(), 1);
    }

    #[test]
    fn the_model_comes_from_the_address_and_a_conditional_sample_names_its_class() {
        let unknown = page("?model=gpt");
        assert!(unknown.messages.notice.as_deref().unwrap().contains("model=gpt"), "{:?}", unknown.messages.notice);
        assert_eq!(unknown.settings.model.family, crate::model::Family::Dcgan);

        let mut page = page("?model=cgan&preset=tiny");
        assert_eq!(page.settings.model.family, crate::model::Family::Cgan);
        page.apply(Report::Listening, None);
        let effects = page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(matches!(sent(&effects)[..], [Command::Sample { class: Some(0), .. }]), "{effects:?}");
        assert!(page.set_class(7).is_empty(), "the new class waits for the sample in flight");
        let picture = Picture { width: 1, height: 1, pixels: vec![0] };
        let effects = page.apply(Report::Sample { picture, weights: Weights::Run { steps: 0 } }, None);
        assert!(matches!(sent(&effects)[..], [Command::Sample { class: Some(7), .. }]), "{effects:?}");
        assert!(address(&page.settings, &page.latent, false, None).contains("model=cgan"));
    }

    #[test]
    fn a_shared_z_is_used_when_its_length_fits_and_named_when_not() {
        let page = ready_page("?z=0.5,1,-1");
        assert!(page.messages.notice.as_deref().unwrap().contains("it has 3 numbers, and this generator takes 100"));
        let mut page = page_with_nz("?nz=3&z=0.5,1,-1", 3);
        assert_eq!(page.latent.current(), [0.5, 1.0, -1.0]);
        page.move_slider(1, 2.346);
        assert_eq!(page.latent.current(), [0.5, 2.35, -1.0]);
        assert!(page.address(true).ends_with("layout=presenter&z=0.50,2.35,-1.00"), "{}", page.address(true));
    }

    fn page_with_nz(query: &str, nz: usize) -> Page {
        let mut page = page(query);
        page.apply(Report::Listening, None);
        let settings = page.settings.clone();
        assert_eq!(settings.model.nz, nz);
        page.apply(Report::Ready { settings }, None);
        page
    }

    #[test]
    fn one_sample_at_a_time_and_the_latest_z_waits_its_turn() {
        let mut page = ready_page("");
        // Ready asked for the first sample; moves meanwhile are held back.
        assert!(page.move_slider(0, 1.0).is_empty());
        assert!(page.move_slider(0, 2.0).is_empty());
        let picture = Picture { width: 1, height: 1, pixels: vec![9] };
        let effects = page.apply(Report::Sample { picture: picture.clone(), weights: Weights::Run { steps: 0 } }, None);
        assert!(matches!(&sent(&effects)[..], [Command::Sample { z, class: None }] if z[0] == 2.0));
        assert_eq!(page.sample, Some(picture));
        // Once the sampler holds the generator, samples go to it.
        page.apply_sampler(Report::Listening);
        let effects = page.apply(Report::Generator { weights: Weights::Run { steps: 0 }, bytes: Vec::new() }, Some(vec![1]));
        assert!(matches!(effects[..], [Effect::SamplerWith(Command::UseGenerator { .. }, _)]));
        let drawn = Report::Sample { picture: Picture { width: 1, height: 1, pixels: vec![1] }, weights: Weights::Run { steps: 0 } };
        assert!(matches!(page.apply_sampler(drawn)[..], [Effect::Sampler(Command::Sample { .. })]));
        // A sampler that crashes hands the drawing back to the training worker.
        assert!(matches!(page.apply_sampler(Report::Crashed("x".into()))[..], [Effect::Trainer(Command::Sample { .. })]));
    }

    #[test]
    fn saving_offers_the_file_and_a_report_without_its_bytes_is_an_error() {
        let mut page = ready_page("");
        assert!(matches!(sent(&page.save())[..], [Command::Save { .. }]));
        assert!(page.run.saving);
        let effects = page.apply(Report::Saved { steps: 8, bytes: Vec::new() }, Some(vec![1, 2]));
        assert!(matches!(&effects[..], [Effect::Download { name, .. }] if name == "ganplay-dcgan-step-8.ganplay"), "the file is named by its model and step");
        assert!(!page.run.saving);
        assert!(page.apply(Report::Saved { steps: 8, bytes: Vec::new() }, None).is_empty());
        assert!(page.messages.error.as_deref().unwrap().contains("came without its data"));
    }

    fn quality(classes: usize) -> Quality {
        let mut histogram = [0.0; 10];
        (0..classes).for_each(|c| histogram[c] = 1.0 / classes as f64);
        Quality { score: classes as f64 * 0.9, frechet: 3.0, histogram, asked: None }
    }

    #[test]
    fn quality_points_make_curves_and_a_collapse_raises_the_alarm_with_the_snapshot_before_it() {
        let mut page = ready_page("");
        steps(&mut page, 1..=10);
        page.apply(Report::Snapshot { steps: 10, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![]));
        page.apply(Report::Quality { step: 5, quality: Some(quality(1)), millis: 1.0 }, None);
        assert_eq!(page.quality.collapse, None, "a fresh run's noise is no collapse");
        page.apply(Report::Quality { step: 10, quality: Some(quality(10)), millis: 1.0 }, None);
        page.apply(Report::Quality { step: 15, quality: None, millis: 1.0 }, None);
        assert_eq!(page.quality.history.points().len(), 3);
        assert_eq!(page.quality.collapse, None);
        page.apply(Report::Quality { step: 20, quality: Some(quality(2)), millis: 1.0 }, None);
        let collapse = page.quality.collapse.clone().unwrap();
        assert_eq!((collapse.step, collapse.classes, collapse.snapshot_before), (20, 2, Some(10)));
        assert!(collapse.message(crate::model::Family::Dcgan).contains("go back to the snapshot at step 10"));
        // The snapshot stays reachable after the list has moved on.
        for s in 21..=27 {
            page.apply(Report::Snapshot { steps: s, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![]));
        }
        assert!(matches!(sent(&page.go_back(10))[..], [Command::Load { kind: LoadKind::Snapshot, .. }]));
        // Back there, it is taken again (no longer listed, it would be no way back after a crash).
        let mut back = page.clone();
        let effects = back.apply(Report::Loaded { kind: LoadKind::Snapshot, settings: back.settings.clone(), steps: 10, source: "the snapshot at step 10".into(), curves: None }, None);
        assert_eq!(sent(&effects), [Command::Snapshot]);
        back.apply(Report::Snapshot { steps: 10, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![10]));
        assert_eq!(listed(&back), [10]);
        page.apply(Report::Quality { step: 30, quality: Some(quality(1)), millis: 1.0 }, None);
        assert_eq!(page.quality.collapse.as_ref().unwrap().step, 20, "raised once");
        page.apply(Report::Quality { step: 40, quality: Some(quality(9)), millis: 1.0 }, None);
        assert_eq!(page.quality.collapse, None, "over once G draws enough kinds again");
        // The CSV carries the scores beside the curves.
        let csv = page.csv();
        assert!(csv.lines().next().unwrap().ends_with("score,frechet_distance,classes_drawn"));
        assert!(csv.lines().nth(10).unwrap().ends_with(",9.0000,3.0000,10"), "{csv}");
        page.user_reset();
        assert!(page.quality.history.points().is_empty());
        page.apply(Report::QualityUnavailable("no classifier".into()), None);
        assert_eq!(page.quality.unavailable.as_deref(), Some("no classifier"));
    }

    #[test]
    fn heavy_settings_on_the_cpu_are_warned_of() {
        let cpu = BackendInfo { name: "CPU".into(), reason: String::new(), on_gpu: false, software: false };
        let gpu = BackendInfo { on_gpu: true, ..cpu.clone() };
        let mut settings = Settings::default();
        settings.model = Preset::Tiny.model();
        assert_eq!(heavy_warning(&settings, Some(&cpu)), None);
        settings.model = ModelConfig::new().with_nz(512).with_ngf(128).with_ndf(128);
        settings.train.batch_size = 256;
        assert!(heavy_warning(&settings, Some(&cpu)).unwrap().contains("s a step"));
        assert_eq!(heavy_warning(&settings, Some(&gpu)), None);
    }

    #[test]
    fn a_panic_is_told_without_its_source_location() {
        let mut page = ready_page("");
        page.apply(Report::Crashed("panicked at src/web/worker.rs:300:62:\na panic injected for testing".into()), None);
        let error = page.messages.error.clone().unwrap();
        assert!(error.starts_with("The training worker crashed (a panic injected for testing). The training worker was restarted"), "{error}");
        assert_eq!(page.messages.details.as_deref(), Some("panicked at src/web/worker.rs:300:62"));
        page.user_reset();
        assert_eq!((page.messages.error.clone(), page.messages.details.clone()), (None, None));
    }

    #[test]
    fn kernels_being_prepared_are_shown_until_ready() {
        let mut page = ready_page("");
        assert_eq!(page.run.kernels, None);
        page.apply(Report::Kernels(None), None);
        assert_eq!(page.run.kernels, Some(None));
        page.apply(Report::Kernels(Some(4200.0)), None);
        assert_eq!(page.run.kernels, Some(Some(4200.0)));
        // A GPU lost while preparing: the run moves to the CPU, which prepares nothing.
        page.apply(Report::Kernels(None), None);
        page.apply(Report::DeviceLost("lost".into()), None);
        assert_eq!(page.run.kernels, None);
        page.apply(Report::Kernels(None), None);
        page.apply(Report::Backend { name: "CPU".into(), reason: String::new(), on_gpu: false, software: false }, None);
        assert_eq!(page.run.kernels, None);
    }

    #[test]
    fn the_convolutions_a_gpu_chose_are_kept_until_the_run_leaves_it() {
        let mut page = ready_page("");
        page.apply(Report::Backend { name: "a GPU".into(), reason: String::new(), on_gpu: true, software: false }, None);
        let summary = "convolutions: ganplay's tiled kernel, 8.1 ms a step (burn's convolutions: 21.4)";
        page.apply(Report::Convolutions(summary.into()), None);
        assert_eq!(page.run.convolutions.as_deref(), Some(summary));
        page.apply(Report::Kernels(Some(900.0)), None);
        assert_eq!(page.run.convolutions.as_deref(), Some(summary), "ready kernels keep it");
        page.apply(Report::Backend { name: "CPU".into(), reason: String::new(), on_gpu: false, software: false }, None);
        assert_eq!(page.run.convolutions, None, "the CPU chooses no convolutions");
    }

    #[test]
    fn a_paused_notice_goes_when_training_starts_and_pausing_is_shown() {
        let mut page = ready_page("");
        page.apply(Report::Loaded { kind: LoadKind::File, settings: page.settings.clone(), steps: 4, source: "a.ganplay".into(), curves: None }, None);
        assert!(page.messages.notice.as_deref().unwrap().contains("Press play"));
        page.play_pause();
        page.apply(Report::Running(true), None);
        assert_eq!(page.messages.notice, None, "no longer paused");
        assert!(matches!(sent(&page.play_pause())[..], [Command::Pause]));
        assert!(page.run.pausing, "pausing after the step under way");
        page.apply(Report::Running(false), None);
        assert!(!page.run.pausing);
        page.change(Key::Seed, "5");
        page.close_notice();
        assert_eq!(page.messages.notice, None);
    }

    /// A run training on the CPU at step 4, handed over by its worker to go to WebGPU: the
    /// new worker is starting.
    fn training_run_moving_to_webgpu() -> Page {
        let mut page = ready_page("?backend=cpu");
        page.apply(Report::Running(true), None);
        steps(&mut page, 1..=4);
        page.change(Key::Backend, "webgpu");
        page.apply(Report::Running(false), None);
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4]));
        page.apply(Report::HandedOver { steps: 4 }, None);
        page
    }

    /// A new worker's answer to the load of that run.
    fn moved_run_loaded(page: &Page) -> Report {
        Report::Loaded { kind: LoadKind::Snapshot, settings: page.settings.clone(), steps: 4, source: "the snapshot at step 4".into(), curves: None }
    }

    #[test]
    fn a_run_that_was_training_trains_on_after_moving_backend() {
        let mut page = training_run_moving_to_webgpu();
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(matches!(sent(&page.apply(moved_run_loaded(&page), None))[..], [Command::Play]));
    }

    #[test]
    fn a_second_change_of_backend_before_the_run_arrives_takes_it_to_the_next_worker() {
        let mut page = training_run_moving_to_webgpu();
        // The new worker listens and is sent the run; before it has loaded it, the backend
        // changes again.
        assert!(matches!(sent(&page.apply(Report::Listening, None))[..], [Command::Reset(_), Command::Load { .. }]));
        assert!(matches!(page.change(Key::Backend, "cpu")[..], [Effect::StartTrainer]));
        assert!(page.messages.notice.as_deref().unwrap().contains("Moving the run at step 4"), "{:?}", page.messages.notice);
        let effects = page.apply(Report::Listening, None);
        assert!(
            matches!(&effects[..], [Effect::Trainer(Command::Reset(_)), Effect::TrainerWith(Command::Load { kind: LoadKind::Snapshot, .. }, bytes)] if bytes == &vec![4]),
            "{effects:?}"
        );
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(matches!(sent(&page.apply(moved_run_loaded(&page), None))[..], [Command::Play]), "it trains on, as it did");
        assert_eq!(page.run.step, 4);
    }

    #[test]
    fn a_run_that_new_networks_replace_is_offered_to_go_on_from() {
        let snapshot = |steps| Report::Snapshot { steps, report: None, thumbnail: String::new(), bytes: Vec::new() };
        let rebuilt = |page: &mut Page| {
            let settings = page.settings.clone();
            page.apply(Report::Ready { settings }, None);
        };
        // Not a step yet: nothing to offer.
        let mut page = ready_page("?seed=4");
        assert!(matches!(page.change(Key::Seed, "5")[..], [Effect::Trainer(Command::Reset(_))]));
        assert!(page.kept.is_none());
        // No snapshot yet: the worker sends one of the run before it builds the new networks,
        // and that is offered. A snapshot it had sent already (of a pause) comes first.
        let mut page = ready_page("?seed=4");
        steps(&mut page, 1..=2);
        assert!(matches!(sent(&page.change(Key::Seed, "5"))[..], [Command::Snapshot, Command::Reset(_)]));
        assert!(page.kept.is_none());
        assert!(matches!(page.apply(snapshot(2), Some(vec![2; 4]))[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 2, .. })]));
        // The worker may take steps before it reads the request: they are the run's, and its
        // curves keep them.
        steps(&mut page, 3..=4);
        page.apply(Report::Quality { step: 4, quality: None, millis: 1.0 }, None);
        assert_eq!(page.run.step, 0);
        assert!(matches!(page.apply(snapshot(4), Some(vec![4; 4]))[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 4, .. })]));
        let kept = page.kept.clone().unwrap();
        assert_eq!((kept.steps, kept.bytes, kept.what.as_str()), (4, vec![4; 4], "tiny DCGAN"));
        let curves = Curves::read(kept.curves.unwrap().as_bytes(), 4, crate::model::Family::Dcgan).unwrap();
        assert_eq!(curves.charts.last_step(), Some(4));
        assert_eq!(curves.quality.points().iter().map(|(step, _)| *step).collect::<Vec<_>>(), [4]);
        assert!(page.quality.history.points().is_empty(), "nor are its scores the new run's");
        assert_eq!(page.charts.last_step(), None, "the new run's charts are empty");
        // Once the new networks are ready, their snapshots are theirs.
        rebuilt(&mut page);
        steps(&mut page, 1..=1);
        assert!(page.apply(snapshot(1), Some(vec![1; 4])).is_empty(), "shorter than the run on offer");
        assert_eq!(page.snapshots.iter().map(|s| s.steps).collect::<Vec<_>>(), [1]);
        // A changed seed starts over: the run before is offered, with its curves, as the run
        // kept in the browser (and kept there again): at once from its last snapshot, then from
        // the one of it as it was.
        let mut page = ready_page("?seed=4");
        steps(&mut page, 1..=6);
        assert!(matches!(page.apply(snapshot(6), Some(vec![6; 4]))[..], [Effect::Keep(KeptSlot::Run, _)]));
        steps(&mut page, 7..=8);
        let effects = page.change(Key::Seed, "5");
        assert!(
            matches!(effects[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 6, .. }), Effect::Trainer(Command::Snapshot), Effect::Trainer(Command::Reset(_))]),
            "{effects:?}"
        );
        let kept = page.kept.clone().expect("the run before is offered");
        assert_eq!((kept.steps, kept.what.as_str(), kept.family, kept.bytes), (6, "tiny DCGAN", Some(crate::model::Family::Dcgan), vec![6; 4]));
        assert!(matches!(page.apply(snapshot(8), Some(vec![8; 4]))[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 8, .. })]));
        let kept = page.kept.clone().unwrap();
        let curves = Curves::read(kept.curves.unwrap().as_bytes(), 8, crate::model::Family::Dcgan).unwrap();
        assert_eq!(curves.charts.last_step(), Some(8));
        // The new run's snapshots, shorter, leave it in the browser and on offer.
        rebuilt(&mut page);
        steps(&mut page, 1..=3);
        assert_eq!(page.run.step, 3);
        assert!(page.apply(snapshot(3), Some(vec![3; 4])).is_empty());
        assert_eq!(page.kept.as_ref().map(|k| k.steps), Some(8));
        // Nor does a reset of that shorter run replace the offer.
        assert!(matches!(page.user_reset()[..], [Effect::Trainer(Command::Reset(_))]));
        assert_eq!(page.kept.as_ref().map(|k| k.steps), Some(8));
        rebuilt(&mut page);
        let effects = page.go_on_from_kept();
        assert!(matches!(&effects[..], [Effect::TrainerWith(Command::Load { kind: LoadKind::KeptRun, .. }, bytes)] if bytes == &vec![8; 4]));
        // Reset offers the run too; a collapsed run from its snapshot before the collapse,
        // which is what the browser keeps of it.
        let mut page = ready_page("");
        steps(&mut page, 1..=5);
        page.apply(snapshot(5), Some(vec![5; 4]));
        page.quality.collapse = Some(Collapse { step: 6, classes: 1, snapshot_before: Some(5) });
        steps(&mut page, 6..=7);
        assert!(page.apply(snapshot(7), Some(vec![7; 4])).is_empty(), "a collapsed run is not kept");
        let effects = page.user_reset();
        assert!(matches!(&effects[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 5, .. }), Effect::Trainer(Command::Reset(_))]), "{effects:?}");
        assert_eq!(page.kept.as_ref().map(|k| k.bytes.clone()), Some(vec![5; 4]));
    }

    #[test]
    fn compared_runs_that_a_reset_replaces_are_both_offered() {
        let (mut lead, mut vae) = compared_pair();
        steps(&mut lead, 1..=4);
        lead.apply(snapshot_at(4), Some(vec![4; 8]));
        steps(&mut vae, 1..=3);
        vae.apply(snapshot_at(3), Some(vec![3; 8]));
        vae.follow(&lead.lead());
        lead.user_reset();
        vae.follow(&lead.lead());
        assert_eq!(lead.kept.as_ref().map(|k| (k.steps, k.pair)), Some((4, Some(22))));
        assert_eq!(vae.kept.as_ref().map(|k| (k.steps, k.family, k.pair)), Some((3, Some(crate::model::Family::Vae), Some(22))));
        for page in [&mut lead, &mut vae] {
            let settings = page.settings.clone();
            page.apply(Report::Ready { settings }, None);
        }
        // Going on from them: the compared run goes on from its own once the first has.
        lead.go_on_from_kept();
        let settings = lead.settings.clone();
        lead.apply(Report::Loaded { kind: LoadKind::KeptRun, settings, steps: 4, source: "the run kept".into(), curves: None }, None);
        let effects = vae.follow(&lead.lead());
        assert!(matches!(&effects[..], [Effect::TrainerWith(Command::Load { kind: LoadKind::KeptRun, .. }, bytes)] if bytes == &vec![3; 8]), "{effects:?}");
    }

    #[test]
    fn a_change_of_backend_after_the_new_worker_is_ready_but_before_the_run_loads_takes_it_along() {
        let mut page = training_run_moving_to_webgpu();
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        // Not a hand-over by a worker that has no run yet: the run goes to the next worker.
        assert!(matches!(page.change(Key::Backend, "cpu")[..], [Effect::StartTrainer]));
        let effects = page.apply(Report::Listening, None);
        assert!(matches!(&effects[..], [_, Effect::TrainerWith(Command::Load { .. }, bytes)] if bytes == &vec![4]), "{effects:?}");
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(matches!(sent(&page.apply(moved_run_loaded(&page), None))[..], [Command::Play]), "it trains on, as it did");
    }

    #[test]
    fn new_networks_asked_for_while_a_run_moves_replace_it() {
        let mut page = ready_page("?backend=cpu&seed=4");
        steps(&mut page, 1..=4);
        page.change(Key::Backend, "webgpu");
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4]));
        page.apply(Report::HandedOver { steps: 4 }, None);
        page.change(Key::Seed, "5");
        // The new worker builds networks with the new seed rather than load the run, which is
        // offered instead.
        assert!(matches!(&sent(&page.apply(Report::Listening, None))[..], [Command::Reset(settings)] if settings.train.seed == 5));
        assert_eq!(page.kept.as_ref().map(|k| k.steps), Some(4));
    }

    #[test]
    fn new_networks_asked_for_while_a_crashed_run_comes_back_offer_its_snapshot() {
        let mut page = ready_page("");
        steps(&mut page, 1..=30);
        page.apply(Report::Snapshot { steps: 30, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![30]));
        steps(&mut page, 31..=45);
        page.apply(Report::Crashed("boom".into()), None);
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        // Ready, the snapshot still loading: that snapshot is the run, and no other is asked for.
        let effects = page.change(Key::Seed, "5");
        assert!(matches!(effects[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 30, .. }), Effect::Trainer(Command::Reset(_))]), "{effects:?}");
    }

    #[test]
    fn compared_runs_without_snapshots_are_offered_from_the_ones_their_workers_send() {
        let (mut lead, mut vae) = compared_pair();
        steps(&mut lead, 1..=4);
        steps(&mut vae, 1..=3);
        assert!(matches!(sent(&lead.user_reset())[..], [Command::Snapshot, Command::Reset(_)]));
        assert!(matches!(sent(&vae.follow(&lead.lead()))[..], [Command::Snapshot, Command::Reset(_)]));
        // Their snapshots come before their new networks are ready, in either order.
        assert!(matches!(vae.apply(snapshot_at(3), Some(vec![3; 8]))[..], [Effect::Keep(KeptSlot::Compared, KeptRun { steps: 3, pair: Some(22), .. })]));
        vae.follow(&lead.lead());
        assert!(matches!(lead.apply(snapshot_at(4), Some(vec![4; 8]))[..], [Effect::Keep(KeptSlot::Run, KeptRun { steps: 4, pair: Some(22), .. })]));
        for page in [&mut lead, &mut vae] {
            let settings = page.settings.clone();
            page.apply(Report::Ready { settings }, None);
        }
        vae.follow(&lead.lead());
        assert_eq!((lead.kept.as_ref().map(|k| k.steps), vae.kept.as_ref().map(|k| k.steps)), (Some(4), Some(3)));
    }

    #[test]
    fn a_move_right_after_play_or_going_on_trains_on_there() {
        // Play pressed, the worker not yet training: a change of backend takes the run along
        // training.
        let mut page = ready_page("?backend=cpu");
        steps(&mut page, 1..=4);
        page.play_pause();
        assert!(matches!(sent(&page.change(Key::Backend, "webgpu"))[..], [Command::HandOver]));
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4]));
        page.apply(Report::HandedOver { steps: 4 }, None);
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(matches!(sent(&page.apply(moved_run_loaded(&page), None))[..], [Command::Play]));
        // Moved again as it goes on there, before it says it trains: it trains on.
        assert!(matches!(sent(&page.change(Key::Backend, "cpu"))[..], [Command::HandOver]));
        page.apply(Report::Running(false), None);
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4]));
        page.apply(Report::HandedOver { steps: 4 }, None);
        assert_eq!(page.messages.notice.as_deref(), Some("Moving the run at step 4 to the CPU…"));
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(matches!(sent(&page.apply(moved_run_loaded(&page), None))[..], [Command::Play]));
        // A pause on its way is not training.
        page.apply(Report::Running(true), None);
        page.play_pause();
        page.change(Key::Backend, "webgpu");
        page.apply(Report::Running(false), None);
        page.apply(Report::Snapshot { steps: 4, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![4]));
        page.apply(Report::HandedOver { steps: 4 }, None);
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(sent(&page.apply(moved_run_loaded(&page), None)).is_empty());
        // Reset: the "press play to go on" notice was of the run replaced.
        assert!(page.messages.notice.as_deref().unwrap().ends_with("Press play to go on."));
        page.user_reset();
        assert_eq!(page.messages.notice, None);
    }

    #[test]
    fn fresh_networks_moved_as_play_was_pressed_train_in_the_new_worker() {
        let mut page = ready_page("?backend=cpu");
        page.play_pause();
        assert!(matches!(page.change(Key::Backend, "webgpu")[..], [Effect::StartTrainer]));
        assert!(matches!(sent(&page.apply(Report::Listening, None))[..], [Command::Reset(_)]));
        let effects = sent(&page.apply(Report::Ready { settings: page.settings.clone() }, None));
        assert!(effects.contains(&Command::Play), "{effects:?}");
        // Not when they were not about to train.
        let mut page = ready_page("?backend=cpu");
        page.change(Key::Backend, "webgpu");
        page.apply(Report::Listening, None);
        assert!(!sent(&page.apply(Report::Ready { settings: page.settings.clone() }, None)).contains(&Command::Play));
    }

    #[test]
    fn the_runs_grids_make_its_time_lapse_and_it_follows_the_run_back_and_anew() {
        let grid = |page: &mut Page, weights: Weights| page.apply(Report::Grid { width: 2, height: 1, weights, pixels: Vec::new() }, Some(vec![0, 255]));
        let mut page = ready_page("?backend=cpu&preset=tiny");
        // The shipped generator's grid is not of the run.
        grid(&mut page, Weights::Pretrained { steps: 8000 });
        assert!(page.timelapse.is_empty());
        for steps in 1..=5 {
            self::steps(&mut page, steps..=steps);
            grid(&mut page, Weights::Run { steps });
        }
        assert_eq!(page.timelapse.frames().map(|f| f.step).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(page.timelapse.frames().next().unwrap().grid.pixels, [0, 255]);
        // Back to a snapshot, or diverged: the frames after it go.
        page.apply(Report::Loaded { kind: LoadKind::Snapshot, settings: page.settings.clone(), steps: 3, source: "the snapshot at step 3".into(), curves: None }, None);
        assert_eq!(page.timelapse.len(), 3);
        page.apply(Report::Diverged { step: 3, restored_step: 2 }, None);
        assert_eq!(page.timelapse.len(), 2);
        // Another run: a file, or new networks.
        page.apply(Report::Loaded { kind: LoadKind::File, settings: page.settings.clone(), steps: 40, source: "a.ganplay".into(), curves: None }, None);
        assert!(page.timelapse.is_empty());
        grid(&mut page, Weights::Run { steps: 40 });
        page.user_reset();
        assert!(page.timelapse.is_empty());
    }

    #[test]
    fn new_networks_for_a_changed_setting_train_on_if_the_run_did() {
        let ready = |page: &mut Page| sent(&page.apply(Report::Ready { settings: page.settings.clone() }, None));
        // Paused: the new networks wait for Play, and the notice that they start over is news
        // until they train.
        let mut page = ready_page("?backend=cpu&preset=tiny");
        steps(&mut page, 1..=3);
        page.change(Key::Seed, "5");
        assert!(page.messages.notice.as_deref().unwrap().contains("training starts over"));
        assert!(!ready(&mut page).contains(&Command::Play));
        assert!(page.messages.notice.is_some());
        page.play_pause();
        page.apply(Report::Running(true), None);
        assert_eq!(page.messages.notice, None);
        // Reset replaces new networks in turn: the notice was of the networks before.
        page.play_pause();
        page.apply(Report::Running(false), None);
        page.change(Key::Seed, "6");
        page.user_reset();
        assert_eq!(page.messages.notice, None);
        // Training: the new networks train on once built; the notice says why the steps began
        // again while they train.
        let mut page = ready_page("?backend=cpu&preset=tiny");
        page.play_pause();
        page.apply(Report::Running(true), None);
        steps(&mut page, 1..=3);
        page.change(Key::Seed, "5");
        assert!(!page.run.running && !page.run.ready);
        assert!(ready(&mut page).contains(&Command::Play));
        page.apply(Report::Running(true), None);
        assert!(page.messages.notice.as_deref().unwrap().contains("training starts over"));
        // Two changes before the first networks are built: the last ones train.
        page.change(Key::Seed, "6");
        page.change(Key::Seed, "7");
        assert!(ready(&mut page).contains(&Command::Play));
        page.apply(Report::Running(true), None);
        // Paused on its way to the change: the new networks wait.
        page.play_pause();
        page.change(Key::Seed, "8");
        assert!(!ready(&mut page).contains(&Command::Play));
        // A file loaded before they are built waits for Play too.
        let mut page = ready_page("?backend=cpu&preset=tiny");
        page.play_pause();
        page.apply(Report::Running(true), None);
        page.change(Key::Seed, "5");
        page.load_file("run.ganplay".into(), vec![1, 2, 3]);
        assert!(!ready(&mut page).contains(&Command::Play));
    }

    #[test]
    fn fresh_networks_moved_train_only_if_nothing_stopped_them_since() {
        // A second change of backend before the new worker is ready: they still train.
        let mut page = ready_page("?backend=cpu");
        page.play_pause();
        page.change(Key::Backend, "webgpu");
        page.change(Key::Backend, "cpu");
        page.apply(Report::Listening, None);
        assert!(sent(&page.apply(Report::Ready { settings: page.settings.clone() }, None)).contains(&Command::Play));
        // Reset, or a crash, before it: they do not.
        let mut page = ready_page("?backend=cpu");
        page.play_pause();
        page.change(Key::Backend, "webgpu");
        page.user_reset();
        page.apply(Report::Listening, None);
        assert!(!sent(&page.apply(Report::Ready { settings: page.settings.clone() }, None)).contains(&Command::Play));
        let mut page = ready_page("?backend=cpu");
        page.play_pause();
        page.change(Key::Backend, "webgpu");
        page.apply(Report::Crashed("boom".into()), None);
        page.apply(Report::Listening, None);
        assert!(!sent(&page.apply(Report::Ready { settings: page.settings.clone() }, None)).contains(&Command::Play));
        // A late "training" from the networks a reset replaced does not count.
        let mut page = ready_page("?backend=cpu");
        page.play_pause();
        page.user_reset();
        page.apply(Report::Running(true), None);
        page.change(Key::Backend, "webgpu");
        page.apply(Report::Listening, None);
        assert!(!sent(&page.apply(Report::Ready { settings: page.settings.clone() }, None)).contains(&Command::Play));
        // A compared run follows the run it follows, not its own Play.
        let (mut lead, mut vae) = compared_pair();
        lead.play_pause();
        vae.follow(&lead.lead());
        lead.change(Key::Backend, "webgpu");
        vae.follow(&lead.lead());
        lead.apply(Report::Listening, None);
        lead.apply(Report::Ready { settings: lead.settings.clone() }, None);
        lead.apply(Report::Running(true), None);
        lead.play_pause();
        lead.apply(Report::Running(false), None);
        vae.follow(&lead.lead());
        vae.apply(Report::Listening, None);
        assert!(!sent(&vae.apply(Report::Ready { settings: vae.settings.clone() }, None)).contains(&Command::Play));
    }

    #[test]
    fn new_networks_clear_the_error_about_the_run_they_replace() {
        let mut page = ready_page("");
        steps(&mut page, 1..=3);
        page.apply(Report::Crashed("boom".into()), None);
        page.apply(Report::Listening, None);
        page.apply(Report::Ready { settings: page.settings.clone() }, None);
        assert!(page.messages.error.as_deref().unwrap().starts_with("The training worker crashed (boom)"));
        page.change(Key::Seed, "5");
        assert_eq!(page.messages.error, None);
        // A worker that failed for good stays said.
        page.trainer_failed();
        page.change(Key::Seed, "6");
        assert!(page.messages.error.is_some());
    }

    #[test]
    fn a_compared_run_reset_with_the_run_it_follows_does_not_train_by_itself() {
        let (mut lead, mut vae) = compared_pair();
        lead.play_pause();
        lead.apply(Report::Running(true), None);
        vae.follow(&lead.lead());
        vae.apply(Report::Running(true), None);
        steps(&mut lead, 1..=4);
        steps(&mut vae, 1..=4);
        lead.user_reset();
        vae.follow(&lead.lead());
        // The compared run's new networks come up before the first run's worker says it
        // stopped: they do not join a run that no longer trains.
        let effects = sent(&vae.apply(Report::Ready { settings: vae.settings.clone() }, None));
        assert!(!effects.contains(&Command::Play), "{effects:?}");
    }

    #[test]
    fn a_compared_run_is_offered_only_beside_a_run_of_its_comparison() {
        let (mut lead, mut vae) = compared_pair();
        lead.kept_found(KeptRun { steps: 100, what: "tiny".into(), family: Some(crate::model::Family::Dcgan), pair: Some(1), bytes: vec![1], curves: None });
        vae.follow(&lead.lead());
        steps(&mut vae, 1..=3);
        assert!(matches!(vae.apply(snapshot_at(3), Some(vec![3; 8]))[..], [Effect::Keep(KeptSlot::Compared, KeptRun { pair: Some(22), .. })]));
        steps(&mut lead, 1..=2);
        lead.apply(snapshot_at(2), Some(vec![2; 8]));
        // The first run's offer (kept by another comparison) stands; the compared run's
        // replaced run is not put beside it.
        lead.user_reset();
        vae.follow(&lead.lead());
        assert_eq!(lead.kept.as_ref().map(|k| k.steps), Some(100));
        assert!(vae.kept.is_none());
    }

    #[test]
    fn snapshots_keep_the_last_five_and_replace_the_kept_offer() {
        let mut page = ready_page("");
        page.kept_found(KeptRun { steps: 1, what: "tiny".into(), family: None, pair: None, bytes: vec![], curves: None });
        for step in 1..=7 {
            page.apply(Report::Snapshot { steps: step, report: None, thumbnail: String::new(), bytes: Vec::new() }, Some(vec![]));
        }
        assert_eq!(page.snapshots.iter().map(|s| s.steps).collect::<Vec<_>>(), [3, 4, 5, 6, 7]);
        assert!(page.kept.is_none());
        // A new run short of the kept one (a pause a few steps in) leaves it, and its offer.
        let mut page = ready_page("");
        page.kept_found(KeptRun { steps: 5000, what: "tiny".into(), family: None, pair: None, bytes: vec![], curves: None });
        let snapshot = |steps| Report::Snapshot { steps, report: None, thumbnail: String::new(), bytes: Vec::new() };
        assert!(page.apply(snapshot(20), Some(vec![])).is_empty());
        assert_eq!(page.kept.as_ref().map(|k| k.steps), Some(5000));
        assert!(matches!(page.apply(snapshot(5000), Some(vec![]))[..], [Effect::Keep(_, ref k)] if k.steps == 5000));
        assert!(page.kept.is_none());
    }
}
