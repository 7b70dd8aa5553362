//! Kubernetes object and list metadata, and the `Time` wire format (RFC 3339, whole seconds, UTC).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
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

crate::meta::wire_struct! {
    /// `metadata` of every stored object. Field presence follows Kubernetes' Go types:
    /// `creationTimestamp` is always written (null when unset); the rest only when set.
    #[derive(Default)]
    pub struct ObjectMeta {
        /// The object's name, unique among its kind in its project; fixed once created.
        pub name?: Option<String>,
        /// A prefix the server completes into a unique name when `name` is left empty.
        pub generate_name?: Option<String>,
        /// The project the object lives in; empty for cluster-wide kinds.
        pub namespace?: Option<String>,
        /// An id the server gives the object at creation; a re-created object gets a new one.
        pub uid?: Option<String>,
        /// The object's version: changes on every write; send it back to write only if nothing
        /// changed since.
        pub resource_version?: Option<String>,
        /// Counts changes to the spec (desired state); status updates leave it alone.
        pub generation?: Option<i64>,
        /// When the server stored the object first (RFC 3339, UTC).
        pub creation_timestamp: Option<Time> = default,
        /// Key/value pairs to select objects by (`-l app=ruby`).
        pub labels?: Option<BTreeMap<String, String>>,
        /// Key/value pairs for tools and people; not used to select objects.
        pub annotations?: Option<BTreeMap<String, String>>,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// Whether a value is its type's empty value (`None`, `""`, `[]`, `{}`, `false`): what an
/// optional field of a wire struct leaves out, as Kubernetes' `omitempty` does.
pub fn is_empty<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Reads `null` as the type's default, as Go's JSON decoding leaves a field at its zero value
/// on `null` (`users: null` in OpenShift's own Group): the reading of every defaulted wire
/// field, so that a field that may be absent may also be `null`.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}

/// Declares wire structs, one or more in one call: the model's derives (`Debug`, `Clone`,
/// `PartialEq`, serde, and the JSON schema with the `openapi` feature; a `#[derive(..)]` of its
/// own adds more), camelCase field names, and the fields given. A field written
/// `pub name?: Type` is optional as Kubernetes' `omitempty`: defaulted when absent and left out
/// when empty ([`is_empty`]); one written `pub name: Type = default` is defaulted when absent
/// and always written; both read `null` as absent ([`null_as_default`]); any other field is as declared (required, unless its type says
/// otherwise). Written out by hand, the same struct with `#[serde(default, ..)]` on each marked
/// field encodes identically. Attributes, doc comments included, pass through: a doc comment is
/// the struct's or field's description in the OpenAPI schema (`kubectl explain`).
macro_rules! wire_struct {
    ($($(#[$attr:meta])* pub struct $name:ident { $($body:tt)* })+) => {
        $($crate::meta::wire_struct!(@fields [$(#[$attr])* pub struct $name] [] $($body)*);)+
    };
    (@fields [$($head:tt)*] [$($done:tt)*]) => {
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
        #[serde(rename_all = "camelCase")]
        $($head)* {
            $($done)*
        }
    };
    (@fields $head:tt [$($done:tt)*]
        $(#[$field_attr:meta])* pub $field:ident ?: $ty:ty $(, $($rest:tt)*)?) => {
        $crate::meta::wire_struct!(@fields $head [$($done)*
            $(#[$field_attr])*
            #[serde(
                default,
                deserialize_with = "crate::meta::null_as_default",
                skip_serializing_if = "crate::meta::is_empty"
            )]
            pub $field: $ty,
        ] $($($rest)*)?);
    };
    (@fields $head:tt [$($done:tt)*]
        $(#[$field_attr:meta])* pub $field:ident : $ty:ty = default $(, $($rest:tt)*)?) => {
        $crate::meta::wire_struct!(@fields $head [$($done)*
            $(#[$field_attr])*
            #[serde(default, deserialize_with = "crate::meta::null_as_default")]
            pub $field: $ty,
        ] $($($rest)*)?);
    };
    (@fields $head:tt [$($done:tt)*]
        $(#[$field_attr:meta])* pub $field:ident : $ty:ty $(, $($rest:tt)*)?) => {
        $crate::meta::wire_struct!(@fields $head [$($done)* $(#[$field_attr])* pub $field: $ty,]
            $($($rest)*)?);
    };
}
pub(crate) use wire_struct;

/// Declares a wire object: a [`wire_struct!`] with `kind`, `apiVersion` and `metadata` first
/// (each defaulted when absent, each described), `Default` unless it starts `without Default;`,
/// then the fields given; a body starting with `/// doc metadata;` describes `metadata` its own
/// way. Doc comments on the struct and its fields are the OpenAPI descriptions.
macro_rules! wire_object {
    (without Default; $($rest:tt)*) => {
        $crate::meta::wire_object!(@ [] $($rest)*);
    };
    (@ [$($default:ident)?] $(#[$attr:meta])* pub struct $name:ident {
        $(#[$meta_attr:meta])* metadata; $($body:tt)*
    }) => {
        $crate::meta::wire_struct! {
            $(#[$attr])*
            $(#[derive($default)])?
            pub struct $name {
                /// The kind of object this is (`ImageStream`), in CamelCase.
                pub kind: String = default,
                /// The group and version of the schema the object is written in
                /// (`image.openshift.io/v1`).
                pub api_version: String = default,
                $(#[$meta_attr])*
                pub metadata: $crate::meta::ObjectMeta = default,
                $($body)*
            }
        }
    };
    (@ [$($default:ident)?] $(#[$attr:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $crate::meta::wire_object!(@ [$($default)?] $(#[$attr])* pub struct $name {
            /// The object's name, project, labels and annotations, and what the server keeps
            /// of it (uid, resourceVersion, creationTimestamp).
            metadata; $($body)*
        });
    };
    ($($rest:tt)*) => {
        $crate::meta::wire_object!(@ [Default] $($rest)*);
    };
}
pub(crate) use wire_object;

/// Metadata only the server writes, kept in [`ObjectMeta::extra`] as tagstream does not
/// use it: an object being deleted, its legacy self link.
const SERVER_OWNED: [&str; 3] = [
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

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

    /// Puts back what only the server writes, whatever the client sent: on create (`old` none)
    /// no deletion mark, self link or generation; on update the stored object's. A client
    /// setting `deletionTimestamp` made an object look Terminating (review 18 N9). Kinds that
    /// count generations (streams, triggers) set theirs after this.
    pub fn keep_server_owned(&mut self, old: Option<&ObjectMeta>) {
        for key in SERVER_OWNED {
            match old.and_then(|old| old.extra.get(key)) {
                Some(value) => self.extra.insert(key.to_owned(), value.clone()),
                None => self.extra.remove(key),
            };
        }
        self.generation = old.and_then(|old| old.generation);
    }

    /// An annotation's value, if present.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

crate::meta::wire_struct! {
    /// `metadata` of a list.
    #[derive(Default, Eq)]
    pub struct ListMeta {
        /// The version the list was read at: watch from here to see what changes next.
        pub resource_version?: Option<String>,
        /// Set when the list was cut at `limit`: send it as `continue` to get the next part.
        #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
        pub continue_token: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    wire_struct! {
        #[derive(Default)]
        pub struct Sample {
            pub always_written: String,
            pub text?: String,
            pub flag?: bool,
            pub list?: Vec<u32>,
            pub map?: BTreeMap<String, String>,
            pub maybe?: Option<u32>,
        }

        #[derive(Default)]
        pub struct Defaulted {
            pub required: String,
            pub count: u32 = default,
        }
    }

    /// A `= default` field may be absent or `null` and is written even when empty; a field
    /// without a marker is required and not `null`. Both structs come from one `wire_struct!`.
    #[test]
    fn defaulted_fields_are_always_written_and_plain_fields_required() {
        let read: Defaulted = serde_json::from_str(r#"{"required":"r"}"#).expect("count defaults");
        assert_eq!(read.count, 0);
        let json = serde_json::to_string(&read).expect("serializes");
        assert_eq!(json, r#"{"required":"r","count":0}"#);
        let null: Defaulted =
            serde_json::from_str(r#"{"required":"r","count":null}"#).expect("null reads as absent");
        assert_eq!(null.count, 0);
        let null: Sample =
            serde_json::from_str(r#"{"alwaysWritten":"a","list":null,"maybe":null}"#)
                .expect("null reads as absent");
        assert_eq!((null.list, null.maybe), (Vec::new(), None));
        let err = serde_json::from_str::<Defaulted>(r#"{"required":null}"#)
            .expect_err("a plain field may not be null")
            .to_string();
        assert!(err.contains("invalid type: null"), "{err}");
        let missing = serde_json::from_str::<Defaulted>(r#"{"count":1}"#);
        let err = missing.expect_err("a plain field is required").to_string();
        assert!(err.contains("missing field `required`"), "{err}");
    }

    #[test]
    fn optional_fields_are_left_out_when_empty_and_defaulted_when_absent() {
        let empty = Sample::default();
        let json = serde_json::to_string(&empty).expect("serializes");
        assert_eq!(json, r#"{"alwaysWritten":""}"#);
        let back: Sample = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, empty);

        let full = Sample {
            always_written: "a".into(),
            text: "t".into(),
            flag: true,
            list: vec![0],
            map: BTreeMap::from([("k".into(), "v".into())]),
            maybe: Some(0),
        };
        let json = serde_json::to_string(&full).expect("serializes");
        assert_eq!(
            json,
            r#"{"alwaysWritten":"a","text":"t","flag":true,"list":[0],"map":{"k":"v"},"maybe":0}"#
        );
        let back: Sample = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, full);
    }

    /// The doc comments of a wire struct, on the struct and on plain and optional fields alike,
    /// are its schema's descriptions; a wire object's standard fields are described too.
    #[cfg(feature = "openapi")]
    #[test]
    fn doc_comments_are_the_schema_s_descriptions() {
        wire_struct! {
            /// A struct said in one line.
            pub struct Described {
                /// A plain field.
                pub plain: u32 = default,
                /// An optional field.
                pub optional?: Option<String>,
            }
        }
        wire_object! {
            /// An object.
            pub struct Thing {
                /// Its one field.
                pub spec?: u32,
            }
        }
        let json = |schema| serde_json::to_value(schema).expect("a schema is JSON");
        let schema = json(schemars::schema_for!(Described));
        assert_eq!(schema["description"], "A struct said in one line.");
        assert_eq!(
            schema["properties"]["plain"]["description"],
            "A plain field."
        );
        assert_eq!(
            schema["properties"]["optional"]["description"],
            "An optional field."
        );
        let schema = json(schemars::schema_for!(Thing));
        assert_eq!(
            schema["properties"]["spec"]["description"],
            "Its one field."
        );
        for field in ["kind", "apiVersion", "metadata"] {
            let text = schema["properties"][field]["description"].as_str();
            assert!(text.is_some_and(|t| !t.is_empty()), "{field}: {schema}");
        }
    }

    #[test]
    fn time_round_trips_in_kubernetes_format() {
        let t: Time = "2024-05-01T12:00:00Z".parse().expect("valid time");
        assert_eq!(t.to_string(), "2024-05-01T12:00:00Z");
        let offset: Time = "2024-05-01T14:00:00+02:00".parse().expect("valid time");
        assert_eq!(offset, t);
        assert!("yesterday".parse::<Time>().is_err());
    }
}
