//! Differentiable augmentation of what D sees (DiffAugment, Zhao et al. 2020): every image D
//! judges, real or drawn, is shifted by a few pixels, a new shift for each image and each
//! time. D then finds it harder to learn the 9,000 training digits by heart, and because drawn digits are
//! shifted the same way (and the shift passes gradients to G), G is not taught to draw shifted
//! digits.
//!
//! A shift is two matrix products: image' = Sy · image · Sxᵀ, with Sy and Sx shifted identity
//! matrices. One batched product per side shifts the whole batch, each image its own way, and
//! the gradient of a product is a product: no gather kernel on a GPU.

use burn::prelude::*;
use rand::RngExt;
use rand::rngs::StdRng;

/// Shifts for `count` images, each coordinate uniform in -`pixels`..=`pixels`.
pub fn random_shifts(rng: &mut StdRng, count: usize, pixels: usize) -> Vec<(i32, i32)> {
    let p = pixels as i32;
    (0..count).map(|_| (rng.random_range(-p..=p), rng.random_range(-p..=p))).collect()
}

/// `images` [batch, channels, h, w] in [-1, 1], image i moved down by shifts[i].0 and right by
/// shifts[i].1 pixels. What comes in at the edges is background (-1).
pub fn shift(images: Tensor<4>, shifts: &[(i32, i32)]) -> Tensor<4> {
    let [batch, channels, h, w] = images.dims();
    assert_eq!(shifts.len(), batch, "one shift an image");
    let device = images.device();
    // Row i of the matrix reads row i - by of the image (nothing where that is outside).
    let matrices = |side: usize, by: &dyn Fn(usize) -> i32| {
        let mut values = vec![0.0f32; batch * channels * side * side];
        for b in 0..batch {
            for c in 0..channels {
                let matrix = &mut values[(b * channels + c) * side * side..][..side * side];
                for i in 0..side {
                    let from = i as i32 - by(b);
                    if (0..side as i32).contains(&from) {
                        matrix[i * side + from as usize] = 1.0;
                    }
                }
            }
        }
        Tensor::<4>::from_data(TensorData::new(values, [batch, channels, side, side]), &device)
    };
    let rows = matrices(h, &|b| shifts[b].0);
    let columns = matrices(w, &|b| shifts[b].1).swap_dims(2, 3);
    // Shifted with 0 coming in, so shift (x + 1) and take the 1 back off.
    rows.matmul(images.add_scalar(1.0)).matmul(columns).sub_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_shift_moves_each_image_its_own_way_and_brings_in_background() {
        let device = Device::flex();
        // Two 3x4 images: values 0..12 and 12..24, scaled into [-1, 1).
        let values: Vec<f32> = (0..24).map(|v| v as f32 / 12.0 - 1.0).collect();
        let images = Tensor::<4>::from_data(TensorData::new(values.clone(), [2, 1, 3, 4]), &device);
        let moved = shift(images.clone(), &[(1, 0), (0, -2)]).into_data().try_to_vec::<f32>().unwrap();
        let at = |v: &[f32], b: usize, i: usize, j: usize| v[b * 12 + i * 4 + j];
        for j in 0..4 {
            assert!((at(&moved, 0, 0, j) + 1.0).abs() < 1e-6, "the top row comes in as background");
            for i in 1..3 {
                assert!((at(&moved, 0, i, j) - at(&values, 0, i - 1, j)).abs() < 1e-6, "moved down a row");
            }
        }
        for i in 0..3 {
            for j in 0..2 {
                assert!((at(&moved, 1, i, j) - at(&values, 1, i, j + 2)).abs() < 1e-6, "moved two columns left");
                assert!((at(&moved, 1, i, j + 2) + 1.0).abs() < 1e-6, "background at the right");
            }
        }
        let still = shift(images, &[(0, 0), (0, 0)]).into_data().try_to_vec::<f32>().unwrap();
        assert!(still.iter().zip(&values).all(|(a, b)| (a - b).abs() < 1e-6), "no shift, no change");
    }

    #[test]
    fn the_gradient_goes_back_through_the_shift() {
        let device = Device::flex().autodiff();
        let x = Tensor::<4>::ones([1, 1, 4, 4], &device).require_grad();
        // Down 1, right 1: the last row and column of x fall outside and get no gradient.
        let grads = shift(x.clone(), &[(1, 1)]).sum().backward();
        let g = x.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        for i in 0..4 {
            for j in 0..4 {
                assert_eq!(g[i * 4 + j], if i < 3 && j < 3 { 1.0 } else { 0.0 }, "({i}, {j})");
            }
        }
    }

    #[test]
    fn shifts_stay_within_the_bound_and_follow_the_seed() {
        let draw = || random_shifts(&mut StdRng::seed_from_u64(3), 500, 2);
        let shifts = draw();
        assert!(shifts.iter().all(|&(a, b)| (-2..=2).contains(&a) && (-2..=2).contains(&b)));
        assert!(shifts.iter().any(|&(a, _)| a == -2) && shifts.iter().any(|&(_, b)| b == 2), "the bound is reached");
        assert_eq!(shifts, draw());
    }
}
