//! `ganplay bench --layers`: every convolution of the networks, each of its three products by
//! each path that runs it, against the matmul of the same sizes.

use std::process::Command;

#[test]
fn every_convolution_and_product_is_timed_against_its_matmul() {
    let output = Command::new(env!("CARGO_BIN_EXE_ganplay"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["bench", "--layers", "--backend", "flex", "--model", "cgan", "--widths", "4", "--batch-size", "2", "--refine", "1"])
        .output()
        .expect("ganplay runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let layers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ") && !l.starts_with("    ")).map(str::trim).collect();
    assert_eq!(
        layers[1..],
        [
            "G's 2nd: transposed 4x4 stride 2, 16 to 8 channels at 7x7, 2 images",
            "G's extra 1: 3x3, 8 to 8 channels at 14x14, 2 images",
            "G's last: transposed 4x4 stride 2, 8 to 1 channels at 14x14, 2 images",
            "D's 1st: 4x4 stride 2, 1 to 4 channels at 28x28, 4 images",
            "D's 2nd: 4x4 stride 2, 4 to 8 channels at 14x14, 4 images",
        ],
        "{stdout}"
    );
    let products: Vec<&str> = stdout.lines().filter(|l| l.starts_with("    ")).map(str::trim).collect();
    assert_eq!(products.len(), 15, "{stdout}");
    for (line, product) in products.iter().zip(["output", "input gradient", "weight gradient"].iter().cycle()) {
        assert!(line.starts_with(product), "{line}");
        // Every time is a positive number of milliseconds.
        let times: Vec<f64> = line.split(" ms").filter_map(|part| part.rsplit(' ').next()?.parse().ok()).collect();
        assert!(times.len() >= 2 && times.iter().all(|&t| t > 0.0), "{line}");
    }
    // The matmul a product amounts to: D's 2nd's weight gradient sums over the batch's pixels.
    assert!(products[14].starts_with("weight gradient  matmul 8x196 by 196x64:"), "{}", products[14]);
    // A transposed convolution's output and a convolution's input gradient run burn's on both
    // paths; so does every product of a conditional D's first layer. Where they are 4x4 stride
    // 2 (of an even side), the upsampling kernel is timed too (`--conv tiled-up`).
    let both = |line: &str| line.contains("burn's on both paths") && !line.contains("tiled");
    let upsampling = |line: &str| line.contains("burn's on both paths") && line.contains("; upsampling kernel (tiled-up) ");
    assert!(both(products[4]) && products[9..12].iter().all(|line| both(line)), "{stdout}");
    assert!(upsampling(products[0]) && upsampling(products[6]) && upsampling(products[13]), "{stdout}");
    assert!(products[1].contains("; tiled ") && products[14].contains("; tiled "), "{stdout}");
}
