//! The shipped digit classifier on real MNIST: its held-out accuracy, and the quality metrics it
//! gives real digits, noise and a single digit repeated (what mode collapse looks like).

use burn::prelude::*;
use ganplay::classifier::Classifier;
use ganplay::data::{Digits, Mnist};
use ganplay::readback::ready_now;

fn asset(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn classifier() -> Classifier {
    let bytes = std::fs::read(asset("assets/classifier/classifier.bin")).expect("made by `ganplay train-classifier`");
    Classifier::from_bytes(&bytes, &Device::flex()).unwrap()
}

fn images(digits: &Digits, indices: &[usize]) -> Tensor<4> {
    digits.batch(indices, &Device::flex())
}

#[test]
fn the_shipped_classifier_reads_held_out_digits_at_98_percent() {
    let Mnist { held_out, .. } = Mnist::from_folder(&asset("assets/mnist")).unwrap();
    let accuracy = classifier().accuracy(&held_out);
    assert!(accuracy >= 0.98, "held-out accuracy {accuracy}");
    // Read as the digits they are labelled: each class at least 90 %, all at the accuracy.
    let all: Vec<usize> = (0..held_out.len()).collect();
    let labels: Vec<u8> = all.iter().map(|&i| held_out.label(i)).collect();
    let shares = classifier().agreement(images(&held_out, &all), &labels);
    assert!(shares.iter().all(|&s| s >= 0.9), "{shares:?}");
    assert!((shares.iter().sum::<f64>() / 10.0 - accuracy).abs() < 0.01, "{shares:?} against {accuracy}");
    // Sure of them, too: a classifier unsure of real digits leaves a generator's score no room
    // below theirs (the one trained for 16 epochs gave 12 % of them under 0.95, and a score of 9.07).
    let (probabilities, _) = ready_now(classifier().judge(images(&held_out, &all))).unwrap();
    let unsure = probabilities.chunks(10).filter(|p| p.iter().copied().fold(0.0, f32::max) < 0.95).count();
    assert!(unsure < 50, "{unsure} of 1,000 held-out digits read with a top probability under 0.95");
}

#[test]
fn real_digits_score_high_and_noise_or_one_digit_repeated_score_low_and_are_flagged() {
    let Mnist { train, held_out } = Mnist::from_folder(&asset("assets/mnist")).unwrap();
    let classifier = classifier();
    let reference = ready_now(classifier.reference(&held_out)).unwrap();

    // The held-out digits against themselves: a near-perfect score, no distance.
    let all: Vec<usize> = (0..held_out.len()).collect();
    let real = ready_now(classifier.quality(images(&held_out, &all), &reference)).unwrap().unwrap();
    assert!(real.score >= 9.5, "{real:?}");
    assert!(real.frechet < 1e-3, "{real:?}");
    assert_eq!(real.classes_drawn(), 10);
    assert!(!real.collapsed());

    // Other real digits (1,000 spread over the training split, which is ordered by class):
    // still high, and near.
    let other: Vec<usize> = (0..1000).map(|i| i * train.len() / 1000).collect();
    let train_quality = ready_now(classifier.quality(images(&train, &other), &reference)).unwrap().unwrap();
    assert!(train_quality.score >= 9.0 && train_quality.frechet < 0.25 * real_noise_distance(&classifier, &reference), "{train_quality:?}");

    // One digit repeated 100 times: one class, a score of 1, collapse.
    let repeated = ready_now(classifier.quality(images(&held_out, &[7; 100]), &reference)).unwrap().unwrap();
    assert!(repeated.score < 1.5 && repeated.collapsed(), "{repeated:?}");
}

/// The distance of uniform noise, which must score low too.
fn real_noise_distance(classifier: &Classifier, reference: &ganplay::quality::Gaussian) -> f64 {
    let noise = Tensor::<4>::random([500, 1, 28, 28], burn::tensor::Distribution::Uniform(-1.0, 1.0), &Device::flex());
    let quality = ready_now(classifier.quality(noise, reference)).unwrap().unwrap();
    assert!(quality.score < 3.0 && quality.collapsed(), "noise: {quality:?}");
    quality.frechet
}

/// The page draws a reference line at the shipped generator's quality, as it scores a run: the
/// file that says so (`assets/pretrained/quality.json`) is of the generator that ships.
#[test]
fn the_shipped_generators_reference_quality_is_its_own() {
    use ganplay::checkpoint::{Checkpoint, shipped_folder};
    use ganplay::model::Family;
    use ganplay::quality::Reference;
    let held_out = Mnist::from_folder(&asset("assets/mnist")).unwrap().held_out;
    let classifier = classifier();
    let reference = ready_now(classifier.reference(&held_out)).unwrap();
    for family in Family::ALL {
        let folder = shipped_folder(family);
        let file = Checkpoint::from_bytes(&std::fs::read(asset(&format!("{folder}/generator.ganplay"))).unwrap()).unwrap();
        assert_eq!(file.model.family, family, "{folder}");
        assert_eq!(file.model.nz, ganplay::model::ModelConfig::new().nz, "{folder}: the page's z must fit it");
        let generator = file.generator(&Device::flex()).unwrap().valid();
        let measured = ready_now(classifier.measure_reference(&generator, &file.model, file.steps, &held_out, &reference)).unwrap().unwrap();
        let json = std::fs::read_to_string(asset(&format!("{folder}/quality.json"))).expect("written by `ganplay pretrain` or `ganplay score --reference`");
        let shipped: Reference = serde_json::from_str(&json).unwrap();
        assert_eq!((shipped.family, shipped.steps), (measured.family, measured.steps), "{folder}");
        assert!((shipped.quality.score - measured.quality.score).abs() < 0.01, "{folder}: {shipped:?} against {measured:?}");
        assert!((shipped.quality.frechet - measured.quality.frechet).abs() < 0.1, "{folder}: {shipped:?} against {measured:?}");
        assert_eq!(shipped.quality.asked.is_some(), family.conditional(), "{folder}: a conditional generator is scored on what it was asked");
        assert!((shipped.real_score - measured.real_score).abs() < 0.01, "{folder}: {shipped:?} against {measured:?}");
        // The scale it gives: real digits above the generator, the generator well above noise.
        // (A conditional generator, asked for ten of each digit, may draw them as clear-cut as
        // real handwriting: the shipped one scores within 0.01 of the held-out digits, and above
        // them by the classifier before this one; assets/pretrained/README.md.)
        let below_real = family.conditional() || shipped.quality.score < shipped.real_score;
        assert!(shipped.real_score >= 9.5 && (4.0..=10.0).contains(&shipped.quality.score) && below_real, "{folder}: {shipped:?}");
    }
}
