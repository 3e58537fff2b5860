//! The history of a run's step reports, kept at bounded size for charts: when full, pairs of
//! neighbouring points are averaged into one, so a 100,000-step run still fits in `capacity`
//! points spread over the whole run.

use serde::{Deserialize, Serialize};

use crate::training::StepReport;

/// One chart point: the mean of the reports of a span of steps, ending at `step`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub step: u64,
    pub loss_d: f32,
    pub loss_g: f32,
    pub d_real: f32,
    pub d_fake_before: f32,
    pub d_fake_after: f32,
    /// How many steps this point stands for.
    pub steps: u32,
}

impl From<&StepReport> for MetricPoint {
    fn from(r: &StepReport) -> Self {
        Self {
            step: r.step,
            loss_d: r.loss_d,
            loss_g: r.loss_g,
            d_real: r.d_real,
            d_fake_before: r.d_fake_before,
            d_fake_after: r.d_fake_after,
            steps: 1,
        }
    }
}

impl MetricPoint {
    fn merge(a: &Self, b: &Self) -> Self {
        let (wa, wb) = (a.steps as f32, b.steps as f32);
        let mean = |x: f32, y: f32| (x * wa + y * wb) / (wa + wb);
        Self {
            step: b.step,
            loss_d: mean(a.loss_d, b.loss_d),
            loss_g: mean(a.loss_g, b.loss_g),
            d_real: mean(a.d_real, b.d_real),
            d_fake_before: mean(a.d_fake_before, b.d_fake_before),
            d_fake_after: mean(a.d_fake_after, b.d_fake_after),
            steps: a.steps + b.steps,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetricHistory {
    points: Vec<MetricPoint>,
    capacity: usize,
    /// Steps each new point stands for: doubles at every compaction.
    span: u32,
    /// Reports gathered for the next point when `span` > 1.
    pending: Option<MetricPoint>,
}

impl MetricHistory {
    /// `capacity` is rounded up to an even number of at least 2.
    pub fn new(capacity: usize) -> Self {
        Self { points: Vec::new(), capacity: capacity.max(2).next_multiple_of(2), span: 1, pending: None }
    }

    pub fn push(&mut self, report: &StepReport) {
        let point = MetricPoint::from(report);
        let point = match self.pending.take() {
            Some(pending) => MetricPoint::merge(&pending, &point),
            None => point,
        };
        if point.steps < self.span {
            self.pending = Some(point);
            return;
        }
        if self.points.len() == self.capacity {
            self.points = self.points.chunks(2).map(|p| MetricPoint::merge(&p[0], &p[1])).collect();
            self.span *= 2;
        }
        self.points.push(point);
    }

    pub fn points(&self) -> &[MetricPoint] {
        &self.points
    }

    pub fn clear(&mut self) {
        *self = Self::new(self.capacity);
    }

    /// The history as CSV, one row a point.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("step,loss_d,loss_g,d_x,d_g_z_before,d_g_z_after,steps_averaged\n");
        for p in &self.points {
            out += &format!(
                "{},{},{},{},{},{},{}\n",
                p.step, p.loss_d, p.loss_g, p.d_real, p.d_fake_before, p.d_fake_after, p.steps
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(step: u64) -> StepReport {
        StepReport { step, loss_d: step as f32, d_real: 0.5, ..Default::default() }
    }

    #[test]
    fn keeps_every_point_until_full() {
        let mut history = MetricHistory::new(8);
        for step in 1..=8 {
            history.push(&report(step));
        }
        assert_eq!(history.points().iter().map(|p| p.step).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    }

    #[test]
    fn stays_bounded_and_covers_the_whole_run() {
        let mut history = MetricHistory::new(100);
        for step in 1..=100_000 {
            history.push(&report(step));
        }
        let points = history.points();
        assert!(points.len() <= 100 && points.len() >= 50, "{}", points.len());
        // Points cover the run in order, each the mean of its span of steps.
        assert!(points.windows(2).all(|w| w[0].step < w[1].step));
        let covered: u64 = points.iter().map(|p| p.steps as u64).sum::<u64>();
        assert!(covered <= 100_000 && covered > 99_000, "{covered}");
        let first = points[0];
        let expected_mean = (1..=first.steps).map(|s| s as f32).sum::<f32>() / first.steps as f32;
        assert!((first.loss_d - expected_mean).abs() < 1e-2 * expected_mean, "{first:?}");
        assert_eq!(first.d_real, 0.5);
    }

    #[test]
    fn csv_has_a_header_and_a_row_a_point() {
        let mut history = MetricHistory::new(4);
        history.push(&report(1));
        history.push(&report(2));
        let csv = history.to_csv();
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "step,loss_d,loss_g,d_x,d_g_z_before,d_g_z_after,steps_averaged");
        assert_eq!(lines[2], "2,2,0,0.5,0,0,1");
    }
}
