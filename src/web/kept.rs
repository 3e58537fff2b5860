//! The run kept in this browser (IndexedDB): the page's latest snapshot, so that a reload or a
//! closed tab does not lose what was trained. One record, replaced by each new snapshot.

use super::JsBytes;
use super::page::state::KeptRun;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = r#"
function inStore(mode, work) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open('ganplay', 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore('runs');
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const tx = db.transaction('runs', mode);
      const request = work(tx.objectStore('runs'));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error); };
    };
  });
}
export function keepRun(record) { return inStore('readwrite', (s) => s.put(record, 'last')); }
export function keptRun() { return inStore('readonly', (s) => s.get('last')); }
export function forgetRun() { return inStore('readwrite', (s) => s.delete('last')); }
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = keepRun)]
    fn keep_run(record: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_name = keptRun)]
    fn kept_run() -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_name = forgetRun)]
    fn forget_run() -> Result<js_sys::Promise, JsValue>;
}


async fn settle(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, String> {
    let describe = |e: JsValue| match e.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    };
    JsFuture::from(promise.map_err(describe)?).await.map_err(describe)
}

fn field(record: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(record, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Keeps `run` in place of the one kept before.
pub async fn keep(run: &KeptRun) -> Result<(), String> {
    let record = js_sys::Object::new();
    let curves = run.curves.as_deref().map_or(JsValue::UNDEFINED, JsValue::from);
    for (name, value) in [
        ("steps", JsValue::from(run.steps as f64)),
        ("what", run.what.as_str().into()),
        ("bytes", (*run.bytes).clone().into()),
        ("curves", curves),
    ] {
        js_sys::Reflect::set(&record, &name.into(), &value).map_err(|e| format!("{e:?}"))?;
    }
    settle(keep_run(&record)).await.map(|_| ())
}

/// The run kept by an earlier visit, if there is one. A record that is not one is passed over
/// (the weights file itself is checked when it is loaded).
pub async fn kept() -> Result<Option<KeptRun>, String> {
    let record = settle(kept_run()).await?;
    if !record.is_object() {
        return Ok(None);
    }
    let (Some(steps), Ok(bytes)) = (field(&record, "steps").as_f64(), field(&record, "bytes").dyn_into::<js_sys::Uint8Array>())
    else {
        return Ok(None);
    };
    let what = field(&record, "what").as_string().unwrap_or_default();
    // Curves that do not read are passed over: the run is shown from its step on.
    let curves = field(&record, "curves").as_string();
    Ok(Some(KeptRun { steps: steps as u64, what, bytes: JsBytes::new(bytes), curves }))
}

/// Forgets the kept run.
pub async fn forget() -> Result<(), String> {
    settle(forget_run()).await.map(|_| ())
}
