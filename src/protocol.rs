//! The messages between the page and its training worker: commands in, reports out. Both sides
//! share these types and send them as JSON; neither side sees the other's internals.

use serde::{Deserialize, Serialize};

use crate::model::ModelConfig;
use crate::training::{StepReport, TrainConfig};

/// Where the worker should train.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendRequest {
    /// The faster of WebGPU and the CPU, judged from the adapter the browser offers.
    #[default]
    Auto,
    WebGpu,
    Cpu,
}

/// Model sizes offered on the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    /// Digits form within a minute or two even on a slow CPU.
    #[default]
    Tiny,
    Small,
    /// The DCGAN at width 32, as benchmarked.
    Standard,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Tiny, Preset::Small, Preset::Standard];

    /// Generator and discriminator widths. Small presets keep D narrower than G: at equal
    /// small widths D wins outright and G never learns (measured: G 8 / D 8 stays grey noise
    /// after 1,500 steps; G 16 / D 8 draws digits).
    pub fn model(self) -> ModelConfig {
        let (ngf, ndf) = match self {
            Preset::Tiny => (16, 8),
            Preset::Small => (24, 16),
            Preset::Standard => (32, 32),
        };
        ModelConfig::new().with_ngf(ngf).with_ndf(ndf)
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Small => "small",
            Preset::Standard => "standard",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Build fresh networks (on first use, picking the backend) and wait paused.
    Reset { backend: BackendRequest, model: ModelConfig, train: TrainConfig },
    Play,
    Pause,
    /// One training step, then pause.
    Step,
    /// Settings that apply from the next step on (learning rates, batch size, loss...).
    /// Settings that need new networks (seed, beta1, sizes) come with `Reset`.
    Tune(TrainConfig),
    /// Draw one image from this latent vector.
    Sample { z: Vec<f32> },
    /// Time `steps` training steps of each preset on the current backend.
    Bench { steps: u32 },
    /// Test hook: make a failure happen, to check that the page reports it.
    InjectFault(Fault),
    /// Send the run as a weights file (answered by `Report::Saved`).
    Save,
    /// Keep the run as a snapshot (answered by `Report::Snapshot`).
    Snapshot,
    /// Go on from a weights file; `source` names it in messages. The bytes travel beside the
    /// JSON (see `payload`).
    Load {
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
    /// The backend in use, in words, and why it was chosen.
    Backend { name: String, reason: String, on_gpu: bool },
    /// Fresh networks are ready (paused).
    Ready { nz: usize },
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
    Running(bool),
    /// Training stopped because a loss was not finite; the weights were rolled back.
    Diverged { step: u64, restored_step: u64 },
    /// Milliseconds per step of each preset.
    Bench { backend: String, results: Vec<(Preset, f64)> },
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
    /// A weights file was loaded: the run now has these settings and is paused at `steps`.
    Loaded { model: ModelConfig, train: TrainConfig, steps: u64, source: String },
    /// A weights file was refused (the reason, in words); the run is as it was.
    LoadRefused(String),
    /// The GPU device was lost: this worker cannot train any more.
    DeviceLost(String),
    /// The worker panicked and has stopped.
    Crashed(String),
    /// Something the user should know that stops nothing.
    Notice(String),
    Error(String),
}

impl Command {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("commands serialize")
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("bad command: {e}"))
    }

    /// The binary part of the message, sent beside the JSON rather than inside it.
    pub fn payload(&self) -> Option<&[u8]> {
        match self {
            Command::Load { bytes, .. } | Command::UseGenerator { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    /// The command from its JSON and its binary part.
    pub fn from_message(text: &str, payload: Vec<u8>) -> Result<Self, String> {
        let mut command = Self::from_json(text)?;
        if let Command::Load { bytes, .. } | Command::UseGenerator { bytes, .. } = &mut command {
            *bytes = payload;
        }
        Ok(command)
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports serialize")
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("bad report: {e}"))
    }

    /// The binary part of the message, sent beside the JSON rather than inside it.
    pub fn payload(&self) -> Option<&[u8]> {
        match self {
            Report::Saved { bytes, .. } | Report::Snapshot { bytes, .. } | Report::Generator { bytes, .. } => Some(bytes),
            Report::Grid { pixels, .. } => Some(pixels),
            _ => None,
        }
    }

    /// The report from its JSON and its binary part.
    pub fn from_message(text: &str, payload: Vec<u8>) -> Result<Self, String> {
        let mut report = Self::from_json(text)?;
        match &mut report {
            Report::Saved { bytes, .. } | Report::Snapshot { bytes, .. } | Report::Generator { bytes, .. } => *bytes = payload,
            Report::Grid { pixels, .. } => *pixels = payload,
            _ => {}
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let command = Command::Reset { backend: BackendRequest::Cpu, model: Preset::Small.model(), train: TrainConfig::new() };
        assert_eq!(Command::from_json(&command.to_json()).unwrap(), command);
        let report = Report::Steps { reports: vec![StepReport { step: 3, ..Default::default() }], steps_per_second: 2.5 };
        assert_eq!(Report::from_json(&report.to_json()).unwrap(), report);
        assert!(Command::from_json("{\"Nope\":1}").is_err());
    }

    #[test]
    fn weights_files_travel_beside_the_json() {
        let load = Command::Load { source: "run.ganplay".into(), bytes: vec![1, 2, 3] };
        assert!(!load.to_json().contains("[1,2,3]"));
        assert_eq!(Command::from_message(&load.to_json(), load.payload().unwrap().to_vec()).unwrap(), load);
        let saved = Report::Saved { steps: 9, bytes: vec![7; 5] };
        assert_eq!(Report::from_message(&saved.to_json(), vec![7; 5]).unwrap(), saved);
        assert_eq!(Report::Running(true).payload(), None);
        let grid = Report::Grid { width: 2, height: 1, weights: Weights::Run { steps: 1 }, pixels: vec![0, 255] };
        assert!(!grid.to_json().contains("255"));
        assert_eq!(Report::from_message(&grid.to_json(), vec![0, 255]).unwrap(), grid);
    }

    #[test]
    fn presets_have_names() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Some(preset));
        }
        assert_eq!(Preset::Standard.model(), ModelConfig::new());
    }
}
