//! The page's setup as an address query (`?preset=small&lr_d=0.0002&seed=3&z=0.12,-1.3,…`):
//! what a shared link carries, read and written here so the two always agree. Reading is
//! forgiving: whatever it cannot use is listed, for the page to say it was ignored.

use crate::model::Family;
use crate::protocol::Fault;
use crate::settings::{Key, Settings};

/// Latent values beyond this are far outside N(0, 1) and refused.
pub const MAX_LATENT: f32 = 5.0;
/// Longest latent vector the address carries (the latent size's upper bound).
const MAX_Z: usize = crate::settings::MAX_NZ as usize;

/// Everything the address can set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageSetup {
    /// Every setting of the run (see `settings::TABLE`); sizes left out of the address are
    /// picked for the hardware found (`Settings::auto_size`).
    pub settings: Settings,
    /// The latent vector of the big sample.
    pub z: Option<Vec<f32>>,
    /// Presenter layout: big type, charts and samples filling the screen.
    pub presenter: bool,
    /// `?bench=1`: time every preset on load.
    pub bench: bool,
    /// `?fault=nan|panic|device-lost|collapse|kernel-refused`: a failure injected for tests
    /// (after step 3; a collapse once the run draws digits; a refused kernel before the first
    /// step).
    pub fault: Option<Fault>,
    /// `?compare=vae`: a second run of this model family trains beside the first, on the same
    /// digits, with the same settings and z.
    pub compare: Option<Family>,
}

/// Longest value a note quotes from the address.
const QUOTED_CHARS: usize = 40;

/// `text` with its %XX escapes (and + for space) decoded, as a note quotes it.
fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An ignored `key=value` as a note quotes it: decoded, and cut when long.
fn quoted(key: &str, value: &str) -> String {
    let pair = format!("{}={}", decoded(key), decoded(value));
    match pair.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &pair[..cut]),
        None => pair,
    }
}

fn latent(value: &str) -> Option<Vec<f32>> {
    let z: Vec<f32> = value.split(',').map(|v| v.parse::<f32>().ok()).collect::<Option<_>>()?;
    let fits = (1..=MAX_Z).contains(&z.len()) && z.iter().all(|v| v.is_finite() && v.abs() <= MAX_LATENT);
    fits.then_some(z)
}

impl PageSetup {
    /// The setup a query string asks for, and the `key=value` pairs it ignored.
    pub fn from_query(query: &str) -> (Self, Vec<String>) {
        let mut setup = Self::default();
        let mut ignored = Vec::new();
        let mut pairs: Vec<(&str, &str)> = query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .collect();
        // A preset first, so that sizes set beside it override its own, in any order.
        pairs.sort_by_key(|(key, _)| *key != "preset");
        for (key, value) in pairs {
            let ok = match Key::named(key) {
                Some(setting) => setup.settings.set_text(setting, value).is_ok(),
                None => match key {
                    "z" => latent(value).map(|z| setup.z = Some(z)).is_some(),
                    "layout" => match value {
                        "presenter" => Some(true),
                        "normal" => Some(false),
                        _ => None,
                    }
                    .map(|p| setup.presenter = p)
                    .is_some(),
                    "bench" => matches!(value, "1" | "0").then(|| setup.bench = value == "1").is_some(),
                    "compare" => Family::from_name(value).map(|f| setup.compare = Some(f)).is_some(),
                    "fault" => match value {
                        "nan" => Some(Fault::Nan),
                        "panic" => Some(Fault::Panic),
                        "device-lost" => Some(Fault::DeviceLost),
                        "kernel-refused" => Some(Fault::KernelRefused),
                        "collapse" => Some(Fault::Collapse),
                        _ => None,
                    }
                    .map(|f| setup.fault = Some(f))
                    .is_some(),
                    _ => false,
                },
            };
            if !ok {
                ignored.push(quoted(key, value));
            }
        }
        // The same model beside itself, with the same settings and seed, would be the same run.
        if setup.compare == Some(setup.settings.model.family) {
            ignored.push(format!("compare={} (the model on show)", setup.settings.model.family.name()));
            setup.compare = None;
        }
        (setup, ignored)
    }

    /// The query string that reproduces this setup (test hooks left out). Sizes still left
    /// to the hardware stay out, so the link picks them for the hardware that opens it.
    pub fn to_query(&self) -> String {
        let settings = &self.settings;
        let mut pairs = Vec::new();
        for spec in crate::settings::TABLE {
            // Sizes picked for the hardware are not written (extra layers are the defaults then).
            let size = matches!(spec.key, Key::Preset | Key::Nz | Key::Ngf | Key::Ndf | Key::Refine | Key::DRefine);
            if (size && settings.auto_size) || (spec.key == Key::Preset && settings.preset().is_none()) {
                continue;
            }
            pairs.push(format!("{}={}", spec.name, settings.text(spec.key)));
        }
        if let Some(family) = self.compare {
            pairs.push(format!("compare={}", family.name()));
        }
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
    use crate::model::ModelConfig;
    use crate::settings::{BackendRequest, Preset};
    use crate::training::{LossKind, TrainConfig};

    #[test]
    fn a_written_address_reads_back_the_same() {
        let mut settings = Settings::of_run(
            BackendRequest::Cpu,
            ModelConfig::new().with_nz(20).with_ngf(24).with_ndf(12).with_refine(3).with_drefine(1),
            TrainConfig::new()
                .with_lr_d(0.0003)
                .with_lr_g(0.00015)
                .with_beta1(0.35)
                .with_batch_size(48)
                .with_seed(777)
                .with_loss(LossKind::Hinge)
                .with_d_steps(2),
        );
        settings.model.family = Family::Cgan;
        let setup = PageSetup {
            settings: settings.clone(),
            z: Some(vec![0.25, -1.5, 3.0]),
            presenter: true,
            compare: Some(Family::Vae),
            ..Default::default()
        };
        let (read, ignored) = PageSetup::from_query(&setup.to_query());
        assert!(ignored.is_empty(), "{ignored:?}");
        assert_eq!(read, setup);
        assert_eq!(PageSetup::from_query("?compare=flow").1, ["compare=flow"], "an unknown model is named");
        let (same, ignored) = PageSetup::from_query("?compare=vae&model=vae");
        assert_eq!((same.compare, ignored), (None, vec!["compare=vae (the model on show)".to_string()]), "the same run twice is not a comparison");
        // A preset's sizes are written as the preset and its sizes.
        settings.model = Preset::Small.model();
        let query = PageSetup { settings, ..Default::default() }.to_query();
        assert!(query.contains("preset=small&") && query.contains("nz=100&ngf=24&ndf=16"), "{query}");
    }

    #[test]
    fn sizes_beside_a_preset_override_it_in_any_order() {
        let (setup, ignored) = PageSetup::from_query("?nz=20&preset=small&ndf=12");
        assert!(ignored.is_empty());
        assert_eq!(setup.settings.model, ModelConfig::new().with_nz(20).with_ngf(24).with_ndf(12));
        assert!(!setup.settings.auto_size);
        let (setup, _) = PageSetup::from_query("?seed=3");
        assert!(setup.settings.auto_size, "no size in the address: picked for the hardware");
        assert!(!setup.to_query().contains("ngf=") && !setup.to_query().contains("refine="), "{}", setup.to_query());
        assert!(PageSetup::from_query(&setup.to_query()).0.settings.auto_size, "its written address keeps it so");
    }

    #[test]
    fn ignored_values_are_quoted_decoded_and_cut() {
        let (_, ignored) = PageSetup::from_query("?colour=%3Cscript%3Ealert(1)%3C%2Fscript%3E&note=a+b&z=1,2,x");
        assert_eq!(ignored[0], "colour=<script>alert(1)</script>");
        assert_eq!(ignored[1], "note=a b");
        let long = format!("?junk={}", "x".repeat(500));
        let (_, ignored) = PageSetup::from_query(&long);
        assert_eq!(ignored[0].chars().count(), QUOTED_CHARS + 1);
        assert!(ignored[0].ends_with('…'));
    }

    #[test]
    fn unusable_settings_are_listed_and_the_rest_kept() {
        let (setup, ignored) = PageSetup::from_query(
            "?lr_d=banana&seed=4&nz=0&batch=9999&z=1,nope&zoom=2&loss=mse&lr_g=0.001&layout=huge&lr_d=-5&beta1=7.5&beta1=0.9999999",
        );
        assert_eq!(
            ignored,
            ["lr_d=banana", "nz=0", "batch=9999", "z=1,nope", "zoom=2", "loss=mse", "layout=huge", "lr_d=-5", "beta1=7.5", "beta1=0.9999999"]
        );
        let train = &setup.settings.train;
        assert_eq!((train.seed, train.lr_g), (4, 0.001));
        assert_eq!((train.lr_d, train.batch_size, train.beta1), (TrainConfig::new().lr_d, TrainConfig::new().batch_size, 0.5));
        assert!(PageSetup::from_query("?z=9,0").1 == ["z=9,0"], "values far outside N(0,1) are refused");
        assert!(PageSetup::from_query("?z=NaN").1 == ["z=NaN"]);
    }
}
