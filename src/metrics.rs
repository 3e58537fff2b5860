//! The history of a run's step reports, kept at bounded size for charts: when full, pairs of
//! neighbouring points are averaged into one, so a 100,000-step run still fits in `capacity`
//! points spread over the whole run.

use serde::{Deserialize, Serialize};

use crate::model::Family;
use crate::quality::{Quality, QualityHistory};
use crate::training::{Measures, StepReport};

/// Chart points a run keeps (older ones are merged pairwise, see `MetricHistory`).
pub const CHART_POINTS: usize = 600;
/// Curves as JSON larger than this are not read (a run's are a few hundred KB).
pub const MAX_CURVES_BYTES: usize = 4 << 20;

/// A run's curves as the page draws them: its step reports and its quality scores. They travel
/// with the run: kept in the browser with it, and in a saved weights file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    pub charts: MetricHistory,
    pub quality: QualityHistory,
}

impl Curves {
    pub fn new() -> Self {
        Self { charts: MetricHistory::new(CHART_POINTS), quality: QualityHistory::default() }
    }

    /// Curves as a run of `family` makes them (`CHART_POINTS` chart points at most, steps
    /// rising, every point of that family): ones read from a file or from storage are used
    /// only if they are.
    pub fn is_sound_for(&self, family: Family) -> bool {
        self.charts.is_sound()
            && self.charts.capacity == CHART_POINTS
            && self.charts.rows().all(|p| p.report.measures.are_of(family))
            && self.quality.is_sound()
    }

    /// Curves read from a file or from storage (JSON), up to `step`: `None` unless they are as
    /// a run of `family` makes them (see `until`) and at most `MAX_CURVES_BYTES` long.
    pub fn read(json: &[u8], step: u64, family: Family) -> Option<Self> {
        // (Checked before parsing: a crafted file must not make the page parse 256 MB.)
        if json.len() > MAX_CURVES_BYTES {
            return None;
        }
        serde_json::from_slice::<Self>(json).ok()?.until(step, family)
    }

    /// The curves up to `step`, if they are as a run of `family` makes them.
    pub fn until(mut self, step: u64, family: Family) -> Option<Self> {
        self.keep_until(step);
        self.is_sound_for(family).then_some(self)
    }

    /// Forgets what came after `step`.
    pub fn keep_until(&mut self, step: u64) {
        self.charts.keep_until(step);
        self.quality.keep_until(step);
    }

    /// Adds the reports of `reports` and the scores of `scores` (each in order) that come after
    /// the last of each the curves hold: what a run sent after the curves were sent to it. A
    /// score of the curves' last scored step replaces theirs (the run scored again, paused).
    pub fn catch_up(&mut self, reports: &[StepReport], scores: &[(u64, Option<Quality>)]) {
        let last = self.charts.last_step();
        reports.iter().filter(|r| last.is_none_or(|last| r.step > last)).for_each(|r| self.charts.push(r));
        let last = self.quality.latest().map(|(step, _)| *step);
        for (step, quality) in scores.iter().filter(|(step, _)| last.is_none_or(|last| *step >= last)) {
            self.quality.push(*step, quality.clone());
        }
    }
}

impl Default for Curves {
    fn default() -> Self {
        Self::new()
    }
}

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
        let (x, y) = (&a.report.measures, &b.report.measures);
        // A run keeps its family, so both points measure the same things (if not, the later
        // point stands alone).
        if x.family() != y.family() {
            return *b;
        }
        let values: Vec<f32> = x.values().iter().zip(y.values()).map(|(&x, y)| mean(x, y)).collect();
        Self {
            report: StepReport { step: b.report.step, measures: Measures::from_values(y.family(), &values) },
            steps: a.steps + b.steps,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
        self.pending = self.pending.filter(|p| p.report.step <= step);
    }

    /// A history as this page makes them: an even capacity, no more points than that, a span
    /// that is a power of two. One read from storage is used only if it is.
    pub fn is_sound(&self) -> bool {
        self.capacity >= 2
            && self.capacity.is_multiple_of(2)
            && self.points.len() <= self.capacity
            && self.span.is_power_of_two()
            && self.pending.is_none_or(|p| p.steps < self.span)
            && self.rows().zip(self.rows().skip(1)).all(|(a, b)| a.report.step < b.report.step)
    }

    /// The first step the history stands for (`None`: it is empty).
    pub fn first_step(&self) -> Option<u64> {
        self.rows().next().map(|p| (p.report.step + 1).saturating_sub(p.steps as u64))
    }

    /// The last step the history stands for (`None`: it is empty).
    pub fn last_step(&self) -> Option<u64> {
        self.rows().last().map(|p| p.report.step)
    }

    /// The points, and the steps gathered for the next one (fewer than a point's span): every
    /// step reported, up to the last.
    fn rows(&self) -> impl Iterator<Item = &MetricPoint> {
        self.points.iter().chain(self.pending.as_ref())
    }

    /// The history as CSV, one row a point, with the quality scores taken during each row's
    /// steps (empty where none was).
    pub fn to_csv_with(&self, quality: &crate::quality::QualityHistory) -> String {
        let mut out = String::new();
        let mut after = None;
        // A conditional model's scores also say how many digits read as the one asked for.
        let asked = quality.points().iter().any(|(_, q)| q.as_ref().is_some_and(|q| q.asked.is_some()));
        for (line, p) in self.to_csv().lines().zip(std::iter::once(None).chain(self.rows().map(Some))) {
            let extra = match p {
                None if asked => "score,frechet_distance,classes_drawn,read_as_asked".to_string(),
                None => "score,frechet_distance,classes_drawn".to_string(),
                Some(p) => {
                    let cell = quality.within(after, p.report.step).and_then(|(_, q)| q.as_ref());
                    after = Some(p.report.step);
                    let cells = cell.map_or(",,".to_string(), |q| format!("{:.4},{:.4},{}", q.score, q.frechet, q.classes_drawn()));
                    match (asked, cell.and_then(|q| q.asked)) {
                        (false, _) => cells,
                        (true, Some(share)) => format!("{cells},{share:.4}"),
                        (true, None) => format!("{cells},"),
                    }
                }
            };
            out += &format!("{line},{extra}\n");
        }
        out
    }

    /// The history as CSV, one row a point, with the columns of the run's family.
    pub fn to_csv(&self) -> String {
        let family = self.rows().next().map_or(Default::default(), |p| p.report.measures.family());
        let mut out = format!("step,{},steps_averaged\n", Measures::names(family).join(","));
        for p in self.rows() {
            let values: Vec<String> = p.report.measures.values().iter().map(f32::to_string).collect();
            out += &format!("{},{},{}\n", p.report.step, values.join(","), p.steps);
        }
        out
    }
}

/// Axis ticks at round values: 1, 2, 2.5 or 5 times a power of ten apart, at most `most` of
/// them, covering `lo..=hi`. The axis runs from the first tick to the last.
pub fn nice_ticks(lo: f64, hi: f64, most: usize) -> Vec<f64> {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() { (lo.min(hi), lo.max(hi)) } else { (0.0, 1.0) };
    if hi - lo < 1e-9 {
        // A flat line still gets an axis around it.
        let pad = lo.abs().max(1.0) * 0.05;
        (lo, hi) = (lo - pad, hi + pad);
    }
    let span = hi - lo;
    let rough = span / most.max(2).saturating_sub(1) as f64;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| (span / s).ceil() as usize + 1 <= most)
        .unwrap_or(10.0 * power);
    let first = (lo / step + 1e-9).floor() * step;
    let last = (hi / step - 1e-9).ceil() * step;
    let count = ((last - first) / step).round() as usize;
    // Rounded finer than the step, so labels read 0.6 and not 0.6000000000000001.
    let scale = if power < 1.0 { (1000.0 / power).round() } else { 1000.0 };
    (0..=count).map(|i| ((first + i as f64 * step) * scale).round() / scale).collect()
}

/// A count with its thousands grouped: 8000 as "8,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Ticks of a logarithmic axis covering `lo..=hi` (positive values): 1, 2 and 5 times powers
/// of ten, or only the powers of ten where those would be more than `most`. The axis runs from
/// the first tick to the last.
pub fn log_ticks(lo: f64, hi: f64, most: usize) -> Vec<f64> {
    let (lo, hi) = if lo > 0.0 && hi > 0.0 && hi.is_finite() && lo.is_finite() { (lo.min(hi), lo.max(hi)) } else { (1.0, 10.0) };
    let (low, high) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let around = |marks: &[f64]| {
        let all: Vec<f64> = (low..=high).flat_map(|p| marks.iter().map(move |m| m * 10f64.powi(p))).collect();
        // The last mark at or below `lo` and the first at or above `hi`, and those between.
        // (Values come through an f32 logarithm and back: a mark within 1e-5 counts as reached.)
        let first = all.iter().rposition(|&t| t <= lo * (1.0 + 1e-5)).unwrap_or(0);
        let last = all.iter().position(|&t| t >= hi * (1.0 - 1e-5)).unwrap_or(all.len() - 1);
        all[first..=last.max(first + 1).min(all.len() - 1)].to_vec()
    };
    let fine = around(&[1.0, 2.0, 5.0]);
    if fine.len() <= most { fine } else { around(&[1.0]) }
}

/// A tick's label, with as many decimals as the ticks' `step` needs (0.25 steps: "0.50").
pub fn tick_label(value: f64, step: f64) -> String {
    let decimals = (0..6).find(|&d| {
        let scaled = step * 10f64.powi(d as i32);
        (scaled - scaled.round()).abs() < 1e-6
    });
    format!("{value:.*}", decimals.unwrap_or(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        let grouped: Vec<String> = [0, 999, 1000, 8000, 1234567].into_iter().map(thousands).collect();
        assert_eq!(grouped, ["0", "999", "1,000", "8,000", "1,234,567"]);
    }

    #[test]
    fn log_ticks_cover_the_range_on_round_values() {
        assert_eq!(log_ticks(11.0, 600.0, 7), [10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]);
        assert_eq!(log_ticks(3.0, 1900.0, 7), [1.0, 10.0, 100.0, 1000.0, 10000.0]);
        assert_eq!(log_ticks(12.0, 18.0, 7), [10.0, 20.0]);
        assert_eq!(log_ticks(20.0, 20.0, 7), [20.0, 50.0], "a flat line still gets an axis");
        assert_eq!(log_ticks(0.0, 5.0, 7), [1.0, 2.0, 5.0, 10.0], "no axis below zero: a default one");
        assert_eq!(log_ticks(0.001, -1.0, 7), [1.0, 2.0, 5.0, 10.0]);
        assert_eq!(log_ticks(10f64.powf(50f32.log10() as f64), 500.0, 7), [50.0, 100.0, 200.0, 500.0], "through f32 and back");
    }

    #[test]
    fn ticks_fall_on_round_values_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0, 6), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0]);
        let ticks = nice_ticks(0.66, 0.69, 5);
        assert!(ticks.first().unwrap() <= &0.66 && ticks.last().unwrap() >= &0.69 && ticks.len() <= 5, "{ticks:?}");
        assert_eq!(nice_ticks(1.0, 2437.0, 6), [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0]);
        assert_eq!(nice_ticks(0.0, 3.7, 5), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(nice_ticks(5.0, 5.0, 5).len() >= 2, true, "a flat line still gets an axis");
        assert_eq!(tick_label(0.25, 0.25), "0.25");
        assert_eq!(tick_label(0.5, 0.25), "0.50");
        assert_eq!(tick_label(0.4, 0.2), "0.4");
        assert_eq!(tick_label(1500.0, 500.0), "1500");
        assert_eq!(tick_label(0.01, 0.01), "0.01");
    }

    fn report(step: u64) -> StepReport {
        StepReport::gan(step, step as f32, 0.0, 0.5, 0.0, 0.0)
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
        let values = first.report.measures.values();
        assert!((values[0] - expected_mean).abs() < 1e-2 * expected_mean, "{first:?}");
        assert_eq!(values[2], 0.5);
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

        let mut vae = MetricHistory::new(4);
        vae.push(&StepReport { step: 1, measures: Measures::Vae { reconstruction: 180.0, kl: 20.0 } });
        assert_eq!(vae.to_csv(), "step,reconstruction,kl,elbo,steps_averaged\n1,180,20,-200,1\n");
    }

    #[test]
    fn a_conditional_runs_csv_says_how_many_digits_read_as_asked() {
        let mut history = MetricHistory::new(8);
        (1..=3).for_each(|step| history.push(&report(step)));
        let quality = |asked| crate::quality::Quality { score: 8.0, frechet: 2.0, histogram: [0.1; 10], asked };
        let mut scores = crate::quality::QualityHistory::default();
        scores.push(2, Some(quality(Some(0.875))));
        let csv = history.to_csv_with(&scores);
        let lines: Vec<_> = csv.lines().collect();
        assert!(lines[0].ends_with(",score,frechet_distance,classes_drawn,read_as_asked"), "{csv}");
        assert!(lines[2].ends_with(",8.0000,2.0000,10,0.8750") && lines[3].ends_with(",,,,"), "{csv}");
        // An unconditional run's has no such column.
        let mut plain = crate::quality::QualityHistory::default();
        plain.push(2, Some(quality(None)));
        assert!(history.to_csv_with(&plain).lines().next().unwrap().ends_with(",classes_drawn"));
    }

    #[test]
    fn going_back_to_the_last_step_keeps_its_unfinished_point() {
        let mut history = MetricHistory::new(4);
        (1..=11).for_each(|step| history.push(&report(step)));
        let all = history.to_csv();
        history.keep_until(11);
        assert_eq!(history.to_csv(), all, "nothing after step 11 to forget");
        history.keep_until(10);
        assert!(history.to_csv().lines().last().unwrap().starts_with("9,"), "the point of steps 10 and 11 goes whole");
        assert!(history.is_sound());
        let odd: MetricHistory = serde_json::from_str(r#"{"points": [], "capacity": 3, "span": 1, "pending": null}"#).unwrap();
        assert!(!odd.is_sound());
    }

    #[test]
    fn curves_catch_up_with_the_steps_taken_after_they_were_sent() {
        let mut curves = Curves::new();
        assert_eq!(curves.charts.first_step(), None);
        (1..=3).for_each(|step| curves.charts.push(&report(step)));
        curves.quality.push(1, None);
        curves.quality.push(2, None);
        let sent: Vec<_> = (1..=6).map(report).collect();
        // The worker sent scores at steps 1 and 2 before the curves left the page, scored step 2
        // again, then step 5.
        let scored = Quality { score: 8.0, frechet: 2.0, histogram: [0.1; 10], asked: None };
        curves.catch_up(&sent, &[(1, Some(scored.clone())), (2, None), (2, Some(scored.clone())), (5, None)]);
        assert_eq!(curves.charts.points().iter().map(|p| p.report.step).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(curves.quality.points().iter().map(|(step, q)| (*step, q.is_some())).collect::<Vec<_>>(), [(1, false), (2, true), (5, false)]);
        assert_eq!((curves.charts.first_step(), curves.charts.last_step()), (Some(1), Some(6)));
        // Curves that begin later (a run loaded from a file without them at step 40).
        let mut later = Curves::new();
        later.catch_up(&(41..=43).map(report).collect::<Vec<_>>(), &[]);
        assert_eq!(later.charts.first_step(), Some(41));
        assert!(later.is_sound_for(Family::Dcgan) && later.is_sound_for(Family::Cgan) && !later.is_sound_for(Family::Vae));
    }

    #[test]
    fn csv_reaches_the_last_step_though_its_point_is_not_full() {
        let mut history = MetricHistory::new(4);
        (1..=11).for_each(|step| history.push(&report(step)));
        // Points of 4 steps by now: the last steps wait for the rest of theirs.
        assert!(history.points().last().unwrap().report.step < 11);
        let csv = history.to_csv();
        let last = csv.lines().last().unwrap();
        assert!(last.starts_with("11,"), "{csv}");
        let steps: u32 = csv.lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse::<u32>().unwrap()).sum();
        assert_eq!(steps, 11, "every step in exactly one row: {csv}");
    }
}
