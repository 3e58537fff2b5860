//! Files in and out of the page: downloads (weights, PNG, CSV) and reading an uploaded file.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

fn document() -> Result<web_sys::Document, String> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| "no document".to_string())
}

fn click_link(href: &str, name: &str) -> Result<(), String> {
    let link: web_sys::HtmlAnchorElement =
        document()?.create_element("a").map_err(|e| format!("{e:?}"))?.unchecked_into();
    link.set_href(href);
    link.set_download(name);
    link.click();
    Ok(())
}

/// Offers `bytes` as a file named `name`.
pub fn download_bytes(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    download_array(name, &js_sys::Uint8Array::from(bytes), mime)
}

/// Offers bytes the browser holds as a file named `name`.
pub fn download_array(name: &str, bytes: &js_sys::Uint8Array, mime: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let result = click_link(&url, name);
    // The download has taken its copy once the click has been handled.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
    result
}

/// Offers the canvas with id `canvas_id` as a PNG named `name`, each pixel drawn as a
/// `scale` x `scale` square (28-pixel digits are too small for a slide).
pub fn download_canvas_png(canvas_id: &str, name: &str, scale: u32) -> Result<(), String> {
    let document = document()?;
    let source: web_sys::HtmlCanvasElement = document
        .get_element_by_id(canvas_id)
        .ok_or_else(|| format!("no picture #{canvas_id} yet"))?
        .dyn_into()
        .map_err(|_| format!("#{canvas_id} is not a canvas"))?;
    let big: web_sys::HtmlCanvasElement = document.create_element("canvas").map_err(|e| format!("{e:?}"))?.unchecked_into();
    big.set_width(source.width() * scale);
    big.set_height(source.height() * scale);
    let context: web_sys::CanvasRenderingContext2d = big
        .get_context("2d")
        .map_err(|e| format!("{e:?}"))?
        .ok_or("no 2d context")?
        .unchecked_into();
    context.set_image_smoothing_enabled(false);
    context
        .draw_image_with_html_canvas_element_and_dw_and_dh(&source, 0.0, 0.0, big.width() as f64, big.height() as f64)
        .map_err(|e| format!("{e:?}"))?;
    let url = big.to_data_url_with_type("image/png").map_err(|e| format!("{e:?}"))?;
    click_link(&url, name)
}

/// The bytes of a file the user picked, left in the browser's hands.
pub async fn read_file(file: &web_sys::File) -> Result<super::JsBytes, String> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|e| format!("could not read {}: {e:?}", file.name()))?;
    Ok(super::JsBytes::new(js_sys::Uint8Array::new(&buffer)))
}

/// The text at `url` (an asset served with the page).
pub async fn fetch_text(url: &str) -> Result<String, String> {
    let fail = |e: JsValue| format!("{e:?}");
    let response = super::fetch(url).await?;
    JsFuture::from(response.text().map_err(fail)?).await.map_err(fail)?.as_string().ok_or_else(|| "not text".to_string())
}
