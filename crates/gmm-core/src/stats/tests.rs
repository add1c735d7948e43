//! Exact, order-independent sums: the fixed-point words and their scales.

use super::*;

#[test]
fn fixed_point_round_trip_keeps_the_value() {
    for &v in &[1.0f64, -3.25, 1e-300, 123456.789, -0.1, 5e-324] {
        let e = HEADROOM_BITS - ceil_log2(v.abs());
        let (hi, lo) = to_fixed(v, e).unwrap();
        assert_eq!(from_fixed(hi, lo, e), v, "{v}");
        // Far below its scale, the low word still holds it.
        let (hi, lo) = to_fixed(v, e - 100).unwrap();
        assert_eq!(from_fixed(hi, lo, e - 100), v, "{v}");
    }
    assert_eq!(to_fixed(1.0, 127), None);
    assert!(to_fixed(1.0, 126).is_none() && to_fixed(1.0, 120).is_some());
    assert_eq!(to_fixed(f64::NAN, 0), None);
}

#[test]
fn ceil_log2_bounds() {
    for &x in &[1.0, 1.5, 2.0, 1000.0, 1e-10, 3e300] {
        let c = ceil_log2(x);
        assert!(x <= ldexp(1.0, c), "{x} {c}");
        assert!(x > ldexp(1.0, c - 2), "{x} {c}");
    }
}

fn layout() -> Layout {
    Layout {
        k: 2,
        d: 3,
        second: SecondMoment::Full,
    }
}

/// Statistics-like values of varied magnitudes.
fn chunk(seed: u64) -> SufficientStats {
    let mut s = SufficientStats::zeros(layout());
    let f = |i: usize| ((i as f64 + seed as f64) * 0.37).sin() * 10.0;
    s.n.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = f(i).abs());
    s.s1.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = f(i + 7) * 3.0);
    for k in 0..2 {
        for a in 0..3 {
            for b in 0..=a {
                s.s2[k * 9 + a * 3 + b] = f(k * 9 + a * 3 + b) * 20.0 + 1e-9 * f(a);
            }
        }
    }
    s
}

#[test]
fn exact_sum_is_order_independent() {
    let centers = [0.5, -1.0, 2.0, 1.0, 0.0, -3.0];
    let scales = Scales::new(layout(), &centers, &[10.0; 3], 100.0);
    let chunks: Vec<_> = (0..5).map(chunk).collect();
    let mut fwd = ExactStats::zeros(&scales);
    for c in &chunks {
        fwd.add(&scales, c);
    }
    // Another grouping and order.
    let mut a = ExactStats::zeros(&scales);
    let mut b = ExactStats::zeros(&scales);
    for c in chunks.iter().rev().take(2) {
        a.add(&scales, c);
    }
    for c in chunks.iter().take(3) {
        b.add(&scales, c);
    }
    b.merge(&a);
    let (t1, t2) = (fwd.totals(&scales).unwrap(), b.totals(&scales).unwrap());
    assert_eq!(t1, t2);
    // And close to a plain f64 sum.
    let plain: f64 = chunks.iter().map(|c| c.s2[4]).sum();
    assert!((t1.s2[4] - plain).abs() <= 1e-12 * plain.abs());
    // Symmetric second moments.
    assert_eq!(t1.s2[1], t1.s2[3]);
}

/// One value of 1e20 in a column makes its bound 2^67 and the second
/// moments' 2^134+: a unit-variance cluster's sums (and a tight one's)
/// still come out to full precision.
#[test]
fn a_far_bound_keeps_small_sums() {
    let centers = [0.0; 6];
    let scales = Scales::new(layout(), &centers, &[1e20, 1.0, 1.0], 1000.0);
    let chunks: Vec<_> = (0..5).map(chunk).collect();
    let mut exact = ExactStats::zeros(&scales);
    for c in &chunks {
        let mut c = c.clone();
        c.s2.iter_mut().for_each(|v| *v *= 1e-6);
        exact.add(&scales, &c);
    }
    let t = exact.totals(&scales).unwrap();
    let plain: f64 = chunks.iter().map(|c| c.s2[0] * 1e-6).sum();
    assert!(plain.abs() > 1e-6);
    assert!(
        (t.s2[0] - plain).abs() <= 1e-14 * plain.abs(),
        "{} {plain}",
        t.s2[0]
    );
}

/// The inline path of `push` leaves the same words as `to_fixed` and
/// `add_entry`, the whole way, on every side of its bounds: whole and
/// fractional units, either sign, zero, subnormal, non-finite values and
/// values that overflow, one at a time and summed.
#[test]
fn push_adds_what_to_fixed_gives() {
    let mut values = vec![
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        f64::INFINITY,
        f64::NAN,
        1.5,
        -1.5,
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2000 {
        // xorshift: sign, exponent and mantissa all over the range.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        values.push(f64::from_bits(x));
    }
    for e in [
        -1100, -1075, -60, -1, 0, 1, 20, 73, 74, 120, 126, 127, 1000, 1100,
    ] {
        for &v in &values {
            // The scales that put v's mantissa at shifts -1, 0, 73 and
            // 74 (the inline path takes 0 to 73), and the list above; words
            // near zero and near both ends of an i128, where a sum
            // overflows.
            let biased = ((v.to_bits() >> 52) & 0x7ff) as i32;
            for e in [
                e,
                1074 - biased,
                1075 - biased,
                1148 - biased,
                1149 - biased,
            ] {
                let mut fast = ExactStats {
                    hi: vec![3, -7, i128::MAX - (1 << 125), i128::MIN + (1 << 125)],
                    lo: vec![5, 0, 0, 1],
                    overflow: false,
                };
                let mut reference = fast.clone();
                for i in 0..4 {
                    fast.push(i, v, e);
                    match to_fixed(v, e) {
                        Some((hi, lo)) => reference.add_entry(i, hi, lo),
                        None => reference.overflow = true,
                    }
                }
                assert_eq!(fast, reference, "{v:e} at 2^-{e}");
            }
        }
    }
    // Near the top of an i128, the inline path (4.0 at 2^-50: shift 0)
    // finds the overflow and leaves the word as it was.
    let mut near = ExactStats {
        hi: vec![i128::MAX - 1],
        lo: vec![0],
        overflow: false,
    };
    near.push(0, 4.0, 50);
    assert!(near.overflow);
    assert_eq!(near.hi, [i128::MAX - 1]);
}
