//! SVG charts drawn with plotters, embedded inline in the HTML report.

use plotters::prelude::*;

const W: u32 = 860;
const H: u32 = 320;

/// One line of a chart: a label and its (x, y) points.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn thinner: a secondary line (p99 next to p50, a threshold).
    pub thin: bool,
}

fn color(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    C[i % C.len()]
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn bounds(lines: &[Line]) -> (f64, f64, f64, f64) {
    let pts = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    (x0, x1, y0, y1)
}

/// A line chart over time (linear x in seconds); `log_y` for latencies.
pub fn time_chart(
    title: &str,
    y_desc: &str,
    lines: &[Line],
    log_y: bool,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (x0, x1, y0, y1) = bounds(lines);
        let mut b = ChartBuilder::on(&root);
        b.caption(title, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(70);
        if log_y {
            let lo = (y0.max(0.001) * 0.8).max(0.001);
            let hi = (y1 * 1.3).max(lo * 10.0);
            let mut chart = b
                .build_cartesian_2d(x0..x1, (lo..hi).log_scale())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("seconds since start")
                .y_desc(y_desc)
                .y_labels(6)
                .y_label_formatter(&|v| fmt_ms(*v))
                .draw()
                .map_err(err)?;
            draw_lines(&mut chart, lines)?;
        } else {
            let hi = if y1 <= 0.0 { 1.0 } else { y1 * 1.1 };
            let mut chart = b.build_cartesian_2d(x0..x1, 0f64..hi).map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("seconds since start")
                .y_desc(y_desc)
                .draw()
                .map_err(err)?;
            draw_lines(&mut chart, lines)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn draw_lines<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    lines: &[Line],
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, l) in lines.iter().enumerate() {
        let c = color(i);
        // Secondary lines (e.g. p99 next to p50) are thinner.
        let w = if l.thin { 1 } else { 2 };
        chart
            .draw_series(LineSeries::new(l.points.iter().copied(), c.stroke_width(w)))
            .map_err(err)?
            .label(l.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(w)));
    }
    if !lines.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// Latency by percentile: x is `1/(1-p)` on a log axis (so 90, 99, 99.9 ...
/// are evenly spaced), y is latency in ms on a log axis.
pub fn percentile_chart(title: &str, lines: &[Line]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mapped: Vec<Line> = lines
            .iter()
            .map(|l| Line {
                label: l.label.clone(),
                thin: l.thin,
                // p100 (the max) has no place on this axis: the table shows it.
                points: l
                    .points
                    .iter()
                    .filter(|&&(p, _)| p < 100.0)
                    .map(|&(p, ms)| (1.0 / (1.0 - p / 100.0), ms))
                    .collect(),
            })
            .collect();
        let (_, _, y0, y1) = bounds(&mapped);
        let lo = (y0.max(0.001) * 0.8).max(0.001);
        let hi = (y1 * 1.3).max(lo * 10.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(70)
            .build_cartesian_2d((1f64..100_000f64).log_scale(), (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms, log)")
            .y_labels(6)
            .y_label_formatter(&|v| fmt_ms(*v))
            .x_label_formatter(&|x| {
                let p = 100.0 * (1.0 - 1.0 / x);
                if p < 99.0 {
                    format!("{p:.0}%")
                } else {
                    format!("{}%", trim(p))
                }
            })
            .draw()
            .map_err(err)?;
        draw_lines(&mut chart, &mapped)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn fmt_ms(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn trim(p: f64) -> String {
    let s = format!("{p:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Grouped bars: one group per category (e.g. target), one bar per series.
pub fn bar_chart(
    title: &str,
    y_desc: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = categories.len().max(1);
        let ymax = series
            .iter()
            .flat_map(|s| s.1.iter())
            .fold(0.0f64, |a, &b| a.max(b));
        let ymax = if ymax <= 0.0 { 1.0 } else { ymax * 1.15 };
        let cats = categories.to_vec();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 17))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..n as f64, 0f64..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&move |x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 0.26 {
                    cats.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        let k = series.len().max(1) as f64;
        let width = 0.8 / k;
        for (si, (label, vals)) in series.iter().enumerate() {
            let c = color(si);
            chart
                .draw_series(vals.iter().enumerate().map(move |(ci, &v)| {
                    let x0 = ci as f64 + 0.1 + width * si as f64;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.92, v)], c.filled())
                }))
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_render_svg() {
        let l = vec![Line {
            label: "a".into(),
            points: vec![(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)],
            thin: false,
        }];
        assert!(time_chart("t", "ops/s", &l, false)
            .unwrap()
            .contains("<svg"));
        assert!(time_chart("t", "ms", &l, true)
            .unwrap()
            .contains("<polyline"));
        let p = vec![Line {
            label: "p".into(),
            points: vec![(50.0, 0.1), (99.0, 0.5), (99.9, 2.0), (100.0, 3.0)],
            thin: true,
        }];
        assert!(percentile_chart("c", &p).unwrap().contains("<svg"));
        let b = bar_chart(
            "b",
            "ms",
            &["x".into(), "y".into()],
            &[("p50".into(), vec![1.0, 2.0])],
        )
        .unwrap();
        assert!(b.contains("<rect"));
        assert!(time_chart("empty", "x", &[], false).is_ok());
    }
}
