//! The sampling worker: draws the big latent sample on the CPU from a copy of the generator that
//! the training worker sends, so a slider answers at once even while a slow training step (a
//! software GPU, a big model) keeps the training worker busy. Same wasm module as the training
//! worker, started with `?role=sampler`.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::{pack, unpack};
use crate::checkpoint::Checkpoint;
use crate::image::to_byte;
use crate::model::{Generator, IMAGE_SIDE};
use crate::protocol::{Command, Picture, Report, Weights};

/// Is this worker started as the sampler?
pub fn is_sampler() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .ok()
        .and_then(|l| js_sys::Reflect::get(&l, &"search".into()).ok())
        .and_then(|s| s.as_string())
        .is_some_and(|s| s.contains("role=sampler"))
}

fn send(report: &Report) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let (message, transfer) = pack(report.to_json(), report.payload());
    let _ = scope.post_message_with_transfer(&message, &transfer);
}

fn draw(generator: &Generator, z: Vec<f32>) -> Result<Picture, String> {
    let nz = generator.nz();
    if z.len() != nz {
        return Err(format!("A latent vector needs {nz} numbers, got {}.", z.len()));
    }
    let z = Tensor::from_data(TensorData::new(z, [1, nz, 1, 1]), &Device::flex());
    // flex computes at once, so reading the result does not need to wait.
    let values = generator.forward(z).into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    let pixels = values.iter().map(|&v| to_byte(v)).collect();
    Ok(Picture { width: IMAGE_SIDE as u32, height: IMAGE_SIDE as u32, pixels })
}

fn handle(current: &RefCell<Option<(Generator, Weights)>>, command: Command) -> Result<(), String> {
    match command {
        Command::UseGenerator { weights, bytes } => {
            let checkpoint = Checkpoint::from_bytes(&bytes).map_err(|e| e.to_string())?;
            let generator = checkpoint.generator(&Device::flex()).map_err(|e| e.to_string())?;
            *current.borrow_mut() = Some((generator.valid(), weights));
        }
        Command::Sample { z } => {
            let current = current.borrow();
            let (generator, weights) = current.as_ref().ok_or("The sampler has no generator yet.")?;
            send(&Report::Sample { picture: draw(generator, z)?, weights: *weights });
        }
        other => return Err(format!("The sampler does not take {other:?}")),
    }
    Ok(())
}

pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        send(&Report::Crashed(info.to_string()));
    }));
    let current = Rc::new(RefCell::new(None));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let (text, payload) = unpack(&event.data()).unwrap_or_default();
        let result = Command::from_message(&text, payload).and_then(|command| handle(&current, command));
        if let Err(message) = result {
            send(&Report::Error(message));
        }
    });
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    send(&Report::Listening);
}
