//! The browser side: the training worker and the page. Both are thin layers over the core and
//! talk only through `protocol` messages.

pub mod app;
pub mod worker;

use wasm_bindgen::JsCast;

/// Milliseconds since the page or worker started (works in both).
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// Resolves after the event loop has run once (so queued messages are delivered).
pub async fn next_tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into()).expect("setTimeout exists");
        let set_timeout: js_sys::Function = set_timeout.unchecked_into();
        let _ = set_timeout.call2(&global, &resolve, &0.into());
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
