//! The batch-norm kernels (see the module above) and their launch. In the two reductions a
//! workgroup of 256 units takes one channel: of one batch for the statistics, of every batch
//! in turn for the gradient's sums. Each unit sums every 256th entry (image and pixel) of it,
//! four entries at a time so that four reads are on their way together, and the workgroup
//! adds the units' sums up in workgroup memory. The normalisation and the input gradient give
//! each unit one entry.

use burn::tensor::Shape;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;

use crate::launch::{address_type, entry_per_unit};

/// Units of a workgroup; `workgroup_sum` adds up exactly this many.
const UNITS: u32 = 256;
const _: () = assert!(UNITS == 256, "workgroup_sum's memory and halvings are written for 256 units");

/// The offset in x [total, c, h, w] of entry `e` (image `e / pixels` of the batch starting at
/// image `first`, pixel `e % pixels`) of the channel at offset `channel_at`.
#[cube]
fn entry_at<E: Float>(x: &Tensor<E>, first: usize, channel_at: usize, e: usize, pixels: usize) -> usize {
    let width = x.shape(3);
    let pixel = e % pixels;
    (first + e / pixels) * x.stride(0) + channel_at + (pixel / width) * x.stride(2) + (pixel % width) * x.stride(3)
}

/// The sum of every unit's `value` (all units must call it), from workgroup memory of 256.
#[cube]
fn workgroup_sum<E: Float>(shared: &mut Shared<[E]>, value: E) -> E {
    let unit = UNIT_POS as usize;
    shared[unit] = value;
    sync_cube();
    let mut half = 128usize;
    for _ in 0..8usize {
        if unit < half {
            shared[unit] = shared[unit] + shared[unit + half];
        }
        sync_cube();
        half /= 2usize;
    }
    let sum = shared[0];
    // Every unit has read the sum before the memory is used again.
    sync_cube();
    sum
}

/// σ = sqrt(variance + epsilon) of the entry at `pair` (its mean's offset) of `statistics`
/// [2, batches, c].
#[cube]
fn deviation<E: Float>(statistics: &Tensor<E>, pair: usize, epsilon: f32) -> E {
    E::sqrt(statistics[pair + statistics.stride(0)] + E::cast_from(epsilon))
}

/// `out` [2, batches, c]: the mean and biased variance of each channel (workgroup x) of each
/// batch (workgroup y, `batch` images) of x [total, c, h, w], in two passes.
#[cube(launch_unchecked, address_type = "dynamic")]
fn statistics_kernel<E: Float>(x: &Tensor<E>, out: &mut Tensor<E>, batch: usize, #[define(E)] _dtype: ElemType) {
    let channel = CUBE_POS_X as usize;
    let group = CUBE_POS_Y as usize;
    let unit = UNIT_POS as usize;
    let pixels = x.shape(2) * x.shape(3);
    let entries = batch * pixels;
    let first = group * batch;
    let channel_at = channel * x.stride(1);
    let mut shared = Shared::<[E]>::new_slice(256usize);
    let passes = (entries + 1023usize) / 1024usize;

    let mut sums = Array::<E>::new(4usize);
    #[unroll]
    for i in 0..4usize {
        sums[i] = E::new(0.0);
    }
    for pass in 0..passes {
        #[unroll]
        for i in 0..4usize {
            let e = pass * 1024usize + i * 256usize + unit;
            if e < entries {
                sums[i] += x[entry_at(x, first, channel_at, e, pixels)];
            }
        }
    }
    let count = E::cast_from(entries);
    let mean = workgroup_sum(&mut shared, sums[0] + sums[1] + sums[2] + sums[3]) / count;

    #[unroll]
    for i in 0..4usize {
        sums[i] = E::new(0.0);
    }
    for pass in 0..passes {
        #[unroll]
        for i in 0..4usize {
            let e = pass * 1024usize + i * 256usize + unit;
            if e < entries {
                let d = x[entry_at(x, first, channel_at, e, pixels)] - mean;
                sums[i] += d * d;
            }
        }
    }
    let variance = workgroup_sum(&mut shared, sums[0] + sums[1] + sums[2] + sums[3]) / count;
    if unit == 0 {
        let at = group * out.stride(1) + channel * out.stride(2);
        let second = at + out.stride(0);
        out[at] = mean;
        out[second] = variance;
    }
}

/// `out` [2, batches + 1, c]: the sums of grad and of grad times x̂ = (x - mean) / σ over
/// each batch (`batch` images) of one channel (workgroup x), then over every batch; x and
/// grad [total, c, h, w], `statistics` [2, batches, c].
#[cube(launch_unchecked, address_type = "dynamic")]
#[allow(clippy::too_many_arguments)]
fn grad_sums_kernel<E: Float>(
    x: &Tensor<E>,
    grad: &Tensor<E>,
    statistics: &Tensor<E>,
    out: &mut Tensor<E>,
    batch: usize,
    epsilon: f32,
    #[define(E)] _dtype: ElemType,
) {
    let channel = CUBE_POS_X as usize;
    let unit = UNIT_POS as usize;
    let batches = statistics.shape(1);
    let pixels = x.shape(2) * x.shape(3);
    let entries = batch * pixels;
    let (x_channel, grad_channel) = (channel * x.stride(1), channel * grad.stride(1));
    let mut shared = Shared::<[E]>::new_slice(256usize);
    let passes = (entries + 1023usize) / 1024usize;
    let mut every_grad = E::new(0.0);
    let mut every_along = E::new(0.0);

    for group in 0..batches {
        let first = group * batch;
        let pair = group * statistics.stride(1) + channel * statistics.stride(2);
        let mean = statistics[pair];
        let inverse = E::new(1.0) / deviation(statistics, pair, epsilon);
        let mut grad_sum = E::new(0.0);
        let mut along = E::new(0.0);
        for pass in 0..passes {
            #[unroll]
            for i in 0..4usize {
                let e = pass * 1024usize + i * 256usize + unit;
                if e < entries {
                    let g = grad[entry_at(grad, first, grad_channel, e, pixels)];
                    grad_sum += g;
                    along += g * (x[entry_at(x, first, x_channel, e, pixels)] - mean);
                }
            }
        }
        let grad_sum = workgroup_sum(&mut shared, grad_sum);
        let along = workgroup_sum(&mut shared, along) * inverse;
        every_grad += grad_sum;
        every_along += along;
        if unit == 0 {
            let at = group * out.stride(1) + channel * out.stride(2);
            let second = at + out.stride(0);
            out[at] = grad_sum;
            out[second] = along;
        }
    }
    if unit == 0 {
        let at = batches * out.stride(1) + channel * out.stride(2);
        let second = at + out.stride(0);
        out[at] = every_grad;
        out[second] = every_along;
    }
}

/// Entry `at` of a contiguous [total, c, h, w] of x's shape: its offset in x, its channel,
/// and the batch (of `batch` images) it belongs to.
#[cube]
fn place<E: Float>(x: &Tensor<E>, at: usize, batch: usize) -> (usize, usize, usize) {
    let width = x.shape(3);
    let height = x.shape(2);
    let channels = x.shape(1);
    let j = at % width;
    let i = (at / width) % height;
    let channel = (at / (width * height)) % channels;
    let image = at / (width * height * channels);
    (image * x.stride(0) + channel * x.stride(1) + i * x.stride(2) + j * x.stride(3), channel, image / batch)
}

/// `out` (contiguous, x's shape): x [total, c, h, w] normalised with `statistics` [2,
/// batches, c] of its batches of `batch` images, scaled by gamma [c] and shifted by beta [c].
#[cube(launch_unchecked, address_type = "dynamic")]
#[allow(clippy::too_many_arguments)]
fn normalize_kernel<E: Float>(
    x: &Tensor<E>,
    statistics: &Tensor<E>,
    gamma: &Tensor<E>,
    beta: &Tensor<E>,
    out: &mut Tensor<E>,
    batch: usize,
    epsilon: f32,
    #[define(E)] _dtype: ElemType,
) {
    let at = ABSOLUTE_POS;
    if at < out.len() {
        let (x_at, channel, group) = place(x, at, batch);
        let pair = group * statistics.stride(1) + channel * statistics.stride(2);
        let mean = statistics[pair];
        let scale = gamma[channel * gamma.stride(0)] / deviation(statistics, pair, epsilon);
        out[at] = (x[x_at] - mean) * scale + beta[channel * beta.stride(0)];
    }
}

/// `out` (contiguous, x's shape): the gradient of x [total, c, h, w] through the
/// normalisation, from the output gradient `grad` (x's shape), the `statistics` and the
/// gradient's `sums` ([2, batches, c] and [2, batches + 1, c]), and gamma [c]: γ / σ (grad - Σ grad / N - x̂ Σ
/// grad x̂ / N), x̂ = (x - mean) / σ, N = `batch` images' pixels.
#[cube(launch_unchecked, address_type = "dynamic")]
#[allow(clippy::too_many_arguments)]
fn input_grad_kernel<E: Float>(
    x: &Tensor<E>,
    grad: &Tensor<E>,
    statistics: &Tensor<E>,
    sums: &Tensor<E>,
    gamma: &Tensor<E>,
    out: &mut Tensor<E>,
    batch: usize,
    epsilon: f32,
    #[define(E)] _dtype: ElemType,
) {
    let at = ABSOLUTE_POS;
    if at < out.len() {
        let (x_at, channel, group) = place(x, at, batch);
        let (grad_at, _, _) = place(grad, at, batch);
        let pair = group * statistics.stride(1) + channel * statistics.stride(2);
        let sums_pair = group * sums.stride(1) + channel * sums.stride(2);
        let count = E::cast_from(batch * x.shape(2) * x.shape(3));
        let inverse = E::new(1.0) / deviation(statistics, pair, epsilon);
        let scale = gamma[channel * gamma.stride(0)] * inverse;
        let slope = scale * inverse * sums[sums_pair + sums.stride(0)] / count;
        let offset = scale * sums[sums_pair] / count;
        out[at] = grad[grad_at] * scale - (x[x_at] - statistics[pair]) * slope - offset;
    }
}

/// The workgroups of a launch over x [total, c, h, w] in `batches` batches: one per channel
/// and batch.
fn count(x: &CubeTensor, batches: usize) -> CubeCount {
    let shape = x.meta.shape();
    assert!(shape[0].is_multiple_of(batches), "{} images are not {batches} batches of one size", shape[0]);
    CubeCount::Static(shape[1] as u32, batches as u32, 1)
}

/// Launches the statistics kernel for x [total, c, h, w] (f32, any strides).
pub(super) fn statistics(x: CubeTensor, batches: usize) -> CubeTensor {
    let channels = x.meta.shape()[1];
    let out = empty_device_contiguous_dtype(x.client.clone(), x.device.clone(), Shape::new([2, batches, channels]), x.dtype);
    let address_type = address_type(&[&x, &out]);
    let batch = x.meta.shape()[0] / batches;
    // Safety: the kernel reads entries within the shape and writes one pair per workgroup.
    unsafe {
        statistics_kernel::launch_unchecked(
            &x.client,
            count(&x, batches),
            CubeDim::new_1d(UNITS),
            address_type,
            x.clone().into_tensor_arg(),
            out.clone().into_tensor_arg(),
            batch,
            f32::elem_type_native(),
        );
    }
    out
}

/// Launches the normalisation kernel for x [total, c, h, w] (f32, any strides), its
/// `statistics` [2, batches, c], gamma and beta [c].
pub(super) fn normalize(x: CubeTensor, gamma: CubeTensor, beta: CubeTensor, statistics: CubeTensor, batches: usize, epsilon: f64) -> CubeTensor {
    let (out, dim, count) = entry_per_unit(&x);
    let address_type = address_type(&[&x, &out]);
    let batch = x.meta.shape()[0] / batches;
    // Safety: the kernel writes entries within the output's length and reads x at the same
    // place by x's shape and strides.
    unsafe {
        normalize_kernel::launch_unchecked(
            &x.client,
            count,
            dim,
            address_type,
            x.clone().into_tensor_arg(),
            statistics.into_tensor_arg(),
            gamma.into_tensor_arg(),
            beta.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            batch,
            epsilon as f32,
            f32::elem_type_native(),
        );
    }
    out
}

/// Launches the input gradient kernel for x and grad [total, c, h, w] (f32, any strides),
/// the `statistics` [2, batches, c], the `sums` [2, batches + 1, c] and gamma [c].
#[allow(clippy::too_many_arguments)]
pub(super) fn input_grad(
    x: CubeTensor,
    grad: CubeTensor,
    gamma: CubeTensor,
    statistics: CubeTensor,
    sums: CubeTensor,
    batches: usize,
    epsilon: f64,
) -> CubeTensor {
    let (out, dim, count) = entry_per_unit(&x);
    let address_type = address_type(&[&x, &grad, &out]);
    let batch = x.meta.shape()[0] / batches;
    // Safety: as `normalize`.
    unsafe {
        input_grad_kernel::launch_unchecked(
            &x.client,
            count,
            dim,
            address_type,
            x.clone().into_tensor_arg(),
            grad.into_tensor_arg(),
            statistics.into_tensor_arg(),
            sums.into_tensor_arg(),
            gamma.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            batch,
            epsilon as f32,
            f32::elem_type_native(),
        );
    }
    out
}

/// Launches the gradient sums kernel for x and grad [total, c, h, w] (f32, any strides) and
/// their `statistics` [2, batches, c]: one workgroup per channel.
pub(super) fn grad_sums(x: CubeTensor, grad: CubeTensor, statistics: CubeTensor, batches: usize, epsilon: f64) -> CubeTensor {
    let channels = x.meta.shape()[1];
    let out = empty_device_contiguous_dtype(x.client.clone(), x.device.clone(), Shape::new([2, batches + 1, channels]), x.dtype);
    let address_type = address_type(&[&x, &grad, &statistics, &out]);
    let batch = x.meta.shape()[0] / batches;
    // Safety: as `statistics`.
    unsafe {
        grad_sums_kernel::launch_unchecked(
            &x.client,
            CubeCount::Static(channels as u32, 1, 1),
            CubeDim::new_1d(UNITS),
            address_type,
            x.clone().into_tensor_arg(),
            grad.into_tensor_arg(),
            statistics.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            batch,
            epsilon as f32,
            f32::elem_type_native(),
        );
    }
    out
}
