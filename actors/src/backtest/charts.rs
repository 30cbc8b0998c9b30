//! The backtest report's daily P&L chart: one bar a day, up red and down blue as on
//! Korean screens, drawn by plotters into a PNG like the daily summary's equity chart
//! (`notify::chart`, whose equity curve the report also uses).

use plotters::prelude::*;

use crate::notify::chart::{ChartError, HEIGHT, WIDTH};
use crate::notify::render::won;

/// `days` (name, net P&L in won) as a bar chart PNG.
pub fn daily_pnl_png(days: &[(String, i64)]) -> Result<Vec<u8>, ChartError> {
    if days.is_empty() {
        return Err(ChartError::NoPoints);
    }
    let lo = days.iter().map(|d| d.1).min().unwrap_or(0).min(0);
    let hi = days.iter().map(|d| d.1).max().unwrap_or(0).max(0);
    let pad = ((hi - lo) / 10).max(100);
    let (y0, y1) = (lo.saturating_sub(pad), hi.saturating_add(pad));
    if y1.checked_sub(y0).is_none() {
        return Err(ChartError::Draw(
            "P&L beyond what one chart can span".into(),
        ));
    }
    let n = days.len() as i64;
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let draw = |e: &dyn std::fmt::Display| ChartError::Draw(e.to_string());
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let text = crate::notify::chart::font_ready();
        let mut builder = ChartBuilder::on(&root);
        builder.margin(16);
        if text {
            builder
                .caption("daily net P&L", ("sans-serif", 20))
                .x_label_area_size(28)
                .y_label_area_size(96);
        }
        let mut chart = builder
            .build_cartesian_2d(0..n, y0..y1)
            .map_err(|e| draw(&e))?;
        let x_label = |x: &i64| {
            days.get(*x as usize)
                .map(|d| d.0.get(5..).unwrap_or(&d.0).to_owned())
                .unwrap_or_default()
        };
        let y_label = |y: &i64| won(*y);
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(RGBColor(235, 235, 235))
            .x_labels(days.len().min(12))
            .y_labels(6)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label);
        if !text {
            mesh.disable_x_axis().disable_y_axis();
        }
        mesh.draw().map_err(|e| draw(&e))?;
        chart
            .draw_series(days.iter().enumerate().map(|(i, (_, pnl))| {
                let colour = if *pnl >= 0 {
                    RGBColor(0xD6, 0x2D, 0x2D)
                } else {
                    RGBColor(0x1E, 0x5E, 0xD6)
                };
                let x = i as i64;
                Rectangle::new([(x, 0), (x + 1, *pnl)], colour.filled())
            }))
            .map_err(|e| draw(&e))?;
        root.present().map_err(|e| draw(&e))?;
    }
    crate::notify::chart::encode_png(&rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_a_day_in_red_and_blue() {
        let png = daily_pnl_png(&[
            ("2026-12-03".into(), 50_000),
            ("2026-12-04".into(), -20_000),
        ])
        .unwrap();
        let mut r = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let has = |c: [u8; 3]| buf.chunks(3).any(|p| p == c);
        assert!(has([0xD6, 0x2D, 0x2D]), "a red bar for the up day");
        assert!(has([0x1E, 0x5E, 0xD6]), "a blue bar for the down day");
        assert!(daily_pnl_png(&[]).is_err());
    }
}
