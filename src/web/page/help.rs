//! Help for a student: what the game is and what to watch for (`About`), and the keyboard
//! shortcuts dialog (`HelpOverlay`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::signals::PageState;
use crate::model::Family;

/// The keyboard shortcuts, as the dialog lists them (see `shortcuts.rs`).
pub const SHORTCUTS: [(&str, &str); 10] = [
    ("Space", "play / pause"),
    ("S", "one training step"),
    ("R", "reset: new networks"),
    ("← →", "move the selected latent slider"),
    ("↑ ↓", "select another latent slider"),
    ("0 – 9", "the digit a conditional DCGAN draws (← → on a digit button: the next)"),
    ("N", "new random z"),
    ("P", "presenter mode on / off"),
    ("?", "this help"),
    ("Esc", "close this help"),
];

/// A plain-language account of the model on show, its curves and what goes wrong, for a student
/// who has never seen one: the GANs' game, or the VAE's redrawing, each with a word on the other.
#[component]
pub fn About() -> impl IntoView {
    let state = PageState::get();
    let vae = Memo::new(move |_| state.settings.with(|s| s.model.family == Family::Vae));
    view! {
    <aside class="about-landmark" aria-label="What is going on here">
    <details class="about" id="about">
        <summary>"What is going on here?"</summary>
        {move || if vae.get() { vae_first().into_any() } else { gan_first().into_any() }}
    </details>
    </aside>
    }
}

/// The GANs' game first, and the VAE among the other models.
fn gan_first() -> impl IntoView {
    view! {
        <p>"Two small neural networks play a game. The " <b>"generator (G)"</b> " turns a list of random numbers, z, \
            into a picture. The " <b>"discriminator (D)"</b> " looks at a picture and says how likely it is to be a real \
            handwritten digit. D learns from real digits (from MNIST) and from G's fakes; G learns only from D's verdicts, \
            by changing itself so that D calls its pictures real."</p>
        <p>"What the curves do. At the start neither network knows anything, and D scores real digits and G's \
            noise alike, near 0.5. D learns faster, so within the first fifty steps the curves split: D(x), its score \
            for real digits, rises toward 0.8, and D(G(z)), its score for fakes, stays lower. Then G learns to fool D, \
            and the curves settle apart, around 0.85 for real digits and 0.2 for fakes in the default run (whose D has \
            extra layers that make it a sharp judge; without them, nearer 0.65 and 0.35), and stay there for \
            thousands of steps while the digits keep getting better."</p>
        <p>"That gap is normal, not a failure: D keeps finding some tell that a digit is fake, G keeps fixing it, \
            and the game goes on. The textbook end, both curves at 0.5, means D can no longer tell at all; small \
            networks trained with these settings rarely get there, because even a small D can always tell some of \
            G's digits apart. Judge the digits themselves, and the quality panel's scores, rather than waiting for 0.5."</p>
        <p>"Things to watch for. " <b>"Mode collapse"</b> ": the grid fills with copies of one or two digits, because G \
            found a few pictures D accepts and stopped exploring. " <b>"D wins outright"</b> ": D(G(z)) stays at 0 and \
            the digits stay blurry; try a smaller D learning rate. A run that goes wrong can be rolled back with a snapshot."</p>
        <p><b>"Other models. "</b> "A " <b>"conditional DCGAN"</b> " plays the same game but is told which digit to \
            draw: the class goes into both networks as ten extra inputs (one of them on), so G learns a style from z and a \
            digit from the class. Keep z and press another digit button: the same hand writes another digit. Told the \
            class too, D finds real and drawn digits more alike: its curves settle closer, near 0.6 and 0.3. A " <b>"VAE"</b>
            " (variational autoencoder) has no game: an encoder squeezes each real digit into a small cloud of z, and a \
            decoder (shaped like G) draws the digit back from a point of that cloud. It is scored on the " <b>"ELBO"</b>
            ": how well the decoder redraws every pixel (a Bernoulli likelihood of the pixels, in [0, 1]) minus how far \
            the encoder's clouds are from the plain bell curve z is drawn from (the KL term). Scored on every pixel, it \
            draws the average where it is unsure: its digits are blurrier than a GAN's, but it never collapses. "
            <b>"Compare with"</b> " trains a second model beside the first, to see both at once."</p>
    }
}

/// The VAE's redrawing first, and the GANs among the other models.
fn vae_first() -> impl IntoView {
    view! {
        <p>"A " <b>"VAE"</b> " (variational autoencoder) learns to draw digits without a game. Its " <b>"encoder"</b>
            " squeezes each real digit (from MNIST) into a small cloud of points in z, a list of numbers; its "
            <b>"decoder"</b> " draws the digit back from a point of that cloud. The cloud is kept near a plain bell \
            curve, so once trained the decoder turns any z drawn from that curve into a digit: that is what the grid and \
            the latent explorer show. Under the grid, once the run trains: digits it never trained on, and what the \
            VAE makes of them."</p>
        <p>"What the curves do. The VAE is scored on the " <b>"ELBO"</b> " (evidence lower bound): how well the \
            decoder redraws every pixel of the digit the encoder saw (the reconstruction term, a Bernoulli likelihood of \
            the pixels, in [0, 1]) minus how far the encoder's clouds are from the bell curve (the KL term). It climbs \
            fast, then slowly for a long time, while the two terms trade one against the other: a sharper redrawing \
            takes tighter clouds, further from the bell curve (a larger KL term)."</p>
        <p>"What to expect. Scored on every pixel, the VAE draws the average where it is unsure: its digits are \
            blurrier than a GAN's. But it is trained to redraw every digit it sees, so it does not collapse onto a few \
            kinds, as a GAN can; the quality panel's bars even out as it learns."</p>
        <p><b>"Other models. "</b> "A " <b>"DCGAN"</b> " learns by a game between two networks: a generator (G), shaped \
            like the decoder, turns z into a picture, and a discriminator (D) says how likely a picture is to be a real \
            digit; G learns only from D's verdicts. Its digits are sharper, but it may collapse onto a few kinds. A "
            <b>"conditional DCGAN"</b> " is also told which digit to draw. " <b>"Compare with"</b>
            " trains a second model beside the first, to see both at once."</p>
    }
}

/// The keyboard shortcuts, over the page. Focus moves into the dialog each time it opens,
/// stays inside while it is open (Tab has nowhere else to go), and goes back to whatever had it
/// when it closes.
#[component]
pub fn HelpOverlay() -> impl IntoView {
    let help_open = PageState::get().help_open;
    let close_button = NodeRef::<leptos::html::Button>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let document = || web_sys::window().and_then(|w| w.document());
    Effect::new(move |was_open: Option<bool>| {
        let open = help_open.get();
        if open && was_open != Some(true) {
            let active = document().and_then(|d| d.active_element()).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            opener.set_value(active);
        }
        if !open && was_open == Some(true) {
            if let Some(element) = opener.get_value() {
                let _ = element.focus();
            }
        }
        open
    });
    // The button exists once the dialog is drawn.
    Effect::new(move |_| {
        if let Some(button) = close_button.get() {
            let _ = button.focus();
        }
    });
    let keep_focus = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Tab" {
            ev.prevent_default();
            if let Some(button) = close_button.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    view! {
    <Show when=move || help_open.get()>
        <div class="overlay" on:click=move |_| help_open.set(false)>
            <div id="help" class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title"
                on:click=|ev| ev.stop_propagation() on:keydown=keep_focus>
                <h2 id="help-title">"Keyboard shortcuts"</h2>
                <table>
                    {SHORTCUTS.iter().map(|(key, what)| view! { <tr><td><kbd>{*key}</kbd></td><td>{*what}</td></tr> }).collect_view()}
                </table>
                <p class="explain">"Tab moves between controls; every button and slider works from the keyboard."</p>
                <button id="help-close" node_ref=close_button on:click=move |_| help_open.set(false)>"Close"</button>
            </div>
        </div>
    </Show>
    }
}
