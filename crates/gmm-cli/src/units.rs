//! Numbers as people read them: counts with thousands separators, rates
//! with SI prefixes.

/// `12345678` as `12,345,678`.
pub fn thousands(n: u64) -> String {
    indicatif::HumanCount(n).to_string()
}

/// A rate with an SI prefix: `425k`, `1.140M`.
pub fn si(v: f64) -> String {
    match v {
        v if !v.is_finite() => "-".into(),
        v if v >= 1e9 => format!("{:.3}G", v / 1e9),
        v if v >= 1e6 => format!("{:.3}M", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_000_000), "10,000,000");
        assert_eq!(si(425_300.0), "425k");
        assert_eq!(si(1_140_000.0), "1.140M");
        assert_eq!(si(12.0), "12");
    }
}
