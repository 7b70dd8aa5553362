//! Which registries tagstream may import from, and which addresses it may connect to.
//!
//! Two separate checks, as OpenShift does them:
//! - the **allow list** (`[[registries]]`, like `allowedRegistriesForImport`) is about the
//!   registry a reference names (`quay.io/org/app:1`), checked once per import;
//! - the **address filter** (SSRF defence) is about every connection: a host name's resolved
//!   addresses, an address written literally in a URL, and every redirect. Loopback, private,
//!   link-local, unspecified and other non-public addresses are refused unless a registry is
//!   listed by that exact address and port. Public addresses (a blob CDN) stay allowed.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use crate::config::RegistryConfig;

/// The registries allowed when the config lists none.
pub const DEFAULT_REGISTRIES: [&str; 9] = [
    "docker.io",
    "quay.io",
    "ghcr.io",
    "registry.k8s.io",
    "gcr.io",
    "public.ecr.aws",
    "mcr.microsoft.com",
    "registry.access.redhat.com",
    "registry.redhat.io",
];

/// Credentials for one registry; `Debug` never shows the password.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// One allowed registry.
#[derive(Debug, Clone)]
pub struct AllowedRegistry {
    /// `quay.io`, `127.0.0.1:5000`, or a `*.example.com` pattern (the part after `*.`).
    host: String,
    wildcard: bool,
    /// The port when the entry names one; an entry without a port allows any.
    port: Option<u16>,
    pub insecure: bool,
    pub credentials: Option<Credentials>,
    pub ca_file: Option<PathBuf>,
}

/// Splits `host[:port]` (IPv6 in brackets) into the lower-cased host and the port.
pub fn split_host_port(s: &str) -> (String, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host.to_ascii_lowercase(), port);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h.to_ascii_lowercase(), Some(port)),
            Err(_) => (s.to_ascii_lowercase(), None),
        },
        _ => (s.to_ascii_lowercase(), None),
    }
}

impl AllowedRegistry {
    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host_ok = if self.wildcard {
            host.strip_suffix(&self.host)
                .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1)
        } else {
            host == self.host
        };
        host_ok && (self.port.is_none() || self.port == port)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the password file for registry {domain}: {source}")]
    PasswordFile {
        domain: String,
        source: std::io::Error,
    },
}

/// The allow list and the addresses that are allowed despite being private.
#[derive(Debug, Clone, Default)]
pub struct RegistryPolicy {
    allowed: Vec<AllowedRegistry>,
    /// Registries listed by a literal address and port.
    listed_addresses: HashSet<SocketAddr>,
}

impl RegistryPolicy {
    /// The policy a config describes; the default list when it names no registry.
    pub fn from_config(registries: &[RegistryConfig]) -> Result<Self, PolicyError> {
        if registries.is_empty() {
            let allowed = DEFAULT_REGISTRIES
                .iter()
                .map(|d| AllowedRegistry {
                    host: (*d).to_owned(),
                    wildcard: false,
                    port: None,
                    insecure: false,
                    credentials: None,
                    ca_file: None,
                })
                .collect();
            return Ok(Self {
                allowed,
                listed_addresses: HashSet::new(),
            });
        }
        let mut policy = Self::default();
        for r in registries {
            let (pattern, wildcard) = match r.domain.strip_prefix("*.") {
                Some(rest) => (rest, true),
                None => (r.domain.as_str(), false),
            };
            let (host, port) = split_host_port(pattern);
            let credentials = match (&r.username, &r.password_file) {
                (Some(username), Some(file)) => {
                    let password = std::fs::read_to_string(file).map_err(|source| {
                        PolicyError::PasswordFile {
                            domain: r.domain.clone(),
                            source,
                        }
                    })?;
                    Some(Credentials {
                        username: username.clone(),
                        password: password.trim_end_matches(['\n', '\r']).to_owned(),
                    })
                }
                _ => None,
            };
            if !wildcard && let Ok(ip) = host.parse::<IpAddr>() {
                let port = port.unwrap_or(if r.insecure { 80 } else { 443 });
                policy.listed_addresses.insert(SocketAddr::new(ip, port));
            }
            policy.allowed.push(AllowedRegistry {
                host,
                wildcard,
                port,
                insecure: r.insecure,
                credentials,
                ca_file: r.ca_file.clone(),
            });
        }
        Ok(policy)
    }

    /// The entry that allows importing from `registry` (`host[:port]` as a reference names it).
    pub fn allowed(&self, registry: &str) -> Option<&AllowedRegistry> {
        let (host, port) = split_host_port(registry);
        self.allowed.iter().find(|a| a.matches(&host, port))
    }

    /// Every entry, for building clients.
    pub fn entries(&self) -> &[AllowedRegistry] {
        &self.allowed
    }

    /// Whether a connection to `ip:port` is allowed.
    pub fn address_allowed(&self, addr: SocketAddr) -> bool {
        is_public(addr.ip()) || self.listed_addresses.contains(&addr)
    }

    /// Whether a URL host written as a literal address may be reached. Host names are checked
    /// after resolution instead.
    pub fn literal_allowed(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match host.parse::<IpAddr>() {
            Ok(ip) => self.address_allowed(SocketAddr::new(ip, port)),
            Err(_) => true,
        }
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local,
/// unspecified, shared (CGNAT), documentation, benchmarking, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x0064 && s[1] == 0xff9b)
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
        // Teredo (2001::/32): the tunnelled IPv4 address is inside, obfuscated; no webhook or
        // registry needs one.
        || (s[0] == 0x2001 && s[1] == 0)
        // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits: as private as that.
        || (s[0] == 0x2002 && !is_public_v4(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2]))))
        // SIIT's IPv4-translated form ::ffff:0:a.b.c.d.
        || (s[..4] == [0, 0, 0, 0]
            && s[4] == 0xffff
            && s[5] == 0
            && !is_public_v4(Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]))))
        || ip
            .to_ipv4()
            .is_some_and(|v4| !is_public_v4(v4) || s[5] == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(domain: &str, insecure: bool) -> RegistryConfig {
        RegistryConfig {
            domain: domain.into(),
            insecure,
            username: None,
            password_file: None,
            ca_file: None,
        }
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "100::1",
            "fec0::1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::",
            "2002:c0a8:101::",
            "::ffff:0:127.0.0.1",
            "2001::1",
        ] {
            let ip: IpAddr = a.parse().expect("test address parses");
            assert!(!is_public(ip), "{a} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "52.1.2.3",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "2002:808:808::1",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = a.parse().expect("test address parses");
            assert!(is_public(ip), "{a} must be allowed");
        }
    }

    #[test]
    fn an_address_listed_with_its_port_is_allowed_only_on_that_port() {
        let policy = RegistryPolicy::from_config(&[registry("127.0.0.1:5000", true)])
            .expect("policy builds");
        let listed: SocketAddr = "127.0.0.1:5000".parse().expect("parses");
        let other: SocketAddr = "127.0.0.1:5001".parse().expect("parses");
        assert!(policy.address_allowed(listed));
        assert!(!policy.address_allowed(other));
        assert!(policy.literal_allowed("127.0.0.1", 5000));
        assert!(!policy.literal_allowed("127.0.0.1", 5001));
        assert!(!policy.literal_allowed("[::1]", 5000));
        assert_allows(
            &policy,
            &[
                ("127.0.0.1:5000", true),
                ("127.0.0.1:5001", false),
                // A name is not the listed address.
                ("localhost:5000", false),
            ],
        );
    }

    #[test]
    fn the_allow_list_matches_hosts_wildcards_and_ports() {
        let policy = RegistryPolicy::from_config(&[
            registry("quay.io", false),
            registry("*.example.com", false),
            registry("registry.local:8443", false),
        ])
        .expect("policy builds");
        assert_allows(
            &policy,
            &[
                ("quay.io", true),
                ("QUAY.io", true),
                // No port listed: any.
                ("quay.io:443", true),
                ("evilquay.io", false),
                ("a.example.com", true),
                ("a.b.example.com", true),
                ("example.com", false),
                ("badexample.com", false),
                ("registry.local:8443", true),
                ("registry.local", false),
                // The list replaces the default.
                ("docker.io", false),
            ],
        );
    }

    #[test]
    fn the_default_list_is_the_well_known_public_registries() {
        let policy = RegistryPolicy::from_config(&[]).expect("policy builds");
        let defaults: Vec<(&str, bool)> = DEFAULT_REGISTRIES.iter().map(|d| (*d, true)).collect();
        assert_allows(&policy, &defaults);
        assert_allows(
            &policy,
            &[("127.0.0.1:5000", false), ("registry.internal", false)],
        );
    }

    /// Asserts which of `hosts` `policy` allows (`true`) and which it refuses.
    fn assert_allows(policy: &RegistryPolicy, hosts: &[(&str, bool)]) {
        for (host, allowed) in hosts {
            assert_eq!(policy.allowed(host).is_some(), *allowed, "{host}");
        }
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let c = Credentials {
            username: "robot".into(),
            password: "hunter2".into(),
        };
        let shown = format!("{c:?}");
        assert!(shown.contains("robot") && !shown.contains("hunter2"));
    }
}
