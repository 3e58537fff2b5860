//! Every setting of a run, declared once in `TABLE`: its name (the address key and, with dashes,
//! the command line's flag), its words on the page, its range, its default, and whether a change
//! applies at once or needs new networks. The address, the page's form, the command line and
//! the training worker all read settings through this table, so they check the same ranges.

use serde::{Deserialize, Serialize};

use crate::model::{Family, ModelConfig};
use crate::training::{LossKind, TrainConfig};

/// Where the page trains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendRequest {
    /// The faster of WebGPU and the CPU, judged from the adapter the browser offers.
    #[default]
    Auto,
    WebGpu,
    Cpu,
}

impl BackendRequest {
    pub const ALL: [BackendRequest; 3] = [BackendRequest::Auto, BackendRequest::WebGpu, BackendRequest::Cpu];

    /// Where a run asked to go goes, in words: "the CPU".
    pub fn in_words(self) -> &'static str {
        match self {
            BackendRequest::Auto => "the faster of WebGPU and the CPU",
            BackendRequest::WebGpu => "WebGPU",
            BackendRequest::Cpu => "the CPU",
        }
    }
}

/// Model sizes offered on the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    /// Digits form within a minute or two even on a slow CPU.
    #[default]
    Tiny,
    Small,
    /// The DCGAN at width 32, as benchmarked (there with no extra layers in D unless
    /// `--d-refine` says so).
    Standard,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Tiny, Preset::Small, Preset::Standard];

    /// Generator and discriminator widths. Small presets keep D narrower than G: at equal
    /// small widths D wins outright and G never learns (measured: G 8 / D 8 stays grey noise
    /// after 1,500 steps; G 16 / D 8 draws digits).
    pub fn model(self) -> ModelConfig {
        let (ngf, ndf) = match self {
            Preset::Tiny => (16, 8),
            Preset::Small => (24, 16),
            Preset::Standard => (32, 32),
        };
        ModelConfig::new().with_ngf(ngf).with_ndf(ndf)
    }

    pub fn name(self) -> &'static str {
        choice_name(PRESETS, &Preset::ALL, self)
    }

    pub fn from_name(name: &str) -> Option<Self> {
        choice_of(PRESETS, &Preset::ALL, name)
    }

    /// The preset whose sizes `model` has, if any (whatever its family, and however many
    /// extra layers its G and D have: a preset is its widths).
    pub fn of(model: &ModelConfig) -> Option<Self> {
        let widths = |m: ModelConfig| m.with_family(Family::Dcgan).with_refine(0).with_drefine(0);
        Self::ALL.into_iter().find(|p| widths(p.model()) == widths(model.clone()))
    }

    /// The preset a fresh page trains when the visitor chose no size: a real GPU trains the
    /// standard model faster than a CPU trains the tiny one.
    pub fn for_hardware(on_real_gpu: bool) -> Self {
        if on_real_gpu { Preset::Standard } else { Preset::Tiny }
    }
}

/// The settings, one a row of `TABLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Model,
    Preset,
    Backend,
    Nz,
    Ngf,
    Ndf,
    Refine,
    DRefine,
    LrD,
    LrG,
    Batch,
    Loss,
    LabelSmoothing,
    DSteps,
    Beta1,
    Ema,
    Augment,
    Seed,
}

/// What values a setting takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A real number in `min..=max`; `step` is the form's step (a multiple of it lands on the
    /// default, so the field is valid there).
    Real { min: f64, max: f64, step: f64 },
    /// A whole number in `min..=max`.
    Whole { min: u64, max: u64 },
    /// One of these (name, words) choices.
    Choice(&'static [(&'static str, &'static str)]),
}

/// What a change of a setting does to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Applies {
    /// From the next step on.
    AtOnce,
    /// New networks: the run starts over.
    Rebuild,
    /// The run moves, as it is, to another device.
    Move,
}

/// One row of the table.
#[derive(Debug)]
pub struct Spec {
    pub key: Key,
    /// The address key; the command line's flag is the same with dashes (`lr_d`: `--lr-d`).
    pub name: &'static str,
    /// The form's label.
    pub label: &'static str,
    /// One plain line under the field.
    pub explain: &'static str,
    pub kind: Kind,
    pub applies: Applies,
}

const MODELS: &[(&str, &str)] = &[("dcgan", "DCGAN"), ("cgan", "conditional DCGAN"), ("vae", "VAE")];
const LOSSES: &[(&str, &str)] = &[("bce", "cross-entropy (DCGAN)"), ("lsgan", "least squares (LSGAN)"), ("hinge", "hinge")];
const PRESETS: &[(&str, &str)] =
    &[("tiny", "tiny (G 16, D 8 wide)"), ("small", "small (G 24, D 16 wide)"), ("standard", "standard (both 32 wide)")];
const BACKENDS: &[(&str, &str)] = &[("auto", "the faster (automatic)"), ("webgpu", "WebGPU"), ("cpu", "CPU")];

/// Bounds a run is held to from every source (address, form, command line, weights file).
pub const MAX_NZ: u64 = 512;
pub const MAX_WIDTH: u64 = 128;
pub const MAX_BATCH: u64 = 256;
pub const MAX_SEED: u64 = 1_000_000_000;
pub const MAX_D_STEPS: u64 = 5;
pub const MAX_SHIFT: u64 = 4;
pub const MAX_REFINE: u64 = 4;

/// Every setting, in the form's order.
pub const TABLE: &[Spec] = &[
    Spec {
        key: Key::Model,
        name: "model",
        label: "Model",
        explain: "Which generative model learns the digits: a DCGAN (a generator against a discriminator), a conditional \
                  DCGAN (the same, told which digit to draw), or a VAE (an encoder and a decoder). Changing it starts over.",
        kind: Kind::Choice(MODELS),
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::Preset,
        name: "preset",
        label: "Model size",
        explain: "Bigger networks draw better digits but each step takes longer.",
        kind: Kind::Choice(PRESETS),
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::Backend,
        name: "backend",
        label: "Run on",
        explain: "Where the training runs: your graphics card (WebGPU) or the processor. Changing this moves the run there.",
        kind: Kind::Choice(BACKENDS),
        applies: Applies::Move,
    },
    Spec {
        key: Key::Nz,
        name: "nz",
        label: "Latent size (nz)",
        explain: "How many random numbers G draws each digit from; changing it starts over.",
        kind: Kind::Whole { min: 1, max: MAX_NZ },
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::Ngf,
        name: "ngf",
        label: "G width",
        explain: "Feature maps in the generator: its capacity. Changing it starts over.",
        kind: Kind::Whole { min: 1, max: MAX_WIDTH },
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::Ndf,
        name: "ndf",
        label: "D width",
        explain: "Feature maps in the discriminator. A D much stronger than G wins and G stops learning.",
        kind: Kind::Whole { min: 1, max: MAX_WIDTH },
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::Refine,
        name: "refine",
        label: "G's extra layers",
        explain: "3x3 convolutions G adds at 14x14, before it draws the 28x28 digit: more layers to shape strokes with, \
                  slower steps. Changing it starts over.",
        kind: Kind::Whole { min: 0, max: MAX_REFINE },
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::DRefine,
        name: "d_refine",
        label: "D's extra layers",
        explain: "3x3 convolutions D adds at 7x7, before its verdict: more layers to judge a digit's whole shape with, \
                  slower steps. Changing it starts over.",
        kind: Kind::Whole { min: 0, max: MAX_REFINE },
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::LrD,
        name: "lr_d",
        label: "D learning rate",
        explain: "How big a step the discriminator (the critic) takes. Applies at once.",
        kind: Kind::Real { min: 1e-6, max: 1.0, step: 1e-6 },
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::LrG,
        name: "lr_g",
        label: "G learning rate",
        explain: "How big a step the generator (the artist) takes. Too big and training blows up.",
        kind: Kind::Real { min: 1e-6, max: 1.0, step: 1e-6 },
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::Batch,
        name: "batch",
        label: "Batch size",
        explain: "Real and fake digits looked at in each step. Applies at once.",
        kind: Kind::Whole { min: 1, max: MAX_BATCH },
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::Loss,
        name: "loss",
        label: "Loss",
        explain: "How D is scored for telling real from fake. Applies at once.",
        kind: Kind::Choice(LOSSES),
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::LabelSmoothing,
        name: "label_smoothing",
        label: "Label smoothing",
        explain: "D is taught that real digits are only this much short of surely real, so it stays less sure of itself. Applies at once.",
        kind: Kind::Real { min: 0.0, max: 0.5, step: 0.05 },
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::DSteps,
        name: "d_steps",
        label: "D steps per G step",
        explain: "How many times D learns before G learns once. Applies at once.",
        kind: Kind::Whole { min: 1, max: MAX_D_STEPS },
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::Beta1,
        name: "beta1",
        label: "Adam beta1",
        explain: "Momentum of the optimizer: how much each step keeps of the last. Changing it starts over.",
        kind: Kind::Real { min: 0.0, max: 0.999, step: 0.01 },
        applies: Applies::Rebuild,
    },
    Spec {
        key: Key::Ema,
        name: "ema",
        label: "Average of G (EMA)",
        explain: "Digits are drawn from a running average of G's weights, kept with this decay (0: off; 0.999 averages about the last thousand steps): steadier, cleaner digits. Applies at once.",
        kind: Kind::Real { min: 0.0, max: 0.999, step: 0.001 },
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::Augment,
        name: "augment",
        label: "Shift D's digits (pixels)",
        explain: "D sees every digit, real or drawn, moved by up to this many pixels, a new way each time, so it is harder for \
                  it to learn the training digits by heart; D(x) and D(G(z)) are then of moved digits (0: off). Applies at once.",
        kind: Kind::Whole { min: 0, max: MAX_SHIFT },
        applies: Applies::AtOnce,
    },
    Spec {
        key: Key::Seed,
        name: "seed",
        label: "Seed",
        explain: "Same seed and settings, same run, step for step. Changing it starts over.",
        kind: Kind::Whole { min: 0, max: MAX_SEED },
        applies: Applies::Rebuild,
    },
];

impl Key {
    pub fn spec(self) -> &'static Spec {
        TABLE.iter().find(|s| s.key == self).expect("every key has a row")
    }

    /// Whether the setting means something for a model family: a VAE has no loss to choose,
    /// no labels to smooth, no D steps and no D to show shifted digits (its two learning rates are the encoder's, `lr_d`,
    /// and the decoder's, `lr_g`).
    pub fn applies_to(self, family: Family) -> bool {
        !(family == Family::Vae && matches!(self, Key::Loss | Key::LabelSmoothing | Key::DSteps | Key::Augment))
    }

    /// The form's label for a model family: a VAE's networks are its encoder and decoder.
    pub fn label_for(self, family: Family) -> &'static str {
        match (family, self) {
            (Family::Vae, Key::Ngf) => "Decoder width",
            (Family::Vae, Key::Ndf) => "Encoder width",
            (Family::Vae, Key::Refine) => "Decoder's extra layers",
            (Family::Vae, Key::DRefine) => "Encoder's extra layers",
            (Family::Vae, Key::LrD) => "Encoder learning rate",
            (Family::Vae, Key::LrG) => "Decoder learning rate",
            (Family::Vae, Key::Ema) => "Average of the decoder (EMA)",
            _ => self.spec().label,
        }
    }

    /// A choice of the form's menu in words for a model family: a VAE's sizes are its
    /// decoder's and encoder's, which the line under the menu names ("tiny (16 and 8 wide)":
    /// the names would not fit a closed menu).
    pub fn choice_words_for(self, family: Family, words: &str) -> String {
        match (self, family) {
            (Key::Preset, Family::Vae) => words.replace("(G ", "(").replace(", D ", " and "),
            _ => words.to_string(),
        }
    }

    /// Why the form did not take `text` for this setting, by the field's label for a model
    /// family (the address's and the command line's errors name the key): "G width: whole
    /// numbers 1 to 128, not “256”".
    pub fn refused_in_the_form(self, family: Family, text: &str) -> String {
        let (label, takes) = (self.label_for(family), self.spec().takes());
        match text.trim() {
            "" => format!("the {label} field is empty; it takes {takes}"),
            value => format!("{label}: {takes}, not “{value}”"),
        }
    }

    /// Why the form did not take what was typed into this setting's number field where the
    /// browser could not read it as a number ("1e", "-"): it then gives the page an empty value,
    /// as it does for an empty field, but says so (`badInput`).
    pub fn unreadable_in_the_form(self, family: Family) -> String {
        format!("what was typed in the {} field is not a number; it takes {}", self.label_for(family), self.spec().takes())
    }

    /// The line under the form's field for a model family.
    pub fn explain_for(self, family: Family) -> &'static str {
        match (family, self) {
            (Family::Vae, Key::Preset) => "Bigger networks draw better digits but each step takes longer. The widths are the decoder's, then the encoder's.",
            (Family::Vae, Key::Nz) => "How many numbers the encoder squeezes each digit into, and the decoder draws from; changing it starts over.",
            (Family::Vae, Key::Ngf) => "Feature maps in the decoder (G's shape): its capacity. Changing it starts over.",
            (Family::Vae, Key::Ndf) => "Feature maps in the encoder (D's shape). Changing it starts over.",
            (Family::Vae, Key::Refine) => {
                "3x3 convolutions the decoder adds at 14x14, before it draws the 28x28 digit: more layers to shape strokes with, \
                 slower steps. Changing it starts over."
            }
            (Family::Vae, Key::DRefine) => {
                "3x3 convolutions the encoder adds at 7x7, before it gives z's mean and spread: slower steps. Changing it starts over."
            }
            (Family::Vae, Key::LrD) => "How big a step the encoder takes. Applies at once.",
            (Family::Vae, Key::LrG) => "How big a step the decoder takes. Too big and training blows up.",
            (Family::Vae, Key::Batch) => "Digits looked at in each step. Applies at once.",
            (Family::Vae, Key::Ema) => {
                "Digits are drawn from a running average of the decoder's weights, kept with this decay (0: off). Applies at once."
            }
            _ => self.spec().explain,
        }
    }

    /// The key whose name (the address key) is `name`.
    pub fn named(name: &str) -> Option<Key> {
        TABLE.iter().find(|s| s.name == name).map(|s| s.key)
    }
}

/// A setting's value, as the table's kinds hold it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Real(f64),
    Whole(u64),
    /// The index of a choice; `None` for a preset when the sizes match none ("custom").
    Choice(Option<usize>),
}

/// A value a setting does not take, with the reason in words.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{name}={value} {why}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub why: String,
}

fn choice_name<T: PartialEq + Copy>(choices: &'static [(&'static str, &'static str)], all: &[T], value: T) -> &'static str {
    all.iter().position(|v| *v == value).map_or("", |i| choices[i].0)
}

fn choice_of<T: Copy>(choices: &[(&str, &str)], all: &[T], name: &str) -> Option<T> {
    choices.iter().position(|(n, _)| *n == name).map(|i| all[i])
}

/// A label inside a sentence: its first word in small letters, a network's name (D, G) as it is.
pub fn in_a_sentence(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if second.is_lowercase() => first.to_lowercase().chain(label[first.len_utf8()..].chars()).collect(),
        _ => label.to_string(),
    }
}

/// Shortest text of an f32 as a reader would write it (0.3, not 0.30000001192092896).
fn f32_as_f64(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(value as f64)
}

impl Spec {
    /// Whether `value` is one this setting takes; the reason in words when not.
    pub fn check(&self, value: Value) -> Result<(), SettingError> {
        let fail = |why: String| Err(SettingError { name: self.name, value: self.format(value), why });
        match (self.kind, value) {
            (Kind::Real { min, max, .. }, Value::Real(v)) if !(v.is_finite() && (min..=max).contains(&v)) => fail(self.out_of_range()),
            (Kind::Whole { min, max }, Value::Whole(v)) if !(min..=max).contains(&v) => fail(self.out_of_range()),
            (Kind::Choice(choices), Value::Choice(Some(i))) if i >= choices.len() => fail("is not a choice".into()),
            (Kind::Real { .. }, Value::Real(_)) | (Kind::Whole { .. }, Value::Whole(_)) | (Kind::Choice(_), Value::Choice(_)) => {
                Ok(())
            }
            _ => fail("is of the wrong kind".into()),
        }
    }

    /// Why a value outside the range is refused, naming the range.
    fn out_of_range(&self) -> String {
        match self.kind {
            Kind::Choice(_) => "is not a choice".into(),
            _ => format!("is out of range: {} takes {}", in_a_sentence(self.label), self.takes()),
        }
    }

    /// The values the setting takes, in words: "0.000001 to 1", "whole numbers 1 to 128",
    /// "one of bce, lsgan, hinge".
    pub fn takes(&self) -> String {
        match self.kind {
            Kind::Real { min, max, .. } => format!("{min} to {max}"),
            Kind::Whole { min, max } => format!("whole numbers {min} to {max}"),
            Kind::Choice(choices) => format!("one of {}", choices.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
        }
    }

    /// `text` as this setting's value, checked.
    pub fn parse(&self, text: &str) -> Result<Value, SettingError> {
        let fail = |why: &str| SettingError { name: self.name, value: text.to_string(), why: why.to_string() };
        let value = match self.kind {
            Kind::Real { .. } => Value::Real(text.trim().parse::<f64>().map_err(|_| fail("is not a number"))?),
            Kind::Whole { min, max } => match (text.trim().parse::<u64>(), text.trim().parse::<f64>()) {
                (Ok(v), _) => Value::Whole(v),
                // A whole number written as a real one (2.0, 1e3).
                (_, Ok(v)) if v.fract() == 0.0 && (min as f64..=max as f64).contains(&v) => Value::Whole(v as u64),
                // A number, but not a whole one of the range (-1, 2.5): the range says what is.
                (_, Ok(v)) if v.is_finite() => return Err(fail(&self.out_of_range())),
                _ => return Err(fail("is not a whole number")),
            },
            Kind::Choice(choices) => Value::Choice(Some(choices.iter().position(|(n, _)| *n == text).ok_or_else(|| {
                let names = choices.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
                fail(&format!("is not one of {names}"))
            })?)),
        };
        self.check(value)?;
        Ok(value)
    }

    /// The value as the address and the form write it.
    pub fn format(&self, value: Value) -> String {
        match (self.kind, value) {
            (_, Value::Real(v)) => v.to_string(),
            (_, Value::Whole(v)) => v.to_string(),
            (Kind::Choice(choices), Value::Choice(Some(i))) => choices.get(i).map_or("", |c| c.0).to_string(),
            (_, Value::Choice(_)) => "custom".into(),
        }
    }
}

/// The whole setup of a run. Integers stay integers: the sizes, batch, steps and seed are
/// `usize`/`u64` from the address to the networks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub backend: BackendRequest,
    /// True until a size is chosen (by the address, the form or a loaded run): the worker then
    /// picks the preset for the hardware it finds.
    pub auto_size: bool,
    pub model: ModelConfig,
    pub train: TrainConfig,
}

impl Default for Settings {
    /// The defaults of the networks and of training (`ModelConfig`, `TrainConfig`), with sizes
    /// left to the hardware.
    fn default() -> Self {
        Self { backend: BackendRequest::Auto, auto_size: true, model: ModelConfig::new(), train: TrainConfig::new() }
    }
}

impl Settings {
    /// A run's settings (a loaded file, a snapshot): its sizes are chosen.
    pub fn of_run(backend: BackendRequest, model: ModelConfig, train: TrainConfig) -> Self {
        Self { backend, auto_size: false, model, train }
    }

    pub fn value(&self, key: Key) -> Value {
        let (m, t) = (&self.model, &self.train);
        match key {
            Key::Model => Value::Choice(Family::ALL.iter().position(|f| *f == m.family)),
            Key::Preset => Value::Choice(Preset::of(m).and_then(|p| Preset::ALL.iter().position(|q| *q == p))),
            Key::Backend => Value::Choice(BackendRequest::ALL.iter().position(|b| *b == self.backend)),
            Key::Nz => Value::Whole(m.nz as u64),
            Key::Ngf => Value::Whole(m.ngf as u64),
            Key::Ndf => Value::Whole(m.ndf as u64),
            Key::Refine => Value::Whole(m.refine as u64),
            Key::DRefine => Value::Whole(m.drefine as u64),
            Key::LrD => Value::Real(t.lr_d),
            Key::LrG => Value::Real(t.lr_g),
            Key::Batch => Value::Whole(t.batch_size as u64),
            Key::Loss => Value::Choice(LossKind::ALL.iter().position(|l| *l == t.loss)),
            Key::LabelSmoothing => Value::Real(f32_as_f64(t.label_smoothing)),
            Key::DSteps => Value::Whole(t.d_steps as u64),
            Key::Beta1 => Value::Real(f32_as_f64(t.beta1)),
            Key::Ema => Value::Real(f32_as_f64(t.ema.unwrap_or(0.0))),
            Key::Augment => Value::Whole(t.augment as u64),
            Key::Seed => Value::Whole(t.seed),
        }
    }

    /// Sets one setting, checked against its row; a value out of range changes nothing.
    pub fn set(&mut self, key: Key, value: Value) -> Result<(), SettingError> {
        key.spec().check(value)?;
        let (m, t) = (&mut self.model, &mut self.train);
        match (key, value) {
            (Key::Preset, Value::Choice(Some(i))) => {
                let sizes = Preset::ALL[i].model();
                (m.ngf, m.ndf) = (sizes.ngf, sizes.ndf);
                m.nz = sizes.nz;
            }
            (Key::Model, Value::Choice(Some(i))) => m.family = Family::ALL[i],
            (Key::Backend, Value::Choice(Some(i))) => self.backend = BackendRequest::ALL[i],
            (Key::Nz, Value::Whole(v)) => m.nz = v as usize,
            (Key::Ngf, Value::Whole(v)) => m.ngf = v as usize,
            (Key::Ndf, Value::Whole(v)) => m.ndf = v as usize,
            (Key::Refine, Value::Whole(v)) => m.refine = v as usize,
            (Key::DRefine, Value::Whole(v)) => m.drefine = v as usize,
            (Key::LrD, Value::Real(v)) => t.lr_d = v,
            (Key::LrG, Value::Real(v)) => t.lr_g = v,
            (Key::Batch, Value::Whole(v)) => t.batch_size = v as usize,
            (Key::Loss, Value::Choice(Some(i))) => t.loss = LossKind::ALL[i],
            (Key::LabelSmoothing, Value::Real(v)) => t.label_smoothing = v as f32,
            (Key::DSteps, Value::Whole(v)) => t.d_steps = v as usize,
            (Key::Beta1, Value::Real(v)) => t.beta1 = v as f32,
            (Key::Ema, Value::Real(v)) => t.ema = (v > 0.0).then_some(v as f32),
            (Key::Augment, Value::Whole(v)) => t.augment = v as usize,
            (Key::Seed, Value::Whole(v)) => t.seed = v,
            // "custom" is what a preset reads when the sizes match none; it sets nothing.
            (_, Value::Choice(None)) => return Ok(()),
            _ => unreachable!("check() matched the value to the row's kind"),
        }
        if matches!(key, Key::Preset | Key::Nz | Key::Ngf | Key::Ndf | Key::Refine | Key::DRefine) {
            self.auto_size = false;
        }
        Ok(())
    }

    pub fn text(&self, key: Key) -> String {
        key.spec().format(self.value(key))
    }

    /// Sets one setting from its text (the address, a form field, a flag).
    pub fn set_text(&mut self, key: Key, text: &str) -> Result<(), SettingError> {
        let value = key.spec().parse(text)?;
        self.set(key, value)
    }

    /// Every setting checked against its row: the first out of range, if any. Settings that
    /// come whole (a weights file, a kept run) pass through here.
    pub fn check(&self) -> Result<(), SettingError> {
        TABLE.iter().try_for_each(|spec| spec.check(self.value(spec.key)))
    }

    /// What going from these settings to `next` takes: the strongest of the changed rows (None
    /// when nothing changed).
    pub fn change_to(&self, next: &Settings) -> Option<Applies> {
        TABLE.iter().filter(|s| self.value(s.key) != next.value(s.key)).map(|s| s.applies).max()
    }

    /// The rows that differ in `next` and take new networks, as the form names them for
    /// `family`, with `next`'s values ("Seed 7"); the model, the size preset and the backend
    /// (said in their own ways) left out.
    pub fn rebuilds_for(&self, next: &Settings, family: Family) -> Vec<String> {
        TABLE
            .iter()
            .filter(|s| s.applies == Applies::Rebuild && !matches!(s.key, Key::Model | Key::Preset | Key::Backend))
            .filter(|s| self.value(s.key) != next.value(s.key))
            .map(|s| format!("{} {}", s.key.label_for(family), next.text(s.key)))
            .collect()
    }

    /// The settings that apply at once taken from `next`, the rest kept: what a running
    /// worker does with a `Tune`.
    pub fn tuned(&self, next: &Settings) -> Settings {
        let mut tuned = self.clone();
        for spec in TABLE.iter().filter(|s| s.applies == Applies::AtOnce) {
            // Both sides passed their checks, so this cannot fail.
            let _ = tuned.set(spec.key, next.value(spec.key));
        }
        tuned
    }

    /// The preset the sizes make, if any.
    pub fn preset(&self) -> Option<Preset> {
        Preset::of(&self.model)
    }
}

impl LossKind {
    pub const ALL: [LossKind; 3] = [LossKind::Bce, LossKind::LeastSquares, LossKind::Hinge];

    pub fn name(self) -> &'static str {
        choice_name(LOSSES, &LossKind::ALL, self)
    }
}

impl Family {
    /// The family's name in the address, the menu and the command line.
    pub fn name(self) -> &'static str {
        choice_name(MODELS, &Family::ALL, self)
    }

    pub fn from_name(name: &str) -> Option<Self> {
        choice_of(MODELS, &Family::ALL, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_one_row_and_a_unique_name() {
        for spec in TABLE {
            assert_eq!(spec.key.spec().name, spec.name);
            assert_eq!(Key::named(spec.name), Some(spec.key));
        }
        let mut names: Vec<_> = TABLE.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }

    #[test]
    fn defaults_are_the_cores_and_pass_the_checks() {
        let settings = Settings::default();
        assert_eq!((settings.model.clone(), settings.train.clone()), (ModelConfig::new(), TrainConfig::new()));
        settings.check().unwrap();
        // The form's step lands on every default (a number field is invalid between steps).
        for spec in TABLE {
            if let (Kind::Real { min, step, .. }, Value::Real(v)) = (spec.kind, settings.value(spec.key)) {
                let steps = (v - min) / step;
                assert!((steps - steps.round()).abs() < 1e-6, "{}: {v} is not min + k * step", spec.name);
            }
        }
    }

    #[test]
    fn text_round_trips_for_every_setting() {
        let mut settings = Settings::default();
        for (name, text) in [("lr_d", "0.0003"), ("beta1", "0.3"), ("batch", "48"), ("seed", "0"), ("loss", "hinge"),
            ("nz", "20"), ("label_smoothing", "0.1"), ("d_steps", "2"), ("backend", "cpu"), ("ema", "0.995"), ("augment", "2"),
            ("refine", "1"), ("d_refine", "1")]
        {
            let key = Key::named(name).unwrap();
            settings.set_text(key, text).unwrap();
            assert_eq!(settings.text(key), text, "{name}");
        }
        assert_eq!(settings.train.loss, LossKind::Hinge);
        assert_eq!(settings.train.ema, Some(0.995));
        settings.set_text(Key::Ema, "0").unwrap();
        assert_eq!(settings.train.ema, None, "0 turns the average off");
        assert_eq!(settings.backend, BackendRequest::Cpu);
        assert!(!settings.auto_size, "a size was chosen");
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_reason_and_change_nothing() {
        let mut settings = Settings::default();
        let before = settings.clone();
        for (key, text) in [(Key::LrD, "-5"), (Key::LrD, "0"), (Key::LrG, "NaN"), (Key::Beta1, "7.5"), (Key::Beta1, "0.9999999"),
            (Key::Batch, "100000000"), (Key::Batch, "0"), (Key::Ngf, "50000"), (Key::Nz, "1.5"), (Key::Seed, "-1"),
            (Key::Loss, "mse"), (Key::DSteps, "1000000000"), (Key::Ema, "1"), (Key::Ema, "-0.5"), (Key::Augment, "5"), (Key::Refine, "5"), (Key::DRefine, "5")]
        {
            let error = settings.set_text(key, text).unwrap_err();
            assert_eq!((error.name, error.value.as_str()), (key.spec().name, text));
        }
        assert_eq!(settings, before);
        let error = settings.set_text(Key::LrD, "-5").unwrap_err().to_string();
        assert_eq!(error, "lr_d=-5 is out of range: D learning rate takes 0.000001 to 1");
        for text in ["9", "-1", "2.5"] {
            let error = settings.set_text(Key::Augment, text).unwrap_err().to_string();
            assert_eq!(error, format!("augment={text} is out of range: shift D's digits (pixels) takes whole numbers 0 to 4"));
        }
        assert_eq!(settings.set_text(Key::Augment, "two").unwrap_err().to_string(), "augment=two is not a whole number");
        // A VAE's sizes by its networks' names.
        let words = |family| PRESETS.iter().map(|(_, w)| Key::Preset.choice_words_for(family, w)).collect::<Vec<_>>();
        assert_eq!(words(Family::Vae), ["tiny (16 and 8 wide)", "small (24 and 16 wide)", "standard (both 32 wide)"]);
        assert_eq!(words(Family::Cgan), ["tiny (G 16, D 8 wide)", "small (G 24, D 16 wide)", "standard (both 32 wide)"]);
        // The form says it by the field's label.
        assert_eq!(Key::Ngf.refused_in_the_form(Family::Dcgan, " 100000 "), format!("G width: whole numbers 1 to {MAX_WIDTH}, not “100000”"));
        assert_eq!(Key::LrD.refused_in_the_form(Family::Dcgan, "-5"), "D learning rate: 0.000001 to 1, not “-5”");
        assert_eq!(Key::LrD.refused_in_the_form(Family::Vae, "-5"), "Encoder learning rate: 0.000001 to 1, not “-5”");
        assert_eq!(Key::Seed.refused_in_the_form(Family::Vae, ""), format!("the Seed field is empty; it takes whole numbers 0 to {MAX_SEED}"));
        assert_eq!(Key::LrD.unreadable_in_the_form(Family::Vae), "what was typed in the Encoder learning rate field is not a number; it takes 0.000001 to 1");
        settings.set_text(Key::Augment, "3.0").unwrap();
        settings.set_text(Key::Seed, "1e3").unwrap();
        assert_eq!((settings.train.augment, settings.train.seed), (3, 1000), "whole numbers written as real ones");
    }

    #[test]
    fn whole_settings_checked_at_once() {
        let mut settings = Settings::default();
        settings.model.ngf = 50_000;
        assert_eq!(settings.check().unwrap_err().name, "ngf");
        let mut settings = Settings::default();
        settings.train.beta1 = 7.5;
        assert_eq!(settings.check().unwrap_err().name, "beta1");
    }

    #[test]
    fn presets_set_the_sizes_and_are_read_back_from_them() {
        let mut settings = Settings::default();
        assert!(settings.auto_size);
        settings.set_text(Key::Preset, "tiny").unwrap();
        assert_eq!(settings.model, Preset::Tiny.model());
        assert_eq!(settings.text(Key::Preset), "tiny");
        settings.set_text(Key::Ndf, "12").unwrap();
        assert_eq!(settings.text(Key::Preset), "custom");
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Some(preset));
        }
        assert_eq!(Preset::Standard.model(), ModelConfig::new());
    }

    #[test]
    fn a_change_says_what_it_takes_and_tuning_keeps_the_rest() {
        let base = Settings::default();
        let mut next = base.clone();
        assert_eq!(base.change_to(&next), None);
        next.set_text(Key::LrG, "0.001").unwrap();
        next.set_text(Key::Loss, "lsgan").unwrap();
        assert_eq!(base.change_to(&next), Some(Applies::AtOnce));
        next.set_text(Key::Seed, "5").unwrap();
        assert_eq!(base.change_to(&next), Some(Applies::Rebuild));
        let tuned = base.tuned(&next);
        assert_eq!((tuned.train.lr_g, tuned.train.loss, tuned.train.seed), (0.001, LossKind::LeastSquares, base.train.seed));
        next.set_text(Key::Backend, "cpu").unwrap();
        assert_eq!(base.change_to(&next), Some(Applies::Move));
    }
}
