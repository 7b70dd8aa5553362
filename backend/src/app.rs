//! The application: its state, built once from the flags and config, the router, and serving
//! with a clean shutdown on SIGTERM or Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Extensions, HeaderMap, StatusCode, Version};
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::trace::TraceLayer;

use crate::cli::ServeArgs;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::import::Importer;
use crate::registry::client::ClientError;
use crate::registry::policy::PolicyError;
use crate::registry::{RegistryClient, RegistryPolicy};
use crate::store::{self, Store};

/// What every handler shares: one allocation behind a reference count, since axum clones the
/// state for every request several times over (each route's service, each middleware that
/// holds it, each `State` extractor). As a struct of a dozen `Arc`s, those clones and drops
/// were a seventh of a cached stream GET's CPU time, each count's cache line bouncing between
/// the cores. Fields are read through `Deref` (`state.store`).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl From<Shared> for AppState {
    fn from(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl AppState {
    /// The state for `config`; the import worker is not started (see `start_background`).
    pub fn new(store: Arc<dyn Store>, config: Config) -> Result<Self, StartError> {
        Shared::new(store, config).map(Self::from)
    }
}

/// The fields of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// Where objects live (SQLite by default).
    pub store: Arc<dyn Store>,
    /// The time source for creation times and history.
    pub clock: Arc<dyn Clock>,
    /// The parsed configuration file (defaults when there is none).
    pub config: Arc<Config>,
    /// Registry imports: the client, the image cache and the background worker.
    pub importer: Arc<Importer>,
    /// Failed sign-ins per user and per address.
    pub login_limiter: Arc<crate::auth::rate_limit::LoginLimiter>,
    /// Trigger webhooks: the outbox worker and its sender (SSRF rules, signatures).
    pub deliverer: Arc<crate::triggers::worker::Deliverer>,
    /// Set to `true` at shutdown: open watches end, so that a graceful shutdown can finish.
    pub watches: Arc<tokio::sync::watch::Sender<bool>>,
    /// The watches each user holds open (capped by `[watch] per_user`).
    pub watch_slots: Arc<crate::watch_access::WatchSlots>,
    /// The integrated registry's token server and notification endpoint (`[registry]`).
    pub integrated: Option<Arc<crate::integrated::Integrated>>,
    /// The key of the projects' receiver URLs (in the store, the same on every replica).
    pub receivers: Option<Arc<crate::integrated::receivers::ReceiverKey>>,
    /// Tokens, sessions, teams and bindings as last read, kept exact by the access epoch.
    pub auth_cache: Arc<crate::auth::cache::AuthCache>,
    /// Stored bodies as last read, kept exact by the change log (`read_cache`).
    pub read_cache: Arc<crate::read_cache::ReadCache>,
}

impl Shared {
    /// The state for `config`, before it is shared (`AppState::from`).
    pub fn new(store: Arc<dyn Store>, config: Config) -> Result<Self, StartError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let policy = Arc::new(RegistryPolicy::from_config(&config.registries)?);
        let client = RegistryClient::new(
            policy,
            Duration::from_secs(config.import.request_timeout_seconds),
            config.import.requests_per_second_per_registry,
        )?;
        let mut importer =
            Importer::new(client, store.clone(), clock.clone(), config.import.clone());
        importer.registry.clone_from(&config.registry);
        let importer = Arc::new(importer);
        let deliverer = Arc::new(crate::triggers::worker::Deliverer::new(
            store.clone(),
            config.webhooks.clone(),
        ));
        Ok(Self {
            store,
            clock,
            config: Arc::new(config),
            importer,
            login_limiter: Arc::default(),
            deliverer,
            watches: Arc::new(tokio::sync::watch::Sender::new(false)),
            watch_slots: Arc::default(),
            integrated: None,
            receivers: None,
            auth_cache: Arc::default(),
            read_cache: Arc::default(),
        })
    }

    /// Starts the background work: pending imports, aliases, scheduled re-imports, webhook
    /// deliveries, registry purges.
    pub fn start_background(&self) {
        self.importer.start();
        self.deliverer.start();
        if let Some(integrated) = &self.integrated {
            integrated.start_purger();
        }
    }

    /// Stops the background work and ends open watches.
    pub fn stop_background(&self) {
        self.importer.stop();
        self.deliverer.stop();
        if let Some(integrated) = &self.integrated {
            integrated.stop_purger();
        }
        self.stop_watches();
    }

    /// Ends every open watch (they would otherwise hold a graceful shutdown open forever).
    pub fn stop_watches(&self) {
        self.watches.send_replace(true);
    }
}

/// The whole HTTP surface: the API, and the console from `dist`.
pub fn router(state: AppState, dist: PathBuf) -> Router {
    router_with(state, dist, crate::api::routes::Routes::new())
}

/// [`router`] with `extra` API routes beside the product's.
///
/// Every request passes tracing, compression and authentication (which lets the console's
/// paths through), in that order, except the console's hashed assets: answered from memory
/// before any of them (the fallback is set after the layers, so it carries its own).
pub fn router_with(state: AppState, dist: PathBuf, extra: crate::api::routes::Routes) -> Router {
    let layers = tower::ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(compression())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ));
    let assets = Arc::new(crate::static_files::memory::Assets::load(&dist));
    let console = crate::static_files::MemoryFirst::new(
        assets,
        layers.service(crate::static_files::service(dist)),
    );
    crate::api::router_with(extra)
        .with_state(state)
        .layer(layers)
        .fallback_service(console)
}

/// gzip for answers of a kilobyte or more when the client accepts it (big lists, the console's
/// wasm and CSS), at the fastest level: the 3 MB list of 5,000 streams compresses about tenfold
/// in a few milliseconds, where the default level would take several times longer than sending
/// it uncompressed on a fast network. Never a watch: a compressor holds bytes back until its
/// block fills, which would delay events (the watch marks itself `X-Accel-Buffering: no`, as
/// it does for proxies), nor server-sent events, images or what is already small.
fn compression() -> CompressionLayer<impl Predicate> {
    fn unbuffered(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
        headers.get("x-accel-buffering").is_none()
    }
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(
            SizeAbove::new(1024)
                .and(NotForContentType::GRPC)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::SSE)
                .and(unbuffered as fn(StatusCode, Version, &HeaderMap, &Extensions) -> bool),
        )
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] store::StoreError),
    #[error("the [[registries]] configuration is not usable: {0}")]
    Registries(#[from] PolicyError),
    #[error("the registry client cannot start: {0}")]
    Client(#[from] ClientError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up the samples: {0}")]
    Samples(#[from] crate::samples::SamplesError),
    #[error("cannot create the first admin: {0}")]
    Bootstrap(String),
    #[error("cannot write the registry config: {0}")]
    RegistryConfig(String),
    #[error("the integrated registry cannot start: {0}")]
    Integrated(#[from] crate::integrated::OpenError),
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

/// What runs once before serving: the first admin on a fresh database, and the samples
/// brought in line with their config.
pub async fn prepare(state: &AppState, bootstrap_token: Option<&str>) -> Result<(), StartError> {
    // Replicas starting at once prepare one after the other (the first admin is created once,
    // the samples reconciled once: the next replica finds them in line and writes nothing).
    state.store.begin_exclusive().await?;
    let prepared = prepare_alone(state, bootstrap_token).await;
    state.store.end_exclusive().await?;
    prepared
}

async fn prepare_alone(state: &AppState, bootstrap_token: Option<&str>) -> Result<(), StartError> {
    crate::api::bootstrap_admin(state, bootstrap_token)
        .await
        .map_err(|e| StartError::Bootstrap(e.to_string()))?;
    let applied = crate::samples::reconcile(state, &crate::audit::Actor::SAMPLES).await?;
    tracing::info!(
        namespace = %state.config.samples.namespace,
        state = applied.spec.management_state.as_str(),
        "samples applied"
    );
    Ok(())
}

/// Starts serving per `args` and returns when a shutdown signal has been handled.
pub async fn serve(args: ServeArgs) -> Result<(), StartError> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    // Only its owner may enter a data directory tagstream makes: the database in it holds the
    // server's keys.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&args.data_dir)
        .map_err(|source| StartError::DataDir {
            path: args.data_dir.display().to_string(),
            source,
        })?;
    let store = store::open_with(&args.database_url(), args.database_settings()).await?;
    if !args.dist.join("index.html").is_file() {
        tracing::warn!(dist = %args.dist.display(), "no built console there: the API works, the console does not (run scripts/run.sh)");
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: args.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let mut state = Shared::new(store.clone(), config)?;
    state.receivers = Some(Arc::new(
        crate::integrated::receivers::ReceiverKey::load_or_create(store.as_ref(), &args.data_dir)
            .await
            .map_err(crate::integrated::OpenError::from)?,
    ));
    if let Some(registry) = state.config.registry.clone() {
        let timeout = Duration::from_secs(state.config.import.request_timeout_seconds);
        state.integrated = Some(Arc::new(
            crate::integrated::Integrated::open(registry, &args.data_dir, store, timeout).await?,
        ));
    }
    let state = AppState::from(state);
    prepare(&state, args.bootstrap_admin_token.as_deref()).await?;
    state.start_background();
    let app = router(state.clone(), args.dist.clone());
    // Registered before the URL is printed: a SIGTERM sent the moment a script sees the URL
    // must shut down cleanly, not kill the process by the default action.
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    tracing::info!(%addr, "tagstream listening");
    // The URL on stdout is the interface for people and scripts that start the server.
    let _ = writeln!(std::io::stdout(), "tagstream is serving on http://{addr}/");
    let _ = std::io::stdout().flush();
    // Responses go out in more than one write (headers, then the body); without TCP_NODELAY the
    // second waits for the client's delayed ACK, ~40 ms per request on Linux loopback.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown({
        let state = state.clone();
        async move {
            shutdown_signal(term).await;
            state.stop_watches();
        }
    })
    .await
    .map_err(StartError::Serve)?;
    state.stop_background();
    tracing::info!("tagstream stopped");
    Ok(())
}

async fn shutdown_signal(term: std::io::Result<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match term {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}
