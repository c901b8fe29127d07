//! Hold tokens: the secret a buyer presents to act on their hold. The service mints one
//! per hold, answers it once, and keeps only its digest.

use std::fmt;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use ticketing_domain::TokenDigest;

/// A hold token, as minted or as presented by a request. `Debug` never shows it; the text
/// is read only through [`expose_secret`](Self::expose_secret), to answer it once.
#[derive(Clone)]
pub struct HoldToken(SecretString);

/// The operating system's random source failed: no token can be minted.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct NoRandomness(#[source] getrandom::Error);

impl HoldToken {
    /// Bits of randomness in a minted token (at least 128, by the contract).
    pub const BITS: usize = 256;

    /// A new token: 256 bits from the OS's CSPRNG, as unpadded URL-safe base64 (43 chars).
    pub fn generate() -> Result<Self, NoRandomness> {
        let mut bytes = [0u8; Self::BITS / 8];
        getrandom::fill(&mut bytes).map_err(NoRandomness)?;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Ok(Self(text.into()))
    }

    /// The token a request presents, whatever its text: a malformed one is simply not
    /// any hold's, which the digest comparison finds out.
    pub fn presented(text: &str) -> Self {
        Self(text.into())
    }

    /// What storage keeps: the SHA-256 of the token's text.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::from_bytes(Sha256::digest(self.0.expose_secret().as_bytes()).into())
    }

    /// The token's text, for the one response that hands it to its buyer.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for HoldToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HoldToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn minted_tokens_are_url_safe_distinct_and_hidden() {
        let tokens: Vec<HoldToken> = (0..1_000).map(|_| HoldToken::generate().unwrap()).collect();
        let texts: HashSet<&str> = tokens.iter().map(HoldToken::expose_secret).collect();
        assert_eq!(texts.len(), tokens.len());
        for text in &texts {
            assert_eq!(text.len(), 43);
            assert!(text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
        let token = &tokens[0];
        assert_eq!(format!("{token:?}"), "HoldToken(***)");
        assert!(!format!("{:?}", token.digest()).contains(token.expose_secret()));
    }

    #[test]
    fn a_token_is_known_by_the_digest_of_its_text() {
        let token = HoldToken::generate().unwrap();
        let presented = HoldToken::presented(token.expose_secret());
        assert_eq!(presented.digest(), token.digest());
        assert_ne!(HoldToken::presented("other").digest(), token.digest());
        // SHA-256 of the empty string.
        assert_eq!(
            HoldToken::presented("").digest().as_bytes()[..4],
            [0xe3, 0xb0, 0xc4, 0x42]
        );
    }
}
