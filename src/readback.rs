//! Copying a run's tensors without blocking reads, so a browser's WebGPU (where a tensor can
//! only be read with `await`) can save, snapshot and move a run to the CPU like flex does.
//!
//! Two pieces: `copy_module` gives a module new tensors (on the same device, or read back onto
//! another one), and `ReadableAdam` is burn's Adam with a state that can be read back ahead of
//! serialising it.

use std::cell::RefCell;
use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{Adam, AdamState, ModuleOptimizer, Optimizer, OptimizerRecord, RecordState, StateSink, StateSource};
use burn::prelude::*;

/// A float tensor of a module, flattened, in the order `Module::visit` walks them.
struct Leaf {
    id: ParamId,
    flat: Tensor<1>,
}

fn flat<const D: usize>(tensor: Tensor<D>) -> Tensor<1> {
    let count = tensor.dims().iter().product::<usize>();
    tensor.detach().set_require_grad(false).reshape([count])
}

#[derive(Default)]
struct Leaves(Vec<Leaf>);

impl ModuleVisitor for Leaves {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(Leaf { id: param.id, flat: flat(param.val()) });
    }
}

/// A module's float tensors (running statistics included), flattened, in visiting order.
pub(crate) fn flat_tensors<M: Module>(module: &M) -> Vec<Tensor<1>> {
    let mut leaves = Leaves::default();
    module.visit(&mut leaves);
    leaves.0.into_iter().map(|leaf| leaf.flat).collect()
}

/// A module's float values (running statistics included), as f32, in visiting order: for tests.
#[cfg(test)]
pub(crate) fn flat_values<M: Module>(module: &M) -> Vec<f32> {
    flat_tensors(module).into_iter().flat_map(|t| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()).collect()
}

/// Puts values, in visiting order, into the float tensors of a fresh module.
struct Place {
    values: std::vec::IntoIter<(ParamId, Tensor<1>)>,
}

impl ModuleMapper for Place {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, value) = self.values.next().expect("modules of the same config have the same tensors");
        let (_, fresh, mapper) = param.consume();
        let dims: [usize; D] = fresh.dims();
        let tensor = value.reshape(dims).set_require_grad(fresh.is_require_grad());
        Param::from_mapped_value(id, tensor, mapper)
    }
}

fn place<M: Module>(fresh: M, values: Vec<(ParamId, Tensor<1>)>) -> M {
    fresh.map(&mut Place { values: values.into_iter() })
}

/// `fresh` (a module of the same config) holding `module`'s values and parameter ids, with
/// nothing shared: a clone of a module shares its batch-norm running statistics, so a clone
/// kept as "last good weights" would still change as training goes on.
pub fn copy_module<M: Module>(module: &M, fresh: M) -> M {
    let mut leaves = Leaves::default();
    module.visit(&mut leaves);
    let device = fresh.devices()[0].clone();
    place(fresh, leaves.0.into_iter().map(|leaf| (leaf.id, leaf.flat.to_device(&device))).collect())
}

/// The values of `tensors`, read back in one transfer: on a GPU each read waits for the device,
/// so a module's dozens of tensors are joined first and read once.
pub(crate) async fn read_all(tensors: Vec<Tensor<1>>) -> Result<Vec<Vec<f32>>, String> {
    if tensors.is_empty() {
        return Ok(Vec::new());
    }
    let lengths: Vec<usize> = tensors.iter().map(|t| t.dims()[0]).collect();
    let joined = Tensor::cat(tensors, 0).into_data_async().await.map_err(|e| format!("could not read the weights back: {e:?}"))?;
    let values = joined.try_to_vec::<f32>().map_err(|e| format!("could not read the weights back: {e:?}"))?;
    let mut rest = values.as_slice();
    Ok(lengths
        .into_iter()
        .map(|n| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head.to_vec()
        })
        .collect())
}

/// Like `copy_module`, onto `fresh`'s device, reading the values with `await` (what a GPU in
/// a browser needs for a copy onto the CPU).
pub async fn copy_module_async<M: Module>(module: &M, fresh: M) -> Result<M, String> {
    let mut leaves = Leaves::default();
    module.visit(&mut leaves);
    let device = fresh.devices()[0].clone();
    let (ids, flats): (Vec<_>, Vec<_>) = leaves.0.into_iter().map(|leaf| (leaf.id, leaf.flat)).unzip();
    let values = read_all(flats).await?;
    let placed = ids
        .into_iter()
        .zip(values)
        .map(|(id, v)| {
            let n = v.len();
            (id, Tensor::from_data(TensorData::new(v, [n]), &device))
        })
        .collect();
    Ok(place(fresh, placed))
}

/// burn's Adam, unchanged in its steps, whose per-parameter state can be read back with
/// `await` before `ModuleOptimizer::to_record` serialises it.
#[derive(Clone)]
pub struct ReadableAdam(pub Adam);

#[derive(Clone)]
pub struct ReadableAdamState<const D: usize>(AdamState<D>);

impl Optimizer for ReadableAdam {
    type State<const D: usize> = ReadableAdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: burn::optim::LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (tensor, state) = self.0.step(lr, tensor, grad, state.map(|s| s.0));
        (tensor, state.map(ReadableAdamState))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        ReadableAdamState(Adam::to_device(state.0, device))
    }
}

/// How `ReadableAdamState::state_flatten` gets its tensors' values.
#[derive(Default)]
enum Reading {
    /// Read them there and then (blocking; fine natively and on flex).
    #[default]
    Now,
    /// First pass: only gather the tensors, by parameter, to be read with `await`.
    Gather(HashMap<String, Vec<Tensor<1>>>),
    /// Second pass: the values read, by parameter, as CPU tensors.
    Replay(HashMap<String, Vec<Tensor<1>>>),
}

thread_local! {
    static READING: RefCell<Reading> = RefCell::new(Reading::Now);
}

impl<const D: usize> ReadableAdamState<D> {
    fn tensors(&self) -> Vec<Tensor<D>> {
        let m = &self.0.momentum;
        [Some(m.moment_1.clone()), Some(m.moment_2.clone()), m.max_moment_2.clone()].into_iter().flatten().collect()
    }

    /// This state with its tensors replaced, in `tensors()` order.
    fn with_tensors(&self, values: Vec<Tensor<1>>) -> AdamState<D> {
        let mut values = values.into_iter().map(|v| v.reshape(self.0.momentum.moment_1.dims()));
        let mut state = self.0.clone();
        state.momentum.moment_1 = values.next().expect("moment 1");
        state.momentum.moment_2 = values.next().expect("moment 2");
        state.momentum.max_moment_2 = state.momentum.max_moment_2.as_ref().and_then(|_| values.next());
        state
    }
}

impl<const D: usize> RecordState for ReadableAdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        READING.with(|reading| match &mut *reading.borrow_mut() {
            Reading::Now => self.0.state_flatten(prefix, out),
            Reading::Gather(gathered) => {
                gathered.insert(prefix.to_string(), self.tensors().into_iter().map(flat).collect());
            }
            Reading::Replay(values) => {
                let values = values.remove(prefix).expect("every state was gathered first");
                self.with_tensors(values).state_flatten(prefix, out);
            }
        })
    }

    /// Loads onto the CPU whatever device burn passes (its default device, which in a browser
    /// is WebGPU and may not be set up); the first step moves the state to the parameters.
    fn state_unflatten(prefix: &str, src: &mut StateSource, _device: &Device) -> Option<Self> {
        AdamState::state_unflatten(prefix, src, &Device::flex()).map(Self)
    }
}

/// Sets how optimizer states are read for the length of one `to_record` call.
fn with_reading<T>(reading: Reading, f: impl FnOnce() -> T) -> (T, Reading) {
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            READING.with(|r| *r.borrow_mut() = Reading::Now);
        }
    }
    READING.with(|r| *r.borrow_mut() = reading);
    let _restore = Restore;
    let value = f();
    let used = READING.with(|r| std::mem::take(&mut *r.borrow_mut()));
    (value, used)
}

/// `optim.to_record()`, with the state tensors read with `await`. The optimizer must be built
/// from a `ReadableAdam`.
pub async fn optimizer_record_async(optim: &ModuleOptimizer) -> Result<OptimizerRecord, String> {
    let (_, gathered) = with_reading(Reading::Gather(HashMap::new()), || optim.to_record());
    let Reading::Gather(gathered) = gathered else { unreachable!("set just above") };
    let cpu = Device::flex();
    let (prefixes, tensors): (Vec<_>, Vec<_>) = gathered.into_iter().unzip();
    let counts: Vec<usize> = tensors.iter().map(Vec::len).collect();
    let mut values = read_all(tensors.into_iter().flatten().collect()).await?.into_iter();
    let mut read_back = HashMap::new();
    for (prefix, count) in prefixes.into_iter().zip(counts) {
        let state = values
            .by_ref()
            .take(count)
            .map(|v| {
                let n = v.len();
                Tensor::from_data(TensorData::new(v, [n]), &cpu)
            })
            .collect();
        read_back.insert(prefix, state);
    }
    Ok(with_reading(Reading::Replay(read_back), || optim.to_record()).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelConfig;

    fn values<M: Module>(module: &M) -> Vec<Vec<f32>> {
        let mut leaves = Leaves::default();
        module.visit(&mut leaves);
        leaves.0.into_iter().map(|l| l.flat.into_data().try_to_vec::<f32>().unwrap()).collect()
    }

    #[test]
    fn copies_hold_the_same_values_and_ids_and_share_nothing() {
        let model = ModelConfig::new().with_nz(4).with_ngf(2).with_ndf(2);
        let device = Device::flex().autodiff();
        let generator = model.init_generator(&device);
        let copy = copy_module(&generator, model.init_generator(&device));
        assert_eq!(values(&copy), values(&generator));
        let copy_async = burn::tensor::read_sync(copy_module_async(&generator, model.init_generator(&Device::flex()))).unwrap();
        assert_eq!(values(&copy_async), values(&generator));

        // Training-mode forward passes move the batch-norm statistics of the original only.
        let before = values(&copy);
        for _ in 0..3 {
            let _ = generator.forward(Tensor::random([8, 4, 1, 1], burn::tensor::Distribution::Default, &device));
        }
        assert_ne!(values(&generator), before);
        assert_eq!(values(&copy), before);
    }
}

/// The result of a future that never waits: reading files, or reading tensors back on the CPU
/// (flex computes at once, so its `into_data_async` is ready on the first poll). Lets native
/// callers share the async code the browser needs.
///
/// Panics if the future is not ready at once (a GPU read, which must be awaited).
pub fn ready_now<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("ready_now: the future waits (a GPU read must be awaited)"),
    }
}
