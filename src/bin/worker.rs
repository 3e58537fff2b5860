//! Entry point of the training Web Worker (built by trunk as `worker.js`).
#[cfg(target_arch = "wasm32")]
fn main() {
    ganplay::web::run_static_constructors();
    ganplay::web::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the training worker runs in the browser: build the page with scripts/serve.sh");
}
