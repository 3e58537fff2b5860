//! ganplay: a DCGAN playground. This library is the pure core (model, data, training step,
//! weights file, images) shared by the native command line and the page's Web Worker.

pub mod checkpoint;
pub mod data;
pub mod image;
pub mod model;
pub mod training;
pub mod metrics;
pub mod protocol;
pub mod readback;
pub mod share;
#[cfg(target_arch = "wasm32")]
pub mod web;
