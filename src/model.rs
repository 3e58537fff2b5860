//! The networks, fitted to 28x28 MNIST: a generator that draws a digit from a latent vector z,
//! and a discriminator that scores how real a digit looks (a logit; sigmoid gives a probability).
//!
//! Three families share these two shapes (`Family`):
//! - DCGAN: G(z) and D(x), as in the PyTorch DCGAN example (plus, by default, extra 3x3
//!   layers at 7x7 in D: `ModelConfig::drefine`).
//! - Conditional DCGAN: the digit's class goes in as one-hot channels, ten more inputs to G
//!   (beside z) and ten more constant 28x28 planes to D (beside the image), so both see which
//!   digit is meant at every layer they start from (`conditioned_latent`, `conditioned_images`).
//! - VAE: the encoder is D's shape ending in 2 nz outputs (the mean and log-variance of q(z|x),
//!   `Discriminator::encode`); the decoder is exactly G.

use burn::config::Config;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::activation::{relu, tanh};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::latent::normal_values;
use crate::conv_kernel::{self, Product};
use crate::activation_kernel::leaky_relu;
use crate::layers::{ConvPath, batch_norm, conv_path, conv_transpose4x4s2_blocks, conv4x4s2, conv4x4s2_blocks, dense_project, dense_score};

/// Side of the square images, in pixels.
pub const IMAGE_SIDE: usize = 28;

/// Digit classes, the conditional DCGAN's conditions.
pub const CLASSES: usize = 10;

/// Which generative model the two networks make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// A DCGAN: G draws, D judges real against drawn.
    #[default]
    Dcgan,
    /// A conditional DCGAN: G draws the digit it is asked for, D judges digit and class.
    Cgan,
    /// A variational autoencoder: the encoder (D's shape) maps a digit to a distribution over
    /// z, the decoder (G) draws it back; trained on the ELBO.
    Vae,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Dcgan, Family::Cgan, Family::Vae];

    /// Whether G and D take the digit's class.
    pub fn conditional(self) -> bool {
        self == Family::Cgan
    }

    /// The family as the model menu says it.
    pub fn title(self) -> &'static str {
        match self {
            Family::Dcgan => "DCGAN",
            Family::Cgan => "conditional DCGAN",
            Family::Vae => "VAE",
        }
    }

    /// The family in words, with its article.
    pub fn long_name(self) -> &'static str {
        match self {
            Family::Dcgan => "a DCGAN",
            Family::Cgan => "a conditional DCGAN",
            Family::Vae => "a VAE",
        }
    }

    /// What the networks are called in words: (the drawing one, the other).
    pub fn network_names(self) -> (&'static str, &'static str) {
        match self {
            Family::Dcgan | Family::Cgan => ("generator", "discriminator"),
            Family::Vae => ("decoder", "encoder"),
        }
    }
}

/// Sizes of the two networks. The defaults are the seed DCGAN's latent size with a width that
/// trains in seconds per step on a CPU.
#[derive(Config, Debug, PartialEq)]
pub struct ModelConfig {
    /// The model family. Weights files written before there were several read as DCGANs
    /// (see `checkpoint`).
    #[config(default = "Family::Dcgan")]
    pub family: Family,
    /// Length of the latent vector z that the generator draws from.
    #[config(default = 100)]
    pub nz: usize,
    /// Generator width: its feature maps have 4*ngf, 2*ngf then 1 channels.
    #[config(default = 32)]
    pub ngf: usize,
    /// Discriminator width: its feature maps have ndf then 2*ndf channels.
    #[config(default = 32)]
    pub ndf: usize,
    /// G's extra layers: 3x3 convolutions at 14x14 (2*ngf channels in and out, each with
    /// batch norm and ReLU) between its two upsamplings. Weights files written before there
    /// were any read as 0 (see `checkpoint`).
    #[config(default = 0)]
    pub refine: usize,
    /// D's extra layers: 3x3 convolutions at 7x7 (2*ndf channels in and out, each with batch
    /// norm and leaky ReLU) before its score. Two by default, chosen for the DCGAN: measured on
    /// the page's CPU path (tiny, batch 16), they draw better digits after 60 s and after 180 s
    /// of training than none, in fewer steps (README, "quality per minute"). Weights files
    /// written before there were any read as 0 (see `checkpoint`).
    #[config(default = 2)]
    pub drefine: usize,
}

/// DCGAN weight init: conv weights drawn from N(0, 0.02).
const INIT_STD: f32 = 0.02;

fn dcgan_init() -> Initializer {
    Initializer::Normal { mean: 0.0, std: INIT_STD as f64 }
}

/// Redraws every conv weight of `module` from N(0, 0.02) using `rng`, so that a seed fixes
/// the initial weights whatever else uses burn's shared random generator meanwhile.
/// (Batch-norm parameters start at constants and are left as they are.)
pub fn seeded_init<M: Module>(module: M, rng: &mut StdRng) -> M {
    struct Redraw<'a>(&'a mut StdRng);
    impl ModuleMapper for Redraw<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            if D != 4 {
                return param;
            }
            param.map(|weight| {
                let (shape, device, trainable) = (weight.shape(), weight.device(), weight.is_require_grad());
                let values = normal_values(self.0, shape.num_elements()).into_iter().map(|v| v * INIT_STD).collect();
                Tensor::from_data(TensorData::new(values, shape), &device).set_require_grad(trainable)
            })
        }
    }
    module.map(&mut Redraw(rng))
}

fn upsample(channels: [usize; 2]) -> ConvTranspose2dConfig {
    ConvTranspose2dConfig::new(channels, [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .with_bias(false)
        .with_initializer(dcgan_init())
}

/// A 4x4 stride-2 transposed convolution by the measured path (`conv_path`).
fn upsample_by(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    match conv_path() {
        ConvPath::Blocks => conv_transpose4x4s2_blocks(layer, x),
        ConvPath::Tiled => conv_kernel::conv_transpose2d(x, layer.weight.val(), 2, 1),
        ConvPath::Burn | ConvPath::Im2col => layer.forward(x),
    }
}

/// An extra layer's 3x3 convolution by the measured path (`conv_path`).
fn refine_by(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    match conv_path() {
        ConvPath::Tiled => conv_kernel::conv2d(x, layer.weight.val(), 1, 1),
        ConvPath::Burn | ConvPath::Im2col | ConvPath::Blocks => layer.forward(x),
    }
}

fn refine_layer(channels: usize, device: &Device) -> Refine {
    Refine {
        conv: Conv2dConfig::new([channels, channels], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(false)
            .with_initializer(dcgan_init())
            .init(device),
        norm: BatchNormConfig::new(channels).init(device),
    }
}

fn downsample(channels: [usize; 2]) -> Conv2dConfig {
    Conv2dConfig::new(channels, [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .with_initializer(dcgan_init())
}

/// A network's extra layers in words, to follow its name: " with 2 extra layers" (nothing
/// for none).
pub fn extra_layers(layers: usize) -> String {
    match layers {
        0 => String::new(),
        1 => " with 1 extra layer".into(),
        n => format!(" with {n} extra layers"),
    }
}

impl ModelConfig {
    /// The sizes in words: "nz 100, generator 64 wide with 2 extra layers, discriminator 64 wide".
    pub fn sizes(&self) -> String {
        let (g, d) = self.family.network_names();
        format!("nz {}, {g} {} wide{}, {d} {} wide{}", self.nz, self.ngf, extra_layers(self.refine), self.ndf, extra_layers(self.drefine))
    }

    /// Channels of G's input: z, and the one-hot class in a conditional model.
    pub fn generator_inputs(&self) -> usize {
        self.nz + if self.family.conditional() { CLASSES } else { 0 }
    }

    /// G's input for latent vectors z [n, nz, 1, 1]: z itself, or in a conditional model z
    /// with the classes asked for (`classes`, or 0 to 9 in turn where none are).
    pub fn generator_input(&self, z: Tensor<4>, classes: Option<&[u8]>) -> Tensor<4> {
        if !self.family.conditional() {
            return z;
        }
        let [n, ..] = z.dims();
        match classes {
            Some(classes) => conditioned_latent(z, classes),
            None => conditioned_latent(z, &classes_in_turn(n)),
        }
    }

    /// The classes G is asked for when it draws `count` digits with no classes given
    /// (`generator_input(z, None)`): 0 to 9 in turn for a conditional model, none otherwise.
    pub fn classes_asked(&self, count: usize) -> Option<Vec<u8>> {
        self.family.conditional().then(|| classes_in_turn(count))
    }

    pub fn init_generator(&self, device: &Device) -> Generator {
        let (c1, c2) = (4 * self.ngf, 2 * self.ngf);
        Generator {
            project: ConvTranspose2dConfig::new([self.generator_inputs(), c1], [7, 7])
                .with_bias(false)
                .with_initializer(dcgan_init())
                .init(device),
            norm1: BatchNormConfig::new(c1).init(device),
            up1: upsample([c1, c2]).init(device),
            norm2: BatchNormConfig::new(c2).init(device),
            refine: (0..self.refine).map(|_| refine_layer(c2, device)).collect(),
            up2: upsample([c2, 1]).init(device),
        }
    }

    pub fn init_discriminator(&self, device: &Device) -> Discriminator {
        let (c1, c2) = (self.ndf, 2 * self.ndf);
        let inputs = 1 + if self.family.conditional() { CLASSES } else { 0 };
        // A VAE's encoder ends in the mean and the log-variance of z.
        let outputs = if self.family == Family::Vae { 2 * self.nz } else { 1 };
        Discriminator {
            down1: downsample([inputs, c1]).init(device),
            down2: downsample([c1, c2]).init(device),
            norm2: BatchNormConfig::new(c2).init(device),
            refine: (0..self.drefine).map(|_| refine_layer(c2, device)).collect(),
            score: Conv2dConfig::new([c2, outputs], [7, 7])
                .with_bias(false)
                .with_initializer(dcgan_init())
                .init(device),
        }
    }

    /// The convolutions of G and of D as a training step runs them, `batch` images a step:
    /// the layers `ganplay bench --layers` times one by one. G's first layer and D's last are
    /// matrix products already (`dense_project`, `dense_score`) and are not among them, nor is
    /// a conditional D's convolution of its ten class planes (one of ten images a call). D's
    /// are at the batch of its first pass, which judges the real and the drawn digits
    /// together; G's update runs D again on the drawn ones alone.
    pub fn convolutions(&self, batch: usize) -> Vec<ConvLayer> {
        let (g1, g2) = (4 * self.ngf, 2 * self.ngf);
        let (d1, d2) = (self.ndf, 2 * self.ndf);
        // A GAN's D judges a step's real and drawn digits in one pass.
        let d_batch = if self.family == Family::Vae { batch } else { 2 * batch };
        let layer = |name: String, generator: bool, transposed: bool, batch: usize, [channels, outputs]: [usize; 2], side: usize, k: usize| ConvLayer {
            name,
            generator,
            transposed,
            batch,
            channels,
            outputs,
            side,
            k,
            // The 4x4 layers halve or double the map; the 3x3 extra layers keep it.
            stride: if k == 4 { 2 } else { 1 },
            padding: 1,
            burns_only: false,
        };
        let (g, d) = if self.family == Family::Vae { ("decoder", "encoder") } else { ("G", "D") };
        let mut layers = vec![layer(format!("{g}'s 2nd"), true, true, batch, [g1, g2], 7, 4)];
        layers.extend((1..=self.refine).map(|i| layer(format!("{g}'s extra {i}"), true, false, batch, [g2, g2], 14, 3)));
        layers.push(layer(format!("{g}'s last"), true, true, batch, [g2, 1], 14, 4));
        layers.push(ConvLayer { burns_only: self.family.conditional(), ..layer(format!("{d}'s 1st"), false, false, d_batch, [1, d1], IMAGE_SIDE, 4) });
        layers.push(layer(format!("{d}'s 2nd"), false, false, d_batch, [d1, d2], 14, 4));
        layers.extend((1..=self.drefine).map(|i| layer(format!("{d}'s extra {i}"), false, false, d_batch, [d2, d2], 7, 3)));
        layers
    }

    /// Floating-point operations of one forward pass of G and of D, per image, counting a
    /// multiply-add as two: the convolutions (`convolutions`) and the two dense layers. Norms
    /// and activations are left out.
    pub fn forward_flops(&self) -> (f64, f64) {
        let (g1, d2) = (4 * self.ngf, 2 * self.ndf);
        let outputs = if self.family == Family::Vae { 2 * self.nz } else { 1 };
        let dense = |inputs: usize, outputs: usize| 2.0 * (inputs * outputs) as f64;
        let (mut g, mut d) = (dense(self.generator_inputs(), g1 * 49), dense(d2 * 49, outputs));
        for layer in self.convolutions(1) {
            let per_image = layer.flops() / layer.batch as f64;
            *(if layer.generator { &mut g } else { &mut d }) += per_image;
        }
        (g, d)
    }

    /// Floating-point operations of one training step at `batch` images (see `forward_flops`).
    /// A backward pass costs about twice its forward (gradients for inputs and for weights).
    /// A step runs: G forward once; D forward+backward on the real and on the fake batch;
    /// then D forward+backward and G backward for the generator's loss.
    /// A VAE step is one forward and backward of the encoder and of the decoder.
    pub fn step_flops(&self, batch: usize) -> f64 {
        let (g, d) = self.forward_flops();
        let per_image = match self.family {
            Family::Dcgan | Family::Cgan => g + 2.0 * (3.0 * d) + 3.0 * d + 2.0 * g,
            Family::Vae => 3.0 * d + 3.0 * g,
        };
        per_image * batch as f64
    }
}

/// A convolution of G or D at the shapes a training step runs it (`ModelConfig::convolutions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvLayer {
    /// The layer in words: "G's 2nd", "D's extra 1".
    pub name: String,
    /// Whether the layer is G's (a VAE's decoder), not D's (its encoder).
    pub generator: bool,
    /// A transposed convolution (G's 4x4 layers), whose weight is [channels, outputs, k, k];
    /// a convolution's is [outputs, channels, k, k].
    pub transposed: bool,
    /// Images a call takes.
    pub batch: usize,
    pub channels: usize,
    pub outputs: usize,
    /// Side of the square input map.
    pub side: usize,
    /// Side of the square kernel.
    pub k: usize,
    pub stride: usize,
    pub padding: usize,
    /// A step runs burn's convolution here whatever the path (a conditional D's first layer,
    /// `Discriminator::forward_conditioned`).
    pub burns_only: bool,
}

impl ConvLayer {
    /// Side of the square output map.
    pub fn out_side(&self) -> usize {
        if self.transposed {
            (self.side - 1) * self.stride + self.k - 2 * self.padding
        } else {
            (self.side + 2 * self.padding - self.k) / self.stride + 1
        }
    }

    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.channels, self.side, self.side]
    }

    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.outputs, self.out_side(), self.out_side()]
    }

    pub fn weight_shape(&self) -> [usize; 4] {
        let [a, b] = if self.transposed { [self.channels, self.outputs] } else { [self.outputs, self.channels] };
        [a, b, self.k, self.k]
    }

    /// The sizes [rows, depth, columns] of the matrix product that each of the layer's three
    /// products in a step (output, input gradient, weight gradient) amounts to: rows are output
    /// pixels of the batch, the depth a patch's entries (channel and tap), columns the output
    /// channels. A transposed convolution's are those of the convolution it is the adjoint of
    /// (from its output to its input).
    pub fn matmul_dims(&self) -> [usize; 3] {
        if self.transposed {
            [self.batch * self.side * self.side, self.outputs * self.k * self.k, self.channels]
        } else {
            let side = self.out_side();
            [self.batch * side * side, self.channels * self.k * self.k, self.outputs]
        }
    }

    /// The matrix product [m, k] x [k, n] that `product` is, as [m, k, n] (`matmul_dims`
    /// oriented): the output [rows, depth] x [depth, columns]; the input gradient [rows,
    /// columns] x [columns, depth], whose rows are the patches' gradients; the weight gradient
    /// [columns, rows] x [rows, depth], a long sum over the batch's pixels. A transposed
    /// convolution's output and input gradient are its adjoint's input gradient and output.
    pub fn matmul_for(&self, product: Product) -> [usize; 3] {
        let [rows, depth, columns] = self.matmul_dims();
        let product = match (self.transposed, product) {
            (true, Product::Output) => Product::InputGradient,
            (true, Product::InputGradient) => Product::Output,
            (_, product) => product,
        };
        match product {
            Product::Output => [rows, depth, columns],
            Product::InputGradient => [rows, columns, depth],
            Product::WeightGradient => [columns, rows, depth],
        }
    }

    /// Floating-point operations of one of its products (a multiply-add counted as two).
    pub fn flops(&self) -> f64 {
        let [rows, depth, columns] = self.matmul_dims();
        2.0 * rows as f64 * depth as f64 * columns as f64
    }

    /// The layer and its shapes in words: "D's 2nd: 4x4 stride 2, 32 to 64 channels at 14x14,
    /// 128 images".
    pub fn describe(&self) -> String {
        let kind = match (self.transposed, self.stride) {
            (true, s) => format!("transposed {0}x{0} stride {s}", self.k),
            (false, 1) => format!("{0}x{0}", self.k),
            (false, s) => format!("{0}x{0} stride {s}", self.k),
        };
        let (name, side) = (&self.name, self.side);
        format!("{name}: {kind}, {} to {} channels at {side}x{side}, {} images", self.channels, self.outputs, self.batch)
    }
}

/// Draws 1x28x28 images in [-1, 1] from latent vectors z of shape [batch, nz, 1, 1].
#[derive(Module, Debug)]
pub struct Generator {
    project: ConvTranspose2d,
    norm1: BatchNorm,
    up1: ConvTranspose2d,
    norm2: BatchNorm,
    refine: Vec<Refine>,
    up2: ConvTranspose2d,
}

/// One of G's extra layers: a 3x3 convolution that keeps the map's size, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct Refine {
    conv: Conv2d,
    norm: BatchNorm,
}

impl Generator {
    /// Images in [-1, 1] from inputs [batch, inputs, 1, 1]: z, followed in a conditional
    /// model by the one-hot class (`conditioned_latent`).
    pub fn forward(&self, z: Tensor<4>) -> Tensor<4> {
        tanh(self.logits(z))
    }

    /// The last layer's output before the tanh. A VAE reads it as Bernoulli logits of the
    /// pixels in [0, 1]: (1 + tanh(a)) / 2 = sigmoid(2a).
    pub fn logits(&self, z: Tensor<4>) -> Tensor<4> {
        let x = relu(batch_norm(&self.norm1, dense_project(&self.project, z), 1)); // 7x7
        let x = relu(batch_norm(&self.norm2, upsample_by(&self.up1, x), 1)); // 14x14
        let x = self.refine.iter().fold(x, |x, layer| relu(batch_norm(&layer.norm, refine_by(&layer.conv, x), 1)));
        upsample_by(&self.up2, x) // 28x28
    }

    /// This generator with its first layer's weights zeroed: every z then draws the same
    /// picture. The mode collapse the page's alarm must catch, on demand (a test hook).
    pub fn collapsed(mut self) -> Self {
        self.project.weight = self.project.weight.map(|w| {
            let trainable = w.is_require_grad();
            w.zeros_like().set_require_grad(trainable)
        });
        self
    }

    /// Channels of the input this generator takes (z, and the class in a conditional model).
    pub fn inputs(&self) -> usize {
        self.project.channels[0]
    }
}

/// One-hot rows of `labels`: [labels.len(), CLASSES].
fn one_hot(labels: &[u8], device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * CLASSES];
    labels.iter().enumerate().for_each(|(i, &c)| values[i * CLASSES + c as usize % CLASSES] = 1.0);
    Tensor::from_data(TensorData::new(values, [labels.len(), CLASSES]), device)
}

/// A conditional G's input: z [batch, nz, 1, 1] with the one-hot `labels` after it.
pub fn conditioned_latent(z: Tensor<4>, labels: &[u8]) -> Tensor<4> {
    let [batch, ..] = z.dims();
    let classes = one_hot(labels, &z.device()).reshape([batch, CLASSES, 1, 1]);
    Tensor::cat(vec![z, classes], 1)
}

/// A conditional D's input as its first layer sees it: images [batch, 1, 28, 28] with ten
/// planes after them, the one of each image's class all ones (`forward_conditioned` computes
/// the same without building them).
pub fn conditioned_images(images: Tensor<4>, labels: &[u8]) -> Tensor<4> {
    let [batch, _, h, w] = images.dims();
    let planes = one_hot(labels, &images.device()).reshape([batch, CLASSES, 1, 1]).expand([batch, CLASSES, h, w]);
    Tensor::cat(vec![images, planes], 1)
}

/// The classes of a conditional model's `count` digits where none is asked for: 0 to 9 in
/// turn, so every class is drawn as often.
pub fn classes_in_turn(count: usize) -> Vec<u8> {
    (0..count).map(|i| (i % CLASSES) as u8).collect()
}

/// Scores images [batch, 1, 28, 28]: one logit per image, high for "real".
#[derive(Module, Debug)]
pub struct Discriminator {
    down1: Conv2d,
    down2: Conv2d,
    norm2: BatchNorm,
    refine: Vec<Refine>,
    score: Conv2d,
}

impl Discriminator {
    /// One logit per image (images [batch, inputs, 28, 28]).
    pub fn forward(&self, images: Tensor<4>) -> Tensor<1> {
        self.forward_stacked(images, 1)
    }

    /// The logits of `batches` batches of one size stacked in `images`, in one pass: what
    /// `forward` gives each batch on its own, called batch after batch (batch norm takes
    /// each batch's own statistics). A training step judges real and drawn digits so, with
    /// half the kernel launches of two passes.
    pub fn forward_stacked(&self, images: Tensor<4>, batches: usize) -> Tensor<1> {
        let [total, ..] = images.dims();
        self.after_first(self.downsample(&self.down1, images), batches).reshape([total])
    }

    /// The last layer's outputs per image, [batch, outputs]: a VAE encoder's mean and
    /// log-variance of z, side by side.
    pub fn encode(&self, images: Tensor<4>) -> Tensor<2> {
        self.after_first(self.downsample(&self.down1, images), 1)
    }

    /// A conditional D's logits for images [batch, 1, 28, 28] of the digits `labels`: what
    /// `forward` gives for `conditioned_images(images, labels)`, without convolving ten
    /// constant planes with every image. The first layer is linear in its input channels, so
    /// the planes' share of it is one 14x14 map per class: the ten maps are worked out once a
    /// call (a convolution of ten images) and each image gets its class's, through a one-hot
    /// matrix product.
    pub fn forward_conditioned(&self, images: Tensor<4>, labels: &[u8]) -> Tensor<1> {
        self.forward_conditioned_stacked(images, labels, 1)
    }

    /// `forward_conditioned` of `batches` batches of one size stacked in `images` (see
    /// `forward_stacked`).
    pub fn forward_conditioned_stacked(&self, images: Tensor<4>, labels: &[u8], batches: usize) -> Tensor<1> {
        let [batch, _, h, w] = images.dims();
        // The options of `downsample`'s layers (burn's convolution: `--conv` does not apply here).
        debug_assert!(self.down1.stride == [2, 2] && self.down1.kernel_size == [4, 4]);
        let weight = self.down1.weight.val();
        let [out, inputs, ..] = weight.dims();
        let classes = inputs - 1;
        let options = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
        let pixels = conv2d(images.clone(), weight.clone().narrow(1, 0, 1), None, options.clone());
        let device = images.device();
        let planes = one_hot(&classes_in_turn(classes), &device).reshape([classes, classes, 1, 1]).expand([classes, classes, h, w]);
        let maps = conv2d(planes, weight.narrow(1, 1, classes), None, options); // [classes, out, h/2, w/2]
        let [_, _, oh, ow] = maps.dims();
        let per_image = one_hot(labels, &device).matmul(maps.reshape([classes, out * oh * ow])).reshape([batch, out, oh, ow]);
        self.after_first(pixels + per_image, batches).reshape([batch])
    }

    /// The layers after the first, on its output [batch, c1, 14, 14] (`batches` batches of
    /// one size, for batch norm).
    fn after_first(&self, first: Tensor<4>, batches: usize) -> Tensor<2> {
        let x = leaky_relu(first, 0.2); // 14x14
        let x = leaky_relu(batch_norm(&self.norm2, self.downsample(&self.down2, x), batches), 0.2); // 7x7
        let x = self.refine.iter().fold(x, |x, layer| leaky_relu(batch_norm(&layer.norm, refine_by(&layer.conv, x), batches), 0.2));
        dense_score(&self.score, x) // 1x1 -> [batch, outputs]
    }

    fn downsample(&self, layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
        match conv_path() {
            ConvPath::Burn => layer.forward(x),
            ConvPath::Im2col => conv4x4s2(layer, x),
            ConvPath::Blocks => conv4x4s2_blocks(layer, x),
            ConvPath::Tiled => conv_kernel::conv2d(x, layer.weight.val(), 2, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn generator_draws_28x28_in_tanh_range() {
        let device = Device::flex();
        let config = ModelConfig::new().with_nz(8).with_ngf(4);
        let g = config.init_generator(&device);
        let z = Tensor::<4>::random([3, 8, 1, 1], Distribution::Normal(0.0, 1.0), &device);
        let images = g.forward(z);
        assert_eq!(images.dims(), [3, 1, IMAGE_SIDE, IMAGE_SIDE]);
        let values = images.into_data().try_to_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
        assert_eq!(g.inputs(), 8);
    }

    #[test]
    fn discriminator_gives_one_logit_per_image() {
        let device = Device::flex();
        let d = ModelConfig::new().with_ndf(4).init_discriminator(&device);
        let images = Tensor::<4>::random([5, 1, 28, 28], Distribution::Uniform(-1.0, 1.0), &device);
        assert_eq!(d.forward(images).dims(), [5]);
    }

    #[test]
    fn a_conditional_model_takes_the_class_and_a_vae_encoder_gives_mean_and_log_variance() {
        let device = Device::flex();
        let cgan = ModelConfig::new().with_family(Family::Cgan).with_nz(8).with_ngf(4).with_ndf(4);
        let g = cgan.init_generator(&device);
        assert_eq!(g.inputs(), 8 + CLASSES);
        let z = Tensor::<4>::random([3, 8, 1, 1], Distribution::Normal(0.0, 1.0), &device);
        let input = conditioned_latent(z, &[0, 7, 9]);
        let classes = input.clone().narrow(1, 8, CLASSES).reshape([3, CLASSES]).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!((classes[0], classes[CLASSES + 7], classes[2 * CLASSES + 9]), (1.0, 1.0, 1.0));
        assert_eq!(classes.iter().sum::<f32>(), 3.0);
        let images = g.forward(input);
        let d = cgan.init_discriminator(&device);
        let planes = conditioned_images(images, &[0, 7, 9]);
        assert_eq!(planes.dims(), [3, 1 + CLASSES, 28, 28]);
        assert_eq!(planes.clone().narrow(1, 1 + 7, 1).sum().into_scalar::<f32>(), 28.0 * 28.0, "one plane of ones for the 7");
        assert_eq!(d.forward(planes.clone()).dims(), [3]);
        assert_eq!(classes_in_turn(12), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);

        let vae = ModelConfig::new().with_family(Family::Vae).with_nz(8).with_ngf(4).with_ndf(4);
        let encoder = vae.init_discriminator(&device);
        let digits = Tensor::<4>::random([5, 1, 28, 28], Distribution::Uniform(-1.0, 1.0), &device);
        assert_eq!(encoder.encode(digits).dims(), [5, 16]);
        assert_eq!(vae.init_generator(&device).inputs(), 8, "the decoder is G");
    }

    #[test]
    fn a_conditional_d_judges_the_class_maps_as_it_would_the_ten_planes() {
        let device = Device::flex().autodiff();
        let d = ModelConfig::new().with_family(Family::Cgan).with_ndf(4).init_discriminator(&device);
        let labels = [3, 0, 9, 3, 7];
        let images = || Tensor::<4>::random([5, 1, 28, 28], Distribution::Uniform(-1.0, 1.0), &device);
        let x = images().require_grad();
        let planes = d.forward(conditioned_images(x.clone(), &labels));
        let maps = d.forward_conditioned(x.clone(), &labels);
        let (a, b) = (planes.clone().into_data().try_to_vec::<f32>().unwrap(), maps.clone().into_data().try_to_vec::<f32>().unwrap());
        assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-4), "{a:?} {b:?}");
        // The same gradients for the first layer's weights and for the images.
        let (by_planes, by_maps) = (planes.sum().backward(), maps.sum().backward());
        let read = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
        let weight = d.down1.weight.val();
        for (a, b) in [(weight.grad(&by_planes), weight.grad(&by_maps)), (x.grad(&by_planes), x.grad(&by_maps))] {
            let (a, b) = (read(a.unwrap()), read(b.unwrap()));
            assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-4), "{a:?} {b:?}");
        }
    }

    #[test]
    fn d_judges_stacked_batches_as_it_judges_each_alone() {
        use crate::readback::copy_module;
        use burn::optim::GradientsParams;
        let device = Device::flex().autodiff();
        // A plain D, and one with an extra layer (whose batch norm also takes each batch's own
        // statistics).
        for (family, drefine) in [(Family::Dcgan, 0), (Family::Cgan, 0), (Family::Dcgan, 1), (Family::Cgan, 1)] {
            let config = ModelConfig::new().with_family(family).with_ndf(4).with_drefine(drefine);
            let stacked = config.init_discriminator(&device);
            let apart = copy_module(&stacked, config.init_discriminator(&device));
            // Real-looking and flat batches of 3: their batch-norm statistics differ.
            let real = Tensor::<4>::random([3, 1, 28, 28], Distribution::Uniform(-1.0, 1.0), &device);
            let flat = Tensor::<4>::random([3, 1, 28, 28], Distribution::Uniform(-1.0, -0.6), &device);
            let (real_labels, flat_labels) = ([3u8, 0, 9], [7u8, 7, 1]);
            let both = Tensor::cat(vec![real.clone(), flat.clone()], 0);
            let (one_pass, two_passes) = match family {
                Family::Cgan => (
                    stacked.forward_conditioned_stacked(both, &[real_labels, flat_labels].concat(), 2),
                    Tensor::cat(vec![apart.forward_conditioned(real, &real_labels), apart.forward_conditioned(flat, &flat_labels)], 0),
                ),
                _ => (stacked.forward_stacked(both, 2), Tensor::cat(vec![apart.forward(real), apart.forward(flat)], 0)),
            };
            let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
            let close = |what: &str, a: Vec<f32>, b: Vec<f32>| {
                assert_eq!(a.len(), b.len(), "{family:?} {what}");
                assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() <= 1e-4 * (1.0 + b.abs())), "{family:?} {what}: {a:?} {b:?}");
            };
            close("logits", read(one_pass.clone()), read(two_passes.clone()));
            // A loss that weighs the two batches differently: every weight's gradient agrees.
            let weights = Tensor::<1>::from_floats([1.0, -2.0, 0.5, 3.0, 0.25, -1.0], &device);
            let (g1, g2) = ((one_pass * weights.clone()).sum().backward(), (two_passes * weights).sum().backward());
            let (p1, p2) = (crate::readback::flat_tensors(&stacked), crate::readback::flat_tensors(&apart));
            let gradients = |m: &Discriminator, grads: GradientsParams| {
                struct Collect(GradientsParams, Vec<Option<Vec<f32>>>);
                impl burn::module::ModuleVisitor for Collect {
                    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                        self.1.push(self.0.get::<D>(param.id).map(|g| g.into_data().try_to_vec::<f32>().unwrap()));
                    }
                }
                let mut collect = Collect(grads, Vec::new());
                m.visit(&mut collect);
                collect.1
            };
            let mut compared = 0;
            for (a, b) in gradients(&stacked, GradientsParams::from_grads(g1, &stacked)).into_iter().zip(gradients(&apart, GradientsParams::from_grads(g2, &apart))) {
                match (a, b) {
                    (Some(a), Some(b)) => {
                        close("a gradient", a, b);
                        compared += 1;
                    }
                    (None, None) => {}
                    _ => panic!("{family:?}: a gradient on one side only"),
                }
            }
            assert_eq!(compared, 5 + 3 * drefine, "{family:?}: three convolutions, batch norm's scale and shift, and 3 for each extra layer");
            // Running statistics (and every weight) as after two passes.
            for (a, b) in p1.into_iter().zip(p2) {
                close("a tensor", read(a), read(b));
            }
        }
    }

    #[test]
    fn extra_layers_refine_g_at_14x14_and_keep_its_picture() {
        let device = Device::flex();
        let plain = ModelConfig::new().with_nz(8).with_ngf(4);
        let deeper = plain.clone().with_refine(2);
        let (g, g2) = (plain.init_generator(&device), deeper.init_generator(&device));
        // Two 3x3 convolutions of 2*ngf = 8 channels, and their norms (scale, shift, running
        // mean and variance: burn counts all four).
        assert_eq!(g2.num_params() - g.num_params(), 2 * (8 * 8 * 9 + 4 * 8));
        let z = Tensor::<4>::random([3, 8, 1, 1], Distribution::Normal(0.0, 1.0), &device);
        let images = g2.forward(z.clone());
        assert_eq!(images.dims(), [3, 1, IMAGE_SIDE, IMAGE_SIDE]);
        let values = images.into_data().try_to_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
        let (f, f2) = (plain.forward_flops().0, deeper.forward_flops().0);
        assert_eq!(f2 - f, 2.0 * 2.0 * (8 * 8 * 9 * 14 * 14) as f64);
        assert_eq!(deeper.sizes(), "nz 8, generator 4 wide with 2 extra layers, discriminator 32 wide with 2 extra layers");
    }

    #[test]
    fn extra_layers_in_d_judge_at_7x7() {
        let device = Device::flex();
        let plain = ModelConfig::new().with_ndf(4).with_drefine(0);
        let deeper = plain.clone().with_drefine(2);
        let (d, d2) = (plain.init_discriminator(&device), deeper.init_discriminator(&device));
        // Two 3x3 convolutions of 2*ndf = 8 channels, and their norms.
        assert_eq!(d2.num_params() - d.num_params(), 2 * (8 * 8 * 9 + 4 * 8));
        let images = Tensor::<4>::random([3, 1, IMAGE_SIDE, IMAGE_SIDE], Distribution::Uniform(-1.0, 1.0), &device);
        assert_eq!(d2.forward(images).dims(), [3]);
        let (f, f2) = (plain.forward_flops().1, deeper.forward_flops().1);
        assert_eq!(f2 - f, 2.0 * 2.0 * (8 * 8 * 9 * 7 * 7) as f64);
        assert_eq!(deeper.sizes(), "nz 100, generator 32 wide, discriminator 4 wide with 2 extra layers");
        // A VAE's encoder takes them too, and still gives z's mean and log-variance.
        let vae = deeper.with_family(Family::Vae).with_nz(6);
        assert_eq!(vae.init_discriminator(&device).encode(Tensor::zeros([2, 1, IMAGE_SIDE, IMAGE_SIDE], &device)).dims(), [2, 12]);
    }

    #[test]
    fn convolutions_chain_as_the_networks_run_them() {
        let model = ModelConfig::new().with_ngf(32).with_ndf(16).with_refine(1).with_drefine(2);
        let layers = model.convolutions(64);
        let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["G's 2nd", "G's extra 1", "G's last", "D's 1st", "D's 2nd", "D's extra 1", "D's extra 2"]);
        // Each layer takes what the one before it gives, within each network.
        for pair in layers.windows(2).filter(|p| p[0].generator == p[1].generator) {
            assert_eq!(pair[0].output_shape(), pair[1].input_shape(), "{} into {}", pair[0].describe(), pair[1].describe());
        }
        assert_eq!(layers[0].input_shape(), [64, 128, 7, 7]);
        assert_eq!(layers[2].output_shape(), [64, 1, IMAGE_SIDE, IMAGE_SIDE]);
        // D judges the real and the drawn digits in one pass; D's 2nd gives [128, 32, 7, 7].
        assert_eq!(layers[3].input_shape(), [128, 1, IMAGE_SIDE, IMAGE_SIDE]);
        assert_eq!(layers[4].output_shape(), [128, 32, 7, 7]);
        assert_eq!(layers[0].weight_shape(), [128, 64, 4, 4]);
        assert_eq!(layers[4].weight_shape(), [32, 16, 4, 4]);
        // As matrix products: G's 2nd is the adjoint of a convolution from 14x14 to 7x7.
        assert_eq!(layers[0].matmul_dims(), [64 * 49, 64 * 16, 128]);
        assert_eq!(layers[4].matmul_dims(), [128 * 49, 16 * 16, 32]);
        assert_eq!(layers[4].matmul_for(Product::InputGradient), [128 * 49, 32, 16 * 16]);
        assert_eq!(layers[4].matmul_for(Product::WeightGradient), [32, 128 * 49, 16 * 16]);
        // G's 2nd: its output is the gradient of its adjoint's input.
        assert_eq!(layers[0].matmul_for(Product::Output), [64 * 49, 128, 64 * 16]);
        assert_eq!(layers[0].matmul_for(Product::InputGradient), [64 * 49, 64 * 16, 128]);
        assert!(!layers[3].burns_only);
        assert_eq!(layers[4].describe(), "D's 2nd: 4x4 stride 2, 16 to 32 channels at 14x14, 128 images");
        assert_eq!(layers[0].describe(), "G's 2nd: transposed 4x4 stride 2, 128 to 64 channels at 7x7, 64 images");
        // A VAE's encoder takes the batch once.
        let vae = model.clone().with_family(Family::Vae).convolutions(64);
        assert_eq!(vae[3].name, "encoder's 1st");
        assert_eq!(vae[3].batch, 64);
        // A conditional D's first layer runs burn's convolution on every path.
        let cgan = model.with_family(Family::Cgan).convolutions(64);
        assert_eq!(cgan.iter().filter(|l| l.burns_only).map(|l| l.name.as_str()).collect::<Vec<_>>(), ["D's 1st"]);
    }

    #[test]
    fn default_step_is_about_8_9_gflop_and_4_7_without_ds_extra_layers() {
        let gflop = ModelConfig::new().step_flops(64) / 1e9;
        assert!((8.5..9.5).contains(&gflop), "{gflop}");
        let gflop = ModelConfig::new().with_drefine(0).step_flops(64) / 1e9;
        assert!((4.0..5.5).contains(&gflop), "{gflop}");
    }
}
