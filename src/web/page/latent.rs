//! The latent explorer: the big digit G draws from one z, sliders for z's first numbers, a
//! random z, and a walk between two z.

use leptos::prelude::*;

use super::samples::PictureCanvas;
use super::signals::PageState;
use crate::model::CLASSES;

/// How long "Walk somewhere new" takes to walk there, in ms.
const WALK_MS: f64 = 4000.0;

/// One slider: latent dimension `dim`, from -3 to 3.
#[component]
fn LatentSlider(dim: usize) -> impl IntoView {
    let state = PageState::get();
    let value = Memo::new(move |_| state.latent.with(|l| l.current().get(dim).copied().unwrap_or(0.0)));
    let selected = Memo::new(move |_| state.latent.with(|l| l.selected == dim));
    view! {
        <label class="slider" class:selected=move || selected.get()>
            <span>{format!("z{dim}")}</span>
            <input type="range" min="-3" max="3" step="any" id=format!("z{dim}")
                aria-label=format!("latent dimension {dim}")
                prop:value=move || format!("{:.2}", value.get())
                on:focus=move |_| state.update(|p| { p.select(dim); Vec::new() })
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                        state.update(|p| p.move_slider(dim, v));
                    }
                }/>
            <output>{move || format!("{:+.2}", value.get())}</output>
        </label>
    }
}

/// The latent explorer; `also`: a run compared beside this one, whose digit for the same z
/// is drawn beside this one's.
#[component]
pub fn LatentExplorer(#[prop(optional)] also: Option<PageState>) -> impl IntoView {
    let state = PageState::get();
    let pictures = match also {
        None => view! {
            <PictureCanvas picture=state.sample id="sample" label="The digit drawn from the latent vector set by the sliders"/>
        }
        .into_any(),
        Some(other) => {
            let title = move |s: PageState| move || s.settings.with(|s| s.model.family.title());
            view! {
                <div class="compared-samples">
                    <figure>
                        <PictureCanvas picture=state.sample id="sample" label="The first model's digit for the latent vector set by the sliders"/>
                        <figcaption>{title(state)}</figcaption>
                    </figure>
                    <figure>
                        <PictureCanvas picture=other.sample id="b-sample" label="The second model's digit for the same latent vector"/>
                        <figcaption>{title(other)}</figcaption>
                    </figure>
                </div>
            }
            .into_any()
        }
    };
    let ready = Memo::new(move |_| state.run.with(|r| r.ready));
    let sliders = Memo::new(move |_| state.latent.with(|l| l.sliders()));
    let walk = Memo::new(move |_| state.latent.with(|l| l.walk));
    // "Walk somewhere new" walks there: the walk slider moves from 0 to 1 over `WALK_MS`,
    // until the user takes over (drags it, or sets another z).
    let walking = StoredValue::new(None::<IntervalHandle>);
    let stop_walking = move || {
        if let Some(handle) = walking.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    on_cleanup(stop_walking);
    let on_walk_new = move |_| {
        stop_walking();
        state.update(|p| p.new_walk());
        let (start, to) = (js_sys::Date::now(), state.latent.with_untracked(|l| l.to.clone()));
        let last = std::cell::Cell::new(0.0f32);
        let tick = move || {
            let ours = state.latent.with_untracked(|l| l.to == to && l.walk == last.get());
            let t = ((js_sys::Date::now() - start) / WALK_MS).min(1.0) as f32;
            if ours {
                state.update(|p| p.set_walk(t));
                last.set(state.latent.with_untracked(|l| l.walk));
            }
            if !ours || t >= 1.0 {
                stop_walking();
            }
        };
        walking.set_value(set_interval_with_handle(tick, std::time::Duration::from_millis(40)).ok());
    };
    let on_walk = move |ev| {
        stop_walking();
        if let Ok(t) = event_target_value(&ev).parse::<f32>() {
            state.update(|p| p.set_walk(t));
        }
    };
    // In a comparison, either run may be the conditional one.
    let conditional = Memo::new(move |_| {
        [Some(state), also].into_iter().flatten().any(|s| s.settings.with(|s| s.model.family.conditional()))
    });
    let class = Memo::new(move |_| state.latent.with(|l| l.class));
    // A conditional model's digit: same z, another class, same style.
    let class_buttons = move || {
        conditional.get().then(|| {
            let buttons = (0..CLASSES as u8)
                .map(|c| {
                    view! {
                        <button class="class" aria-pressed=move || (class.get() == c).to_string()
                            on:click=move |_| state.update(|p| p.set_class(c))>{c.to_string()}</button>
                    }
                })
                .collect_view();
            view! {
                <div class="classes" role="group" aria-label="Digit to draw">
                    <span>"digit"</span>{buttons}
                </div>
            }
        })
    };
    view! {
        <section class="latent" aria-label="Latent space explorer">
            <h2>"Explore the latent space"</h2>
            {pictures}
            <div class="buttons">
                <button id="random-z" class="secondary" on:click=move |_| state.update(|p| p.random_z()) disabled=move || !ready.get()>
                    "New random z"
                </button>
                <button id="walk-new" class="secondary" on:click=on_walk_new disabled=move || !ready.get()>
                    "Walk somewhere new"
                </button>
            </div>
            <label class="slider walk">
                <span>"walk"</span>
                <input id="walk" type="range" min="0" max="1" step="0.01" aria-label="walk between two latent vectors"
                    prop:value=move || walk.get().to_string() on:input=on_walk/>
            </label>
            {class_buttons}
            <div class="sliders">{move || (0..sliders.get()).map(|dim| view! { <LatentSlider dim=dim/> }).collect_view()}</div>
            <p class="explain">"z is a list of random numbers, each drawn from a bell curve (mostly between -3 and 3). "
                {move || if state.settings.with(|s| s.model.family == crate::model::Family::Vae) { "The decoder" } else { "G" }}
                " turns each z into a digit; nearby z give similar digits. The sliders set the first ten numbers; \
                “Walk somewhere new” glides to a new z (drag “walk” to go back and forth)."</p>
        </section>
    }
}
