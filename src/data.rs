//! MNIST digits: parsing the IDX files shipped in `assets/`, the fixed held-out split, and
//! drawing training batches scaled to [-1, 1].

use std::io::Read;

use burn::prelude::*;
use flate2::read::GzDecoder;
use rand::RngExt;
use rand::rngs::StdRng;

use crate::model::IMAGE_SIDE;

/// Pixels in one image.
pub const PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Digits of each class kept out of training (the last ones of each class in file order).
pub const HELD_OUT_PER_CLASS: usize = 100;
/// Largest file the loader accepts once decompressed; guards against gzip bombs.
const MAX_DECODED_BYTES: u64 = 64 * 1024 * 1024;

const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// The asset's two files, by name inside its folder (`assets/mnist`).
pub const IMAGES_FILE: &str = "images-idx3-ubyte.gz";
pub const LABELS_FILE: &str = "labels-idx1-ubyte.gz";

/// Why an MNIST file could not be read. Each names the problem in words a user can act on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    #[error("Could not load {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("{file}: not a gzip file or damaged gzip data ({detail})")]
    Gzip { file: &'static str, detail: String },
    #[error("{file}: larger than {MAX_DECODED_BYTES} bytes once decompressed")]
    TooLarge { file: &'static str },
    #[error("{file}: truncated: {needed} bytes needed, {found} found")]
    Truncated { file: &'static str, needed: usize, found: usize },
    #[error("{file}: wrong magic number {found:#010x}, expected {expected:#010x}")]
    WrongMagic { file: &'static str, found: u32, expected: u32 },
    #[error("{file}: images are {rows}x{cols}, expected 28x28")]
    WrongImageSize { file: &'static str, rows: u32, cols: u32 },
    #[error("{file}: {extra} bytes after the end of the data")]
    TrailingBytes { file: &'static str, extra: usize },
    #[error("images file holds {images} images but labels file holds {labels} labels")]
    CountMismatch { images: usize, labels: usize },
    #[error("labels file: label {label} at position {index} is not a digit 0-9")]
    BadLabel { index: usize, label: u8 },
    #[error("class {digit} has {found} images, at least {needed} needed for the held-out split")]
    ClassTooSmall { digit: u8, found: usize, needed: usize },
}

impl DataError {
    /// True when the files were read but their contents are wrong (rather than unreachable).
    pub fn is_damage(&self) -> bool {
        !matches!(self, DataError::Unreadable { .. })
    }
}

/// The MNIST asset: the digits training draws from, and the fixed held-out set it never sees.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    pub train: Digits,
    pub held_out: Digits,
}

/// Loads the MNIST asset from `folder`, reading each of its files with `read` (the file system
/// natively, `fetch` in the browser), and splits off the held-out digits. Every caller (the
/// command line, the training worker, the tests) loads the digits through here.
pub async fn load_mnist<F, Fut>(folder: &str, read: F) -> Result<Mnist, DataError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>, String>>,
{
    let path = |name: &str| format!("{}/{name}", folder.trim_end_matches('/'));
    let read = &read;
    let fetch = |path: String| async move { read(path.clone()).await.map_err(|why| DataError::Unreadable { path, why }) };
    let images = fetch(path(IMAGES_FILE)).await?;
    let labels = fetch(path(LABELS_FILE)).await?;
    let (train, held_out) = Digits::from_idx_gz(&images, &labels)?.split_held_out(HELD_OUT_PER_CLASS)?;
    Ok(Mnist { train, held_out })
}

#[cfg(not(target_family = "wasm"))]
impl Mnist {
    /// The asset in a folder on disk (see `load_mnist`).
    pub fn from_folder(folder: &std::path::Path) -> Result<Self, DataError> {
        let read = |path: String| std::future::ready(std::fs::read(&path).map_err(|e| e.to_string()));
        crate::readback::ready_now(load_mnist(&folder.to_string_lossy(), read))
    }
}

/// Grayscale 28x28 digits as bytes (0 = black, 255 = white) with their labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Digits {
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl Digits {
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>) -> Result<Self, DataError> {
        let images = pixels.len() / PIXELS;
        if images != labels.len() || pixels.len() % PIXELS != 0 {
            return Err(DataError::CountMismatch { images, labels: labels.len() });
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
            return Err(DataError::BadLabel { index, label });
        }
        Ok(Self { pixels, labels })
    }

    /// Parses a pair of gzip-compressed IDX files (images: idx3-ubyte, labels: idx1-ubyte).
    pub fn from_idx_gz(images_gz: &[u8], labels_gz: &[u8]) -> Result<Self, DataError> {
        let images = gunzip("images file", images_gz)?;
        let labels = gunzip("labels file", labels_gz)?;
        let pixels = parse_idx_images(&images)?;
        let labels = parse_idx_labels(&labels)?;
        Self::new(pixels, labels)
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * PIXELS..(index + 1) * PIXELS]
    }

    /// Splits off `per_class` digits of every class (the last ones in file order) as a
    /// held-out set; returns (training, held_out). The split depends only on the file.
    pub fn split_held_out(&self, per_class: usize) -> Result<(Digits, Digits), DataError> {
        let mut train = Digits::default();
        let mut held_out = Digits::default();
        for digit in 0..10u8 {
            let of_class: Vec<usize> = (0..self.len()).filter(|&i| self.labels[i] == digit).collect();
            if of_class.len() <= per_class {
                return Err(DataError::ClassTooSmall { digit, found: of_class.len(), needed: per_class + 1 });
            }
            let cut = of_class.len() - per_class;
            for (n, &i) in of_class.iter().enumerate() {
                let into = if n < cut { &mut train } else { &mut held_out };
                into.pixels.extend_from_slice(self.image(i));
                into.labels.push(digit);
            }
        }
        Ok((train, held_out))
    }

    /// Encodes as a pair of gzip-compressed IDX files (images, labels).
    pub fn to_idx_gz(&self) -> (Vec<u8>, Vec<u8>) {
        let count = self.len() as u32;
        let mut images = Vec::with_capacity(16 + self.pixels.len());
        for word in [IDX_IMAGES_MAGIC, count, IMAGE_SIDE as u32, IMAGE_SIDE as u32] {
            images.extend_from_slice(&word.to_be_bytes());
        }
        images.extend_from_slice(&self.pixels);
        let mut labels = Vec::with_capacity(8 + self.labels.len());
        for word in [IDX_LABELS_MAGIC, count] {
            labels.extend_from_slice(&word.to_be_bytes());
        }
        labels.extend_from_slice(&self.labels);
        (gzip(&images), gzip(&labels))
    }

    /// Images `indices` as a tensor [n, 1, 28, 28] scaled from bytes to [-1, 1].
    pub fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let mut values = Vec::with_capacity(indices.len() * PIXELS);
        for &i in indices {
            values.extend(self.image(i).iter().map(|&p| p as f32 / 127.5 - 1.0));
        }
        let shape = [indices.len(), 1, IMAGE_SIDE, IMAGE_SIDE];
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// `size` distinct random indices (with replacement only when the set is smaller).
    pub fn sample_indices(&self, size: usize, rng: &mut StdRng) -> Vec<usize> {
        if size > self.len() {
            return (0..size).map(|_| rng.random_range(0..self.len())).collect();
        }
        rand::seq::index::sample(rng, self.len(), size).into_vec()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn gunzip(file: &'static str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Gzip { file, detail: e.to_string() })?;
    if out.len() as u64 > MAX_DECODED_BYTES {
        return Err(DataError::TooLarge { file });
    }
    Ok(out)
}

fn be_u32(file: &'static str, bytes: &[u8], word: usize) -> Result<u32, DataError> {
    let at = word * 4;
    let slice = bytes
        .get(at..at + 4)
        .ok_or(DataError::Truncated { file, needed: at + 4, found: bytes.len() })?;
    Ok(u32::from_be_bytes(slice.try_into().expect("slice of 4")))
}

fn check_magic(file: &'static str, bytes: &[u8], expected: u32) -> Result<(), DataError> {
    let found = be_u32(file, bytes, 0)?;
    if found != expected {
        return Err(DataError::WrongMagic { file, found, expected });
    }
    Ok(())
}

fn take_body(file: &'static str, bytes: &[u8], header: usize, len: usize) -> Result<Vec<u8>, DataError> {
    let needed = header + len;
    match bytes.len().cmp(&needed) {
        std::cmp::Ordering::Less => Err(DataError::Truncated { file, needed, found: bytes.len() }),
        std::cmp::Ordering::Greater => Err(DataError::TrailingBytes { file, extra: bytes.len() - needed }),
        std::cmp::Ordering::Equal => Ok(bytes[header..].to_vec()),
    }
}

fn parse_idx_images(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    const FILE: &str = "images file";
    check_magic(FILE, bytes, IDX_IMAGES_MAGIC)?;
    let count = be_u32(FILE, bytes, 1)? as usize;
    let (rows, cols) = (be_u32(FILE, bytes, 2)?, be_u32(FILE, bytes, 3)?);
    if (rows as usize, cols as usize) != (IMAGE_SIDE, IMAGE_SIDE) {
        return Err(DataError::WrongImageSize { file: FILE, rows, cols });
    }
    take_body(FILE, bytes, 16, count.saturating_mul(PIXELS))
}

fn parse_idx_labels(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    const FILE: &str = "labels file";
    check_magic(FILE, bytes, IDX_LABELS_MAGIC)?;
    let count = be_u32(FILE, bytes, 1)? as usize;
    take_body(FILE, bytes, 8, count)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A small synthetic set: `per_class` digits of each class, each a filled square whose
    /// brightness encodes its class.
    pub(crate) fn tiny_digits(per_class: usize) -> Digits {
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for n in 0..per_class * 10 {
            let digit = (n % 10) as u8;
            pixels.extend((0..PIXELS).map(|p| if p % 28 > 8 && p % 28 < 20 { 25 * digit } else { 0 }));
            labels.push(digit);
        }
        Digits::new(pixels, labels).unwrap()
    }

    #[test]
    fn a_folder_loads_split_and_a_missing_one_is_named() {
        let dir = std::env::temp_dir().join(format!("ganplay-mnist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let per_class = HELD_OUT_PER_CLASS + 3;
        let (images, labels) = tiny_digits(per_class).to_idx_gz();
        std::fs::write(dir.join(IMAGES_FILE), images).unwrap();
        std::fs::write(dir.join(LABELS_FILE), labels).unwrap();
        let mnist = Mnist::from_folder(&dir).unwrap();
        assert_eq!((mnist.train.len(), mnist.held_out.len()), (30, 10 * HELD_OUT_PER_CLASS));
        std::fs::remove_file(dir.join(LABELS_FILE)).unwrap();
        let missing = Mnist::from_folder(&dir).unwrap_err();
        assert!(!missing.is_damage() && missing.to_string().contains(LABELS_FILE), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn idx_round_trip() {
        let digits = tiny_digits(3);
        let (images, labels) = digits.to_idx_gz();
        assert_eq!(Digits::from_idx_gz(&images, &labels).unwrap(), digits);
    }

    #[test]
    fn held_out_split_keeps_last_of_each_class() {
        let digits = tiny_digits(5);
        let (train, held_out) = digits.split_held_out(2).unwrap();
        assert_eq!((train.len(), held_out.len()), (30, 20));
        for digit in 0..10u8 {
            assert_eq!(held_out.labels.iter().filter(|&&l| l == digit).count(), 2);
        }
        assert!(matches!(digits.split_held_out(5), Err(DataError::ClassTooSmall { .. })));
    }

    #[test]
    fn batch_is_scaled_to_minus_one_one() {
        let digits = Digits::new(vec![0; PIXELS].into_iter().chain(vec![255; PIXELS]).collect(), vec![0, 1]).unwrap();
        let values = digits.batch(&[1, 0], &Device::flex()).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(values[0], 1.0);
        assert_eq!(values[PIXELS], -1.0);
    }

    #[test]
    fn sampled_indices_are_distinct_and_in_range() {
        let digits = tiny_digits(10);
        let mut rng = StdRng::seed_from_u64(1);
        let mut indices = digits.sample_indices(64, &mut rng);
        indices.sort();
        indices.dedup();
        assert_eq!(indices.len(), 64);
        assert!(indices.iter().all(|&i| i < 100));
    }

    fn corrupt(edit: impl FnOnce(&mut Vec<u8>)) -> DataError {
        let (_, labels) = tiny_digits(1).to_idx_gz();
        let mut images = gunzip("", &tiny_digits(1).to_idx_gz().0).unwrap();
        edit(&mut images);
        Digits::from_idx_gz(&gzip(&images), &labels).unwrap_err()
    }

    #[test]
    fn corrupt_files_give_named_errors() {
        assert!(matches!(corrupt(|b| b.truncate(100)), DataError::Truncated { needed, found: 100, .. } if needed == 16 + 10 * PIXELS));
        assert!(matches!(corrupt(|b| b.truncate(6)), DataError::Truncated { needed: 8, .. }));
        assert!(matches!(corrupt(|b| b[3] = 0x01), DataError::WrongMagic { found: 0x801, .. }));
        assert!(matches!(corrupt(|b| b[11] = 32), DataError::WrongImageSize { rows: 32, cols: 28, .. }));
        assert!(matches!(corrupt(|b| b.push(0)), DataError::TrailingBytes { extra: 1, .. }));
        let nine_images = |b: &mut Vec<u8>| {
            b[7] = 9;
            b.truncate(b.len() - PIXELS);
        };
        assert!(matches!(corrupt(nine_images), DataError::CountMismatch { images: 9, labels: 10 }));
        let (images, _) = tiny_digits(1).to_idx_gz();
        let err = Digits::from_idx_gz(&images, b"not gzip").unwrap_err();
        assert!(matches!(err, DataError::Gzip { file: "labels file", .. }));
        assert!(err.to_string().starts_with("labels file: not a gzip file"));
    }

    #[test]
    fn labels_must_be_digits() {
        let err = Digits::new(vec![0; 2 * PIXELS], vec![3, 12]).unwrap_err();
        assert_eq!(err, DataError::BadLabel { index: 1, label: 12 });
    }
}
