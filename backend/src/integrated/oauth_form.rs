//! The OAuth2 form of `POST /token` (distribution's `docs/spec/auth/oauth.md`, as newer
//! `docker login` sends it), bounded and checked here once: `grant_type` `password` (with
//! `username` and `password`) or `refresh_token` (with `refresh_token`), the required `service`
//! and `client_id`, `access_type` and the scopes (read as `input` reads a query's).

use tagstream_shared::FieldError;

use super::input::{BasicCredentials, MAX_QUERY_BYTES, Scope, add_scopes, bounded_text};
use crate::error::ApiError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
