//! `tagstream`: parses the flags, sets up logging and runs the chosen command.

use std::process::ExitCode;

use clap::Parser as _;
use tagstream_backend::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => tagstream_backend::app::serve(args).await,
        Command::RegistryConfig(args) => tagstream_backend::integrated::registry_config::run(&args)
            .await
            .map_err(tagstream_backend::app::StartError::RegistryConfig),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
