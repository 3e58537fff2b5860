//! Turning generated images into pixels a person can look at: a grid of digits, and PNG bytes.

use crate::model::IMAGE_SIDE;

/// Grey pixels between digits in a grid.
const GAP: usize = 2;

/// A grayscale picture, row-major, one byte a pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Maps a generator output in [-1, 1] to a byte (values outside are clamped).
pub fn to_byte(value: f32) -> u8 {
    ((value.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
}

impl GrayImage {
    /// Lays `images` (each 28x28 values in [-1, 1], concatenated) out `columns` wide.
    pub fn grid(images: &[f32], columns: usize) -> Self {
        let per_image = IMAGE_SIDE * IMAGE_SIDE;
        let count = images.len() / per_image;
        let columns = columns.clamp(1, count.max(1));
        let rows = count.div_ceil(columns);
        let width = columns * IMAGE_SIDE + (columns + 1) * GAP;
        let height = rows * IMAGE_SIDE + (rows + 1) * GAP;
        let mut pixels = vec![64u8; width * height];
        for (n, image) in images.chunks_exact(per_image).enumerate() {
            let (left, top) = (GAP + (n % columns) * (IMAGE_SIDE + GAP), GAP + (n / columns) * (IMAGE_SIDE + GAP));
            for (y, row) in image.chunks_exact(IMAGE_SIDE).enumerate() {
                let start = (top + y) * width + left;
                for (out, &v) in pixels[start..start + IMAGE_SIDE].iter_mut().zip(row) {
                    *out = to_byte(v);
                }
            }
        }
        Self { width, height, pixels }
    }

    /// Encodes as an 8-bit grayscale PNG.
    pub fn to_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("writing to a Vec cannot fail");
        writer.write_image_data(&self.pixels).expect("pixel count matches the header");
        writer.finish().expect("writing to a Vec cannot fail");
        out
    }

    /// Standard deviation of the pixel values: near zero for a blank or constant picture.
    pub fn spread(&self) -> f64 {
        let n = self.pixels.len() as f64;
        let mean = self.pixels.iter().map(|&p| p as f64).sum::<f64>() / n;
        (self.pixels.iter().map(|&p| (p as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_images_with_gaps() {
        let per_image = IMAGE_SIDE * IMAGE_SIDE;
        let mut images = vec![-1.0; per_image];
        images.extend(vec![1.0; per_image]);
        images.extend(vec![0.0; per_image]);
        let grid = GrayImage::grid(&images, 2);
        assert_eq!((grid.width, grid.height), (2 * 28 + 3 * GAP, 2 * 28 + 3 * GAP));
        assert_eq!(grid.pixels[0], 64); // gap
        assert_eq!(grid.pixels[GAP * grid.width + GAP], 0); // first image, black
        assert_eq!(grid.pixels[GAP * grid.width + 2 * GAP + 28], 255); // second, white
        assert_eq!(grid.pixels[(2 * GAP + 28) * grid.width + GAP], 128); // third, grey
    }

    #[test]
    fn png_decodes_to_the_same_pixels() {
        let grid = GrayImage::grid(&(0..784).map(|i| (i % 7) as f32 / 3.0 - 1.0).collect::<Vec<_>>(), 1);
        let png_bytes = grid.to_png();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width as usize, info.height as usize), (grid.width, grid.height));
        assert_eq!(&buf[..info.buffer_size()], &grid.pixels[..]);
    }
}
