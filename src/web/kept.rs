//! The runs kept in this browser (IndexedDB): the page's latest snapshot, so that a reload or a
//! closed tab does not lose what was trained, and that of the run compared beside it. A record
//! for each (`KeptSlot`), replaced by each new snapshot.

use super::JsBytes;
use super::page::state::{KeptRun, KeptSlot};
use crate::model::Family;
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
export function keepRun(key, record) { return inStore('readwrite', (s) => s.put(record, key)); }
export function keptRun(key) { return inStore('readonly', (s) => s.get(key)); }
export function forgetRun(key) { return inStore('readwrite', (s) => s.delete(key)); }
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = keepRun)]
    fn keep_run(key: &str, record: &JsValue) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_name = keptRun)]
    fn kept_run(key: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_name = forgetRun)]
    fn forget_run(key: &str) -> Result<js_sys::Promise, JsValue>;
}

/// The record's key in the store ('last' from before a compared run was kept too).
fn key(slot: KeptSlot) -> &'static str {
    match slot {
        KeptSlot::Run => "last",
        KeptSlot::Compared => "compared",
    }
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

/// Keeps `run` in `slot`, in place of the one kept there before.
pub async fn keep(slot: KeptSlot, run: &KeptRun) -> Result<(), String> {
    let record = js_sys::Object::new();
    let curves = run.curves.as_deref().map_or(JsValue::UNDEFINED, JsValue::from);
    let family = run.family.map_or(JsValue::UNDEFINED, |f| f.name().into());
    let pair = run.pair.map_or(JsValue::UNDEFINED, |pair| JsValue::from(pair as f64));
    for (name, value) in [
        ("steps", JsValue::from(run.steps as f64)),
        ("what", run.what.as_str().into()),
        ("family", family),
        ("pair", pair),
        ("bytes", (*run.bytes).clone().into()),
        ("curves", curves),
    ] {
        js_sys::Reflect::set(&record, &name.into(), &value).map_err(|e| format!("{e:?}"))?;
    }
    settle(keep_run(key(slot), &record)).await.map(|_| ())
}

/// The run an earlier visit kept in `slot`, if there is one. A record that is not one is
/// passed over (the weights file itself is checked when it is loaded).
pub async fn kept(slot: KeptSlot) -> Result<Option<KeptRun>, String> {
    let record = settle(kept_run(key(slot))).await?;
    if !record.is_object() {
        return Ok(None);
    }
    let (Some(steps), Ok(bytes)) = (field(&record, "steps").as_f64(), field(&record, "bytes").dyn_into::<js_sys::Uint8Array>())
    else {
        return Ok(None);
    };
    let what = field(&record, "what").as_string().unwrap_or_default();
    let family = field(&record, "family").as_string().and_then(|name| Family::from_name(&name));
    let pair = field(&record, "pair").as_f64().map(|pair| pair as u64);
    // Curves that do not read are passed over: the run is shown from its step on.
    let curves = field(&record, "curves").as_string();
    Ok(Some(KeptRun { steps: steps as u64, what, family, pair, bytes: JsBytes::new(bytes), curves }))
}

/// Forgets the run kept in `slot`.
pub async fn forget(slot: KeptSlot) -> Result<(), String> {
    settle(forget_run(key(slot))).await.map(|_| ())
}
