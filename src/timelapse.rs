//! A run's digit grid over its steps, as an animated GIF: the time-lapse of a generator
//! learning to draw. Frames are kept at steps further and further apart (each about a tenth
//! past the last), since a run changes fastest at its start; when there are more than the
//! capacity, every other one goes, the first and the latest kept. Each frame carries its step,
//! written under the grid. The greys are rounded to 32 levels, which the eye does not tell
//! from 256 on these digits and which halves the file (about 30 KB a frame).

use std::sync::Arc;

use crate::image::GrayImage;

/// Frames a time-lapse keeps, besides the latest grid.
pub const FRAMES: usize = 60;
/// Grey levels a frame's grid keeps.
const LEVELS: u32 = 32;
/// How long a frame shows, and the last one, in hundredths of a second.
const FRAME_DELAY: u16 = 12;
const LAST_DELAY: u16 = 200;
/// The strip under the grid that says the step: its height, in the grid's pixels.
const STRIP: usize = 11;
/// The strip's background, as the grid's gaps, and its text.
const STRIP_GREY: u8 = 64;
const TEXT_GREY: u8 = 235;

/// One frame: the grid at a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub step: u64,
    pub grid: Arc<GrayImage>,
}

/// A run's grids over its steps (see the module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timelapse {
    frames: Vec<Frame>,
    /// The last grid drawn, which ends the GIF (when past the last frame kept).
    latest: Option<Frame>,
    capacity: usize,
}

impl Default for Timelapse {
    fn default() -> Self {
        Self::new(FRAMES)
    }
}

impl Timelapse {
    /// `capacity`: at least 2.
    pub fn new(capacity: usize) -> Self {
        Self { frames: Vec::new(), latest: None, capacity: capacity.max(2) }
    }

    /// The grid drawn at `step`: kept as a frame if it is far enough past the last one. A
    /// grid of another size than the frames (another model's) starts the time-lapse anew.
    pub fn offer(&mut self, step: u64, grid: GrayImage) {
        let same_size = |f: &Frame| (f.grid.width, f.grid.height) == (grid.width, grid.height);
        if !self.frames.first().is_none_or(same_size) {
            self.clear();
        }
        let frame = Frame { step, grid: Arc::new(grid) };
        let due = self.frames.last().is_none_or(|last| step >= last.step + (last.step / 10).max(1));
        if due {
            self.frames.push(frame.clone());
            if self.frames.len() > self.capacity {
                let last = self.frames.len() - 1;
                self.frames = self.frames.drain(..).enumerate().filter(|(i, _)| i % 2 == 0 || *i == last).map(|(_, f)| f).collect();
            }
        }
        self.latest = Some(frame);
    }

    /// Forgets what came after `step`, for a run that went back to it.
    pub fn keep_until(&mut self, step: u64) {
        self.frames.retain(|f| f.step <= step);
        self.latest = self.latest.take().filter(|f| f.step <= step);
    }

    pub fn clear(&mut self) {
        *self = Self::new(self.capacity);
    }

    /// The frames the GIF shows, in order: those kept, and the latest grid if it is further.
    pub fn frames(&self) -> impl Iterator<Item = &Frame> {
        let last_kept = self.frames.last().map(|f| f.step);
        self.frames.iter().chain(self.latest.as_ref().filter(|l| last_kept.is_none_or(|kept| l.step > kept)))
    }

    pub fn len(&self) -> usize {
        self.frames().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The time-lapse as an animated GIF that loops: each frame's grid over a strip that says
    /// its step; the last frame held for two seconds. `None` without frames.
    pub fn to_gif(&self) -> Option<Vec<u8>> {
        let frames: Vec<&Frame> = self.frames().collect();
        let first = frames.first()?;
        let (width, height) = (first.grid.width, first.grid.height + STRIP);
        let palette: Vec<u8> = (0..=255u8).flat_map(|g| [g, g, g]).collect();
        let mut out = Vec::new();
        {
            let mut encoder = gif::Encoder::new(&mut out, width as u16, height as u16, &palette).ok()?;
            encoder.set_repeat(gif::Repeat::Infinite).ok()?;
            for (i, frame) in frames.iter().enumerate() {
                let pixels = labelled(&frame.grid, frame.step).pixels;
                let mut gif_frame = gif::Frame::from_indexed_pixels(width as u16, height as u16, pixels, None);
                gif_frame.delay = if i + 1 == frames.len() { LAST_DELAY } else { FRAME_DELAY };
                encoder.write_frame(&gif_frame).ok()?;
            }
        }
        Some(out)
    }
}

/// `grey` rounded to one of `LEVELS` levels.
fn quantized(grey: u8) -> u8 {
    let level = (grey as u32 * (LEVELS - 1) + 127) / 255;
    ((level * 255 + (LEVELS - 1) / 2) / (LEVELS - 1)) as u8
}

/// `grid` (its greys rounded) over a strip that says "STEP `step`".
fn labelled(grid: &GrayImage, step: u64) -> GrayImage {
    let mut out = GrayImage { width: grid.width, height: grid.height + STRIP, pixels: grid.pixels.iter().map(|&p| quantized(p)).collect() };
    out.pixels.resize(out.width * out.height, STRIP_GREY);
    let text = format!("STEP {step}");
    // Glyphs 3x5, drawn 2x: 8 pixels a character with the space after it.
    let (scale, advance) = (2, 8);
    let left = 4;
    let top = grid.height + (STRIP - 5 * scale) / 2;
    for (n, c) in text.chars().enumerate() {
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) == 0 {
                    continue;
                }
                for (dy, dx) in (0..scale).flat_map(|dy| (0..scale).map(move |dx| (dy, dx))) {
                    let (x, y) = (left + n * advance + col * scale + dx, top + row * scale + dy);
                    if x < out.width {
                        out.pixels[y * out.width + x] = TEXT_GREY;
                    }
                }
            }
        }
    }
    out
}

/// A character's 3x5 glyph, a row a number (its three low bits, left to right).
fn glyph(c: char) -> [u8; 5] {
    match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' | 'S' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b001, 0b001, 0b001],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        'T' => [0b111, 0b010, 0b010, 0b010, 0b010],
        'E' => [0b111, 0b100, 0b111, 0b100, 0b111],
        'P' => [0b111, 0b101, 0b111, 0b100, 0b100],
        _ => [0; 5],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(value: u8) -> GrayImage {
        GrayImage { width: 60, height: 20, pixels: vec![value; 1200] }
    }

    #[test]
    fn frames_thin_out_as_the_run_goes_and_keep_the_first_and_the_latest() {
        let mut lapse = Timelapse::new(8);
        for step in 1..=10_000 {
            lapse.offer(step, grid((step % 251) as u8));
        }
        let steps: Vec<u64> = lapse.frames().map(|f| f.step).collect();
        assert!(steps.len() <= 9, "{steps:?}");
        assert_eq!((steps[0], *steps.last().unwrap()), (1, 10_000), "{steps:?}");
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
        // Each kept frame is the grid of its step.
        assert!(lapse.frames().all(|f| f.grid.pixels[0] == (f.step % 251) as u8));
        // Steps close together early on are not all kept: about a tenth past the last each.
        let mut dense = Timelapse::new(1000);
        (100..200).for_each(|step| dense.offer(step, grid(0)));
        let kept: Vec<u64> = dense.frames.iter().map(|f| f.step).collect();
        assert_eq!(kept, [100, 110, 121, 133, 146, 160, 176, 193]);
        assert_eq!(dense.frames().last().unwrap().step, 199, "the latest grid ends it");
    }

    #[test]
    fn going_back_forgets_later_frames_and_another_size_starts_anew() {
        let mut lapse = Timelapse::new(60);
        for step in [1, 2, 3, 5, 8, 13, 21] {
            lapse.offer(step, grid(step as u8));
        }
        lapse.keep_until(6);
        assert_eq!(lapse.frames().map(|f| f.step).collect::<Vec<_>>(), [1, 2, 3, 5]);
        lapse.offer(7, GrayImage { width: 10, height: 10, pixels: vec![0; 100] });
        assert_eq!(lapse.frames().map(|f| f.step).collect::<Vec<_>>(), [7]);
        lapse.clear();
        assert!(lapse.is_empty() && lapse.to_gif().is_none());
    }

    #[test]
    fn the_gif_decodes_to_each_frame_over_its_step() {
        let mut lapse = Timelapse::new(60);
        for (step, value) in [(1, 0u8), (2, 100), (4, 255)] {
            lapse.offer(step, grid(value));
        }
        let bytes = lapse.to_gif().unwrap();
        assert_eq!(&bytes[..6], b"GIF89a");
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::Indexed);
        let mut decoder = options.read_info(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!((decoder.width(), decoder.height()), (60, 20 + STRIP as u16));
        let mut frames = Vec::new();
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            frames.push((frame.delay, frame.buffer.to_vec()));
        }
        assert_eq!(frames.iter().map(|f| f.0).collect::<Vec<_>>(), [FRAME_DELAY, FRAME_DELAY, LAST_DELAY]);
        for ((_, pixels), value) in frames.iter().zip([0u8, 100, 255]) {
            // The grid (its greys rounded), then the strip: its grey, and the step's text in it.
            assert!(pixels[..60 * 20].iter().all(|&p| p == quantized(value)));
            let strip = &pixels[60 * 20..];
            assert!(strip.iter().all(|&p| p == STRIP_GREY || p == TEXT_GREY));
            assert!(strip.contains(&TEXT_GREY));
        }
        assert_ne!(frames[0].1[60 * 20..], frames[2].1[60 * 20..], "each frame says its own step");
    }

    #[test]
    fn greys_round_to_32_levels_from_black_to_white() {
        let levels: std::collections::BTreeSet<u8> = (0..=255).map(quantized).collect();
        assert_eq!(levels.len(), 32);
        assert_eq!((quantized(0), quantized(255)), (0, 255));
        assert!((0..=255u8).all(|g| (quantized(g) as i32 - g as i32).abs() <= 4));
    }

    #[test]
    fn the_strip_spells_the_step() {
        let label = labelled(&GrayImage { width: 80, height: 1, pixels: vec![0; 80] }, 7);
        // "STEP 7": the 7's top row (three pixels, drawn 2x) at its place, the sixth character.
        let row = (1 + (STRIP - 10) / 2) * 80;
        let seven = 4 + 5 * 8;
        assert!(label.pixels[row + seven..row + seven + 6].iter().all(|&p| p == TEXT_GREY));
        assert_eq!(label.pixels[row + seven + 6], STRIP_GREY);
        // Its last row: only the right column.
        let bottom = (1 + (STRIP - 10) / 2 + 8) * 80;
        assert_eq!(&label.pixels[bottom + seven..bottom + seven + 6], &[STRIP_GREY, STRIP_GREY, STRIP_GREY, STRIP_GREY, TEXT_GREY, TEXT_GREY]);
    }
}

