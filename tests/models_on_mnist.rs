//! The other model families on the real MNIST asset: a VAE's reconstructions of digits it never
//! trained on improve over a short run, and a conditional DCGAN draws the digit it is asked for
//! (as the shipped classifier reads it) far more often than chance.

use burn::prelude::*;
use ganplay::classifier::Classifier;
use ganplay::data::Mnist;
use ganplay::model::{CLASSES, Family, ModelConfig};
use ganplay::training::{Gan, TrainConfig};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn asset(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn train(family: Family, steps: usize) -> (Gan, Mnist) {
    let mnist = Mnist::from_folder(&asset("assets/mnist")).unwrap();
    let model = ModelConfig::new().with_family(family).with_ngf(16).with_ndf(8);
    let mut gan = Gan::new(model, TrainConfig::new(), &Device::flex().autodiff());
    for step in 1..=steps {
        let report = gan.step(&mnist.train).read().unwrap();
        assert!(report.is_finite(), "{family:?} step {step}: {report:?}");
        if step % 100 == 0 {
            eprintln!("{family:?} [{step}] {}", report.line());
        }
    }
    (gan, mnist)
}

/// Mean squared difference per pixel between held-out digits and the VAE's reconstructions.
fn reconstruction_error(vae: &Gan, mnist: &Mnist) -> f32 {
    let indices: Vec<usize> = (0..200).map(|i| i * 5).collect();
    let digits = mnist.held_out.batch(&indices, &Device::flex());
    let rebuilt = vae.reconstruct(digits.clone()).to_device(&Device::flex());
    (rebuilt - digits).powi_scalar(2).mean().into_scalar::<f32>()
}

#[test]
fn a_vae_reconstructs_held_out_digits_better_after_a_short_run() {
    let (fresh, mnist) = train(Family::Vae, 0);
    let before = reconstruction_error(&fresh, &mnist);
    let (vae, mnist) = train(Family::Vae, 300);
    let after = reconstruction_error(&vae, &mnist);
    eprintln!("VAE reconstruction error (mean squared, per pixel in [-1, 1]): {before:.3} before, {after:.3} after 300 steps");
    assert!(after < 0.5 * before, "{before} -> {after}");
    assert!(after < 0.25, "{after}");
}

#[test]
fn a_conditional_dcgan_draws_the_digit_it_is_asked_for() {
    let (cgan, _) = train(Family::Cgan, 1200);
    let classifier = Classifier::from_bytes(&std::fs::read(asset("assets/classifier/classifier.bin")).unwrap(), &Device::flex()).unwrap();
    const EACH: usize = 50;
    let classes: Vec<u8> = (0..CLASSES * EACH).map(|i| (i / EACH) as u8).collect();
    let z = ganplay::latent::latent(&mut StdRng::seed_from_u64(7), classes.len(), cgan.model.nz, &Device::flex());
    let images = cgan.sampler().forward(cgan.model.generator_input(z, Some(&classes)));
    let shares = classifier.agreement(images, &classes);
    let mean = shares.iter().sum::<f64>() / CLASSES as f64;
    eprintln!("cGAN: share of each asked-for class read as that class: {shares:.2?}, mean {mean:.2}");
    assert!(mean > 0.35, "mean {mean} (chance is 0.1): {shares:?}");
}
