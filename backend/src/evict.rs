//! Maps kept in memory with a bound on their size: when full, the oldest entries go first.

use std::collections::HashMap;
use std::hash::Hash;

/// Removes the entries with the smallest `age` until `map` holds at most `keep`.
pub fn evict_oldest<K: Clone + Eq + Hash, V, A: Ord>(
    map: &mut HashMap<K, V>,
    keep: usize,
    age: impl Fn(&V) -> A,
) {
    if map.len() <= keep {
        return;
    }
    let mut by_age: Vec<(A, K)> = map.iter().map(|(k, v)| (age(v), k.clone())).collect();
    by_age.sort_by(|(a, _), (b, _)| a.cmp(b));
    let excess = map.len() - keep;
    for (_, k) in by_age.into_iter().take(excess) {
        map.remove(&k);
    }
}
