//! Parsed names: a project, an image stream, a tag, and a stream tag (`name:tag`). Each is checked
//! once, where it enters (a path, a form, a body), with the rules OpenShift applies; afterwards the
//! type says it is valid.

use std::fmt;
use std::str::FromStr;

/// Why a name was refused; the text completes "Invalid value: "x": ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(pub String);

const DNS_LABEL_MAX: usize = 63;
const OBJECT_NAME_MAX: usize = 253;

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= DNS_LABEL_MAX
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `[a-z0-9]+(?:[._-][a-z0-9]+)*`: a repository path component, as OpenShift requires of streams.
fn is_repository_component(s: &str) -> bool {
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = s.as_bytes();
    if b.is_empty() || !alnum(&b[0]) || !alnum(&b[b.len() - 1]) {
        return false;
    }
    b.iter()
        .all(|c| alnum(c) || matches!(c, b'.' | b'_' | b'-'))
        && b.windows(2).all(|w| alnum(&w[0]) || alnum(&w[1]))
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(String);

        impl $ty {
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, NameError> {
                let check: fn(&str) -> Result<(), NameError> = $check;
                check(s).map(|()| Self(s.to_owned()))
            }
        }

        impl TryFrom<String> for $ty {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, NameError> {
                s.parse()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        $crate::meta::string_serde!($ty);
    };
}

/// `Ok` when `ok`, else the refusal `message`: one rule of a name.
fn ensure(ok: bool, message: &str) -> Result<(), NameError> {
    if ok {
        Ok(())
    } else {
        Err(NameError(message.into()))
    }
}

name_type!(
    /// A project (namespace) name: a DNS-1123 label of 2 to 63 characters, as OpenShift requires.
    ProjectName,
    |s| {
        ensure(s.len() >= 2, "must be at least 2 characters long")?;
        ensure(
            is_dns1123_label(s),
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
             '-', and must start and end with an alphanumeric character (e.g. 'my-name', or \
             '123-abc'), at most 63 characters",
        )
    }
);

name_type!(
    /// An image stream name: lower-case letters and digits, separated by single `.`, `_` or `-`
    /// (a repository path component), at most 253 characters.
    StreamName,
    |s| {
        ensure(!s.is_empty(), "name must not be empty")?;
        ensure(
            s.len() <= OBJECT_NAME_MAX,
            "must be no more than 253 characters",
        )?;
        ensure(
            is_repository_component(s),
            "must consist of lower case letters and digits, optionally separated by single \
             '.', '_' or '-' (e.g. 'ruby', 'my-app', 'python3.12')",
        )
    }
);

name_type!(
    /// A tag name: a word character followed by up to 127 word characters, `.` or `-`.
    TagName,
    |s| {
        ensure(!s.is_empty(), "tag must not be empty")?;
        ensure(
            crate::reference::is_tag(s),
            "a tag must start with a letter, digit or '_' and contain only letters, digits, \
             '_', '.' and '-', at most 128 characters (e.g. 'latest', '3.12-slim')",
        )
    }
);

name_type!(
    /// A template's (or template instance's) name: a DNS-1123 subdomain, as Kubernetes requires of
    /// object names: lower-case letters, digits, '-' and '.', at most 253 characters.
    TemplateName,
    check_subdomain
);

/// Any object name Kubernetes checks as a DNS-1123 subdomain: the name type of a kind that
/// declares none of its own.
pub type ObjectName = TemplateName;

/// A DNS-1123 subdomain, as Kubernetes requires of most object names.
fn check_subdomain(s: &str) -> Result<(), NameError> {
    ensure(!s.is_empty(), "name must not be empty")?;
    ensure(
        s.len() <= OBJECT_NAME_MAX && s.split('.').all(is_dns1123_label),
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
         characters, '-' or '.', and must start and end with an alphanumeric character \
         (e.g. 'rails-postgresql-example'), at most 253 characters",
    )
}

name_type!(
    /// A trigger's name: a DNS-1123 subdomain.
    TriggerName,
    check_subdomain
);

name_type!(
    /// A user's name, as OpenShift allows it; `system:` names are the server's own accounts
    /// (the API refuses to create them). `~` in a path means the caller and is resolved before
    /// parsing.
    UserName,
    |s| {
        ensure(
            !s.is_empty() && s.len() <= OBJECT_NAME_MAX,
            "must be 1 to 253 characters long",
        )?;
        ensure(
            !matches!(s, "~" | "." | "..") && !s.contains(['/', '%', ':']),
            "may not be \"~\", \".\" or \"..\" and may not contain \"/\", \"%\" or \":\"",
        )?;
        ensure(
            !s.chars().any(|c| c.is_whitespace() || c.is_control()),
            "may not contain white space",
        )
    }
);

name_type!(
    /// A team's name (an OpenShift Group): 1 to 253 characters without `/`, `%` or white space
    /// (`system:cluster-admins` is one).
    GroupName,
    |s| {
        ensure(
            !s.is_empty()
                && s.len() <= OBJECT_NAME_MAX
                && !matches!(s, "." | "..")
                && !s.contains(['/', '%'])
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()),
            "must be 1 to 253 characters without \"/\", \"%\", white space or control characters",
        )
    }
);

name_type!(
    /// A RoleBinding's name: lower-case letters, digits, `-`, `.` and `:` (the generated
    /// `system:image-pullers` style), at most 253 characters.
    RoleBindingName,
    |s| {
        ensure(
            !s.is_empty()
                && s.len() <= OBJECT_NAME_MAX
                && s.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b':')
                }),
            "must be 1 to 253 lower-case letters, digits, '-', '.' or ':'",
        )
    }
);

name_type!(
    /// An API token's id (the server makes them UUIDs): a path segment of at most 253
    /// characters without `/` or white space.
    TokenId,
    |s| {
        ensure(
            !s.is_empty()
                && s.len() <= OBJECT_NAME_MAX
                && !s.contains('/')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()),
            "must be a token id",
        )
    }
);

/// `stream:tag`, the name of an ImageStreamTag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamTagName {
    pub stream: StreamName,
    pub tag: TagName,
}

impl StreamTagName {
    pub fn new(stream: StreamName, tag: TagName) -> Self {
        Self { stream, tag }
    }
}

impl FromStr for StreamTagName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        let form = || NameError("must be of the form <stream_name>:<tag>".into());
        let (stream, tag) = s.split_once(':').ok_or_else(form)?;
        if tag.contains(':') {
            return Err(form());
        }
        Ok(Self {
            stream: stream.parse()?,
            tag: tag.parse()?,
        })
    }
}

impl fmt::Display for StreamTagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.stream, self.tag)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_team_name_has_no_control_characters() {
        assert!("system:cluster-admins".parse::<GroupName>().is_ok());
        assert!("Web Team".parse::<GroupName>().is_err());
        for bad in ["a\u{0}b", "a\u{1b}[31mred", "a\u{7f}"] {
            assert!(bad.parse::<GroupName>().is_err(), "{bad:?}");
        }
    }

    use super::*;

    #[test]
    fn project_names_follow_openshift() {
        for ok in ["demo", "my-team", "a1", "openshift", &"a".repeat(63)] {
            assert!(ok.parse::<ProjectName>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "Demo",
            "-demo",
            "demo-",
            "de_mo",
            "de.mo",
            &"a".repeat(64),
        ] {
            assert!(bad.parse::<ProjectName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn stream_names_are_repository_components() {
        for ok in [
            "ruby",
            "python3.12",
            "my-app",
            "my_app",
            "a",
            "dotnet-runtime",
        ] {
            assert!(ok.parse::<StreamName>().is_ok(), "{ok}");
        }
        for bad in [
            "", "Ruby", "my--app", "-app", "app.", "my/app", "a b", "app:1", "..", "a._b",
        ] {
            assert!(bad.parse::<StreamName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_names_follow_the_reference_grammar() {
        for ok in ["latest", "3.12-slim", "_x", "V1.0", &"a".repeat(128)] {
            assert!(ok.parse::<TagName>().is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "-x", "a:b", "a/b", "a b", &"a".repeat(129)] {
            assert!(bad.parse::<TagName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn stream_tag_names_split_once() {
        let n: StreamTagName = "ruby:3.3".parse().expect("valid");
        assert_eq!((n.stream.as_str(), n.tag.as_str()), ("ruby", "3.3"));
        assert_eq!(n.to_string(), "ruby:3.3");
        for bad in ["ruby", "ruby:", ":3.3", "ruby:3:3", "Ruby:3.3"] {
            assert!(bad.parse::<StreamTagName>().is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parsed_names_display_as_given(s in "[a-z0-9][a-z0-9._-]{0,40}") {
            if let Ok(n) = s.parse::<StreamName>() {
                proptest::prop_assert_eq!(n.to_string(), s.clone());
            }
            if let Ok(t) = s.parse::<TagName>() {
                proptest::prop_assert_eq!(t.as_str(), s.as_str());
            }
        }
    }
}
