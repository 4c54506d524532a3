//! Keyword routing: one Aho-Corasick automaton over every domain and worker
//! keyword of the org, built once. A task text is scanned once,
//! case-insensitively, keeping whole-word matches only (a keyword also
//! matches its plural: `route` matches "routes", `query` "queries"). The
//! result is a pair of bitsets, so routing a job allocates nothing.
//!
//! Building the automaton costs time and memory in proportion to the total
//! bytes of its patterns (each keyword gives up to four forms, and the
//! skill router repeats the keywords), about a second per 100 KB of
//! keywords. So keywords are bounded: at most [`MAX_KEYWORD_BYTES`] each
//! and [`MAX_KEYWORDS`] per org, checked with the entry's location when a
//! scenario is validated. A build that still fails is a [`RouterError`],
//! never a panic.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{DomainIdx, PoolIdx};

/// Most pools (worker roles) an org may have.
pub const MAX_POOLS: usize = 256;
/// Most domains an org may have.
pub const MAX_DOMAINS: usize = 64;
/// Longest routing keyword (or skill), in bytes: a word or a short phrase
/// (the built-in org's longest is 23 bytes, "collaborative filtering").
pub const MAX_KEYWORD_BYTES: usize = 64;
/// Most routing words (domain and worker keywords plus skills) per org:
/// about 4× the built-in org's 531. At both limits (128 KB of keywords)
/// `check` builds the routers in under a second and ~20 MB.
pub const MAX_KEYWORDS: usize = 2_000;

/// The keyword automaton could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the keyword router cannot be built from {patterns} keyword forms: {source}")]
pub struct RouterError {
    patterns: usize,
    #[source]
    source: aho_corasick::BuildError,
}

/// A fixed-size bitset over pool indices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolSet([u64; MAX_POOLS / 64]);

impl PoolSet {
    #[inline]
    pub fn insert(&mut self, pool: PoolIdx) {
        let i = pool.0 as usize;
        self.0[i / 64] |= 1 << (i % 64);
    }
    #[inline]
    pub fn contains(&self, pool: PoolIdx) -> bool {
        let i = pool.0 as usize;
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    /// Members in ascending index order.
    pub fn iter(&self) -> impl Iterator<Item = PoolIdx> + '_ {
        self.0.iter().enumerate().flat_map(|(w, bits)| {
            let mut bits = *bits;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                Some(PoolIdx((w * 64) as u16 + b as u16))
            })
        })
    }
}

/// Where one keyword points.
#[derive(Clone, Copy, Debug)]
enum Target {
    Domain(DomainIdx),
    Pool(PoolIdx, DomainIdx),
}

/// What a text matched: the domains it goes to and the worker pools named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// Bit `d` set: domain `d` matched (directly or through one of its pools).
    pub domains: u64,
    pub pools: PoolSet,
}

/// The org's keyword router (cheap to clone: the automaton is shared).
#[derive(Clone)]
pub struct Router {
    automaton: Option<AhoCorasick>,
    targets: Vec<Target>,
}

/// Keyword plus its plural forms, lower-cased.
fn forms(keyword: &str) -> Vec<String> {
    let k = keyword.trim().to_ascii_lowercase();
    if k.is_empty() {
        return Vec::new();
    }
    let mut out = vec![k.clone(), format!("{k}s"), format!("{k}es")];
    if let Some(stem) = k.strip_suffix('y') {
        out.push(format!("{stem}ies"));
    }
    out
}

#[inline]
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl Router {
    /// Builds the automaton. `domains[d]` are domain `d`'s own keywords;
    /// `pools[p]` is pool `p`'s domain and keywords.
    pub fn new(
        domains: &[Vec<String>],
        pools: &[(DomainIdx, Vec<String>)],
    ) -> Result<Router, RouterError> {
        let mut patterns = Vec::new();
        let mut targets = Vec::new();
        for (d, words) in domains.iter().enumerate() {
            for w in words {
                for f in forms(w) {
                    patterns.push(f);
                    targets.push(Target::Domain(DomainIdx(d as u8)));
                }
            }
        }
        for (p, (d, words)) in pools.iter().enumerate() {
            for w in words {
                for f in forms(w) {
                    patterns.push(f);
                    targets.push(Target::Pool(PoolIdx(p as u16), *d));
                }
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            let built = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns);
            Some(built.map_err(|source| RouterError {
                patterns: patterns.len(),
                source,
            })?)
        };
        Ok(Router { automaton, targets })
    }

    /// Routes `text`: every whole-word keyword match, as bitsets.
    pub fn route(&self, text: &str) -> Route {
        let mut route = Route::default();
        let Some(ac) = &self.automaton else {
            return route;
        };
        let bytes = text.as_bytes();
        for m in ac.find_overlapping_iter(text) {
            let before_ok = m.start() == 0 || !is_word_byte(bytes[m.start() - 1]);
            let after_ok = m.end() == bytes.len() || !is_word_byte(bytes[m.end()]);
            if !(before_ok && after_ok) {
                continue;
            }
            match self.targets[m.pattern().as_usize()] {
                Target::Domain(d) => route.domains |= 1 << d.0,
                Target::Pool(p, d) => {
                    route.domains |= 1 << d.0;
                    route.pools.insert(p);
                }
            }
        }
        route
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let domains = vec![vec!["background".to_string()], vec![]];
        let pools = vec![
            (DomainIdx(0), vec!["etl".into(), "batch".into()]),
            (DomainIdx(1), vec!["route".into(), "query".into()]),
        ];
        Router::new(&domains, &pools).unwrap()
    }

    #[test]
    fn whole_words_plurals_and_case() {
        let r = router();
        let route = r.route("Run the nightly ETL job");
        assert_eq!(route.domains, 0b01);
        assert!(route.pools.contains(PoolIdx(0)));
        assert_eq!(r.route("protect admin Routes").domains, 0b10);
        assert_eq!(r.route("slow queries").domains, 0b10);
        assert_eq!(r.route("rerouted petlbatches").domains, 0);
        assert_eq!(r.route("a Background thing").domains, 0b01);
        assert!(r.route("a Background thing").pools.is_empty());
    }

    #[test]
    fn empty_router_matches_nothing() {
        let r = Router::new(&[], &[]).unwrap();
        assert_eq!(r.route("anything"), Route::default());
    }
}
