use super::*;

fn never() -> bool {
    false
}

#[test]
fn ward_merges_the_closest_rows_first_and_cuts_into_the_groups() {
    // Two tight groups far apart, one row each a little off.
    let x = [
        0.0, 0.0, 0.1, 0.0, 0.0, 0.3, 10.0, 10.0, 10.1, 10.0, 10.0, 10.3,
    ];
    for model in [HcModel::Eii, HcModel::Vvv] {
        let m = agglomerate(&x, 2, model, &never).unwrap();
        assert_eq!(m.steps().len(), 5, "{model:?}");
        assert_eq!(m.partition(2), vec![0, 0, 0, 1, 1, 1], "{model:?}");
        assert_eq!(m.partition(1), vec![0; 6]);
        assert_eq!(m.partition(6), vec![0, 1, 2, 3, 4, 5]);
    }
    // Ward's first merge is the closest pair: rows 0 and 1 (0.1 apart; the
    // same distance as rows 3 and 4, and mclust takes the last of ties).
    let m = agglomerate(&x, 2, HcModel::Eii, &never).unwrap();
    assert_eq!(m.steps()[0], (3, 4));
}

#[test]
fn a_stopped_agglomeration_gives_nothing() {
    let x = [0.0, 1.0, 2.0, 4.0];
    assert!(agglomerate(&x, 1, HcModel::Eii, &|| true).is_none());
}

#[test]
fn svd_transform_whitens_to_the_singular_values() {
    let x: Vec<f64> = (0..50)
        .flat_map(|i| {
            let t = i as f64;
            [t, 2.0 * t + (t * 0.7).sin(), 5.0, (t * 1.3).cos()]
        })
        .collect();
    let (z, q) = svd_transform(&x, 4);
    // The constant column is dropped; Z^T Z is diagonal, its entries the
    // singular values of the standardized rows.
    assert_eq!(q, 3);
    for a in 0..q {
        for b in 0..q {
            let s: f64 = z.chunks(q).map(|r| r[a] * r[b]).sum();
            if a != b {
                assert!(s.abs() < 1e-9, "{a} {b} {s}");
            } else {
                assert!(s > 0.0);
            }
        }
    }
    let total: f64 = z
        .chunks(q)
        .map(|r| r.iter().map(|v| v * v).sum::<f64>())
        .sum();
    // Sum of singular values of a 50 x 3 standardized matrix: positive and
    // at most sqrt(3) times the Frobenius norm sqrt(49 * 3).
    assert!(total > 0.0 && total <= (3.0f64 * 49.0 * 3.0).sqrt() + 1e-9);
}

#[test]
fn quantile_classes_cut_at_quantiles_and_merge_ties() {
    let x: Vec<f64> = (0..10).map(f64::from).collect();
    assert_eq!(quantile_classes(&x, 2), vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    // As mclust's qclass(0:9, 3) and qclass(c(1, 1, 1, 1, 2, 3, 3, 4), 3).
    assert_eq!(quantile_classes(&x, 3), vec![0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
    let x = [1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0];
    assert_eq!(quantile_classes(&x, 3), vec![0, 0, 0, 0, 1, 2, 2, 2]);
    // Far from zero for their spread, `max + eps` rounds to `max`: the
    // largest value is still in the top class.
    let x: Vec<f64> = (0..9)
        .map(|i| 1e13 + 3000.0 * (i / 3) as f64 + i as f64)
        .collect();
    assert_eq!(quantile_classes(&x, 3), vec![0, 0, 0, 1, 1, 1, 2, 2, 2]);
}
