//! "Did you mean": the catalog names closest to a mistyped one.

/// A name reduced to what matters for matching: lower case, letters and
/// digits only (`Qwen2.5 7B` and `qwen2.5-7b` both become `qwen257b`).
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance between two strings, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to `max` of `candidates` closest to `given`, best first: those whose
/// normalised form contains the normalised `given` (or is contained in it)
/// first, then by edit distance, keeping only plausible matches (distance at
/// most half the longer name, plus one).
pub fn closest<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<String> {
    let g = normalise(given);
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let n = normalise(c);
            let contains = !g.is_empty() && (n.contains(&g) || g.contains(&n));
            let d = edit_distance(&g, &n);
            let plausible = d <= g.chars().count().max(n.chars().count()) / 2 + 1;
            (contains || plausible).then_some((usize::from(!contains), d, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(max)
        .map(|s| s.2.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("解码", "解码速度"), 2);
    }

    #[test]
    fn suggests_close_names() {
        let ids = ["rtx-4090", "rtx-3090", "h100-sxm", "a100-80gb"];
        assert_eq!(closest("rtx4090", ids, 3)[0], "rtx-4090");
        assert_eq!(closest("4090", ids, 3)[0], "rtx-4090");
        assert_eq!(closest("h100", ids, 3)[0], "h100-sxm");
        assert_eq!(closest("rtx-4080", ids, 1), vec!["rtx-4090"]);
        assert!(closest("zzzzzzzzzzzz", ids, 3).is_empty());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::catalog::Catalog;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn lookups_of_any_name_never_panic(name in ".{0,40}") {
            let c = Catalog::builtin();
            match c.hardware(&name) {
                Ok(h) => prop_assert_eq!(normalise(&h.id), normalise(&name)),
                Err(e) => prop_assert!(e.to_string().contains("unknown hardware")),
            }
            prop_assert!(closest(&name, c.models.iter().map(|m| m.id.as_str()), 3).len() <= 3);
        }
    }
}
