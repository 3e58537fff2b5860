//! Leaky ReLU with a backward pass of one kernel. burn's leaky ReLU selects between x and
//! slope x by a mask, and autodiff differentiates that selection: two zero-filled tensors,
//! two masked selections, a scaling and a sum, six kernels that a GPU's fusion leaves apart.
//! Its gradient is one element-wise step: the output gradient where x >= 0, slope times it
//! where x < 0.
//!
//! `ActivationKernels` makes it an operation of every backend: the forward pass is burn's
//! leaky ReLU (which a GPU fuses with its neighbours), and on an autodiff device the backward
//! pass is `leaky_relu_backward`, a kernel of ours on cubecl devices and burn's operations
//! elsewhere (the CPU).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension, get_or_init_device_settings};
use burn::tensor::{DType, Scalar, Tensor};
use burn_cubecl::CubeBackend;

mod kernel;

#[backend_extension(Cube, Flex, Autodiff, Fusion)]
pub trait ActivationKernels: Backend {
    /// Leaky ReLU of x: x where x > 0, `slope` x elsewhere.
    #[fusion(default)]
    fn leaky_relu_with_kernel(x: FloatTensor<Self>, slope: f64) -> FloatTensor<Self> {
        let slope = Scalar::new(slope, &x.dtype());
        Self::leaky_relu(x, slope)
    }

    /// The gradient of leaky ReLU at x from its output's gradient `grad` (x's shape): grad
    /// where x >= 0, `slope` grad where x < 0 (as burn's).
    #[fusion(dtype = x, shape = x)]
    fn leaky_relu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>, slope: f64) -> FloatTensor<Self> {
        backward_by_operations::<Self>(x, grad, slope)
    }
}

/// `leaky_relu_backward` by burn's operations.
fn backward_by_operations<B: Backend>(x: FloatTensor<B>, grad: FloatTensor<B>, slope: f64) -> FloatTensor<B> {
    let bool_dtype = get_or_init_device_settings::<B>(&x.device()).bool_dtype;
    let negative = B::float_lower_elem(x, Scalar::new(0.0, &grad.dtype()), bool_dtype);
    let scaled = B::float_mul_scalar(grad.clone(), Scalar::new(slope, &grad.dtype()));
    B::float_mask_where(grad, negative, scaled)
}

impl ActivationKernels for Flex {}

impl ActivationKernels for CubeBackend {
    fn leaky_relu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>, slope: f64) -> FloatTensor<Self> {
        if x.dtype != DType::F32 || grad.dtype != DType::F32 {
            return backward_by_operations::<Self>(x, grad, slope);
        }
        kernel::leaky_relu_backward(x, grad, slope)
    }
}

#[derive(Debug)]
struct LeakyReluBackward;

impl<B: Backend + ActivationKernels> Backward<B, 1> for LeakyReluBackward {
    /// x, the slope.
    type State = (NodeId, f64);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, slope) = ops.state;
        if let Some(node) = node_x {
            let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
            grads.register::<B>(node.id, B::leaky_relu_backward(x, grad, slope));
        }
    }
}

impl<B: Backend + ActivationKernels, C: CheckpointStrategy> ActivationKernels for Autodiff<B, C> {
    fn leaky_relu_with_kernel(x: FloatTensor<Self>, slope: f64) -> FloatTensor<Self> {
        match LeakyReluBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish((x_state, slope), B::leaky_relu_with_kernel(x.into_primitive(), slope))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::leaky_relu_with_kernel(x.into_primitive(), slope)),
        }
    }
}

/// Leaky ReLU of x (x where x > 0, `slope` x elsewhere), its backward pass one kernel on a
/// GPU.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as ActivationKernels>::leaky_relu_with_kernel(x.into_dispatch(), slope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    use crate::layers::tests::assert_close;

    /// Output and input gradient against burn's leaky ReLU, on a strided input with zeros.
    fn check(device: &Device) {
        let x = Tensor::<4>::random([5, 3, 7, 6], Distribution::Normal(0.0, 1.0), device).swap_dims(1, 3);
        let x = x.clone().mask_fill(x.abs().lower_elem(0.1), 0.0);
        let upstream = Tensor::<4>::ones(x.dims(), device).cumsum(3).sin();
        let run = |ours: bool| {
            let x = x.clone().require_grad();
            let y = if ours { leaky_relu(x.clone(), 0.2) } else { burn::tensor::activation::leaky_relu(x.clone(), 0.2) };
            let grads = (y.clone() * upstream.clone()).sum().backward();
            (y, x.grad(&grads).unwrap())
        };
        let ((y1, dx1), (y2, dx2)) = (run(true), run(false));
        assert_close("output", y1, y2);
        assert_close("input gradient", dx1, dx2);
    }

    #[test]
    fn leaky_relu_is_burns_on_the_cpu() {
        check(&Device::flex().autodiff());
    }

    #[test]
    fn kernel_is_burns_leaky_relu_on_wgpu() {
        let Some(device) = crate::layers::tests::wgpu_device() else { return };
        check(&device);
    }
}
