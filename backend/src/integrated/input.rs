//! Every input the token server takes from outside, bounded and checked here once: the Basic
//! `Authorization` header, the token request's query (`service`, `account`, `scope`) and the
//! OAuth2 form of `POST /token` (distribution's `docs/spec/auth/oauth.md`).
//! Handlers get typed values or a `Status`; nothing downstream splits a scope string.

use tagstream_shared::{ProjectName, StreamName};

use tagstream_shared::FieldError;

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
fn add_scopes(scopes: &mut Vec<Scope>, value: &str) -> Result<(), ApiError> {
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

/// How an OAuth2 token request proves who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// `grant_type=password`: a user name and an API token.
    Password(BasicCredentials),
    /// `grant_type=refresh_token`: the refresh token an earlier answer gave (the API token).
    Refresh(String),
}

/// `POST /token`'s form, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthRequest {
    pub grant: Grant,
    /// The service asked for (required by the spec).
    pub service: String,
    /// `access_type=offline`: the answer carries a refresh token.
    pub offline: bool,
    pub scopes: Vec<Scope>,
}

/// The field errors of a form, as a Status names them.
fn form_invalid(errors: Vec<FieldError>) -> ApiError {
    ApiError::Invalid {
        kind: "TokenRequest",
        name: String::new(),
        errors,
    }
}

/// Parses the `application/x-www-form-urlencoded` body of `POST /token` (at most
/// `MAX_QUERY_BYTES`): `grant_type` `password` (with `username` and `password`) or
/// `refresh_token` (with `refresh_token`), and the required `service` and `client_id`.
pub fn oauth_request(body: &[u8]) -> Result<OAuthRequest, ApiError> {
    if body.len() > MAX_QUERY_BYTES {
        return Err(ApiError::TooLarge(format!(
            "a token request's form is at most {MAX_QUERY_BYTES} bytes"
        )));
    }
    let (mut grant_type, mut service, mut client_id, mut access_type) = (None, None, None, None);
    let (mut username, mut password, mut refresh) = (None, None, None);
    let mut scopes = Vec::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        let slot = match key.as_ref() {
            "grant_type" => &mut grant_type,
            "service" => &mut service,
            "client_id" => &mut client_id,
            "access_type" => &mut access_type,
            "username" => &mut username,
            "password" => &mut password,
            "refresh_token" => &mut refresh,
            "scope" => {
                add_scopes(&mut scopes, &value)?;
                continue;
            }
            _ => continue,
        };
        *slot = Some(bounded_text(&key, &value)?);
    }
    let mut errors = Vec::new();
    let required =
        |errors: &mut Vec<FieldError>, field: &str, value: &Option<String>, what: &str| {
            if value.as_deref().is_none_or(str::is_empty) {
                errors.push(FieldError::required(field, what));
            }
        };
    required(
        &mut errors,
        "grant_type",
        &grant_type,
        "password or refresh_token",
    );
    required(
        &mut errors,
        "service",
        &service,
        "the registry's service name",
    );
    required(
        &mut errors,
        "client_id",
        &client_id,
        "a name for the client (RFC 6749 A.1)",
    );
    let grant = match grant_type.as_deref() {
        Some("password") => {
            required(&mut errors, "username", &username, "the user name");
            required(
                &mut errors,
                "password",
                &password,
                "an API token of the user",
            );
            Grant::Password(BasicCredentials {
                user: username.unwrap_or_default(),
                token: password.unwrap_or_default(),
            })
        }
        Some("refresh_token") => {
            required(
                &mut errors,
                "refresh_token",
                &refresh,
                "the refresh token of an earlier answer",
            );
            Grant::Refresh(refresh.unwrap_or_default())
        }
        Some(other) if !other.is_empty() => {
            errors.push(FieldError::not_supported(
                "grant_type",
                other,
                &["password", "refresh_token"],
            ));
            Grant::Refresh(String::new())
        }
        _ => Grant::Refresh(String::new()),
    };
    let offline = match access_type.as_deref() {
        None | Some("online") => false,
        Some("offline") => true,
        Some(other) => {
            errors.push(FieldError::not_supported(
                "access_type",
                other,
                &["online", "offline"],
            ));
            false
        }
    };
    if !errors.is_empty() {
        return Err(form_invalid(errors));
    }
    Ok(OAuthRequest {
        grant,
        service: service.unwrap_or_default(),
        offline,
        scopes,
    })
}

fn bounded_text(what: &str, value: &str) -> Result<String, ApiError> {
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

    #[test]
    fn oauth_forms_are_read_and_checked() {
        let r = oauth_request(
            b"grant_type=password&username=alice&password=tst_x&service=reg&client_id=docker\
              &access_type=offline&scope=repository%3Ademo%2Fruby%3Apull",
        )
        .expect("valid");
        assert_eq!(
            r.grant,
            Grant::Password(BasicCredentials {
                user: "alice".into(),
                token: "tst_x".into()
            })
        );
        assert_eq!(
            (r.service.as_str(), r.offline, r.scopes.len()),
            ("reg", true, 1)
        );
        let r =
            oauth_request(b"grant_type=refresh_token&refresh_token=tst_x&service=reg&client_id=c")
                .expect("valid");
        assert_eq!(
            (r.grant, r.offline),
            (Grant::Refresh("tst_x".into()), false)
        );
        for (bad, field) in [
            (
                &b"grant_type=password&password=t&service=s&client_id=c"[..],
                "username",
            ),
            (
                b"grant_type=refresh_token&service=s&client_id=c",
                "refresh_token",
            ),
            (
                b"grant_type=password&username=u&password=t&client_id=c",
                "service",
            ),
            (
                b"grant_type=password&username=u&password=t&service=s",
                "client_id",
            ),
            (
                b"grant_type=authorization_code&service=s&client_id=c",
                "grant_type",
            ),
            (
                b"grant_type=password&username=u&password=t&service=s&client_id=c&access_type=x",
                "access_type",
            ),
        ] {
            let Err(ApiError::Invalid { errors, .. }) = oauth_request(bad) else {
                panic!("{}", String::from_utf8_lossy(bad));
            };
            assert_eq!(errors[0].field, field, "{}", String::from_utf8_lossy(bad));
        }
        assert!(matches!(
            oauth_request(&vec![b'a'; MAX_QUERY_BYTES + 1]),
            Err(ApiError::TooLarge(_))
        ));
    }
}
