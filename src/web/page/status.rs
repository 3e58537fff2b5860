//! The top of the page: the title, the status line (backend and why, step, speed), the
//! presenter and help buttons, and the messages under it.

use leptos::prelude::*;

use super::signals::{PageState, run_id};

/// The header. `compare`: two runs share the page, each at its own step and speed, which its
/// column's title shows instead.
#[component]
pub fn StatusBar(#[prop(optional)] compare: bool) -> impl IntoView {
    let state = PageState::get();
    let (backend, presenter) = (state.backend, state.presenter);
    let step = Memo::new(move |_| state.run.with(|r| r.step));
    let kernels = Memo::new(move |_| state.run.with(|r| r.kernels));
    let convolutions = Memo::new(move |_| state.run.with(|r| r.convolutions.clone()));
    // What a screen reader is told: training starts, or the step it is paused at (after a
    // pause, a single step, a load or a rebuild). The counters, which change several times a
    // second while training, are not announced.
    let paused_at = Memo::new(move |_| state.run.with(|r| (!r.running).then_some(r.step)));
    let spoken = move || match paused_at.get() {
        None => "Training.".to_string(),
        Some(0) => "Not started.".to_string(),
        // Two runs stop at steps of their own, which their columns say.
        Some(_) if compare => "Paused.".to_string(),
        Some(step) => format!("Paused at step {step}."),
    };
    view! {
        <header>
            <h1>"ganplay"</h1>
            <p class="tagline">"Watch a generator learn to draw digits, on your own machine."</p>
            <div id="status">
                <span class="visually-hidden" role="status">{spoken}</span>
                // Plain words; the technical name on hover, with the convolutions a GPU chose.
                <span id="backend" aria-live="polite" data-gpu=move || backend.with(|b| b.as_ref().map(|b| b.on_gpu.to_string()))
                    data-convolutions=move || convolutions.get()
                    title=move || backend.with(|b| b.as_ref().map(|b| match convolutions.get() {
                        Some(chosen) => format!("{} — {chosen}", b.name),
                        None => b.name.clone(),
                    }))>
                    {move || backend.with(|b| b.as_ref().map_or("Starting…", |b| b.in_words()))}
                </span>
                <span id="backend-reason">{move || backend.with(|b| b.as_ref().map(|b| b.reason.clone()))}</span>
                {move || kernels.get().map(|ready_after| match ready_after {
                    None => view! { <span id="kernels" class="preparing">"preparing GPU kernels…"</span> }.into_any(),
                    Some(ms) => view! {
                        <span id="kernels" class="ready" title=format!("The GPU's kernels for these networks were ready after {:.1} s", ms / 1000.0)></span>
                    }.into_any(),
                })}
                {(!compare).then(|| view! {
                    <span class="counter">"step "<b id="step">{move || step.get()}</b></span>
                    <span class="counter">{Speed(state, "rate".into())}</span>
                })}
            </div>
            <div class="buttons top">
                <button id="presenter" class="secondary" aria-pressed=move || presenter.get().to_string()
                    on:click=move |_| presenter.update(|p| *p = !*p)>
                    {move || if presenter.get() { "Leave presenter mode" } else { "Presenter mode" }}
                </button>
                <button id="help-button" class="secondary" aria-haspopup="dialog" on:click=move |_| state.help_open.set(true)>
                    "Help and shortcuts (?)"
                </button>
            </div>
        </header>
    }
}

/// A run's speed while it trains ("starting" until its first steps are counted), or that it is
/// paused or not started (a speed measured before a pause would be stale); `id`: the id of its
/// number.
#[allow(non_snake_case)]
pub fn Speed(state: PageState, id: String) -> impl IntoView {
    let rate = Memo::new(move |_| state.run.with(|r| r.running.then_some(r.steps_per_second)));
    let started = Memo::new(move |_| state.run.with(|r| r.step > 0));
    move || match rate.get() {
        // Before its first steps are counted (a GPU preparing its kernels, say).
        Some(rate) if rate <= 0.0 => view! { <b id=id.clone()>"starting"</b> }.into_any(),
        // (Where room is short, as in a column's title in presenter mode, the unit is "/s".)
        Some(rate) => view! {
            <b id=id.clone()>{format!("{rate:.1}")}</b><span class="unit">" steps/s"</span><span class="unit short">"/s"</span>
        }.into_any(),
        None => view! { <b id=id.clone()>{move || if started.get() { "paused" } else { "not started" }}</b> }.into_any(),
    }
}

/// The error (until the user acts), its technical details folded, and the latest notice with
/// a button to close it; in presenter mode, also the mode-collapse alarm.
#[component]
pub fn Messages() -> impl IntoView {
    let state = PageState::get();
    let messages = state.messages;
    let error = Memo::new(move |_| messages.with(|m| m.error.clone().map(|e| (e, m.details.clone()))));
    let notice = Memo::new(move |_| messages.with(|m| m.notice.clone()));
    view! {
        {move || error.get().map(|(text, details)| view! {
            <div class="error" role="alert">
                <p id=run_id("error")>{text}</p>
                {details.map(|d| view! { <details class="details"><summary>"Details"</summary><pre>{d}</pre></details> })}
            </div>
        })}
        {move || notice.get().map(|text| view! {
            <div class="notice closable" role="status">
                <p id=run_id("notice")>{text}</p>
                <button class="close secondary" aria-label="Close this note"
                    on:click=move |_| state.update(|p| { p.close_notice(); Vec::new() })>"×"</button>
            </div>
        })}
        {move || state.presenter.get().then(|| view! { <super::quality::CollapseAlarm/> })}
    }
}

/// The benchmark's progress and result, when `?bench=1` asked for one: under the header, where
/// it is seen without scrolling.
#[component]
pub fn Benchmark() -> impl IntoView {
    let bench = PageState::get().bench;
    // One element from "running" to the result, so that a screen reader hears the change.
    let asked = Memo::new(move |_| bench.with(Option::is_some));
    move || asked.get().then(|| view! { <p id="bench" class="bench" role="status">{move || bench.get().unwrap_or_default()}</p> })
}
