//! The classification likelihood that mclust's agglomeration minimizes
//! (Fraley 1998; the Fortran `hcvvv` and `hceii` of mclust 6.1), as the
//! change a merge makes: for VVV, each cluster of `n` rows with scatter
//! matrix `W` and trace `tr` contributes
//!
//! ```text
//! n ln(b (tr + a) / n)                          when n <= d (or tr = 0: n ln(a b / n))
//! n ln(det(W / n) + b (tr + a) / n)             otherwise
//! ```
//!
//! with `a` = the data's total scatter / (rows x columns) (mclust's `alpha`
//! times `traceW(data / sqrt(n p))`) and `b` = 1 (its `beta`), which keep
//! the term finite while a cluster has too few rows for a determinant; for
//! EII the cost is Ward's, `n_a n_b / (n_a + n_b) |m_a - m_b|^2`.

/// Which of mclust's agglomerations: VVV (its default) or EII (Ward's,
/// which mclust uses when there are no more rows than columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HcModel {
    Vvv,
    Eii,
}

impl HcModel {
    pub fn as_str(self) -> &'static str {
        match self {
            HcModel::Vvv => "VVV",
            HcModel::Eii => "EII",
        }
    }
}

/// One cluster: its rows' count, mean, scatter matrix about the mean
/// (`d x d`, row-major; empty while the cluster is one row) and trace, and
/// its term of the criterion.
#[derive(Debug, Clone)]
pub(super) struct Cluster {
    pub n: usize,
    pub mean: Vec<f64>,
    pub scatter: Vec<f64>,
    pub trace: f64,
    pub term: f64,
}

/// The criterion of one agglomeration.
pub(super) struct Criterion {
    pub model: HcModel,
    d: usize,
    alpha: f64,
    beta: f64,
}

impl Criterion {
    /// mclust's constants for the rows `x` (`d` columns).
    pub fn new(model: HcModel, x: &[f64], d: usize) -> Self {
        let n = x.len() / d;
        let mut scatter = 0.0;
        for j in 0..d {
            let mean = x.iter().skip(j).step_by(d).sum::<f64>() / n as f64;
            scatter += x
                .iter()
                .skip(j)
                .step_by(d)
                .map(|v| (v - mean) * (v - mean))
                .sum::<f64>();
        }
        let alpha = (scatter / (n * d) as f64).max(f64::EPSILON);
        Criterion {
            model,
            d,
            alpha,
            beta: 1.0,
        }
    }

    pub fn singleton(&self, row: &[f64]) -> Cluster {
        Cluster {
            n: 1,
            mean: row.to_vec(),
            scatter: Vec::new(),
            trace: 0.0,
            term: (self.alpha * self.beta).ln(),
        }
    }

    /// A cluster's term from its count, trace and, past `d` rows, the
    /// scatter matrix (`factor`, overwritten by its Cholesky factor).
    fn term(&self, n: usize, trace: f64, factor: &mut [f64]) -> f64 {
        let nf = n as f64;
        let spread = self.beta * (trace + self.alpha) / nf;
        let per_row = if n <= self.d {
            spread.ln()
        } else if trace == 0.0 {
            (self.alpha * self.beta / nf).ln()
        } else {
            match half_log_det(factor, self.d) {
                // ln det(W / n).
                Some(h) => {
                    let detlog = 2.0 * h - self.d as f64 * nf.ln();
                    if detlog <= 0.0 {
                        (detlog.exp() + spread).ln()
                    } else {
                        (1.0 + (-detlog).exp() * spread).ln() + detlog
                    }
                }
                None => spread.ln(),
            }
        };
        nf * per_row
    }

    /// The merged cluster's count, trace and (when its term needs it) its
    /// scatter matrix in `w`; returns the trace.
    fn combine(&self, a: &Cluster, b: &Cluster, w: &mut Vec<f64>, need_scatter: bool) -> f64 {
        let d = self.d;
        let n = (a.n + b.n) as f64;
        let c = a.n as f64 * b.n as f64 / n;
        let mut dist = 0.0;
        for j in 0..d {
            let delta = a.mean[j] - b.mean[j];
            dist += delta * delta;
        }
        let trace = a.trace + b.trace + c * dist;
        if need_scatter {
            w.clear();
            w.resize(d * d, 0.0);
            for s in [&a.scatter, &b.scatter] {
                if !s.is_empty() {
                    w.iter_mut().zip(s).for_each(|(w, s)| *w += s);
                }
            }
            for i in 0..d {
                let di = a.mean[i] - b.mean[i];
                for j in 0..=i {
                    let v = c * di * (a.mean[j] - b.mean[j]);
                    w[i * d + j] += v;
                    if i != j {
                        w[j * d + i] += v;
                    }
                }
            }
        }
        trace
    }

    /// The change in the criterion that merging `a` and `b` makes (`w` is
    /// scratch space).
    pub fn cost(&self, a: &Cluster, b: &Cluster, w: &mut Vec<f64>) -> f64 {
        let cost = match self.model {
            HcModel::Eii => {
                let c = a.n as f64 * b.n as f64 / (a.n + b.n) as f64;
                c * (0..self.d)
                    .map(|j| (a.mean[j] - b.mean[j]).powi(2))
                    .sum::<f64>()
            }
            HcModel::Vvv => {
                let n = a.n + b.n;
                let trace = self.combine(a, b, w, n > self.d);
                self.term(n, trace, w) - (a.term + b.term)
            }
        };
        if cost.is_nan() { f64::INFINITY } else { cost }
    }

    /// `a` and `b` as one cluster.
    pub fn merge(&self, a: &Cluster, b: &Cluster) -> Cluster {
        let n = a.n + b.n;
        let (fa, fb) = (a.n as f64 / n as f64, b.n as f64 / n as f64);
        let mean = a
            .mean
            .iter()
            .zip(&b.mean)
            .map(|(x, y)| fa * x + fb * y)
            .collect();
        let mut scatter = Vec::new();
        let need = self.model == HcModel::Vvv;
        let trace = self.combine(a, b, &mut scatter, need);
        let term = if need {
            let mut factor = scatter.clone();
            self.term(n, trace, &mut factor)
        } else {
            0.0
        };
        Cluster {
            n,
            mean,
            scatter,
            trace,
            term,
        }
    }
}

/// `ln sqrt(det(a))` of a symmetric `d x d` matrix by its Cholesky factor
/// (computed in place), or `None` when it is not positive definite (mclust
/// then uses the term without the determinant).
fn half_log_det(a: &mut [f64], d: usize) -> Option<f64> {
    let mut sum = 0.0;
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if !(s > 0.0) {
            return None;
        }
        let l = s.sqrt();
        a[j * d + j] = l;
        sum += l.ln();
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = s / l;
        }
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_log_det_is_that_of_the_matrix() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let h = half_log_det(&mut a, 2).unwrap();
        assert!((h - 0.5 * 8f64.ln()).abs() < 1e-15);
        assert!(half_log_det(&mut [1.0, 1.0, 1.0, 1.0], 2).is_none());
    }

    #[test]
    fn merging_accumulates_the_scatter_of_the_rows() {
        let x = [0.0, 0.0, 2.0, 0.0, 1.0, 3.0];
        let c = Criterion::new(HcModel::Vvv, &x, 2);
        let rows: Vec<Cluster> = x.chunks(2).map(|r| c.singleton(r)).collect();
        let ab = c.merge(&rows[0], &rows[1]);
        let abc = c.merge(&ab, &rows[2]);
        assert_eq!(abc.n, 3);
        assert_eq!(abc.mean, vec![1.0, 1.0]);
        // Scatter about (1, 1): [[2, 0], [0, 6]].
        for (got, want) in abc.scatter.iter().zip([2.0, 0.0, 0.0, 6.0]) {
            assert!((got - want).abs() < 1e-12);
        }
        assert!((abc.trace - 8.0).abs() < 1e-12);
        // Past d rows the term carries the determinant.
        let want = 3.0 * (12.0f64 / 9.0 + (8.0 + c.alpha) / 3.0).ln();
        assert!((abc.term - want).abs() < 1e-12);
    }
}
