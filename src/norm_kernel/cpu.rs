//! The batch-norm operations on the CPU, over contiguous f32 activations [total, c, h, w]:
//! each is one pass (the statistics two) over each channel's planes, where burn's operations
//! take a pass, and an allocation, for every step of the formula.

/// The layout of activations [batches * batch, channels, pixels] (images of a batch next to
/// each other, a channel's pixels contiguous in each image).
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    pub batches: usize,
    pub batch: usize,
    pub channels: usize,
    pub pixels: usize,
}

impl Layout {
    /// The planes (one image's pixels of channel c) of batch g, with their offsets.
    fn planes(self, g: usize, c: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
        (g * self.batch..(g + 1) * self.batch).map(move |image| {
            let at = (image * self.channels + c) * self.pixels;
            at..at + self.pixels
        })
    }

    /// Entry (g, c) of a [2, batches, c] pair: its two offsets.
    fn pair(self, g: usize, c: usize) -> (usize, usize) {
        let at = g * self.channels + c;
        (at, self.batches * self.channels + at)
    }

    fn count(self) -> f64 {
        (self.batch * self.pixels) as f64
    }

    /// Every (batch, channel) with its planes.
    fn each(self) -> impl Iterator<Item = (usize, usize)> {
        (0..self.batches).flat_map(move |g| (0..self.channels).map(move |c| (g, c)))
    }
}

/// The sum of f over pairs of entries of a and b (of one length), in eight lanes (which the
/// compiler keeps in SIMD registers), added up in f64.
fn lanes(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let mut acc = [0f32; 8];
    let (chunks_a, chunks_b) = (a.chunks_exact(8), b.chunks_exact(8));
    let rest: f32 = chunks_a.remainder().iter().zip(chunks_b.remainder()).map(|(&x, &y)| f(x, y)).sum();
    for (x, y) in chunks_a.zip(chunks_b) {
        for lane in 0..8 {
            acc[lane] += f(x[lane], y[lane]);
        }
    }
    acc.iter().map(|&v| v as f64).sum::<f64>() + rest as f64
}

/// [2, batches, c]: each batch's mean and biased variance per channel, in two passes.
pub(super) fn statistics(x: &[f32], layout: Layout) -> Vec<f32> {
    let mut out = vec![0.0; 2 * layout.batches * layout.channels];
    for (g, c) in layout.each() {
        let mean = layout.planes(g, c).map(|plane| lanes(&x[plane.clone()], &x[plane], |v, _| v)).sum::<f64>() / layout.count();
        let m = mean as f32;
        let squares = |plane: std::ops::Range<usize>| lanes(&x[plane.clone()], &x[plane], |v, _| (v - m) * (v - m));
        let variance = layout.planes(g, c).map(squares).sum::<f64>() / layout.count();
        let (first, second) = layout.pair(g, c);
        out[first] = m;
        out[second] = variance as f32;
    }
    out
}

/// [2, batches + 1, c]: the sums of grad and of grad times x̂ = (x - mean) / σ over each
/// batch's images and pixels, then over every batch.
pub(super) fn grad_sums(x: &[f32], grad: &[f32], statistics: &[f32], epsilon: f64, layout: Layout) -> Vec<f32> {
    let rows = layout.batches + 1;
    let mut out = vec![0.0; 2 * rows * layout.channels];
    for (g, c) in layout.each() {
        let mean = statistics[layout.pair(g, c).0];
        let (mut grad_sum, mut along) = (0.0, 0.0);
        for plane in layout.planes(g, c) {
            let (x, grad) = (&x[plane.clone()], &grad[plane]);
            grad_sum += lanes(grad, grad, |g, _| g);
            along += lanes(grad, x, |g, x| g * (x - mean));
        }
        let along = along * inverse_deviation(statistics, layout, g, c, epsilon);
        for (row, value) in [(g, grad_sum), (layout.batches, grad_sum), (rows + g, along), (rows + layout.batches, along)] {
            out[row * layout.channels + c] += value as f32;
        }
    }
    out
}

/// 1 / sqrt(variance + epsilon) of entry (g, c).
fn inverse_deviation(statistics: &[f32], layout: Layout, g: usize, c: usize, epsilon: f64) -> f64 {
    1.0 / (statistics[layout.pair(g, c).1] as f64 + epsilon).sqrt()
}

/// x normalised with `statistics`, scaled by gamma [c] and shifted by beta [c].
pub(super) fn normalize(x: &[f32], gamma: &[f32], beta: &[f32], statistics: &[f32], epsilon: f64, layout: Layout) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for (g, c) in layout.each() {
        let mean = statistics[layout.pair(g, c).0];
        let scale = (gamma[c] as f64 * inverse_deviation(statistics, layout, g, c, epsilon)) as f32;
        for plane in layout.planes(g, c) {
            for (y, &x) in out[plane.clone()].iter_mut().zip(&x[plane]) {
                *y = (x - mean) * scale + beta[c];
            }
        }
    }
    out
}

/// The gradient of x: γ / σ (grad - Σ grad / N - x̂ Σ grad x̂ / N), with x̂ = (x - mean) / σ,
/// from the `sums` of `grad_sums`.
pub(super) fn input_grad(x: &[f32], grad: &[f32], gamma: &[f32], statistics: &[f32], sums: &[f32], epsilon: f64, layout: Layout) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    let rows = layout.batches + 1;
    for (g, c) in layout.each() {
        let inverse = inverse_deviation(statistics, layout, g, c, epsilon);
        let scale = gamma[c] as f64 * inverse;
        // grad * scale - (x - mean) * slope - offset
        let slope = (scale * inverse * sums[(rows + g) * layout.channels + c] as f64 / layout.count()) as f32;
        let offset = (scale * sums[g * layout.channels + c] as f64 / layout.count()) as f32;
        let (mean, scale) = (statistics[layout.pair(g, c).0], scale as f32);
        for plane in layout.planes(g, c) {
            for ((out, &x), &grad) in out[plane.clone()].iter_mut().zip(&x[plane.clone()]).zip(&grad[plane]) {
                *out = grad * scale - (x - mean) * slope - offset;
            }
        }
    }
    out
}
