//! The SSRF defence of every outbound request: a resolver that refuses names resolving to
//! private addresses, and a redirect policy that checks every hop against the registry policy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::registry::policy::RegistryPolicy;

/// Resolves host names and drops every address the policy refuses: the SSRF defence for
/// names. A name whose addresses are all refused does not connect at all.
#[derive(Debug, Clone)]
struct FilteringResolver;

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| crate::registry::policy::is_public(a.ip()))
                .collect();
            // A name never reaches a private address: registries on those are listed by
            // address and port, and a literal address does not go through the resolver.
            if addrs.is_empty() {
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host} resolves to no public address; refusing to connect"),
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

pub(super) fn url_allowed(policy: &RegistryPolicy, url: &reqwest::Url) -> bool {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => policy.literal_allowed(host, port),
        _ => false,
    }
}

/// An HTTP client that resolves through [`FilteringResolver`] and follows only redirects the
/// policy allows; `accept_invalid` for registries configured insecure, `ca` for one with its own
/// certificate authority.
pub(super) fn http_client(
    policy: &Arc<RegistryPolicy>,
    timeout: Duration,
    accept_invalid: bool,
    ca: Option<reqwest::Certificate>,
) -> Result<reqwest::Client, reqwest::Error> {
    let redirect_policy = policy.clone();
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("tagstream/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout / 3)
        .timeout(timeout)
        .dns_resolver(Arc::new(FilteringResolver))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if url_allowed(&redirect_policy, attempt.url()) {
                attempt.follow()
            } else {
                let to = attempt.url().to_string();
                attempt.error(format!("refusing a redirect to a non-public address: {to}"))
            }
        }))
        .danger_accept_invalid_certs(accept_invalid);
    if let Some(ca) = ca {
        b = b.add_root_certificate(ca);
    }
    b.build()
}
