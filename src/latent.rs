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

/// The point `t` (0 to 1) of the way from `a` to `b` along the great circle between them
/// (spherical interpolation, as latent walks of GANs are drawn): z ~ N(0, I) lies near a sphere,
/// and the straight line's middle, much shorter than both ends, is a z the generator rarely saw
/// in training. Vectors (nearly) in line, or zero, are interpolated on the straight line.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    let t = t as f64;
    let cosine = if na > 0.0 && nb > 0.0 { a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum::<f64>() / (na * nb) } else { 1.0 };
    let omega = cosine.clamp(-1.0, 1.0).acos();
    let (wa, wb) = if omega.sin().abs() < 1e-6 {
        (1.0 - t, t)
    } else {
        (((1.0 - t) * omega).sin() / omega.sin(), (t * omega).sin() / omega.sin())
    };
    a.iter().zip(b).map(|(x, y)| (wa * *x as f64 + wb * *y as f64) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_spherical_walk_keeps_the_length_of_z_and_ends_where_it_should() {
        let draw = |seed| normal_values(&mut StdRng::seed_from_u64(seed), 100);
        let (a, b) = (draw(1), draw(2));
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let close = |x: &[f32], y: &[f32]| x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-5);
        assert!(close(&slerp(&a, &b, 0.0), &a) && close(&slerp(&a, &b, 1.0), &b));
        // Two draws of z are nearly orthogonal: the straight middle is about 0.71 as long.
        let straight: Vec<f32> = a.iter().zip(&b).map(|(x, y)| (x + y) / 2.0).collect();
        let middle = slerp(&a, &b, 0.5);
        let (ends, arc) = ((norm(&a) + norm(&b)) / 2.0, norm(&middle));
        assert!((arc / ends - 1.0).abs() < 0.02, "{arc} against {ends}");
        assert!(norm(&straight) / ends < 0.8);
        // In line (or zero): the straight line.
        let doubled: Vec<f32> = a.iter().map(|x| 2.0 * x).collect();
        assert!(close(&slerp(&a, &doubled, 0.5), &a.iter().map(|x| 1.5 * x).collect::<Vec<_>>()));
        assert!(close(&slerp(&vec![0.0; 100], &b, 0.25), &b.iter().map(|x| 0.25 * x).collect::<Vec<_>>()));
    }

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
