//! A run's digit grid over its steps, as an animated GIF: the time-lapse of a generator
//! learning to draw, from the first grid of its training (or of the run loaded) to the latest.
//! Frames are kept at steps further and further apart (each at least a tenth past the last),
//! since a run changes fastest at its start; when there are more than the capacity, every
//! other one goes (the first and the latest kept) and the spacing doubles, so that the frames
//! stay evenly spread over the run's orders of magnitude. Each frame carries its step, written
//! under the grid. The greys are rounded to 32 levels, which the eye does not tell from 256 on
//! these digits and which makes a GIF of 5-bit codes: about 25 KB a frame.

use std::sync::Arc;

use crate::image::GrayImage;

/// Frames a time-lapse keeps, besides the latest grid.
pub const FRAMES: usize = 60;
/// Grey levels of the GIF: its palette, black to white.
const LEVELS: u8 = 32;
/// How long a frame shows, and the last one, in hundredths of a second.
const FRAME_DELAY: u16 = 12;
const LAST_DELAY: u16 = 200;
/// The strip under the grid that says the step: its height, in pixels.
const STRIP: usize = 11;
/// The strip's background (the grey of the grid's gaps) and its text, as levels.
const STRIP_LEVEL: u8 = level(64);
const TEXT_LEVEL: u8 = level(235);

/// The first steps of a run, where it changes fastest: its grid is drawn more often there.
const EARLY_STEPS: u64 = 500;

/// Whether a run training at `step` draws its grid now besides the grid every few seconds,
/// `since_ms` after the last one (of `last_step`, whose drawing took `cost_ms`): in the run's
/// first `EARLY_STEPS` steps, each time the step has grown by a quarter (at least by one), or
/// is before the last grid's (a run gone back), as long as drawing grids takes at most a fifth
/// of the time. So the time-lapse, and the grid on screen, show the run's first shapes.
pub fn early_grid_due(step: u64, last_step: Option<u64>, since_ms: f64, cost_ms: f64) -> bool {
    let grown = last_step.is_none_or(|last| step < last || step >= last + (last / 4).max(1));
    step <= EARLY_STEPS && grown && since_ms > 4.0 * cost_ms
}

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
    /// A frame is kept at least this many tenths of its step past the last one (doubling with
    /// each thinning).
    spacing: u64,
}

impl Default for Timelapse {
    fn default() -> Self {
        Self::new(FRAMES)
    }
}

impl Timelapse {
    /// `capacity`: at least 2.
    pub fn new(capacity: usize) -> Self {
        Self { frames: Vec::new(), latest: None, capacity: capacity.max(2), spacing: 1 }
    }

    /// The grid drawn at `step`: kept as a frame if it is far enough past the last one. A
    /// grid of another size than the frames (another model's) starts the time-lapse anew, and
    /// one of an earlier step than the last (a run that started over) forgets the frames after.
    pub fn offer(&mut self, step: u64, grid: GrayImage) {
        let same_size = |f: &Frame| (f.grid.width, f.grid.height) == (grid.width, grid.height);
        if !self.frames.first().is_none_or(same_size) {
            self.clear();
        }
        self.keep_until(step);
        let frame = Frame { step, grid: Arc::new(grid) };
        let spacing = self.spacing;
        let due = self.frames.last().is_none_or(|last| step >= last.step + (last.step.saturating_mul(spacing) / 10).max(1));
        if due {
            self.frames.push(frame.clone());
            if self.frames.len() > self.capacity {
                let last = self.frames.len() - 1;
                self.frames = self.frames.drain(..).enumerate().filter(|(i, _)| i % 2 == 0 || *i == last).map(|(_, f)| f).collect();
                self.spacing *= 2;
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

    /// The step of the last frame, which the GIF ends on.
    pub fn last_step(&self) -> Option<u64> {
        self.frames().last().map(|f| f.step)
    }

    /// The time-lapse as an animated GIF that loops: each frame's grid over a strip that says
    /// its step; the last frame held for two seconds.
    pub fn to_gif(&self) -> Result<Vec<u8>, String> {
        let frames: Vec<&Frame> = self.frames().collect();
        let first = frames.first().ok_or("the run has drawn no grid yet")?;
        let (width, height) = (first.grid.width, first.grid.height + STRIP);
        let too_large = || format!("a grid of {width}x{height} pixels is larger than a GIF takes");
        let (gif_width, gif_height) = (u16::try_from(width).map_err(|_| too_large())?, u16::try_from(height).map_err(|_| too_large())?);
        let palette: Vec<u8> = (0..LEVELS).flat_map(|l| [grey(l); 3]).collect();
        let mut out = Vec::new();
        {
            let mut encoder = gif::Encoder::new(&mut out, gif_width, gif_height, &palette).map_err(|e| e.to_string())?;
            encoder.set_repeat(gif::Repeat::Infinite).map_err(|e| e.to_string())?;
            for (i, frame) in frames.iter().enumerate() {
                let mut gif_frame = gif::Frame::from_indexed_pixels(gif_width, gif_height, labelled(&frame.grid, frame.step), None);
                gif_frame.delay = if i + 1 == frames.len() { LAST_DELAY } else { FRAME_DELAY };
                encoder.write_frame(&gif_frame).map_err(|e| e.to_string())?;
            }
        }
        Ok(out)
    }
}

/// The level (0 to `LEVELS` - 1) nearest a grey.
const fn level(grey: u8) -> u8 {
    ((grey as u32 * (LEVELS as u32 - 1) + 127) / 255) as u8
}

/// A level's grey.
fn grey(level: u8) -> u8 {
    ((level as u32 * 255 + (LEVELS as u32 - 1) / 2) / (LEVELS as u32 - 1)) as u8
}

/// The levels of `grid` over a strip that says "STEP `step`", row by row.
fn labelled(grid: &GrayImage, step: u64) -> Vec<u8> {
    let width = grid.width;
    let mut out: Vec<u8> = grid.pixels.iter().map(|&p| level(p)).collect();
    out.resize(width * (grid.height + STRIP), STRIP_LEVEL);
    // Glyphs 3x5, drawn 2x: 8 pixels a character with the space after it.
    let (scale, advance, left) = (2, 8, 4);
    let top = grid.height + (STRIP - 5 * scale) / 2;
    for (n, c) in format!("STEP {step}").chars().enumerate() {
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in (0..3).filter(|col| bits & (0b100 >> col) != 0) {
                for (dy, dx) in (0..scale).flat_map(|dy| (0..scale).map(move |dx| (dy, dx))) {
                    let (x, y) = (left + n * advance + col * scale + dx, top + row * scale + dy);
                    if x < width {
                        out[y * width + x] = TEXT_LEVEL;
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

    fn steps(lapse: &Timelapse) -> Vec<u64> {
        lapse.frames().map(|f| f.step).collect()
    }

    #[test]
    fn frames_thin_out_as_the_run_goes_and_keep_the_first_and_the_latest() {
        let mut lapse = Timelapse::new(8);
        for step in 1..=10_000 {
            lapse.offer(step, grid((step % 251) as u8));
        }
        let kept = steps(&lapse);
        assert!(kept.len() <= 9, "{kept:?}");
        assert_eq!((kept[0], *kept.last().unwrap()), (1, 10_000), "{kept:?}");
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "{kept:?}");
        // Each kept frame is the grid of its step.
        assert!(lapse.frames().all(|f| f.grid.pixels[0] == (f.step % 251) as u8));
        // Spread over the run's orders of magnitude: as many frames in its first 1 % as past it.
        let mut long = Timelapse::new(60);
        (1..=100_000).for_each(|step| long.offer(step, grid(0)));
        let early = steps(&long).iter().filter(|&&s| s <= 1_000).count();
        assert!((20..=40).contains(&early), "{early} of {:?}", steps(&long));
        // Steps close together early on are not all kept: a tenth past the last each.
        let mut dense = Timelapse::new(1000);
        (100..200).for_each(|step| dense.offer(step, grid(0)));
        assert_eq!(dense.frames.iter().map(|f| f.step).collect::<Vec<_>>(), [100, 110, 121, 133, 146, 160, 176, 193]);
        assert_eq!(dense.last_step(), Some(199), "the latest grid ends it");
    }

    #[test]
    fn going_back_forgets_later_frames_and_another_size_starts_anew() {
        let mut lapse = Timelapse::new(60);
        for step in [1, 2, 3, 5, 8, 13, 21] {
            lapse.offer(step, grid(step as u8));
        }
        lapse.keep_until(6);
        assert_eq!(steps(&lapse), [1, 2, 3, 5]);
        // A grid of an earlier step: the run started over from there.
        lapse.offer(2, grid(9));
        assert_eq!(steps(&lapse), [1, 2]);
        assert_eq!(lapse.frames().last().unwrap().grid.pixels[0], 2, "the frame kept stays");
        lapse.offer(7, GrayImage { width: 10, height: 10, pixels: vec![0; 100] });
        assert_eq!(steps(&lapse), [7]);
        lapse.clear();
        assert!(lapse.is_empty());
        assert_eq!(lapse.to_gif().unwrap_err(), "the run has drawn no grid yet");
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
        // A palette of the levels, black to white.
        let palette = decoder.global_palette().unwrap().to_vec();
        assert_eq!(palette.len(), 3 * LEVELS as usize);
        assert_eq!((&palette[..3], &palette[palette.len() - 3..]), (&[0, 0, 0][..], &[255, 255, 255][..]));
        let mut frames = Vec::new();
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            frames.push((frame.delay, frame.buffer.to_vec()));
        }
        assert_eq!(frames.iter().map(|f| f.0).collect::<Vec<_>>(), [FRAME_DELAY, FRAME_DELAY, LAST_DELAY]);
        for ((_, pixels), value) in frames.iter().zip([0u8, 100, 255]) {
            // The grid (its greys as levels), then the strip: its grey, and the step's text.
            assert!(pixels[..60 * 20].iter().all(|&p| p == level(value)));
            let strip = &pixels[60 * 20..];
            assert!(strip.iter().all(|&p| p == STRIP_LEVEL || p == TEXT_LEVEL));
            assert!(strip.contains(&TEXT_LEVEL));
        }
        assert_ne!(frames[0].1[60 * 20..], frames[2].1[60 * 20..], "each frame says its own step");
    }

    #[test]
    fn grids_come_more_often_early_in_a_run_if_they_are_cheap() {
        // Early on, each time the step grew by a quarter.
        assert!(early_grid_due(1, None, 10.0, 1.0) && early_grid_due(8, Some(0), 10.0, 1.0) && early_grid_due(100, Some(80), 10.0, 1.0));
        assert!(!early_grid_due(99, Some(80), 10.0, 1.0));
        assert!(early_grid_due(30, Some(200), 10.0, 1.0), "gone back");
        assert!(!early_grid_due(600, Some(400), 10.0, 1.0), "past the first steps");
        // Unless grids take more than a fifth of the time (a slow GPU emulation).
        assert!(!early_grid_due(100, Some(50), 1000.0, 400.0));
        assert!(early_grid_due(100, Some(50), 1700.0, 400.0));
    }

    #[test]
    fn greys_round_to_32_levels_from_black_to_white() {
        let levels: std::collections::BTreeSet<u8> = (0..=255).map(level).collect();
        assert_eq!(levels, (0..LEVELS).collect());
        assert_eq!((grey(0), grey(LEVELS - 1)), (0, 255));
        assert!((0..=255u8).all(|g| (grey(level(g)) as i32 - g as i32).abs() <= 4));
        // The grid's gaps and the strip are one grey.
        assert_eq!(level(64), STRIP_LEVEL);
    }

    #[test]
    fn the_strip_spells_the_step() {
        let label = labelled(&GrayImage { width: 80, height: 1, pixels: vec![0; 80] }, 7);
        // "STEP 7": the 7's top row (three pixels, drawn 2x) at its place, the sixth character.
        let row = (1 + (STRIP - 10) / 2) * 80;
        let seven = 4 + 5 * 8;
        assert!(label[row + seven..row + seven + 6].iter().all(|&p| p == TEXT_LEVEL));
        assert_eq!(label[row + seven + 6], STRIP_LEVEL);
        // Its last row: only the right column.
        let bottom = (1 + (STRIP - 10) / 2 + 8) * 80;
        let (s, t) = (STRIP_LEVEL, TEXT_LEVEL);
        assert_eq!(&label[bottom + seven..bottom + seven + 6], &[s, s, s, s, t, t]);
    }
}
