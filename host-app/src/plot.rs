// SPDX-License-Identifier: MIT OR Apache-2.0
//! Stacked time-series panels drawn as SVG with plotters: the one drawing
//! routine behind `keyrate --pass --plot` (a planned satellite pass),
//! `run --plot` (a simulated pass beside the planner) and `report --plot`
//! (a role's per-block history).

use plotters::prelude::*;
use std::path::Path;

/// One named, coloured line of a panel.
pub struct Series<'a> {
    /// Legend entry; a panel whose series are all unnamed has no legend.
    pub name: &'a str,
    /// (time in seconds, value) points.
    pub points: &'a [(f64, f64)],
    /// Line colour.
    pub colour: RGBColor,
}

/// How a panel's y axis is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YRange {
    /// From 0 to 10 % above the largest value (counts, levels).
    FromZero,
    /// The values' range with 5 % margins (rates, losses).
    Fit,
}

/// One panel: a caption, axis descriptions and its series.
pub struct Panel<'a> {
    /// Caption above the panel.
    pub caption: &'a str,
    /// x-axis description.
    pub x_desc: &'a str,
    /// y-axis description, if any.
    pub y_desc: Option<&'a str>,
    /// y-axis scaling.
    pub y_range: YRange,
    /// The lines.
    pub series: Vec<Series<'a>>,
}

fn y_bounds(panel: &Panel) -> (f64, f64) {
    let ys = || {
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
    };
    match panel.y_range {
        YRange::FromZero => {
            let max = ys().filter(|y| y.is_finite()).fold(0.0f64, f64::max);
            (0.0, if max > 0.0 { max * 1.1 } else { 1.0 })
        }
        YRange::Fit => {
            let (lo, hi) = ys()
                .filter(|y| y.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                    (a.min(y), b.max(y))
                });
            if lo.is_finite() && hi > lo {
                (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
            } else {
                (0.0, 1.0)
            }
        }
    }
}

/// Draw `panels` stacked top to bottom into the SVG `path` (`size` in
/// pixels), every panel's x axis from 0 to `t_max` seconds. The error is
/// plotters' message.
pub fn time_panels(
    path: &Path,
    size: (u32, u32),
    t_max: f64,
    panels: &[Panel],
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (area, panel) in areas.iter().zip(panels) {
        let (lo, hi) = y_bounds(panel);
        let mut chart = ChartBuilder::on(area)
            .caption(panel.caption, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_max, lo..hi)
            .map_err(|e| err(&e))?;
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(panel.x_desc);
        if let Some(y) = panel.y_desc {
            mesh.y_desc(y);
        }
        mesh.draw().map_err(|e| err(&e))?;
        for s in &panel.series {
            let colour = s.colour;
            let drawn = chart
                .draw_series(LineSeries::new(s.points.iter().copied(), colour))
                .map_err(|e| err(&e))?;
            if !s.name.is_empty() {
                drawn
                    .label(s.name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            }
        }
        if panel.series.iter().any(|s| !s.name.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(points: &[(f64, f64)], y_range: YRange) -> Panel<'_> {
        Panel {
            caption: "p",
            x_desc: "t",
            y_desc: None,
            y_range,
            series: vec![Series {
                name: "s",
                points,
                colour: BLUE,
            }],
        }
    }

    #[test]
    fn y_ranges_follow_the_values() {
        let pts = [(0.0, 2.0), (1.0, 4.0), (2.0, f64::NAN)];
        assert_eq!(y_bounds(&panel(&pts, YRange::FromZero)), (0.0, 4.4));
        let (lo, hi) = y_bounds(&panel(&pts, YRange::Fit));
        assert!((lo - 1.9).abs() < 1e-12 && (hi - 4.1).abs() < 1e-12);
        assert_eq!(y_bounds(&panel(&[], YRange::Fit)), (0.0, 1.0));
        assert_eq!(
            y_bounds(&panel(&[(0.0, 0.0)], YRange::FromZero)),
            (0.0, 1.0)
        );
    }

    #[test]
    fn panels_are_drawn_with_their_captions_and_legends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        let a = [(0.0, 1.0), (5.0, 3.0)];
        let b = [(0.0, 2.0), (5.0, 2.5)];
        let panels = [
            Panel {
                caption: "first panel",
                x_desc: "time (s)",
                y_desc: Some("bits"),
                y_range: YRange::FromZero,
                series: vec![
                    Series {
                        name: "alpha",
                        points: &a,
                        colour: BLUE,
                    },
                    Series {
                        name: "beta",
                        points: &b,
                        colour: RED,
                    },
                ],
            },
            panel(&a, YRange::Fit),
        ];
        time_panels(&path, (400, 400), 5.0, &panels).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for s in ["first panel", "alpha", "beta", "bits", "time (s)"] {
            assert!(svg.contains(s), "no {s} in the SVG");
        }
    }
}
