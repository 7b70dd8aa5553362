//! Kubernetes object and list metadata, and the `Time` wire format (RFC 3339, whole seconds, UTC).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Unknown fields of an object, kept so that a file we load serializes back unchanged.
pub type Extra = BTreeMap<String, Value>;

/// A point in time as Kubernetes writes it: `2024-05-01T12:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub DateTime<Utc>);

impl Time {
    /// The current time, truncated to whole seconds as it is stored and sent.
    pub fn now() -> Self {
        Self::from_timestamp(Utc::now().timestamp())
    }

    /// A time from seconds since the Unix epoch; out-of-range values clamp to the epoch.
    pub fn from_timestamp(secs: i64) -> Self {
        Self(DateTime::from_timestamp(secs, 0).unwrap_or_default())
    }

    /// Seconds since the Unix epoch.
    pub fn timestamp(&self) -> i64 {
        self.0.timestamp()
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

impl std::str::FromStr for Time {
    type Err = chrono::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc)))
    }
}

/// Declares a type written on the wire as a JSON string: serialized as its `Display` text,
/// deserialized with its `FromStr` (whose error becomes the message), and a string schema (with
/// the format given, if any). A name, a time, a digest, a role.
macro_rules! string_serde {
    ($ty:ty $(, $format:literal)?) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        #[cfg(feature = "openapi")]
        $crate::string_schema!($ty $(, $format)?);
    };
}
pub(crate) use string_serde;

string_serde!(Time, "date-time");

/// `metadata` of every stored object. Field presence follows Kubernetes' Go types:
/// `creationTimestamp` is always written (null when unset); the rest only when set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default)]
    pub creation_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Declares a wire object: the struct with `kind`, `apiVersion` and `metadata` first (each
/// defaulted when absent), camelCase fields and the model's derives (`Default` unless it starts
/// `without Default;`), then the fields given; a body starting with `/// doc metadata;` documents
/// `metadata`. Written out by hand, a struct with these same attributes and fields encodes
/// identically.
macro_rules! wire_object {
    (without Default; $($rest:tt)*) => {
        $crate::meta::wire_object!(@ [] $($rest)*);
    };
    (@ [$($default:ident)?] $(#[$attr:meta])* pub struct $name:ident {
        $(#[$meta_attr:meta])* metadata; $($body:tt)*
    }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, $($default,)? PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            #[serde(default)]
            pub kind: String,
            #[serde(default)]
            pub api_version: String,
            $(#[$meta_attr])*
            #[serde(default)]
            pub metadata: $crate::meta::ObjectMeta,
            $($body)*
        }
    };
    (@ [$($default:ident)?] $(#[$attr:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $crate::meta::wire_object!(@ [$($default)?] $(#[$attr])* pub struct $name {
            metadata; $($body)*
        });
    };
    ($($rest:tt)*) => {
        $crate::meta::wire_object!(@ [Default] $($rest)*);
    };
}
pub(crate) use wire_object;

impl ObjectMeta {
    /// The stored resourceVersion as the number a conditional write expects (0: none, or not
    /// one of ours).
    pub fn revision(&self) -> u64 {
        self.resource_version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Metadata naming an object, for building new objects.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// The name, or `""` when unset.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// An annotation's value, if present.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

/// `metadata` of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trips_in_kubernetes_format() {
        let t: Time = "2024-05-01T12:00:00Z".parse().expect("valid time");
        assert_eq!(t.to_string(), "2024-05-01T12:00:00Z");
        let offset: Time = "2024-05-01T14:00:00+02:00".parse().expect("valid time");
        assert_eq!(offset, t);
        assert!("yesterday".parse::<Time>().is_err());
    }
}
