//! The history of a run's step reports, kept at bounded size for charts: when full, pairs of
//! neighbouring points are averaged into one, so a 100,000-step run still fits in `capacity`
//! points spread over the whole run.

use serde::{Deserialize, Serialize};

use crate::training::StepReport;

/// One chart point: the mean of the reports of a span of steps, ending at `report.step`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub report: StepReport,
    /// How many steps this point stands for.
    pub steps: u32,
}

impl MetricPoint {
    fn merge(a: &Self, b: &Self) -> Self {
        let (wa, wb) = (a.steps as f32, b.steps as f32);
        let mean = |x: f32, y: f32| (x * wa + y * wb) / (wa + wb);
        let (x, y) = (&a.report, &b.report);
        Self {
            report: StepReport {
                step: y.step,
                loss_d: mean(x.loss_d, y.loss_d),
                loss_g: mean(x.loss_g, y.loss_g),
                d_real: mean(x.d_real, y.d_real),
                d_fake_before: mean(x.d_fake_before, y.d_fake_before),
                d_fake_after: mean(x.d_fake_after, y.d_fake_after),
            },
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
        let point = MetricPoint { report: *report, steps: 1 };
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

    /// Forgets what came after `step`, for a run that went back to it. A merged point that
    /// reaches past `step` goes too, so nothing shown comes from undone steps.
    pub fn keep_until(&mut self, step: u64) {
        self.points.retain(|p| p.report.step <= step);
        self.pending = None;
    }

    /// The history as CSV, one row a point.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("step,loss_d,loss_g,d_x,d_g_z_before,d_g_z_after,steps_averaged\n");
        for p in &self.points {
            let r = &p.report;
            out += &format!(
                "{},{},{},{},{},{},{}\n",
                r.step, r.loss_d, r.loss_g, r.d_real, r.d_fake_before, r.d_fake_after, p.steps
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
        assert_eq!(history.points().iter().map(|p| p.report.step).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
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
        assert!(points.windows(2).all(|w| w[0].report.step < w[1].report.step));
        let covered: u64 = points.iter().map(|p| p.steps as u64).sum::<u64>();
        assert!(covered <= 100_000 && covered > 99_000, "{covered}");
        let first = points[0];
        let expected_mean = (1..=first.steps).map(|s| s as f32).sum::<f32>() / first.steps as f32;
        assert!((first.report.loss_d - expected_mean).abs() < 1e-2 * expected_mean, "{first:?}");
        assert_eq!(first.report.d_real, 0.5);
    }

    #[test]
    fn going_back_keeps_the_history_up_to_that_step() {
        let mut history = MetricHistory::new(8);
        for step in 1..=20 {
            history.push(&report(step));
        }
        let before: Vec<u64> = history.points().iter().map(|p| p.report.step).collect();
        history.keep_until(12);
        let after: Vec<u64> = history.points().iter().map(|p| p.report.step).collect();
        assert_eq!(after, before.into_iter().filter(|&s| s <= 12).collect::<Vec<_>>());
        // Training goes on from there and the points stay in step order.
        for step in 13..=30 {
            history.push(&report(step));
        }
        assert!(history.points().windows(2).all(|w| w[0].report.step < w[1].report.step));
        assert!(history.points().len() <= 8);
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
