//! Who a hold belongs to: its id, the digest of its secret token, and the proof a request
//! presents. The domain never sees a token itself, only digests: the token is a secret
//! the ports layer issues, hashes and forgets.

use std::fmt;
use std::str::FromStr;

/// The identifier of a hold: a UUID, shared by every ticket the hold covers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HoldId(uuid::Uuid);

/// A text that is not a hyphenated UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a hold id is a UUID written as 8-4-4-4-12 hexadecimal digits")]
pub struct InvalidHoldId;

impl HoldId {
    pub const fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl FromStr for HoldId {
    type Err = InvalidHoldId;

    /// Only the hyphenated form (what the API answers): `{...}`, `urn:uuid:` and bare hex
    /// are refused rather than read as the same id.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != uuid::fmt::Hyphenated::LENGTH {
            return Err(InvalidHoldId);
        }
        uuid::Uuid::try_parse(text)
            .map(Self)
            .map_err(|_| InvalidHoldId)
    }
}

impl fmt::Display for HoldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for HoldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HoldId({self})")
    }
}

/// The SHA-256 digest of a hold token: what storage keeps instead of the token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TryFrom<&[u8]> for TokenDigest {
    type Error = std::array::TryFromSliceError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; 32]>::try_from(bytes).map(Self)
    }
}

impl fmt::Debug for TokenDigest {
    /// Enough to tell two digests apart in a test failure; a digest is not a secret, but
    /// there is no reason to print one whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, ..] = self.0;
        write!(f, "TokenDigest({a:02x}{b:02x}{c:02x}{d:02x}…)")
    }
}

/// What a request presents to act on a hold: the digest of the token it carries, if any,
/// and whether a token is required at all (`reservation.require_hold_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    presented: Option<TokenDigest>,
    required: bool,
}

/// Why a request may not act on a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OwnershipError {
    #[error("this ticket is held: the request must carry its hold's token")]
    TokenRequired,
    #[error("the token presented is not this hold's")]
    TokenInvalid,
}

impl Proof {
    /// A request without a token where none is required: the seed's anonymous contract,
    /// for deployments behind a trusted backend.
    pub const ANONYMOUS: Self = Self {
        presented: None,
        required: false,
    };

    /// A request presenting a token whose digest is `digest`.
    pub fn token(digest: TokenDigest) -> Self {
        Self {
            presented: Some(digest),
            required: true,
        }
    }

    /// A request that presented `presented` (or nothing), under a deployment that does or
    /// does not require a token. A token, when presented, must match either way.
    pub fn new(presented: Option<TokenDigest>, required: bool) -> Self {
        Self {
            presented,
            required,
        }
    }

    pub fn presented(&self) -> Option<TokenDigest> {
        self.presented
    }

    /// Whether this proof lets its request act on a hold whose token digest is `owner`.
    pub fn check(&self, owner: &TokenDigest) -> Result<(), OwnershipError> {
        match self.presented {
            Some(digest) if digest == *owner => Ok(()),
            Some(_) => Err(OwnershipError::TokenInvalid),
            None if self.required => Err(OwnershipError::TokenRequired),
            None => Ok(()),
        }
    }

    /// Whether this proof can succeed against any hold at all: a required token that is
    /// missing cannot.
    pub(crate) fn can_succeed(&self) -> bool {
        self.presented.is_some() || !self.required
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: TokenDigest = TokenDigest::from_bytes([1; 32]);
    const THEIRS: TokenDigest = TokenDigest::from_bytes([2; 32]);

    #[test]
    fn a_token_must_match_whether_or_not_one_is_required() {
        assert_eq!(Proof::token(MINE).check(&MINE), Ok(()));
        assert_eq!(
            Proof::token(THEIRS).check(&MINE),
            Err(OwnershipError::TokenInvalid)
        );
        assert_eq!(
            Proof::new(Some(THEIRS), false).check(&MINE),
            Err(OwnershipError::TokenInvalid)
        );
        assert_eq!(
            Proof::new(None, true).check(&MINE),
            Err(OwnershipError::TokenRequired)
        );
        assert_eq!(Proof::ANONYMOUS.check(&MINE), Ok(()));
    }

    #[test]
    fn hold_ids_are_hyphenated_uuids_only() {
        let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let id: HoldId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(
            "67E55044-10B1-426F-9247-BB680E5FE0C8"
                .parse::<HoldId>()
                .unwrap(),
            id
        );
        for bad in [
            "",
            "67e5504410b1426f9247bb680e5fe0c8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0cg",
            "7",
        ] {
            assert_eq!(bad.parse::<HoldId>(), Err(InvalidHoldId), "{bad}");
        }
    }

    #[test]
    fn a_digest_shows_only_its_first_bytes() {
        let shown = format!("{:?}", TokenDigest::from_bytes([0xab; 32]));
        assert_eq!(shown, "TokenDigest(abababab…)");
    }
}
