//! End to end on the real MNIST asset: the loader, the held-out split, and a short training run
//! at small width that must change what D thinks of G's digits and draw varied images.

use burn::prelude::*;
use ganplay::data::{HELD_OUT_PER_CLASS, Mnist, PIXELS};
use ganplay::image::GrayImage;
use ganplay::layers::{ConvPath, conv_path};
use ganplay::model::ModelConfig;
use ganplay::training::{ConvTrial, Gan, RefusalWatch, TrainConfig};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn mnist() -> Mnist {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mnist");
    Mnist::from_folder(&dir).expect("assets/mnist is built by scripts/setup.sh")
}

#[test]
fn asset_holds_ten_thousand_digits_and_a_fixed_held_out_set() {
    let Mnist { train, held_out } = mnist();
    assert!(train.len() + held_out.len() >= 10_000, "{} + {}", train.len(), held_out.len());
    assert_eq!(held_out.len(), 10 * HELD_OUT_PER_CLASS);
    // Real digits: mostly black background with a few hundred lit pixels.
    let lit = (0..100).map(|i| train.image(i).iter().filter(|&&p| p > 128).count()).sum::<usize>() / 100;
    assert!((50..300).contains(&lit), "mean lit pixels {lit}");
    // Same file, same split.
    assert_eq!(mnist().held_out, held_out);
}

#[test]
fn short_run_moves_d_of_g_and_draws_varied_digits() {
    let train = mnist().train;
    let device = Device::flex().autodiff();
    let model = ModelConfig::new().with_nz(32).with_ngf(8).with_ndf(8);
    let mut gan = Gan::new(model, TrainConfig::new().with_batch_size(32).with_lr_d(5e-4).with_lr_g(5e-4), &device);
    let first = gan.step(&train).read().unwrap();
    let mut last = Vec::new();
    for step in 2..=300 {
        let report = gan.step(&train).read().unwrap();
        assert!(report.is_finite(), "step {step}: {report:?}");
        if step > 250 {
            last.push(report);
        }
    }
    // Values: loss D, loss G, D(x), D(G(z)) before, D(G(z)) after.
    let mean = |i: usize| last.iter().map(|r| r.measures.values()[i]).sum::<f32>() / last.len() as f32;
    let (d_real, d_fake) = (mean(2), mean(4));
    let first_fake = first.measures.values()[4];
    assert!((first_fake - d_fake).abs() > 0.05, "D(G(z)) stayed at {d_fake} (first step {first_fake})");
    assert!(d_real > d_fake, "D(x) {d_real} should stay above D(G(z)) {d_fake}");

    let z = ganplay::latent::latent(&mut StdRng::seed_from_u64(1), 16, 32, &Device::flex());
    let images = gan.generate(z).into_data().try_to_vec::<f32>().unwrap();
    let grid = GrayImage::grid(&images, 4);
    assert!(grid.spread() > 40.0, "grid is nearly constant: spread {}", grid.spread());
    // Different z, different digits: not every image is the same picture (mode collapse).
    let first_image = &images[..PIXELS];
    let differing = images.chunks(PIXELS).filter(|im| im.iter().zip(first_image).map(|(a, b)| (a - b).abs()).sum::<f32>() > 20.0).count();
    assert!(differing >= 8, "only {differing} of 15 images differ from the first");
}

#[test]
fn train_writes_a_file_that_brings_its_curves_and_scores() {
    let out = std::env::temp_dir().join(format!("ganplay-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ganplay"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["train", "--preset", "tiny", "--steps", "30", "--log-every", "10", "--out"])
        .arg(&out)
        .output()
        .expect("ganplay runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("[30/30]") && stdout.contains(" score "), "{stdout}");
    let file = ganplay::checkpoint::Checkpoint::from_bytes(&std::fs::read(out.join("weights.ganplay")).unwrap()).unwrap();
    let curves = file.curves().expect("the run's curves");
    // Every step's report, read in one go at each line, and the score of each line.
    let steps: Vec<u64> = curves.charts.points().iter().map(|p| p.report.step).collect();
    assert_eq!(steps, (1..=30).collect::<Vec<_>>());
    assert!(curves.charts.points().iter().all(|p| p.report.is_finite()));
    let scored: Vec<u64> = curves.quality.points().iter().map(|(s, _)| *s).collect();
    assert_eq!(scored, [10, 20, 30]);
    // The scores kept are those printed at each line.
    let printed: Vec<String> = stdout.lines().filter_map(|l| l.split(" score ").nth(1)).map(|rest| rest.split(' ').next().unwrap().to_string()).collect();
    let kept: Vec<String> = curves.quality.points().iter().map(|(_, q)| format!("{:.2}", q.as_ref().expect("a score").score)).collect();
    assert_eq!(printed, kept, "{stdout}");
    let _ = std::fs::remove_dir_all(&out);
}

/// A GPU that refuses the tiled kernel: as the browser's WebGPU tells it, to the device's error
/// scopes, while the steps' reads still give numbers. Each watch ends after its path's steps, on
/// that path.
struct RefusesTiled(Option<ConvPath>);

impl RefusalWatch for RefusesTiled {
    fn watch(&mut self, path: ConvPath) {
        assert_eq!(self.0.replace(path), None, "a watch that did not end");
    }

    async fn refused(&mut self) -> Option<String> {
        let path = self.0.take().expect("a watch begun");
        assert_eq!(conv_path(), path, "the watch ends on the path it watched");
        (path == ConvPath::Tiled).then(|| "a workgroup past the device's limits".into())
    }
}

#[test]
fn a_convolution_path_whose_kernels_the_gpu_refused_is_left_out_and_said() {
    let train = mnist().train;
    let model = ModelConfig::new().with_nz(16).with_ngf(8).with_ndf(8);
    let gan = Gan::new(model, TrainConfig::new().with_batch_size(8), &Device::flex().autodiff());
    let started = std::time::Instant::now();
    let clock = || started.elapsed().as_secs_f64() * 1e3;
    // Where nothing is refused, both paths are timed (on the CPU both are burn's convolutions).
    let trial = burn::tensor::read_sync(ConvTrial::run(&gan, &train, 1, clock, &mut ()));
    assert_eq!(trial.ms_per_step.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [ConvPath::Burn, ConvPath::Tiled]);
    assert_eq!(trial.notice(), None);
    // A refused path is left out, whatever its reads gave, and the other one is kept.
    let mut watch = RefusesTiled(None);
    let refused = burn::tensor::read_sync(ConvTrial::run(&gan, &train, 1, clock, &mut watch));
    assert_eq!(watch.0, None, "every watch ended");
    let words = "a workgroup past the device's limits";
    assert_eq!((refused.refused.clone(), refused.failed.clone()), (vec![(ConvPath::Tiled, words.to_string())], Vec::new()));
    assert_eq!((refused.fastest(), conv_path()), (ConvPath::Burn, ConvPath::Burn));
    assert!(refused.ms(ConvPath::Burn).is_some() && refused.ms(ConvPath::Tiled).is_none());
    assert_eq!(
        refused.notice().as_deref(),
        Some("Convolutions: this GPU refused ganplay's tiled kernel, so training goes on with burn's convolutions. The browser said: a workgroup past the device's limits.")
    );
    assert!(refused.summary().ends_with(&format!("; ganplay's tiled kernel refused by the GPU: {words}")), "{}", refused.summary());
    assert_eq!(gan.steps, 0, "the trial stepped copies of the run");
}
