//! One DCGAN training step, as in the PyTorch DCGAN example: D on a real batch (label 1) and on
//! G(z) detached (label 0), an Adam step on D, then a G step with label 1 on D(G(z)).

use burn::config::Config;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};

use crate::readback::{ReadableAdam, copy_module};
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, relu, sigmoid};
use rand::{RngExt, SeedableRng};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::augment::{random_shifts, shift};
use crate::data::Digits;
use crate::layers::{ConvPath, force_conv_path};
use crate::latent::latent;
use crate::model::{CLASSES, Discriminator, Family, Generator, ModelConfig, conditioned_latent, seeded_init};

/// Bound on a VAE encoder's log-variance of z (e^10 is a variance far beyond any use).
const LOG_VAR_LIMIT: f32 = 10.0;

/// The loss the two networks play. All report D's output through a sigmoid as a probability.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossKind {
    /// Binary cross-entropy on logits, with the non-saturating generator loss (the seed's).
    #[default]
    Bce,
    /// Least squares (LSGAN): D regresses real to 1 and fake to 0.
    LeastSquares,
    /// Hinge loss (as in SAGAN / BigGAN).
    Hinge,
}

/// Hyperparameters of training. Defaults are the PyTorch DCGAN example's but for the batch
/// and the learning rates, chosen by what a visitor's CPU draws in the first minute.
/// Their ranges, names and words are in `settings::TABLE`.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// Adam learning rate of the discriminator. 5e-4 rather than the example's 2e-4: on the
    /// page's CPU path (tiny preset, batch 32, seed 42; scored by the classifier before the
    /// shipped one, `assets/classifier/README.md`) the digits after 60 s scored 4.23 against
    /// 3.75 (classifier score), Fréchet distance 93 against 147. At batch 16 (two seeds), 1e-3
    /// scored 4.71 after 60 s against 5e-4's 4.96, and 5.57 after 180 s against 5.42.
    #[config(default = 5e-4)]
    pub lr_d: f64,
    /// Adam learning rate of the generator (see `lr_d`).
    #[config(default = 5e-4)]
    pub lr_g: f64,
    /// Adam's beta1 (momentum); 0.5 keeps GAN training from oscillating.
    #[config(default = 0.5)]
    pub beta1: f32,
    /// Images in each real batch and each fake batch. 16 rather than the DCGAN example's 64: on
    /// the page's CPU path (tiny preset, lr 5e-4, two seeds; by the classifier before the shipped
    /// one) the digits after 60 s scored 4.96
    /// (classifier score; Fréchet distance 70) against 3.84 (116) at batch 32 and below that at
    /// 64, at about twice the steps a second (`tests/browser/quality-per-minute.mjs`).
    #[config(default = 16)]
    pub batch_size: usize,
    /// Seeds weight init, batch order and every z drawn: same seed, same run.
    #[config(default = 42)]
    pub seed: u64,
    #[config(default = "LossKind::Bce")]
    pub loss: LossKind,
    /// One-sided label smoothing: real images get target 1 - label_smoothing in D's loss.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// Discriminator steps for each generator step.
    #[config(default = 1)]
    pub d_steps: usize,
    /// Decay of an exponential moving average of G's weights, drawn from instead of G itself
    /// (smoother, sharper digits). `None` (or 0): no average. Optional so that weights files
    /// written before it existed still read.
    #[config(default = "None")]
    pub ema: Option<f32>,
    /// D sees every digit, real or drawn, shifted by up to this many pixels each way, a new
    /// shift each time (`augment::shift`): 0, none. Weights files written before it existed
    /// are read with 0.
    #[config(default = 0)]
    pub augment: usize,
}

impl TrainConfig {
    /// The average's decay, when one is kept.
    pub fn ema_decay(&self) -> Option<f32> {
        self.ema.filter(|decay| *decay > 0.0)
    }
}

/// What one step measured, by model family. Means over the batch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Measures {
    Gan {
        loss_d: f32,
        loss_g: f32,
        /// Mean D(x): how real D finds real digits.
        d_real: f32,
        /// Mean D(G(z)) before the D update (the seed's D_G_z1).
        d_fake_before: f32,
        /// Mean D(G(z)) after the D update, in the G step (the seed's D_G_z2).
        d_fake_after: f32,
    },
    /// A VAE's ELBO and its two terms, in nats per digit.
    Vae {
        /// -log p(x|z): how far the decoded digit is from the digit (Bernoulli likelihood).
        reconstruction: f32,
        /// KL(q(z|x) || N(0, I)): how far the encoder's z are from the prior.
        kl: f32,
    },
}

impl Default for Measures {
    fn default() -> Self {
        Measures::Gan { loss_d: 0.0, loss_g: 0.0, d_real: 0.0, d_fake_before: 0.0, d_fake_after: 0.0 }
    }
}

impl Measures {
    /// The names of `values`, as CSV columns, for a family.
    pub fn names(family: Family) -> &'static [&'static str] {
        match family {
            Family::Dcgan | Family::Cgan => &["loss_d", "loss_g", "d_x", "d_g_z_before", "d_g_z_after"],
            Family::Vae => &["reconstruction", "kl", "elbo"],
        }
    }

    /// The values in the order of `names` (a VAE's ELBO included: -(reconstruction + KL)).
    pub fn values(&self) -> Vec<f32> {
        match *self {
            Measures::Gan { loss_d, loss_g, d_real, d_fake_before, d_fake_after } => {
                vec![loss_d, loss_g, d_real, d_fake_before, d_fake_after]
            }
            Measures::Vae { reconstruction, kl } => vec![reconstruction, kl, -(reconstruction + kl)],
        }
    }

    /// From `values` in the order of `names` (a VAE's ELBO is not read: it follows).
    pub fn from_values(family: Family, v: &[f32]) -> Self {
        match family {
            Family::Dcgan | Family::Cgan => {
                Measures::Gan { loss_d: v[0], loss_g: v[1], d_real: v[2], d_fake_before: v[3], d_fake_after: v[4] }
            }
            Family::Vae => Measures::Vae { reconstruction: v[0], kl: v[1] },
        }
    }

    pub fn family(&self) -> Family {
        match self {
            Measures::Gan { .. } => Family::Dcgan,
            Measures::Vae { .. } => Family::Vae,
        }
    }

    /// Whether these are what a step of `family` measures (a conditional DCGAN's are a GAN's).
    pub fn are_of(&self, family: Family) -> bool {
        matches!((self, family), (Measures::Gan { .. }, Family::Dcgan | Family::Cgan) | (Measures::Vae { .. }, Family::Vae))
    }

    /// The two numbers a snapshot is labelled with.
    pub fn summary(&self) -> String {
        match *self {
            Measures::Gan { d_real, d_fake_before, .. } => format!("D(x) {d_real:.2} · D(G(z)) {d_fake_before:.2}"),
            Measures::Vae { reconstruction, kl } => format!("ELBO {:.1}", -(reconstruction + kl)),
        }
    }

    /// Makes the first value not a number: the test hook for a diverging run.
    pub fn poison(&mut self) {
        match self {
            Measures::Gan { loss_d, .. } => *loss_d = f32::NAN,
            Measures::Vae { reconstruction, .. } => *reconstruction = f32::NAN,
        }
    }
}

/// What one step measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// Steps done, counting this one (1 for the first step).
    pub step: u64,
    pub measures: Measures,
}

impl StepReport {
    pub fn is_finite(&self) -> bool {
        self.measures.values().iter().all(|v| v.is_finite())
    }

    /// A GAN's report (tests and the page's examples).
    pub fn gan(step: u64, loss_d: f32, loss_g: f32, d_real: f32, d_fake_before: f32, d_fake_after: f32) -> Self {
        Self { step, measures: Measures::Gan { loss_d, loss_g, d_real, d_fake_before, d_fake_after } }
    }

    /// The report in words, as the command line prints it.
    pub fn line(&self) -> String {
        match self.measures {
            Measures::Gan { loss_d, loss_g, d_real, d_fake_before, d_fake_after } => format!(
                "Loss_D: {loss_d:.4} Loss_G: {loss_g:.4} D(x): {d_real:.4} D(G(z)): {d_fake_before:.4} / {d_fake_after:.4}"
            ),
            Measures::Vae { reconstruction, kl } => {
                format!("reconstruction: {reconstruction:.2} KL: {kl:.2} ELBO: {:.2} (nats a digit)", -(reconstruction + kl))
            }
        }
    }
}

/// A step's report still on the device: reading it waits for the step to finish.
pub struct PendingReport {
    step: u64,
    family: Family,
    values: Tensor<1>,
}

impl PendingReport {
    /// Waits for the device (blocking; not allowed on a browser's WebGPU).
    #[cfg(not(target_family = "wasm"))]
    pub fn read(self) -> Result<StepReport, String> {
        let data = self.values.clone().into_data();
        Ok(self.report(&data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?))
    }

    pub async fn read_async(self) -> Result<StepReport, String> {
        let data = self.values.clone().into_data_async().await.map_err(|e| format!("{e:?}"))?;
        Ok(self.report(&data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?))
    }

    fn report(&self, values: &[f32]) -> StepReport {
        StepReport { step: self.step, measures: Measures::from_values(self.family, values) }
    }

    /// Several steps' reports in one read: their values are joined on the device first, so a
    /// chunk of steps waits for the device once, not once a step.
    pub async fn read_all_async(pending: Vec<PendingReport>) -> Result<Vec<StepReport>, String> {
        let values = crate::readback::read_all(pending.iter().map(|p| p.values.clone()).collect()).await?;
        Ok(pending.iter().zip(values).map(|(p, v)| p.report(&v)).collect())
    }
}

/// The convolution paths a GPU times before training new networks (`ConvTrial`): burn's, and
/// ganplay's tiled kernel. Which is faster depends on the GPU (on the CPU emulations measured,
/// SwiftShader and lavapipe, burn's; a GPU with fast workgroup memory is unmeasured) and on the
/// sizes, and the page has no autotune to decide: each machine times them.
pub const CONV_TRIAL_PATHS: [ConvPath; 2] = [ConvPath::Burn, ConvPath::Tiled];
/// Steps timed for each path, after one that prepares its kernels.
pub const CONV_TRIAL_STEPS: usize = 3;

/// The convolutions of a GPU emulated on the processor, untimed: burn's, faster in every trial
/// measured on SwiftShader (the page's `?bench=1`, batch 64: 2248 against 4953 ms a step for
/// tiny, 9636 against 12766 for standard) and on lavapipe.
pub const SOFTWARE_GPU_CONVOLUTIONS: &str = "convolutions: burn's convolutions, untimed (the faster on every software GPU measured)";

/// Where a GPU tells of a kernel it refuses (a shader it cannot compile, a workgroup past its
/// limits) while a convolution path is timed. Natively cubecl makes a refusal the error of the
/// launch's read, so `()` watches nothing; the browser's WebGPU tells it only to the device's
/// error scopes, and unscoped it would panic the worker (cubecl's handler of uncaught errors).
pub trait RefusalWatch {
    /// Catches what the device reports from now on, while `path`'s steps run.
    fn watch(&mut self, path: ConvPath);
    /// Stops catching, and says what the device reported meanwhile, if anything.
    fn refused(&mut self) -> impl Future<Output = Option<String>>;
}

impl RefusalWatch for () {
    fn watch(&mut self, _: ConvPath) {}

    async fn refused(&mut self) -> Option<String> {
        None
    }
}

/// Milliseconds a step of each convolution path took on a copy of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConvTrial {
    pub ms_per_step: Vec<(ConvPath, f64)>,
    /// Paths whose steps returned an error (a failed read, say), and why: they are not chosen.
    pub failed: Vec<(ConvPath, String)>,
    /// Paths whose kernels the GPU refused (`RefusalWatch`), in the browser's words: they are
    /// not chosen either, whatever their reads gave.
    pub refused: Vec<(ConvPath, String)>,
}

impl ConvTrial {
    /// Times each path (`steps` steps after an untimed one) on a copy of `gan`, which does
    /// not move, with `now` in milliseconds, and leaves the fastest in force
    /// (`force_conv_path`; burn's when every path failed). A path whose kernels the GPU
    /// refused (`refusals`) is left out (`refused`), whatever its reads gave. Natively, wait for
    /// it with `burn::tensor::read_sync`.
    pub async fn run(gan: &Gan, digits: &Digits, steps: usize, now: impl Fn() -> f64, refusals: &mut impl RefusalWatch) -> ConvTrial {
        let mut trial = ConvTrial::default();
        for path in CONV_TRIAL_PATHS {
            force_conv_path(Some(path));
            refusals.watch(path);
            let timed = time_steps(gan, digits, steps.max(1), &now).await;
            match (refusals.refused().await, timed) {
                (Some(words), _) => trial.refused.push((path, words)),
                (None, Ok(ms)) => trial.ms_per_step.push((path, ms)),
                (None, Err(why)) => trial.failed.push((path, why)),
            }
        }
        force_conv_path(Some(trial.fastest()));
        trial
    }

    /// What the page says when a path was refused or failed where another ran: "Convolutions:
    /// this GPU refused ganplay's tiled kernel, so training goes on with burn's convolutions.
    /// The browser said: …" (`None` when nothing went wrong, or nothing ran.)
    pub fn notice(&self) -> Option<String> {
        let chosen = self.fastest();
        self.ms(chosen)?;
        let chosen = chosen.describe();
        let refused = self.refused.iter().map(|(path, words)| {
            format!("Convolutions: this GPU refused {}, so training goes on with {chosen}. The browser said: {words}.", path.describe())
        });
        let failed = self.failed.iter().map(|(path, why)| {
            format!("Convolutions: {} failed on this GPU, so training goes on with {chosen}. The error: {why}.", path.describe())
        });
        let sentences: Vec<String> = refused.chain(failed).collect();
        (!sentences.is_empty()).then(|| sentences.join(" "))
    }

    /// The fastest path (burn's when none was timed).
    pub fn fastest(&self) -> ConvPath {
        self.ms_per_step.iter().min_by(|a, b| a.1.total_cmp(&b.1)).map_or(ConvPath::Burn, |&(path, _)| path)
    }

    /// Milliseconds a step of `path`, if it was timed.
    pub fn ms(&self, path: ConvPath) -> Option<f64> {
        self.ms_per_step.iter().find(|(p, _)| *p == path).map(|&(_, ms)| ms)
    }

    /// "convolutions: ganplay's tiled kernel, 8.1 ms a step (burn's convolutions: 21.4)".
    pub fn summary(&self) -> String {
        let fastest = self.fastest();
        let mut line = match self.ms(fastest) {
            Some(ms) => format!("convolutions: {}, {ms:.1} ms a step", fastest.describe()),
            None => format!("convolutions: {}, none could be timed", fastest.describe()),
        };
        let others: Vec<String> =
            self.ms_per_step.iter().filter(|(p, _)| *p != fastest).map(|&(p, ms)| format!("{}: {ms:.1}", p.describe())).collect();
        if !others.is_empty() {
            line += &format!(" ({})", others.join(", "));
        }
        for (path, why) in &self.failed {
            line += &format!("; {} failed: {why}", path.describe());
        }
        for (path, words) in &self.refused {
            line += &format!("; {} refused by the GPU: {words}", path.describe());
        }
        line
    }
}

/// What the trials of several models (a benchmark's presets) timed, path by path: "each on its
/// faster convolutions, steps queued and read together: burn's convolutions 1612 / 3540 ms,
/// ganplay's tiled kernel 2900 / 4884 ms" (a path that failed for a model: "failed").
pub fn conv_trials_line(trials: &[ConvTrial]) -> String {
    let paths: Vec<String> = CONV_TRIAL_PATHS
        .iter()
        .map(|&path| {
            let times: Vec<String> = trials.iter().map(|t| t.ms(path).map_or("failed".into(), |ms| format!("{ms:.0} ms"))).collect();
            format!("{} {}", path.describe(), times.join(" / "))
        })
        .collect();
    format!("each on its faster convolutions, steps queued and read together: {}", paths.join(", "))
}

/// Milliseconds a step of a copy of `gan`, over `steps` steps after an untimed one (its
/// kernels' preparation).
async fn time_steps(gan: &Gan, digits: &Digits, steps: usize, now: &impl Fn() -> f64) -> Result<f64, String> {
    let mut copy = gan.snapshot();
    copy.step(digits).read_async().await?;
    let started = now();
    let pending: Vec<_> = (0..steps).map(|_| copy.step(digits)).collect();
    PendingReport::read_all_async(pending).await?;
    Ok((now() - started) / steps as f64)
}

/// The two networks, their optimizers and the random stream: everything a run needs to go on.
#[derive(Clone)]
pub struct Gan {
    pub model: ModelConfig,
    pub train: TrainConfig,
    pub generator: Generator,
    pub discriminator: Discriminator,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
    /// Training steps done.
    pub steps: u64,
    /// The moving average of G's weights (inference device), when `train.ema` asks for one.
    pub ema: Option<Generator>,
}

impl Gan {
    /// Fresh networks. `device` must be an autodiff device (`Device::...().autodiff()`).
    pub fn new(model: ModelConfig, train: TrainConfig, device: &Device) -> Self {
        let mut rng = StdRng::seed_from_u64(train.seed);
        let generator = seeded_init(model.init_generator(device), &mut rng);
        let discriminator = seeded_init(model.init_discriminator(device), &mut rng);
        let adam = AdamConfig::new().with_beta_1(train.beta1).with_beta_2(0.999);
        let optimizer = || ModuleOptimizer::from(ReadableAdam(adam.build()));
        Self {
            optim_g: optimizer(),
            optim_d: optimizer(),
            model,
            train,
            generator,
            discriminator,
            steps: 0,
            ema: None,
        }
    }

    pub fn optimizers(&self) -> (&ModuleOptimizer, &ModuleOptimizer) {
        (&self.optim_g, &self.optim_d)
    }

    /// Restores the optimizers' state (Adam's moments), as saved with `optimizers`.
    pub fn set_optimizer_state(&mut self, g: burn::optim::OptimizerRecord, d: burn::optim::OptimizerRecord) {
        self.optim_g = self.optim_g.clone().load_record(g);
        self.optim_d = self.optim_d.clone().load_record(d);
    }

    /// A copy that later steps of this run leave alone (a plain clone shares the batch-norm
    /// running statistics).
    pub fn snapshot(&self) -> Gan {
        let device = self.device();
        Gan {
            generator: copy_module(&self.generator, self.model.init_generator(&device)),
            discriminator: copy_module(&self.discriminator, self.model.init_discriminator(&device)),
            ema: self.ema.as_ref().map(|ema| copy_module(ema, self.model.init_generator(&device.clone().inner()))),
            ..self.clone()
        }
    }

    pub fn device(&self) -> Device {
        self.generator.devices()[0].clone()
    }

    /// The random stream of the next step: a function of the seed and the step count alone,
    /// so a run saved at step N and resumed draws the same batches and z as one never stopped.
    fn step_rng(&self) -> StdRng {
        StdRng::seed_from_u64(self.train.seed ^ (self.steps + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// One training step on batches drawn from `digits`. Nothing is read back here, so steps
    /// queue on a GPU without waiting; read the report when it is needed.
    pub fn step(&mut self, digits: &Digits) -> PendingReport {
        let pending = match self.model.family {
            Family::Dcgan | Family::Cgan => self.gan_step(digits),
            Family::Vae => self.vae_step(digits),
        };
        self.update_ema();
        pending
    }

    /// A GAN step (a conditional one gives both networks the classes: the real digits' own,
    /// and classes drawn uniformly for the fakes).
    fn gan_step(&mut self, digits: &Digits) -> PendingReport {
        let device = self.device();
        let conditional = self.model.family.conditional();
        let batch = self.train.batch_size;
        let loss = self.train.loss;
        let real_target = 1.0 - self.train.label_smoothing;
        let mut rng = self.step_rng();

        let mut d_report = None;
        let mut fake = None;
        for _ in 0..self.train.d_steps.max(1) {
            let indices = digits.sample_indices(batch, &mut rng);
            let real = digits.batch(&indices, &device);
            let z = latent(&mut rng, batch, self.model.nz, &device);
            let (z, classes) = if conditional {
                let real_classes: Vec<u8> = indices.iter().map(|&i| digits.label(i)).collect();
                let fake_classes: Vec<u8> = (0..batch).map(|_| rng.random_range(0..CLASSES as u8)).collect();
                (conditioned_latent(z, &fake_classes), Some((real_classes, fake_classes)))
            } else {
                (z, None)
            };
            let generated = self.generator.forward(z);

            // Real and drawn digits in one pass of D, each batch with its own batch-norm
            // statistics: what two passes give, with half the kernel launches. Their shifts
            // are drawn real first, as two passes would draw them.
            let both = self.augmented(Tensor::cat(vec![real, generated.clone().detach()], 0), &mut rng);
            let both_classes = classes.as_ref().map(|(real, fake)| [real.as_slice(), fake.as_slice()].concat());
            let logits = judge(&self.discriminator, both, both_classes.as_deref(), 2);
            let loss_d = d_loss(loss, logits.clone(), batch, real_target);
            let grads = GradientsParams::from_grads(loss_d.backward(), &self.discriminator);
            self.discriminator = self.optim_d.step(self.train.lr_d, self.discriminator.clone(), grads);

            d_report = Some((loss_d.detach(), beliefs(logits, batch)));
            fake = Some((generated, classes.map(|c| c.1)));
        }
        let (loss_d, beliefs) = d_report.expect("at least one D step");
        let fake = fake.expect("at least one D step");

        // G step on the same fake batch, scored by the updated D.
        let (fake, fake_classes) = fake;
        let fake = self.augmented(fake, &mut rng);
        let fake_logits = judge(&self.discriminator, fake, fake_classes.as_deref(), 1);
        let loss_g = g_loss(loss, fake_logits.clone());
        let grads = GradientsParams::from_grads(loss_g.backward(), &self.generator);
        self.generator = self.optim_g.step(self.train.lr_g, self.generator.clone(), grads);

        self.steps += 1;
        let values = Tensor::cat(vec![loss_d, loss_g.detach(), beliefs, mean_probability(fake_logits)], 0);
        PendingReport { step: self.steps, family: self.model.family, values }
    }

    /// `images` as D sees them: shifted when the run augments (see `TrainConfig::augment`).
    /// Draws nothing from `rng` otherwise, so runs without it are as before.
    fn augmented(&self, images: Tensor<4>, rng: &mut StdRng) -> Tensor<4> {
        match self.train.augment {
            0 => images,
            pixels => {
                let shifts = random_shifts(rng, images.dims()[0], pixels);
                shift(images, &shifts)
            }
        }
    }

    /// A VAE step on the negative ELBO: the encoder (D's shape) gives the mean and
    /// log-variance of q(z|x), z is drawn from it by reparameterisation, and the decoder (G)
    /// is scored by the Bernoulli log-likelihood of the digit's pixels in [0, 1] (its
    /// pre-tanh output a gives p = (1 + tanh a) / 2 = sigmoid(2a)), plus the KL divergence of
    /// q(z|x) from N(0, I). Both terms are summed over a digit and averaged over the batch. The
    /// decoder learns at `lr_g`, the encoder at `lr_d`.
    fn vae_step(&mut self, digits: &Digits) -> PendingReport {
        let device = self.device();
        let (batch, nz) = (self.train.batch_size, self.model.nz);
        let mut rng = self.step_rng();
        let indices = digits.sample_indices(batch, &mut rng);
        let real = digits.batch(&indices, &device);

        let encoded = self.discriminator.encode(real.clone());
        let mean = encoded.clone().narrow(1, 0, nz);
        // Clamped so that exp() stays finite whatever the encoder says.
        let log_var = encoded.narrow(1, nz, nz).clamp(-LOG_VAR_LIMIT, LOG_VAR_LIMIT);
        let noise = latent(&mut rng, batch, nz, &device).reshape([batch, nz]);
        let z = mean.clone() + log_var.clone().mul_scalar(0.5).exp() * noise;
        let logits = self.generator.logits(z.reshape([batch, nz, 1, 1])).mul_scalar(2.0);
        let target = real.add_scalar(1.0).mul_scalar(0.5);
        let likelihood = target.clone() * log_sigmoid(logits.clone()) + target.neg().add_scalar(1.0) * log_sigmoid(logits.neg());
        let reconstruction = likelihood.sum().neg().div_scalar(batch as f32);
        let kl = (mean.powi_scalar(2) + log_var.clone().exp() - log_var.add_scalar(1.0)).sum().mul_scalar(0.5).div_scalar(batch as f32);

        let mut grads = (reconstruction.clone() + kl.clone()).backward();
        let grads_encoder = GradientsParams::from_module(&mut grads, &self.discriminator);
        let grads_decoder = GradientsParams::from_module(&mut grads, &self.generator);
        self.discriminator = self.optim_d.step(self.train.lr_d, self.discriminator.clone(), grads_encoder);
        self.generator = self.optim_g.step(self.train.lr_g, self.generator.clone(), grads_decoder);

        self.steps += 1;
        let values = Tensor::cat(vec![reconstruction.detach(), kl.detach()], 0);
        PendingReport { step: self.steps, family: self.model.family, values }
    }

    /// Moves the average of G's weights one step towards G (starting it from G when the run
    /// has none, and dropping it when the settings no longer ask for one). The decay warms up
    /// as (1 + t) / (10 + t), so early weights fade out fast.
    fn update_ema(&mut self) {
        let Some(decay) = self.train.ema_decay() else {
            self.ema = None;
            return;
        };
        let current = self.generator.valid();
        self.ema = Some(match self.ema.take() {
            None => copy_module(&current, self.model.init_generator(&current.devices()[0])),
            Some(ema) => {
                let t = self.steps as f32;
                let decay = decay.min((1.0 + t) / (10.0 + t));
                average_into(ema, &current, decay)
            }
        });
    }

    /// The generator to draw with, in inference mode: the average of G when the run keeps
    /// one, G itself otherwise.
    pub fn sampler(&self) -> Generator {
        match &self.ema {
            Some(ema) => ema.clone(),
            None => self.generator.valid(),
        }
    }

    /// A VAE's reconstructions of `images` [n, 1, 28, 28] in [-1, 1]: the decoder's drawing
    /// of the mean z the encoder gives each (inference mode; the decoder itself, not its
    /// average, since the encoder has none).
    pub fn reconstruct(&self, images: Tensor<4>) -> Tensor<4> {
        let (encoder, decoder) = (self.discriminator.valid(), self.generator.valid());
        let device = decoder.devices()[0].clone();
        let [n, ..] = images.dims();
        let nz = self.model.nz;
        let mean = encoder.encode(images.to_device(&device)).narrow(1, 0, nz);
        decoder.forward(mean.reshape([n, nz, 1, 1]))
    }

    /// Images the sampler draws from `z` ([n, nz, 1, 1]), in inference mode (batch norm uses
    /// its running statistics, so one image does not depend on the others in the batch). A
    /// conditional model draws the classes 0 to 9 in turn.
    pub fn generate(&self, z: Tensor<4>) -> Tensor<4> {
        let generator = self.sampler();
        let device = generator.devices()[0].clone();
        generator.forward(self.model.generator_input(z.detach().to_device(&device), None))
    }
}

/// The average of generators of one config, weight by weight (running statistics included):
/// for generators that continue one run, where the average of its ends draws about as well as
/// the better end, or a little better ("model soups"). `None` for none.
pub fn average_of(generators: Vec<Generator>) -> Option<Generator> {
    let mut generators = generators.into_iter();
    let first = generators.next()?;
    Some(generators.enumerate().fold(first, |mean, (i, next)| {
        // The mean of the first i + 1, moved to that of the first i + 2.
        let kept = (i + 1) as f32 / (i + 2) as f32;
        average_into(mean, &next, kept)
    }))
}

/// `ema` moved towards `current` (same config): every float tensor, running statistics
/// included, becomes decay * ema + (1 - decay) * current.
fn average_into(ema: Generator, current: &Generator, decay: f32) -> Generator {
    struct Blend(std::vec::IntoIter<Tensor<1>>, f32);
    impl burn::module::ModuleMapper for Blend {
        fn map_float<const D: usize>(&mut self, param: burn::module::Param<Tensor<D>>) -> burn::module::Param<Tensor<D>> {
            let current = self.0.next().expect("the same config has the same tensors");
            let decay = self.1;
            param.map(|ema| {
                let dims: [usize; D] = ema.dims();
                ema.mul_scalar(decay) + current.reshape(dims).mul_scalar(1.0 - decay)
            })
        }
    }
    ema.map(&mut Blend(crate::readback::flat_tensors(current).into_iter(), decay))
}

/// D's logits for `images` (`batches` batches of one size, stacked), of the digits `classes`
/// for a conditional D.
fn judge(discriminator: &Discriminator, images: Tensor<4>, classes: Option<&[u8]>, batches: usize) -> Tensor<1> {
    match classes {
        Some(classes) => discriminator.forward_conditioned_stacked(images, classes, batches),
        None => discriminator.forward_stacked(images, batches),
    }
}

/// D(x) and D(G(z)): the mean probability D gives the real digits and the drawn ones, from
/// their logits stacked (`batch` of each, real first), together.
fn beliefs(logits: Tensor<1>, batch: usize) -> Tensor<1> {
    sigmoid(logits.detach()).reshape([2, batch]).mean_dim(1).reshape([2])
}

fn mean_probability(logits: Tensor<1>) -> Tensor<1> {
    sigmoid(logits.detach()).mean()
}

/// BCE with logits against a constant target t: -(t log s(x) + (1-t) log s(-x)), mean.
fn bce(logits: Tensor<1>, target: f32) -> Tensor<1> {
    let positive = log_sigmoid(logits.clone()).mul_scalar(target);
    let negative = log_sigmoid(logits.neg()).mul_scalar(1.0 - target);
    (positive + negative).mean().neg()
}

/// D's loss on the logits of `batch` real digits and `batch` drawn ones, stacked (real
/// first): its loss on the real batch (as real, `real_target`) plus its loss on the drawn one
/// (as fake), each the mean over its batch. Written as one expression over both batches, with
/// each logit's target (or, for the hinge loss, the side it is pushed to): the loss on two
/// slices of the logits would take three times the kernel launches, counting the slices'
/// gradients.
fn d_loss(kind: LossKind, logits: Tensor<1>, batch: usize, real_target: f32) -> Tensor<1> {
    let device = logits.device();
    let each = |real: f32, fake: f32| Tensor::<1>::from_data(TensorData::new([vec![real; batch], vec![fake; batch]].concat(), [2 * batch]), &device);
    // The sum of two batches' means is twice the mean over both.
    match kind {
        LossKind::Bce => {
            let target = each(real_target, 0.0);
            let negative = target.clone().neg().add_scalar(1.0);
            (log_sigmoid(logits.clone()) * target + log_sigmoid(logits.neg()) * negative).mean().mul_scalar(-2.0)
        }
        // 0.5 (x - t)² a logit.
        LossKind::LeastSquares => (logits - each(real_target, 0.0)).powi_scalar(2).mean(),
        LossKind::Hinge => relu((logits * each(1.0, -1.0)).neg().add_scalar(1.0)).mean().mul_scalar(2.0),
    }
}

fn g_loss(kind: LossKind, logits: Tensor<1>) -> Tensor<1> {
    match kind {
        LossKind::Bce => bce(logits, 1.0),
        LossKind::LeastSquares => logits.sub_scalar(1.0).powi_scalar(2).mean().mul_scalar(0.5),
        LossKind::Hinge => logits.mean().neg(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tests::tiny_digits;

    fn tiny() -> (ModelConfig, TrainConfig) {
        (ModelConfig::new().with_nz(8).with_ngf(4).with_ndf(4), TrainConfig::new().with_batch_size(8))
    }

    fn device() -> Device {
        Device::flex().autodiff()
    }

    #[test]
    fn the_average_of_generators_is_their_mean_weight_by_weight() {
        let model = ModelConfig::new().with_nz(6).with_ngf(3).with_ndf(3);
        let generators: Vec<Generator> = (1..=3)
            .map(|seed| Gan::new(model.clone(), TrainConfig::new().with_seed(seed), &Device::flex()).generator)
            .collect();
        let each: Vec<Vec<f32>> = generators.iter().map(crate::readback::flat_values).collect();
        let mean = crate::readback::flat_values(&average_of(generators).unwrap());
        for (i, m) in mean.iter().enumerate() {
            let want = (each[0][i] + each[1][i] + each[2][i]) / 3.0;
            assert!((m - want).abs() < 1e-6, "weight {i}: {m} against {want}");
        }
        assert!(average_of(Vec::new()).is_none());
    }

    #[test]
    fn a_convolution_trial_keeps_the_fastest_path_and_says_the_others() {
        let trial = ConvTrial { ms_per_step: vec![(ConvPath::Burn, 21.44), (ConvPath::Tiled, 8.06)], failed: Vec::new(), refused: Vec::new() };
        assert_eq!(trial.fastest(), ConvPath::Tiled);
        assert_eq!(trial.summary(), "convolutions: ganplay's tiled kernel, 8.1 ms a step (burn's convolutions: 21.4)");
        let trial = ConvTrial { ms_per_step: vec![(ConvPath::Burn, 1612.0), (ConvPath::Tiled, 2900.0)], failed: Vec::new(), refused: Vec::new() };
        assert_eq!(trial.fastest(), ConvPath::Burn);
        let failed = ConvTrial { ms_per_step: vec![(ConvPath::Burn, 30.0)], failed: vec![(ConvPath::Tiled, "lost".into())], refused: Vec::new() };
        assert_eq!(failed.fastest(), ConvPath::Burn);
        assert_eq!(failed.summary(), "convolutions: burn's convolutions, 30.0 ms a step; ganplay's tiled kernel failed: lost");
        assert_eq!(ConvTrial::default().fastest(), ConvPath::Burn, "nothing timed: burn's");
        let none = ConvTrial { ms_per_step: Vec::new(), failed: vec![(ConvPath::Burn, "lost".into()), (ConvPath::Tiled, "lost".into())], refused: Vec::new() };
        assert!(none.summary().starts_with("convolutions: burn's convolutions, none could be timed; burn's convolutions failed: lost"));
        assert_eq!(
            conv_trials_line(&[trial, failed]),
            "each on its faster convolutions, steps queued and read together: burn's convolutions 1612 ms / 30 ms, ganplay's tiled kernel 2900 ms / failed"
        );
    }

    #[test]
    fn ds_loss_over_both_batches_is_the_sum_of_its_loss_on_each() {
        // The two losses as written for each batch alone.
        fn real(kind: LossKind, logits: Tensor<1>, target: f32) -> Tensor<1> {
            match kind {
                LossKind::Bce => bce(logits, target),
                LossKind::LeastSquares => logits.sub_scalar(target).powi_scalar(2).mean().mul_scalar(0.5),
                LossKind::Hinge => relu(logits.neg().add_scalar(1.0)).mean(),
            }
        }
        fn fake(kind: LossKind, logits: Tensor<1>) -> Tensor<1> {
            match kind {
                LossKind::Bce => bce(logits, 0.0),
                LossKind::LeastSquares => logits.powi_scalar(2).mean().mul_scalar(0.5),
                LossKind::Hinge => relu(logits.add_scalar(1.0)).mean(),
            }
        }
        let device = device();
        let batch = 5;
        let values = [2.5f32, -0.3, 0.0, 1.1, -4.0, 0.7, -1.2, 3.0, -0.9, 0.05];
        let leaf = || Tensor::<1>::from_data(TensorData::new(values.to_vec(), [2 * batch]), &device).require_grad();
        for kind in [LossKind::Bce, LossKind::LeastSquares, LossKind::Hinge] {
            for target in [1.0, 0.9] {
                let (ours, theirs) = (leaf(), leaf());
                let loss = d_loss(kind, ours.clone(), batch, target);
                let reference = real(kind, theirs.clone().narrow(0, 0, batch), target) + fake(kind, theirs.clone().narrow(0, batch, batch));
                let close = |a: Vec<f32>, b: Vec<f32>, what: &str| {
                    assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() <= 1e-6 * (1.0 + b.abs())), "{kind:?}, target {target}, {what}: {a:?} against {b:?}");
                };
                let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
                close(read(loss.clone()), read(reference.clone()), "loss");
                let (grads, reference_grads) = (loss.backward(), reference.backward());
                close(read(ours.grad(&grads).unwrap()), read(theirs.grad(&reference_grads).unwrap()), "gradient");
            }
        }
    }

    #[test]
    fn beliefs_are_the_real_digits_then_the_drawn_ones() {
        let logits = Tensor::<1>::from_data(TensorData::new(vec![10.0f32, 12.0, 14.0, -10.0, -12.0, -14.0], [6]), &device());
        let read = beliefs(logits, 3).into_data().try_to_vec::<f32>().unwrap();
        assert!(read[0] > 0.999 && read[1] < 0.001, "{read:?}");
    }

    #[test]
    fn step_losses_are_finite_for_every_loss_kind() {
        let digits = tiny_digits(4);
        for kind in [LossKind::Bce, LossKind::LeastSquares, LossKind::Hinge] {
            let (model, train) = tiny();
            let mut gan = Gan::new(model, train.with_loss(kind).with_d_steps(2).with_label_smoothing(0.1), &device());
            let report = gan.step(&digits).read().unwrap();
            assert!(report.is_finite(), "{kind:?}: {report:?}");
            assert_eq!(report.step, 1);
            for p in &report.measures.values()[2..] {
                assert!((0.0..=1.0).contains(p), "{kind:?}: {report:?}");
            }
        }
    }

    #[test]
    fn every_family_takes_a_finite_step_that_moves_every_conv_weight() {
        let digits = tiny_digits(4);
        for family in Family::ALL {
            let (model, train) = tiny();
            let mut gan = Gan::new(model.with_family(family), train, &device());
            let before = (conv_weights(&gan.generator), conv_weights(&gan.discriminator));
            let report = gan.step(&digits).read().unwrap();
            assert!(report.is_finite(), "{family:?}: {report:?}");
            assert_eq!(report.measures.values().len(), Measures::names(family).len());
            let after = (conv_weights(&gan.generator), conv_weights(&gan.discriminator));
            for (b, a) in before.0.iter().chain(&before.1).zip(after.0.iter().chain(&after.1)) {
                assert_ne!(b, a, "{family:?}: a conv weight did not change in a step");
            }
            let z = crate::latent::latent(&mut StdRng::seed_from_u64(1), 3, 8, &Device::flex());
            assert_eq!(gan.generate(z).dims(), [3, 1, 28, 28], "{family:?}");
        }
    }

    #[test]
    fn shifted_digits_change_what_d_sees_and_no_shifts_draw_no_random_numbers() {
        let digits = tiny_digits(4);
        let (model, train) = tiny();
        for family in [Family::Dcgan, Family::Cgan] {
            let model = model.clone().with_family(family);
            let plain = Gan::new(model.clone(), train.clone(), &device()).step(&digits).read().unwrap();
            let mut gan = Gan::new(model, train.clone().with_augment(2), &device());
            let before = (conv_weights(&gan.generator), conv_weights(&gan.discriminator));
            let shifted = gan.step(&digits).read().unwrap();
            assert!(shifted.is_finite(), "{family:?}: {shifted:?}");
            // Same weights, batch and z: only the shifts differ.
            assert_ne!(plain.measures, shifted.measures, "{family:?}: the shifts changed nothing D saw");
            let after = (conv_weights(&gan.generator), conv_weights(&gan.discriminator));
            for (b, a) in before.0.iter().chain(&before.1).zip(after.0.iter().chain(&after.1)) {
                assert_ne!(b, a, "{family:?}: a conv weight did not change in a shifted step");
            }
        }
        // Without shifts the random stream is untouched, so such runs are as they always were.
        let gan = Gan::new(model, train, &device());
        let (mut used, mut fresh) = (StdRng::seed_from_u64(5), StdRng::seed_from_u64(5));
        let _ = gan.augmented(Tensor::zeros([3, 1, 28, 28], &device()), &mut used);
        assert_eq!(used.random::<u64>(), fresh.random::<u64>());
    }

    #[test]
    fn a_vae_reports_its_elbo_as_the_sum_of_its_terms_and_both_are_positive() {
        let (model, train) = tiny();
        let mut gan = Gan::new(model.with_family(Family::Vae), train, &device());
        let report = gan.step(&tiny_digits(4)).read().unwrap();
        let Measures::Vae { reconstruction, kl } = report.measures else { panic!("{report:?}") };
        assert!(reconstruction > 0.0 && kl >= 0.0, "{report:?}");
        assert_eq!(report.measures.values(), [reconstruction, kl, -(reconstruction + kl)], "in the order of the names");
        assert_eq!(Measures::names(Family::Vae), ["reconstruction", "kl", "elbo"]);
        assert!(report.line().contains(&format!("ELBO: {:.2}", -(reconstruction + kl))), "{}", report.line());
        // A fresh decoder draws grey: about ln 2 nats a pixel against digits mostly black.
        assert!((100.0..2000.0).contains(&reconstruction), "{report:?}");
    }

    /// Every conv weight (the trained parameters with rank 4) of a module, as values.
    fn conv_weights(module: &impl Module) -> Vec<Vec<f32>> {
        struct Collect(Vec<Vec<f32>>);
        impl burn::module::ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                if D == 4 {
                    self.0.push(param.val().into_data().try_to_vec::<f32>().unwrap());
                }
            }
        }
        let mut collect = Collect(Vec::new());
        module.visit(&mut collect);
        collect.0
    }

    #[test]
    fn a_step_updates_every_conv_weight_of_both_networks() {
        let (model, train) = tiny();
        let mut gan = Gan::new(model, train, &device());
        let before = (conv_weights(&gan.generator), conv_weights(&gan.discriminator));
        gan.step(&tiny_digits(2)).read().unwrap();
        let after = (conv_weights(&gan.generator), conv_weights(&gan.discriminator));
        // G's three; D's three and its two extra layers.
        assert_eq!((before.0.len(), before.1.len()), (3, 5));
        for (name, b, a) in [("G", &before.0, &after.0), ("D", &before.1, &after.1)] {
            for (layer, (b, a)) in b.iter().zip(a).enumerate() {
                assert_ne!(b, a, "{name} layer {layer} did not change in a step");
            }
        }
    }

    #[test]
    fn a_chunk_read_at_once_reports_each_step() {
        let digits = tiny_digits(4);
        let (model, train) = tiny();
        let one_by_one = {
            let mut gan = Gan::new(model.clone(), train.clone(), &device());
            (0..3).map(|_| gan.step(&digits).read().unwrap()).collect::<Vec<_>>()
        };
        let mut gan = Gan::new(model, train, &device());
        let pending = (0..3).map(|_| gan.step(&digits)).collect();
        let together = crate::readback::ready_now(PendingReport::read_all_async(pending)).unwrap();
        assert_eq!(together, one_by_one);
        assert_eq!(together.iter().map(|r| r.step).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn the_average_of_g_follows_g_and_is_what_the_run_draws_with() {
        let digits = tiny_digits(4);
        let (model, train) = tiny();
        let mut gan = Gan::new(model, train.with_ema(Some(0.9)), &device());
        assert!(gan.ema.is_none());
        let z = crate::latent::latent(&mut StdRng::seed_from_u64(1), 4, 8, &Device::flex());
        for _ in 0..5 {
            gan.step(&digits).read().unwrap();
        }
        let drawn = gan.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        let average = gan.ema.as_ref().unwrap().forward(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        let own = gan.generator.valid().forward(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(drawn, average);
        assert_ne!(drawn, own, "after several steps the average lags G");
        // Turned off, the run draws with G again.
        gan.train.ema = None;
        gan.step(&digits).read().unwrap();
        assert!(gan.ema.is_none());
        let own = gan.generator.valid().forward(z.clone()).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(gan.generate(z).into_data().try_to_vec::<f32>().unwrap(), own);
    }

    #[test]
    fn bce_matches_its_definition() {
        let logits = Tensor::<1>::from_floats([0.0, 2.0], &Device::flex());
        let value = bce(logits, 1.0).into_scalar::<f32>();
        let expected = (std::f32::consts::LN_2 + (1.0 + (-2.0f32).exp()).ln()) / 2.0;
        assert!((value - expected).abs() < 1e-5, "{value} vs {expected}");
    }

    #[test]
    fn same_seed_same_numbers() {
        let digits = tiny_digits(4);
        let run = |seed| {
            let (model, train) = tiny();
            let mut gan = Gan::new(model, train.with_seed(seed), &device());
            (0..3).map(|_| gan.step(&digits).read().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn discriminator_learns_real_from_flat_fakes() {
        // Train only D: real digits against flat grey "fakes"; D(x) must rise above
        // D(fake) within a few steps.
        let digits = tiny_digits(8);
        let device = device();
        let (model, _) = tiny();
        let mut d = model.init_discriminator(&device);
        let mut optim = AdamConfig::new().with_beta_1(0.5).init();
        // Each fake image is one flat grey level (a batch of identical images would be
        // invisible to D: batch norm maps a constant batch to zero).
        let levels: Vec<f32> = (0..16).flat_map(|i| vec![i as f32 / 8.0 - 1.0; 784]).collect();
        let fake = Tensor::<4>::from_data(TensorData::new(levels, [16, 1, 28, 28]), &device);
        let mut rng = StdRng::seed_from_u64(3);
        let (mut p_real, mut p_fake) = (0.0, 0.0);
        for _ in 0..40 {
            let real = digits.batch(&digits.sample_indices(16, &mut rng), &device);
            let (real_logits, fake_logits) = (d.forward(real), d.forward(fake.clone()));
            p_real = mean_probability(real_logits.clone()).into_scalar::<f32>();
            p_fake = mean_probability(fake_logits.clone()).into_scalar::<f32>();
            let loss = bce(real_logits, 1.0) + bce(fake_logits, 0.0);
            let grads = GradientsParams::from_grads(loss.backward(), &d);
            d = optim.step(1e-3, d, grads);
        }
        assert!(p_real > 0.8 && p_fake < 0.2, "D(x) = {p_real}, D(fake) = {p_fake}");
    }
}
