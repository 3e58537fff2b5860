//! Random draws shared by the networks' initialisation and the training step: standard normal
//! values and latent vectors z, each from a seeded stream so that a seed fixes a run.

use burn::prelude::*;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, StandardNormal};

/// Standard normal values from `rng`.
pub fn normal_values(rng: &mut StdRng, count: usize) -> Vec<f32> {
    (0..count).map(|_| StandardNormal.sample(rng)).collect()
}

/// Latent vectors z ~ N(0, 1) of shape [count, nz, 1, 1].
pub fn latent(rng: &mut StdRng, count: usize, nz: usize, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(normal_values(rng, count * nz), [count, nz, 1, 1]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn same_seed_same_draws_and_roughly_standard() {
        let draw = |seed| normal_values(&mut StdRng::seed_from_u64(seed), 4000);
        let values = draw(3);
        assert_eq!(values, draw(3));
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32;
        assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.1, "mean {mean}, variance {var}");
        let z = latent(&mut StdRng::seed_from_u64(3), 2, 5, &Device::flex());
        assert_eq!(z.dims(), [2, 5, 1, 1]);
    }
}
