//! Headless Chromium (Debian's `chromium` driven through its own `chromedriver`) for the browser
//! tests and the console benchmark.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::imagestream_status;

use crate::support::{TestApp, digest, stream_json, workspace_root};

/// How long to wait for something to appear before the test fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// The release build of the console; the browser tests need it.
pub fn dist() -> PathBuf {
    let dist = std::env::var_os("TAGSTREAM_DIST")
        .map_or_else(|| workspace_root().join("dist"), PathBuf::from);
    for app in [
        "index.html",
        "tag/index.html",
        "tools/index.html",
        "templates/index.html",
        "access/index.html",
        "activity/index.html",
    ] {
        assert!(
            dist.join(app).is_file(),
            "no console build ({app}) at {}: run scripts/test.sh, which builds it first (trunk build --release)",
            dist.display()
        );
    }
    dist
}

/// A headless Chromium session through a chromedriver of its own, ended on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver could not start ({e}): scripts/setup.sh --test installs it")
            });
        let profile = tempfile::tempdir().unwrap();
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }))
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        driver,
                        _profile: profile,
                    };
                }
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session: {last_error:?}");
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Waits for the element `css` and answers it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// Waits until the element `css` shows text containing `expected`, and answers its text.
    pub async fn text_containing(&self, css: &str, expected: &str) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut seen = String::new();
        while tokio::time::Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                seen = el.text().await.unwrap_or_default();
                if seen.contains(expected) {
                    return seen;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never showed {expected:?}; last seen {seen:?}");
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(el.text().await.unwrap_or_default());
        }
        out
    }

    pub async fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(el.attr(attr).await.unwrap().unwrap_or_default());
        }
        out
    }

    /// Signs in through the console's own sign-in page, as people do.
    pub async fn sign_in(&self, app: &TestApp, user: &str, password: &str) {
        self.open(&app.url("/login")).await;
        self.sign_in_here(user, password).await;
    }

    /// Fills in the sign-in page the browser is on and waits until it leaves it.
    pub async fn sign_in_here(&self, user: &str, password: &str) {
        self.find("[data-test=login-user]")
            .await
            .send_keys(user)
            .await
            .unwrap();
        self.find("[data-test=login-password]")
            .await
            .send_keys(password)
            .await
            .unwrap();
        self.find("[data-test=login-submit]")
            .await
            .click()
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.path().await.starts_with("/login") {
            assert!(
                tokio::time::Instant::now() < deadline,
                "signing in as {user} never left the sign-in page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A browser signed in as a cluster admin of `app` (user `alice`).
    pub async fn start_signed_in(app: &TestApp) -> Self {
        let (user, password) = app.browser_admin().await;
        let browser = Self::start().await;
        browser.sign_in(app, &user, &password).await;
        browser
    }

    /// Runs `script` in the page and answers its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A server with project `demo` and stream `ruby` whose tag `latest` has moved twice.
pub async fn app_with_history() -> TestApp {
    let app = TestApp::start_with_dist(&dist()).await;
    app.create_project("demo").await;
    let mut stream = serde_json::to_value(
        app.create_stream(
            "demo",
            &stream_json("ruby", "latest", "quay.io/demo/ruby:3.3"),
        )
        .await,
    )
    .unwrap();
    let hour_ago =
        tagstream_shared::Time::from_timestamp(tagstream_shared::Time::now().timestamp() - 3600);
    stream["status"] = json!({"dockerImageRepository": "", "tags": [{"tag": "latest", "items": [
        {"created": hour_ago.to_string(), "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('b')), "image": digest('b'), "generation": 1},
        {"created": "2026-01-01T00:00:00Z", "dockerImageReference": format!("quay.io/demo/ruby@{}", digest('a')), "image": digest('a'), "generation": 1}
    ]}]});
    let (code, body) = app.put(&imagestream_status("demo", "ruby"), &stream).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    app
}
