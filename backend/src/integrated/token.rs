//! Registry tokens as distribution's `auth: token` verifies them: a JWT signed ES256 with
//! tagstream's key, the key's certificate in the `x5c` header (the registry checks it against
//! its `rootcertbundle`), `iss`/`aud` as the registry's `issuer`/`service`, and `access` listing
//! exactly what the caller may do to each repository they asked about.

use base64::Engine as _;
use serde::Serialize;
use tagstream_shared::access::{Resource, Verb};
use tagstream_shared::{ImageStream, ProjectName, StreamName};

use super::input::{Actions, Scope};
use super::keys::TokenKeys;
use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::store::{Objects as _, StoreError};

/// One `access` entry of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub actions: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    nbf: i64,
    iat: i64,
    jti: String,
    access: &'a [Access],
}

/// What `p` may do for each requested scope: pull where they may read the stream (and it
/// exists, or they push it), push where they may move its tags, delete where they may delete
/// them; a project they cannot see (or that does not exist) grants nothing, answered exactly
/// like a refusal, and neither does a name whose deleted predecessor's images are still being
/// purged from the registry.
pub async fn grant(
    state: &AppState,
    p: &Principal,
    scopes: &[Scope],
) -> Result<Vec<Access>, ApiError> {
    let mut out: Vec<Access> = Vec::new();
    for scope in scopes {
        match scope {
            Scope::Catalog => {
                if p.cluster_admin && p.scope.is_none() {
                    out.push(Access {
                        kind: "registry",
                        name: "catalog".into(),
                        actions: vec!["*"],
                    });
                }
            }
            Scope::Unknown { .. } => {}
            Scope::Stream {
                project,
                stream,
                actions,
            } => {
                // Honours a project-scoped token: another project holds nothing for it.
                let access = crate::access::project_access(state, p, project).await?;
                if !access.sees_project() {
                    continue;
                }
                let name = format!("{project}/{stream}");
                // The images of a deleted stream or project of this name are still being
                // purged from the registry: nothing on it until they are gone, or its next
                // owner would pull them (and a push now would be purged with them).
                if state.store.purge_pending(&name).await? {
                    tracing::info!(repository = %name, "no registry access while a purge is pending");
                    continue;
                }
                let push = actions.push && access.allows(Verb::Update, Resource::ImageStreamTags);
                // Pulling needs the stream (a repository without one holds nothing of the
                // project's), except beside a push that creates it: pushing needs pull too.
                let pull = actions.pull
                    && access.allows(Verb::Get, Resource::ImageStreams)
                    && (push || stream_exists(state, project, stream).await?);
                let granted = Actions {
                    pull,
                    push,
                    delete: actions.delete
                        && access.allows(Verb::Delete, Resource::ImageStreamTags),
                };
                if granted.is_empty() {
                    continue;
                }
                match out
                    .iter_mut()
                    .find(|a| a.kind == "repository" && a.name == name)
                {
                    Some(a) => {
                        for n in granted.names() {
                            if !a.actions.contains(&n) {
                                a.actions.push(n);
                            }
                        }
                    }
                    None => out.push(Access {
                        kind: "repository",
                        name,
                        actions: granted.names(),
                    }),
                }
            }
        }
    }
    Ok(out)
}

async fn stream_exists(
    state: &AppState,
    project: &ProjectName,
    stream: &StreamName,
) -> Result<bool, ApiError> {
    match state
        .store
        .get::<ImageStream>(Some(project), stream.as_ref())
        .await
    {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs a token for `subject` with `access`, valid from `now` for `seconds`.
pub fn sign(
    keys: &TokenKeys,
    issuer: &str,
    service: &str,
    subject: &str,
    access: &[Access],
    now: i64,
    seconds: u64,
) -> Result<String, ApiError> {
    let header = serde_json::json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(&keys.cert_der)],
    });
    let claims = Claims {
        iss: issuer,
        sub: subject,
        aud: service,
        exp: now.saturating_add(i64::try_from(seconds).unwrap_or(300)),
        nbf: now,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        access,
    };
    let header = serde_json::to_vec(&header).map_err(internal)?;
    let claims = serde_json::to_vec(&claims).map_err(internal)?;
    let signing_input = format!("{}.{}", b64url(&header), b64url(&claims));
    let signature = keys
        .key
        .sign(&keys.rng, signing_input.as_bytes())
        .map_err(|e| ApiError::Internal(format!("cannot sign a registry token: {e}").into()))?;
    Ok(format!("{signing_input}.{}", b64url(signature.as_ref())))
}

fn internal(e: serde_json::Error) -> ApiError {
    ApiError::Internal(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, KeyPair as _, UnparsedPublicKey};

    #[tokio::test]
    async fn tokens_verify_with_the_certificate_key_and_carry_the_claims() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = super::super::keys::test_store(dir.path()).await;
        let keys = super::super::keys::token_keys(store.as_ref(), dir.path())
            .await
            .expect("keys");
        let access = vec![Access {
            kind: "repository",
            name: "demo/ruby".into(),
            actions: vec!["pull"],
        }];
        let token = sign(&keys, "iss", "svc", "alice", &access, 1000, 300).expect("signed");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .expect("base64url")
        };
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).expect("claims");
        assert_eq!(claims["aud"], "svc");
        assert_eq!(claims["exp"], 1300);
        assert_eq!(claims["access"][0]["actions"][0], "pull");
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).expect("header");
        assert_eq!(header["alg"], "ES256");
        let public =
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, keys.key.public_key().as_ref());
        public
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &decode(parts[2]),
            )
            .expect("the signature verifies");
    }
}
