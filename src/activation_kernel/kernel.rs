//! The leaky ReLU gradient kernel (see the module above) and its launch: a unit an entry.

use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;

use crate::launch::{address_type, entry_per_unit};

/// `out` = grad where x >= 0, `slope` grad where x < 0; x, grad and out contiguous, of one
/// shape.
#[cube(launch_unchecked, address_type = "dynamic")]
fn leaky_relu_backward_kernel<E: Float>(x: &Tensor<E>, grad: &Tensor<E>, out: &mut Tensor<E>, slope: f32, #[define(E)] _dtype: ElemType) {
    let at = ABSOLUTE_POS;
    if at < out.len() {
        let g = grad[at];
        out[at] = select(x[at] < E::new(0.0), g * E::cast_from(slope), g);
    }
}

/// Launches the kernel for x and grad of one shape (f32).
pub(super) fn leaky_relu_backward(x: CubeTensor, grad: CubeTensor, slope: f64) -> CubeTensor {
    let (x, grad) = (into_contiguous(x), into_contiguous(grad));
    let (out, dim, count) = entry_per_unit(&x);
    let address_type = address_type(&[&x, &grad, &out]);
    // Safety: the kernel reads and writes entries within the output's length, which all
    // three share.
    unsafe {
        leaky_relu_backward_kernel::launch_unchecked(
            &x.client,
            count,
            dim,
            address_type,
            x.clone().into_tensor_arg(),
            grad.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            slope as f32,
            f32::elem_type_native(),
        );
    }
    out
}
