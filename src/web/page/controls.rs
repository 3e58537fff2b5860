//! The training controls: play, step and reset (`RunButtons`), a field for every row of the
//! settings table that means something for the run's model (`SettingsPanel`), each saying what
//! it does and whether it starts over, and the choice of a second model to compare with.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::signals::PageState;
use super::state::{address, heavy_warning};
use crate::model::Family;
use crate::settings::{Key, Kind, TABLE};

#[component]
pub fn RunButtons() -> impl IntoView {
    let state = PageState::get();
    let ready = Memo::new(move |_| state.run.with(|r| r.ready));
    let running = Memo::new(move |_| state.run.with(|r| r.running));
    let pausing = Memo::new(move |_| state.run.with(|r| r.pausing));
    view! {
        <div class="buttons">
            <button id="play" on:click=move |_| state.update(|p| p.play_pause()) disabled=move || !ready.get() || pausing.get()>
                {move || match (running.get(), pausing.get()) {
                    (true, true) => "Pausing after this step…",
                    (true, false) => "Pause",
                    _ => "Play",
                }}
            </button>
            <button id="step-once" class="secondary" on:click=move |_| state.update(|p| p.single_step())
                disabled=move || !ready.get() || running.get()>"Step"</button>
            <button id="reset" class="secondary" on:click=move |_| state.update(|p| p.user_reset())>"Reset"</button>
        </div>
        {move || state.settings.with(|s| state.backend.with(|b| heavy_warning(s, b.as_ref())))
            .map(|w| view! { <p id="heavy" class="warning" role="status">{w}</p> })}
    }
}

/// The element id of a setting's field (the status bar already has a `backend`).
fn field_id(key: Key) -> String {
    match key {
        Key::Backend => "backend-choice".to_string(),
        _ => key.spec().name.replace('_', "-"),
    }
}

/// One setting as the table declares it: a number field or a menu, its label and one line of
/// explanation. A change goes to `Page::change`; a value it refuses is put back in the field.
/// `only`: the compared model, where the setting means something for it alone; `compared`: the
/// model of a run compared beside this one, which the model menu offers as a trade of places
/// (beside itself, with the same settings and seed, it would be the same run).
#[component]
fn SettingField(key: Key, only: Option<Family>, compared: Option<Family>) -> impl IntoView {
    let state = PageState::get();
    let spec = key.spec();
    let id = field_id(key);
    let family = move || only.unwrap_or_else(|| state.settings.with(|s| s.model.family));
    let label = move || {
        let label = key.label_for(family());
        match (only, compared) {
            (Some(family), _) => format!("{label} ({} only)", family.title()),
            // A setting both runs share, named otherwise for the compared one's networks.
            (None, Some(other)) if key.label_for(other) != label => format!("{label}, and the {}'s {}", other.title(), crate::settings::in_a_sentence(key.label_for(other))),
            _ => label.to_string(),
        }
    };
    let explain = move || key.explain_for(family());
    let text = Memo::new(move |_| state.settings.with(|s| s.text(key)));
    let on_change = move |ev: leptos::ev::Event| {
        let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        // Text a number field cannot read ("1e", "-") reaches the page as an empty value.
        let unreadable = input.as_ref().is_some_and(|input| input.validity().bad_input());
        state.update(|page| if unreadable { page.change_unreadable(key) } else { page.change(key, &event_target_value(&ev)) });
        let now = text.get_untracked();
        if let Some(input) = input {
            if input.value() != now {
                input.set_value(&now);
            }
        }
    };
    // The note of a value just refused, beside the field as well as at the top of the page,
    // which may be out of sight from a field far down the form.
    let refused_id = format!("{id}-refused");
    let explain_id = format!("{id}-explain");
    let refused = Memo::new(move |_| state.messages.with(|m| m.notice.clone().filter(|_| m.notice_refused == Some(key))));
    // A screen reader names the control by its label alone, and reads the explanation (and the
    // refusal, first) as its description.
    let described = {
        let (refused_id, explain_id) = (refused_id.clone(), explain_id.clone());
        Memo::new(move |_| if refused.get().is_some() { format!("{refused_id} {explain_id}") } else { explain_id.clone() })
    };
    let invalid = move || refused.get().is_some().then_some("true");
    let control = match spec.kind {
        Kind::Choice(choices) => {
            // The model compared beside this run is offered as a trade: this run becomes it, and
            // the run beside becomes this one's (never one model beside itself).
            let traded = move |name: &str| key == Key::Model && compared.is_some_and(|c| c.name() == name);
            let options = choices
                .iter()
                .map(|(name, words)| {
                    let words = key.choice_words_for(family(), words);
                    let words = if traded(name) { format!("{words} (trades places with the run beside)") } else { words };
                    view! { <option value=*name>{words}</option> }
                })
                .collect_view();
            // Sizes set by hand match no preset: the menu says "custom".
            let custom = (key == Key::Preset).then(|| view! { <option value="custom" disabled>"custom (the sizes below)"</option> });
            view! {
                <select id=id.clone() on:change=on_change prop:value=move || text.get() aria-describedby=move || described.get()
                    aria-invalid=invalid>{options}{custom}</select>
            }
            .into_any()
        }
        Kind::Real { min, max, step } => view! {
            <input id=id.clone() type="number" min=min.to_string() max=max.to_string() step=step.to_string()
                prop:value=move || text.get() on:change=on_change aria-describedby=move || described.get() aria-invalid=invalid/>
        }
        .into_any(),
        Kind::Whole { min, max } => view! {
            <input id=id.clone() type="number" min=min.to_string() max=max.to_string() step="1" prop:value=move || text.get()
                on:change=on_change aria-describedby=move || described.get() aria-invalid=invalid/>
        }
        .into_any(),
    };
    view! {
        <div class="field">
            <label for=id><span>{label}</span></label>
            {control}
            {move || refused.get().map(|why| view! { <small id=refused_id.clone() class="refused">{why}</small> })}
            <small id=explain_id>{explain}</small>
        </div>
    }
}

/// Every setting of the table. `compare`: the model of a run compared beside this one, which follows these settings too.
#[component]
pub fn SettingsPanel(compare: Signal<Option<Family>>) -> impl IntoView {
    let state = PageState::get();
    // The rows that mean something for the run's model, or for the compared one (marked so).
    let shown = Memo::new(move |_| state.settings.with(|s| s.model.family));
    let fields = move || {
        let (family, compare) = (shown.get(), compare.get());
        TABLE
            .iter()
            .filter_map(|spec| match (spec.key.applies_to(family), compare) {
                (true, _) => Some(view! { <SettingField key=spec.key only=None compared=compare/> }),
                (false, Some(other)) if spec.key.applies_to(other) => {
                    Some(view! { <SettingField key=spec.key only=Some(other) compared=compare/> })
                }
                _ => None,
            })
            .collect_view()
    };
    view! {
        <div class="settings">{fields}<CompareChoice compare=compare shown=shown/></div>
    }
}

/// Trains a second model beside this one (`?compare=`): the page opens again with both, the
/// same settings and z, one set of buttons and sliders. `shown`: the model of the first run,
/// which is not offered (beside itself, with the same settings and seed, a model would train
/// the same run twice).
#[component]
fn CompareChoice(compare: Signal<Option<Family>>, shown: Memo<Family>) -> impl IntoView {
    let state = PageState::get();
    let on_change = move |ev: leptos::ev::Event| {
        let compare = Family::from_name(&event_target_value(&ev));
        let presenter = state.presenter.get_untracked();
        let address = state.settings.with_untracked(|s| state.latent.with_untracked(|l| address(s, l, presenter, compare)));
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_search(&address);
        }
    };
    // Every model has its option for good (a list rebuilt under a selection could show another
    // model than the one compared); the model on show is hidden and cannot be picked.
    let options = Family::ALL
        .iter()
        .map(|&f| view! { <option value=f.name() hidden=move || shown.get() == f disabled=move || shown.get() == f>{f.title()}</option> })
        .collect_view();
    view! {
        <label class="field" for="compare">
            <span>"Compare with"</span>
            <select id="compare" on:change=on_change prop:value=move || compare.get().map_or("", Family::name)>
                <option value="">"nothing (one model)"</option>
                {options}
            </select>
            <small>"Trains a second model beside this one on the same digits, with the same settings and z, to see how \
                they differ. Each trains at its own speed, so compare them at the same step on their curves. The page \
                opens again with both."</small>
        </label>
    }
}
