//! Every input the token server takes from outside, bounded and checked here once: the Basic
//! `Authorization` header and the token request's query (`service`, `account`, `scope`); the
//! OAuth2 form of `POST /token` is read in `oauth_form` with the same scope and text checks.
//! Handlers get typed values or a `Status`; nothing downstream splits a scope string.

use tagstream_shared::{ProjectName, StreamName};

use crate::error::ApiError;

/// The longest `Authorization` header read (a user name and an API token, base64).
pub const MAX_AUTHORIZATION_BYTES: usize = 2048;
/// The longest query string of a token request.
pub const MAX_QUERY_BYTES: usize = 8192;
/// At most this many scopes in one token request (a push asks for two or three).
pub const MAX_SCOPES: usize = 16;
/// The longest single scope (`repository:NAME:ACTIONS`): distribution's names are at most 255.
pub const MAX_SCOPE_BYTES: usize = 512;

/// The user name and API token of a Basic header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub user: String,
    pub token: String,
}

/// Reads `Authorization: Basic base64(user:token)`; `Ok(None)` when there is no header.
pub fn basic(header: Option<&[u8]>) -> Result<Option<BasicCredentials>, ApiError> {
    use base64::Engine as _;
    let Some(raw) = header else {
        return Ok(None);
    };
    let bad = |what: &str| {
        ApiError::Unauthorized(format!(
            "the Authorization header must be \"Basic base64(user:token)\": {what}"
        ))
    };
    if raw.len() > MAX_AUTHORIZATION_BYTES {
        return Err(bad("it is too long"));
    }
    let text = std::str::from_utf8(raw).map_err(|_| bad("it is not text"))?;
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Err(bad("it has no scheme"));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad("the scheme is not Basic"));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad("the credentials are not base64"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad("the credentials are not UTF-8"))?;
    let Some((user, token)) = decoded.split_once(':') else {
        return Err(bad("the credentials have no ':'"));
    };
    if user.is_empty() || token.is_empty() || user.chars().any(char::is_control) {
        return Err(bad("the user name or token is empty"));
    }
    Ok(Some(BasicCredentials {
        user: user.to_owned(),
        token: token.to_owned(),
    }))
}

/// What a scope asks to do (distribution's actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actions {
    pub pull: bool,
    pub push: bool,
    pub delete: bool,
}

impl Actions {
    /// The action names, in distribution's spelling and a stable order.
    pub fn names(self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.pull {
            out.push("pull");
        }
        if self.push {
            out.push("push");
        }
        if self.delete {
            out.push("delete");
        }
        out
    }

    pub fn is_empty(self) -> bool {
        !(self.pull || self.push || self.delete)
    }
}

/// One requested scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `repository:{project}/{stream}:...`: a stream's repository.
    Stream {
        project: ProjectName,
        stream: StreamName,
        actions: Actions,
    },
    /// A repository name that is no stream of any project (another shape, invalid names):
    /// granted nothing, and answered like any refused scope.
    Unknown { name: String, actions: Actions },
    /// `registry:catalog:*`.
    Catalog,
}

/// A token request's query, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    pub service: Option<String>,
    pub account: Option<String>,
    pub scopes: Vec<Scope>,
}

fn bad_request(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

/// Parses the query of `GET /token?service=..&account=..&scope=..[&scope=..]` (a scope
/// parameter may also hold several scopes separated by spaces, as older clients send them).
pub fn token_request(query: Option<&str>) -> Result<TokenRequest, ApiError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_BYTES {
        return Err(bad_request(format!(
            "the token request's query is longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    let mut out = TokenRequest::default();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "service" => out.service = Some(bounded_text("service", &value)?),
            "account" => out.account = Some(bounded_text("account", &value)?),
            "scope" => add_scopes(&mut out.scopes, &value)?,
            // `client_id` and `offline_token` (docker login) change nothing here.
            _ => {}
        }
    }
    Ok(out)
}

/// Adds the space-separated scopes of one `scope` parameter to `scopes`, at most `MAX_SCOPES`.
pub(super) fn add_scopes(scopes: &mut Vec<Scope>, value: &str) -> Result<(), ApiError> {
    for one in value.split(' ').filter(|s| !s.is_empty()) {
        if scopes.len() >= MAX_SCOPES {
            return Err(bad_request(format!(
                "a token request may name at most {MAX_SCOPES} scopes"
            )));
        }
        scopes.push(scope(one)?);
    }
    Ok(())
}

pub(super) fn bounded_text(what: &str, value: &str) -> Result<String, ApiError> {
    if value.len() > 256 || value.chars().any(char::is_control) {
        return Err(bad_request(format!(
            "{what} must be at most 256 characters of text"
        )));
    }
    Ok(value.to_owned())
}

/// One scope: `type[(class)]:name:action[,action...]`.
pub fn scope(s: &str) -> Result<Scope, ApiError> {
    if s.len() > MAX_SCOPE_BYTES {
        return Err(bad_request(format!(
            "a scope is at most {MAX_SCOPE_BYTES} bytes"
        )));
    }
    let invalid = || bad_request(format!("scope {s:?} is not type:name:actions"));
    let (kind, rest) = s.split_once(':').ok_or_else(invalid)?;
    let (name, actions) = rest.rsplit_once(':').ok_or_else(invalid)?;
    if name.is_empty() || name.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid());
    }
    // The class (`repository(plugin)`) is not used by tagstream's repositories.
    let kind = kind.split_once('(').map_or(kind, |(k, _)| k);
    match kind {
        "registry" if name == "catalog" => Ok(Scope::Catalog),
        "repository" => {
            let mut wanted = Actions::default();
            for a in actions.split(',') {
                match a {
                    "pull" => wanted.pull = true,
                    "push" => wanted.push = true,
                    "delete" => wanted.delete = true,
                    "*" => {
                        wanted = Actions {
                            pull: true,
                            push: true,
                            delete: true,
                        }
                    }
                    // Unknown actions are not granted (distribution ignores them too).
                    _ => {}
                }
            }
            let parsed = name.split_once('/').and_then(|(p, st)| {
                Some((
                    p.parse::<ProjectName>().ok()?,
                    st.parse::<StreamName>().ok()?,
                ))
            });
            Ok(match parsed {
                Some((project, stream)) => Scope::Stream {
                    project,
                    stream,
                    actions: wanted,
                },
                None => Scope::Unknown {
                    name: name.to_owned(),
                    actions: wanted,
                },
            })
        }
        _ => Err(bad_request(format!(
            "scope {s:?}: only repository and registry:catalog scopes exist here"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn header(s: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
        .into_bytes()
    }

    #[test]
    fn basic_headers_are_read_and_bounded() {
        let ok = basic(Some(&header("alice:tok:en"))).expect("valid");
        assert_eq!(
            ok,
            Some(BasicCredentials {
                user: "alice".into(),
                token: "tok:en".into()
            })
        );
        assert_eq!(basic(None).expect("none"), None);
        for bad in [
            b"Bearer x".to_vec(),
            b"Basic !!!".to_vec(),
            header("no-colon"),
            header(":token"),
            header("user:"),
            header(&format!("u:{}", "x".repeat(3000))),
            vec![0xff, 0xfe],
        ] {
            assert!(basic(Some(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scopes_parse_into_streams_and_refusable_names() {
        let r = token_request(Some(
            "service=reg&account=alice&scope=repository%3Ademo%2Fruby%3Apull%2Cpush&scope=registry%3Acatalog%3A*",
        ))
        .expect("valid");
        assert_eq!(r.service.as_deref(), Some("reg"));
        assert_eq!(r.scopes.len(), 2);
        let Scope::Stream {
            project,
            stream,
            actions,
        } = &r.scopes[0]
        else {
            panic!("{:?}", r.scopes[0]);
        };
        assert_eq!((project.as_str(), stream.as_str()), ("demo", "ruby"));
        assert_eq!(actions.names(), ["pull", "push"]);
        assert_eq!(r.scopes[1], Scope::Catalog);
        for name in ["library/ruby/x", "Demo/ruby", "ruby", "demo/"] {
            let s = scope(&format!("repository:{name}:pull")).expect("parses");
            assert!(matches!(s, Scope::Unknown { .. }), "{name}: {s:?}");
        }
        let spaced =
            token_request(Some("scope=repository:a/b:pull%20repository:a/c:push")).expect("valid");
        assert_eq!(spaced.scopes.len(), 2);
    }

    #[test]
    fn malformed_and_oversized_requests_are_refused() {
        for bad in [
            "repository",
            "repository:x",
            "blob:a/b:pull",
            "repository::pull",
        ] {
            assert!(scope(bad).is_err(), "{bad}");
        }
        let long = format!("scope=repository:a/{}:pull", "b".repeat(600));
        assert!(token_request(Some(&long)).is_err());
        let many = vec!["scope=repository:a/b:pull"; MAX_SCOPES + 1].join("&");
        assert!(token_request(Some(&many)).is_err());
        assert!(token_request(Some(&"x".repeat(MAX_QUERY_BYTES + 1))).is_err());
    }
}
