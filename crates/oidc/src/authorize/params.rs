//! The raw authorization request parameters, from the query (GET) or the form
//! body (POST), as OIDC Core §3.1.2.1 requires both.

/// Parameters in arrival order, with repeated names remembered.
#[derive(Debug, Clone, Default)]
pub struct RawParams {
    pairs: Vec<(String, String)>,
}

impl RawParams {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// The value of `name`; empty values count as absent (OIDC Core §3.1.2.1 form serialization).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` was sent more than once (RFC 6749 §3.1: parameters MUST NOT repeat).
    pub fn is_repeated(&self, name: &str) -> bool {
        self.pairs.iter().filter(|(k, _)| k == name).count() > 1
    }

    /// The first repeated parameter name, if any.
    pub fn first_repeated(&self) -> Option<&str> {
        self.pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| self.is_repeated(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_absent_and_repeats_are_seen() {
        let p = RawParams::new(vec![
            ("a".into(), "".into()),
            ("b".into(), "1".into()),
            ("b".into(), "2".into()),
        ]);
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("1"));
        assert!(p.is_repeated("b"));
        assert_eq!(p.first_repeated(), Some("b"));
    }
}
