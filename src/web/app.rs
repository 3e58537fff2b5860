//! The page's root: builds the state from the address, provides it to the components, starts
//! the workers, and lays the components out. It holds no tensors; the components send commands
//! through the state and draw what the workers report.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::page::charts::Charts;
use super::page::controls::{RunButtons, SettingsPanel};
use super::page::help::{About, HelpOverlay};
use super::page::keep::{KeepAndShare, KeptRunOffer};
use super::page::latent::LatentExplorer;
use super::page::quality::{PretrainedQuality, QualityPanel};
use super::page::samples::DigitGrid;
use super::page::shortcuts;
use super::page::signals::{PageState, RunIds, run_id};
use super::page::state::{Page, address};
use crate::model::Family;
use leptos::context::Provider;
use super::page::status::{Benchmark, Messages, Speed, StatusBar};
use crate::share::PageSetup;

/// Shows a Rust panic on the page, whatever state the UI is in.
fn show_panic(message: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        if let Ok(banner) = document.create_element("div") {
            banner.set_id("panic");
            banner.set_text_content(Some(&format!("Something went wrong in the page: {message}. Reload to start again.")));
            if let Some(body) = document.body() {
                let _ = body.prepend_with_node_1(&banner);
            }
        }
    }
}

pub fn mount() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_panic(&info.to_string());
    }));
    leptos::mount::mount_to_body(App);
}

/// Whether this browser has the test hooks on (`localStorage["ganplay.testHooks"] == "1"`).
fn test_hooks_on() -> bool {
    // Through Reflect: the switch is read once, and needs no more of web-sys.
    let read = || -> Option<String> {
        let storage = js_sys::Reflect::get(&js_sys::global(), &"localStorage".into()).ok()?;
        let get: js_sys::Function = js_sys::Reflect::get(&storage, &"getItem".into()).ok()?.dyn_into().ok()?;
        get.call1(&storage, &"ganplay.testHooks".into()).ok()?.as_string()
    };
    read().as_deref() == Some("1")
}

/// The address follows the setup and z (debounced: browsers throttle frequent address changes).
fn follow_in_address(state: PageState, compare: Signal<Option<Family>>) {
    let pending = StoredValue::new(false);
    let query = StoredValue::new(String::new());
    Effect::new(move |_| {
        let presenter = state.presenter.get();
        let compare = compare.get();
        let address = state.settings.with(|settings| state.latent.with(|latent| address(settings, latent, presenter, compare)));
        query.set_value(address);
        if pending.get_value() {
            return;
        }
        pending.set_value(true);
        set_timeout(
            move || {
                pending.set_value(false);
                if let Some(window) = web_sys::window() {
                    let _ = window.history().and_then(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(&query.get_value())));
                }
            },
            std::time::Duration::from_millis(300),
        );
    });
}

#[component]
pub fn App() -> impl IntoView {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let (mut setup, mut ignored) = PageSetup::from_query(&search);
    // The address's failure injection is for the browser tests, which turn it on in this
    // browser's storage; a visitor's link cannot break the page with it.
    if setup.fault.is_some() && !test_hooks_on() {
        setup.fault = None;
        ignored.extend(search.trim_start_matches('?').split('&').filter(|p| p.starts_with("fault=")).map(str::to_string));
    }
    let presenter = setup.presenter;
    // A second run to compare with: its own workers, following the first.
    let compared = setup.compare.map(|family| PageState::new(Page::compared(&setup, family), presenter));
    // Its model: the address's, until the first run becomes that model and the two trade.
    let compare: Signal<Option<Family>> = Memo::new(move |_| compared.map(|other| other.settings.with(|s| s.model.family))).into();
    // The time marks the runs this visit keeps in the browser, so a compared run is offered
    // only with the run it was kept beside.
    let state = PageState::new(Page::new(setup, &ignored).with_kept_pair(js_sys::Date::now() as u64), presenter);
    // One presenter switch for both runs.
    let compared = compared.map(|other| other.with_presenter(state.presenter));
    provide_context(state);
    provide_context(PretrainedQuality::fetch());
    if let Err(e) = state.start() {
        return view! { <p id="error" class="error">{e}</p> }.into_any();
    }
    if let Some(other) = compared {
        state.set_follower(other);
        if let Err(e) = other.start() {
            return view! { <p id="error" class="error">{e}</p> }.into_any();
        }
    }
    follow_in_address(state, compare);
    // Presenter mode is a class on the body, so the stylesheet can lay out the whole page.
    Effect::new(move |_| {
        let on = state.presenter.get();
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.class_list().toggle_with_force("presenter", on);
        }
    });
    shortcuts::listen(state);

    let board = match compared {
        None => view! {
            <div class="board">
                <Charts/>
                <DigitGrid/>
                <LatentExplorer/>
                <QualityPanel/>
                <KeepAndShare/>
            </div>
        }
        .into_any(),
        Some(other) => view! {
            <div class="board compare">
                <RunColumn state=state ids=""/>
                <RunColumn state=other ids="b-"/>
                <LatentExplorer also=other/>
                <KeepAndShare also=other/>
            </div>
        }
        .into_any(),
    };
    view! {
        <StatusBar compare=compared.is_some()/>
        <Messages/>
        <Benchmark/>
        <KeptRunOffer/>
        <About/>
        <main>
            <section class="controls" aria-label="Training controls">
                <RunButtons/>
                <SettingsPanel compare=compare/>
            </section>
            {board}
        </main>
        <HelpOverlay/>
    }
    .into_any()
}

/// One run of a comparison: its model, step and messages, curves, digits and quality, side by
/// side with the other's. Its parts read `state`, and their ids start with `ids`.
#[component]
fn RunColumn(state: PageState, ids: &'static str) -> impl IntoView {
    let title = move || state.settings.with(|s| s.model.family.title());
    let step = move || state.run.with(|r| r.step);
    view! {
        <Provider value=state>
            <Provider value=RunIds(ids)>
                <div class="run-column" data-family=move || state.settings.with(|s| s.model.family.name())>
                    <h2 class="run-title">{title}<span class="run-step">
                        " step "<b id=run_id("column-step")>{step}</b>" · "{Speed(state, run_id("column-rate"))}
                    </span></h2>
                    {(!ids.is_empty()).then(|| view! { <Messages/> })}
                    <Charts/>
                    <DigitGrid/>
                    <QualityPanel/>
                </div>
            </Provider>
        </Provider>
    }
}
