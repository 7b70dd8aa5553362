//! Headless Chromium (Debian's `chromium` driven through its own `chromedriver`) for the browser
//! tests and the console benchmark.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tagstream_shared::paths::imagestream_status;

use crate::support::{TestApp, digest, stream_json, workspace_root};

/// How long to wait for something to appear before the test fails.
const PATIENCE: Duration = crate::support::PATIENCE;

/// What the page is still waiting for, named (empty once it has settled).
const BUSY_JS: &str = "return Array.from(document.querySelectorAll('[aria-busy=true], body[data-access=pending]'))
    .map((e) => e.tagName === 'BODY' ? 'the access review' : (e.dataset.test || e.textContent.trim()))
    .join(', ');";

/// Whether the element `arguments[0]` can be clicked as seen: `steady` once the page has settled
/// and the element kept its place and size over two frames; otherwise why not.
const STEADY_JS: &str = "const [css, done] = arguments;
    const busy = Array.from(document.querySelectorAll('[aria-busy=true], body[data-access=pending]'));
    if (busy.length) { done('the page is still loading'); return; }
    const element = document.querySelector(css);
    if (!element) { done('no such element'); return; }
    const box = (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height].join(); };
    const before = box(element);
    requestAnimationFrame(() => requestAnimationFrame(() => {
      done(!element.isConnected ? 'replaced' : box(element) === before ? 'steady' : 'moving');
    }));";

/// The release build of the console; the browser tests need it.
pub fn dist() -> PathBuf {
    let dist = std::env::var_os("TAGSTREAM_DIST")
        .map_or_else(|| workspace_root().join("dist"), PathBuf::from);
    assert!(
        dist.join("index.html").is_file(),
        "no console build (index.html) at {}: run scripts/test.sh, which builds it first (trunk build --release)",
        dist.display()
    );
    dist
}

/// One browser test at a time: Chromium runs a handful of processes and the console's timings
/// (and a 2-core machine) do not stand several at once. Every `Browser` holds the lock; a test
/// that needs a second browser starts it `beside` the first, sharing the hold.
static ONE_AT_A_TIME: LazyLock<Arc<tokio::sync::Mutex<()>>> =
    LazyLock::new(|| Arc::new(tokio::sync::Mutex::new(())));

/// A headless Chromium session through a chromedriver of its own. `close` ends it politely; a
/// test that fails before that ends it on drop (chromedriver and Chromium killed as one process
/// group), so no browser outlives its test.
pub struct Browser {
    pub client: Client,
    driver: Child,
    ended: bool,
    _profile: tempfile::TempDir,
    _turn: Arc<tokio::sync::OwnedMutexGuard<()>>,
}

/// What a click must have done; the click helper waits for it and fails naming it.
#[derive(Debug, Clone, Copy)]
pub enum Then<'a> {
    /// An element matching the selector is on the page.
    Shows(&'a str),
    /// An element matching the selector shows text containing the second string.
    ShowsText(&'a str, &'a str),
    /// The document's path is this one.
    Path(&'a str),
    /// The clicked radio button, checkbox or option is now selected.
    Selected,
    /// No element matches the selector any more.
    Gone(&'a str),
}

impl Browser {
    pub async fn start() -> Self {
        // Bounded: the other browser tests take a few minutes at most, and a test that starts
        // a second browser with `start` instead of `start_beside` would otherwise wait forever.
        let turn = tokio::time::timeout(
            Duration::from_secs(900),
            ONE_AT_A_TIME.clone().lock_owned(),
        )
        .await
        .expect("no turn for a browser in 15 minutes: does this test hold one already? (a second browser starts with `start_beside`)");
        Self::start_holding(Arc::new(turn)).await
    }

    /// A second browser in the same test (two people on the same pages).
    pub async fn start_beside(other: &Self) -> Self {
        Self::start_holding(other._turn.clone()).await
    }

    async fn start_holding(turn: Arc<tokio::sync::OwnedMutexGuard<()>>) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let (driver, port) = start_driver(profile.path()).await;
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().join("chrome").display()),
                ]
            }
        }))
        .unwrap();
        let mut browser = None;
        let mut last_error = None;
        // The driver said it listens; the session can still take a moment under load.
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    browser = Some(client);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            client: browser.unwrap_or_else(|| {
                kill_group(&driver);
                panic!("no WebDriver session: {last_error:?}")
            }),
            driver,
            ended: false,
            _profile: profile,
            _turn: turn,
        }
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

    /// Waits until the page has settled: nothing on it says it is loading (`aria-busy`), and on
    /// a page that shows actions by the user's access, the access review has answered
    /// (`<body data-access=answered>`): until then an action the user may take is simply absent.
    pub async fn settled(&self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let busy = self.eval(BUSY_JS).await;
            if busy.as_str() == Some("") {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page never settled: still waiting for {busy}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `css` as a person would, and waits for `then`, failing if the click did not do it.
    ///
    /// A person clicks what they see where they see it: the WebDriver measures the element and
    /// then clicks that point, so anything moving the element in between (content arriving
    /// above it, an action appearing beside it) clicks something else. So the click waits until
    /// the page has settled (`settled`) and the element stands still over two frames; a click
    /// the browser could not deliver (the element replaced or covered meanwhile) is tried again,
    /// as nothing was clicked.
    pub async fn click(&self, css: &str, then: Then<'_>) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut last = Value::Null;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} was never ready to click: {last}"
            );
            last = self
                .client
                .execute_async(STEADY_JS, vec![json!(css)])
                .await
                .unwrap();
            if last.as_str() != Some("steady") {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            let Ok(element) = self.client.find(Locator::Css(css)).await else {
                continue;
            };
            match element.click().await {
                Ok(()) => break,
                Err(e)
                    if e.is_stale_element_reference()
                        || matches!(&e, fantoccini::error::CmdError::Standard(w)
                            if w.error == fantoccini::error::ErrorStatus::ElementClickIntercepted) =>
                {
                    last = json!(format!("the click was not delivered: {e}"));
                }
                Err(e) => panic!("clicking {css} failed: {e}"),
            }
        }
        self.expect(&format!("clicking {css}"), css, then).await;
    }

    /// Waits for `then`, after `what` (for the message when it never comes) on `target`.
    async fn expect(&self, what: &str, target: &str, then: Then<'_>) {
        match then {
            Then::Shows(shown) => {
                self.client
                    .wait()
                    .at_most(PATIENCE)
                    .for_element(Locator::Css(shown))
                    .await
                    .unwrap_or_else(|e| panic!("{what} never showed {shown}: {e}"));
            }
            Then::ShowsText(shown, text) => {
                self.text_containing(shown, text).await;
            }
            Then::Selected => {
                let deadline = tokio::time::Instant::now() + PATIENCE;
                loop {
                    let selected = self
                        .eval(&format!(
                            "const e = document.querySelector({}); return !!e && (e.checked || e.selected);",
                            json!(target)
                        ))
                        .await;
                    if selected == Value::Bool(true) {
                        break;
                    }
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "{what} never selected it"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Then::Gone(css) => {
                let deadline = tokio::time::Instant::now() + PATIENCE;
                while !self
                    .client
                    .find_all(Locator::Css(css))
                    .await
                    .unwrap()
                    .is_empty()
                {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "{what}: {css} stayed"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Then::Path(expected) => {
                let deadline = tokio::time::Instant::now() + PATIENCE;
                loop {
                    let path = self.path().await;
                    if path == expected {
                        break;
                    }
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "{what} never led to {expected}; the browser is at {path}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Goes Back as a person would once the page is there (settled and fully loaded), and waits
    /// for `then`, failing with where the browser is if Back did not get there.
    pub async fn back(&self, then: Then<'_>) {
        self.settled().await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.eval("return document.readyState;").await != json!("complete") {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page never finished loading"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let from = self.path().await;
        self.client.back().await.unwrap();
        self.expect(&format!("Back from {from}"), "body", then)
            .await;
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
        self.click("[data-test=login-submit]", Then::Shows("body"))
            .await;
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
        self.end();
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            kill_group(&self.driver);
            let _ = self.driver.wait();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.end();
    }
}

/// Starts chromedriver on a free port in a process group of its own, and answers it once it says
/// it listens. A port picked free can be taken before chromedriver binds it (another test's
/// registry, say): then chromedriver exits, and another port is tried.
async fn start_driver(dir: &std::path::Path) -> (Child, u16) {
    for _ in 0..10 {
        let port = crate::support::reserved_port();
        let log = dir.join(format!("chromedriver-{port}.log"));
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver could not start ({e}): scripts/setup.sh --test installs it")
            });
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            if said.contains("started successfully") {
                return (driver, port);
            }
            if driver.try_wait().unwrap().is_some() {
                // Most likely the port was taken meanwhile: try another.
                break;
            }
            if std::time::Instant::now() > deadline {
                kill_group(&driver);
                let _ = driver.wait();
                panic!("chromedriver never said it listens on {port}: {said}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    panic!("chromedriver could not get a port in 10 tries");
}

/// Kills `driver` and everything it started (Chromium and its helpers): its process group.
fn kill_group(driver: &Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", driver.id())])
        .status();
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
