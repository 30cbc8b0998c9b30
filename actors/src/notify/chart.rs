//! The daily summary's equity chart as a PNG: plotters' bitmap backend drawing into a
//! buffer in memory, labels in DejaVu Sans (embedded from the `dejavu` crate, so no system
//! font or library is needed), the buffer encoded by `png`.
//!
//! Coordinates are integers (time of day in seconds, equity in won): no float touches
//! money. Labels are ASCII: the embedded font has no Hangul, and the embed beside the chart
//! carries the words.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::notify::render::{kst_hms, won};

pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 400;

/// Why no chart could be drawn (the summary then goes without one).
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("no equity samples to draw")]
    NoPoints,
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("encoding the chart as PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
}

/// Registers DejaVu Sans as plotters' "sans-serif" once; `false` if the font would not
/// load (then the chart is drawn without text).
pub(crate) fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
    })
}

/// The equity curve `points` (Unix ms, won), in time order, drawn as a PNG of
/// [`WIDTH`]×[`HEIGHT`], with the day as its caption.
pub fn equity_png(points: &[(i64, i64)], caption: &str) -> Result<Vec<u8>, ChartError> {
    let (first, last) = match (points.first(), points.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => return Err(ChartError::NoPoints),
    };
    // x: seconds since the first sample; a single sample gets a minute of width.
    let xs: Vec<(i64, i64)> = points
        .iter()
        .map(|&(t, e)| ((t - first.0) / 1000, e))
        .collect();
    let x_end = ((last.0 - first.0) / 1000).max(60);
    let lo = xs.iter().map(|p| p.1).min().unwrap_or(0);
    let hi = xs.iter().map(|p| p.1).max().unwrap_or(0);
    // Room above and below, never an empty range (a flat day is a flat line in the middle).
    let pad = (hi.saturating_sub(lo) / 10).max(((hi.unsigned_abs() / 10_000) as i64).max(100));
    let (y0, y1) = (lo.saturating_sub(pad), hi.saturating_add(pad));
    // plotters maps a value by `(v - y0) / (y1 - y0)` in i64: the span must fit.
    if y1.checked_sub(y0).is_none() {
        return Err(ChartError::Draw(
            "equity beyond what one chart can span".to_owned(),
        ));
    }
    let opening = first.1;

    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let draw = |e: &dyn std::fmt::Display| ChartError::Draw(e.to_string());
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let text = font_ready();
        let mut builder = ChartBuilder::on(&root);
        builder.margin(16);
        if text {
            builder
                .caption(caption, ("sans-serif", 20))
                .x_label_area_size(28)
                .y_label_area_size(96);
        }
        let mut chart = builder
            .build_cartesian_2d(0..x_end, y0..y1)
            .map_err(|e| draw(&e))?;
        let x_label = |x: &i64| kst_hms(first.0 + x * 1000)[..5].to_owned();
        let y_label = |y: &i64| won(*y);
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(RGBColor(235, 235, 235))
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label);
        if !text {
            mesh.disable_x_axis().disable_y_axis();
        }
        mesh.draw().map_err(|e| draw(&e))?;
        // The opening equity, for "up or down on the day" at a glance.
        chart
            .draw_series(LineSeries::new(
                [(0, opening), (x_end, opening)],
                RGBColor(160, 160, 160),
            ))
            .map_err(|e| draw(&e))?;
        chart
            .draw_series(LineSeries::new(
                xs.iter().copied(),
                ShapeStyle::from(&RGBColor(0x58, 0x65, 0xF2)).stroke_width(2),
            ))
            .map_err(|e| draw(&e))?;
        root.present().map_err(|e| draw(&e))?;
    }
    encode_png(&rgb)
}

/// A [`WIDTH`]×[`HEIGHT`] RGB buffer as PNG.
pub(crate) fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(rgb)?;
        w.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: i64 = 1_767_573_000_000;

    fn decode(png_bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut r = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn a_day_of_equity_is_a_png_with_a_line_on_it() {
        let pts: Vec<(i64, i64)> = (0..400)
            .map(|i| (AT + i * 60_000, 100_000_000 + (i % 50) * 20_000 - i * 1_000))
            .collect();
        let bytes = equity_png(&pts, "equity 2026-01-05 (won)").unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (info, pixels) = decode(&bytes);
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        // The curve's colour is on the picture, and so is text or axis (dark pixels).
        let has = |want: fn(&[u8]) -> bool| pixels.chunks(3).any(want);
        assert!(
            has(|p| p[0] == 0x58 && p[1] == 0x65 && p[2] == 0xF2),
            "the curve"
        );
        assert!(
            has(|p| p[0] < 60 && p[1] < 60 && p[2] < 60),
            "labels and axes"
        );
        assert!(font_ready(), "the embedded font loads");
    }

    #[test]
    fn one_sample_or_a_flat_day_still_draws() {
        assert!(equity_png(&[(AT, 5_000_000)], "x").is_ok());
        assert!(equity_png(&[(AT, 0), (AT + 1_000, 0)], "x").is_ok());
        assert!(matches!(
            equity_png(&[(AT, i64::MIN), (AT + 1_000, i64::MAX)], "x"),
            Err(ChartError::Draw(_))
        ));
        assert!(matches!(equity_png(&[], "x"), Err(ChartError::NoPoints)));
    }
}
