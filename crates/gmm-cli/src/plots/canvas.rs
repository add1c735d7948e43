//! What every picture shares: the canvas, its font, the component colours,
//! padded axis ranges and the error of a failed drawing.

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Tableau's ten categorical colours, one per component (cycled past ten).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(super) const SIZE: (u32, u32) = (900, 640);
pub(super) const FONT: &str = "sans-serif";
/// Points of a drawn ellipse or density curve.
pub(super) const CURVE_POINTS: usize = 120;

pub(super) type DrawResult<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub(super) fn drawing_failed(
    what: &str,
    e: Box<dyn std::error::Error + Send + Sync>,
) -> anyhow::Error {
    anyhow!("drawing {what}: {e}")
}

/// Tableau's ten in their light shades: components 10 to 19.
const LIGHT: [RGBColor; 10] = [
    RGBColor(174, 199, 232),
    RGBColor(255, 187, 120),
    RGBColor(152, 223, 138),
    RGBColor(255, 152, 150),
    RGBColor(197, 176, 213),
    RGBColor(196, 156, 148),
    RGBColor(247, 182, 210),
    RGBColor(199, 199, 199),
    RGBColor(219, 219, 141),
    RGBColor(158, 218, 229),
];

/// The colour of component `k`: Tableau's ten, then their light shades
/// (Tableau's twenty), then three blocks of twelve hues, so that no two of
/// the first 56 components look alike (past that, colours come round).
pub fn component_colour(k: usize) -> RGBColor {
    match k {
        0..10 => PALETTE[k],
        10..20 => LIGHT[k - 10],
        _ => {
            // Twelve dark hues 30 degrees apart per block of twelve
            // components; the second block turns them by 15 degrees, the
            // third is darker.
            let (block, j) = (((k - 20) / 12) % 3, (k - 20) % 12);
            let hue = 30.0 * j as f64 + if block == 1 { 15.0 } else { 0.0 };
            hsl(hue, 0.9, [0.27, 0.27, 0.2][block])
        }
    }
}

/// An HSL colour (hue in degrees, saturation and lightness in [0, 1]).
fn hsl(hue: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h = hue / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(byte(r), byte(g), byte(b))
}

/// A number as people write it, with as many decimals as `span` (the
/// axis's range) needs to tell ticks apart: `6600`, not `6600.0`; `0.25`;
/// `-2.5`; `1.5e-7` for tiny or huge numbers; never `-0`.
pub(super) fn plain_number(v: f64, span: f64) -> String {
    if v == 0.0 || v.abs() < span.abs() * 1e-9 {
        return "0".into();
    }
    if !(1e-4..1e15).contains(&v.abs()) || span.abs() < 1e-12 || span.is_nan() {
        return format!("{v:e}");
    }
    // Ticks are about a tenth of the span apart: two significant digits
    // of that step.
    let step = span.abs() / 10.0;
    let decimals = (1.0 - step.log10().floor()).clamp(0.0, 12.0) as usize;
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

/// At most `chars` characters of `text`, the last one `…` when cut.
pub(super) fn fit_text(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The width of the panel on the right of a picture that holds its legend,
/// clear of the data.
pub(super) const LEGEND_WIDTH: u32 = 270;
/// The legend box's border colour (tests find the box by it).
pub(super) const LEGEND_BORDER: RGBColor = RGBColor(170, 170, 170);

/// Draws a legend in `panel` (the picture's right-hand side): a bordered
/// box from `top`, one row per entry, each row's swatch drawn by `swatch`
/// at its centre point, then the entry's text.
pub(super) fn side_legend<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    top: i32,
    entries: &[String],
    swatch: impl Fn(&DrawingArea<DB, Shift>, (i32, i32), usize) -> DrawResult<()>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    if entries.is_empty() {
        return Ok(());
    }
    let (width, _) = panel.dim_in_pixel();
    let row = 22;
    let bottom = top + 8 + row * entries.len() as i32;
    panel.draw(&Rectangle::new(
        [(6, top), (width as i32 - 6, bottom)],
        LEGEND_BORDER.stroke_width(1),
    ))?;
    // What the panel's width holds at this font (about 6 pixels a letter).
    let chars = (width as usize).saturating_sub(56) / 6;
    for (i, text) in entries.iter().enumerate() {
        let y = top + 4 + row * i as i32 + row / 2;
        swatch(panel, (26, y), i)?;
        panel.draw(&Text::new(
            fit_text(text, chars),
            (46, y - 7),
            (FONT, 13).into_font().color(&RGBColor(40, 40, 40)),
        ))?;
    }
    Ok(())
}

/// The range of the finite values, widened by 5% on each side (and to a
/// visible width when they are all equal).
pub(super) fn padded_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })?;
    let span = hi - lo;
    let pad = if span > 0.0 {
        0.05 * span
    } else {
        (lo.abs() * 1e-3).max(1e-3)
    };
    Some((lo - pad, hi + pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_read_as_numbers_do() {
        assert_eq!(plain_number(6600.0, 400.0), "6600");
        assert_eq!(plain_number(5250.0, 400.0), "5250");
        assert_eq!(plain_number(0.25, 1.0), "0.25");
        assert_eq!(plain_number(-2.5, 3.0), "-2.5");
        assert_eq!(plain_number(-2.572, 0.005), "-2.572");
        // Ticks a hair apart keep the digits that tell them apart.
        assert_ne!(plain_number(-2.5721, 1e-6), plain_number(-2.5721004, 1e-6));
        assert_eq!(plain_number(-1e-17, 1.0), "0");
        assert_eq!(plain_number(3e-7, 1e-6), "3e-7");
        assert_eq!(fit_text("restart 12", 20), "restart 12");
        assert_eq!(
            fit_text("component 1, class weekend-shoppers", 16),
            "component 1, cl…"
        );
    }
}

/// Counting drawn elements, for the pictures' tests.
#[cfg(test)]
pub(super) mod test_support {
    use plotters::style::RGBColor;

    pub fn colour_hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    pub fn count(svg: &str, tag: &str, colour: RGBColor) -> usize {
        let stroke = format!("stroke=\"{}\"", colour_hex(colour));
        svg.split('<')
            .filter(|e| e.starts_with(tag) && e.contains(&stroke))
            .count()
    }

    /// Elements `tag` filled with `colour`.
    pub fn count_filled(svg: &str, tag: &str, colour: RGBColor) -> usize {
        let fill = format!("fill=\"{}\"", colour_hex(colour));
        svg.split('<')
            .filter(|e| e.starts_with(tag) && e.contains(&fill))
            .count()
    }

    /// The value of attribute `name` in an element's text.
    pub fn attr(element: &str, name: &str) -> Option<f64> {
        let key = format!(" {name}=\"");
        let start = element.find(&key)? + key.len();
        let end = element[start..].find('"')? + start;
        element[start..end].parse().ok()
    }

    /// The legend box: (left, top, right, bottom) of the rect drawn in
    /// the legend's border colour.
    pub fn legend_box(svg: &str) -> (f64, f64, f64, f64) {
        let stroke = format!("stroke=\"{}\"", colour_hex(super::LEGEND_BORDER));
        let e = svg
            .split('<')
            .find(|e| e.starts_with("rect") && e.contains(&stroke))
            .expect("a legend box");
        let (x, y) = (attr(e, "x").unwrap(), attr(e, "y").unwrap());
        (
            x,
            y,
            x + attr(e, "width").unwrap(),
            y + attr(e, "height").unwrap(),
        )
    }

    /// The texts of the picture.
    pub fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|e| {
                let body = &e[e.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_string())
            })
            .collect()
    }
}
