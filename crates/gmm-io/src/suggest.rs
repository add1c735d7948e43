//! "Did you mean" suggestions for misspelled names.

/// The candidate closest to `name` by edit distance, if it is close enough
/// to be a plausible typo (at most a third of the name's length, and at
/// least one edit allowed).
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (name.chars().count() / 3).max(1);
    // Blanks around a name (a CSV header ` x1 `) are not a typo to weigh.
    let key = |s: &str| s.trim().to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&key(name), &key(c)), c))
        .filter(|(dist, _)| *dist <= limit)
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, c)| c.to_string())
}

/// Edit distance between two strings, by characters: insertions, deletions,
/// substitutions and swaps of two neighbours (`lable` for `label`) cost one
/// each (the optimal string alignment distance, `strsim`'s).
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_only() {
        assert_eq!(edit_distance("n_inits", "n_init"), 1);
        assert_eq!(
            closest("n_inits", ["n_init", "max_iter", "seed"]),
            Some("n_init".into())
        );
        assert_eq!(closest("X1", ["x1", "x2"]), Some("x1".into()));
        assert_eq!(closest("zzzzzz", ["n_init", "seed"]), None);
        // A swap of two neighbours is one typo.
        assert_eq!(edit_distance("lable", "label"), 1);
        assert_eq!(
            closest("lable", ["x1", "x2", "label"]),
            Some("label".into())
        );
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
