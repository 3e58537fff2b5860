//! How good a generator's digits are, judged by the digit classifier as GAN papers judge MNIST
//! generators: the classifier score (Inception-score style), the class histogram and coverage,
//! and the Fréchet distance between the classifier's features of generated digits and of the
//! held-out digits (FID-style). Pure arithmetic on what the classifier read back.

use crate::classifier::{CLASSES, FEATURES};

/// A class counts as drawn when it has more than this share of the samples.
pub const COVERED_SHARE: f64 = 0.03;
/// Fewer classes drawn than this is mode collapse.
pub const COLLAPSE_BELOW: usize = 6;
/// A generator draws digits (rather than noise the classifier spreads over the classes) from
/// this classifier score on.
pub const DIGITS_SCORE: f64 = 3.0;

/// Digits a run is scored on each time, drawn from the same latent vectors (so the curve
/// follows G, not the draw of z), and the seed of those vectors.
pub const PAGE_DIGITS: usize = 500;
pub const PAGE_SEED: u64 = 0x5C0_2E;

/// A generator's quality scored as a run is (`PAGE_DIGITS` from `PAGE_SEED`), and what real
/// digits score: a scale for a run's score. The shipped generator's is written next to it
/// (`assets/pretrained/quality.json`) by `ganplay pretrain` and `ganplay score --reference`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    /// The generator's model.
    pub family: crate::model::Family,
    pub quality: Quality,
    /// Steps the generator was trained for.
    pub steps: u64,
    /// The classifier score of the held-out digits themselves: what real digits get.
    pub real_score: f64,
}

/// Mean and covariance of feature vectors: what the Fréchet distance compares.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    pub mean: Vec<f64>,
    /// Row-major, `FEATURES` x `FEATURES`.
    pub covariance: Vec<f64>,
}

impl Gaussian {
    /// Of `features`, rows of `FEATURES` values. `None` for fewer than two rows.
    pub fn of(features: &[f32]) -> Option<Self> {
        let d = FEATURES;
        let n = features.len() / d;
        if n < 2 {
            return None;
        }
        let mut mean = vec![0.0; d];
        for row in features.chunks_exact(d) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64 / n as f64);
        }
        let mut covariance = vec![0.0; d * d];
        for row in features.chunks_exact(d) {
            for i in 0..d {
                let a = row[i] as f64 - mean[i];
                for j in i..d {
                    covariance[i * d + j] += a * (row[j] as f64 - mean[j]) / (n - 1) as f64;
                }
            }
        }
        for i in 0..d {
            for j in 0..i {
                covariance[i * d + j] = covariance[j * d + i];
            }
        }
        Some(Self { mean, covariance })
    }
}

/// Eigenvalues and eigenvectors (columns, row-major) of a symmetric `n` x `n` matrix, by cyclic
/// Jacobi rotations: exact to rounding for the small matrices used here.
fn symmetric_eigen(matrix: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = matrix.to_vec();
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    for _sweep in 0..100 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * n + j].powi(2)).sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

fn multiply(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                out[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    out
}

/// The square root of a symmetric positive semi-definite matrix.
fn sqrt_psd(matrix: &[f64], n: usize) -> Vec<f64> {
    let (values, vectors) = symmetric_eigen(matrix, n);
    let mut out = vec![0.0; n * n];
    for (k, value) in values.iter().enumerate() {
        let root = value.max(0.0).sqrt();
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] += root * vectors[i * n + k] * vectors[j * n + k];
            }
        }
    }
    out
}

/// The Fréchet distance between two Gaussians: |m1 - m2|² + Tr(C1 + C2 - 2 (C1 C2)^½). The
/// trace of the square root is taken as that of (C1^½ C2 C1^½)^½, a symmetric matrix.
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> f64 {
    let n = a.mean.len();
    let means: f64 = a.mean.iter().zip(&b.mean).map(|(x, y)| (x - y).powi(2)).sum();
    let trace = |m: &[f64]| (0..n).map(|i| m[i * n + i]).sum::<f64>();
    let root_a = sqrt_psd(&a.covariance, n);
    let middle = multiply(&multiply(&root_a, &b.covariance, n), &root_a, n);
    let cross: f64 = symmetric_eigen(&middle, n).0.iter().map(|v| v.max(0.0).sqrt()).sum();
    (means + trace(&a.covariance) + trace(&b.covariance) - 2.0 * cross).max(0.0)
}

/// What the classifier makes of a set of generated digits.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Quality {
    /// exp(E[KL(p(y|x) || p(y))]): 1 for one class or for noise, 10 for clear digits of every
    /// class in equal numbers.
    pub score: f64,
    /// Fréchet distance to the held-out digits' features (0: indistinguishable).
    pub frechet: f64,
    /// Share of the digits the classifier puts in each class.
    pub histogram: [f64; CLASSES],
    /// A conditional model's: the share of its digits the classifier reads as the digit it was
    /// asked to draw. (Absent from files written before it was measured.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked: Option<f64>,
}

impl Quality {
    /// From the classifier's class probabilities (rows of 10) and features (rows of
    /// `FEATURES`) of the same digits, against the held-out digits' `reference`. `None` when
    /// there are too few digits or a value is not finite.
    pub fn judge(probabilities: &[f32], features: &[f32], reference: &Gaussian) -> Option<Self> {
        Self::judge_asked(probabilities, features, reference, None)
    }

    /// `judge`, for digits a conditional model drew when asked for the classes `asked` (one a
    /// digit): with the share read as asked.
    pub fn judge_asked(probabilities: &[f32], features: &[f32], reference: &Gaussian, asked: Option<&[u8]>) -> Option<Self> {
        let n = probabilities.len() / CLASSES;
        if n < 2 || probabilities.iter().chain(features).any(|v| !v.is_finite()) {
            return None;
        }
        let mut marginal = [0.0f64; CLASSES];
        let mut histogram = [0.0f64; CLASSES];
        let mut read_as_asked = 0;
        for (i, row) in probabilities.chunks_exact(CLASSES).enumerate() {
            row.iter().enumerate().for_each(|(c, &p)| marginal[c] += p as f64 / n as f64);
            let top = (0..CLASSES).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0);
            histogram[top] += 1.0 / n as f64;
            read_as_asked += asked.is_some_and(|asked| asked.get(i) == Some(&(top as u8))) as usize;
        }
        let kl: f64 = probabilities
            .chunks_exact(CLASSES)
            .map(|row| row.iter().zip(&marginal).filter(|(p, _)| **p > 0.0).map(|(&p, &m)| p as f64 * (p as f64 / m).ln()).sum::<f64>())
            .sum::<f64>()
            / n as f64;
        let frechet = frechet_distance(&Gaussian::of(features)?, reference);
        let asked = asked.map(|_| read_as_asked as f64 / n as f64);
        let quality = Self { score: kl.exp(), frechet, histogram, asked };
        (quality.score.is_finite() && quality.frechet.is_finite()).then_some(quality)
    }

    /// Classes with more than `COVERED_SHARE` of the digits.
    pub fn classes_drawn(&self) -> usize {
        self.histogram.iter().filter(|&&share| share > COVERED_SHARE).count()
    }

    /// Mode collapse: the generator draws too few classes.
    pub fn collapsed(&self) -> bool {
        self.classes_drawn() < COLLAPSE_BELOW
    }

    /// The generator draws digits of enough kinds: recognisable ones (a fresh run's noise is
    /// spread over the classes too, but with a score near 1), and no collapse.
    pub fn draws_digits(&self) -> bool {
        !self.collapsed() && self.score >= DIGITS_SCORE
    }

    /// One line, as the command line prints it: `score 7.9 fd 12.3 classes 10/10`.
    pub fn line(&self) -> String {
        let asked = self.asked.map_or(String::new(), |a| format!(" read as asked {:.1} %", a * 100.0));
        format!("score {:.2} fd {:.2} classes {}/{CLASSES}{asked}", self.score, self.frechet, self.classes_drawn())
    }
}

/// The quality of a run over its steps: a point every few seconds of training, `None` where the
/// classifier could not say (shown as "—", never as NaN).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QualityHistory {
    points: Vec<(u64, Option<Quality>)>,
}

impl QualityHistory {
    /// Points kept; when full, every other one is dropped (the curve keeps its shape).
    const CAPACITY: usize = 400;

    pub fn push(&mut self, step: u64, quality: Option<Quality>) {
        self.points.retain(|(s, _)| *s < step);
        if self.points.len() >= Self::CAPACITY {
            self.points = self.points.iter().step_by(2).cloned().collect();
        }
        self.points.push((step, quality));
    }

    pub fn points(&self) -> &[(u64, Option<Quality>)] {
        &self.points
    }

    pub fn latest(&self) -> Option<&(u64, Option<Quality>)> {
        self.points.last()
    }

    pub fn clear(&mut self) {
        self.points.clear();
    }

    /// Forgets what came after `step` (a run that went back to it).
    pub fn keep_until(&mut self, step: u64) {
        self.points.retain(|(s, _)| *s <= step);
    }

    /// A history as `push` makes them: no more points than it keeps, their steps rising.
    pub fn is_sound(&self) -> bool {
        self.points.len() <= Self::CAPACITY && self.points.windows(2).all(|w| w[0].0 < w[1].0)
    }

    /// The point for a CSV row ending at `step` that began after `after`: the last one in that
    /// span.
    pub fn within(&self, after: Option<u64>, step: u64) -> Option<&(u64, Option<Quality>)> {
        self.points.iter().rev().find(|(s, _)| *s <= step && after.is_none_or(|a| *s > a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_finds_the_eigenvalues_and_square_roots_square_back() {
        let n = 3;
        let m = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let (mut values, _) = symmetric_eigen(&m, n);
        values.sort_by(f64::total_cmp);
        let trace: f64 = values.iter().sum();
        assert!((trace - 9.0).abs() < 1e-9, "{values:?}");
        let root = sqrt_psd(&m, n);
        let back = multiply(&root, &root, n);
        assert!(back.iter().zip(&m).all(|(a, b)| (a - b).abs() < 1e-9), "{back:?}");
    }

    fn gaussian(shift: f64, scale: f64) -> Gaussian {
        let d = FEATURES;
        let mut covariance = vec![0.0; d * d];
        (0..d).for_each(|i| covariance[i * d + i] = scale);
        Gaussian { mean: vec![shift; d], covariance }
    }

    #[test]
    fn frechet_distance_is_zero_for_the_same_gaussian_and_grows_apart() {
        assert!(frechet_distance(&gaussian(0.0, 1.0), &gaussian(0.0, 1.0)).abs() < 1e-9);
        // Means one apart in every dimension: d; variances 1 and 4: d (1 + 4 - 2*2).
        let d = FEATURES as f64;
        assert!((frechet_distance(&gaussian(0.0, 1.0), &gaussian(1.0, 1.0)) - d).abs() < 1e-9);
        assert!((frechet_distance(&gaussian(0.0, 1.0), &gaussian(0.0, 4.0)) - d).abs() < 1e-9);
    }

    #[test]
    fn sure_and_even_classes_score_ten_and_one_class_scores_one() {
        let features: Vec<f32> = (0..100 * FEATURES).map(|i| ((i * 7919) % 13) as f32).collect();
        let reference = Gaussian::of(&features).unwrap();
        let even: Vec<f32> = (0..100).flat_map(|i| (0..CLASSES).map(move |c| if c == i % 10 { 1.0 } else { 0.0 })).collect();
        let quality = Quality::judge(&even, &features, &reference).unwrap();
        assert!((quality.score - 10.0).abs() < 1e-6, "{quality:?}");
        assert!(quality.frechet < 1e-6);
        assert_eq!(quality.classes_drawn(), 10);
        assert!(!quality.collapsed());
        let sevens: Vec<f32> = (0..100).flat_map(|_| (0..CLASSES).map(|c| if c == 7 { 1.0 } else { 0.0 })).collect();
        let collapsed = Quality::judge(&sevens, &features, &reference).unwrap();
        assert!((collapsed.score - 1.0).abs() < 1e-6);
        assert!(collapsed.collapsed() && (collapsed.histogram[7] - 1.0).abs() < 1e-12);
        assert_eq!(Quality::judge(&[f32::NAN; 20], &features[..2 * FEATURES], &reference), None, "no NaN");
        assert_eq!(collapsed.line(), format!("score 1.00 fd {:.2} classes 1/10", collapsed.frechet));
        assert_eq!(quality.asked, None, "only a conditional model's digits are asked for");
    }

    #[test]
    fn a_conditional_models_digits_are_checked_against_the_digit_asked_for() {
        let features: Vec<f32> = (0..100 * FEATURES).map(|i| ((i * 7919) % 13) as f32).collect();
        let reference = Gaussian::of(&features).unwrap();
        // 100 digits read as 0 to 9 in turn; asked for 0 to 9 in turn, but every tenth for a 9.
        let read: Vec<f32> = (0..100).flat_map(|i| (0..CLASSES).map(move |c| if c == i % 10 { 0.9 } else { 0.01 })).collect();
        let asked: Vec<u8> = (0..100).map(|i| if i % 10 == 3 { 9 } else { (i % 10) as u8 }).collect();
        let quality = Quality::judge_asked(&read, &features, &reference, Some(&asked)).unwrap();
        assert!((quality.asked.unwrap() - 0.9).abs() < 1e-12, "{quality:?}");
        assert!(quality.line().ends_with("classes 10/10 read as asked 90.0 %"), "{}", quality.line());
        // Files of before the share was measured read as not measured.
        let old = r#"{"score": 9.0, "frechet": 1.0, "histogram": [0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]}"#;
        assert_eq!(serde_json::from_str::<Quality>(old).unwrap().asked, None);
    }
}
