//! A small digit classifier that judges what a generator draws, as GAN papers judge MNIST
//! generators: two conv layers and a linear head, trained on the training split only (never the
//! held-out digits), deterministic under its seed. Its penultimate layer is the feature space
//! of the Fréchet distance (see `quality`). Shipped as an f16 weights file in `assets/`.

use burn::module::{ModuleMapper, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::tensor::activation::{log_softmax, relu, softmax};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::data::{Digits, PIXELS};
use crate::latent::normal_values;
use crate::model::{Generator, IMAGE_SIDE, ModelConfig};
use crate::quality::{Gaussian, PAGE_DIGITS, PAGE_SEED, Quality, Reference};

/// Length of the feature vector the Fréchet distance compares.
pub const FEATURES: usize = 32;
/// Digit classes.
pub const CLASSES: usize = 10;

const MAGIC: &[u8; 8] = b"GPCLASS\0";
const VERSION: u32 = 1;

/// Why a classifier file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClassifierError {
    #[error("not a ganplay classifier file")]
    NotAClassifier,
    #[error("the classifier file has format version {0}; this ganplay reads version {VERSION}")]
    UnsupportedVersion(u32),
    #[error("the classifier file is damaged (its checksum does not match)")]
    Damaged,
    #[error("the classifier's weights do not fit its shape: {0}")]
    BadWeights(String),
}

/// The digit classifier: 28x28 images in [-1, 1] to ten class logits.
#[derive(Module, Debug)]
pub struct Classifier {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    features: Linear,
    head: Linear,
}

/// Redraws every weight from N(0, 2 / fan_in) (He initialisation) with `rng`, and zeroes the
/// biases, so that the seed alone fixes the start.
fn seeded_he_init(classifier: Classifier, rng: &mut StdRng) -> Classifier {
    struct Redraw<'a>(&'a mut StdRng);
    impl ModuleMapper for Redraw<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|weight| {
                let (shape, device, trainable) = (weight.shape(), weight.device(), weight.is_require_grad());
                let dims = shape.dims::<D>();
                let values = if D == 1 {
                    vec![0.0; shape.num_elements()]
                } else {
                    // Conv weights are [out, in, k, k]; linear weights [in, out].
                    let fan_in = if D == 4 { dims[1] * dims[2] * dims[3] } else { dims[0] };
                    let scale = (2.0 / fan_in as f32).sqrt();
                    normal_values(self.0, shape.num_elements()).into_iter().map(|v| v * scale).collect()
                };
                Tensor::from_data(TensorData::new(values, shape), &device).set_require_grad(trainable)
            })
        }
    }
    classifier.map(&mut Redraw(rng))
}

impl Classifier {
    /// A fresh classifier whose weights follow from `seed`.
    pub fn new(seed: u64, device: &Device) -> Self {
        let conv = |channels: [usize; 2]| Conv2dConfig::new(channels, [5, 5]).with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2));
        let fresh = Classifier {
            conv1: conv([1, 16]).init(device),
            conv2: conv([16, 32]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            features: LinearConfig::new(32 * 7 * 7, FEATURES).init(device),
            head: LinearConfig::new(FEATURES, CLASSES).init(device),
        };
        seeded_he_init(fresh, &mut StdRng::seed_from_u64(seed))
    }

    /// The penultimate layer's features of images [n, 1, 28, 28]: [n, FEATURES].
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.conv1.forward(images))); // 16 x 14 x 14
        let x = self.pool.forward(relu(self.conv2.forward(x))); // 32 x 7 x 7
        relu(self.features.forward(x.flatten::<2>(1, 3)))
    }

    /// Class logits [n, 10].
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.head.forward(self.features(images))
    }

    /// Class probabilities and features of images, read back: ([n x 10], [n x FEATURES]).
    pub async fn judge(&self, images: Tensor<4>) -> Result<(Vec<f32>, Vec<f32>), String> {
        let features = self.features(images);
        let probabilities = softmax(self.head.forward(features.clone()), 1);
        let read = |t: Tensor<2>| async move { t.into_data_async().await.map_err(|e| format!("{e:?}"))?.try_to_vec::<f32>().map_err(|e| format!("{e:?}")) };
        Ok((read(probabilities).await?, read(features).await?))
    }

    /// The held-out digits' features: the reference the Fréchet distance measures against.
    pub async fn reference(&self, held_out: &Digits) -> Result<Gaussian, String> {
        let device = self.conv1.weight.val().device();
        let indices: Vec<usize> = (0..held_out.len()).collect();
        let (_, features) = self.judge(held_out.batch(&indices, &device)).await?;
        Gaussian::of(&features).ok_or_else(|| "too few held-out digits".to_string())
    }

    /// `generator`'s quality as the page scores a run (`PAGE_DIGITS` from `PAGE_SEED`), with the
    /// score of the `held_out` digits themselves, whose features are `reference`: the scale the
    /// page shows beside a run's score. `None` when the classifier cannot say.
    pub async fn measure_reference(
        &self,
        generator: &Generator,
        model: &ModelConfig,
        steps: u64,
        held_out: &Digits,
        reference: &Gaussian,
    ) -> Result<Option<Reference>, String> {
        let device = generator.devices()[0].clone();
        let z = crate::latent::latent(&mut StdRng::seed_from_u64(PAGE_SEED), PAGE_DIGITS, model.nz, &device);
        // (A conditional generator draws each digit as often, and is scored on what it was asked.)
        let asked = model.classes_asked(PAGE_DIGITS);
        let images = generator.forward(model.generator_input(z, asked.as_deref()));
        let Some(quality) = self.quality_asked(images, reference, asked.as_deref()).await? else { return Ok(None) };
        let all: Vec<usize> = (0..held_out.len()).collect();
        let Some(real) = self.quality(held_out.batch(&all, &device), reference).await? else { return Ok(None) };
        Ok(Some(Reference { family: model.family, quality, steps, real_score: real.score }))
    }

    /// What the classifier makes of `images` ([n, 1, 28, 28] in [-1, 1]): `None` when it
    /// cannot say (too few images, a value that is not a number).
    pub async fn quality(&self, images: Tensor<4>, reference: &Gaussian) -> Result<Option<Quality>, String> {
        self.quality_asked(images, reference, None).await
    }

    /// `quality` of digits a conditional model drew when asked for the classes `asked`.
    pub async fn quality_asked(&self, images: Tensor<4>, reference: &Gaussian, asked: Option<&[u8]>) -> Result<Option<Quality>, String> {
        let device = self.conv1.weight.val().device();
        let (probabilities, features) = self.judge(images.to_device(&device)).await?;
        Ok(Quality::judge_asked(&probabilities, &features, reference, asked))
    }

    /// For digits a conditional generator drew (`images`) when asked for the classes `asked`:
    /// the share of each class's digits that the classifier reads as that class (NaN for a
    /// class never asked for).
    #[cfg(not(target_family = "wasm"))]
    pub fn agreement(&self, images: Tensor<4>, asked: &[u8]) -> [f64; CLASSES] {
        let device = self.conv1.weight.val().device();
        let read: Vec<i64> = self.forward(images.to_device(&device)).argmax(1).into_data().iter::<i64>().collect();
        let mut counts = [(0usize, 0usize); CLASSES];
        for (&class, &read) in asked.iter().zip(&read) {
            let c = &mut counts[class as usize % CLASSES];
            *c = (c.0 + (read == class as i64) as usize, c.1 + 1);
        }
        counts.map(|(right, all)| if all == 0 { f64::NAN } else { right as f64 / all as f64 })
    }

    /// Share of `digits` whose class the classifier gets right.
    #[cfg(not(target_family = "wasm"))]
    pub fn accuracy(&self, digits: &Digits) -> f64 {
        let device = self.conv1.weight.val().device();
        let mut right = 0;
        let indices: Vec<usize> = (0..digits.len()).collect();
        for chunk in indices.chunks(250) {
            let predicted = self.forward(digits.batch(chunk, &device)).argmax(1).into_data();
            let predicted = predicted.iter::<i64>().collect::<Vec<_>>();
            right += chunk.iter().zip(predicted).filter(|&(&i, p)| digits.label(i) as i64 == p).count();
        }
        right as f64 / digits.len().max(1) as f64
    }

    /// The weights as a file: f16 values in a burnpack record, behind a magic and a checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        struct Half;
        impl ModuleMapper for Half {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                param.map(|t| t.cast(burn::tensor::FloatDType::F16))
            }
        }
        let record = self.clone().map(&mut Half).into_record().into_bytes().expect("in-memory burnpack encoding").to_vec();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&record).to_le_bytes());
        out.extend_from_slice(&record);
        out
    }

    /// A classifier file, on `device`.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self, ClassifierError> {
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(ClassifierError::NotAClassifier);
        }
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        if word(8) != VERSION {
            return Err(ClassifierError::UnsupportedVersion(word(8)));
        }
        let record = &bytes[16..];
        if crc32fast::hash(record) != word(12) {
            return Err(ClassifierError::Damaged);
        }
        let bad = |e: String| ClassifierError::BadWeights(e);
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(record.to_vec())).map_err(|e| bad(e.to_string()))?.cast_to_module_dtype();
        Classifier::new(0, device).try_load_record(record).map_err(|e| bad(e.to_string()))
    }
}

/// Images `indices` of `digits`, each shifted by up to `shift` pixels in x and y (the border
/// filled with background): the augmentation that lets 9,000 digits train a classifier that
/// does not care where in the frame a digit sits.
fn shifted_batch(digits: &Digits, indices: &[usize], shift: i32, rng: &mut StdRng, device: &Device) -> Tensor<4> {
    let side = IMAGE_SIDE as i32;
    let mut values = Vec::with_capacity(indices.len() * PIXELS);
    for &i in indices {
        let (dx, dy) = (rng.random_range(-shift..=shift), rng.random_range(-shift..=shift));
        let image = digits.image(i);
        for y in 0..side {
            for x in 0..side {
                let (sx, sy) = (x - dx, y - dy);
                let inside = (0..side).contains(&sx) && (0..side).contains(&sy);
                let pixel = if inside { image[(sy * side + sx) as usize] } else { 0 };
                values.push(pixel as f32 / 127.5 - 1.0);
            }
        }
    }
    Tensor::from_data(TensorData::new(values, [indices.len(), 1, IMAGE_SIDE, IMAGE_SIDE]), device)
}

/// One-hot targets of `indices`' labels, [n, 10].
fn one_hot(digits: &Digits, indices: &[usize], device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; indices.len() * CLASSES];
    for (row, &i) in indices.iter().enumerate() {
        values[row * CLASSES + digits.label(i) as usize] = 1.0;
    }
    Tensor::from_data(TensorData::new(values, [indices.len(), CLASSES]), device)
}

/// Trains a classifier on `train` for `epochs` passes (Adam, batch 64, shifted digits); the
/// same seed gives the same weights. `device` must be an autodiff device. Calls `progress`
/// after each epoch with the epoch and its mean loss.
pub fn train_classifier(train: &Digits, seed: u64, epochs: usize, device: &Device, mut progress: impl FnMut(usize, f32)) -> Classifier {
    const BATCH: usize = 64;
    let mut classifier = Classifier::new(seed, device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(seed ^ 0xC1A5);
    for epoch in 1..=epochs {
        let mut order = rand::seq::index::sample(&mut rng, train.len(), train.len()).into_vec();
        order.truncate(train.len() / BATCH * BATCH);
        let mut total = 0.0;
        for batch in order.chunks(BATCH) {
            let images = shifted_batch(train, batch, 2, &mut rng, device);
            let targets = one_hot(train, batch, device);
            let loss = (log_softmax(classifier.forward(images), 1) * targets).sum_dim(1).mean().neg();
            total += loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &classifier);
            // Decays from 2e-3 to 1e-4 over the run: the last epochs settle.
            let lr = 2e-3 * 0.05f64.powf((epoch - 1) as f64 / (epochs.max(2) - 1) as f64);
            classifier = optimizer.step(lr, classifier, grads);
        }
        progress(epoch, total / (order.len() / BATCH).max(1) as f32);
    }
    classifier
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tests::tiny_digits;

    #[test]
    fn shapes_and_a_file_round_trip() {
        let device = Device::flex();
        let classifier = Classifier::new(3, &device);
        let images = tiny_digits(1).batch(&[0, 1, 2], &device);
        assert_eq!(classifier.features(images.clone()).dims(), [3, FEATURES]);
        let logits = classifier.forward(images.clone()).into_data().try_to_vec::<f32>().unwrap();
        let bytes = classifier.to_bytes();
        let loaded = Classifier::from_bytes(&bytes, &device).unwrap();
        let again = loaded.forward(images).into_data().try_to_vec::<f32>().unwrap();
        // f16 weights: close, not equal.
        assert!(logits.iter().zip(&again).all(|(a, b)| (a - b).abs() < 0.05 * a.abs().max(1.0)), "{logits:?} vs {again:?}");
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 0xff;
        assert_eq!(Classifier::from_bytes(&flipped, &device).unwrap_err(), ClassifierError::Damaged);
        assert_eq!(Classifier::from_bytes(b"GANPLAY\0xxxxxxxx", &device).unwrap_err(), ClassifierError::NotAClassifier);
    }

    #[test]
    fn the_same_seed_trains_the_same_classifier_and_it_learns() {
        let digits = tiny_digits(20);
        let device = Device::flex().autodiff();
        let a = train_classifier(&digits, 5, 2, &device, |_, _| {});
        let b = train_classifier(&digits, 5, 2, &device, |_, _| {});
        let images = digits.batch(&[0, 1, 2, 3], &device);
        assert_eq!(a.forward(images.clone()).into_data(), b.forward(images).into_data());
        let mut losses = Vec::new();
        let learned = train_classifier(&digits, 5, 20, &device, |_, loss| losses.push(loss));
        assert!(losses[19] < losses[0] * 0.75, "{losses:?}");
        // Ten bars told apart only by brightness, from 60 steps: better than chance (0.1). The
        // real test is MNIST's held-out digits (tests/train_on_mnist.rs).
        let accuracy = learned.valid().accuracy(&digits);
        assert!(accuracy > 0.25, "accuracy {accuracy}");
    }
}
