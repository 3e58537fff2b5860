//! The tiled convolution kernel (see the module above) and its launch.

use burn::tensor::Shape;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::{empty_device_contiguous_dtype, empty_device_dtype};
use burn_cubecl::tensor::CubeTensor;

use crate::launch::address_type;

/// Output pixels (rows) of a workgroup's tile: 4 for each of its 16 units along x.
const ROWS: usize = 64;
/// Units along each side of a workgroup.
const SIDE: u32 = 16;

/// Entry `d` (channel d / k², tap d % k²) of the patch of output pixel (oi, oj) of image
/// `x_image` (its offset in x): the input pixel under that tap, or 0 in the padding or where
/// `wanted` is false (past the tile's edge).
#[cube]
#[allow(clippy::too_many_arguments)]
fn patch_value<E: Float>(
    x: &Tensor<E>,
    x_image: usize,
    d: usize,
    oi: usize,
    oj: usize,
    wanted: bool,
    #[comptime] k: usize,
    #[comptime] stride: usize,
    #[comptime] padding: usize,
) -> E {
    let channel = d / (k * k);
    let tap = d % (k * k);
    // Coordinates in the padded input.
    let pi = oi * stride + tap / k;
    let pj = oj * stride + tap % k;
    let mut value = E::new(0.0);
    if wanted && pi >= padding && pi < x.shape(2) + padding && pj >= padding && pj < x.shape(3) + padding {
        value = x[x_image + channel * x.stride(1) + (pi - padding) * x.stride(2) + (pj - padding) * x.stride(3)];
    }
    value
}

/// A pass's share of a unit's 4 x `per_unit` block: over the pass's 16 depths, rows tx + 16i
/// of `rows` times columns ty + 16j of `columns`, each slice laid out depth by depth with
/// rows of `rows_stride` and `columns_stride` entries.
#[cube]
#[allow(clippy::too_many_arguments)]
fn multiply_pass<E: Float>(
    sums: &mut Array<E>,
    rows: &Shared<[E]>,
    #[comptime] rows_stride: usize,
    columns: &Shared<[E]>,
    #[comptime] columns_stride: usize,
    tx: usize,
    ty: usize,
    #[comptime] per_unit: usize,
) {
    #[unroll]
    for d in 0..16usize {
        #[unroll]
        for i in 0..4usize {
            let a = rows[d * rows_stride + tx + 16usize * i];
            #[unroll]
            for j in 0..per_unit {
                sums[i * per_unit + j] += a * columns[d * columns_stride + ty + 16usize * j];
            }
        }
    }
}

/// Entry `d` (channel d / 4, tap d % 4 = 2a + b) of the patch of output pixel (2i + py, 2j + px)
/// of a 4x4, stride-2, padding-1 transposed convolution of image `x_image` (its offset in x):
/// the input pixel (i + py - a, j + px - b), which reaches that output through the weight's tap
/// (1 - py + 2a, 1 - px + 2b); 0 outside the input or where `wanted` is false.
#[cube]
#[allow(clippy::too_many_arguments)]
fn up_patch_value<E: Float>(x: &Tensor<E>, x_image: usize, d: usize, i: usize, j: usize, py: usize, px: usize, wanted: bool) -> E {
    let channel = d / 4usize;
    let tap = d % 4usize;
    // Coordinates in the input padded by one on each side.
    let pi = i + py + 1usize - tap / 2usize;
    let pj = j + px + 1usize - tap % 2usize;
    let mut value = E::new(0.0);
    if wanted && pi >= 1usize && pi <= x.shape(2) && pj >= 1usize && pj <= x.shape(3) {
        value = x[x_image + channel * x.stride(1) + (pi - 1usize) * x.stride(2) + (pj - 1usize) * x.stride(3)];
    }
    value
}

/// The product both forward kernels compute into `out`: the input's patches (rows: pixels;
/// depth: channel and tap) by the weights of those taps (columns: output channels), without
/// writing the patches out. Each workgroup gathers 16 depths of 64 pixels' patches and of up
/// to 64 output channels' weights into workgroup memory at a time, and each of its 256 units
/// sums 4 pixels by `cols` / 16 channels from there.
/// - The convolution (`up` false): rows are the output pixels; the depth is each channel's
///   k x k taps of the weight [outputs, channels, k, k].
/// - The upsampling (`up`, a 4x4, stride-2, padding-1 transposed convolution, `k`, `stride`
///   and `padding` unused): rows are the input pixels (i, j), each giving the output pixel
///   (2i + py, 2j + px) of the parity (py, px) = `CUBE_POS_Z`, reached by 2x2 of the weight
///   [channels, outputs, 4, 4]'s taps (`up_patch_value`).
#[cube]
#[allow(clippy::too_many_arguments)]
fn tiled_product<E: Float>(
    x: &Tensor<E>,
    weight: &Tensor<E>,
    out: &mut Tensor<E>,
    #[comptime] k: usize,
    #[comptime] stride: usize,
    #[comptime] padding: usize,
    #[comptime] cols: usize,
    #[comptime] up: bool,
) {
    let per_unit = cols / 16usize;
    let outputs = out.shape(1);
    let out_strides = (out.stride(0), out.stride(1), out.stride(2), out.stride(3));
    let py = CUBE_POS_Z as usize / 2usize;
    let px = CUBE_POS_Z as usize % 2usize;
    // The rows' images, height and width (the output's, or the input's), and where a weight's
    // output channel is: its first index, or (transposed) its second.
    let (images, height, width, output_stride) = if comptime!(up) {
        (x.shape(0), x.shape(2), x.shape(3), weight.stride(1))
    } else {
        (out.shape(0), out.shape(2), out.shape(3), weight.stride(0))
    };
    let pixels = height * width;
    let rows = images * pixels;
    let taps = comptime!(if up { 4usize } else { k * k });
    let depth = x.shape(1) * taps;

    let unit = UNIT_POS as usize;
    let tx = UNIT_POS_X as usize;
    let ty = UNIT_POS_Y as usize;
    let row0 = CUBE_POS_X as usize * 64usize;
    let col0 = CUBE_POS_Y as usize * cols;

    // A pass's slices: 16 depths (channel and tap) of 64 pixels' patches and of `cols`
    // channels' weights; a depth's row of weights is padded by one, so that units gathering
    // one channel's depths write to different memory banks.
    let mut patches = Shared::<[E]>::new_slice(1024usize);
    let mut weights = Shared::<[E]>::new_slice(16usize * (cols + 1usize));
    let mut sums = Array::<E>::new(4usize * per_unit);
    #[unroll]
    for i in 0..4usize * per_unit {
        sums[i] = E::new(0.0);
    }

    // Each unit gathers one pixel's patch at depths unit / 64 + 4l, and depth unit % 16 of
    // channels unit / 16 + 16l.
    let pixel_gathered = unit % 64usize;
    let row = row0 + pixel_gathered;
    let row_in = row < rows;
    let pixel = row % pixels;
    let i = pixel / width;
    let j = pixel % width;
    let x_image = (row / pixels) * x.stride(0);
    // The weights of an output channel are contiguous along the depth: units next to each
    // other gather depths next to each other.
    let depth_gathered = unit % 16usize;

    let passes = (depth + 15usize) / 16usize;
    for pass in 0..passes {
        #[unroll]
        for l in 0..4usize {
            let d_local = unit / 64usize + 4usize * l;
            let d = pass * 16usize + d_local;
            let wanted = row_in && d < depth;
            patches[d_local * 64usize + pixel_gathered] = if comptime!(up) {
                up_patch_value(x, x_image, d, i, j, py, px, wanted)
            } else {
                patch_value(x, x_image, d, i, j, wanted, k, stride, padding)
            };
        }
        let d = pass * 16usize + depth_gathered;
        let channel = d / taps;
        let tap = d % taps;
        let w_depth = if comptime!(up) {
            // The tap (a, b) of the parity (py, px) is the weight's (1 - py + 2a, 1 - px + 2b).
            channel * weight.stride(0) + (1usize + 2usize * (tap / 2usize) - py) * weight.stride(2) + (1usize + 2usize * (tap % 2usize) - px) * weight.stride(3)
        } else {
            channel * weight.stride(1) + (tap / k) * weight.stride(2) + (tap % k) * weight.stride(3)
        };
        #[unroll]
        for l in 0..per_unit {
            let c_local = unit / 16usize + 16usize * l;
            let output = col0 + c_local;
            let mut w = E::new(0.0);
            if output < outputs && d < depth {
                w = weight[output * output_stride + w_depth];
            }
            weights[depth_gathered * (cols + 1usize) + c_local] = w;
        }
        sync_cube();
        multiply_pass(&mut sums, &patches, 64usize, &weights, cols + 1usize, tx, ty, per_unit);
        sync_cube();
    }

    // Units next to each other along x write pixels next to each other.
    #[unroll]
    for r in 0..4usize {
        let row = row0 + tx + 16usize * r;
        if row < rows {
            let pixel = row % pixels;
            let (oi, oj) = if comptime!(up) {
                (2usize * (pixel / width) + py, 2usize * (pixel % width) + px)
            } else {
                (pixel / width, pixel % width)
            };
            let at = (row / pixels) * out_strides.0 + oi * out_strides.2 + oj * out_strides.3;
            #[unroll]
            for c in 0..per_unit {
                let output = col0 + ty + 16usize * c;
                if output < outputs {
                    out[at + output * out_strides.1] = sums[r * per_unit + c];
                }
            }
        }
    }
}

/// `out` [batch, outputs, oh, ow] = the convolution of `x` [batch, channels, h, w] with
/// `weight` [outputs, channels, k, k], stride and padding the same on both axes, no bias
/// (`tiled_product`: a tile is 64 output pixels by `cols`, 16, 32 or 64, output channels).
#[cube(launch_unchecked, address_type = "dynamic")]
fn conv2d_tiled_kernel<E: Float>(
    x: &Tensor<E>,
    weight: &Tensor<E>,
    out: &mut Tensor<E>,
    #[comptime] k: usize,
    #[comptime] stride: usize,
    #[comptime] padding: usize,
    #[comptime] cols: usize,
    #[define(E)] _dtype: ElemType,
) {
    tiled_product(x, weight, out, k, stride, padding, cols, false);
}

/// `out` [batch, outputs, 2h, 2w] = the 4x4, stride-2, padding-1 transposed convolution (the
/// DCGAN's upsampling) of `x` [batch, channels, h, w] with `weight` [channels, outputs, 4, 4],
/// no bias. Each output pixel (2i + py, 2j + px) is reached by 2x2 of the 16 taps, the same
/// ones for every pixel of its parity (py, px): so for each parity (`CUBE_POS_Z`) the product
/// of the input's 2x2 patches with those taps' weights (`tiled_product`), with no zeros
/// multiplied and nothing written between.
#[cube(launch_unchecked, address_type = "dynamic")]
fn conv_transpose2d_up_kernel<E: Float>(x: &Tensor<E>, weight: &Tensor<E>, out: &mut Tensor<E>, #[comptime] cols: usize, #[define(E)] _dtype: ElemType) {
    tiled_product(x, weight, out, 4usize, 2usize, 1usize, cols, true);
}

/// Partial sums of a convolution's weight gradient: `partial` [splits, outputs, channels * k
/// * k] gets, for split z, the sum over its share of the (image, pixel) entries of grad [batch,
/// outputs, oh, ow] times the patches of x [batch, channels, h, w]. The same matrix product as
/// the forward kernel, with the long side (every output pixel of the batch) as the reduction,
/// cut into `splits` shares of `chunk` entries (a multiple of 16) so that a small weight still
/// fills the GPU. A tile is 64 output channels (rows) by `cols` channel-and-tap entries.
#[cube(launch_unchecked, address_type = "dynamic")]
fn conv2d_weight_grad_kernel<E: Float>(
    x: &Tensor<E>,
    grad: &Tensor<E>,
    partial: &mut Tensor<E>,
    chunk: usize,
    #[comptime] k: usize,
    #[comptime] stride: usize,
    #[comptime] padding: usize,
    #[comptime] cols: usize,
    #[define(E)] _dtype: ElemType,
) {
    let per_unit = cols / 16usize;
    let outputs = grad.shape(1);
    let out_width = grad.shape(3);
    let pixels = grad.shape(2) * out_width;
    let entries = grad.shape(0) * pixels;
    let depth = x.shape(1) * k * k;

    let unit = UNIT_POS as usize;
    let tx = UNIT_POS_X as usize;
    let ty = UNIT_POS_Y as usize;
    let row0 = CUBE_POS_X as usize * 64usize;
    let col0 = CUBE_POS_Y as usize * cols;
    let split = CUBE_POS_Z as usize;
    let first = split * chunk;
    // Every split starts inside the reduction (splits = entries / chunk, rounded up).
    let last = select(first + chunk < entries, first + chunk, entries);

    // Rows padded by one: units next to each other gather entries next to each other, into
    // different memory banks.
    let mut grads = Shared::<[E]>::new_slice(16usize * 65usize);
    let mut patches = Shared::<[E]>::new_slice(16usize * (cols + 1usize));
    let mut sums = Array::<E>::new(4usize * per_unit);
    #[unroll]
    for i in 0..4usize * per_unit {
        sums[i] = E::new(0.0);
    }

    // Units next to each other read entries (pixels) next to each other.
    let entry_gathered = unit % 16usize;
    let passes = (last - first + 15usize) / 16usize;
    for pass in 0..passes {
        let entry = first + pass * 16usize + entry_gathered;
        let entry_in = entry < last;
        let image = entry / pixels;
        let pixel = entry % pixels;
        let oi = pixel / out_width;
        let oj = pixel % out_width;
        let g_at = image * grad.stride(0) + oi * grad.stride(2) + oj * grad.stride(3);
        #[unroll]
        for l in 0..4usize {
            let o_local = unit / 16usize + 16usize * l;
            let output = row0 + o_local;
            let mut g = E::new(0.0);
            if entry_in && output < outputs {
                g = grad[g_at + output * grad.stride(1)];
            }
            grads[entry_gathered * 65usize + o_local] = g;
        }
        let x_image = image * x.stride(0);
        #[unroll]
        for l in 0..per_unit {
            let d_local = unit / 16usize + 16usize * l;
            let d = col0 + d_local;
            patches[entry_gathered * (cols + 1usize) + d_local] = patch_value(x, x_image, d, oi, oj, entry_in && d < depth, k, stride, padding);
        }
        sync_cube();
        multiply_pass(&mut sums, &grads, 65usize, &patches, cols + 1usize, tx, ty, per_unit);
        sync_cube();
    }

    let at = split * outputs * depth;
    #[unroll]
    for i in 0..4usize {
        let output = row0 + tx + 16usize * i;
        if output < outputs {
            #[unroll]
            for j in 0..per_unit {
                let d = col0 + ty + 16usize * j;
                if d < depth {
                    partial[at + output * depth + d] = sums[i * per_unit + j];
                }
            }
        }
    }
}

/// The columns of a forward kernel's tile (the fewest that hold every output channel, up to
/// 64) and its workgroups, for a product of `rows` pixels by `outputs` channels, `layers` times
/// over (the upsampling's four parities).
fn forward_grid(rows: usize, outputs: usize, layers: u32) -> (usize, CubeCount) {
    let cols = outputs.next_power_of_two().clamp(16, 64);
    let row_tiles = rows.div_ceil(ROWS);
    assert!(row_tiles <= u16::MAX as usize, "{row_tiles} workgroups of pixels: more than a GPU takes along one axis");
    (cols, CubeCount::Static(row_tiles as u32, outputs.div_ceil(cols) as u32, layers))
}

/// Launches the kernel for x [batch, channels, h, w] and weight [outputs, channels, k, k] (f32),
/// into a new tensor of `shape`.
pub(super) fn conv2d(x: CubeTensor, weight: CubeTensor, shape: Shape, stride: usize, padding: usize) -> CubeTensor {
    let (x, weight) = (into_contiguous(x), into_contiguous(weight));
    let k = weight.meta.shape()[2];
    let (cols, count) = forward_grid(shape[0] * shape[2] * shape[3], shape[1], 1);
    let out = empty_device_dtype(x.client.clone(), x.device.clone(), shape, x.dtype);
    let address_type = address_type(&[&x, &weight, &out]);
    // Safety: the kernel checks every read and write against the tensors' shapes.
    unsafe {
        conv2d_tiled_kernel::launch_unchecked(
            &x.client,
            count,
            CubeDim::new_2d(SIDE, SIDE),
            address_type,
            x.clone().into_tensor_arg(),
            weight.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            k,
            stride,
            padding,
            cols,
            f32::elem_type_native(),
        );
    }
    out
}

/// Launches the upsampling kernel for x [batch, channels, h, w] and weight [channels, outputs,
/// 4, 4] (f32): a new tensor [batch, outputs, 2h, 2w].
pub(super) fn conv_transpose2d_up(x: CubeTensor, weight: CubeTensor) -> CubeTensor {
    let (x, weight) = (into_contiguous(x), into_contiguous(weight));
    let (shape, outputs) = (x.meta.shape(), weight.meta.shape()[1]);
    let (batch, h, w) = (shape[0], shape[2], shape[3]);
    // A workgroup's tile for each of the four parities of the output pixels.
    let (cols, count) = forward_grid(batch * h * w, outputs, 4);
    let out = empty_device_dtype(x.client.clone(), x.device.clone(), Shape::new([batch, outputs, 2 * h, 2 * w]), x.dtype);
    let address_type = address_type(&[&x, &weight, &out]);
    // Safety: the kernel checks every read and write against the tensors' shapes.
    unsafe {
        conv_transpose2d_up_kernel::launch_unchecked(
            &x.client,
            count,
            CubeDim::new_2d(SIDE, SIDE),
            address_type,
            x.clone().into_tensor_arg(),
            weight.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            cols,
            f32::elem_type_native(),
        );
    }
    out
}

/// Workgroups the weight gradient aims for, a guess at what fills a large GPU (unmeasured).
const WEIGHT_GRAD_WORKGROUPS: usize = 256;

/// Launches the weight-gradient kernel: the partial sums [splits, outputs, channels * k * k]
/// of the gradient of the weight [outputs, channels, k, k] of the convolution of x [batch,
/// channels, h, w] whose output gradient is grad [batch, outputs, oh, ow].
pub(super) fn conv2d_weight_grad_partial(x: CubeTensor, grad: CubeTensor, k: usize, stride: usize, padding: usize) -> CubeTensor {
    let (x, grad) = (into_contiguous(x), into_contiguous(grad));
    let outputs = grad.meta.shape()[1];
    let depth = x.meta.shape()[1] * k * k;
    let entries = grad.meta.shape()[0] * grad.meta.shape()[2] * grad.meta.shape()[3];
    let cols = depth.next_power_of_two().clamp(16, 64);
    let tiles = outputs.div_ceil(ROWS) * depth.div_ceil(cols);
    // At most one share for every 256 entries (16 passes).
    let splits = WEIGHT_GRAD_WORKGROUPS.div_ceil(tiles).clamp(1, entries.div_ceil(256).max(1));
    let chunk = entries.div_ceil(splits).next_multiple_of(16);
    let splits = entries.div_ceil(chunk);
    // Written as one contiguous block (rows unpadded), which the kernel's indexing assumes.
    let partial = empty_device_contiguous_dtype(x.client.clone(), x.device.clone(), Shape::new([splits, outputs, depth]), x.dtype);
    let address_type = address_type(&[&x, &grad, &partial]);
    let count = CubeCount::Static(outputs.div_ceil(ROWS) as u32, depth.div_ceil(cols) as u32, splits as u32);
    // Safety: the kernel checks every read and write against the tensors' shapes.
    unsafe {
        conv2d_weight_grad_kernel::launch_unchecked(
            &x.client,
            count,
            CubeDim::new_2d(SIDE, SIDE),
            address_type,
            x.clone().into_tensor_arg(),
            grad.into_tensor_arg(),
            partial.clone().into_tensor_arg(),
            chunk,
            k,
            stride,
            padding,
            cols,
            f32::elem_type_native(),
        );
    }
    partial
}
