//! The browser side: the page (`app` and its components in `page/`), the training worker and
//! the sampling worker. All are thin layers over the core and talk only through `protocol`
//! messages. The page's state (`page::state`) is plain Rust and tested natively.

pub mod page;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod files;
#[cfg(target_arch = "wasm32")]
pub mod kept;
#[cfg(target_arch = "wasm32")]
mod runtime;
#[cfg(target_arch = "wasm32")]
pub mod sampler;
#[cfg(target_arch = "wasm32")]
pub mod worker;

#[cfg(target_arch = "wasm32")]
pub use runtime::*;
