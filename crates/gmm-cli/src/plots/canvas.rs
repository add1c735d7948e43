//! What every picture shares: the canvas, its font, the component colours,
//! padded axis ranges and the error of a failed drawing.

use anyhow::anyhow;
use plotters::style::RGBColor;

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

/// The colour of component `k`.
pub fn component_colour(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
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
}
