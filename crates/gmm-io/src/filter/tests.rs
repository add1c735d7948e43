//! The filter language: files, row groups and mistakes.

use super::*;
use std::path::{Path, PathBuf};

fn parts() -> Partitions {
    let root = Path::new("/d");
    let files: Vec<PathBuf> = [
        "day=2026-10-31/n=3/a.parquet",
        "day=2026-11-01/n=12/a.parquet",
        "day=2026-11-02/n=__HIVE_DEFAULT_PARTITION__/a.parquet",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    Partitions::of(root, &files).unwrap().unwrap()
}

fn kept(text: &str) -> Vec<usize> {
    let f = Filter::parse(text).unwrap();
    let p = parts();
    (0..3).filter(|&i| f.keeps(&p, i).unwrap()).collect()
}

#[test]
fn conditions_select_files() {
    assert_eq!(kept("day >= '2026-11-01'"), [1, 2]);
    assert_eq!(
        kept("n > 5"),
        [1],
        "integers compare as numbers, nulls fail"
    );
    assert_eq!(kept("n < 5 or n is null"), [0, 2]);
    assert_eq!(kept("not (day = \"2026-11-01\") and n is not null"), [0]);
    assert_eq!(kept("day in ('2026-10-31', '2026-11-02')"), [0, 2]);
    assert_eq!(kept("`n` <> 3"), [1]);
    // A null value passes no comparison, negated or not (SQL).
    assert_eq!(kept("not (n = 3)"), [1]);
    assert_eq!(kept("not (n = 3) or n is null"), [1, 2]);
    assert_eq!(
        Filter::parse("n = 3 and day < '2027'").unwrap().columns(),
        ["n", "day"]
    );
}

#[test]
fn row_group_statistics_rule_groups_out() {
    let range = |min: f64, max: f64, nulls: bool| Range {
        min: Bound::Number(min),
        max: Bound::Number(max),
        nulls,
        values: true,
    };
    let may = |text: &str, r: Range| {
        let f = Filter::parse(text).unwrap();
        f.may_keep_group(&|c| (c == "x").then(|| r.clone()))
    };
    assert!(!may("x > 10", range(0.0, 10.0, false)));
    assert!(may("x >= 10", range(0.0, 10.0, false)));
    assert!(!may("x = 11 or x < -1", range(0.0, 10.0, false)));
    assert!(may("x = 11 or y = 1", range(0.0, 10.0, false)), "y unknown");
    assert!(!may("x in (20, 30) and y = 1", range(0.0, 10.0, false)));
    assert!(!may("x is null", range(0.0, 10.0, false)));
    assert!(may("x is null", range(0.0, 10.0, true)));
    assert!(may("not x > 10", range(0.0, 10.0, false)), "negations keep");
    let text = Range {
        min: Bound::Text("2026-10-01".into()),
        max: Bound::Text("2026-10-31".into()),
        nulls: false,
        values: true,
    };
    assert!(!may("x >= '2026-11-01'", text.clone()));
    assert!(may("x <= '2026-10-01'", text));
}

#[test]
fn mistakes_are_told() {
    for (text, needle) in [
        ("day >= ", "expected a value, found the end"),
        ("day '2026'", "expected a comparison"),
        ("(n = 3", "expected `)`"),
        ("n = 3 m", "unexpected `m`"),
        ("day = '2026", "is not closed"),
        ("n ; 3", "unexpected `;`"),
        ("n is 3", "expected `null`"),
        ("`not` = 'x' and", "expected a column"),
    ] {
        let e = Filter::parse(text).unwrap_err();
        assert!(e.contains(needle), "{text}: {e}");
    }
    let deep = format!("{}n = 3{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(Filter::parse(&deep).unwrap_err().contains("nested"));
    let nots = format!("{}n = 3", "not ".repeat(100_000));
    assert!(Filter::parse(&nots).unwrap_err().contains("nested"));
    // A backquoted name is a column, even one named like a keyword.
    assert_eq!(Filter::parse("`not` = 'x'").unwrap().columns(), ["not"]);
    let f = Filter::parse("n = 'x'").unwrap();
    let e = f.keeps(&parts(), 0).unwrap_err();
    assert!(e.contains("holds numbers"), "{e}");
}

#[test]
fn numbers_compare_as_ieee_floats() {
    use arrow::array::{Array, ArrayRef, DictionaryArray, Float64Array};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;
    let x: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(f64::NAN),
        Some(-0.0),
        Some(0.0),
        None,
        Some(12.0),
    ]));
    let mask = |text: &str, a: &ArrayRef| {
        let f = Filter::parse(text).unwrap();
        let m = f.row_mask(a.len(), &mut |_| Ok(a.clone())).unwrap();
        (0..m.len())
            .map(|i| m.is_valid(i) && m.value(i))
            .collect::<Vec<_>>()
    };
    // NaN and null pass nothing; -0.0 is 0.
    assert_eq!(mask("x > 10", &x), [false, false, false, false, true]);
    assert_eq!(mask("x != 1", &x), [false, true, true, false, true]);
    assert_eq!(mask("x < 0", &x), [false, false, false, false, false]);
    assert_eq!(mask("x = 0", &x), [false, true, true, false, false]);
    assert_eq!(mask("not x = 0", &x), [false, false, false, false, true]);
    // A dictionary of integers compares as numbers, not as text.
    let codes: DictionaryArray<Int32Type> = vec!["10", "9"].into_iter().collect();
    let codes = arrow::compute::cast(
        &codes,
        &arrow::datatypes::DataType::Dictionary(
            Box::new(arrow::datatypes::DataType::Int32),
            Box::new(arrow::datatypes::DataType::Int64),
        ),
    )
    .unwrap();
    assert_eq!(mask("x > 9", &codes), [true, false]);
}
