//! The quality panel: what a digit classifier makes of 500 digits G draws from fixed latent
//! vectors, every few seconds of training. The classifier score and the Fréchet distance as
//! curves, the ten classes as bars, and the mode-collapse alarm with the way back.

use leptos::prelude::*;

use super::charts::{LineChart, Rows};
use super::signals::{PageState, run_id};
use crate::classifier::CLASSES;
use crate::model::Family;
use crate::quality::{COVERED_SHARE, Reference};

const SCORE: usize = 0;
const FRECHET: usize = 1;

/// The shipped generators' quality, as the page scores a run, once fetched: the panel's
/// reference line (a scale for a run's score), from the generator shipped for the run's model
/// family. Without its file the panel goes without it.
#[derive(Clone, Copy)]
pub struct PretrainedQuality(RwSignal<Vec<Reference>>);

impl PretrainedQuality {
    /// Fetched once for the page (both runs of a comparison read it).
    pub fn fetch() -> Self {
        let references = RwSignal::new(Vec::new());
        leptos::task::spawn_local(async move {
            for family in Family::ALL {
                let path = format!("{}/quality.json", crate::checkpoint::shipped_folder(family));
                match crate::web::files::fetch_text(&path).await.and_then(|text| serde_json::from_str::<Reference>(&text).map_err(|e| e.to_string())) {
                    Ok(found) if found.family == family => references.update(|r| r.push(found)),
                    Ok(_) => leptos::logging::warn!("no {} reference line in the quality panel: {path} is of another model", family.title()),
                    Err(why) => leptos::logging::warn!("no {} reference line in the quality panel: {path}: {why}", family.title()),
                }
            }
        });
        Self(references)
    }
}

/// The panel's explanations for a model family: the score's, the distance's, the bars' label
/// and the bars'. A VAE's digits are its decoder's.
fn words(family: Family) -> [&'static str; 4] {
    match family {
        Family::Vae => [
            "How clearly the decoder's digits read as digits, and how evenly the ten kinds come: 10 is perfect; 1 is noise, or one digit only.",
            "How far the decoder's digits are from real ones it never trained on, as the classifier sees them: lower is better, 0 is indistinguishable. \
             The scale is logarithmic: a fall from 500 to 50 looks as big as one from 50 to 5.",
            "How many of the decoder's digits the classifier reads as each digit",
            "Which digits the decoder draws from random z, as the classifier reads 500 of them. Even bars: every digit is drawn. \
             Early blurry digits read as a few kinds; the bars even out as the VAE learns, and it does not collapse as a GAN can: \
             it is trained to redraw every digit. An orange bar: a digit under 3 % of them, not counted as drawn.",
        ],
        Family::Dcgan | Family::Cgan => [
            "How clearly G's digits read as digits, and how evenly the ten kinds come: 10 is perfect; 1 is noise, or one digit only.",
            "How far G's digits are from real ones it never trained on, as the classifier sees them: lower is better, 0 is indistinguishable. \
             The scale is logarithmic: a fall from 500 to 50 looks as big as one from 50 to 5.",
            "How many of G's digits the classifier reads as each digit",
            "Which digits G draws, as the classifier reads 500 of them. Even bars: every digit is drawn. \
             A few tall bars: G has collapsed onto a few digits (mode collapse). An orange bar: a digit under 3 % of them, \
             not counted as drawn.",
        ],
    }
}

/// A number, or "—" where the classifier could not say.
fn shown(value: Option<f64>, decimals: usize) -> String {
    value.filter(|v| v.is_finite()).map_or("—".to_string(), |v| format!("{v:.decimals$}"))
}

/// The mode-collapse alarm, with the way back to the last snapshot before it: in the quality
/// panel, or in presenter mode (which folds the panel away) among the run's messages.
#[component]
pub fn CollapseAlarm() -> impl IntoView {
    let state = PageState::get();
    let collapse = Memo::new(move |_| state.quality.with(|q| q.collapse.clone()));
    move || {
        collapse.get().map(|c| {
            let back = c.snapshot_before;
            let family = state.settings.with_untracked(|s| s.model.family);
            // Beside another run, which run collapsed (the compared one's column says it).
            let whose = state.follower().is_some().then(|| view! { <p><b>{format!("The {} run", family.title())}</b></p> });
            view! {
                <div id=run_id("collapse-alarm") class="error" role="alert">
                    {whose}
                    <p>{c.message(family)}</p>
                    {back.map(|steps| view! {
                        <button id=run_id("collapse-go-back") class="secondary" on:click=move |_| state.update(|p| p.go_back(steps))>
                            {format!("Go back to step {steps}")}
                        </button>
                    })}
                </div>
            }
        })
    }
}

#[component]
pub fn QualityPanel() -> impl IntoView {
    let state = PageState::get();
    let quality = state.quality;
    let unavailable = Memo::new(move |_| quality.with(|q| q.unavailable.clone()));
    let rows = Memo::new(move |_| {
        quality.with(|q| {
            q.history
                .points()
                .iter()
                .map(|(step, q)| (*step, q.as_ref().map_or(vec![f32::NAN; 2], |q| vec![q.score as f32, q.frechet as f32])))
                .collect::<Rows>()
        })
    });
    let latest = Memo::new(move |_| quality.with(|q| q.history.latest().and_then(|(_, q)| q.clone())));
    let collapse = Memo::new(move |_| quality.with(|q| q.collapse.clone()));
    let marker = Signal::derive(move || collapse.get().map(|c| (c.step, "collapse")));
    let bars = move || {
        let histogram = latest.get().map(|q| q.histogram);
        (0..CLASSES)
            .map(|digit| {
                let share = histogram.map_or(0.0, |h| h[digit]);
                let low = histogram.is_some() && share <= COVERED_SHARE;
                view! {
                    <div class="bar" class:low=low title=format!("{digit}: {:.1} %", share * 100.0)>
                        <span class="fill" style=format!("height:{:.1}%", (share * 100.0 * 4.0).min(100.0))></span>
                        <span class="digit">{digit}</span>
                    </div>
                }
            })
            .collect_view()
    };
    let family = Memo::new(move |_| state.settings.with(|s| s.model.family));
    let pretrained = use_context::<PretrainedQuality>().map(|p| p.0);
    let reference = Memo::new(move |_| pretrained.and_then(|p| p.with(|all| all.iter().find(|r| r.family == family.get()).cloned())));
    let level = Signal::derive(move || reference.get().map(|r| (r.quality.score as f32, format!("pretrained {:.1}", r.quality.score))));
    let scale = move || {
        reference.get().map(|r| {
            view! {
                <p id=run_id("quality-reference") class="explain">{format!(
                    "For scale, the dashed line: the {} shipped with this page, trained for {} steps, scores {:.2} (Fréchet \
                     distance {:.1}); real digits it never trained on score {:.2}.",
                    r.family.title(), crate::metrics::thousands(r.steps), r.quality.score, r.quality.frechet, r.real_score
                )}</p>
            }
        })
    };
    let panel = move || {
        let [score_words, distance_words, bars_label, bars_words] = words(family.get());
        if let Some(why) = unavailable.get() {
            return view! { <p id=run_id("quality-unavailable") class="explain">{format!("No quality scores: {why}. Training goes on.")}</p> }
                .into_any();
        }
        view! {
            <div class="quality-numbers" aria-live="polite">
                <span>"classifier score "<b id=run_id("quality-score")>{move || shown(latest.get().map(|q| q.score), 2)}</b>" / 10"</span>
                <span>"Fréchet distance "<b id=run_id("quality-fd")>{move || shown(latest.get().map(|q| q.frechet), 1)}</b></span>
                <span>"digits drawn "<b id=run_id("quality-classes")>{move || latest.get().map_or("—".to_string(), |q| q.classes_drawn().to_string())}</b>" / 10"</span>
                // A conditional model's: does it draw the digit it is asked for?
                {move || (family.get() == Family::Cgan).then(|| view! {
                    <span title="Of the 500 digits, drawn 0 to 9 in turn, the share the classifier reads as the digit asked for">
                        "read as the digit asked for "<b id=run_id("quality-asked")>{move || shown(latest.get().and_then(|q| q.asked).map(|a| a * 100.0), 0)}</b>" %"
                    </span>
                })}
            </div>
            {scale}
            // In presenter mode the panel folds away, and the alarm is among the messages.
            {move || (!state.presenter.get()).then(|| view! { <CollapseAlarm/> })}
            <div class="quality-charts">
                <LineChart rows=rows marker=marker level=level id=run_id("chart-score") title="Classifier score" y_title="score" fixed_range=Some((0.0, 10.0))
                    explain=score_words
                    series=vec![("score", "#009e73", "", SCORE)]/>
                // From hundreds to tens and below: a log scale keeps the late gains in sight.
                <LineChart rows=rows marker=marker id=run_id("chart-fd") title="Fréchet distance" y_title="distance (log)" fixed_range=None log=true
                    explain=distance_words
                    series=vec![("distance", "#cc79a7", "", FRECHET)]/>
            </div>
            <div id=run_id("histogram") class="histogram" role="img" aria-label=bars_label>{bars}</div>
            <p class="explain">{bars_words}</p>
        }
        .into_any()
    };
    view! {
        <section class="quality" id=run_id("quality") aria-label="How good the digits are"
            data-cost-ms=move || quality.with(|q| format!("{:.0}", q.cost_ms)) data-points=move || quality.with(|q| q.history.points().len())>
            <h2>"How good are the digits?"</h2>
            {panel}
        </section>
    }
}
