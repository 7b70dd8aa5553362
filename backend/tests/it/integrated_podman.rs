//! `podman login` and `podman pull` (Debian's podman, root, no daemon, its own storage in a
//! temporary directory) against the integrated registry on loopback with a user name and an API
//! token: a viewer logs in and pulls the pushed image by its tag; a wrong token cannot log in;
//! a user without a role logs in (the registry itself) but cannot pull.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::Path;
use std::process::Command;

use serde_json::json;
use tagstream_shared::paths::PROJECTS;

use crate::integrated_registry::{Integrated, copy};
use crate::registry::{ImageSpec, Registry};

/// Runs podman with its storage, run directory and credentials under `dir` (nothing of the
/// machine's own is read or written); answers whether it succeeded and what it said.
async fn podman(dir: &Path, args: &[&str]) -> (bool, String) {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new("podman")
            .env("HOME", &dir)
            .env("REGISTRY_AUTH_FILE", dir.join("auth.json"))
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .args(["--storage-driver", "vfs", "--events-backend", "none"])
            .args(&args)
            .output()
            .expect("podman runs (scripts/setup.sh --test installs it)");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn podman_logs_in_with_an_api_token_and_pulls_what_the_user_may_read() {
    let source = Registry::start().await;
    let (one, _) = source
        .push_image("src/app", "one", &ImageSpec::new("one"))
        .await;
    let env = Integrated::start("").await;
    env.post(PROJECTS, json!({"metadata": {"name": "demo"}}))
        .await;
    let pusher = env.user("pusher", None).await;
    env.grant("demo", "pusher", "edit").await;
    let viewer = env.user("viewer", None).await;
    env.grant("demo", "viewer", "view").await;
    let nobody = env.user("nobody", None).await;
    let image = format!("{}/demo/app:v1", env.registry);
    let (ok, said) = copy(
        &format!("{}/src/app:one", source.addr),
        &image,
        &format!("pusher:{pusher}"),
    )
    .await;
    assert!(ok, "{said}");
    env.wait_for_tag("demo", "app", "v1", &one, crate::support::PATIENCE)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let login = |user: &'static str, token: String| {
        let registry = env.registry.clone();
        let dir = dir.path().to_owned();
        async move {
            podman(
                &dir,
                &[
                    "login",
                    "--tls-verify=false",
                    "-u",
                    user,
                    "-p",
                    &token,
                    &registry,
                ],
            )
            .await
        }
    };
    let (ok, said) = login("viewer", "tst_wrong".into()).await;
    assert!(!ok, "a wrong token logged in: {said}");
    let (ok, said) = login("viewer", viewer.clone()).await;
    assert!(ok, "the viewer cannot log in: {said}");
    assert!(said.contains("Login Succeeded"), "{said}");
    let (ok, said) = podman(dir.path(), &["pull", "--tls-verify=false", &image]).await;
    assert!(ok, "the viewer cannot pull: {said}");
    let (ok, said) = podman(
        dir.path(),
        &["image", "inspect", "--format", "{{.Digest}}", &image],
    )
    .await;
    assert!(ok, "{said}");
    assert_eq!(said.trim(), one, "the pulled image is the pushed one");

    // A user without a role: the login (to the registry) succeeds, the pull does not.
    let (ok, said) = login("nobody", nobody).await;
    assert!(ok, "{said}");
    let (ok, said) = podman(
        dir.path(),
        &[
            "pull",
            "--tls-verify=false",
            &format!("{}/demo/app:v1", env.registry),
        ],
    )
    .await;
    assert!(!ok, "a user without a role pulled: {said}");
    drop(env);
}
