//! Results do not depend on the thread count or on how rayon schedules the
//! chunks: 1, 2 and 4 threads and repeated runs give bit-identical fits
//! (models, reports, traces). Different `chunk_rows` change only the
//! rounding of the per-chunk partial sums: results agree to 1e-12 relative.

mod common;

use common::{
    Case, assert_close, assert_identical, assert_models_close, case_strategy, fit_with, in_pool,
    run_cases,
};
use gmm_core::{
    Collective, CovarianceType, Covariances, Dataset, DegeneratePolicy, Fit, FitObserver,
    FitParams, GaussianMixture, GmmError, InitMethod, LocalGroup, Partition, Racing, RestartReport,
    SemiSupervised, SemiSupervisedMode, Silent, share,
};
use proptest::prelude::*;

/// Bit-identical fits for 1, 2 and 4 threads, twice with 4, with many small
/// chunks and three restarts.
fn assert_thread_independent(params: &FitParams, data: &Dataset, what: &str) {
    let one = fit_with(1, params, data);
    let two = fit_with(2, params, data);
    let four = fit_with(4, params, data);
    let again = fit_with(4, params, data);
    assert_identical(&one, &four, &format!("{what}: 1 vs 4 threads"));
    assert_identical(&four, &two, &format!("{what}: 4 vs 2 threads"));
    assert_identical(&four, &again, &format!("{what}: 4 threads, repeated"));
    // Predictions and scores too.
    let view = data.view();
    let p1 = in_pool(1, || one.model.predict_proba(view).unwrap());
    let p4 = in_pool(4, || one.model.predict_proba(view).unwrap());
    assert!(p1 == p4, "{what}: predict_proba depends on threads");
    let s1 = in_pool(1, || one.model.score(view).unwrap());
    let s4 = in_pool(4, || one.model.score(view).unwrap());
    assert_eq!(
        s1.to_bits(),
        s4.to_bits(),
        "{what}: score depends on threads"
    );
}

fn params(case: &Case, ct: CovarianceType, init: InitMethod, chunk_rows: usize) -> FitParams {
    FitParams::new(case.k_fit)
        .covariance_type(ct)
        .init(init)
        .tol(0.0)
        .max_iter(25)
        .n_init(3)
        .seed(case.seed)
        .chunk_rows(chunk_rows)
}

fn determinism_strategy() -> impl Strategy<Value = (Case, bool, usize)> {
    (
        case_strategy(),
        any::<bool>(),
        prop_oneof![Just(7usize), Just(16)],
    )
}

#[test]
fn thread_count_does_not_change_unsupervised_fits() {
    run_cases(6, determinism_strategy(), |(case, weighted, chunk)| {
        let mut data = case.dataset();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        for ct in CovarianceType::FAMILIES {
            for init in [InitMethod::KMeans, InitMethod::Random, InitMethod::Hc] {
                let what = format!("{ct}, {init}, chunk {chunk}, weighted {weighted}, {case:?}");
                assert_thread_independent(&params(&case, ct, init, chunk), &data, &what);
            }
        }
    });
}

#[test]
fn thread_count_does_not_change_semi_supervised_fits() {
    run_cases(4, determinism_strategy(), |(case, weighted, chunk)| {
        let case = Case {
            k_fit: case.k_fit.max(case.k_true),
            ..case
        };
        let mut data = case
            .dataset()
            .with_labels(case.labels(0.3), case.k_true)
            .unwrap();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        for ct in CovarianceType::FAMILIES {
            for mode in [SemiSupervisedMode::Em, SemiSupervisedMode::Init] {
                let semi = SemiSupervised {
                    mode,
                    unlabeled_weight: 0.5,
                };
                let p = params(&case, ct, InitMethod::Labeled, chunk).semi_supervised(semi);
                let what = format!("{ct}, {mode}, chunk {chunk}, {case:?}");
                assert_thread_independent(&p, &data, &what);
            }
        }
    });
}

/// Many more chunks than threads, and chunks of one row.
#[test]
fn tiny_chunks_are_thread_independent() {
    let case = Case {
        seed: 11,
        k_true: 3,
        k_fit: 3,
        d: 3,
        n: 333,
        separated: false,
    };
    let data = case.dataset().with_weights(case.real_weights()).unwrap();
    for ct in CovarianceType::FAMILIES {
        for chunk in [1, 2, 5] {
            let p = params(&case, ct, InitMethod::KMeans, chunk);
            assert_thread_independent(&p, &data, &format!("{ct}, chunk {chunk}"));
        }
    }
}

/// Full covariances' statistics take two blocks of rows at a time (up to
/// 8 features on AVX-512, and from 32 features on everywhere): chunks of
/// 200 rows (three whole blocks and a partial one) and of the default
/// 1,024, weighted and semi-supervised rows, are thread- and
/// rank-independent, and agree to rounding with chunks of one
/// block (64 rows), which take no pairs. (That the pairs add the bits of
/// one block at a time is `kernel`'s test.)
#[test]
fn wide_full_fits_in_pairs_of_blocks_are_thread_and_rank_independent() {
    let case = Case {
        seed: 5,
        k_true: 3,
        k_fit: 3,
        d: 33,
        n: 2_100,
        separated: true,
    };
    let data = case.dataset().with_weights(case.real_weights()).unwrap();
    for chunk in [200, 1_024] {
        let p = params(&case, CovarianceType::Full, InitMethod::KMeans, chunk);
        assert_thread_independent(&p, &data, &format!("d = 33, chunk {chunk}"));
    }
    let p = params(&case, CovarianceType::Full, InitMethod::KMeans, 200);
    assert_rank_independent(&p, &data, "d = 33, chunk 200, split among ranks");
    let labeled = data
        .clone()
        .with_labels(case.labels(0.3), case.k_true)
        .unwrap();
    let semi = SemiSupervised {
        mode: SemiSupervisedMode::Em,
        unlabeled_weight: 0.5,
    };
    let p = params(&case, CovarianceType::Full, InitMethod::Labeled, 200).semi_supervised(semi);
    assert_thread_independent(&p, &labeled, "d = 33, semi-supervised");
    let single: Vec<Fit> = [64, 200, 1_024]
        .iter()
        .map(|&c| {
            let p = params(&case, CovarianceType::Full, InitMethod::RandomParams, c);
            common::fit(p.max_iter(15).n_init(1), &data)
        })
        .collect();
    for (f, c) in single[1..].iter().zip([200, 1_024]) {
        let what = format!("d = 33, chunks of 64 and {c} rows");
        assert_close(
            &single[0].report.restarts[0].trace,
            &f.report.restarts[0].trace,
            1e-12,
            &what,
        );
        assert_models_close(&single[0].model, &f.model, 1e-12, &what);
    }
}

/// Different chunk sizes: only rounding differs, 1e-12 relative. One restart
/// (with several, two restarts that reach the same optimum up to rounding may
/// swap which one wins) from an initialization that does not depend on the
/// chunking (`random` draws per chunk, so it is left out). The traces of
/// three restarts are compared as well. scikit-learn's four families only:
/// the M-steps of mclust's others amplify rounding (an orientation per
/// component comes from an eigendecomposition, which jumps where two
/// eigenvalues nearly tie; the iterative ones stop within 1e-12), so a
/// different chunking may end elsewhere. Thread counts and ranks change
/// nothing for any family (the tests above and below).
#[test]
fn chunk_size_changes_only_rounding() {
    run_cases(12, case_strategy(), |case| {
        let data = case.dataset();
        for ct in CovarianceType::ALL {
            for init in [
                InitMethod::KMeans,
                InitMethod::RandomFromData,
                InitMethod::RandomParams,
            ] {
                let what = format!("{ct}, {init}, {case:?}");
                let fits: Vec<Fit> = [7, 16, 1024]
                    .iter()
                    .map(|&c| {
                        let p = params(&case, ct, init, c).max_iter(15);
                        common::fit(p, &data)
                    })
                    .collect();
                for f in &fits[1..] {
                    for (ra, rb) in fits[0].report.restarts.iter().zip(&f.report.restarts) {
                        assert_close(&ra.trace, &rb.trace, 1e-12, &format!("{what}: traces"));
                    }
                }
                let single: Vec<Fit> = [7, 16, 1024]
                    .iter()
                    .map(|&c| common::fit(params(&case, ct, init, c).max_iter(15).n_init(1), &data))
                    .collect();
                for f in &single[1..] {
                    assert_models_close(&single[0].model, &f.model, 1e-12, &what);
                }
            }
        }
    });
}

/// Fits `data` split among `ranks` threads acting as processes, each
/// holding only its share of the rows: one result per rank.
fn fit_split(params: &FitParams, data: &Dataset, ranks: usize) -> Vec<gmm_core::Result<Fit>> {
    let p = params.clone().check().unwrap();
    let chunk_rows = params.chunk_rows;
    let group = LocalGroup::ranks(ranks);
    let view = data.view();
    let n = view.n_rows();
    std::thread::scope(|s| {
        let handles: Vec<_> = group
            .iter()
            .map(|r| {
                let p = &p;
                s.spawn(move || {
                    let (a, b) = share(n, chunk_rows, r.rank(), ranks);
                    let local = view.slice_rows(a, b).with_partition(Partition {
                        comm: r,
                        row_offset: a,
                        global_rows: n,
                    });
                    p.fit(local, &mut Silent)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn assert_rank_independent(params: &FitParams, data: &Dataset, what: &str) {
    let one = fit_with(2, params, data);
    for ranks in [1, 2, 3] {
        for (r, fit) in fit_split(params, data, ranks).into_iter().enumerate() {
            let fit = fit.unwrap_or_else(|e| panic!("{what}: rank {r} of {ranks}: {e}"));
            assert_identical(&one, &fit, &format!("{what}: rank {r} of {ranks}"));
        }
    }
}

/// A table split among 1, 2 and 3 processes gives the single process's fit
/// bit for bit, for every covariance type and initialization, with weights,
/// and with the initialization on all rows or on a sample of them.
#[test]
fn split_among_ranks_gives_the_single_process_fit() {
    run_cases(3, determinism_strategy(), |(case, weighted, chunk)| {
        let mut data = case.dataset();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        for ct in CovarianceType::FAMILIES {
            for init in [
                InitMethod::KMeans,
                InitMethod::Random,
                InitMethod::RandomFromData,
                InitMethod::RandomParams,
                InitMethod::Hc,
            ] {
                for init_rows in [1_000_000, case.n / 3] {
                    let what = format!(
                        "{ct}, {init}, chunk {chunk}, init_rows {init_rows}, weighted {weighted}, {case:?}"
                    );
                    let p = params(&case, ct, init, chunk).init_rows(init_rows.max(case.k_fit));
                    assert_rank_independent(&p, &data, &what);
                }
            }
        }
    });
}

#[test]
fn split_among_ranks_gives_the_single_process_semi_supervised_fit() {
    run_cases(3, determinism_strategy(), |(case, weighted, chunk)| {
        let case = Case {
            k_fit: case.k_fit.max(case.k_true),
            ..case
        };
        let mut data = case
            .dataset()
            .with_labels(case.labels(0.3), case.k_true)
            .unwrap();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        for ct in [CovarianceType::Full, CovarianceType::Diag] {
            for mode in [SemiSupervisedMode::Em, SemiSupervisedMode::Init] {
                let semi = SemiSupervised {
                    mode,
                    unlabeled_weight: 0.5,
                };
                for init_rows in [1_000_000, case.n / 3] {
                    let p = params(&case, ct, InitMethod::Labeled, chunk)
                        .semi_supervised(semi)
                        .init_rows(init_rows.max(1));
                    let what = format!("{ct}, {mode}, chunk {chunk}, init_rows {init_rows}");
                    assert_rank_independent(&p, &data, &what);
                }
            }
        }
    });
}

/// Bad data on one rank stops every rank: that rank reports the row in the
/// whole table, the others name the rank that failed.
#[test]
fn a_failure_on_one_rank_stops_every_rank() {
    let case = Case {
        seed: 5,
        k_true: 2,
        k_fit: 2,
        d: 2,
        n: 300,
        separated: true,
    };
    let (mut x, _) = case.rows();
    x[2 * 250 + 1] = f64::NAN;
    let data = Dataset::from_row_major(x, 2).unwrap();
    let p = FitParams::new(2).chunk_rows(16).seed(1);
    let results = fit_split(&p, &data, 3);
    let failing = (0..3)
        .find(|&r| {
            let (a, b) = share(300, 16, r, 3);
            (a..b).contains(&250)
        })
        .unwrap();
    for (r, res) in results.into_iter().enumerate() {
        match res {
            Err(GmmError::NonFinite { row, column, .. }) if r == failing => {
                assert_eq!((row, column), (250, 1));
            }
            Err(GmmError::OnRank { rank, message }) if r != failing => {
                assert_eq!(rank, failing);
                assert!(message.contains("row 250"), "{message}");
            }
            other => panic!("rank {r}: {other:?}"),
        }
    }
}

/// Everything a fit tells its observer, in order (objectives as bits).
#[derive(Default)]
struct Recorder(Vec<String>);

impl FitObserver for Recorder {
    fn restart_initialized(&mut self, restart: usize, description: &str) {
        self.0.push(format!("init {restart} {description}"));
    }
    fn iteration(&mut self, restart: usize, iteration: usize, mean_objective: f64) {
        self.0.push(format!(
            "iter {restart} {iteration} {:x}",
            mean_objective.to_bits()
        ));
    }
    fn restart_finished(&mut self, report: &RestartReport) {
        self.0
            .push(format!("done {} {:?}", report.restart, report.ending));
    }
}

/// Fits the whole of `data` on each of `ranks` threads acting as processes,
/// the restarts spread among them: each rank's result and what its
/// observer heard.
fn fit_spread(
    params: &FitParams,
    data: &Dataset,
    ranks: usize,
) -> Vec<(gmm_core::Result<Fit>, Vec<String>)> {
    let p = params.clone().check().unwrap();
    let group = LocalGroup::ranks(ranks);
    let view = data.view();
    std::thread::scope(|s| {
        let handles: Vec<_> = group
            .iter()
            .map(|r| {
                let p = &p;
                s.spawn(move || {
                    let mut rec = Recorder::default();
                    let fit = p.fit_spread_restarts(view, r, &mut rec);
                    (fit, rec.0)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Restarts spread over 1, 2 and 3 ranks: every rank returns the single
/// process's fit (or error) and tells its observer the same story.
fn assert_spread_independent(params: &FitParams, data: &Dataset, what: &str) {
    let p = params.clone().check().unwrap();
    let mut rec = Recorder::default();
    let one = in_pool(2, || p.fit(data.view(), &mut rec));
    for ranks in [1, 2, 3] {
        for (r, (fit, events)) in fit_spread(params, data, ranks).into_iter().enumerate() {
            let what = format!("{what}: rank {r} of {ranks}");
            match (&one, fit) {
                (Ok(one), Ok(fit)) => assert_identical(one, &fit, &what),
                (Err(a), Err(b)) => assert_eq!(a, &b, "{what}"),
                (a, b) => panic!("{what}: {a:?} vs {b:?}"),
            }
            assert_eq!(rec.0, events, "{what}: observer");
        }
    }
}

/// Restarts spread among 1, 2 and 3 processes that each hold the whole
/// table give the single process's fit bit for bit, for every covariance
/// type, with and without racing (which compares restarts of different
/// ranks) and with weights.
#[test]
fn restarts_spread_among_ranks_give_the_single_process_fit() {
    run_cases(3, determinism_strategy(), |(case, weighted, chunk)| {
        let mut data = case.dataset();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        for ct in CovarianceType::FAMILIES {
            for init in [InitMethod::KMeans, InitMethod::Random, InitMethod::Hc] {
                for racing in [None, Some(Racing::default())] {
                    let what = format!("{ct}, {init}, racing {racing:?}, {case:?}");
                    let mut p = params(&case, ct, init, chunk).n_init(5).tol(1e-4);
                    p.racing = racing.map(|r| Racing {
                        first_round: 2,
                        ..r
                    });
                    assert_spread_independent(&p, &data, &what);
                }
            }
        }
    });
}

#[test]
fn restarts_spread_among_ranks_give_the_single_process_semi_supervised_fit() {
    run_cases(2, determinism_strategy(), |(case, _, chunk)| {
        let case = Case {
            k_fit: case.k_fit.max(case.k_true),
            ..case
        };
        let data = case
            .dataset()
            .with_labels(case.labels(0.3), case.k_true)
            .unwrap();
        for mode in [SemiSupervisedMode::Em, SemiSupervisedMode::Init] {
            let semi = SemiSupervised {
                mode,
                unlabeled_weight: 0.5,
            };
            let p = params(&case, CovarianceType::Full, InitMethod::Labeled, chunk)
                .n_init(4)
                .semi_supervised(semi);
            assert_spread_independent(&p, &data, &format!("{mode}, chunk {chunk}"));
        }
    });
}

/// 60 rows of N(0, I) in 2-d and 12 copies of (6, 6), and a start with one
/// component on the copies: it degenerates at the first M-step.
fn degenerating() -> (Dataset, GaussianMixture) {
    let mut x = Vec::new();
    let mut state = 1u64;
    for _ in 0..120 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x.push((state >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0);
    }
    for _ in 0..12 {
        x.extend_from_slice(&[6.0, 6.0]);
    }
    let start = GaussianMixture::new(
        ndarray::array![0.8, 0.2],
        ndarray::array![[0.0, 0.0], [6.0, 6.0]],
        Covariances::Full(ndarray::Array3::from_shape_fn(
            (2, 2, 2),
            |(k, i, j)| match (i == j, k) {
                (false, _) => 0.0,
                (true, 0) => 1.0,
                (true, _) => 0.01,
            },
        )),
    )
    .unwrap();
    (Dataset::from_row_major(x, 2).unwrap(), start)
}

/// Degenerate components under every policy: an error found on one rank
/// reaches all of them as itself, re-seeded and dropped restarts come out
/// as in one process.
#[test]
fn restarts_spread_among_ranks_handle_degeneracy_as_one_process() {
    let (data, start) = degenerating();
    for policy in [
        DegeneratePolicy::Error,
        DegeneratePolicy::Reseed,
        DegeneratePolicy::DropRestart,
    ] {
        let p = FitParams::new(2)
            .reg_covar(0.0)
            .tol(1e-6)
            .max_iter(50)
            .n_init(4)
            .seed(3)
            .chunk_rows(16)
            .init_model(start.clone())
            .on_degenerate(policy);
        assert_spread_independent(&p, &data, &format!("{policy:?}"));
    }
    let p = FitParams::new(2)
        .reg_covar(0.0)
        .init_model(start)
        .on_degenerate(DegeneratePolicy::Error)
        .check()
        .unwrap();
    assert!(matches!(
        p.fit(data.view(), &mut Silent),
        Err(GmmError::Degenerate { restart: 0, .. })
    ));
}

/// A fit survives the trip through bytes bit for bit, infinities included.
#[test]
fn fits_round_trip_through_bytes() {
    let (data, _) = degenerating();
    for ct in CovarianceType::FAMILIES {
        let mut fit = FitParams::new(3)
            .covariance_type(ct)
            .n_init(2)
            .check()
            .unwrap()
            .fit(data.view(), &mut Silent)
            .unwrap();
        fit.report.restarts[1].lower_bound = f64::NEG_INFINITY;
        fit.report.restarts[1].note = Some("dropped: ü".into());
        let back = Fit::from_bytes(&fit.to_bytes()).unwrap();
        assert_identical(&fit, &back, &format!("{ct}"));
    }
}

/// Spreading restarts needs the whole table on every rank.
#[test]
fn spreading_restarts_refuses_a_share_of_the_rows() {
    let (data, _) = degenerating();
    let group = LocalGroup::ranks(1);
    let view = data.view().with_partition(Partition {
        comm: &group[0],
        row_offset: 0,
        global_rows: data.n_rows(),
    });
    let err = FitParams::new(2)
        .check()
        .unwrap()
        .fit_spread_restarts(view, &group[0], &mut Silent)
        .unwrap_err();
    assert!(err.to_string().contains("whole table"), "{err}");
}

/// The same with a table larger than the starts' sample (3,000 rows; the
/// starts read about max(init_rows, 1,000 per component) = 2,000 of them,
/// plus every labeled row): the sample is the same on every rank.
#[test]
fn split_among_ranks_with_a_sampled_start() {
    let case = Case {
        seed: 7,
        k_true: 2,
        k_fit: 2,
        d: 3,
        n: 3000,
        separated: false,
    };
    let plain = case.dataset();
    let labeled = case
        .dataset()
        .with_labels(case.labels(0.05), case.k_true)
        .unwrap();
    for ct in CovarianceType::FAMILIES {
        for init in [InitMethod::KMeans, InitMethod::Random] {
            let p = params(&case, ct, init, 128).init_rows(500);
            assert_rank_independent(&p, &plain, &format!("{ct}, {init}, sampled start"));
        }
        let semi = SemiSupervised {
            mode: SemiSupervisedMode::Em,
            unlabeled_weight: 0.5,
        };
        let p = params(&case, ct, InitMethod::Labeled, 128)
            .semi_supervised(semi)
            .init_rows(500);
        assert_rank_independent(&p, &labeled, &format!("{ct}, labeled, sampled start"));
    }
}

/// mclust's prior reads the data's covariance in a pass of its own: every
/// rank sums all ranks' rows, so the prior, and the fit, are those of one
/// process, on any thread count.
#[test]
fn the_prior_is_the_same_on_every_rank_and_thread_count() {
    run_cases(3, determinism_strategy(), |(case, weighted, chunk)| {
        let mut data = case.dataset();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        for ct in CovarianceType::FAMILIES
            .into_iter()
            .filter(|f| f.has_prior())
        {
            let what = format!("{ct} with the prior, chunk {chunk}, weighted {weighted}, {case:?}");
            let p = params(&case, ct, InitMethod::KMeans, chunk).prior(true);
            assert_thread_independent(&p, &data, &what);
            assert_rank_independent(&p, &data, &what);
        }
    });
}

/// The noise component's volume (a pass of bounds over all ranks' rows),
/// its start (a pass of every start's densities, or the initial noise
/// set's share, with the starts fitted to the rows out of the set, which
/// the ranks gather) and its share in each pass (summed in chunk order):
/// the fit is that of one process, on any thread count, with and without
/// weights.
#[test]
fn the_noise_component_is_the_same_on_every_rank_and_thread_count() {
    run_cases(3, determinism_strategy(), |(case, weighted, chunk)| {
        let mut data = case.dataset();
        if weighted {
            data = data.with_weights(case.real_weights()).unwrap();
        }
        let set: Vec<bool> = (0..data.n_rows()).map(|i| i % 10 == 3).collect();
        let with_set = data.clone().with_initial_noise(set).unwrap();
        for (ct, data, init) in [
            (CovarianceType::Full, &data, InitMethod::KMeans),
            (CovarianceType::Vei, &data, InitMethod::KMeans),
            (CovarianceType::Tied, &data, InitMethod::KMeans),
            (CovarianceType::Full, &with_set, InitMethod::KMeans),
            (CovarianceType::Vev, &with_set, InitMethod::Hc),
        ] {
            let what = format!(
                "{ct} with noise, {init:?} start, initial set {}, chunk {chunk}, weighted {weighted}, {case:?}",
                data.initial_noise().is_some()
            );
            let p = params(&case, ct, init, chunk).noise(true);
            assert_thread_independent(&p, data, &what);
            assert_rank_independent(&p, data, &what);
            assert_spread_independent(&p, data, &what);
        }
    });
}
