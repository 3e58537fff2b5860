//! The generator's digits: the 8x8 grid drawn from fixed latent vectors, and the canvas that
//! shows any grey picture pixel for pixel.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::signals::{PageState, run_id};
use crate::model::Family;
use crate::protocol::{Picture, Weights};

fn paint(canvas: &web_sys::HtmlCanvasElement, picture: &Picture) {
    canvas.set_width(picture.width);
    canvas.set_height(picture.height);
    let Ok(Some(context)) = canvas.get_context("2d") else { return };
    let context: web_sys::CanvasRenderingContext2d = context.unchecked_into();
    let rgba: Vec<u8> = picture.pixels.iter().flat_map(|&p| [p, p, p, 255]).collect();
    if let Ok(image) =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), picture.width, picture.height)
    {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}

/// A grey picture on a canvas, redrawn when it changes.
#[component]
pub fn PictureCanvas(picture: RwSignal<Option<Picture>>, #[prop(into)] id: String, label: &'static str) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    // Counts repaints, so tests (and curious users) can see the picture change.
    let version = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let (Some(canvas), Some(picture)) = (canvas.get(), picture.get()) {
            paint(&canvas, &picture);
            version.update_untracked(|v| *v += 1);
            let _ = canvas.set_attribute("data-version", &version.get_untracked().to_string());
        }
    });
    view! { <canvas id=id node_ref=canvas role="img" aria-label=label class="pixels"></canvas> }
}

/// Which generator the digits come from, in words.
fn weights_label(showing: Option<Weights>, family: Family) -> String {
    match showing {
        Some(Weights::Pretrained { steps }) => format!(
            "Showing the pretrained {} (trained for {} steps, shipped with the page). Press play to train your own.",
            if family == Family::Vae { "decoder" } else { "generator" },
            crate::metrics::thousands(steps)
        ),
        Some(Weights::Run { steps }) => format!("Showing your run at step {steps}."),
        None => "Loading…".to_string(),
    }
}

/// What the grid shows, by model family: its heading and its one-line explanation.
fn grid_words(family: Family) -> (&'static str, &'static str) {
    match family {
        Family::Dcgan => ("What G draws", "The same 64 random inputs z, redrawn as G learns. If many look alike, G has collapsed onto a few modes."),
        Family::Cgan => (
            "What G draws, a row for each digit",
            "Row 0 asks for zeros, row 9 for nines; each column keeps its z. A column shows one style (slant, thickness) \
             written as every digit.",
        ),
        Family::Vae => (
            "What the decoder draws",
            "The same 64 random z from N(0, 1), decoded as the VAE learns. VAE digits come out smoother and blurrier than \
             a GAN's: it is scored on every pixel, so where it is unsure it draws the average.",
        ),
    }
}

/// The 64 digits G draws from the same random inputs as it learns (a row for each class for a
/// conditional model), and a VAE's reconstructions of held-out digits.
#[component]
pub fn DigitGrid() -> impl IntoView {
    let state = PageState::get();
    let showing = Memo::new(move |_| state.run.with(|r| r.showing));
    let family = Memo::new(move |_| state.settings.with(|s| s.model.family));
    let words = move || grid_words(family.get());
    // (Reconstructions are the run's own encoder and decoder: none while the shipped decoder
    // is on show.)
    let reconstructions = move || {
        (family.get() == Family::Vae && !matches!(showing.get(), Some(Weights::Pretrained { .. }))).then(|| {
            view! {
                <figure class="reconstructions">
                    <PictureCanvas picture=state.reconstructions id=run_id("reconstructions")
                        label="Held-out digits, one of each class, above the VAE's reconstructions of them"/>
                    <figcaption class="explain">"Top: digits the VAE never trained on. Bottom: what it makes of them, \
                        through the encoder's mean z and the decoder."</figcaption>
                </figure>
            }
        })
    };
    view! {
        <section class="samples" class:stale=move || showing.get().is_none() aria-label="Generated digits" data-family=move || family.get().name()>
            <h2>{move || words().0}</h2>
            <p id=run_id("weights") class="weights">{move || weights_label(showing.get(), family.get())}</p>
            <PictureCanvas picture=state.grid id=run_id("grid") label="Digits drawn by the generator from fixed random inputs"/>
            <p class="explain">{move || words().1}</p>
            {reconstructions}
        </section>
    }
}
