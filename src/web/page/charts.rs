//! The training curves: what D believes (D(x), D(G(z)) before and after G's update) and both
//! losses, as SVG line charts over the run's history.

use std::fmt::Write as _;

use leptos::prelude::*;

use super::signals::{PageState, run_id};
use crate::metrics::{MetricHistory, log_ticks, nice_ticks, tick_label};
use crate::model::Family;
use crate::training::LossKind;

/// Chart geometry, in the SVG's own units (it scales to its box).
const W: f32 = 420.0;
const H: f32 = 210.0;
const LEFT: f32 = 76.0;
const RIGHT: f32 = 10.0;
const TOP: f32 = 10.0;
const BOTTOM: f32 = 46.0;

/// One line of a chart: its name, colour, dash pattern ("" for solid) and which value of a row.
pub type Series = (&'static str, &'static str, &'static str, usize);

/// A chart's rows: a step and the values there (NaN where there is none: no point is drawn).
pub type Rows = Vec<(u64, Vec<f32>)>;

/// What a chart's axes show: round ticks for the values and the steps.
#[derive(Clone, Debug, PartialEq)]
struct ChartFrame {
    y_ticks: Vec<f64>,
    x_ticks: Vec<f64>,
    first: u64,
    last: u64,
}

impl ChartFrame {
    fn lo(&self) -> f32 {
        *self.y_ticks.first().unwrap_or(&0.0) as f32
    }

    fn hi(&self) -> f32 {
        *self.y_ticks.last().unwrap_or(&1.0) as f32
    }

    fn x(&self, step: f64) -> f32 {
        let span = self.last.saturating_sub(self.first).max(1) as f64;
        LEFT + ((step - self.first as f64) / span) as f32 * (W - LEFT - RIGHT)
    }

    fn y(&self, value: f32) -> f32 {
        let (lo, hi) = (self.lo(), self.hi());
        TOP + (hi - value) / (hi - lo).max(1e-9) * (H - TOP - BOTTOM)
    }

    /// `log`: the rows hold log10 of the values, and the ticks are round values on a log scale.
    /// `run`: the steps the run's curves span (from the run's step, for a run loaded without
    /// its curves), which the axis spans at least: a quality chart, with a point every few
    /// seconds (or none yet), lines up with the curves above it.
    fn frame(rows: &Rows, series: &[Series], fixed_range: Option<(f32, f32)>, log: bool, run: (u64, u64)) -> Self {
        let (lo, hi) = fixed_range.unwrap_or_else(|| {
            let values = rows.iter().flat_map(|(_, v)| series.iter().map(move |s| v.get(s.3).copied().unwrap_or(f32::NAN)));
            let (lo, hi) = values.filter(|v| v.is_finite()).fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
            match (lo > hi, log) {
                (true, _) => (0.0, 1.0),
                (false, false) => (lo.min(0.0), hi),
                (false, true) => (lo, hi),
            }
        });
        let (first, last) = (rows.first().map_or(run.0, |r| r.0.min(run.0)), rows.last().map_or(run.1, |r| r.0.max(run.1)));
        // Step ticks inside the run's span (the axis ends where the run does).
        let x_ticks = nice_ticks(first as f64, last.max(first + 1) as f64, 6)
            .into_iter()
            .filter(|&t| t >= first as f64 && t <= last.max(first + 1) as f64 && t.fract() == 0.0)
            .collect();
        let y_ticks = if log {
            log_ticks(10f64.powf(lo as f64), 10f64.powf(hi as f64), 7).into_iter().map(f64::log10).collect()
        } else {
            nice_ticks(lo as f64, hi as f64, 5)
        };
        Self { y_ticks, x_ticks, first, last: last.max(first + 1) }
    }
}

/// A log axis tick's label: 1, 20, 500, 0.2, 0.0005...
fn log_tick_label(value: f64) -> String {
    // As many decimals as the tick's first significant digit needs.
    let decimals = (-value.log10().floor()).max(0.0) as usize;
    let rounded = format!("{value:.decimals$}");
    if rounded.contains('.') { rounded.trim_end_matches('0').trim_end_matches('.').to_string() } else { rounded }
}

fn step_of(ticks: &[f64]) -> f64 {
    ticks.windows(2).next().map_or(1.0, |w| w[1] - w[0])
}

/// A line chart over steps: one polyline a series, fixed or fitted y range, round ticks, axis
/// titles, a marked step (a dashed line) when `marker` holds one, and a marked value (a
/// dashed level, labelled) when `level` holds one.
#[component]
pub fn LineChart(
    #[prop(into)] rows: Signal<Rows>,
    #[prop(into)] id: String,
    title: &'static str,
    /// What the values are, for the y axis.
    y_title: &'static str,
    explain: &'static str,
    series: Vec<Series>,
    fixed_range: Option<(f32, f32)>,
    #[prop(optional, into)] marker: Option<Signal<Option<(u64, &'static str)>>>,
    #[prop(optional, into)] level: Option<Signal<Option<(f32, String)>>>,
    /// A logarithmic value axis (for values that fall by orders of magnitude; only positive
    /// values are drawn).
    #[prop(optional)]
    log: bool,
) -> impl IntoView {
    // On a log axis the chart draws log10 of the values, and labels the ticks with the values.
    let rows: Signal<Rows> = if log {
        let logs = move |values: &Vec<f32>| values.iter().map(|&v| if v > 0.0 { v.log10() } else { f32::NAN }).collect();
        Memo::new(move |_| rows.with(|r| r.iter().map(|(step, values)| (*step, logs(values))).collect::<Rows>())).into()
    } else {
        rows
    };
    let shown = move |value: f32| if log { value.log10() } else { value };
    // The frame is worked out once an update; the lines are built once and only their points
    // change as training runs.
    let fitted = series.clone();
    let state = PageState::get();
    // Every chart spans the steps the run's curves do at least (a quality chart, whose points
    // come every few seconds, or none yet), or starts at the run's step (a run loaded without
    // curves).
    let run = Memo::new(move |_| {
        let step = state.run.with(|r| r.step);
        (state.charts.with(|c| c.points().first().map(|p| p.report.step)).unwrap_or(step).min(step), step)
    });
    let frame = Memo::new(move |_| rows.with(|r| ChartFrame::frame(r, &fitted, fixed_range, log, run.get())));
    let legend = series
        .iter()
        .map(|(name, color, dash, _)| {
            view! {
                <span class="legend-item">
                    <svg class="swatch" viewBox="0 0 24 6" aria-hidden="true">
                        <line x1="0" y1="3" x2="24" y2="3" stroke=*color stroke-width="3" stroke-dasharray=*dash></line>
                    </svg>
                    {*name}
                </span>
            }
        })
        .collect_view();
    let polylines = series
        .iter()
        .map(|&(name, color, dash, value)| {
            let points = move || {
                frame.with(|f| {
                    rows.with(|rows| {
                        let mut coords = String::with_capacity(rows.len() * 12);
                        for (step, values) in rows {
                            let v = values.get(value).copied().unwrap_or(f32::NAN);
                            if v.is_finite() {
                                let _ = write!(coords, "{:.1},{:.1} ", f.x(*step as f64), f.y(v.clamp(f.lo(), f.hi())));
                            }
                        }
                        coords
                    })
                })
            };
            // A line needs two points: a lone one (the first score of a run) is drawn as a dot.
            let lone = move || {
                frame.with(|f| {
                    rows.with(|rows| {
                        let mut finite = rows.iter().filter_map(|(step, values)| values.get(value).copied().filter(|v| v.is_finite()).map(|v| (*step, v)));
                        match (finite.next(), finite.next()) {
                            (Some((step, v)), None) => Some(view! {
                                <circle class="lone" cx=f.x(step as f64) cy=f.y(v.clamp(f.lo(), f.hi())) r="4" fill=color data-series=name></circle>
                            }),
                            _ => None,
                        }
                    })
                })
            };
            view! {
                <polyline points=points stroke=color stroke-dasharray=dash fill="none" stroke-width="2" data-series=name></polyline>
                {lone}
            }
        })
        .collect_view();
    let y_axis = move || {
        frame.with(|f| {
            let step = step_of(&f.y_ticks);
            f.y_ticks
                .iter()
                .map(|&t| {
                    let y = f.y(t as f32);
                    let label = if log { log_tick_label(10f64.powf(t)) } else { tick_label(t, step) };
                    view! {
                        <line class="grid" x1=LEFT y1=y x2=W - RIGHT y2=y></line>
                        <text class="tick" x=LEFT - 6.0 y=y text-anchor="end" dominant-baseline="central">{label}</text>
                    }
                })
                .collect_view()
        })
    };
    let x_axis = move || {
        frame.with(|f| {
            let step = step_of(&f.x_ticks);
            f.x_ticks
                .iter()
                .map(|&t| {
                    let x = f.x(t);
                    // A label centred on a tick near the right edge would run past it.
                    let anchor = if x > W - RIGHT - 30.0 { "end" } else { "middle" };
                    view! {
                        <line x1=x y1=H - BOTTOM x2=x y2=H - BOTTOM + 4.0></line>
                        <text class="tick" x=x y=H - BOTTOM + 7.0 text-anchor=anchor dominant-baseline="hanging">{tick_label(t, step)}</text>
                    }
                })
                .collect_view()
        })
    };
    let axes = view! {
        <g class="axes">
            <g class="y-ticks">{y_axis}</g>
            <g class="x-ticks">{x_axis}</g>
            <line x1=LEFT y1=H - BOTTOM x2=W - RIGHT y2=H - BOTTOM></line>
            <line x1=LEFT y1=TOP x2=LEFT y2=H - BOTTOM></line>
            <text class="title" x=(LEFT + W - RIGHT) / 2.0 y=H - 4.0 text-anchor="middle">"training step"</text>
            <text class="title" x="0" y="0" text-anchor="middle"
                transform=format!("translate(14 {}) rotate(-90)", (TOP + H - BOTTOM) / 2.0)>{y_title}</text>
        </g>
    };
    let mark = move || {
        let (step, label) = marker.and_then(|m| m.get())?;
        let x = frame.with(|f| f.x(step as f64));
        // The label on the side with room.
        let (label_x, anchor) = if x > (LEFT + W) / 2.0 { (x - 4.0, "end") } else { (x + 4.0, "start") };
        Some(view! {
            <g class="marker">
                <line x1=x y1=TOP x2=x y2=H - BOTTOM></line>
                <text x=label_x y=TOP + 14.0 text-anchor=anchor>{label}</text>
            </g>
        })
    };
    let level = move || {
        let (value, label) = level.and_then(|l| l.get())?;
        let value = shown(value);
        let y = frame.with(|f| (value >= f.lo() && value <= f.hi()).then(|| f.y(value)))?;
        // The label above its line, or under it where the line runs along the top.
        let (label_y, baseline) = if y - 5.0 < TOP + 16.0 { (y + 5.0, "hanging") } else { (y - 5.0, "auto") };
        Some(view! {
            <g class="level">
                <line x1=LEFT y1=y x2=W - RIGHT y2=y></line>
                <text x=W - RIGHT - 4.0 y=label_y text-anchor="end" dominant-baseline=baseline>{label}</text>
            </g>
        })
    };
    let count = move || rows.with(|r| r.len());
    // The steps the axis spans, as "first-last" (for tests).
    let steps = move || frame.with(|f| format!("{}-{}", f.first, f.last));
    view! {
        <figure class="chart" id=id>
            <figcaption><strong>{title}</strong><span class="legend">{legend}</span></figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title data-points=count data-steps=steps>{axes}{level}{polylines}{mark}</svg>
            <p class="explain">{explain}</p>
        </figure>
    }
}

/// The values of a step report the training charts show: `Measures::values`, in their order.
const LOSS_D: usize = 0;
const LOSS_G: usize = 1;
const D_REAL: usize = 2;
const D_FAKE_BEFORE: usize = 3;
const D_FAKE_AFTER: usize = 4;
const RECONSTRUCTION: usize = 0;
const KL: usize = 1;
const ELBO: usize = 2;

fn rows_of(history: &MetricHistory) -> Rows {
    history.points().iter().map(|p| (p.report.step, p.report.measures.values())).collect()
}

/// What the chart of D's beliefs shows, and where its curves settle in the default run of a
/// DCGAN or a conditional one (told the class, D finds real and drawn digits more alike).
fn belief_words(family: Family) -> &'static str {
    match family {
        Family::Cgan => "D(x): how real the discriminator finds real digits (1 = surely real). D(G(z)): how real it finds \
                         the generator's fakes, before and after G's update (dashed). Both start near 0.5, split as D learns first, \
                         then settle apart (about 0.6 and 0.3 in the default conditional run, closer than a DCGAN's) and stay there \
                         while the digits improve.",
        _ => "D(x): how real the discriminator finds real digits (1 = surely real). D(G(z)): how real it finds \
              the generator's fakes, before and after G's update (dashed). Both start near 0.5, split as D learns first, \
              then settle apart (about 0.85 and 0.2 in the default run) and stay there while the digits improve.",
    }
}

/// What the loss curves mean under `loss`.
fn loss_words(loss: LossKind) -> &'static str {
    match loss {
        LossKind::Hinge => "Each player's score of its own mistakes: lower is better for it. They fight, so when one wins \
                            the other's loss rises. With the hinge loss, G's loss is minus D's raw score for its digits, so it \
                            goes below zero when D finds them real-looking; D's stays at or above zero.",
        LossKind::Bce | LossKind::LeastSquares => "Each player's score of its own mistakes: lower is better for it. They fight, \
                            so when one wins the other's loss rises. Neither reaching zero is normal.",
    }
}

/// The run's curves, side by side: what D believes and the losses for a GAN; the ELBO and
/// its two terms for a VAE.
#[component]
pub fn Charts() -> impl IntoView {
    let state = PageState::get();
    let history = Memo::new(move |_| state.charts.with(rows_of));
    // Where mode collapse began, if it did.
    let collapse = Signal::derive(move || state.quality.with(|q| q.collapse.as_ref().map(|c| (c.step, "collapse"))));
    let shape = Memo::new(move |_| state.settings.with(|s| (s.model.family, s.train.loss)));
    move || match shape.get() {
        (family @ (Family::Dcgan | Family::Cgan), loss) => view! {
            <section class="charts" aria-label="Training curves">
                <LineChart rows=history marker=collapse id=run_id("chart-prob") title="What D believes" y_title="D's belief: real" fixed_range=Some((0.0, 1.0))
                    explain=belief_words(family)
                    // Okabe-Ito colours, told apart under colour blindness; "after" is dashed as well.
                    series=vec![
                        ("D(x)", "#0072b2", "", D_REAL),
                        ("D(G(z)) before", "#d55e00", "", D_FAKE_BEFORE),
                        ("D(G(z)) after", "#cc79a7", "7 4", D_FAKE_AFTER),
                    ]/>
                <LineChart rows=history marker=collapse id=run_id("chart-loss") title="Losses" y_title="loss" fixed_range=None
                    explain=loss_words(loss)
                    series=vec![
                        ("loss D", "#0072b2", "", LOSS_D),
                        ("loss G", "#d55e00", "7 4", LOSS_G),
                    ]/>
            </section>
        }
        .into_any(),
        (Family::Vae, _) => view! {
            <section class="charts" aria-label="Training curves">
                <LineChart rows=history id=run_id("chart-elbo") title="ELBO" y_title="nats a digit" fixed_range=None
                    explain="The evidence lower bound: how likely the VAE finds real digits, at least (higher is better). \
                             It climbs fast, then slowly for a long time."
                    series=vec![("ELBO", "#009e73", "", ELBO)]/>
                <LineChart rows=history id=run_id("chart-terms") title="Its two terms" y_title="nats a digit" fixed_range=None
                    explain="Reconstruction: how far the decoded digit is from the digit the encoder saw. KL: how far the \
                             encoder's codes are from the N(0, 1) that sampling draws z from. The VAE trades one against the other."
                    series=vec![
                        ("reconstruction", "#0072b2", "", RECONSTRUCTION),
                        ("KL", "#d55e00", "7 4", KL),
                    ]/>
            </section>
        }
        .into_any(),
    }
}
