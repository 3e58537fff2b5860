//! What the page and both workers need from the browser: the module's start-up, time, and
//! `protocol` messages with their bytes, sent and received the same way in both directions.

use std::sync::atomic::{AtomicU32, Ordering};

use burn::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::image::to_byte;
use crate::model::{Generator, IMAGE_SIDE, ModelConfig};
use crate::protocol::{Command, Message, Picture, Report};

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

/// The server's answer for `url` (an asset served with the page), or why there is none, in
/// words (works in the page and in a worker).
pub async fn fetch(url: &str) -> Result<web_sys::Response, String> {
    let promise = match web_sys::window() {
        Some(window) => window.fetch_with_str(url),
        None => js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>().fetch_with_str(url),
    };
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| format!("{e:?}"))?.unchecked_into();
    if !response.ok() {
        return Err(format!("the server answered {} {}", response.status(), response.status_text()));
    }
    Ok(response)
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
pub fn pack<M: Message>(message: M) -> (JsValue, js_sys::Array) {
    let (json, bytes) = message.into_parts();
    let transfer = js_sys::Array::new();
    match bytes {
        None => (json.into(), transfer),
        Some(bytes) => {
            let array = js_sys::Uint8Array::from(&bytes[..]);
            transfer.push(&array.buffer());
            (js_sys::Array::of2(&json.into(), &array).into(), transfer)
        }
    }
}

/// A message whose bytes are already in the browser: `[json, bytes]`, copied by the browser
/// (not handed over, so the sender keeps its copy).
pub fn pack_with<M: Message>(message: M, bytes: &js_sys::Uint8Array) -> JsValue {
    let (json, _) = message.into_parts();
    js_sys::Array::of2(&json.into(), bytes).into()
}

/// A message's binary part (a weights file, the grid's grey levels) as the browser holds it.
/// The page keeps weights files and passes them on (to the sampling worker, back to the
/// training worker) without copying them into wasm memory: they arrive every second or two
/// and run to megabytes, and each copy is main-thread time.
pub type JsBytes = send_wrapper::SendWrapper<js_sys::Uint8Array>;

/// A message made by `pack`, its bytes left where the browser put them.
pub fn unpack<M: Message>(data: &JsValue) -> Result<(M, Option<JsBytes>), String> {
    let (text, bytes) = if let Some(text) = data.as_string() {
        (text, None)
    } else {
        let array: &js_sys::Array = data.dyn_ref().ok_or("a message that is neither text nor a list")?;
        let text = array.get(0).as_string().ok_or("a message without its text")?;
        (text, array.get(1).dyn_into::<js_sys::Uint8Array>().ok().map(JsBytes::new))
    };
    Ok((M::from_json(&text)?, bytes))
}

/// A message made by `pack`, its bytes copied into it.
pub fn unpack_owned<M: Message>(data: &JsValue) -> Result<M, String> {
    let (mut message, bytes) = unpack::<M>(data)?;
    if let (Some(slot), Some(bytes)) = (message.bytes_mut(), bytes) {
        *slot = bytes.to_vec();
    }
    Ok(message)
}

fn worker_scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Sends a report from a worker to the page.
pub fn send(report: Report) {
    let (message, transfer) = pack(report);
    let _ = worker_scope().post_message_with_transfer(&message, &transfer);
}

/// The set-up both workers share: a panic is reported to the page as `Crashed`, each message is
/// decoded into a `Command` for `on_command` (one that is not is answered with `Error`), and the
/// page is told that the worker listens.
pub fn serve(mut on_command: impl FnMut(Command) + 'static) {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        send(Report::Crashed(info.to_string()));
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match unpack_owned::<Command>(&event.data()) {
            Ok(command) => on_command(command),
            Err(e) => send(Report::Error(e)),
        }
    });
    worker_scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    send(Report::Listening);
}

/// The digit `generator` (of `model`) draws from `z`, as grey levels: how both workers draw
/// the big sample. A conditional model draws the digit `class` (0 where none is given).
pub async fn draw_digit(generator: &Generator, model: &ModelConfig, z: Vec<f32>, class: Option<u8>) -> Result<Picture, String> {
    let nz = model.nz;
    if z.len() != nz {
        return Err(format!("A latent vector needs {nz} numbers, got {}.", z.len()));
    }
    let device = generator.devices()[0].clone();
    let z = Tensor::from_data(TensorData::new(z, [1, nz, 1, 1]), &device);
    let input = model.generator_input(z, Some(&[class.unwrap_or(0)]));
    let data = generator.forward(input).into_data_async().await.map_err(|e| format!("{e:?}"))?;
    let values = data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    let pixels = values.iter().map(|&v| to_byte(v)).collect();
    Ok(Picture { width: IMAGE_SIDE as u32, height: IMAGE_SIDE as u32, pixels })
}
