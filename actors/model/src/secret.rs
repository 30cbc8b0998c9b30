//! `Secret`: a string that must never reach a log, an error or the journal.
//!
//! Its `Debug` and `Display` print `***`; the only way to the value is [`Secret::expose`],
//! which a reader can grep for.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself: only for the wire (a token request, a webhook call).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret::new(s))
    }
}

/// `#[serde(with = "crate::secret::wire_text")]` on a wire struct's `Secret` field: the
/// value as a JSON string, out and in. Only such a field opts in: `Secret` has no
/// `Serialize` of its own, so no other document (a log line, the journal) can write it.
pub mod wire_text {
    use super::Secret;

    pub fn serialize<S: serde::Serializer>(s: &Secret, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(input: D) -> Result<Secret, D::Error> {
        <String as serde::Deserialize>::deserialize(input).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("my-app-secret");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** *** Some(***)");
        assert_eq!(s.expose(), "my-app-secret");
    }

    #[test]
    fn a_wire_field_carries_the_value_and_debug_does_not() {
        #[derive(Debug, serde::Serialize, serde::Deserialize)]
        struct Frame {
            #[serde(with = "wire_text")]
            token: Secret,
        }
        let f: Frame = serde_json::from_str(r#"{"token":"eyJSECRET"}"#).unwrap();
        assert_eq!(f.token.expose(), "eyJSECRET");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"token":"eyJSECRET"}"#
        );
        assert_eq!(format!("{f:?}"), "Frame { token: *** }");
    }
}
