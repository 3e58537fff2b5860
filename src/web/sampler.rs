//! The sampling worker: draws the big latent sample on the CPU from a copy of the generator that
//! the training worker sends, so a slider answers at once even while a slow training step (a
//! software GPU, a big model) keeps the training worker busy. Same wasm module as the training
//! worker, started with `?role=sampler`; set up and drawing as the training worker does.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;

use super::{draw_digit, send, serve};
use crate::checkpoint::Checkpoint;
use crate::model::{Generator, ModelConfig};
use crate::protocol::{Command, Report, Weights};

/// Is this worker started as the sampler?
pub fn is_sampler() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .ok()
        .and_then(|l| js_sys::Reflect::get(&l, &"search".into()).ok())
        .and_then(|s| s.as_string())
        .is_some_and(|s| s.contains("role=sampler"))
}

type Current = Rc<RefCell<Option<(Generator, ModelConfig, Weights)>>>;

async fn handle(current: Current, command: Command) -> Result<(), String> {
    match command {
        Command::UseGenerator { weights, bytes } => {
            let checkpoint = Checkpoint::from_bytes(&bytes).map_err(|e| e.to_string())?;
            let generator = checkpoint.generator(&Device::flex()).map_err(|e| e.to_string())?;
            *current.borrow_mut() = Some((generator.valid(), checkpoint.model, weights));
        }
        Command::Sample { z, class } => {
            // A copy (the tensors are shared), so no borrow is held while drawing.
            let (generator, model, weights) = current.borrow().clone().ok_or("The sampler has no generator yet.")?;
            send(Report::Sample { picture: draw_digit(&generator, &model, z, class).await?, weights });
        }
        other => return Err(format!("The sampler does not take {other:?}")),
    }
    Ok(())
}

pub fn start() {
    let current: Current = Rc::new(RefCell::new(None));
    serve(move |command| {
        let current = current.clone();
        // Tasks run in the order spawned, so commands are handled in the order they came.
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(message) = handle(current, command).await {
                send(Report::Error(message));
            }
        });
    });
}
