//! The weights file: a small header (what the file holds, the configs, the step count)
//! followed by burnpack sections, one a network.
//!
//! Layout: `GANPLAY\0`, format version (u32 LE), header length (u32 LE), header JSON,
//! then each section's bytes in the order the header lists them.

use burn::module::Module;
use burn::prelude::*;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use burn::module::{ModuleMapper, Param};

use crate::metrics::Curves;
use crate::model::{Discriminator, Family, Generator, ModelConfig};
use crate::settings::{BackendRequest, SettingError, Settings};
use crate::readback::{copy_module_async, optimizer_record_async};
use crate::training::{Gan, TrainConfig};

/// Where the generator shipped for a model family is kept, and served with the page: its
/// weights (`generator.ganplay`, a VAE's decoder), `preview.png` and `quality.json`, as
/// `ganplay pretrain` writes them.
pub fn shipped_folder(family: Family) -> &'static str {
    match family {
        Family::Dcgan => "assets/pretrained",
        Family::Cgan => "assets/pretrained/cgan",
        Family::Vae => "assets/pretrained/vae",
    }
}

const MAGIC: &[u8; 8] = b"GANPLAY\0";
const VERSION: u32 = 1;
/// Files above this size are refused before being parsed.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;
const MAX_HEADER_BYTES: usize = 64 * 1024;

const GENERATOR: &str = "generator";
const DISCRIMINATOR: &str = "discriminator";
const OPTIMIZER_G: &str = "optimizer_g";
const OPTIMIZER_D: &str = "optimizer_d";
/// The moving average of G's weights, in runs that keep one.
const GENERATOR_AVERAGE: &str = "generator_average";
/// The run's curves (`metrics::Curves` as JSON), in a file saved from the page or by `train`.
const CURVES: &str = "curves";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CheckpointError {
    #[error("the file is empty")]
    Empty,
    #[error("this is not a ganplay weights file (it does not start with GANPLAY)")]
    NotACheckpoint,
    #[error("this weights file has format version {0}; this ganplay reads version {VERSION}")]
    UnsupportedVersion(u32),
    #[error("the weights file is truncated: {needed} bytes needed, {found} found")]
    Truncated { needed: usize, found: usize },
    #[error("the weights file is too large ({0} bytes; the limit is {MAX_FILE_BYTES})")]
    TooLarge(usize),
    #[error("the weights file's header is damaged: {0}")]
    BadHeader(String),
    #[error("the weights file is damaged (its {0} section does not match its checksum)")]
    Damaged(String),
    #[error("the weights file has no {0} weights")]
    MissingSection(&'static str),
    #[error("the {section} weights do not fit the model in the header: {detail}")]
    BadWeights { section: &'static str, detail: String },
    #[error("its settings are out of range ({0})")]
    OutOfRange(#[from] SettingError),
    #[error("its step count {0} is beyond any real run")]
    TooManySteps(u64),
    #[error("file {position} is of other sizes ({file}, where the first is {first}): only generators of one run can be averaged")]
    OtherSizes { position: usize, file: String, first: String },
    #[error("there are no generators to average")]
    NothingToAverage,
    #[error("it holds {file}, and the run here is {here}: choose {file_short} in the model menu first, then load it")]
    OtherFamily { file: String, here: String, file_short: &'static str },
}

/// A step count no run reaches (a million steps a second for three years); beyond it a file
/// is refused rather than let the counter wrap.
pub const MAX_STEPS: u64 = 100_000_000_000_000;

#[derive(Serialize, Deserialize)]
struct Section {
    name: String,
    len: usize,
    /// CRC-32 of the section's bytes: a damaged file is refused before burn parses it.
    crc32: u32,
}

#[derive(Serialize, Deserialize)]
struct Header {
    model: ModelConfig,
    train: TrainConfig,
    steps: u64,
    sections: Vec<Section>,
}

/// A parsed weights file: the configs it was made with and the raw network sections.
pub struct Checkpoint {
    pub model: ModelConfig,
    pub train: TrainConfig,
    /// Training steps the weights had seen.
    pub steps: u64,
    sections: Vec<(String, Vec<u8>)>,
}

fn record_bytes(module: impl Module) -> Vec<u8> {
    let bytes = module.into_record().into_bytes().expect("in-memory burnpack encoding");
    bytes.to_vec()
}

impl Checkpoint {
    /// Everything a run needs to go on exactly where it was: both networks, both optimizers'
    /// state, the configs and the step count (the random stream follows from seed and step).
    /// Reads tensors with blocking reads: use `of_gan_async` on a browser's WebGPU.
    pub fn of_gan(gan: &Gan) -> Self {
        let (optim_g, optim_d) = gan.optimizers();
        let parts = (gan.generator.clone(), gan.discriminator.clone(), gan.ema.clone());
        Self::of_parts(gan, parts, optim_g.to_record(), optim_d.to_record())
    }

    /// `of_gan`, reading the tensors back with `await` (any backend, the browser's WebGPU too).
    pub async fn of_gan_async(gan: &Gan) -> Result<Self, String> {
        let cpu = Device::flex();
        let generator = copy_module_async(&gan.generator, gan.model.init_generator(&cpu)).await?;
        let discriminator = copy_module_async(&gan.discriminator, gan.model.init_discriminator(&cpu)).await?;
        let average = match &gan.ema {
            Some(ema) => Some(copy_module_async(ema, gan.model.init_generator(&cpu)).await?),
            None => None,
        };
        let (optim_g, optim_d) = gan.optimizers();
        let optim_g = optimizer_record_async(optim_g).await?;
        let optim_d = optimizer_record_async(optim_d).await?;
        Ok(Self::of_parts(gan, (generator, discriminator, average), optim_g, optim_d))
    }

    fn of_parts(
        gan: &Gan,
        (generator, discriminator, average): (Generator, Discriminator, Option<Generator>),
        optim_g: OptimizerRecord,
        optim_d: OptimizerRecord,
    ) -> Self {
        let optimizer_bytes = |record: OptimizerRecord| record.into_bytes().expect("in-memory burnpack encoding").to_vec();
        let mut sections = vec![
            (GENERATOR.into(), record_bytes(generator)),
            (DISCRIMINATOR.into(), record_bytes(discriminator)),
            (OPTIMIZER_G.into(), optimizer_bytes(optim_g)),
            (OPTIMIZER_D.into(), optimizer_bytes(optim_d)),
        ];
        sections.extend(average.map(|average| (GENERATOR_AVERAGE.into(), record_bytes(average))));
        Self { model: gan.model.clone(), train: gan.train.clone(), steps: gan.steps, sections }
    }

    /// The generator the run draws with (its average, when it keeps one) alone (f32), read
    /// back with `await`: what the sampling worker draws with.
    pub async fn generator_of_gan_async(gan: &Gan) -> Result<Self, String> {
        let generator = copy_module_async(&gan.sampler(), gan.model.init_generator(&Device::flex())).await?;
        Ok(Self::generator_alone(&gan.model, &gan.train, gan.steps, generator))
    }

    /// A file that holds `generator` alone.
    fn generator_alone(model: &ModelConfig, train: &TrainConfig, steps: u64, generator: Generator) -> Self {
        Self { model: model.clone(), train: train.clone(), steps, sections: vec![(GENERATOR.into(), record_bytes(generator))] }
    }

    /// The generator the run draws with alone, its weights stored as f16 (half the size; samples differ from the f32
    /// weights by less than one grey level): what ships with the page as the pretrained model.
    pub fn generator_only_f16(gan: &Gan) -> Self {
        Self::f16_generator(&gan.model, &gan.train, gan.steps, &gan.sampler())
    }

    /// The average of the generators the files draw with, weight by weight, as f16 (as
    /// `generator_only_f16`): files that continue one run (the same sizes; checked), whose
    /// ends averaged draw about as well as the better end, or a little better. It takes the
    /// first file's configs and the largest step count.
    pub fn averaged(files: &[Checkpoint]) -> Result<Self, CheckpointError> {
        let first = files.first().ok_or(CheckpointError::NothingToAverage)?;
        let device = Device::flex();
        let mut generators = Vec::with_capacity(files.len());
        for (i, file) in files.iter().enumerate() {
            if file.model != first.model {
                let sizes = |model: &ModelConfig| format!("{}, {}", model.family.title(), model.sizes());
                return Err(CheckpointError::OtherSizes { position: i + 1, file: sizes(&file.model), first: sizes(&first.model) });
            }
            generators.push(file.generator(&device)?);
        }
        let average = crate::training::average_of(generators).expect("one file at least");
        let steps = files.iter().map(|file| file.steps).max().unwrap_or(0);
        Ok(Self::f16_generator(&first.model, &first.train, steps, &average))
    }

    /// `generator` alone, as f16.
    fn f16_generator(model: &ModelConfig, train: &TrainConfig, steps: u64, generator: &Generator) -> Self {
        struct Half;
        impl ModuleMapper for Half {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                param.map(|t| t.cast(burn::tensor::FloatDType::F16))
            }
        }
        // A copy: a module's clones share its batch-norm running statistics, and the cast
        // must not turn the run's own into f16.
        let fresh = model.init_generator(&generator.devices()[0]);
        Self::generator_alone(model, train, steps, crate::readback::copy_module(generator, fresh).map(&mut Half))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            model: self.model.clone(),
            train: self.train.clone(),
            steps: self.steps,
            sections: self
                .sections
                .iter()
                .map(|(name, b)| Section { name: name.clone(), len: b.len(), crc32: crc32fast::hash(b) })
                .collect(),
        };
        let header = serde_json::to_vec(&header).expect("configs serialize");
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for (_, bytes) in &self.sections {
            out.extend_from_slice(bytes);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(CheckpointError::TooLarge(bytes.len()));
        }
        let take = |at: usize, len: usize| {
            let needed = at.checked_add(len).ok_or(CheckpointError::Truncated { needed: usize::MAX, found: bytes.len() })?;
            bytes.get(at..needed).ok_or(CheckpointError::Truncated { needed, found: bytes.len() })
        };
        if bytes.is_empty() {
            return Err(CheckpointError::Empty);
        }
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::NotACheckpoint);
        }
        let word = |at| take(at, 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        let version = word(8)?;
        if version != VERSION {
            return Err(CheckpointError::UnsupportedVersion(version));
        }
        let header_len = word(12)? as usize;
        if header_len > MAX_HEADER_BYTES {
            return Err(CheckpointError::BadHeader(format!("header of {header_len} bytes")));
        }
        let bad_header = |e: serde_json::Error| CheckpointError::BadHeader(e.to_string());
        let mut header: serde_json::Value = serde_json::from_slice(take(16, header_len)?).map_err(bad_header)?;
        // Fields files written before them lack, with what such a file means: it holds a
        // DCGAN (there was no other model) with no extra layers in G or D, trained without shifts.
        let added = [
            ("model", "family", serde_json::to_value(Family::Dcgan).expect("a unit variant")),
            ("model", "refine", 0.into()),
            ("model", "drefine", 0.into()),
            ("train", "augment", 0.into()),
        ];
        for (part, field, meaning) in added {
            if let Some(part) = header.get_mut(part).and_then(|p| p.as_object_mut()) {
                part.entry(field).or_insert(meaning);
            }
        }
        let header: Header = serde_json::from_value(header).map_err(bad_header)?;
        let mut at = 16 + header_len;
        let mut sections = Vec::new();
        for section in header.sections {
            let bytes = take(at, section.len)?;
            if crc32fast::hash(bytes) != section.crc32 {
                return Err(CheckpointError::Damaged(section.name));
            }
            sections.push((section.name, bytes.to_vec()));
            at += section.len;
        }
        if at != bytes.len() {
            return Err(CheckpointError::BadHeader(format!("{} bytes after the last section", bytes.len() - at)));
        }
        // The same range checks as the address and the form: a crafted header must not build
        // networks of absurd size or train with absurd settings.
        Settings::of_run(BackendRequest::Auto, header.model.clone(), header.train.clone()).check()?;
        if header.steps > MAX_STEPS {
            return Err(CheckpointError::TooManySteps(header.steps));
        }
        Ok(Self { model: header.model, train: header.train, steps: header.steps, sections })
    }

    /// Refuses a file of another model family than `here`, naming both.
    pub fn of_family(&self, here: Family) -> Result<(), CheckpointError> {
        let file = self.model.family;
        if file == here {
            return Ok(());
        }
        Err(CheckpointError::OtherFamily {
            file: format!("{} ({})", file.long_name(), self.model.sizes()),
            here: here.long_name().to_string(),
            file_short: file.title(),
        })
    }

    /// The file with the run's curves in it (in place of any it held).
    pub fn with_curves(mut self, curves: &Curves) -> Self {
        self.sections.retain(|(name, _)| name != CURVES);
        self.sections.push((CURVES.into(), serde_json::to_vec(curves).expect("curves serialize")));
        self
    }

    /// The run's curves up to the file's step, where it holds them and they read as a run
    /// makes them; a file without them (or with curves that do not read) still loads.
    pub fn curves(&self) -> Option<Curves> {
        Curves::read(self.section(CURVES).ok()?, self.steps, self.model.family)
    }

    fn has(&self, name: &str) -> bool {
        self.sections.iter().any(|(n, _)| n == name)
    }

    fn section(&self, name: &'static str) -> Result<&[u8], CheckpointError> {
        let (_, bytes) = self.sections.iter().find(|(n, _)| n == name).ok_or(CheckpointError::MissingSection(name))?;
        Ok(bytes)
    }

    fn load<M: Module>(&self, name: &'static str, fresh: M) -> Result<M, CheckpointError> {
        let bytes = self.section(name)?;
        let bad = |detail: String| CheckpointError::BadWeights { section: name, detail };
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
            .map_err(|e| bad(e.to_string()))?
            .cast_to_module_dtype();
        fresh.try_load_record(record).map_err(|e| bad(e.to_string()))
    }

    /// The generator to draw with, on `device`: the average of G's weights where the run kept
    /// one, G otherwise.
    pub fn generator(&self, device: &Device) -> Result<Generator, CheckpointError> {
        let name = if self.has(GENERATOR_AVERAGE) { GENERATOR_AVERAGE } else { GENERATOR };
        self.load(name, self.model.init_generator(device))
    }

    fn optimizer(&self, name: &'static str) -> Result<OptimizerRecord, CheckpointError> {
        let bytes = self.section(name)?;
        OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
            .map_err(|e| CheckpointError::BadWeights { section: name, detail: e.to_string() })
    }

    /// The run, on `device` (an autodiff device), ready for its next step.
    pub fn into_gan(self, device: &Device) -> Result<Gan, CheckpointError> {
        let mut gan = Gan::new(self.model.clone(), self.train.clone(), device);
        gan.generator = self.load(GENERATOR, self.model.init_generator(device))?;
        gan.discriminator = self.load(DISCRIMINATOR, self.model.init_discriminator(device))?;
        gan.set_optimizer_state(self.optimizer(OPTIMIZER_G)?, self.optimizer(OPTIMIZER_D)?);
        if self.has(GENERATOR_AVERAGE) {
            gan.ema = Some(self.load(GENERATOR_AVERAGE, self.model.init_generator(&device.clone().inner()))?);
        }
        gan.steps = self.steps;
        Ok(gan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn gan() -> Gan {
        let model = ModelConfig::new().with_nz(6).with_ngf(3).with_ndf(3);
        Gan::new(model, TrainConfig::new().with_seed(5), &Device::flex().autodiff())
    }

    /// A tiny run after `steps` steps, and the digits it trains on.
    fn trained(steps: usize) -> (Gan, crate::data::Digits) {
        let digits = crate::data::tests::tiny_digits(4);
        let model = ModelConfig::new().with_nz(6).with_ngf(3).with_ndf(3);
        let mut gan = Gan::new(model, TrainConfig::new().with_batch_size(8), &Device::flex().autodiff());
        for _ in 0..steps {
            gan.step(&digits).read().unwrap();
        }
        (gan, digits)
    }

    #[test]
    fn a_run_with_an_average_of_g_saves_and_draws_with_it() {
        let digits = crate::data::tests::tiny_digits(4);
        let model = ModelConfig::new().with_nz(6).with_ngf(3).with_ndf(3);
        let train = TrainConfig::new().with_batch_size(8).with_ema(Some(0.9));
        let mut gan = Gan::new(model, train, &Device::flex().autodiff());
        for _ in 0..4 {
            gan.step(&digits).read().unwrap();
        }
        let z = Tensor::<4>::random([3, 6, 1, 1], Distribution::Normal(0.0, 1.0), &Device::flex());
        let drawn = gan.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        let file = Checkpoint::from_bytes(&Checkpoint::of_gan(&gan).to_bytes()).unwrap();
        let from_file = file.generator(&Device::flex()).unwrap().valid().forward(z.clone());
        assert_eq!(from_file.into_data().try_to_vec::<f32>().unwrap(), drawn);
        // Resumed, the run goes on with G and the average both as they were.
        let mut resumed = file.into_gan(&Device::flex().autodiff()).unwrap();
        assert_eq!(resumed.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap(), drawn);
        gan.step(&digits).read().unwrap();
        resumed.step(&digits).read().unwrap();
        let next = |g: &Gan| g.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(next(&resumed), next(&gan));
        // The shipped form (f16, generator alone) is the average too.
        let half = Checkpoint::from_bytes(&Checkpoint::generator_only_f16(&gan).to_bytes()).unwrap();
        let from_half = half.generator(&Device::flex()).unwrap().valid().forward(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        assert!(from_half.iter().zip(next(&gan)).all(|(a, b)| (a - b).abs() < 0.02));
    }

    #[test]
    fn round_trip_keeps_what_g_draws() {
        let mut gan = gan();
        gan.steps = 17;
        let bytes = Checkpoint::of_gan(&gan).to_bytes();
        let loaded = Checkpoint::from_bytes(&bytes).unwrap();
        assert_eq!((loaded.steps, &loaded.model, &loaded.train), (17, &gan.model, &gan.train));
        let restored = loaded.into_gan(&Device::flex().autodiff()).unwrap();
        let z = Tensor::<4>::random([2, 6, 1, 1], Distribution::Normal(0.0, 1.0), &Device::flex());
        let a = gan.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        let b = restored.generate(z).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_file_carries_the_runs_curves_up_to_its_step() {
        let (gan, _) = trained(3);
        let report = |step| crate::training::StepReport { step, ..Default::default() };
        let mut curves = Curves::new();
        (1..=5).for_each(|step| curves.charts.push(&report(step)));
        curves.quality.push(2, None);
        curves.quality.push(5, None);
        let file = Checkpoint::from_bytes(&Checkpoint::of_gan(&gan).with_curves(&curves).to_bytes()).unwrap();
        // Steps past the file's (taken after its weights were read back) are not its own.
        let mine = file.curves().expect("curves");
        assert_eq!(mine.charts.points().len(), 3);
        assert_eq!(mine.quality.points().iter().map(|(s, _)| *s).collect::<Vec<_>>(), [2]);
        // The run resumes as from a file without them, and saving again replaces them.
        assert_eq!(file.into_gan(&Device::flex().autodiff()).unwrap().steps, 3);
        let twice = Checkpoint::of_gan(&gan).with_curves(&curves).with_curves(&Curves::new());
        assert_eq!(Checkpoint::from_bytes(&twice.to_bytes()).unwrap().curves(), Some(Curves::new()));
        // A file without curves, or with curves not as a run makes them, still loads, without them.
        assert_eq!(Checkpoint::from_bytes(&Checkpoint::of_gan(&gan).to_bytes()).unwrap().curves(), None);
        let odd = Curves { charts: crate::metrics::MetricHistory::new(4), ..Curves::new() };
        let file = Checkpoint::from_bytes(&Checkpoint::of_gan(&gan).with_curves(&odd).to_bytes()).unwrap();
        assert_eq!(file.curves(), None);
        // Curves of another model (a VAE's measures in a DCGAN's file), or not in step order.
        let mut vae = Curves::new();
        vae.charts.push(&crate::training::StepReport { step: 1, measures: crate::training::Measures::Vae { reconstruction: 1.0, kl: 1.0 } });
        assert_eq!(Checkpoint::from_bytes(&Checkpoint::of_gan(&gan).with_curves(&vae).to_bytes()).unwrap().curves(), None);
        let mut json = serde_json::to_value(&curves).unwrap();
        json["charts"]["points"].as_array_mut().unwrap().swap(0, 1);
        let mut file = Checkpoint::of_gan(&gan);
        file.sections.push((CURVES.into(), serde_json::to_vec(&json).unwrap()));
        assert_eq!(Checkpoint::from_bytes(&file.to_bytes()).unwrap().curves(), None);
        let mut file = Checkpoint::of_gan(&gan);
        file.sections.push((CURVES.into(), b"{not json".to_vec()));
        let file = Checkpoint::from_bytes(&file.to_bytes()).unwrap();
        assert_eq!(file.curves(), None);
        assert!(file.into_gan(&Device::flex().autodiff()).is_ok());
    }

    #[test]
    fn a_file_read_back_with_await_resumes_the_same_run() {
        let (mut original, digits) = trained(2);
        let device = Device::flex().autodiff();
        let awaited = burn::tensor::read_sync(Checkpoint::of_gan_async(&original)).unwrap();
        let blocking = Checkpoint::of_gan(&original);
        for name in [OPTIMIZER_G, OPTIMIZER_D] {
            assert_eq!(awaited.section(name).unwrap(), blocking.section(name).unwrap(), "{name}");
        }
        let mut resumed = Checkpoint::from_bytes(&awaited.to_bytes()).unwrap().into_gan(&device).unwrap();
        for _ in 0..2 {
            assert_eq!(resumed.step(&digits).read().unwrap(), original.step(&digits).read().unwrap());
        }
    }

    #[test]
    fn an_f16_generator_draws_nearly_the_same_images() {
        let gan = gan();
        let half = Checkpoint::from_bytes(&Checkpoint::generator_only_f16(&gan).to_bytes()).unwrap();
        let full = Checkpoint::of_gan(&gan);
        assert!(half.to_bytes().len() < full.section(GENERATOR).unwrap().len());
        let generator = half.generator(&Device::flex()).unwrap();
        let z = Tensor::<4>::random([4, 6, 1, 1], Distribution::Normal(0.0, 1.0), &Device::flex());
        let a = gan.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        let b = generator.valid().forward(z).into_data().try_to_vec::<f32>().unwrap();
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(worst < 1.0 / 255.0, "largest difference {worst}");
        assert!(matches!(half.into_gan(&Device::flex().autodiff()), Err(CheckpointError::MissingSection("discriminator"))));
    }

    #[test]
    fn generators_of_one_run_average_weight_by_weight() {
        let (mut gan, digits) = trained(2);
        let early = Checkpoint::of_gan(&gan);
        for _ in 0..20 {
            gan.step(&digits).read().unwrap();
        }
        let ends = [early, Checkpoint::of_gan(&gan)];
        let averaged = Checkpoint::from_bytes(&Checkpoint::averaged(&ends).unwrap().to_bytes()).unwrap();
        assert_eq!((averaged.steps, &averaged.model), (22, &gan.model));
        // Every weight and running statistic is the mean of the two (to f16's precision).
        let leaves = |file: &Checkpoint| crate::readback::flat_values(&file.generator(&Device::flex()).unwrap());
        let (a, b, mean) = (leaves(&ends[0]), leaves(&ends[1]), leaves(&averaged));
        assert_eq!((a.len(), b.len()), (mean.len(), mean.len()));
        // Nearer the mean than either end, wherever the ends are far enough apart for f16 to
        // tell (its steps are 2^-11 of a value).
        let mut told = 0;
        for ((x, y), m) in a.iter().zip(&b).zip(&mean) {
            let want = (x + y) / 2.0;
            assert!((m - want).abs() <= 1e-3 * want.abs() + 1e-4, "{m} against {want}");
            if (x - y).abs() > 4e-3 * want.abs() + 4e-4 {
                told += 1;
            }
        }
        assert!(told > a.len() / 2, "only {told} of {} weights tell the ends apart", a.len());
        assert_eq!(Checkpoint::averaged(&[]).err(), Some(CheckpointError::NothingToAverage));
        // Generators of other sizes are not averaged.
        let other = Gan::new(ModelConfig::new().with_nz(6).with_ngf(4).with_ndf(3), TrainConfig::new(), &Device::flex().autodiff());
        let [_, late] = ends;
        let refused = Checkpoint::averaged(&[late, Checkpoint::of_gan(&other)]);
        assert!(matches!(refused, Err(CheckpointError::OtherSizes { position: 2, .. })), "{:?}", refused.err());
    }

    #[test]
    fn a_generator_file_draws_what_the_run_draws() {
        let gan = gan();
        let file = burn::tensor::read_sync(Checkpoint::generator_of_gan_async(&gan)).unwrap().to_bytes();
        let generator = Checkpoint::from_bytes(&file).unwrap().generator(&Device::flex()).unwrap();
        let z = Tensor::<4>::random([3, 6, 1, 1], Distribution::Normal(0.0, 1.0), &Device::flex());
        let a = gan.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        let b = generator.valid().forward(z).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let bytes = Checkpoint::of_gan(&gan()).to_bytes();
        let err = |b: &[u8]| Checkpoint::from_bytes(b).err().expect("refused");
        assert_eq!(err(b"PK\x03\x04 a zip file"), CheckpointError::NotACheckpoint);
        assert_eq!(err(b""), CheckpointError::Empty);
        assert!(matches!(err(&bytes[..bytes.len() - 10]), CheckpointError::Truncated { .. }));
        assert!(matches!(err(&bytes[..14]), CheckpointError::Truncated { needed: 16, .. }));
        let mut newer = bytes.clone();
        newer[8] = 9;
        assert_eq!(err(&newer), CheckpointError::UnsupportedVersion(9));
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(matches!(err(&extra), CheckpointError::BadHeader(_)));
        let mut header = bytes.clone();
        header[16] = b'!';
        assert!(matches!(err(&header), CheckpointError::BadHeader(_)));
    }

    /// A real file whose header JSON is edited, its sections and their checksums intact.
    fn with_header(bytes: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
        let len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
        let mut header: serde_json::Value = serde_json::from_slice(&bytes[16..16 + len]).unwrap();
        edit(&mut header);
        let header = serde_json::to_vec(&header).unwrap();
        let mut out = bytes[..12].to_vec();
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&bytes[16 + len..]);
        out
    }

    #[test]
    fn crafted_headers_with_settings_out_of_range_are_refused_with_the_reason() {
        let bytes = Checkpoint::of_gan(&gan()).to_bytes();
        assert!(Checkpoint::from_bytes(&with_header(&bytes, |_| {})).is_ok(), "the unedited file loads");
        let cases: [(&str, serde_json::Value, &str); 7] = [
            ("model", serde_json::json!({"nz": 6, "ngf": 50000, "ndf": 3}), "ngf=50000"),
            ("train", serde_json::json!(100_000_000), "batch=100000000"),
            ("train", serde_json::json!(-5.0), "lr_d=-5"),
            ("train", serde_json::json!(7.5), "beta1=7.5"),
            ("train", serde_json::json!(1_000_000_000), "d_steps=1000000000"),
            ("train", serde_json::json!(50), "augment=50"),
            ("steps", serde_json::json!(u64::MAX), "step count"),
        ];
        let fields = ["model", "batch_size", "lr_d", "beta1", "d_steps", "augment", "steps"];
        for ((part, value, named), field) in cases.into_iter().zip(fields) {
            let crafted = with_header(&bytes, |header| match part {
                "train" => header["train"][field] = value.clone(),
                _ => header[part] = value.clone(),
            });
            let error = Checkpoint::from_bytes(&crafted).err().unwrap_or_else(|| panic!("{field} {value} was accepted"));
            assert!(error.to_string().contains(named), "{field}: {error}");
        }
    }

    #[test]
    fn weights_of_another_shape_are_refused() {
        let mut checkpoint = Checkpoint::of_gan(&gan());
        checkpoint.model.ngf = 5; // header says another width than the weights have
        let err = checkpoint.generator(&Device::flex()).err().expect("refused");
        assert!(matches!(err, CheckpointError::BadWeights { section: "generator", .. }), "{err}");
    }

    #[test]
    fn corrupt_weight_bytes_are_refused() {
        let mut checkpoint = Checkpoint::of_gan(&gan());
        for byte in checkpoint.sections[0].1.iter_mut().take(64) {
            *byte = 0xAB;
        }
        assert!(matches!(checkpoint.generator(&Device::flex()), Err(CheckpointError::BadWeights { .. })));
        // In a file, the checksum catches it first.
        let bytes = checkpoint.to_bytes();
        let mut damaged = Checkpoint::of_gan(&gan()).to_bytes();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(matches!(Checkpoint::from_bytes(&damaged), Err(CheckpointError::Damaged(_))));
        assert!(Checkpoint::from_bytes(&bytes).is_ok());
    }

    #[test]
    fn files_from_before_model_families_extra_layers_and_augmentation_read_as_plain_unaugmented_dcgans() {
        // A DCGAN as there were then: no extra layers.
        let model = ModelConfig::new().with_nz(6).with_ngf(3).with_ndf(3).with_drefine(0);
        let gan = Gan::new(model, TrainConfig::new().with_seed(5), &Device::flex().autodiff());
        let bytes = Checkpoint::of_gan(&gan).to_bytes();
        let old = with_header(&bytes, |header| {
            header["model"].as_object_mut().unwrap().remove("family");
            header["model"].as_object_mut().unwrap().remove("refine");
            header["model"].as_object_mut().unwrap().remove("drefine");
            header["train"].as_object_mut().unwrap().remove("augment");
        });
        let file = Checkpoint::from_bytes(&old).unwrap();
        assert_eq!((file.model.family, file.model.refine, file.model.drefine, file.train.augment), (Family::Dcgan, 0, 0, 0));
        // Its weights are an old file's too: networks without extra layers have no tensors
        // under `refine` (records are keyed by path).
        assert!(file.generator(&Device::flex()).is_ok());
        assert!(file.into_gan(&Device::flex().autodiff()).is_ok());
    }

    #[test]
    fn networks_with_extra_layers_resume_where_they_were_and_their_file_says_so() {
        let digits = crate::data::tests::tiny_digits(4);
        let device = Device::flex().autodiff();
        let model = ModelConfig::new().with_nz(6).with_ngf(3).with_ndf(3).with_refine(2).with_drefine(1);
        let mut original = Gan::new(model.clone(), TrainConfig::new().with_batch_size(8), &device);
        original.step(&digits).read().unwrap();
        let file = Checkpoint::from_bytes(&Checkpoint::of_gan(&original).to_bytes()).unwrap();
        assert_eq!(file.model, model);
        let refused = file.of_family(Family::Vae).unwrap_err().to_string();
        assert!(refused.contains("generator 3 wide with 2 extra layers, discriminator 3 wide with 1 extra layer"), "{refused}");
        let mut resumed = file.into_gan(&device).unwrap();
        assert_eq!(resumed.step(&digits).read().unwrap(), original.step(&digits).read().unwrap());
        // A header that claims extra layers the weights lack is refused.
        let mut claimed = Checkpoint::from_bytes(&Checkpoint::of_gan(&gan()).to_bytes()).unwrap();
        claimed.model.refine = 1;
        assert!(matches!(claimed.generator(&Device::flex()), Err(CheckpointError::BadWeights { .. })));
        // So is one that claims more extra layers in D than it has.
        let mut claimed = Checkpoint::from_bytes(&Checkpoint::of_gan(&gan()).to_bytes()).unwrap();
        claimed.model.drefine = 3;
        assert!(matches!(claimed.into_gan(&device), Err(CheckpointError::BadWeights { .. })));
    }

    #[test]
    fn every_family_resumes_where_it_was_and_a_file_of_another_family_is_refused_naming_both() {
        let digits = crate::data::tests::tiny_digits(4);
        let device = Device::flex().autodiff();
        for family in [Family::Cgan, Family::Vae] {
            let model = ModelConfig::new().with_family(family).with_nz(6).with_ngf(3).with_ndf(3);
            let mut original = Gan::new(model, TrainConfig::new().with_batch_size(8), &device);
            original.step(&digits).read().unwrap();
            let file = Checkpoint::from_bytes(&Checkpoint::of_gan(&original).to_bytes()).unwrap();
            assert_eq!(file.model.family, family);
            assert_eq!(file.of_family(family), Ok(()));
            let refused = file.of_family(Family::Dcgan).unwrap_err().to_string();
            assert!(refused.contains(family.long_name()) && refused.contains("a DCGAN"), "{refused}");
            let mut resumed = file.into_gan(&device).unwrap();
            for _ in 0..2 {
                assert_eq!(resumed.step(&digits).read().unwrap(), original.step(&digits).read().unwrap(), "{family:?}");
            }
        }
        let vae = Checkpoint::from_bytes(&Checkpoint::of_gan(&Gan::new(
            ModelConfig::new().with_family(Family::Vae).with_nz(6).with_ngf(3).with_ndf(3),
            TrainConfig::new(),
            &device,
        )).to_bytes())
        .unwrap();
        assert_eq!(
            vae.of_family(Family::Cgan).unwrap_err().to_string(),
            "it holds a VAE (nz 6, decoder 3 wide, encoder 3 wide with 2 extra layers), and the run here is a conditional DCGAN: \
             choose VAE in the model menu first, then load it"
        );
    }

    #[test]
    fn a_resumed_run_takes_the_same_next_steps() {
        let (mut original, digits) = trained(3);
        let device = Device::flex().autodiff();
        let bytes = Checkpoint::of_gan(&original).to_bytes();
        let mut resumed = Checkpoint::from_bytes(&bytes).unwrap().into_gan(&device).unwrap();
        for _ in 0..3 {
            assert_eq!(resumed.step(&digits).read().unwrap(), original.step(&digits).read().unwrap());
        }
    }

    /// The parser meets arbitrary bytes (after a valid start, or none) and damaged real files:
    /// each is refused with a reason, or loads; nothing panics.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        fn real_file() -> Vec<u8> {
            Checkpoint::of_gan(&gan()).to_bytes()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            #[test]
            fn arbitrary_bytes(valid_start in any::<bool>(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let mut bytes = if valid_start { [&MAGIC[..], &VERSION.to_le_bytes()].concat() } else { Vec::new() };
                bytes.extend(tail);
                if let Ok(checkpoint) = Checkpoint::from_bytes(&bytes) {
                    let _ = checkpoint.into_gan(&Device::flex().autodiff());
                }
            }

            #[test]
            fn damaged_files(
                edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
                cut in proptest::option::of(any::<prop::sample::Index>()),
                extra in proptest::collection::vec(any::<u8>(), 0..16),
            ) {
                let mut bytes = real_file();
                for (at, value) in edits {
                    let at = at.index(bytes.len());
                    bytes[at] = value;
                }
                if let Some(cut) = cut {
                    bytes.truncate(cut.index(bytes.len()));
                }
                bytes.extend(extra);
                if let Ok(checkpoint) = Checkpoint::from_bytes(&bytes) {
                    let _ = checkpoint.into_gan(&Device::flex().autodiff());
                }
            }
        }
    }
}
