//! Keeping a run: save and load a weights file, snapshots to go back to, the run an earlier
//! visit kept in this browser, and exports of the pictures and curves.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::signals::PageState;
use super::state::{KeptRun, Snapshot, model_beside};
use crate::web::files::{download_bytes, download_canvas_png, read_file};

/// What an export button offers.
#[derive(Clone, Copy)]
enum Export {
    Grid,
    Sample,
    Curves,
    Timelapse,
}

/// Exports `state`'s pictures or curves; `ids`: the prefix of its elements' ids ("" for the
/// first run, "b-" for a run compared beside it); `family`: what goes before the picture's or
/// the curves' name in the file's name ("dcgan-" when two runs share the page, so that their
/// files differ; "" otherwise).
fn export(state: PageState, what: Export, ids: &str, family: &str) {
    let steps = state.run.with_untracked(|r| r.step);
    let result = match what {
        Export::Grid => download_canvas_png(&format!("{ids}grid"), &format!("ganplay-{family}grid-step-{steps}.png"), 4),
        Export::Sample => download_canvas_png(&format!("{ids}sample"), &format!("ganplay-{family}sample-step-{steps}.png"), 10),
        Export::Curves => {
            let csv = state.charts.with_untracked(|h| state.quality.with_untracked(|q| h.to_csv_with(&q.history)));
            download_bytes(&format!("ganplay-{family}metrics-step-{steps}.csv"), csv.as_bytes(), "text/csv")
        }
        Export::Timelapse => state.timelapse.with_untracked(|t| {
            // Named by the step it ends on, the last grid drawn.
            let steps = t.last_step().unwrap_or(steps);
            t.to_gif().and_then(|gif| download_bytes(&format!("ganplay-{family}timelapse-step-{steps}.gif"), &gif, "image/gif"))
        }),
    };
    if let Err(e) = result {
        state.fail(format!("The export failed: {e}"));
    }
}

/// A file picked with "Load run…": refused at once when far too large, else read and handed to
/// the worker to check and go on from.
fn upload(state: PageState, ev: leptos::ev::Event) {
    let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
    let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
    input.set_value("");
    let name = file.name();
    let mut too_large = false;
    state.update(|page| {
        too_large = page.file_too_large(&name, file.size());
        Vec::new()
    });
    if too_large {
        return;
    }
    leptos::task::spawn_local(async move {
        match read_file(&file).await {
            Ok(bytes) => state.update(|page| page.load_file(name, bytes)),
            Err(e) => state.update(|page| {
                page.file_unreadable(&e);
                Vec::new()
            }),
        }
    });
}

/// A button that saves `state`'s run as a weights file.
#[component]
fn SaveButton(state: PageState, id: &'static str, label: Signal<String>) -> impl IntoView {
    let ready = Memo::new(move |_| state.run.with(|r| r.ready));
    let saving = Memo::new(move |_| state.run.with(|r| r.saving));
    view! {
        <button id=id class="secondary" disabled=move || !ready.get() || saving.get()
            on:click=move |_| state.update(|p| p.save())>{label}</button>
    }
}

/// Saving, loading, snapshots and exports; `also`: a run compared beside this one, with its own
/// save, exports and snapshots (a file loads into the first run).
#[component]
pub fn KeepAndShare(#[prop(optional)] also: Option<PageState>) -> impl IntoView {
    let state = PageState::get();
    let ready = Memo::new(move |_| state.run.with(|r| r.ready));
    let title = move |s: PageState| s.settings.with(|s| s.model.family.title());
    let save_label = move |s: PageState| Signal::derive(move || match also {
        None => "Save run".to_string(),
        Some(_) => format!("Save the {} run", title(s)),
    });
    let snapshots = move |s: PageState, ids: &'static str| match also {
        None => view! { <SnapshotList state=s ids=ids/> }.into_any(),
        Some(_) => view! {
            <div class="run-snapshots">
                <h4>{move || format!("The {} run", title(s))}</h4>
                <SnapshotList state=s ids=ids/>
            </div>
        }
        .into_any(),
    };
    view! {
        <section class="keep" aria-label="Save, load and export">
            <h2>"Keep and share"</h2>
            <div class="buttons">
                <SaveButton state=state id="save" label=save_label(state)/>
                {also.map(|other| view! { <SaveButton state=other id="b-save" label=save_label(other)/> })}
                <label class="button secondary" for="load-file">"Load run…"</label>
                <input id="load-file" type="file" accept=".ganplay" class="visually-hidden" on:change=move |ev| upload(state, ev)/>
                <button id="snapshot-now" class="secondary" disabled=move || !ready.get()
                    on:click=move |_| {
                        state.update(|p| p.snapshot_now());
                        if let Some(other) = also {
                            other.update(|p| p.snapshot_now());
                        }
                    }>
                    "Snapshot now"
                </button>
            </div>
            // A refused file, said here too: the error at the top of the page is out of sight.
            {move || state.messages.with(|m| m.error.clone().filter(|_| m.error_about_file))
                .map(|why| view! { <p id="load-refused" class="refused">{why}</p> })}
            <p class="explain">"A saved run holds both networks, the optimizer's memory, the settings and the step: \
                loaded later, it goes on exactly as if never stopped. The link in the address bar holds the settings and z."</p>
            {also.map(|_| view! {
                <p class="explain" id="keep-which">{move || format!("A loaded file goes to the {} run (the first); \
                    \"Snapshot now\" takes one of each.", title(state))}</p>
            })}
            <ExportButtons state=state ids="" two=also.is_some()/>
            {also.map(|other| view! { <ExportButtons state=other ids="b-" two=true/> })}
            <h3>"Snapshots"</h3>
            <p class="explain">"Taken every 250 steps or 20 seconds of training, and at each pause (the last five are kept). If a run collapses, go back to one. \
                The newest is also kept in this browser, to go on from after a reload."</p>
            <div class="snapshot-lists">
                {snapshots(state, "")}
                {also.map(|other| snapshots(other, "b-"))}
            </div>
        </section>
    }
}

/// A run's exports: its digit grid, its big digit, its curves, its time-lapse; `two`: whether
/// two runs share the page, so each button and file names its model.
#[component]
fn ExportButtons(state: PageState, ids: &'static str, two: bool) -> impl IntoView {
    let (grid, sample) = (state.grid, state.sample);
    let family = move || state.settings.with(|s| s.model.family);
    let file = move || if two { format!("{}-", family().name()) } else { String::new() };
    // "Grid as PNG", or with two runs "DCGAN grid as PNG".
    let label = move |what: &'static str| match two {
        false => what.to_string(),
        true => format!("{} {}{}", family().title(), what[..1].to_lowercase(), &what[1..]),
    };
    view! {
        <div class="buttons">
            <button id=format!("{ids}export-grid") class="secondary" disabled=move || grid.with(|g| g.is_none())
                on:click=move |_| export(state, Export::Grid, ids, &file())>{move || label("Grid as PNG")}</button>
            <button id=format!("{ids}export-sample") class="secondary" disabled=move || sample.with(|s| s.is_none())
                on:click=move |_| export(state, Export::Sample, ids, &file())>{move || label("Digit as PNG")}</button>
            <button id=format!("{ids}export-csv") class="secondary"
                on:click=move |_| export(state, Export::Curves, ids, &file())>{move || label("Curves as CSV")}</button>
            // The grid over the run's steps, as an animation: from noise to digits.
            <button id=format!("{ids}export-gif") class="secondary" disabled=move || state.timelapse.with(|t| t.is_empty())
                title="The digit grid over the run's steps, as an animated GIF"
                data-frames=move || state.timelapse.with(|t| t.len())
                on:click=move |_| export(state, Export::Timelapse, ids, &file())>{move || label("Time-lapse as GIF")}</button>
        </div>
    }
}

/// The snapshots of `state`'s run kept in the page, newest first, each with a few digits and a
/// way back to it; `ids`: the prefix of the list's id.
#[component]
pub fn SnapshotList(state: PageState, ids: &'static str) -> impl IntoView {
    // Keyed by step: a new snapshot adds one item and leaves the others as they are.
    let item = move |s: Snapshot| {
        let label = format!("digits at step {}", s.steps);
        let numbers = s.report.as_ref().map(|r| r.measures.summary()).unwrap_or_default();
        let steps = s.steps;
        view! {
            <li class="snapshot" data-step=steps>
                <img src=s.thumbnail.clone() class="pixels thumb" alt=label/>
                <span><b>{format!("step {steps}")}</b><br/><small>{numbers}</small></span>
                <button class="secondary" aria-label=format!("go back to step {steps}")
                    on:click=move |_| state.update(|p| p.go_back(steps))>"Go back"</button>
            </li>
        }
    };
    view! {
        <ol id=format!("{ids}snapshots") class="snapshots">
            <For each=move || state.snapshots.get().into_iter().rev() key=|s| s.steps children=item/>
        </ol>
    }
}

/// The offer to go on from the run kept in this browser (by an earlier visit, or replaced by new
/// networks), with the run compared beside it (if this page compares, and one of the same
/// comparison was kept: it goes on too).
#[component]
pub fn KeptRunOffer() -> impl IntoView {
    let state = PageState::get();
    let ready = Memo::new(move |_| state.run.with(|r| r.ready));
    let described = |run: &KeptRun| format!("{}, step {}", run.what, run.steps);
    let offer = Memo::new(move |_| state.kept.with(|k| k.as_ref().map(described)));
    // The compared run's, if it is of the model that run will have (the kept run may make the
    // first run the compared one's model: then they trade).
    let beside = Memo::new(move |_| {
        let other = state.follower()?;
        let (lead, own) = (state.settings.with(|s| s.model.family), other.settings.with(|s| s.model.family));
        let will_be = state.kept.with(|k| k.as_ref().and_then(|run| run.family)).map_or(own, |now| model_beside(lead, own, now));
        let pair = state.kept.with(|k| k.as_ref().and_then(|run| run.pair));
        other.kept.with(|k| k.as_ref().filter(|run| run.family == Some(will_be) && run.pair == pair).map(described))
    });
    move || {
        offer.get().map(|run| {
            let both = beside.get();
            let (text, replaced) = match &both {
                Some(other) => (
                    format!("Your last runs ({run}, and beside it {other}) are kept in this browser. "),
                    "Training here replaces each once its new run gets that far.",
                ),
                None => (format!("Your last run ({run}) is kept in this browser. "), "Training here replaces it once the new run gets that far."),
            };
            let them = if both.is_some() { "them" } else { "it" };
            view! {
                <div id="kept-run" class="notice offer" role="status">
                    <span>{text}
                        <small>{replaced}</small></span>
                    <button id="kept-go-on" disabled=move || !ready.get() on:click=move |_| state.update(|p| p.go_on_from_kept())>
                        {format!("Go on from {them}")}
                    </button>
                    <button id="kept-forget" class="secondary" on:click=move |_| state.update(|p| p.forget_kept())>{format!("Forget {them}")}</button>
                </div>
            }
        })
    }
}
