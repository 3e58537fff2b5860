//! The DCGAN's layers written as the matrix products they are, so that a GPU runs them at the
//! speed of its matmul rather than of a direct convolution kernel. Each computes what burn's
//! module of the same weights computes (the tests hold them to it), and reads the weights from
//! that module: weights files are unchanged.
//!
//! - `dense_project`: G's first layer, a 7x7 transposed convolution of a 1x1 input, is a
//!   `Linear` from z to 7x7 feature maps.
//! - `dense_score`: D's last layer, a 7x7 convolution over a 7x7 map (to one logit, or to a
//!   VAE encoder's 2 nz outputs), is a `Linear` from the flattened map.
//! - `conv4x4s2`: the 4x4 stride-2 convolutions of D as im2col and one matmul. The padded
//!   input, seen as 2x2 blocks, gives the 16 taps of every output pixel through 4 contiguous
//!   slices (a tap k = 2a + b is block a, offset b), with no gather kernel.
//! - `conv4x4s2_blocks` and `conv_transpose4x4s2_blocks`: D's and G's 4x4 stride-2 layers
//!   with no im2col, as one matmul over 2x2 blocks of pixels and a sum of four shifted slices.
//! - `batch_norm_train`: batch norm as `crate::norm_kernel`'s four operations (statistics,
//!   normalisation, the backward pass's sums and input gradient), a kernel each on a GPU.
//!
//! `conv4x4s2` and the two block ones are measured slower than burn's convolutions (see
//! `conv_path`) and are kept for `ganplay bench --conv`. The tiled kernel of
//! `crate::conv_kernel` is the other path a GPU times (`ConvPath::Tiled`).

use std::sync::atomic::{AtomicU8, Ordering};

use burn::nn::BatchNorm;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;
use burn::tensor::ops::PadMode;

use crate::norm_kernel;

/// How the convolutions of D and G run: the 4x4 stride-2 ones of D (and, for `Blocks` and
/// `Tiled`, the transposed ones of G; for `Tiled`, the 3x3 extra layers too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPath {
    /// burn's convolution (direct or tuned kernels on a GPU; im2col inside on the CPU).
    Burn,
    /// `conv4x4s2`: im2col and one matmul.
    Im2col,
    /// `conv4x4s2_blocks` for D and `conv_transpose4x4s2_blocks` for G: one matmul over 2x2
    /// blocks of pixels, and a sum of four shifted slices.
    Blocks,
    /// `conv_kernel`'s tiled kernel for every convolution of D and G (4x4 stride 2, and the
    /// 3x3 extra layers), and for the input gradient of G's transposed ones.
    Tiled,
}

impl ConvPath {
    /// The path in words, as the page's status line and the command line say it.
    pub fn describe(self) -> &'static str {
        match self {
            ConvPath::Burn => "burn's convolutions",
            ConvPath::Im2col => "im2col and a matmul",
            ConvPath::Blocks => "block matmuls",
            ConvPath::Tiled => "ganplay's tiled kernel",
        }
    }
}

static CONV_PATH: AtomicU8 = AtomicU8::new(0);

/// The convolution path: burn's until a GPU's trial (`training::ConvTrial`, burn's against
/// `Tiled`) or a benchmark sets one. Among burn's, im2col and blocks, burn's was chosen by
/// measurement (`ganplay bench --conv burn,im2col,blocks`). On an H100 (native wgpu on Vulkan, with autotune; median of 20 or 30
/// steps), burn's ran a width-32 step at batch 256 in 22.6 to 24.1 ms, against 36.7 ms with
/// im2col and 81.9 ms with blocks, and a width-64 one in 44 ms against 80 and 179 ms; at width
/// 64, batch 64, two extra G layers, 19.0 ms against 44.3 with blocks. (On an H200 before,
/// width 32: 14.2 ms against 17.5 with im2col at batch 64.) Yet the profiler gave a blocks
/// step at width 64, batch 256, 30 ms of kernel time against 43 ms for burn's, of which 36 ms
/// were burn's direct convolutions: what the blocks path loses lies outside its kernels,
/// perhaps in the buffers of its slices' gradients (each a full-size zeroed tensor). On the
/// CPU, burn's convolution is an im2col and a matmul already (blocks: 305 against 164 ms a
/// step at width 32, batch 64, two extra layers, on 2 cores).
pub fn conv_path() -> ConvPath {
    match CONV_PATH.load(Ordering::Relaxed) {
        2 => ConvPath::Im2col,
        3 => ConvPath::Blocks,
        4 => ConvPath::Tiled,
        _ => ConvPath::Burn,
    }
}

/// Overrides the measured choice (`None` goes back to it): for benchmarks.
pub fn force_conv_path(path: Option<ConvPath>) {
    let code = match path {
        None => 0,
        Some(ConvPath::Burn) => 1,
        Some(ConvPath::Im2col) => 2,
        Some(ConvPath::Blocks) => 3,
        Some(ConvPath::Tiled) => 4,
    };
    CONV_PATH.store(code, Ordering::Relaxed);
}

/// G's first layer on z [batch, nz, 1, 1]: feature maps [batch, c, 7, 7]. The transposed
/// convolution's weight [nz, c, 7, 7] is already the matrix [nz, c*49] of a `Linear`.
pub fn dense_project(layer: &ConvTranspose2d, z: Tensor<4>) -> Tensor<4> {
    let [nz, channels, k, _] = layer.weight.dims();
    let [batch, ..] = z.dims();
    let weight = layer.weight.val().reshape([nz, channels * k * k]);
    z.reshape([batch, nz]).matmul(weight).reshape([batch, channels, k, k])
}

/// D's last layer on x [batch, c, 7, 7]: [batch, outputs]. The convolution's weight
/// [outputs, c, 7, 7] is the transposed matrix [c*49, outputs] of a `Linear`.
pub fn dense_score(layer: &Conv2d, x: Tensor<4>) -> Tensor<2> {
    let [batch, channels, h, w] = x.dims();
    let [outputs, ..] = layer.weight.dims();
    let weight = layer.weight.val().reshape([outputs, channels * h * w]).transpose();
    x.reshape([batch, channels * h * w]).matmul(weight)
}

/// A 4x4 convolution, stride 2, padding 1, no bias, of x [batch, c, h, w] (h and w even)
/// with `layer`'s weight [out, c, 4, 4]: [batch, out, h/2, w/2].
pub fn conv4x4s2(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [batch, channels, h, w] = x.dims();
    let [out, _, kh, kw] = layer.weight.dims();
    debug_assert!(kh == 4 && kw == 4 && h % 2 == 0 && w % 2 == 0);
    let (oh, ow) = (h / 2, w / 2);
    // Padded: (h + 2) x (w + 2) = (oh + 1) x (ow + 1) blocks of 2x2.
    let blocks = x
        .pad((1, 1, 1, 1), PadMode::Constant(0.0))
        .reshape([batch, channels, oh + 1, 2, ow + 1, 2]);
    // Output pixel (i, j) reads block row i + a, offset b, for tap 2a + b; likewise columns.
    let taps: Vec<Tensor<6>> = [(0, 0), (0, 1), (1, 0), (1, 1)]
        .into_iter()
        .map(|(a, c)| blocks.clone().slice([0..batch, 0..channels, a..a + oh, 0..2, c..c + ow, 0..2]))
        .collect();
    // [batch, channels, oh, b_row, ow, b_col, a_row * 2 + a_col]
    let taps: Tensor<7> = Tensor::stack(taps, 6);
    let taps: Tensor<8> = taps.reshape([batch, channels, oh, 2, ow, 2, 2, 2]);
    // Rows: output pixels; columns: (channel, a_row, b_row, a_col, b_col), the weight's order.
    let columns = taps.permute([0, 2, 4, 1, 6, 3, 7, 5]).reshape([batch * oh * ow, channels * 16]);
    let weight = layer.weight.val().reshape([out, channels * 16]).transpose();
    columns.matmul(weight).reshape([batch, oh, ow, out]).permute([0, 3, 1, 2])
}

/// `conv4x4s2` with no im2col: the padded input seen as 2x2 blocks of pixels is a 2x2 stride-1
/// convolution over blocks of 4c values, and that is one matmul of every block (a row of 4c)
/// with the weights of all four block offsets side by side ([4c, 4 out]), whose four outputs
/// are then summed, each read at its offset. The input is copied once (blocks to rows); the
/// matmul does (h/2 + 1)(w/2 + 1) rows where the convolution has (h/2)(w/2) outputs.
pub fn conv4x4s2_blocks(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [batch, channels, h, w] = x.dims();
    let [out, _, kh, kw] = layer.weight.dims();
    debug_assert!(kh == 4 && kw == 4 && h % 2 == 0 && w % 2 == 0 && layer.stride == [2, 2] && layer.bias.is_none());
    let (oh, ow) = (h / 2, w / 2);
    let (bh, bw) = (oh + 1, ow + 1);
    // Rows: blocks (image, block row, block column); columns: (channel, row in block, column).
    let blocks = x
        .pad((1, 1, 1, 1), PadMode::Constant(0.0))
        .reshape([batch, channels, bh, 2, bw, 2])
        .permute([0, 2, 4, 1, 3, 5])
        .reshape([batch * bh * bw, channels * 4]);
    // Tap (2a + b, 2c + d) of output (i, j) is block (i + a, j + c), pixel (b, d) in it. The
    // weight [out, c, (a, b), (c, d)] as rows (channel, b, d) and columns (a, c, out).
    let weight = layer
        .weight
        .val()
        .reshape([out, channels, 2, 2, 2, 2])
        .permute([1, 3, 5, 2, 4, 0])
        .reshape([channels * 4, 4 * out]);
    let partial = blocks.matmul(weight).reshape([batch, bh, bw, 4, out]);
    // Output (i, j) sums offset (a, c) of block (i + a, j + c).
    let offset = |a: usize, c: usize| partial.clone().slice([0..batch, a..a + oh, c..c + ow, 2 * a + c..2 * a + c + 1, 0..out]);
    let sum = offset(0, 0) + offset(0, 1) + offset(1, 0) + offset(1, 1);
    sum.reshape([batch, oh, ow, out]).permute([0, 3, 1, 2])
}

/// A 4x4 transposed convolution, stride 2, padding 1, no bias, of x [batch, c, h, w] with
/// `layer`'s weight [c, out, 4, 4]: [batch, out, 2h, 2w]. The adjoint of `conv4x4s2_blocks`:
/// the output, padded, is (h + 1) x (w + 1) blocks of 2x2 pixels, and input pixel (i, j)
/// adds to blocks (i + a, j + c) for a, c in {0, 1}. One matmul of every input pixel (a row
/// of c) with the weights of all four offsets and the pixels of a block side by side
/// ([c, 4 * out * 4]), then the four offsets' outputs, each shifted into place, are summed.
/// Its gradients are matmuls too, where burn's takes the input's gradient with a direct
/// convolution.
pub fn conv_transpose4x4s2_blocks(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let [batch, channels, h, w] = x.dims();
    let [_, out, kh, kw] = layer.weight.dims();
    debug_assert!(kh == 4 && kw == 4 && layer.stride == [2, 2] && layer.padding == [1, 1] && layer.bias.is_none());
    let rows = x.permute([0, 2, 3, 1]).reshape([batch * h * w, channels]);
    // Tap (2a + b, 2c + d) of input (i, j) lands in block (i + a, j + c), at pixel (b, d).
    let weight = layer
        .weight
        .val()
        .reshape([channels, out, 2, 2, 2, 2])
        .permute([0, 2, 4, 1, 3, 5])
        .reshape([channels, 4 * out * 4]);
    // [batch, h, w, (a, c), (out, b, d)]
    let partial = rows.matmul(weight).reshape([batch, h, w, 4, out * 4]);
    let placed = |a: usize, c: usize| {
        partial
            .clone()
            .slice([0..batch, 0..h, 0..w, 2 * a + c..2 * a + c + 1, 0..out * 4])
            .reshape([batch, h, w, out * 4])
            .permute([0, 3, 1, 2])
            .pad((c, 1 - c, a, 1 - a), PadMode::Constant(0.0))
    };
    // [batch, (out, b, d), block row, block column]
    let blocks = placed(0, 0) + placed(0, 1) + placed(1, 0) + placed(1, 1);
    blocks
        .reshape([batch, out, 2, 2, h + 1, w + 1])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([batch, out, 2 * h + 2, 2 * w + 2])
        .slice([0..batch, 0..out, 1..2 * h + 1, 1..2 * w + 1])
}

/// Batch norm of x [batch, c, h, w] in training: normalised with the batch's statistics,
/// which also move `norm`'s running statistics, as burn's `BatchNorm::forward` does on an
/// autodiff device. burn's reduces over channels by swapping the batch and channel axes,
/// which copies the activations twice, and differentiates its composition, a reduction for
/// every axis of every broadcast; here `norm_kernel` takes the statistics in one operation (two
/// passes, the mean and then the squared deviations, so large means lose no precision), the
/// normalisation in another, and the backward pass in two (a kernel each on a GPU, a loop
/// each on the CPU).
///
/// x may hold `batches` batches of the same size one after the other (D judging real and
/// drawn digits in one pass): each is then normalised with its own statistics, and the
/// running statistics move once for each, in order, as they would over separate calls.
pub fn batch_norm_train(norm: &BatchNorm, x: Tensor<4>, batches: usize) -> Tensor<4> {
    let [total, channels, ..] = x.dims();
    assert!(batches > 0 && total % batches == 0, "{total} images are not {batches} batches of one size");
    // [2, batches, c]: each batch's mean and biased variance per channel (untracked).
    let statistics = norm_kernel::statistics(x.clone(), batches);
    let output = norm_kernel::normalize(x, norm.gamma.val(), norm.beta.val(), statistics.clone(), batches, norm.epsilon);

    let device = output.device();
    let momentum = norm.momentum;
    let moved = |running: Tensor<1>, which: usize| {
        let statistics = statistics.clone().narrow(0, which, 1).reshape([batches, channels]);
        (0..batches).fold(running.to_device(&device), |running, b| {
            let batch = statistics.clone().narrow(0, b, 1).reshape([channels]);
            running.mul_scalar(1.0 - momentum).add(batch.mul_scalar(momentum))
        })
        .detach()
    };
    norm.running_mean.update(moved(norm.running_mean.value_sync(), 0));
    norm.running_var.update(moved(norm.running_var.value_sync(), 1));
    // An update waits beside the value until the next read folds it in, and a module's
    // visitors (copies, snapshots, the average of G) read the value alone: fold it in now.
    norm.running_mean.value_sync();
    norm.running_var.value_sync();
    output
}

/// Batch norm of `batches` batches of one size stacked in x: `batch_norm_train` while
/// training (an autodiff device, the layer not frozen), burn's inference path with the
/// running statistics otherwise (where each image is on its own anyway).
pub fn batch_norm(norm: &BatchNorm, x: Tensor<4>, batches: usize) -> Tensor<4> {
    if x.device().is_autodiff() && norm.training.is_enabled() { batch_norm_train(norm, x, batches) } else { norm.forward(x) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burn::nn::{BatchNormConfig, PaddingConfig2d};
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use burn::tensor::Distribution;

    fn device() -> Device {
        Device::flex().autodiff()
    }

    fn random<const D: usize>(shape: [usize; D]) -> Tensor<D> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), &device())
    }

    /// The wgpu device of the kernels' tests (Mesa's lavapipe where there is no GPU), made
    /// once for the process, which can register the runtime only once. None where there is
    /// no adapter; `GANPLAY_WGPU_TESTS=1` (set by `with_lavapipe` in scripts/env.sh, where
    /// setup unpacked lavapipe) makes that a failure rather than a skip.
    pub(crate) fn wgpu_device() -> Option<Device> {
        static DEVICE: std::sync::OnceLock<Result<Device, String>> = std::sync::OnceLock::new();
        match DEVICE.get_or_init(|| Device::wgpu_options().init().map_err(|e| e.to_string())) {
            Ok(device) => Some(device.clone().autodiff()),
            Err(e) => {
                assert!(std::env::var_os("GANPLAY_WGPU_TESTS").is_none(), "no wgpu adapter: {e}");
                eprintln!("skipped: no wgpu adapter ({e})");
                None
            }
        }
    }

    /// a and b agree to 1e-5 of b's largest magnitude (or of 1).
    pub(crate) fn assert_close<const D: usize>(what: &str, a: Tensor<D>, b: Tensor<D>) {
        assert_eq!(a.dims(), b.dims(), "{what}");
        let (a, b) = (a.into_data().try_to_vec::<f32>().unwrap(), b.into_data().try_to_vec::<f32>().unwrap());
        let scale = b.iter().map(|v| v.abs()).fold(1.0f32, f32::max);
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5 * scale, "{what}: largest difference {worst} (values up to {scale})");
    }

    /// Output, input gradient and weight gradient of `ours` and `burns` on the same input and
    /// the same upstream gradient must agree.
    fn agree<const D: usize, const E: usize, const W: usize>(
        input: [usize; D],
        weight: impl Fn() -> Tensor<W>,
        ours: impl Fn(Tensor<D>) -> Tensor<E>,
        burns: impl Fn(Tensor<D>) -> Tensor<E>,
    ) {
        let x = random(input);
        let run = |f: &dyn Fn(Tensor<D>) -> Tensor<E>| {
            let x = x.clone().require_grad();
            let y = f(x.clone());
            let upstream = Tensor::<E>::ones(y.dims(), &device()).cumsum(E - 1).sin();
            let grads = (y.clone() * upstream).sum().backward();
            (y, x.grad(&grads).unwrap(), weight().grad(&grads).unwrap())
        };
        let (y1, dx1, dw1) = run(&ours);
        let (y2, dx2, dw2) = run(&burns);
        assert_close("output", y1, y2);
        assert_close("input gradient", dx1, dx2);
        assert_close("weight gradient", dw1, dw2);
    }

    fn conv(channels: [usize; 2], kernel: usize, stride: usize, padding: usize) -> Conv2d {
        Conv2dConfig::new(channels, [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
            .with_bias(false)
            .init(&device())
    }

    #[test]
    fn im2col_convolution_is_burns_convolution() {
        for (input, channels) in [([3, 1, 28, 28], [1, 5]), ([2, 4, 14, 14], [4, 6])] {
            let layer = conv(channels, 4, 2, 1);
            agree(input, || layer.weight.val(), |x| conv4x4s2(&layer, x), |x| layer.forward(x));
        }
    }

    #[test]
    fn block_transposed_convolution_is_burns() {
        for (input, channels) in [([3, 6, 7, 7], [6, 4]), ([2, 3, 14, 14], [3, 1]), ([2, 3, 5, 7], [3, 2])] {
            let layer = ConvTranspose2dConfig::new(channels, [4, 4]).with_stride([2, 2]).with_padding([1, 1]).with_bias(false).init(&device());
            agree(input, || layer.weight.val(), |x| conv_transpose4x4s2_blocks(&layer, x), |x| layer.forward(x));
        }
    }

    #[test]
    fn block_convolution_is_burns_convolution() {
        for (input, channels) in [([3, 1, 28, 28], [1, 5]), ([2, 4, 14, 14], [4, 6]), ([2, 3, 6, 10], [3, 2])] {
            let layer = conv(channels, 4, 2, 1);
            agree(input, || layer.weight.val(), |x| conv4x4s2_blocks(&layer, x), |x| layer.forward(x));
        }
    }

    #[test]
    fn dense_score_is_the_7x7_convolution() {
        for outputs in [1, 8] {
            let layer = conv([6, outputs], 7, 1, 0);
            agree([4, 6, 7, 7], || layer.weight.val(), |x| dense_score(&layer, x), |x| layer.forward(x).flatten::<2>(1, 3));
        }
    }

    #[test]
    fn dense_project_is_the_7x7_transposed_convolution() {
        let layer = ConvTranspose2dConfig::new([5, 3], [7, 7]).with_bias(false).init(&device());
        agree([4, 5, 1, 1], || layer.weight.val(), |z| dense_project(&layer, z), |z| layer.forward(z));
    }

    #[test]
    fn one_pass_batch_norm_is_burns_batch_norm() {
        let norm = || {
            let mut norm = BatchNormConfig::new(3).init(&device());
            norm.gamma = norm.gamma.map(|_| random([3]).add_scalar(1.0).set_require_grad(true));
            norm.beta = norm.beta.map(|_| random([3]).set_require_grad(true));
            norm
        };
        let (ours, burns) = (norm(), norm());
        // Same gamma and beta in both.
        let burns = BatchNorm { gamma: ours.gamma.clone(), beta: ours.beta.clone(), ..burns };
        // Activations far from zero mean, as a conv's output can be.
        let shifted = |x: Tensor<4>| x.mul_scalar(3.0).add_scalar(5.0);
        agree([4, 3, 5, 5], || ours.gamma.val(), |x| batch_norm_train(&ours, shifted(x), 1), |x| burns.forward(shifted(x)));
        // A second step moves the running statistics the same way.
        let x = random([4, 3, 5, 5]);
        batch_norm_train(&ours, x.clone(), 1);
        burns.forward(x);
        assert_close("running mean", ours.running_mean.value_sync(), burns.running_mean.value_sync());
        assert_close("running variance", ours.running_var.value_sync(), burns.running_var.value_sync());
    }

    #[test]
    fn batches_stacked_in_one_pass_are_normalised_as_apart() {
        let mut ours = BatchNormConfig::new(3).init(&device());
        ours.gamma = ours.gamma.map(|_| random([3]).add_scalar(1.0).set_require_grad(true));
        ours.beta = ours.beta.map(|_| random([3]).set_require_grad(true));
        let burns = BatchNorm { gamma: ours.gamma.clone(), beta: ours.beta.clone(), ..BatchNormConfig::new(3).init(&device()) };
        // Two batches of 4 with different statistics, as real and drawn digits have.
        let apart = |x: Tensor<4>| {
            let (a, b) = (x.clone().narrow(0, 0, 4), x.narrow(0, 4, 4).mul_scalar(0.5).sub_scalar(2.0));
            (a, b)
        };
        let stacked = |x: Tensor<4>| {
            let (a, b) = apart(x);
            batch_norm_train(&ours, Tensor::cat(vec![a, b], 0), 2)
        };
        let separately = |x: Tensor<4>| {
            let (a, b) = apart(x);
            Tensor::cat(vec![burns.forward(a), burns.forward(b)], 0)
        };
        agree([8, 3, 5, 5], || ours.gamma.val(), stacked, separately);
        assert_close("running mean", ours.running_mean.value_sync(), burns.running_mean.value_sync());
        assert_close("running variance", ours.running_var.value_sync(), burns.running_var.value_sync());
    }
}
