//! A refused push is taken out only once the notifications queued behind it were read: a
//! rightful push of the same image can sit in the registry's backlog for longer than the few
//! seconds a refusal waits (anyone who may push can make that backlog), and must not find its
//! image deleted (review 7 B1).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tagstream_shared::Time;

use crate::integrated_late_push::{event, notify};
use crate::integrated_purge_history::head;
use crate::integrated_refused_blobs::{
    bob_pushes, checked, demo, logged, revoke_alice, source_with, tag_digest,
};
use crate::integrated_registry::copy_with_token;
use crate::support::PATIENCE;

#[tokio::test]
async fn a_rightful_push_queued_long_behind_a_refused_one_of_the_same_image_keeps_it() {
    let (source, [one, two]) = source_with(["one", "two"]).await;
    let env = crate::integrated_registry::Integrated::start("").await;
    let (alice, bob) = demo(&env).await;
    bob_pushes(&env, &source, &bob, "one", "v1", &one).await;
    // Alice, who lost her role, pushes `two` over v1: refused.
    let jwt = revoke_alice(&env, &alice).await;
    let (ok, said) = copy_with_token(
        &format!("{}/src/app:two", source.addr),
        &format!("{}/demo/app:v1", env.registry),
        &jwt,
    )
    .await;
    assert!(ok, "{said}");
    let pushed = Time::now();
    // The registry's backlog, as it sends it: one envelope after the other, still of the
    // moments right after alice's push, until tagstream says the refusal waits for them.
    let start = Instant::now();
    for i in 0.. {
        let pull = json!({"id": format!("pull-{i}"), "action": "pull",
            "timestamp": pushed.to_string(),
            "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": one, "repository": "demo/app", "tag": "v1"}});
        let (code, answer) = notify(&env, pull).await;
        assert_eq!(code, StatusCode::OK, "{answer}");
        let log = std::fs::read_to_string(&env.server.stderr).unwrap_or_default();
        // (Or alice's push was checked already: then bob's push below tells what became of it.)
        let checked = log
            .lines()
            .any(|l| l.contains("a refused push was checked") && l.contains(two.as_str()));
        if checked || log.contains("refused pushes wait for the notifications queued behind them") {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the refused push never waited for the backlog; server log: {log}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // At the end of the backlog, bob's push of the same image as v3 (made right after
    // alice's): it moves, and once the registry is quiet the refused push is checked and keeps
    // the image the stream now holds.
    let (code, answer) = notify(&env, event("bob-v3", "demo/app", "v3", &two, "bob", pushed)).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(answer["moved"], 1, "bob's push moved nothing: {answer}");
    checked(&env, &two).await;
    logged(
        &env,
        "the tag a refused push overwrote names the stream's image again",
    )
    .await;
    assert_eq!(head(&env, "demo/app", &two).await, StatusCode::OK);
    assert_eq!(
        env.history("demo", "app", "v3").await,
        std::slice::from_ref(&two)
    );
    assert_eq!(tag_digest(&env, "demo/app", "v1").await, Some(one.clone()));
    drop(env);
}
