//! Keyboard shortcuts (listed in the help dialog): Space play/pause, S step, R reset, arrows
//! for the latent sliders (or between a conditional model's digits), 0–9 its digit, N new z,
//! P presenter mode, ? help, Esc close.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::signals::PageState;

thread_local! {
    /// What the pointer last pressed (a click or a touch), until Tab moves the focus on.
    static CLICKED: RefCell<Option<web_sys::EventTarget>> = const { RefCell::new(None) };
}

/// Is the key press on the control the pointer last pressed?
fn on_clicked(event: &web_sys::KeyboardEvent) -> bool {
    let target = event.target();
    CLICKED.with_borrow(|clicked| clicked.is_some() && *clicked == target)
}

/// Is the key press meant for a text field or a list rather than for a shortcut?
fn typing_into(event: &web_sys::KeyboardEvent) -> bool {
    let Some(element) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    match element.tag_name().as_str() {
        "INPUT" => element.get_attribute("type").as_deref() != Some("range"),
        "SELECT" | "TEXTAREA" => true,
        _ => false,
    }
}

fn target_is(event: &web_sys::KeyboardEvent, tag: &str) -> bool {
    event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| e.tag_name() == tag)
}

/// A conditional model's digit buttons ("digit 0 … 9"), where the page shows them.
fn digit_buttons() -> Option<web_sys::NodeList> {
    let document = web_sys::window()?.document()?;
    document.query_selector_all(".classes button.class").ok().filter(|buttons| buttons.length() > 0)
}

/// Draws digit `class` and moves the focus to its button, if the focus was on the digits.
fn choose_digit(state: PageState, class: u8, focus: bool) {
    state.update(|p| p.set_class(class));
    if focus {
        let button = digit_buttons().and_then(|b| b.item(class as u32)).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(button) = button {
            let _ = button.focus();
        }
    }
}

/// Acts on a key; true when it was a shortcut.
fn shortcut(state: PageState, event: &web_sys::KeyboardEvent) -> bool {
    let ready = state.run.with_untracked(|r| r.ready);
    // The arrows on a focused slider are its own, and Space on a button or slider that the
    // keyboard reached (one just clicked is not being worked from the keyboard: there Space
    // plays and pauses, as elsewhere on the page).
    let on_range = target_is(event, "INPUT");
    let on_button = target_is(event, "BUTTON");
    let space_is_theirs = (on_button || on_range) && !on_clicked(event);
    // The arrows on a digit button move between the digits, as in any group of buttons.
    let on_digit = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| e.class_list().contains("class"));
    let key = event.key();
    let digits = crate::classifier::CLASSES as u8;
    // Behind the help dialog, only the keys that close it act.
    if state.help_open.get_untracked() && !matches!(key.as_str(), "?" | "h" | "H" | "Escape") {
        return false;
    }
    match key.as_str() {
        "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" if on_digit => {
            let class = state.latent.with_untracked(|l| l.class);
            let forward = matches!(key.as_str(), "ArrowRight" | "ArrowDown");
            choose_digit(state, if forward { (class + 1) % digits } else { (class + digits - 1) % digits }, true);
        }
        // A conditional model's digit by its number.
        digit if digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit() && digit_buttons().is_some() => {
            choose_digit(state, digit.as_bytes()[0] - b'0', on_digit);
        }
        // (Not ready: nothing to play, but a clicked button is not pressed again either.)
        " " if !space_is_theirs && (ready || on_button) => {
            if ready {
                state.update(|p| p.play_pause());
            }
        }
        "s" | "S" => state.update(|p| p.single_step()),
        "r" | "R" => state.update(|p| p.user_reset()),
        "n" | "N" if ready => state.update(|p| p.random_z()),
        "p" | "P" => state.presenter.update(|p| *p = !*p),
        "?" | "h" | "H" => state.help_open.update(|h| *h = !*h),
        "Escape" if state.help_open.get_untracked() => state.help_open.set(false),
        "ArrowLeft" if !on_range && ready => state.update(|p| p.nudge(-0.1)),
        "ArrowRight" if !on_range && ready => state.update(|p| p.nudge(0.1)),
        "ArrowUp" | "ArrowDown" if !on_range => {
            let up = event.key() == "ArrowUp";
            state.update(|p| {
                p.select_next(up);
                Vec::new()
            })
        }
        _ => return false,
    }
    true
}

/// Listens for the shortcuts on the whole window.
pub fn listen(state: PageState) {
    // (The control itself, where the press landed on something inside it.)
    window_event_listener(leptos::ev::pointerdown, |event| {
        let element = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let control = element.as_ref().and_then(|e| e.closest("button, input").ok().flatten());
        CLICKED.set(control.or(element).map(Into::into));
    });
    window_event_listener(leptos::ev::keydown, move |event: web_sys::KeyboardEvent| {
        if event.key() == "Tab" {
            CLICKED.set(None);
        }
        if typing_into(&event) || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        if shortcut(state, &event) {
            event.prevent_default();
        }
    });
}
