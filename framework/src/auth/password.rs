//! Passwords: hashed with Argon2id at OWASP's parameters, stored as a PHC
//! string, verified in constant time, re-hashed when the parameters change.
//!
//! A password is never logged, returned or recorded: it lives in a
//! [`Password`], whose `Debug` hides it, from where it is read until it is
//! hashed or checked.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// The shortest password accepted, as NIST SP 800-63B sets it for passwords a
/// user chooses.
pub(crate) const MIN_PASSWORD_LENGTH: usize = 8;

/// The longest password accepted, in bytes: far beyond any passphrase, and a
/// bound on what a login request makes the server hash.
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;

/// OWASP's Password Storage Cheat Sheet's first choice for Argon2id: 19 MiB of
/// memory, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// A password as typed, kept out of `Debug` output and logs.
#[derive(Clone)]
pub(crate) struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Why a password is refused before it is hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_LENGTH`] characters.
    #[error("the password is shorter than {MIN_PASSWORD_LENGTH} characters; choose a longer one")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes; choose a shorter one")]
    TooLong,
}

impl Password {
    /// A password a user chose: at least [`MIN_PASSWORD_LENGTH`] characters,
    /// at most [`MAX_PASSWORD_BYTES`] bytes.
    ///
    /// # Errors
    ///
    /// [`PasswordError`] when it is too short or too long.
    pub(crate) fn new(password: String) -> Result<Password, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            Err(PasswordError::TooLong)
        } else if password.chars().count() < MIN_PASSWORD_LENGTH {
            Err(PasswordError::TooShort)
        } else {
            Ok(Password(password))
        }
    }

    /// A password offered to sign in, checked only against the bound on what
    /// the server hashes: a stored password may predate a longer minimum.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooLong`].
    pub(crate) fn offered(password: String) -> Result<Password, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            Err(PasswordError::TooLong)
        } else {
            Ok(Password(password))
        }
    }
}

fn params() -> Params {
    Params::new(MEMORY_KIB, PASSES, LANES, None).expect("OWASP's Argon2id parameters are valid")
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// The PHC string of `password` hashed with a new random salt at the current
/// parameters.
///
/// # Errors
///
/// When the operating system gives no random numbers for the salt.
pub(crate) fn hash(password: &Password) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.0.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))
}

/// Whether `password` is the one `stored` (a PHC string) was made from. The
/// comparison of the hashes takes the same time wherever they differ, and a
/// stored value that is not an Argon2 PHC string matches nothing.
pub(crate) fn verify(password: &Password, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    // The parameters come from the stored hash, not from `hasher()`'s.
    hasher()
        .verify_password(password.0.as_bytes(), &parsed)
        .is_ok()
}

/// Spends the time of a [`verify`] for a user who does not exist or has no
/// password, so that a login's duration does not tell whether the username
/// is taken.
pub(crate) fn verify_nothing(password: &Password) {
    // Hashed once, with a fixed salt: it stands for no one's password, and
    // needs nothing from the random generator.
    static DUMMY: LazyLock<Option<String>> = LazyLock::new(|| {
        hasher()
            .hash_password_with_salt(b"the password of nobody", b"fw-nobody's-salt")
            .ok()
            .map(|hash| hash.to_string())
    });
    if let Some(dummy) = DUMMY.as_deref() {
        let _ = verify(password, dummy);
    }
}

/// Whether `stored` was made with other parameters than the current ones (or
/// another algorithm), so a successful login should store a new hash.
pub(crate) fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(stored_params) = Params::try_from(&parsed) else {
        return true;
    };
    let current = params();
    parsed.algorithm.as_str() != Algorithm::Argon2id.as_str()
        || parsed.version != Some(Version::V0x13.into())
        || stored_params.m_cost() != current.m_cost()
        || stored_params.t_cost() != current.t_cost()
        || stored_params.p_cost() != current.p_cost()
}

/// A hash of `password` made with other parameters than fw's, as an older
/// release would have stored it.
#[cfg(test)]
pub(crate) fn hash_with_old_parameters(password: &Password) -> String {
    let old = Params::new(8 * 1024, 1, 1, None).expect("valid parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, old)
        .hash_password(password.0.as_bytes())
        .expect("a hash")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(text: &str) -> Password {
        Password::new(text.to_owned()).unwrap()
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash(&password("correct horse")).unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify(&password("correct horse"), &stored));
        assert!(!verify(&password("correct horsf"), &stored));
        assert!(!verify(&password("correct horse"), "not a hash"));
        assert!(!needs_rehash(&stored));
        assert_ne!(stored, hash(&password("correct horse")).unwrap(), "salted");
    }

    #[test]
    fn old_parameters_need_a_rehash() {
        let old = hash_with_old_parameters(&password("correct horse"));
        assert!(verify(&password("correct horse"), &old));
        assert!(needs_rehash(&old));
        assert!(needs_rehash("$2b$12$bcrypt-from-elsewhere"));
    }

    /// Whether a login for nobody takes as long as one for somebody is for a
    /// benchmark to show, not a timed test; here, only that it runs.
    #[test]
    fn verifying_nothing_runs_a_verification() {
        verify_nothing(&password("anything at all"));
    }

    #[test]
    fn passwords_have_a_length_range() {
        assert_eq!(
            Password::new("short".to_owned()).unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::new("x".repeat(MAX_PASSWORD_BYTES + 1)).unwrap_err(),
            PasswordError::TooLong
        );
        assert!(Password::new("ünïcödé!".to_owned()).is_ok(), "8 characters");
        assert!(Password::offered("short".to_owned()).is_ok());
        assert_eq!(
            format!("{:?}", password("secret12")),
            "Password(<redacted>)"
        );
    }
}
