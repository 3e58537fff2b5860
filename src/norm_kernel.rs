//! Batch norm in training as few passes over the activations as it takes, four kernels a
//! layer and step: a batch's statistics (each channel's mean and variance together), the
//! normalisation, and in the backward pass the two sums its gradient needs and the input
//! gradient from them. burn's composition runs a reduction for every axis of every statistic
//! and of every broadcast gradient (about fourteen per layer and step), and as many
//! element-wise kernels.
//!
//! `NormKernels` makes it an operation of every backend: the kernels on cubecl devices
//! (`kernel.rs`), a loop each on the CPU (`cpu.rs`), burn's operations for other float types,
//! and on an autodiff device a backward pass of its own, the closed form of batch norm's
//! gradient, which needs only the sums of the output gradient and of its product with the
//! normalised input.
//!
//! The activations x [total, c, h, w] may hold `batches` batches of one size one after the
//! other (D judging real and drawn digits in one pass): each has its own statistics.
//! Statistics are [2, batches, c]: the mean and the biased variance. Sums are [2, batches + 1,
//! c]: for each batch, the sum of the output gradient and the sum of its product with the
//! normalised input x̂ = (x - mean) / σ; then the two over every batch, which are the
//! gradients of the shift β and the scale γ.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Scalar, Shape, Slice, Tensor, TensorData};
use burn_cubecl::CubeBackend;

mod cpu;
mod kernel;

/// [2, batches, c] for x [total, c, h, w].
fn statistics_shape(x: &Shape, batches: &usize) -> Shape {
    Shape::new([2, *batches, x[1]])
}

/// [2, batches + 1, c] for x [total, c, h, w].
fn sums_shape(x: &Shape, batches: &usize) -> Shape {
    Shape::new([2, *batches + 1, x[1]])
}

/// x [total, c, h, w] seen as [batches, batch, c, h*w] (a reshape, no copy when contiguous).
fn grouped<B: Backend>(x: FloatTensor<B>, batches: usize) -> FloatTensor<B> {
    let shape = x.shape();
    B::float_reshape(x, Shape::new([batches, shape[0] / batches, shape[1], shape[2] * shape[3]]))
}

/// Entry `which` (0 or 1) of the statistics or the sums of `batches` batches, as [batches, 1,
/// c, 1] to broadcast over grouped activations.
fn entry<B: Backend>(pair: FloatTensor<B>, which: usize, batches: usize) -> FloatTensor<B> {
    let channels = pair.shape()[2];
    let one = B::float_slice(pair, &[Slice::from(which..which + 1), Slice::from(..batches), Slice::from(..)]);
    B::float_reshape(one, Shape::new([batches, 1, channels, 1]))
}

/// Entry `which` of the sums over every batch: [c].
fn total<B: Backend>(sums: FloatTensor<B>, which: usize) -> FloatTensor<B> {
    let [_, rows, channels] = sums.shape().dims();
    let one = B::float_slice(sums, &[Slice::from(which..which + 1), Slice::from(rows - 1..rows), Slice::from(..)]);
    B::float_reshape(one, Shape::new([channels]))
}

/// Sums grouped [batches, batch, c, hw] over each batch's images and pixels: [batches, 1, c, 1].
fn per_channel_sum<B: Backend>(t: FloatTensor<B>) -> FloatTensor<B> {
    B::float_sum_dim(B::float_sum_dim(t, 3), 1)
}

fn scalar<B: Backend>(like: &FloatTensor<B>, value: f64) -> Scalar {
    Scalar::new(value, &like.dtype())
}

/// Two entries [batches, 1, c, 1] as one [2, batches, c].
fn pair<B: Backend>(first: FloatTensor<B>, second: FloatTensor<B>) -> FloatTensor<B> {
    let [batches, _, channels, _] = first.shape().dims();
    let flat = |t: FloatTensor<B>| B::float_reshape(t, Shape::new([1, batches, channels]));
    B::float_cat(vec![flat(first), flat(second)], 0)
}

/// 1 / sqrt(variance + epsilon), [batches, 1, c, 1].
fn inverse_deviation<B: Backend>(statistics: FloatTensor<B>, epsilon: f64) -> FloatTensor<B> {
    let batches = statistics.shape()[1];
    let variance = entry::<B>(statistics, 1, batches);
    let eps = scalar::<B>(&variance, epsilon);
    B::float_recip(B::float_sqrt(B::float_add_scalar(variance, eps)))
}

/// gamma or beta [c] as [1, 1, c, 1].
fn per_channel<B: Backend>(t: FloatTensor<B>) -> FloatTensor<B> {
    let channels = t.shape()[0];
    B::float_reshape(t, Shape::new([1, 1, channels, 1]))
}

/// Batch norm's statistics, its normalisation, and the sums of its backward pass.
#[backend_extension(Cube, Flex, Autodiff, Fusion)]
pub trait NormKernels: Backend {
    /// Each batch's mean and biased variance per channel of x [total, c, h, w]: [2, batches,
    /// c]. Two passes (the mean, then the squared deviations), so large means lose no
    /// precision. Never differentiated: `batch_norm_normalize`'s backward pass accounts for
    /// the statistics' dependence on x.
    #[fusion(dtype = x, shape = statistics_shape(x, batches))]
    fn batch_norm_statistics(x: FloatTensor<Self>, batches: usize) -> FloatTensor<Self> {
        statistics_by_operations::<Self>(x, batches)
    }

    /// The sums batch norm's backward pass needs, of x [total, c, h, w] with `statistics`
    /// and the output gradient `grad` (x's shape): [2, batches + 1, c], the sum of grad and
    /// of grad times x̂ over each batch's images and pixels, then over every batch.
    #[fusion(dtype = x, shape = sums_shape(x, batches))]
    fn batch_norm_grad_sums(x: FloatTensor<Self>, grad: FloatTensor<Self>, statistics: FloatTensor<Self>, batches: usize, epsilon: f64) -> FloatTensor<Self> {
        grad_sums_by_operations::<Self>(x, grad, statistics, batches, epsilon)
    }

    /// x [total, c, h, w] normalised with `statistics` (of `batches` batches), scaled by
    /// gamma [c] and shifted by beta [c].
    #[fusion(dtype = x, shape = x)]
    fn batch_norm_normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        normalize_by_operations::<Self>(x, gamma, beta, statistics, batches, epsilon)
    }

    /// The gradient of x [total, c, h, w] through `batch_norm_normalize`, the statistics
    /// counted as functions of x, from the output gradient `grad` and its `sums`
    /// (`batch_norm_grad_sums`): with x̂ = (x - mean) / σ and N a batch's entries per channel,
    /// γ / σ (grad - Σ grad / N - x̂ Σ grad x̂ / N).
    #[fusion(dtype = x, shape = x)]
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_input_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        sums: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        input_grad_by_operations::<Self>(x, grad, gamma, statistics, sums, batches, epsilon)
    }
}

/// Activations [total, c, h, w] of `batches` batches, on the CPU: their layout and their
/// values, contiguous (copied if they were not), or None unless they and the `others` are
/// f32.
fn on_cpu(x: &FloatTensor<Flex>, batches: usize, others: &[&FloatTensor<Flex>]) -> Option<(cpu::Layout, FloatTensor<Flex>)> {
    let [total, channels, h, w] = x.shape().dims();
    assert!(batches > 0 && total % batches == 0, "{total} images are not {batches} batches of one size");
    let layout = cpu::Layout { batches, batch: total / batches, channels, pixels: h * w };
    let f32s = std::iter::once(x).chain(others.iter().copied()).all(|t| t.dtype() == DType::F32);
    f32s.then(|| (layout, x.to_contiguous()))
}

/// A small f32 tensor's values ([c], or statistics or sums), contiguous.
fn small(t: &FloatTensor<Flex>) -> Vec<f32> {
    t.to_contiguous().as_slice::<f32>().expect("contiguous").to_vec()
}

fn tensor(values: Vec<f32>, shape: Shape, like: &FloatTensor<Flex>) -> FloatTensor<Flex> {
    Flex::float_from_data(TensorData::new(values, shape), &like.device())
}

/// On the CPU each operation is one loop over the activations (`cpu`).
impl NormKernels for Flex {
    fn batch_norm_statistics(x: FloatTensor<Self>, batches: usize) -> FloatTensor<Self> {
        let Some((layout, values)) = on_cpu(&x, batches, &[]) else { return statistics_by_operations::<Self>(x, batches) };
        let out = cpu::statistics(values.as_slice().expect("contiguous"), layout);
        tensor(out, statistics_shape(&x.shape(), &batches), &x)
    }

    fn batch_norm_grad_sums(x: FloatTensor<Self>, grad: FloatTensor<Self>, statistics: FloatTensor<Self>, batches: usize, epsilon: f64) -> FloatTensor<Self> {
        let Some((layout, values)) = on_cpu(&x, batches, &[&grad, &statistics]) else { return grad_sums_by_operations::<Self>(x, grad, statistics, batches, epsilon) };
        let grad = grad.to_contiguous();
        let out = cpu::grad_sums(values.as_slice().expect("contiguous"), grad.as_slice().expect("contiguous"), &small(&statistics), epsilon, layout);
        tensor(out, sums_shape(&x.shape(), &batches), &x)
    }

    fn batch_norm_normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let Some((layout, values)) = on_cpu(&x, batches, &[&gamma, &beta, &statistics]) else {
            return normalize_by_operations::<Self>(x, gamma, beta, statistics, batches, epsilon);
        };
        let out = cpu::normalize(values.as_slice().expect("contiguous"), &small(&gamma), &small(&beta), &small(&statistics), epsilon, layout);
        tensor(out, x.shape(), &x)
    }

    fn batch_norm_input_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        sums: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let Some((layout, values)) = on_cpu(&x, batches, &[&grad, &gamma, &statistics, &sums]) else {
            return input_grad_by_operations::<Self>(x, grad, gamma, statistics, sums, batches, epsilon);
        };
        let grad = grad.to_contiguous();
        let out = cpu::input_grad(
            values.as_slice().expect("contiguous"),
            grad.as_slice().expect("contiguous"),
            &small(&gamma),
            &small(&statistics),
            &small(&sums),
            epsilon,
            layout,
        );
        tensor(out, x.shape(), &x)
    }
}

/// The kernels take f32 tensors of any strides; anything else runs burn's operations.
fn kernels_take(tensors: &[&FloatTensor<CubeBackend>]) -> bool {
    tensors.iter().all(|t| t.dtype == DType::F32)
}

impl NormKernels for CubeBackend {
    fn batch_norm_statistics(x: FloatTensor<Self>, batches: usize) -> FloatTensor<Self> {
        if !kernels_take(&[&x]) {
            return statistics_by_operations::<Self>(x, batches);
        }
        kernel::statistics(x, batches)
    }

    fn batch_norm_grad_sums(x: FloatTensor<Self>, grad: FloatTensor<Self>, statistics: FloatTensor<Self>, batches: usize, epsilon: f64) -> FloatTensor<Self> {
        if !kernels_take(&[&x, &grad, &statistics]) {
            return grad_sums_by_operations::<Self>(x, grad, statistics, batches, epsilon);
        }
        kernel::grad_sums(x, grad, statistics, batches, epsilon)
    }

    fn batch_norm_normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        if !kernels_take(&[&x, &gamma, &beta, &statistics]) {
            return normalize_by_operations::<Self>(x, gamma, beta, statistics, batches, epsilon);
        }
        kernel::normalize(x, gamma, beta, statistics, batches, epsilon)
    }

    fn batch_norm_input_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        sums: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        if !kernels_take(&[&x, &grad, &gamma, &statistics, &sums]) {
            return input_grad_by_operations::<Self>(x, grad, gamma, statistics, sums, batches, epsilon);
        }
        kernel::input_grad(x, grad, gamma, statistics, sums, batches, epsilon)
    }
}

/// `batch_norm_statistics` by burn's operations: a reduction for each axis of each statistic.
fn statistics_by_operations<B: Backend>(x: FloatTensor<B>, batches: usize) -> FloatTensor<B> {
    let x = grouped::<B>(x, batches);
    let [_, batch, _, pixels] = x.shape().dims();
    let count = scalar::<B>(&x, (batch * pixels) as f64);
    let mean = B::float_div_scalar(per_channel_sum::<B>(x.clone()), count);
    let centred = B::float_sub(x, mean.clone());
    let squares = B::float_mul(centred.clone(), centred);
    let variance = B::float_div_scalar(per_channel_sum::<B>(squares), count);
    pair::<B>(mean, variance)
}

/// `batch_norm_grad_sums` by burn's operations.
fn grad_sums_by_operations<B: Backend>(x: FloatTensor<B>, grad: FloatTensor<B>, statistics: FloatTensor<B>, batches: usize, epsilon: f64) -> FloatTensor<B> {
    let (x, grad) = (grouped::<B>(x, batches), grouped::<B>(grad, batches));
    let inverse = inverse_deviation::<B>(statistics.clone(), epsilon);
    let normalised = B::float_mul(B::float_sub(x, entry::<B>(statistics, 0, batches)), inverse);
    let along = B::float_mul(grad.clone(), normalised);
    let each = pair::<B>(per_channel_sum::<B>(grad), per_channel_sum::<B>(along));
    let every = B::float_sum_dim(each.clone(), 1);
    B::float_cat(vec![each, every], 1)
}

/// `batch_norm_normalize` by burn's operations.
fn normalize_by_operations<B: Backend>(x: FloatTensor<B>, gamma: FloatTensor<B>, beta: FloatTensor<B>, statistics: FloatTensor<B>, batches: usize, epsilon: f64) -> FloatTensor<B> {
    let shape = x.shape();
    let x = grouped::<B>(x, batches);
    let scale = B::float_mul(per_channel::<B>(gamma), inverse_deviation::<B>(statistics.clone(), epsilon));
    let centred = B::float_sub(x, entry::<B>(statistics, 0, batches));
    let y = B::float_add(B::float_mul(centred, scale), per_channel::<B>(beta));
    B::float_reshape(y, shape)
}

/// `batch_norm_input_grad` by burn's operations.
fn input_grad_by_operations<B: Backend>(
    x: FloatTensor<B>,
    grad: FloatTensor<B>,
    gamma: FloatTensor<B>,
    statistics: FloatTensor<B>,
    sums: FloatTensor<B>,
    batches: usize,
    epsilon: f64,
) -> FloatTensor<B> {
    let shape = x.shape();
    let (x, grad) = (grouped::<B>(x, batches), grouped::<B>(grad, batches));
    let [_, batch, _, pixels] = x.shape().dims();
    let count = scalar::<B>(&x, (batch * pixels) as f64);
    let inverse = inverse_deviation::<B>(statistics.clone(), epsilon);
    // Σ grad / N and Σ grad x̂ / N, [batches, 1, c, 1].
    let grad_mean = B::float_div_scalar(entry::<B>(sums.clone(), 0, batches), count);
    let along_mean = B::float_div_scalar(entry::<B>(sums, 1, batches), count);
    let normalised = B::float_mul(B::float_sub(x, entry::<B>(statistics, 0, batches)), inverse.clone());
    let deviation = B::float_add(grad_mean, B::float_mul(normalised, along_mean));
    let scale = B::float_mul(per_channel::<B>(gamma), inverse);
    B::float_reshape(B::float_mul(B::float_sub(grad, deviation), scale), shape)
}

/// The backward pass of `batch_norm_normalize`, the statistics counted as functions of x:
/// with x̂ = (x - mean) / σ, y = γ x̂ + β and N a batch's entries per channel,
/// dβ = Σ dy, dγ = Σ dy x̂, and dx = γ / σ (dy - Σ dy / N - x̂ Σ dy x̂ / N).
#[derive(Debug)]
struct NormalizeBackward;

impl<B: Backend + NormKernels> Backward<B, 3> for NormalizeBackward {
    /// x, gamma, the statistics, batches, epsilon.
    type State = (NodeId, NodeId, FloatTensor<B>, usize, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, gamma_state, statistics, batches, epsilon) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let gamma = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(gamma_state);
        let sums = B::batch_norm_grad_sums(x.clone(), grad.clone(), statistics.clone(), batches, epsilon);
        if let Some(node) = node_beta {
            grads.register::<B>(node.id, total::<B>(sums.clone(), 0));
        }
        if let Some(node) = node_gamma {
            grads.register::<B>(node.id, total::<B>(sums.clone(), 1));
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::batch_norm_input_grad(x, grad, gamma, statistics, sums, batches, epsilon));
        }
    }
}

impl<B: Backend + NormKernels, C: CheckpointStrategy> NormKernels for Autodiff<B, C> {
    fn batch_norm_statistics(x: FloatTensor<Self>, batches: usize) -> FloatTensor<Self> {
        Self::from_inner(B::batch_norm_statistics(x.into_primitive(), batches))
    }

    fn batch_norm_grad_sums(x: FloatTensor<Self>, grad: FloatTensor<Self>, statistics: FloatTensor<Self>, batches: usize, epsilon: f64) -> FloatTensor<Self> {
        Self::from_inner(B::batch_norm_grad_sums(x.into_primitive(), grad.into_primitive(), statistics.into_primitive(), batches, epsilon))
    }

    fn batch_norm_input_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        sums: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let inner = |t: FloatTensor<Self>| t.into_primitive();
        Self::from_inner(B::batch_norm_input_grad(inner(x), inner(grad), inner(gamma), inner(statistics), inner(sums), batches, epsilon))
    }

    fn batch_norm_normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        batches: usize,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let statistics = statistics.into_primitive();
        let forward = |x, gamma, beta, statistics| B::batch_norm_normalize(x, gamma, beta, statistics, batches, epsilon);
        match NormalizeBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma_state = prep.checkpoint(&gamma);
                let out = forward(x.into_primitive(), gamma.into_primitive(), beta.into_primitive(), statistics.clone());
                prep.finish((x_state, gamma_state, statistics, batches, epsilon), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive(), gamma.into_primitive(), beta.into_primitive(), statistics)),
        }
    }
}

/// Each batch's mean and biased variance per channel of x [total, c, h, w] holding `batches`
/// batches of one size: [2, batches, c]. Untracked on an autodiff device.
pub fn statistics(x: Tensor<4>, batches: usize) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as NormKernels>::batch_norm_statistics(x.into_dispatch(), batches))
}

/// x [total, c, h, w] normalised with `statistics` from `statistics(x, batches)`, scaled by
/// gamma and shifted by beta, differentiable in x (statistics included), gamma and beta.
pub fn normalize(x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>, statistics: Tensor<3>, batches: usize, epsilon: f64) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as NormKernels>::batch_norm_normalize(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        statistics.into_dispatch(),
        batches,
        epsilon,
    ))
}

/// `batch_norm_grad_sums` on tensors, for the tests and the benchmark.
pub fn grad_sums(x: Tensor<4>, grad: Tensor<4>, statistics: Tensor<3>, batches: usize, epsilon: f64) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as NormKernels>::batch_norm_grad_sums(
        x.into_dispatch(),
        grad.into_dispatch(),
        statistics.into_dispatch(),
        batches,
        epsilon,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    use crate::layers::tests::assert_close;

    /// Batch norm as burn's operations compose it, differentiated by autodiff.
    fn composed(x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>, batches: usize, epsilon: f64) -> Tensor<4> {
        let [total, channels, h, w] = x.dims();
        let x = x.reshape([batches, total / batches, channels, h * w]);
        let mean = x.clone().mean_dim(3).mean_dim(1);
        let variance = (x.clone() - mean.clone()).powi_scalar(2).mean_dim(3).mean_dim(1);
        let normalised = (x - mean) / variance.add_scalar(epsilon).sqrt();
        (normalised * gamma.reshape([1, 1, channels, 1]) + beta.reshape([1, 1, channels, 1])).reshape([total, channels, h, w])
    }

    /// γ's and β's gradients `dg` and `db` against their sums Σ dy x̂ and Σ dy over each
    /// channel, taken in f64 from x and the output gradient dy. Each is a sum over every entry
    /// of a channel, so its rounding in f32 grows with the sum of its terms' magnitudes, which
    /// sets the tolerance (burn's composition itself is 4e-4 off in 3,200 entries).
    fn parameter_gradients_are_exact(what: &str, x: &Tensor<4>, dy: &Tensor<4>, batches: usize, epsilon: f64, dg: &Tensor<1>, db: &Tensor<1>) {
        let [total, channels, h, w] = x.dims();
        let values = |t: &Tensor<4>| t.clone().into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
        let (x, dy) = (values(x), values(dy));
        let batch = total / batches;
        let at = |image: usize, c: usize| (image * channels + c) * h * w..(image * channels + c + 1) * h * w;
        let (mut gamma, mut beta, mut gamma_scale, mut beta_scale) = (vec![0.0; channels], vec![0.0; channels], vec![0.0; channels], vec![0.0; channels]);
        for g in 0..batches {
            for c in 0..channels {
                let images = g * batch..(g + 1) * batch;
                let entries = || images.clone().flat_map(|image| at(image, c));
                let n = (batch * h * w) as f64;
                let mean = entries().map(|i| x[i]).sum::<f64>() / n;
                let deviation = (entries().map(|i| (x[i] - mean).powi(2)).sum::<f64>() / n + epsilon).sqrt();
                for i in entries() {
                    let along = dy[i] * (x[i] - mean) / deviation;
                    (gamma[c], gamma_scale[c]) = (gamma[c] + along, gamma_scale[c] + along.abs());
                    (beta[c], beta_scale[c]) = (beta[c] + dy[i], beta_scale[c] + dy[i].abs());
                }
            }
        }
        let got = |t: &Tensor<1>| t.clone().into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
        for (name, got, exact, scale) in [("gamma", got(dg), gamma, gamma_scale), ("beta", got(db), beta, beta_scale)] {
            for c in 0..channels {
                let off = (got[c] - exact[c]).abs();
                assert!(off <= 1e-5 * scale[c].max(1.0), "{what}: {name}'s gradient of channel {c} is {}, not {} (off by {off}, terms up to {} in all)", got[c], exact[c], scale[c]);
            }
        }
    }

    /// Statistics, output and the gradients of x, gamma and beta against `composed`, on
    /// activations far from zero mean with each batch's own statistics: one batch and two,
    /// a channel of more entries than a workgroup takes in one pass, one of fewer than it has
    /// units, and a strided (non-contiguous) input.
    fn check(device: &Device) {
        let cases: [([usize; 4], usize, bool); 5] = [
            ([4, 3, 5, 5], 1, false),
            ([8, 3, 5, 5], 2, false),
            ([6, 70, 3, 4], 2, false),
            ([2, 5, 40, 40], 1, false),
            ([4, 6, 7, 7], 2, true),
        ];
        for (shape, batches, strided) in cases {
            let [total, channels, h, w] = shape;
            let what = |part: &str| format!("{part}, {shape:?} in {batches} (strided: {strided})");
            let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), device);
            // Batch b has mean about 5 - 3b and deviation about 3 / (b + 1).
            let shift = Tensor::<1>::from_floats((0..total).map(|i| 5.0 - 3.0 * (i * batches / total) as f32).collect::<Vec<_>>().as_slice(), device);
            let spread = Tensor::<1>::from_floats((0..total).map(|i| 3.0 / (1 + i * batches / total) as f32).collect::<Vec<_>>().as_slice(), device);
            let x = x * spread.reshape([total, 1, 1, 1]) + shift.reshape([total, 1, 1, 1]);
            // The same values, laid out channels first: x then has strides of another order.
            let x = if strided { Tensor::<4>::from_data(x.swap_dims(0, 1).into_data(), device).swap_dims(0, 1) } else { x };
            let gamma = Tensor::<1>::random([channels], Distribution::Normal(1.0, 0.5), device);
            let beta = Tensor::<1>::random([channels], Distribution::Normal(0.0, 1.0), device);
            // Taken against y with its axes swapped, so that y's gradient is strided too.
            let upstream = Tensor::<4>::ones([total, w, h, channels], device).cumsum(3).sin();
            // Output and the gradients of x (if `x_learns`) and of gamma and beta (if
            // `parameters_learn`).
            let run = |ours: bool, x_learns: bool, parameters_learn: bool| {
                let learns = |t: &Tensor<1>| if parameters_learn { t.clone().require_grad() } else { t.clone() };
                let (gamma, beta) = (learns(&gamma), learns(&beta));
                let x = if x_learns { x.clone().require_grad() } else { x.clone() };
                let y = if ours {
                    normalize(x.clone(), gamma.clone(), beta.clone(), statistics(x.clone(), batches), batches, 1e-5)
                } else {
                    composed(x.clone(), gamma.clone(), beta.clone(), batches, 1e-5)
                };
                let grads = (y.clone().swap_dims(1, 3) * upstream.clone()).sum().backward();
                (y, x.grad(&grads), gamma.grad(&grads), beta.grad(&grads))
            };
            for (x_learns, parameters_learn) in [(true, true), (true, false), (false, true)] {
                let what = |part: &str| what(&format!("{part} (x learns: {x_learns}, gamma and beta: {parameters_learn})"));
                let (y1, dx1, dg1, db1) = run(true, x_learns, parameters_learn);
                let (y2, dx2, dg2, db2) = run(false, x_learns, parameters_learn);
                assert_close(&what("output"), y1, y2);
                assert_eq!((dx1.is_some(), dg1.is_some(), db1.is_some()), (x_learns, parameters_learn, parameters_learn), "{}", what("gradients"));
                if let (Some(dx1), Some(dx2)) = (dx1, dx2) {
                    assert_close(&what("x's gradient"), dx1, dx2);
                }
                if let (Some(dg), Some(db)) = (dg1, db1) {
                    let dy = upstream.clone().swap_dims(1, 3);
                    parameter_gradients_are_exact(&what(""), &x, &dy, batches, 1e-5, &dg, &db);
                    assert!(dg2.is_some() && db2.is_some());
                }
            }

            let grouped = x.clone().reshape([batches, total / batches, channels, h * w]);
            let mean = grouped.clone().mean_dim(3).mean_dim(1);
            let variance = (grouped - mean.clone()).powi_scalar(2).mean_dim(3).mean_dim(1);
            let expected = Tensor::cat(vec![mean.reshape([1, batches, channels]), variance.reshape([1, batches, channels])], 0);
            assert_close(&what("statistics"), statistics(x.clone(), batches), expected);
        }
    }

    #[test]
    fn batch_norm_is_burns_composition_on_the_cpu() {
        check(&Device::flex().autodiff());
    }

    /// burn's operations, which a device runs for a float type the loops and kernels do not
    /// take, give what the CPU's loops give.
    #[test]
    fn burns_operations_are_the_loops() {
        let device = Device::flex();
        let random = |shape: [usize; 4], mean: f64| Tensor::<4>::random(shape, Distribution::Normal(mean, 2.0), &device);
        let (x, grad) = (random([6, 4, 5, 3], 3.0), random([6, 4, 5, 3], 0.0));
        let gamma = Tensor::<1>::random([4], Distribution::Normal(1.0, 0.5), &device);
        let beta = Tensor::<1>::random([4], Distribution::Normal(0.0, 1.0), &device);
        let d = |t: &Tensor<4>| t.clone().into_dispatch();
        let (d1, d3) = (|t: &Tensor<1>| t.clone().into_dispatch(), |t: &Tensor<3>| t.clone().into_dispatch());
        let batches = 2;
        let stats = statistics(x.clone(), batches);
        assert_close("statistics", Tensor::<3>::from_dispatch(statistics_by_operations::<Dispatch>(d(&x), batches)), stats.clone());
        let sums = grad_sums(x.clone(), grad.clone(), stats.clone(), batches, 1e-5);
        assert_close("sums", Tensor::<3>::from_dispatch(grad_sums_by_operations::<Dispatch>(d(&x), d(&grad), d3(&stats), batches, 1e-5)), sums.clone());
        assert_close(
            "normalised",
            Tensor::<4>::from_dispatch(normalize_by_operations::<Dispatch>(d(&x), d1(&gamma), d1(&beta), d3(&stats), batches, 1e-5)),
            normalize(x.clone(), gamma.clone(), beta, stats.clone(), batches, 1e-5),
        );
        let loops = <Dispatch as NormKernels>::batch_norm_input_grad(d(&x), d(&grad), d1(&gamma), d3(&stats), d3(&sums), batches, 1e-5);
        assert_close(
            "input gradient",
            Tensor::<4>::from_dispatch(input_grad_by_operations::<Dispatch>(d(&x), d(&grad), d1(&gamma), d3(&stats), d3(&sums), batches, 1e-5)),
            Tensor::<4>::from_dispatch(loops),
        );
    }

    /// The kernels themselves, on a Vulkan device (lavapipe where there is no GPU; see
    /// `conv_kernel`'s test of the same kind).
    #[test]
    fn kernels_are_burns_composition_on_wgpu() {
        let Some(device) = crate::layers::tests::wgpu_device() else { return };
        check(&device);
    }
}
