//! The integrated registry's token server beyond `GET /token`: the OAuth2 form of
//! distribution's `docs/spec/auth/oauth.md` (`POST /token`, `grant_type=password` and
//! `refresh_token`, as newer `docker login` sends it) issues tokens the real registry honours;
//! a registry token never outlives the API token it was issued for; a request naming another
//! service gets no token.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::{PROJECTS, token, tokens};

use crate::integrated_registry::{Integrated, TOKEN, copy};
use crate::registry::{ImageSpec, Registry};

/// `[registry] service` by default.
const SERVICE: &str = "tagstream-registry";

/// Posts the OAuth2 form `fields` to the token endpoint.
async fn oauth(env: &Integrated, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = crate::support::http_client()
        .post(env.url(TOKEN))
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// The claims of a JWT.
fn claims(jwt: &Value) -> Value {
    let payload = jwt.as_str().unwrap().split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// `GET /token` as `user:api_token` for `service`.
async fn get_token(
    env: &Integrated,
    user: &str,
    api_token: &str,
    service: &str,
) -> (StatusCode, Value) {
    let r = crate::support::http_client()
        .get(env.url(TOKEN))
        .query(&[("service", service), ("scope", "repository:demo/app:pull")])
        .basic_auth(user, Some(api_token))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

fn field_of(status: &Value) -> &str {
    status["details"]["causes"][0]["field"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_oauth_form_issues_tokens_the_registry_honours_and_refreshes_with_the_api_token() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let pusher = env.user("pusher", None).await;
    env.grant("demo", "pusher", "edit").await;
    let (ok, said) = copy(
        &format!("{}/src/app:one", source.addr),
        &format!("{}/demo/app:v1", env.registry),
        &format!("pusher:{pusher}"),
    )
    .await;
    assert!(ok, "{said}");
    env.wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;

    // `docker login`'s request: a password grant asking for a refresh token.
    let (code, answer) = oauth(
        &env,
        &[
            ("grant_type", "password"),
            ("username", "pusher"),
            ("password", pusher.as_str()),
            ("service", SERVICE),
            ("client_id", "tagstream-tests"),
            ("access_type", "offline"),
            ("scope", "repository:demo/app:pull,push"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["scope"], "repository:demo/app:pull,push", "{answer}");
    assert_eq!(answer["expires_in"], 300);
    assert!(answer["issued_at"].is_string(), "{answer}");
    assert_eq!(answer["refresh_token"], pusher.as_str());
    // The registry honours the access token.
    let tags = crate::support::http_client()
        .get(format!("http://{}/v2/demo/app/tags/list", env.registry))
        .bearer_auth(answer["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(tags.status(), StatusCode::OK);
    let tags: Value = tags.json().await.unwrap();
    assert_eq!(tags["tags"], json!(["v1"]));

    // The refresh token buys tokens for other scopes, without handing out a new one.
    let refresh = answer["refresh_token"].as_str().unwrap().to_owned();
    let (code, answer) = oauth(
        &env,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("service", SERVICE),
            ("client_id", "tagstream-tests"),
            (
                "scope",
                "repository:demo/app:pull repository:ghost/app:pull",
            ),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["scope"], "repository:demo/app:pull", "{answer}");
    assert!(answer.get("refresh_token").is_none(), "{answer}");
    assert_eq!(claims(&answer["access_token"])["sub"], "pusher");

    // A wrong password, another user's token, a revoked refresh token: 401 Status.
    let revoked = env.post(&tokens("pusher"), json!({"spec": {}})).await;
    let r = env
        .admin
        .delete(env.url(&token(
            "pusher",
            revoked["metadata"]["name"].as_str().unwrap(),
        )))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let revoked = revoked["token"].as_str().unwrap();
    for fields in [
        vec![
            ("grant_type", "password"),
            ("username", "pusher"),
            ("password", "tst_wrong"),
        ],
        vec![
            ("grant_type", "password"),
            ("username", "viewer"),
            ("password", pusher.as_str()),
        ],
        vec![("grant_type", "refresh_token"), ("refresh_token", revoked)],
    ] {
        let mut fields = fields.clone();
        fields.extend([("service", SERVICE), ("client_id", "c")]);
        let (code, answer) = oauth(&env, &fields).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{fields:?}: {answer}");
        assert_eq!(answer["kind"], "Status");
        assert!(answer.get("access_token").is_none());
    }

    // Malformed requests: the field named, or the body refused whole.
    let (code, answer) = oauth(
        &env,
        &[
            ("grant_type", "password"),
            ("username", "pusher"),
            ("password", pusher.as_str()),
            ("service", SERVICE),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(field_of(&answer), "client_id", "{answer}");
    let (code, answer) = oauth(
        &env,
        &[
            ("grant_type", "authorization_code"),
            ("service", SERVICE),
            ("client_id", "c"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(field_of(&answer), "grant_type", "{answer}");
    let r = crate::support::http_client()
        .post(env.url(TOKEN))
        .json(&json!({"grant_type": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = crate::support::http_client()
        .post(env.url(TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("scope={}", "a".repeat(64 << 10)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    drop(env);
}

#[tokio::test]
async fn a_registry_token_lives_no_longer_than_its_api_token_and_names_only_this_service() {
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let lasting = env.user("pusher", None).await;
    env.grant("demo", "pusher", "edit").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = i64::try_from(now + 120).unwrap();
    let short = env
        .post(
            &tokens("pusher"),
            json!({"spec": {"expires": tagstream_shared::Time::from_timestamp(expires).to_string()}}),
        )
        .await;
    let short = short["token"].as_str().unwrap().to_owned();

    // A token without expiry: the configured 300 s.
    let (code, answer) = get_token(&env, "pusher", &lasting, SERVICE).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    let c = claims(&answer["token"]);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300);

    // One expiring in 120 s: the registry token ends with it, by either endpoint.
    let (code, answer) = get_token(&env, "pusher", &short, SERVICE).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(claims(&answer["token"])["exp"], expires, "{answer}");
    let lives = answer["expires_in"].as_u64().unwrap();
    assert!((100..=120).contains(&lives), "expires_in {lives}");
    let (code, answer) = oauth(
        &env,
        &[
            ("grant_type", "password"),
            ("username", "pusher"),
            ("password", short.as_str()),
            ("service", SERVICE),
            ("client_id", "c"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(claims(&answer["access_token"])["exp"], expires, "{answer}");

    // Another service's name gets no token, by either endpoint.
    let (code, answer) = get_token(&env, "pusher", &lasting, "other-registry").await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["kind"], "Status");
    assert!(answer.get("token").is_none(), "{answer}");
    let (code, answer) = oauth(
        &env,
        &[
            ("grant_type", "password"),
            ("username", "pusher"),
            ("password", lasting.as_str()),
            ("service", "other-registry"),
            ("client_id", "c"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.get("access_token").is_none(), "{answer}");
    drop(env);
}
