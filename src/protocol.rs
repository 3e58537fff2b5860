//! The messages between the page and its training worker: commands in, reports out. Both sides
//! share these types and send them as JSON; neither side sees the other's internals.

use serde::{Deserialize, Serialize};

use crate::metrics::Curves;
use crate::quality::Quality;
use crate::settings::{Preset, Settings};
use crate::training::StepReport;

/// What a weights file being loaded is. The answer (`Loaded`, `LoadRefused`, `LoadFailed`) echoes it: the
/// page's own snapshot keeps the curves up to its step, an uploaded file or the kept run starts
/// them afresh, and a kept run that is refused is forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadKind {
    File,
    Snapshot,
    KeptRun,
}

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Build fresh networks and wait paused. The first one opens the device for
    /// `settings.backend`; sizes left to the hardware (`auto_size`) are picked for it.
    Reset(Settings),
    Play,
    Pause,
    /// One training step, then pause.
    Step,
    /// New settings: those that apply at once (`settings::Applies::AtOnce`) take effect from
    /// the next step; the others wait for a `Reset`.
    Tune(Settings),
    /// Draw one image from this latent vector (of the digit `class`, for a conditional model).
    Sample { z: Vec<f32>, class: Option<u8> },
    /// Time `steps` training steps of each preset on the current backend.
    Bench { steps: u32 },
    /// Test hook: make a failure happen, to check that the page reports it.
    InjectFault(Fault),
    /// Send the run as a weights file, with its curves as the page has them (answered by
    /// `Report::Saved`); `None` while the page's curves are not the run's (a load on its way).
    Save { curves: Option<Curves> },
    /// Keep the run as a snapshot (answered by `Report::Snapshot`).
    Snapshot,
    /// Pause and hand the run over, for a worker on another backend to go on from: answered by
    /// a `Report::Snapshot` of the run (kept in the page's list like any other), then
    /// `Report::HandedOver`.
    HandOver,
    /// Go on from a weights file; `source` names it in messages. The bytes travel beside the
    /// JSON (see `Message`).
    Load {
        kind: LoadKind,
        source: String,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// To the sampling worker: draw from now on with this generator (a weights file).
    UseGenerator {
        weights: Weights,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
}

/// Failures the page must survive and explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// The next step reports a NaN loss, as a diverging run would.
    Nan,
    /// The worker panics.
    Panic,
    /// The GPU device is destroyed, as when a driver resets or the GPU is unplugged.
    DeviceLost,
    /// The GPU refuses a kernel of the convolution path it times second (ganplay's tiled
    /// kernel), as an adapter that cannot compile it or whose limits it passes would. Sent to a
    /// new worker before its first step, for that step's convolution trial, which then runs
    /// even on a software GPU.
    KernelRefused,
    /// The generator collapses onto one picture (every z draws the same), as a run in mode
    /// collapse does; injected once the run draws enough kinds of digit.
    Collapse,
}

/// Which generator drew a picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Weights {
    /// The generator shipped with the page, trained for `steps` steps.
    Pretrained { steps: u64 },
    /// The run on the page, at step `steps`.
    Run { steps: u64 },
}

/// A grayscale picture sent to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// What the worker tells the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Report {
    /// The worker is listening: commands sent before this may be lost (a module worker
    /// drops messages that arrive while it is still loading).
    Listening,
    /// The backend in use, in words, and why it was chosen; `software` when it is a GPU
    /// emulated on the CPU.
    Backend { name: String, reason: String, on_gpu: bool, software: bool },
    /// Networks are ready (paused), with the run's settings (sizes picked for the hardware
    /// when they were left to it).
    Ready { settings: Settings },
    /// Steps done since the last report, and the rate.
    Steps { reports: Vec<StepReport>, steps_per_second: f32 },
    /// The sample grid for the fixed latent vectors. Its grey levels (`width` x `height`)
    /// travel beside the JSON: as JSON numbers they cost the page a parse every redraw.
    Grid {
        width: u32,
        height: u32,
        weights: Weights,
        #[serde(skip)]
        pixels: Vec<u8>,
    },
    /// The image for the latent vector of a `Sample` command.
    Sample { picture: Picture, weights: Weights },
    /// A VAE's reconstructions: a row of held-out digits (one of each class) above the row of
    /// what the VAE makes of them. Sent with the grid.
    Reconstructions(Picture),
    Running(bool),
    /// A GPU is compiling the kernels of new networks: the first step waits for it.
    /// `Some(ms)`: ready, after that long.
    Kernels(Option<f32>),
    /// Which convolution path a GPU timed fastest for these networks, and the times
    /// (`ConvTrial::summary`).
    Convolutions(String),
    /// Training stopped because a loss was not finite; the weights were rolled back.
    Diverged { step: u64, restored_step: u64 },
    /// Milliseconds per step of each preset.
    /// On a GPU, each preset on its faster convolution path, and what each path took
    /// (`conv_trials_line`).
    Bench { backend: String, results: Vec<(Preset, f64)>, convolutions: Option<String> },
    /// The run as a weights file, for the user to keep.
    Saved {
        steps: u64,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// The run as a snapshot: its last step's report, a few of its digits, its weights file.
    Snapshot {
        steps: u64,
        report: Option<StepReport>,
        /// A few of its digits as a PNG data URL, made in the worker so that the page only
        /// shows it (encoding on the page's thread costs it a frame).
        thumbnail: String,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// The generator on show as a weights file, for the sampling worker.
    Generator {
        weights: Weights,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// The run is paused and its snapshot at `steps` was sent: a worker on another backend
    /// goes on from it (see `Command::HandOver`).
    HandedOver { steps: u64 },
    /// What the digit classifier makes of the digits G draws from fixed latent vectors, at
    /// `step` (`None`: it could not say, e.g. the digits are not numbers), and how long the
    /// scoring took.
    Quality { step: u64, quality: Option<Quality>, millis: f32 },
    /// The quality panel cannot be shown, and why (the classifier is missing or damaged).
    QualityUnavailable(String),
    /// A weights file was loaded: the run now has these settings and is paused at `steps`;
    /// `curves`: the run's curves up to there, where the file holds them.
    Loaded { kind: LoadKind, settings: Settings, steps: u64, source: String, curves: Option<Curves> },
    /// A weights file was refused (the reason, in a sentence, and any technical details); the
    /// run is as it was.
    LoadRefused { kind: LoadKind, message: String, details: Option<String> },
    /// A load the worker could not take up at all (its networks are not built yet, or it has
    /// no training digits), whatever the file: the run is as it was, and the file may be
    /// loaded again.
    LoadFailed { kind: LoadKind, message: String },
    /// The GPU device was lost: this worker cannot train any more.
    DeviceLost(String),
    /// The worker panicked and has stopped.
    Crashed(String),
    /// Something the user should know that stops nothing.
    Notice(String),
    /// A command failed, or one could not be read. Never a load's answer: every load the
    /// worker reads is answered by `Loaded`, `LoadRefused` or `LoadFailed`, so an error on its
    /// way leaves the page waiting for that answer.
    Error(String),
}

/// A message between the page and a worker: JSON, with its bytes (a weights file, grey levels)
/// travelling beside it rather than inside it.
pub trait Message: Serialize + serde::de::DeserializeOwned {
    /// Where the message keeps its bytes, if it has any.
    fn bytes_mut(&mut self) -> Option<&mut Vec<u8>>;

    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialize")
    }

    fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("bad message: {e}"))
    }

    /// The JSON and the bytes, taken out of the message, to send.
    fn into_parts(mut self) -> (String, Option<Vec<u8>>) {
        let bytes = self.bytes_mut().map(std::mem::take);
        (self.to_json(), bytes)
    }

    /// The message from its JSON and its bytes.
    fn from_parts(text: &str, payload: Vec<u8>) -> Result<Self, String> {
        let mut message = Self::from_json(text)?;
        if let Some(bytes) = message.bytes_mut() {
            *bytes = payload;
        }
        Ok(message)
    }

    /// Whether this kind of message comes with bytes.
    fn has_bytes(&self) -> bool
    where
        Self: Clone,
    {
        self.clone().bytes_mut().is_some()
    }
}

impl Message for Command {
    fn bytes_mut(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            Command::Load { bytes, .. } | Command::UseGenerator { bytes, .. } => Some(bytes),
            _ => None,
        }
    }
}

impl Message for Report {
    fn bytes_mut(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            Report::Saved { bytes, .. }
            | Report::Snapshot { bytes, .. }
            | Report::Generator { bytes, .. } => Some(bytes),
            Report::Grid { pixels, .. } => Some(pixels),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let command = Command::Reset(Settings::default());
        assert_eq!(Command::from_json(&command.to_json()).unwrap(), command);
        let report = Report::Steps { reports: vec![StepReport { step: 3, ..Default::default() }], steps_per_second: 2.5 };
        assert_eq!(Report::from_json(&report.to_json()).unwrap(), report);
        assert!(Command::from_json("{\"Nope\":1}").is_err());
    }

    #[test]
    fn bytes_travel_beside_the_json() {
        let load = Command::Load { kind: LoadKind::File, source: "run.ganplay".into(), bytes: vec![1, 2, 3] };
        let (json, bytes) = load.clone().into_parts();
        assert!(!json.contains("[1,2,3]"));
        assert_eq!(Command::from_parts(&json, bytes.unwrap()).unwrap(), load);
        let saved = Report::Saved { steps: 9, bytes: vec![7; 5] };
        let (json, bytes) = saved.clone().into_parts();
        assert_eq!(Report::from_parts(&json, bytes.unwrap()).unwrap(), saved);
        assert_eq!(Report::Running(true).into_parts().1, None);
        assert!(!Report::Running(true).has_bytes() && saved.has_bytes());
        let grid = Report::Grid { width: 2, height: 1, weights: Weights::Run { steps: 1 }, pixels: vec![0, 255] };
        let (json, bytes) = grid.clone().into_parts();
        assert!(!json.contains("255"));
        assert_eq!(Report::from_parts(&json, bytes.unwrap()).unwrap(), grid);
    }
}
