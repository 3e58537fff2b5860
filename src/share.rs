//! The page's setup as an address query (`?preset=small&lr_d=0.0002&seed=3&z=0.12,-1.3,…`):
//! what a shared link carries, read and written here so the two always agree. Reading is
//! forgiving: whatever it cannot use is listed, for the page to say it was ignored.

use crate::model::ModelConfig;
use crate::protocol::{BackendRequest, Fault, Preset};
use crate::training::{LossKind, TrainConfig};

/// Bounds of what the page accepts, shared by its fields and the address.
pub const MAX_NZ: usize = 512;
pub const MAX_WIDTH: usize = 128;
pub const MAX_BATCH: usize = 256;
pub const MAX_SEED: u64 = 1_000_000_000;
/// Latent values beyond this are far outside N(0, 1) and refused.
pub const MAX_LATENT: f32 = 5.0;

/// Everything the address can set.
#[derive(Clone, Debug, PartialEq)]
pub struct PageSetup {
    /// None: picked for the hardware found (tiny on a CPU, standard on a GPU).
    pub preset: Option<Preset>,
    /// Sizes that override the preset's.
    pub nz: Option<usize>,
    pub ngf: Option<usize>,
    pub ndf: Option<usize>,
    pub backend: BackendRequest,
    pub train: TrainConfig,
    /// The latent vector of the big sample.
    pub z: Option<Vec<f32>>,
    /// Presenter layout: big type, charts and samples filling the screen.
    pub presenter: bool,
    /// `?bench=1`: time every preset on load.
    pub bench: bool,
    /// `?fault=nan|panic|device-lost`: a failure injected after step 3 (for tests).
    pub fault: Option<Fault>,
}

impl Default for PageSetup {
    fn default() -> Self {
        Self {
            preset: None,
            nz: None,
            ngf: None,
            ndf: None,
            backend: BackendRequest::Auto,
            // Batch 32: twice the steps per second of 64 on a CPU, and digits as soon.
            train: TrainConfig::new().with_batch_size(32),
            z: None,
            presenter: false,
            bench: false,
            fault: None,
        }
    }
}

pub fn loss_name(loss: LossKind) -> &'static str {
    match loss {
        LossKind::Bce => "bce",
        LossKind::LeastSquares => "lsgan",
        LossKind::Hinge => "hinge",
    }
}

pub fn loss_from_name(name: &str) -> Option<LossKind> {
    [LossKind::Bce, LossKind::LeastSquares, LossKind::Hinge].into_iter().find(|&l| loss_name(l) == name)
}

pub fn backend_name(backend: BackendRequest) -> &'static str {
    match backend {
        BackendRequest::Auto => "auto",
        BackendRequest::Cpu => "cpu",
        BackendRequest::WebGpu => "webgpu",
    }
}

pub fn backend_from_name(name: &str) -> Option<BackendRequest> {
    [BackendRequest::Auto, BackendRequest::Cpu, BackendRequest::WebGpu].into_iter().find(|&b| backend_name(b) == name)
}

fn whole(value: &str, max: u64) -> Option<u64> {
    value.parse::<u64>().ok().filter(|v| (1..=max).contains(v) || (max == MAX_SEED && *v == 0))
}

fn latent(value: &str) -> Option<Vec<f32>> {
    let z: Vec<f32> = value.split(',').map(|v| v.parse::<f32>().ok()).collect::<Option<_>>()?;
    let fits = (1..=MAX_NZ).contains(&z.len()) && z.iter().all(|v| v.is_finite() && v.abs() <= MAX_LATENT);
    fits.then_some(z)
}

impl PageSetup {
    /// The setup a query string asks for, and the `key=value` pairs it ignored.
    pub fn from_query(query: &str) -> (Self, Vec<String>) {
        let mut setup = Self::default();
        let mut ignored = Vec::new();
        for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number = value.parse::<f64>().ok().filter(|v| v.is_finite());
            let t = &mut setup.train;
            let ok = match key {
                "preset" => Preset::from_name(value).map(|p| setup.preset = Some(p)).is_some(),
                "nz" => whole(value, MAX_NZ as u64).map(|v| setup.nz = Some(v as usize)).is_some(),
                "ngf" => whole(value, MAX_WIDTH as u64).map(|v| setup.ngf = Some(v as usize)).is_some(),
                "ndf" => whole(value, MAX_WIDTH as u64).map(|v| setup.ndf = Some(v as usize)).is_some(),
                "backend" => backend_from_name(value).map(|b| setup.backend = b).is_some(),
                "lr_d" => number.filter(|v| *v > 0.0 && *v <= 1.0).map(|v| t.lr_d = v).is_some(),
                "lr_g" => number.filter(|v| *v > 0.0 && *v <= 1.0).map(|v| t.lr_g = v).is_some(),
                "beta1" => number.filter(|v| (0.0..1.0).contains(v)).map(|v| t.beta1 = v as f32).is_some(),
                "batch" => whole(value, MAX_BATCH as u64).map(|v| t.batch_size = v as usize).is_some(),
                "seed" => whole(value, MAX_SEED).map(|v| t.seed = v).is_some(),
                "loss" => loss_from_name(value).map(|l| t.loss = l).is_some(),
                "z" => latent(value).map(|z| setup.z = Some(z)).is_some(),
                "layout" => match value {
                    "presenter" => Some(true),
                    "normal" => Some(false),
                    _ => None,
                }
                .map(|p| setup.presenter = p)
                .is_some(),
                "bench" => matches!(value, "1" | "0").then(|| setup.bench = value == "1").is_some(),
                "fault" => match value {
                    "nan" => Some(Fault::Nan),
                    "panic" => Some(Fault::Panic),
                    "device-lost" => Some(Fault::DeviceLost),
                    _ => None,
                }
                .map(|f| setup.fault = Some(f))
                .is_some(),
                _ => false,
            };
            if !ok {
                ignored.push(format!("{key}={value}"));
            }
        }
        (setup, ignored)
    }

    /// The networks' sizes: the preset's (tiny when none is set), with any size set overriding.
    pub fn model(&self) -> ModelConfig {
        let base = self.preset.unwrap_or_default().model();
        ModelConfig::new()
            .with_nz(self.nz.unwrap_or(base.nz))
            .with_ngf(self.ngf.unwrap_or(base.ngf))
            .with_ndf(self.ndf.unwrap_or(base.ndf))
    }

    /// The query string that reproduces this setup (test hooks left out).
    pub fn to_query(&self) -> String {
        let t = &self.train;
        let mut pairs = Vec::new();
        if let Some(preset) = self.preset {
            pairs.push(format!("preset={}", preset.name()));
        }
        for (key, value) in [("nz", self.nz), ("ngf", self.ngf), ("ndf", self.ndf)] {
            if let Some(v) = value {
                pairs.push(format!("{key}={v}"));
            }
        }
        pairs.push(format!("backend={}", backend_name(self.backend)));
        pairs.push(format!("lr_d={}", t.lr_d));
        pairs.push(format!("lr_g={}", t.lr_g));
        pairs.push(format!("beta1={}", t.beta1));
        pairs.push(format!("batch={}", t.batch_size));
        pairs.push(format!("seed={}", t.seed));
        pairs.push(format!("loss={}", loss_name(t.loss)));
        if self.presenter {
            pairs.push("layout=presenter".into());
        }
        if let Some(z) = &self.z {
            // Two decimals: finer than a slider step, and a 100-number z stays near 600 characters.
            let values = z.iter().map(|v| format!("{:.2}", v).replace("-0.00", "0.00")).collect::<Vec<_>>();
            pairs.push(format!("z={}", values.join(",")));
        }
        format!("?{}", pairs.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_address_reads_back_the_same() {
        let setup = PageSetup {
            preset: Some(Preset::Small),
            nz: Some(20),
            ngf: Some(12),
            ndf: None,
            backend: BackendRequest::Cpu,
            train: TrainConfig::new()
                .with_lr_d(0.0003)
                .with_lr_g(0.00015)
                .with_beta1(0.35)
                .with_batch_size(48)
                .with_seed(777)
                .with_loss(LossKind::Hinge),
            z: Some(vec![0.25, -1.5, 3.0]),
            presenter: true,
            bench: false,
            fault: None,
        };
        let (read, ignored) = PageSetup::from_query(&setup.to_query());
        assert!(ignored.is_empty(), "{ignored:?}");
        assert_eq!(read, setup);
        assert_eq!(read.model(), ModelConfig::new().with_nz(20).with_ngf(12).with_ndf(16));
    }

    #[test]
    fn unusable_settings_are_listed_and_the_rest_kept() {
        let (setup, ignored) =
            PageSetup::from_query("?lr_d=banana&seed=4&nz=0&batch=9999&z=1,nope&zoom=2&loss=mse&lr_g=0.001&layout=huge");
        assert_eq!(ignored, ["lr_d=banana", "nz=0", "batch=9999", "z=1,nope", "zoom=2", "loss=mse", "layout=huge"]);
        assert_eq!((setup.train.seed, setup.train.lr_g), (4, 0.001));
        assert_eq!(setup.train.lr_d, TrainConfig::new().lr_d);
        assert_eq!(setup.train.batch_size, 32);
        assert!(PageSetup::from_query("?z=9,0").1 == ["z=9,0"], "values far outside N(0,1) are refused");
        assert!(PageSetup::from_query("?z=NaN").1 == ["z=NaN"]);
    }
}
