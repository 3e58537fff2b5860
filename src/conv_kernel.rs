//! A convolution kernel of our own for GPUs without tensor cores in their shading language
//! (WGSL, so the page's WebGPU): an implicit GEMM, tiled through workgroup memory. burn's
//! tuned implicit-GEMM convolutions need tensor-core instructions, so on wgpu its forward
//! convolution is a direct kernel that gives each unit one output pixel and reads the weights
//! again for every pixel.
//!
//! The convolution is the matrix product of its input's patches (rows: output pixels;
//! columns: channel and tap) with its weights (rows: channel and tap; columns: output
//! channels), without writing the patches out: each workgroup gathers 16 entries of 64 output
//! pixels' patches and of up to 64 output channels' weights into workgroup memory at a time,
//! and each of its 256 units sums 4 pixels by up to 4 channels of the tile from there. The
//! weight gradient is the same product with the output pixels of the whole batch as the sum,
//! split into shares that separate workgroups add up. NCHW in and out, any strides.
//!
//! `ConvKernels` makes it an operation of every backend: the kernel on cubecl devices, burn's
//! convolution elsewhere (the CPU), and on an autodiff device its own backward pass. The input
//! gradient of a convolution is a transposed convolution (burn's, a matmul and col2im), and
//! that of a transposed convolution is a convolution (this kernel), which burn's would run as
//! its direct kernel.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions, FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Shape, Tensor};
use burn_cubecl::CubeBackend;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::ConvLayer;

mod kernel;

/// The shape of a convolution's output: [batch, outputs, oh, ow].
fn conv_output_shape(x: &Shape, weight: &Shape, stride: &usize, padding: &usize) -> Shape {
    let out = |size: usize| {
        let span = (size + 2 * padding).checked_sub(weight[2]).expect("a convolution's kernel larger than its padded input");
        span / stride + 1
    };
    Shape::new([x[0], weight[0], out(x[2]), out(x[3])])
}

/// The shape of a transposed convolution's output: [batch, outputs, oh, ow].
fn conv_transpose_output_shape(x: &Shape, weight: &Shape, stride: &usize, padding: &usize) -> Shape {
    assert_eq!(weight[2], weight[3], "a transposed convolution of a square kernel");
    let out = |size: usize| ((size - 1) * stride + weight[2]).checked_sub(2 * padding).expect("a transposed convolution's padding past its output");
    Shape::new([x[0], weight[1], out(x[2]), out(x[3])])
}

fn conv_options(stride: usize, padding: usize) -> ConvOptions<2> {
    ConvOptions::new([stride; 2], [padding; 2], [1; 2], 1)
}

fn conv_transpose_options(stride: usize, padding: usize) -> ConvTransposeOptions<2> {
    ConvTransposeOptions::new([stride; 2], [padding; 2], [0; 2], [1; 2], 1)
}

/// Convolutions (square kernels, no bias, one group) that run on this module's kernels where
/// there are: the tiled convolution, and the upsampling kernel for the DCGAN's transposed ones.
#[backend_extension(Cube, Flex, Autodiff, Fusion)]
pub trait ConvKernels: Backend {
    /// A convolution of x [batch, channels, h, w] with weight [outputs, channels, k, k].
    #[fusion(dtype = x, shape = conv_output_shape(x, weight, stride, padding))]
    fn conv2d_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        Self::conv2d(x, weight, None, conv_options(stride, padding))
    }

    /// The gradient of the weight [outputs, channels, k, k] of the convolution of x [batch,
    /// channels, h, w] whose output's gradient is grad [batch, outputs, oh, ow] (`weight`
    /// gives the shape).
    #[fusion(dtype = x, shape = weight)]
    fn conv2d_weight_grad_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, grad: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, grad, conv_options(stride, padding))
    }

    /// A transposed convolution of x [batch, channels, h, w] with weight [channels, outputs,
    /// k, k]: the upsampling kernel where it applies, otherwise burn's; with this module's
    /// backward pass on an autodiff device.
    #[fusion(dtype = x, shape = conv_transpose_output_shape(x, weight, stride, padding))]
    fn conv_transpose2d_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        Self::conv_transpose2d(x, weight, None, conv_transpose_options(stride, padding))
    }
}

impl ConvKernels for Flex {}

/// The kernels take f32 and square kernels; anything else runs burn's.
fn kernel_takes(x: &FloatTensor<CubeBackend>, weight: &Shape) -> bool {
    x.dtype == DType::F32 && weight[2] == weight[3]
}

/// Whether the tiled path runs transposed convolutions (G's forward pass, and the input
/// gradient of D's 4x4 convolutions) on the upsampling kernel rather than burn's (a matmul,
/// and col2im); off unless a benchmark asks (`bench --conv tiled-up`). On lavapipe the kernel
/// takes four times as long as burn's matmul and col2im for the same products, as the tiled
/// convolution kernel takes 2.5 to 3 times burn's direct one there; it saves a step 14 of its
/// 119 launches and col2im's buffer of every output pixel's 16 taps. A real GPU decides.
static UPSAMPLING: AtomicBool = AtomicBool::new(false);

/// Turns the upsampling kernel on or off (see `UPSAMPLING`).
pub fn use_upsampling_kernel(on: bool) {
    UPSAMPLING.store(on, Ordering::Relaxed);
}

/// A transposed convolution of the upsampling kernel's shape: 4x4, stride 2, padding 1 (the
/// DCGAN's), which doubles each side.
fn upsampling_shape(weight: &Shape, stride: usize, padding: usize) -> bool {
    (weight[2], weight[3], stride, padding) == (4, 4, 2, 1)
}

/// A transposed convolution that the upsampling kernel runs: of its shape, and the kernel on.
fn upsamples(weight: &Shape, stride: usize, padding: usize) -> bool {
    UPSAMPLING.load(Ordering::Relaxed) && upsampling_shape(weight, stride, padding)
}

/// Whether the input gradient of a convolution of x (`input`) whose output is `output` is
/// the upsampling kernel's transposed convolution of the output's gradient: a 4x4, stride-2,
/// padding-1 convolution of an input of even sides (an odd one is one pixel past what the
/// transposed convolution gives).
fn input_gradient_upsamples(input: &Shape, output: &Shape, weight: &Shape, stride: usize, padding: usize) -> bool {
    upsamples(weight, stride, padding) && input[2] == 2 * output[2] && input[3] == 2 * output[3]
}

impl ConvKernels for CubeBackend {
    fn conv2d_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        let dims = weight.shape();
        if !kernel_takes(&x, &dims) {
            return Self::conv2d(x, weight, None, conv_options(stride, padding));
        }
        let shape = conv_output_shape(&x.shape(), &dims, &stride, &padding);
        kernel::conv2d(x, weight, shape, stride, padding)
    }

    fn conv2d_weight_grad_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, grad: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        let dims = weight.shape();
        if !kernel_takes(&x, &dims) {
            return Self::conv2d_weight_backward(x, weight, grad, conv_options(stride, padding));
        }
        let partial = kernel::conv2d_weight_grad_partial(x, grad, dims[2], stride, padding);
        let summed = Self::float_sum_dim(partial, 0);
        Self::float_reshape(summed, dims)
    }

    fn conv_transpose2d_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        let dims = weight.shape();
        if !kernel_takes(&x, &dims) || !upsamples(&dims, stride, padding) {
            return Self::conv_transpose2d(x, weight, None, conv_transpose_options(stride, padding));
        }
        kernel::conv_transpose2d_up(x, weight)
    }
}

/// The backward pass of a tiled convolution, or with `TRANSPOSED` of a transposed one.
#[derive(Debug)]
struct TiledBackward<const TRANSPOSED: bool>;

impl<B: Backend + ConvKernels, const TRANSPOSED: bool> Backward<B, 2> for TiledBackward<TRANSPOSED> {
    type State = (NodeId, NodeId, usize, usize);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, stride, padding) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
        if let Some(node) = node_x {
            let x_grad = if TRANSPOSED {
                // The adjoint of a transposed convolution is the convolution with the same
                // weight, read as [channels, outputs, k, k] = [its outputs, its channels, k, k].
                B::conv2d_tiled(grad.clone(), weight.clone(), stride, padding)
            } else if input_gradient_upsamples(&x.shape(), &grad.shape(), &weight.shape(), stride, padding) {
                // The adjoint of a convolution is the transposed convolution with the same
                // weight, read as [outputs, channels, k, k] = [its channels, its outputs, k, k].
                B::conv_transpose2d_tiled(grad.clone(), weight.clone(), stride, padding)
            } else {
                B::conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), conv_options(stride, padding))
            };
            grads.register::<B>(node.id, x_grad);
        }
        if let Some(node) = node_weight {
            // A transposed convolution's weight gradient is the same sum as a convolution's,
            // with the input and the output gradient exchanged: its weight [channels, outputs,
            // k, k] is that of the convolution of its output gradient into x's shape.
            let (input, output_grad) = if TRANSPOSED { (grad, x) } else { (x, grad) };
            grads.register::<B>(node.id, B::conv2d_weight_grad_tiled(input, weight, output_grad, stride, padding));
        }
    }
}

/// `forward` (a tiled convolution of the inner backend), recorded for `TiledBackward`.
fn tracked<B: Backend + ConvKernels, C: CheckpointStrategy, const TRANSPOSED: bool>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    stride: usize,
    padding: usize,
    forward: fn(FloatTensor<B>, FloatTensor<B>, usize, usize) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    match TiledBackward::<TRANSPOSED>.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            let weight_state = prep.checkpoint(&weight);
            prep.finish((x_state, weight_state, stride, padding), forward(x.into_primitive(), weight.into_primitive(), stride, padding))
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive(), weight.into_primitive(), stride, padding)),
    }
}

impl<B: Backend + ConvKernels, C: CheckpointStrategy> ConvKernels for Autodiff<B, C> {
    // conv2d_weight_grad_tiled keeps its default body (burn's differentiable weight gradient);
    // the backward passes call the inner backend's.

    fn conv2d_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        tracked::<B, C, false>(x, weight, stride, padding, B::conv2d_tiled)
    }

    fn conv_transpose2d_tiled(x: FloatTensor<Self>, weight: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        tracked::<B, C, true>(x, weight, stride, padding, B::conv_transpose2d_tiled)
    }
}

/// `conv2d_tiled` on tensors: x [batch, channels, h, w], weight [outputs, channels, k, k].
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as ConvKernels>::conv2d_tiled(x.into_dispatch(), weight.into_dispatch(), stride, padding))
}

/// `conv_transpose2d_tiled` on tensors: x [batch, channels, h, w], weight [channels, outputs,
/// k, k].
pub fn conv_transpose2d(x: Tensor<4>, weight: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as ConvKernels>::conv_transpose2d_tiled(x.into_dispatch(), weight.into_dispatch(), stride, padding))
}

/// The three matrix products a convolution costs a training step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Output,
    InputGradient,
    WeightGradient,
}

impl Product {
    pub const ALL: [Product; 3] = [Product::Output, Product::InputGradient, Product::WeightGradient];

    pub fn name(self) -> &'static str {
        match self {
            Product::Output => "output",
            Product::InputGradient => "input gradient",
            Product::WeightGradient => "weight gradient",
        }
    }

    /// Whether the tiled path runs burn's operation for this product of a convolution (or a
    /// transposed one): a convolution's input gradient and a transposed convolution's output
    /// (both transposed convolutions, a matmul and col2im), unless the upsampling kernel is on
    /// and runs them (see `upsampling_runs`).
    pub fn burns_on_both_paths(self, transposed: bool) -> bool {
        matches!((self, transposed), (Product::InputGradient, false) | (Product::Output, true))
    }

    /// Whether the upsampling kernel, when on, runs this product of `layer` on the tiled path:
    /// a transposed convolution of its shape, or the input gradient of a 4x4 stride-2
    /// convolution of an even side.
    pub fn upsampling_runs(self, layer: &ConvLayer) -> bool {
        let weight = Shape::new([0, 0, layer.k, layer.k]);
        self.burns_on_both_paths(layer.transposed) && upsampling_shape(&weight, layer.stride, layer.padding) && (layer.transposed || layer.side.is_multiple_of(2))
    }
}

/// `product` of `layer` on x and weight (the output) or on the output's gradient `grad` (the
/// input's or the weight's gradient), as burn's operations run it or (`tiled`) as the tiled
/// path does in a training step (`ConvPath::Tiled`).
pub fn product(layer: &ConvLayer, product: Product, tiled: bool, x: Tensor<4>, weight: Tensor<4>, grad: Tensor<4>) -> Tensor<4> {
    let (stride, padding) = (layer.stride, layer.padding);
    let (conv, transposed) = (conv_options(stride, padding), conv_transpose_options(stride, padding));
    let (x, weight, grad) = (x.into_dispatch(), weight.into_dispatch(), grad.into_dispatch());
    let out = match (layer.transposed, product, tiled) {
        (false, Product::Output, false) => Dispatch::conv2d(x, weight, None, conv),
        (false, Product::Output, true) => <Dispatch as ConvKernels>::conv2d_tiled(x, weight, stride, padding),
        (false, Product::InputGradient, true) if input_gradient_upsamples(&x.shape(), &grad.shape(), &weight.shape(), stride, padding) => {
            <Dispatch as ConvKernels>::conv_transpose2d_tiled(grad, weight, stride, padding)
        }
        (false, Product::InputGradient, _) => Dispatch::conv2d_x_backward(x, weight, grad, conv),
        (false, Product::WeightGradient, false) => Dispatch::conv2d_weight_backward(x, weight, grad, conv),
        (false, Product::WeightGradient, true) => <Dispatch as ConvKernels>::conv2d_weight_grad_tiled(x, weight, grad, stride, padding),
        (true, Product::Output, false) => Dispatch::conv_transpose2d(x, weight, None, transposed),
        (true, Product::Output, true) => <Dispatch as ConvKernels>::conv_transpose2d_tiled(x, weight, stride, padding),
        (true, Product::InputGradient, false) => Dispatch::conv_transpose2d_x_backward(weight, grad, transposed),
        (true, Product::InputGradient, true) => <Dispatch as ConvKernels>::conv2d_tiled(grad, weight, stride, padding),
        (true, Product::WeightGradient, false) => Dispatch::conv_transpose2d_weight_backward(x, weight, grad, transposed),
        // As `TiledBackward` runs it: the convolution's weight gradient, input and output
        // gradient exchanged.
        (true, Product::WeightGradient, true) => <Dispatch as ConvKernels>::conv2d_weight_grad_tiled(grad, weight, x, stride, padding),
    };
    Tensor::from_dispatch(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use burn::tensor::{Device, Distribution};

    use crate::layers::tests::assert_close as close;

    /// Output, input gradient and weight gradient of `ours` and `burns` on the same input and
    /// the same upstream gradient.
    fn agree(device: &Device, input: [usize; 4], weight: Tensor<4>, ours: impl Fn(Tensor<4>, Tensor<4>) -> Tensor<4>, burns: impl Fn(Tensor<4>, Tensor<4>) -> Tensor<4>) {
        let x = Tensor::<4>::random(input, Distribution::Normal(0.0, 1.0), device);
        let run = |f: &dyn Fn(Tensor<4>, Tensor<4>) -> Tensor<4>| {
            let (x, w) = (x.clone().require_grad(), weight.clone().require_grad());
            let y = f(x.clone(), w.clone());
            let upstream = Tensor::<4>::ones(y.dims(), device).cumsum(3).sin();
            let grads = (y.clone() * upstream).sum().backward();
            (y, x.grad(&grads).unwrap(), w.grad(&grads).unwrap())
        };
        let (y1, dx1, dw1) = run(&ours);
        let (y2, dx2, dw2) = run(&burns);
        close("output", y1, y2);
        close("input gradient", dx1, dx2);
        close("weight gradient", dw1, dw2);
    }

    /// Shapes the DCGAN has (4x4 stride 2 down and up, 3x3 extra layers) and ones that leave
    /// part of a tile, of a pass and of a workgroup's columns empty, with tiles 16, 32 and 64
    /// channels wide, and two tiles across the channels; a 4x4 stride-2 one of odd sides, whose
    /// input gradient the upsampling kernel does not give.
    const CONVS: [([usize; 4], usize, usize, usize, usize); 8] = [
        ([3, 1, 28, 28], 5, 4, 2, 1),
        ([2, 4, 14, 14], 6, 4, 2, 1),
        ([2, 6, 7, 7], 6, 3, 1, 1),
        ([2, 3, 6, 10], 2, 4, 2, 1),
        ([1, 70, 9, 9], 66, 3, 1, 1),
        ([2, 5, 8, 8], 24, 4, 2, 1),
        ([5, 3, 11, 8], 7, 3, 2, 0),
        ([2, 3, 7, 9], 5, 4, 2, 1),
    ];

    fn check_convolutions(device: &Device) {
        for (input, outputs, k, stride, padding) in CONVS {
            let layer = Conv2dConfig::new([input[1], outputs], [k, k])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
                .with_bias(false)
                .init(device);
            agree(device, input, layer.weight.val(), |x, w| conv2d(x, w, stride, padding), |x, w| {
                burn::tensor::module::conv2d(x, w, None, conv_options(stride, padding))
            });
        }
    }

    /// (With the upsampling kernel on: on the CPU it changes nothing, burn's runs either way.)
    fn check_transposed(device: &Device) {
        for (input, outputs) in [([3, 6, 7, 7], 4), ([2, 3, 14, 14], 1), ([2, 3, 5, 7], 2), ([2, 80, 3, 3], 70)] {
            let layer = ConvTranspose2dConfig::new([input[1], outputs], [4, 4]).with_stride([2, 2]).with_padding([1, 1]).with_bias(false).init(device);
            agree(device, input, layer.weight.val(), |x, w| conv_transpose2d(x, w, 2, 1), |x, w| {
                burn::tensor::module::conv_transpose2d(x, w, None, conv_transpose_options(2, 1))
            });
        }
    }

    /// Every product of every convolution of a model, by both paths, against autodiff's
    /// output and gradients of burn's layer.
    fn check_products(device: &Device) {
        let model = crate::model::ModelConfig::new().with_ngf(4).with_ndf(3).with_refine(1).with_drefine(1);
        let layers = model.convolutions(2);
        assert_eq!(layers.len(), 6);
        let plain = device.clone().inner();
        for layer in layers {
            let x = Tensor::<4>::random(layer.input_shape(), Distribution::Normal(0.0, 1.0), device).require_grad();
            let w = Tensor::<4>::random(layer.weight_shape(), Distribution::Normal(0.0, 0.1), device).require_grad();
            let y = if layer.transposed {
                burn::tensor::module::conv_transpose2d(x.clone(), w.clone(), None, conv_transpose_options(layer.stride, layer.padding))
            } else {
                burn::tensor::module::conv2d(x.clone(), w.clone(), None, conv_options(layer.stride, layer.padding))
            };
            assert_eq!(y.dims(), layer.output_shape(), "{}", layer.describe());
            let upstream = Tensor::<4>::ones(y.dims(), device).cumsum(3).sin();
            let grads = (y.clone() * upstream.clone()).sum().backward();
            let expected = [y.inner(), x.grad(&grads).unwrap(), w.grad(&grads).unwrap()];
            let on_plain = |t: &Tensor<4>| Tensor::<4>::from_data(t.clone().inner().into_data(), &plain);
            for (product, expected) in Product::ALL.into_iter().zip(expected) {
                for tiled in [false, true] {
                    let got = super::product(&layer, product, tiled, on_plain(&x), on_plain(&w), on_plain(&upstream));
                    close(&format!("{}, {} (tiled: {tiled})", layer.describe(), product.name()), got, Tensor::from_data(expected.clone().into_data(), &plain));
                }
            }
        }
    }

    /// On the CPU the operations are burn's own: this checks the backward passes' wiring, and
    /// that a transposed convolution's gradients are the convolutions said.
    #[test]
    fn backward_passes_are_burns_on_the_cpu() {
        let device = Device::flex().autodiff();
        check_convolutions(&device);
        check_transposed(&device);
        check_products(&device);
    }

    /// The kernels themselves, on a Vulkan device (`wgpu_device`): the test of `conv_kernel`
    /// that a wrong index fails.
    #[test]
    fn kernel_is_burns_convolution_on_wgpu() {
        let Some(device) = crate::layers::tests::wgpu_device() else { return };
        // Both ways: the transposed convolutions by burn's operations, then by the upsampling
        // kernel. (The switch is the process's. The tests beside this one run on the CPU,
        // where both ways are burn's operations; it goes off again even if a check fails.)
        struct Off;
        impl Drop for Off {
            fn drop(&mut self) {
                use_upsampling_kernel(false);
            }
        }
        let _off = Off;
        for upsampling in [false, true] {
            use_upsampling_kernel(upsampling);
            check_convolutions(&device);
            check_transposed(&device);
            check_products(&device);
        }
    }
}
