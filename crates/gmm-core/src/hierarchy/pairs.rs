//! The cost of merging every pair of live clusters, kept as mclust keeps
//! it: clusters in slots `0..live`, pair `(i, j)`, `i < j`, at
//! `j (j - 1) / 2 + i`; a merge puts the union in slot `i` and moves the
//! last slot into slot `j`; the pair merged next is the last of the
//! smallest costs in that order. So ties fall as they fall in mclust.
//! Each column keeps its smallest entry, so finding the next merge reads
//! one entry per live cluster instead of the whole triangle.

pub(super) struct Pairs {
    cost: Vec<f64>,
    /// `(cost, i)` of the smallest entry of column `j` (the last if tied).
    column_min: Vec<(f64, usize)>,
    live: usize,
}

fn at(i: usize, j: usize) -> usize {
    let (i, j) = if i < j { (i, j) } else { (j, i) };
    j * (j - 1) / 2 + i
}

impl Pairs {
    /// The table of `n` clusters, `cost(i, j)` for each pair.
    pub fn new(n: usize, mut cost: impl FnMut(usize, usize) -> f64) -> Self {
        let mut table = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for j in 1..n {
            for i in 0..j {
                table.push(cost(i, j));
            }
        }
        let mut pairs = Pairs {
            cost: table,
            column_min: vec![(f64::INFINITY, 0); n],
            live: n,
        };
        for j in 1..n {
            pairs.rescan(j);
        }
        pairs
    }

    pub fn live(&self) -> usize {
        self.live
    }

    fn rescan(&mut self, j: usize) {
        let start = j * (j - 1) / 2;
        let mut best = (f64::INFINITY, 0);
        for (i, &c) in self.cost[start..start + j].iter().enumerate() {
            if c <= best.0 {
                best = (c, i);
            }
        }
        self.column_min[j] = best;
    }

    /// The pair to merge next, `(i, j)` with `i < j`.
    pub fn best(&self) -> (usize, usize) {
        let mut best = (f64::INFINITY, 0, 1);
        for j in 1..self.live {
            let (c, i) = self.column_min[j];
            if c <= best.0 {
                best = (c, i, j);
            }
        }
        (best.1, best.2)
    }

    /// After merging `(i, j)`: the last slot moves into `j`, and
    /// `cost(k)` gives the union's (in slot `i`) cost with the cluster now
    /// in slot `k`.
    pub fn merged(&mut self, i: usize, j: usize, mut cost: impl FnMut(usize) -> f64) {
        let last = self.live - 1;
        if j != last {
            for k in 0..last {
                if k != j {
                    self.cost[at(j, k)] = self.cost[at(last, k)];
                }
            }
        }
        self.live = last;
        for k in 0..self.live {
            if k != i {
                self.cost[at(i, k)] = cost(k);
            }
        }
        // Columns i and j changed throughout; column c > i (or > j)
        // changed in its entry i (or j).
        for c in 1..self.live {
            if c == i || c == j {
                self.rescan(c);
                continue;
            }
            // (When the union's partner held the last slot, j is gone.)
            let rows: Vec<usize> = [i, j].into_iter().filter(|&r| r < c).collect();
            if rows.is_empty() {
                continue;
            }
            if rows.contains(&self.column_min[c].1) {
                self.rescan(c);
                continue;
            }
            for r in rows {
                let v = self.cost[at(r, c)];
                let (m, at_row) = self.column_min[c];
                if v < m || (v == m && r > at_row) {
                    self.column_min[c] = (v, r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every merge, by scanning the whole table as mclust does.
    fn scan(p: &Pairs) -> (usize, usize) {
        let mut best = (f64::INFINITY, 0, 1);
        for j in 1..p.live {
            for i in 0..j {
                if p.cost[at(i, j)] <= best.0 {
                    best = (p.cost[at(i, j)], i, j);
                }
            }
        }
        (best.1, best.2)
    }

    #[test]
    fn column_minima_find_the_last_smallest_pair_as_a_full_scan() {
        // Points on a line with many tied distances: merges by single
        // linkage distances, in mclust's slot order.
        let x: Vec<f64> = (0..40)
            .map(|i| ((i * 7) % 13) as f64 + (i % 3) as f64)
            .collect();
        let mut pos: Vec<f64> = x.clone();
        let mut p = Pairs::new(pos.len(), |i, j| (pos[i] - pos[j]).abs().round());
        while p.live() > 1 {
            let (i, j) = p.best();
            assert_eq!((i, j), scan(&p));
            let last = p.live() - 1;
            pos[i] = 0.5 * (pos[i] + pos[j]);
            pos[j] = pos[last];
            pos.truncate(last);
            let pi = pos[i];
            let snapshot = pos.clone();
            p.merged(i, j, |k| (pi - snapshot[k]).abs().round());
        }
    }
}
