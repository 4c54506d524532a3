//! The one chart every page draws: lines over an x axis, each with an
//! optional confidence band, plus horizontal target lines, vertical markers,
//! shaded x-ranges, an optional y = x line and a legend beside the plot.
//! Drawn with plotters' SVG backend and no font backend, so text layout is
//! plotters' fixed estimate and the SVG bytes depend on the data alone
//! (DESIGN.md §2). Knows nothing about runs or sweeps: pages build a
//! [`Chart`] and call [`Chart::svg`].

use std::io;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Pixel size of every chart: plot area plus the legend column.
const WIDTH: u32 = 960;
const HEIGHT: u32 = 340;
const LEGEND_WIDTH: u32 = 230;
const FONT: &str = "sans-serif";
/// The longest legend entry, in characters, before it is cut with `…`.
const LEGEND_CHARS: usize = 32;

/// What an axis's numbers are; decides the tick labels and the unit in
/// the axis title.
#[derive(Clone, Debug, PartialEq)]
pub enum Unit {
    /// Nanoseconds, shown as µs, ms, s, min or h by the axis's range.
    Nanos,
    /// Per minute.
    PerMin,
    /// A fraction, shown as a percentage.
    Fraction,
    /// A plain number.
    Count,
    /// `log10(1 / (1 - p))` of a percentile p, shown as `99%`, `99.9%`, ….
    Nines,
    /// Indices 0, 1, … of these labels (a swept value that is not a number).
    Labels(Vec<String>),
}

/// One axis: what it shows and in which unit.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub unit: Unit,
}

impl Axis {
    pub fn new(label: impl Into<String>, unit: Unit) -> Axis {
        Axis {
            label: label.into(),
            unit,
        }
    }
}

/// One line, with its confidence band `(x, low, high)` when it has one.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            band: Vec::new(),
        }
    }
}

/// A labelled position on one axis (an SLO target, a knee, a detection).
#[derive(Clone, Debug)]
pub struct Marker {
    pub at: f64,
    pub label: String,
}

/// A labelled x-range (a fault window).
#[derive(Clone, Debug)]
pub struct Span {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

/// A chart's full description; [`Chart::svg`] draws it.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    /// Horizontal dashed lines (targets).
    pub targets: Vec<Marker>,
    /// Vertical dashed lines (knees, detections).
    pub markers: Vec<Marker>,
    pub spans: Vec<Span>,
    /// Draw y = x with this legend label.
    pub diagonal: Option<String>,
    /// Start the y axis at 0 (else fit it to the data, for figures that
    /// move in a narrow band such as completion near 100 %).
    pub from_zero: bool,
}

type Pixel = (i32, i32);
type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
enum Key {
    Line(RGBColor),
    Dashed(RGBColor),
    Fill(RGBColor),
}

const TARGET: RGBColor = RGBColor(200, 30, 30);
const MARKER: RGBColor = RGBColor(110, 60, 160);
const SHADE: RGBColor = RGBColor(245, 150, 40);
const DIAGONAL: RGBColor = RGBColor(120, 120, 120);

fn colour(i: usize) -> RGBColor {
    let c = Palette99::pick(i).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing a chart: {e}"))
}

impl Chart {
    pub fn new(title: impl Into<String>, x: Axis, y: Axis) -> Chart {
        Chart {
            title: title.into(),
            x,
            y,
            series: Vec::new(),
            targets: Vec::new(),
            markers: Vec::new(),
            spans: Vec::new(),
            diagonal: None,
            from_zero: true,
        }
    }

    /// The chart as one `<svg>` element.
    pub fn svg(&self) -> io::Result<String> {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
            root.fill(&WHITE).map_err(io_err)?;
            let (plot, legend) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
            self.draw_plot(&plot)?;
            draw_legend(&legend, &self.legend())?;
            root.present().map_err(io_err)?;
        }
        Ok(out)
    }

    /// The chart in display units (ns as s, fractions as %), so plotters'
    /// round tick values are round in the unit shown.
    fn scaled(&self, xd: f64, yd: f64) -> Chart {
        let mut c = self.clone();
        for s in &mut c.series {
            s.points.iter_mut().for_each(|p| *p = (p.0 / xd, p.1 / yd));
            s.band
                .iter_mut()
                .for_each(|b| *b = (b.0 / xd, b.1 / yd, b.2 / yd));
        }
        c.targets.iter_mut().for_each(|t| t.at /= yd);
        c.markers.iter_mut().for_each(|m| m.at /= xd);
        c.spans
            .iter_mut()
            .for_each(|s| (s.from, s.to) = (s.from / xd, s.to / xd));
        c
    }

    fn draw_plot(&self, area: &Area) -> io::Result<()> {
        let (xr, yr) = (self.x_range(), self.y_range());
        let xs = Scale::of(&self.x.unit, xr);
        let ys = Scale::of(&self.y.unit, yr);
        let diagonal = (xr.0.max(yr.0), xr.1.min(yr.1));
        let diagonal = [
            (diagonal.0 / xs.div, diagonal.0 / ys.div),
            (diagonal.1 / xs.div, diagonal.1 / ys.div),
        ];
        let (xr, yr) = (
            (xr.0 / xs.div, xr.1 / xs.div),
            (yr.0 / ys.div, yr.1 / ys.div),
        );
        let this = self.scaled(xs.div, ys.div);
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, 17))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(io_err)?;
        chart
            .configure_mesh()
            .x_desc(xs.title(&self.x.label))
            .y_desc(ys.title(&self.y.label))
            .x_label_formatter(&|v| xs.tick(*v))
            .y_label_formatter(&|v| ys.tick(*v))
            .x_labels(8)
            .y_labels(6)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .light_line_style(RGBColor(245, 245, 245))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .map_err(io_err)?;
        for s in &this.spans {
            let rect = [(s.from.max(xr.0), yr.0), (s.to.min(xr.1), yr.1)];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    rect,
                    SHADE.mix(0.18).filled(),
                )))
                .map_err(io_err)?;
        }
        if self.diagonal.is_some() {
            dashed(&mut chart, diagonal.to_vec(), DIAGONAL)?;
        }
        for (i, s) in this.series.iter().enumerate() {
            let c = colour(i);
            if !s.band.is_empty() {
                let mut poly: Vec<(f64, f64)> = s.band.iter().map(|b| (b.0, b.1)).collect();
                poly.extend(s.band.iter().rev().map(|b| (b.0, b.2)));
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))
                    .map_err(io_err)?;
            }
            chart
                .draw_series(LineSeries::new(s.points.clone(), c.stroke_width(2)))
                .map_err(io_err)?;
            if s.points.len() <= 40 {
                chart
                    .draw_series(s.points.iter().map(|p| Circle::new(*p, 3, c.filled())))
                    .map_err(io_err)?;
            }
        }
        for t in &this.targets {
            dashed(&mut chart, vec![(xr.0, t.at), (xr.1, t.at)], TARGET)?;
        }
        for m in &this.markers {
            dashed(&mut chart, vec![(m.at, yr.0), (m.at, yr.1)], MARKER)?;
        }
        Ok(())
    }

    fn legend(&self) -> Vec<(String, Key)> {
        let mut keys: Vec<(String, Key)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), Key::Line(colour(i))))
            .collect();
        if self.series.iter().any(|s| !s.band.is_empty()) {
            keys.push(("confidence interval".into(), Key::Fill(colour(0))));
        }
        keys.extend(
            self.diagonal
                .iter()
                .map(|l| (l.clone(), Key::Dashed(DIAGONAL))),
        );
        keys.extend(
            self.targets
                .iter()
                .map(|t| (t.label.clone(), Key::Dashed(TARGET))),
        );
        keys.extend(
            self.markers
                .iter()
                .map(|m| (m.label.clone(), Key::Dashed(MARKER))),
        );
        keys.extend(
            self.spans
                .iter()
                .map(|s| (s.label.clone(), Key::Fill(SHADE))),
        );
        keys
    }

    /// The data's x extent (markers and spans included), never empty.
    fn x_range(&self) -> (f64, f64) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let marks = self.markers.iter().map(|m| m.at);
        let spans = self.spans.iter().flat_map(|s| [s.from, s.to]);
        let (lo, hi) = extent(xs.chain(marks).chain(spans));
        match self.x.unit {
            Unit::Labels(_) => (lo - 0.3, hi + 0.3),
            Unit::Nanos | Unit::PerMin | Unit::Fraction | Unit::Count | Unit::Nines => {
                pad(lo, hi, false)
            }
        }
    }

    /// The data's y extent (bands and targets included), from 0 when every
    /// value is positive and [`Chart::from_zero`], with 5 % headroom.
    fn y_range(&self) -> (f64, f64) {
        let ys = self.series.iter().flat_map(|s| {
            let pts = s.points.iter().map(|p| p.1);
            pts.chain(s.band.iter().flat_map(|b| [b.1, b.2]))
        });
        let targets = self.targets.iter().map(|t| t.at);
        let (lo, hi) = extent(ys.chain(targets));
        match self.from_zero {
            true => pad(lo.min(0.0), hi, true),
            false => {
                let (lo, hi) = pad(lo, hi, true);
                (lo - (hi - lo) * 0.05, hi)
            }
        }
    }
}

fn dashed<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    points: Vec<(f64, f64)>,
    colour: RGBColor,
) -> io::Result<()> {
    chart
        .draw_series(DashedLineSeries::new(points, 6, 4, colour.stroke_width(2)))
        .map_err(|e| io_err(e.to_string()))?;
    Ok(())
}

/// Min and max of the finite values; (0, 1) when there are none.
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        (0.0, 1.0)
    } else {
        (lo, hi)
    }
}

/// A drawable range: widened when empty, with headroom on top if asked.
fn pad(lo: f64, hi: f64, headroom: bool) -> (f64, f64) {
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let w = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
        return (lo - if lo == 0.0 { 0.0 } else { w }, hi + w);
    }
    let room = if headroom { (hi - lo) * 0.05 } else { 0.0 };
    (lo, hi + room)
}

/// How an axis's values are shown: divided by `div`, with `suffix` as
/// the unit in the title.
struct Scale<'a> {
    div: f64,
    suffix: &'static str,
    labels: Option<&'a [String]>,
    nines: bool,
}

impl<'a> Scale<'a> {
    fn of(unit: &'a Unit, (lo, hi): (f64, f64)) -> Scale<'a> {
        let plain = |div, suffix| Scale {
            div,
            suffix,
            labels: None,
            nines: false,
        };
        match unit {
            Unit::Nanos => {
                let m = lo.abs().max(hi.abs());
                match m {
                    m if m >= 3.0 * 3_600e9 => plain(3_600e9, "h"),
                    m if m >= 3.0 * 60e9 => plain(60e9, "min"),
                    m if m >= 1e9 => plain(1e9, "s"),
                    m if m >= 1e6 => plain(1e6, "ms"),
                    _ => plain(1e3, "µs"),
                }
            }
            Unit::PerMin => plain(1.0, "per min"),
            Unit::Fraction => plain(0.01, "%"),
            Unit::Count => plain(1.0, ""),
            Unit::Nines => Scale {
                nines: true,
                ..plain(1.0, "")
            },
            Unit::Labels(l) => Scale {
                labels: Some(l),
                ..plain(1.0, "")
            },
        }
    }

    fn title(&self, label: &str) -> String {
        if self.suffix.is_empty() {
            label.to_string()
        } else {
            format!("{label} ({})", self.suffix)
        }
    }

    fn tick(&self, v: f64) -> String {
        if let Some(labels) = self.labels {
            let i = v.round();
            return match (v - i).abs() < 1e-6 && i >= 0.0 {
                true => labels.get(i as usize).cloned().unwrap_or_default(),
                false => String::new(),
            };
        }
        if self.nines {
            return format!("{}%", number(100.0 - 100.0 * 10f64.powf(-v)));
        }
        number(v)
    }
}

/// A tick number: at most 3 decimals, trailing zeros cut.
pub fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" => "0".to_string(),
        _ => s.to_string(),
    }
}

fn draw_legend(area: &Area, keys: &[(String, Key)]) -> io::Result<()> {
    let style = (FONT, 13).into_font().color(&BLACK);
    for (i, (label, key)) in keys.iter().enumerate() {
        let y = 48 + 20 * i as i32;
        if y > HEIGHT as i32 - 12 {
            break;
        }
        draw_key(area, (6, y), *key)?;
        area.draw(&Text::new(cut(label), (38, y - 7), style.clone()))
            .map_err(io_err)?;
    }
    Ok(())
}

fn draw_key(area: &Area, (x, y): Pixel, key: Key) -> io::Result<()> {
    let drawn = match key {
        Key::Line(c) => area.draw(&PathElement::new(
            vec![(x, y), (x + 26, y)],
            c.stroke_width(2),
        )),
        Key::Dashed(c) => {
            for k in 0..3 {
                let x0 = x + 10 * k;
                area.draw(&PathElement::new(
                    vec![(x0, y), (x0 + 6, y)],
                    c.stroke_width(2),
                ))
                .map_err(io_err)?;
            }
            Ok(())
        }
        Key::Fill(c) => area.draw(&Rectangle::new(
            [(x, y - 6), (x + 26, y + 6)],
            c.mix(0.25).filled(),
        )),
    };
    drawn.map_err(io_err)
}

fn cut(label: &str) -> String {
    if label.chars().count() <= LEGEND_CHARS {
        return label.to_string();
    }
    let head: String = label.chars().take(LEGEND_CHARS - 1).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_use_the_axis_unit() {
        let ns = Scale::of(&Unit::Nanos, (0.0, 2.5e9));
        assert_eq!((ns.suffix, ns.div), ("s", 1e9));
        let pct = Scale::of(&Unit::Fraction, (0.0, 1.0));
        assert_eq!((pct.suffix, pct.tick(99.5).as_str()), ("%", "99.5"));
        let nines = Scale::of(&Unit::Nines, (0.0, 3.0));
        assert_eq!(nines.tick(2.0), "99%");
        let labels = vec!["a".to_string(), "b".to_string()];
        let l = Unit::Labels(labels);
        let s = Scale::of(&l, (0.0, 1.0));
        assert_eq!((s.tick(1.0).as_str(), s.tick(0.5).as_str()), ("b", ""));
    }

    #[test]
    fn ranges_are_never_empty() {
        assert_eq!(pad(5.0, 5.0, true), (4.5, 5.5));
        assert_eq!(pad(0.0, 0.0, true), (0.0, 1.0));
        assert_eq!(extent([f64::NAN].into_iter()), (0.0, 1.0));
    }
}
