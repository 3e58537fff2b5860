//! What the launches of ganplay's own kernels (`conv_kernel`, `norm_kernel`,
//! `activation_kernel`) share.

use burn_cubecl::cubecl::calculate_cube_count_elemwise;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;

/// The index width a kernel needs to reach every element of `tensors` (f32).
pub(crate) fn address_type(tensors: &[&CubeTensor]) -> AddressType {
    tensors.iter().map(|t| (*t).clone().binding().required_address_type(4)).max().unwrap_or_default()
}

/// A launch that gives each unit one entry of a new contiguous tensor of x's shape and
/// type: that tensor, the workgroup (256 units) and the workgroups' count.
pub(crate) fn entry_per_unit(x: &CubeTensor) -> (CubeTensor, CubeDim, CubeCount) {
    let out = empty_device_contiguous_dtype(x.client.clone(), x.device.clone(), x.meta.shape().clone(), x.dtype);
    let dim = CubeDim::new_1d(256);
    let count = calculate_cube_count_elemwise(&x.client, out.meta.shape().num_elements(), dim);
    (out, dim, count)
}
