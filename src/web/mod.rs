//! The browser side: the training worker and the page. Both are thin layers over the core and
//! talk only through `protocol` messages.

pub mod app;
pub mod files;
pub mod kept;
pub mod sampler;
pub mod worker;

use std::sync::atomic::{AtomicU32, Ordering};

use wasm_bindgen::JsCast;

/// Runs the module's static constructors once; `main` calls it first. burn's GPU compiler
/// (cubecl's IR dialects, through `pliron`) registers its operations with `inventory`.
///
/// A wasm binary that never calls `__wasm_call_ctors` itself is linked as a "command", and
/// wasm-ld then runs every constructor again at the start of every exported function: every
/// call from JavaScript into the module, down to each JS value handed in. That took about half
/// of the page's time handling a message. Calling it here makes the linker leave the exports
/// as they are.
pub fn run_static_constructors() {
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: the linker's own initialiser, run before anything that reads what it sets up.
    unsafe { __wasm_call_ctors() }
}

/// How many times the static constructors have run, counted by one of them.
static CONSTRUCTOR_RUNS: AtomicU32 = AtomicU32::new(0);

extern "C" fn count_constructor_run() {
    CONSTRUCTOR_RUNS.fetch_add(1, Ordering::Relaxed);
}

#[used]
#[unsafe(link_section = ".init_array")]
static COUNT_CONSTRUCTOR_RUNS: extern "C" fn() = count_constructor_run;

/// Says on the console when the static constructors did not run exactly once by the time the
/// module has been called into many times: the exports are wrapped again (a build whose `main`
/// does not call `run_static_constructors` counts 0 here), and every call pays for them.
pub fn check_static_constructors(module: &str) {
    let runs = CONSTRUCTOR_RUNS.load(Ordering::Relaxed);
    if runs != 1 {
        leptos::logging::error!(
            "{module}: the static constructors ran {runs} times instead of once; see web::run_static_constructors"
        );
    }
}

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

/// A message for `postMessage`: the JSON alone, or `[json, bytes]` with the bytes' buffer
/// handed over (not copied). Returns the message and the list of buffers to transfer.
pub fn pack(json: String, payload: Option<&[u8]>) -> (wasm_bindgen::JsValue, js_sys::Array) {
    let transfer = js_sys::Array::new();
    match payload {
        None => (json.into(), transfer),
        Some(bytes) => {
            let array = js_sys::Uint8Array::from(bytes);
            transfer.push(&array.buffer());
            (js_sys::Array::of2(&json.into(), &array).into(), transfer)
        }
    }
}

/// A message's binary part (a weights file, the grid's grey levels) as the browser holds it.
/// The page keeps weights files and passes them on (to the sampling worker, back to the
/// training worker) without copying them into wasm memory: they arrive every second or two
/// and run to megabytes, and each copy is main-thread time.
pub type JsBytes = send_wrapper::SendWrapper<js_sys::Uint8Array>;

/// The JSON of a message made by `pack`, and its bytes left where the browser put them.
pub fn unpack_js(data: &wasm_bindgen::JsValue) -> Option<(String, Option<JsBytes>)> {
    if let Some(text) = data.as_string() {
        return Some((text, None));
    }
    let array: &js_sys::Array = data.dyn_ref()?;
    let text = array.get(0).as_string()?;
    Some((text, array.get(1).dyn_into::<js_sys::Uint8Array>().ok().map(JsBytes::new)))
}

/// A message whose bytes are already in the browser: `[json, bytes]`, copied by the browser
/// (not handed over, so the sender keeps its copy).
pub fn pack_js(json: String, bytes: &js_sys::Uint8Array) -> wasm_bindgen::JsValue {
    js_sys::Array::of2(&json.into(), bytes).into()
}

/// The JSON and the bytes of a message made by `pack`, the bytes copied into wasm memory.
pub fn unpack(data: &wasm_bindgen::JsValue) -> Option<(String, Vec<u8>)> {
    let (text, bytes) = unpack_js(data)?;
    Some((text, bytes.map(|b| b.to_vec()).unwrap_or_default()))
}
