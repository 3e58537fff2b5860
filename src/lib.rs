//! ganplay: a DCGAN playground. This library is the pure core (model, data, training step,
//! settings, weights file, images, the page's state) shared by the native command line and
//! the page; `web` holds the browser layers over it.

pub mod activation_kernel;
pub mod augment;
pub mod checkpoint;
pub mod classifier;
pub mod conv_kernel;
pub mod data;
pub mod image;
pub mod latent;
mod launch;
pub mod layers;
pub mod model;
pub mod norm_kernel;
pub mod training;
pub mod metrics;
pub mod protocol;
pub mod quality;
pub mod readback;
pub mod settings;
pub mod share;
pub mod timelapse;
pub mod web;
