//! The DCGAN, fitted to 28x28 MNIST: a generator that draws a digit from a latent vector z,
//! and a discriminator that scores how real a digit looks (a logit; sigmoid gives a probability).

use burn::config::Config;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, relu, tanh};
use rand::rngs::StdRng;

use crate::latent::normal_values;
use crate::layers::{ConvPath, batch_norm, conv_path, conv4x4s2, dense_project, dense_score};

/// Side of the square images, in pixels.
pub const IMAGE_SIDE: usize = 28;

/// Sizes of the two networks. The defaults are the seed DCGAN's latent size with a width that
/// trains in seconds per step on a CPU.
#[derive(Config, Debug, PartialEq)]
pub struct ModelConfig {
    /// Length of the latent vector z that the generator draws from.
    #[config(default = 100)]
    pub nz: usize,
    /// Generator width: its feature maps have 4*ngf, 2*ngf then 1 channels.
    #[config(default = 32)]
    pub ngf: usize,
    /// Discriminator width: its feature maps have ndf then 2*ndf channels.
    #[config(default = 32)]
    pub ndf: usize,
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

fn downsample(channels: [usize; 2]) -> Conv2dConfig {
    Conv2dConfig::new(channels, [4, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .with_initializer(dcgan_init())
}

impl ModelConfig {
    pub fn init_generator(&self, device: &Device) -> Generator {
        let (c1, c2) = (4 * self.ngf, 2 * self.ngf);
        Generator {
            project: ConvTranspose2dConfig::new([self.nz, c1], [7, 7])
                .with_bias(false)
                .with_initializer(dcgan_init())
                .init(device),
            norm1: BatchNormConfig::new(c1).init(device),
            up1: upsample([c1, c2]).init(device),
            norm2: BatchNormConfig::new(c2).init(device),
            up2: upsample([c2, 1]).init(device),
        }
    }

    pub fn init_discriminator(&self, device: &Device) -> Discriminator {
        let (c1, c2) = (self.ndf, 2 * self.ndf);
        Discriminator {
            down1: downsample([1, c1]).init(device),
            down2: downsample([c1, c2]).init(device),
            norm2: BatchNormConfig::new(c2).init(device),
            score: Conv2dConfig::new([c2, 1], [7, 7])
                .with_bias(false)
                .with_initializer(dcgan_init())
                .init(device),
        }
    }

    /// Floating-point operations of one forward pass of G and of D, per image, counting a
    /// multiply-add as two. Convolutions dominate; norms and activations are left out.
    pub fn forward_flops(&self) -> (f64, f64) {
        let conv = |cin: usize, cout: usize, k: usize, out_side: usize| {
            2.0 * (cin * cout * k * k) as f64 * (out_side * out_side) as f64
        };
        // A transposed conv does the same multiply-adds as the conv it is the gradient of:
        // one kxk kernel per input pixel.
        let conv_t = |cin: usize, cout: usize, k: usize, in_side: usize| {
            2.0 * (cin * cout * k * k) as f64 * (in_side * in_side) as f64
        };
        let (g1, g2) = (4 * self.ngf, 2 * self.ngf);
        let g = conv_t(self.nz, g1, 7, 1) + conv_t(g1, g2, 4, 7) + conv_t(g2, 1, 4, 14);
        let (d1, d2) = (self.ndf, 2 * self.ndf);
        let d = conv(1, d1, 4, 14) + conv(d1, d2, 4, 7) + conv(d2, 1, 7, 1);
        (g, d)
    }

    /// Floating-point operations of one training step at `batch` images (see `forward_flops`).
    /// A backward pass costs about twice its forward (gradients for inputs and for weights).
    /// A step runs: G forward once; D forward+backward on the real and on the fake batch;
    /// then D forward+backward and G backward for the generator's loss.
    pub fn step_flops(&self, batch: usize) -> f64 {
        let (g, d) = self.forward_flops();
        let per_image = g + 2.0 * (3.0 * d) + 3.0 * d + 2.0 * g;
        per_image * batch as f64
    }
}

/// Draws 1x28x28 images in [-1, 1] from latent vectors z of shape [batch, nz, 1, 1].
#[derive(Module, Debug)]
pub struct Generator {
    project: ConvTranspose2d,
    norm1: BatchNorm,
    up1: ConvTranspose2d,
    norm2: BatchNorm,
    up2: ConvTranspose2d,
}

impl Generator {
    pub fn forward(&self, z: Tensor<4>) -> Tensor<4> {
        let x = relu(batch_norm(&self.norm1, dense_project(&self.project, z))); // 7x7
        let x = relu(batch_norm(&self.norm2, self.up1.forward(x))); // 14x14
        tanh(self.up2.forward(x)) // 28x28
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

    /// Length of the latent vector this generator takes.
    pub fn nz(&self) -> usize {
        self.project.channels[0]
    }
}

/// Scores images [batch, 1, 28, 28]: one logit per image, high for "real".
#[derive(Module, Debug)]
pub struct Discriminator {
    down1: Conv2d,
    down2: Conv2d,
    norm2: BatchNorm,
    score: Conv2d,
}

impl Discriminator {
    pub fn forward(&self, images: Tensor<4>) -> Tensor<1> {
        let x = leaky_relu(self.downsample(&self.down1, images), 0.2); // 14x14
        let x = leaky_relu(batch_norm(&self.norm2, self.downsample(&self.down2, x)), 0.2); // 7x7
        dense_score(&self.score, x) // 1x1 -> [batch]
    }

    fn downsample(&self, layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
        match conv_path() {
            ConvPath::Burn => layer.forward(x),
            ConvPath::Im2col => conv4x4s2(layer, x),
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
        assert_eq!(g.nz(), 8);
    }

    #[test]
    fn discriminator_gives_one_logit_per_image() {
        let device = Device::flex();
        let d = ModelConfig::new().with_ndf(4).init_discriminator(&device);
        let images = Tensor::<4>::random([5, 1, 28, 28], Distribution::Uniform(-1.0, 1.0), &device);
        assert_eq!(d.forward(images).dims(), [5]);
    }

    #[test]
    fn default_step_is_about_4_7_gflop() {
        let gflop = ModelConfig::new().step_flops(64) / 1e9;
        assert!((4.0..5.5).contains(&gflop), "{gflop}");
    }
}
