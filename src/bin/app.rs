//! Entry point of the page (built by trunk into index.html).
#[cfg(target_arch = "wasm32")]
fn main() {
    ganplay::web::run_static_constructors();
    ganplay::web::app::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the page runs in the browser: build it with scripts/serve.sh");
}
