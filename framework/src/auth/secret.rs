//! The random secrets of API tokens and session cookies: 256 bits from the
//! operating system, written in base62, stored only as their SHA-256.
//!
//! A token is `fw_` followed by 43 base62 characters (`[0-9A-Za-z]`), 46 in
//! all: the prefix lets secret scanners find a leaked one with
//! [`TOKEN_PATTERN`], and base62 keeps it one word that a double-click selects
//! whole. A session cookie's value is the same 43 characters without the prefix.

use sha2::{Digest, Sha256};

/// What every API token starts with.
pub(crate) const TOKEN_PREFIX: &str = "fw_";

/// A regular expression matching an fw API token, for secret scanners.
pub const TOKEN_PATTERN: &str = r"\bfw_[0-9A-Za-z]{43}\b";

/// Characters of a secret in base62: 62^43 > 2^256 > 62^42.
pub(crate) const SECRET_LENGTH: usize = 43;

/// Characters of a token: the prefix and the secret.
pub(crate) const TOKEN_LENGTH: usize = TOKEN_PREFIX.len() + SECRET_LENGTH;

/// Characters of a token kept in clear as its non-secret prefix, to tell
/// tokens apart in a list: `fw_` and 7 characters of the secret, which leaves
/// more than 210 bits unknown.
pub(crate) const SHOWN_PREFIX_LENGTH: usize = TOKEN_PREFIX.len() + 7;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The SHA-256 of a secret, which is what the database holds. A secret of
/// 256 random bits needs no slow, salted hash as a password does: nobody can
/// guess it, so the hash only has to be one-way, and a fast one keeps the
/// lookup of every authenticated request cheap.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct SecretHash([u8; 32]);

impl SecretHash {
    pub(crate) fn of(secret: &[u8]) -> SecretHash {
        SecretHash(Sha256::digest(secret).into())
    }

    /// Lowercase hex, as the tables store it.
    pub(crate) fn to_hex(self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // Written as bytes, then checked once: pushing each digit as a `char`
        // cost 12 instructions a byte, on every authenticated request.
        let mut hex = [0_u8; 64];
        for (digits, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            digits[0] = HEX[usize::from(byte >> 4)];
            digits[1] = HEX[usize::from(byte & 0xf)];
        }
        String::from_utf8(hex.to_vec()).unwrap_or_default()
    }
}

// A hash of a live credential is as good as the credential for a lookup:
// kept out of logs.
impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// A new secret: 256 bits from the operating system's generator, in base62.
///
/// # Errors
///
/// When the operating system has no random numbers to give, which on the
/// systems fw runs on means it is broken.
pub(crate) fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base62(&bytes))
}

/// A new API token, `fw_` and a new secret.
///
/// # Errors
///
/// As [`new_secret`].
pub(crate) fn new_token() -> Result<String, getrandom::Error> {
    Ok(format!("{TOKEN_PREFIX}{}", new_secret()?))
}

/// Whether `text` has the shape of a secret: 43 base62 characters.
pub(crate) fn is_secret(text: &str) -> bool {
    text.len() == SECRET_LENGTH && text.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// Whether `text` has the shape of an API token: `fw_` and a secret.
pub(crate) fn is_token(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(is_secret)
}

/// The 256-bit number `bytes` (big-endian) in exactly [`SECRET_LENGTH`]
/// base62 digits, most significant first.
fn base62(bytes: &[u8; 32]) -> String {
    let mut number = *bytes;
    let mut digits = [0u8; SECRET_LENGTH];
    for digit in digits.iter_mut().rev() {
        // Long division of the whole number by 62, most significant byte first.
        let mut remainder = 0u32;
        for byte in &mut number {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 62) as u8;
            remainder = value % 62;
        }
        *digit = ALPHABET[remainder as usize];
    }
    digits.iter().map(|&digit| digit as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_43_base62_characters_of_256_bits() {
        assert_eq!(base62(&[0; 32]), "0".repeat(SECRET_LENGTH));
        let largest = base62(&[0xff; 32]);
        assert_eq!(largest.len(), SECRET_LENGTH);
        // The largest 256-bit number still fits in 43 digits.
        assert!(is_secret(&largest), "{largest}");
        let mut one = [0; 32];
        one[31] = 61;
        assert!(base62(&one).ends_with('z'));
        let secret = new_secret().unwrap();
        assert!(is_secret(&secret));
        assert_ne!(secret, new_secret().unwrap());
    }

    #[test]
    fn tokens_match_the_documented_pattern() {
        let token = new_token().unwrap();
        assert_eq!(token.len(), TOKEN_LENGTH);
        assert!(is_token(&token));
        let pattern = regex::Regex::new(TOKEN_PATTERN).unwrap();
        let leaked = format!("export API_TOKEN={token} # oops");
        assert_eq!(
            pattern.find(&leaked).map(|found| found.as_str()),
            Some(token.as_str())
        );
        assert!(!is_token("fw_short"));
        assert!(!is_token(&format!("xx_{}", &token[3..])));
        assert!(!is_token(&format!("{}-", &token[..TOKEN_LENGTH - 1])));
    }

    #[test]
    fn hashes_are_lowercase_hex_sha256() {
        assert_eq!(
            SecretHash::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            format!("{:?}", SecretHash::of(b"abc")),
            "SecretHash(<redacted>)"
        );
    }
}
