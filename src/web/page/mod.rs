//! The page, one file for each thing on screen. `state` holds the page's state and logic as
//! plain Rust (tested natively); `signals` provides it to the components as leptos signals.
//!
//! - `status`: the status bar (backend, step, speed) and the messages under it
//! - `controls`: play / step / reset, and a field for every setting in the settings table
//! - `charts`: the curves of what D believes and of the losses
//! - `samples`: the grid of digits G draws
//! - `quality`: what a digit classifier makes of G's digits, and the mode-collapse alarm
//! - `latent`: the latent explorer (big digit, sliders, walk)
//! - `keep`: save, load, snapshots, the run kept in the browser, exports
//! - `help`: what is going on, and the shortcuts dialog; `shortcuts`: the keys themselves

pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod charts;
#[cfg(target_arch = "wasm32")]
pub mod controls;
#[cfg(target_arch = "wasm32")]
pub mod help;
#[cfg(target_arch = "wasm32")]
pub mod keep;
#[cfg(target_arch = "wasm32")]
pub mod latent;
#[cfg(target_arch = "wasm32")]
pub mod quality;
#[cfg(target_arch = "wasm32")]
pub mod samples;
#[cfg(target_arch = "wasm32")]
pub mod shortcuts;
#[cfg(target_arch = "wasm32")]
pub mod signals;
#[cfg(target_arch = "wasm32")]
pub mod status;
