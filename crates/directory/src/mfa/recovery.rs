//! Recovery codes: ten single-use codes `xxxxx-xxxxx`, shown once, stored as
//! keyed hashes. The alphabet is Crockford's base32 in lower case (no i, l,
//! o, u), so each of the ten characters carries 5 bits: 50 bits per code.
//! Typing is forgiving: case, spaces and dashes do not matter, and the
//! letters people confuse with digits (o, i, l) read as 0 and 1.

/// How many codes a user gets at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// The hash purpose of recovery codes (`SecretHasher` domain separation).
pub(crate) const RECOVERY_PURPOSE: &str = "recovery-code";

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const CHARS: usize = 10;

/// A fresh code, `xxxxx-xxxxx`. A byte masked to 5 bits is uniform over the
/// 32 symbols, so there is no modulo bias.
pub(crate) fn generate() -> String {
    let mut bytes = [0u8; CHARS];
    rand::fill(&mut bytes[..]);
    let chars: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// The canonical form a code is hashed in: ten alphabet characters, no dash.
/// `None` when the input cannot be a recovery code.
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CHARS);
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            ' ' | '-' | '\t' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == CHARS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_format_and_differ() {
        let codes: Vec<String> = (0..50).map(|_| generate()).collect();
        for c in &codes {
            assert_eq!(c.len(), 11, "{c}");
            assert_eq!(&c[5..6], "-");
            assert!(
                c.chars()
                    .filter(|&ch| ch != '-')
                    .all(|ch| ALPHABET.contains(&(ch as u8))),
                "{c}"
            );
            assert_eq!(normalize_recovery_code(c).unwrap(), c.replace('-', ""));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn alphabet_gives_at_least_fifty_bits() {
        let mut sorted = ALPHABET.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 32);
        assert!((CHARS as f64) * (ALPHABET.len() as f64).log2() >= 50.0);
        for ambiguous in [b'i', b'l', b'o', b'u'] {
            assert!(!ALPHABET.contains(&ambiguous));
        }
    }

    #[test]
    fn normalization_ignores_case_spaces_and_dashes() {
        let check = |input: &str, expected: Option<&str>| {
            assert_eq!(
                normalize_recovery_code(input).as_deref(),
                expected,
                "{input:?}"
            );
        };
        check("abcde-fgh23", Some("abcdefgh23"));
        check(" ABCDE FGH23 ", Some("abcdefgh23"));
        check("ab-cd-ef-gh-23", Some("abcdefgh23"));
        check("OIL00-11111", Some("0110011111"));
        check("abcde-fgh2", None);
        check("abcde-fgh234", None);
        check("abcde-fgh2u", None);
        check("abcdé-fgh23", None);
        check("", None);
    }
}
