//! `ganplay pretrain` over several sittings: `--state` carries the whole run from one to the
//! next, so two sittings end where one sitting of the same steps ends, and `--max-seconds`
//! ends a sitting early with everything written.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::*;
use ganplay::checkpoint::Checkpoint;
use ganplay::data::Mnist;
use ganplay::training::Gan;

fn pretrain(out: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ganplay"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["pretrain", "--width", "8", "--log-every", "40", "--decay-from", "0.5", "--out"])
        .arg(out)
        .args(args)
        .output()
        .expect("ganplay runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

fn kept_run(path: &Path) -> Gan {
    let bytes = std::fs::read(path).unwrap();
    Checkpoint::from_bytes(&bytes).unwrap().into_gan(&Device::flex().autodiff()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ganplay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn two_sittings_end_where_one_sitting_ends() {
    let (one, two) = (scratch("one-sitting"), scratch("two-sittings"));
    let (state_one, state_two) = (one.join("state.ganplay"), two.join("state.ganplay"));
    pretrain(&one, &["--steps", "80", "--state", state_one.to_str().unwrap()]);

    let first = pretrain(&two, &["--steps", "80", "--max-seconds", "1", "--state", state_two.to_str().unwrap()]);
    // The first chunk always runs; the next would end past the limit (a chunk of 40 steps and
    // its scoring take well over half a second).
    assert!(first.contains("stopping at step 40"), "{first}");
    for written in ["generator.ganplay", "preview.png", "quality.json"] {
        assert!(two.join(written).exists(), "{written} after a stopped sitting");
    }
    let second = pretrain(&two, &["--steps", "80", "--state", state_two.to_str().unwrap()]);
    assert!(second.contains(&format!("going on from {} at step 40", state_two.display())), "{second}");
    assert!(second.contains("to beat: score"), "{second}");
    assert!(!second.contains("\nstep 40 ("), "the second sitting starts where the first stopped: {second}");

    // Both networks, Adam's state, the average and the step: the same run (the learning rates
    // fell alike from step 40 on)...
    let (mut a, mut b) = (kept_run(&state_one), kept_run(&state_two));
    assert_eq!((a.steps, b.steps), (80, 80));
    let z = ganplay::latent::latent(&mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3), 8, a.model.nz, &Device::flex());
    let drawn = |gan: &Gan| gan.generate(z.clone()).into_data().try_to_vec::<f32>().unwrap();
    assert!(drawn(&a) == drawn(&b), "the averages differ");
    let mnist = Mnist::from_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mnist")).unwrap();
    let (next_a, next_b) = (a.step(&mnist.train).read().unwrap(), b.step(&mnist.train).read().unwrap());
    assert!(next_a == next_b, "the next step differs: {next_a:?} against {next_b:?}");
    // ... with the same curves: every step's report and a score at each chunk's end...
    let curves = |path: &Path| Checkpoint::from_bytes(&std::fs::read(path).unwrap()).unwrap().curves().expect("the state's curves");
    let (curves_one, curves_two) = (curves(&state_one), curves(&state_two));
    let steps: Vec<u64> = curves_one.charts.points().iter().map(|p| p.report.step).collect();
    assert_eq!(steps, (1..=80).collect::<Vec<_>>());
    assert_eq!(curves_one.quality.points().iter().map(|(s, _)| *s).collect::<Vec<_>>(), [40, 80]);
    assert!(curves_one == curves_two, "the curves differ");
    // ... and the same generator kept, with the same numbers.
    let numbers = |dir: &Path| std::fs::read_to_string(dir.join("quality.json")).unwrap();
    assert_eq!(numbers(&one), numbers(&two));
    let _ = (std::fs::remove_dir_all(&one), std::fs::remove_dir_all(&two));
}

#[test]
fn a_damaged_state_is_refused_before_any_step() {
    let dir = scratch("refused-state");
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.ganplay");
    std::fs::write(&state, b"GANPLAY\0 not a run").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ganplay"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["pretrain", "--width", "8", "--steps", "20", "--out"])
        .arg(&dir)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("loading {}", state.display())), "{stderr}");
    assert!(!dir.join("generator.ganplay").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
