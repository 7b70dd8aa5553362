//! The key material every replica on one database shares, kept in the store
//! (`KeyStore`, table `server_keys`) so that nothing has to be copied between replicas: the key
//! the projects' receiver URL secrets are derived from, and with `[registry]` the token signing
//! key (ECDSA P-256) with the self-signed certificate the registry's `rootcertbundle` names, and
//! the secret the registry sends with its notifications. Each is made once, by whichever of
//! `serve` and `registry-config` (on any replica) comes first; two made at once keep one.
//!
//! Before, they were files in `DATA_DIR/registry/` (`receivers.key`, `token.key` with
//! `token.crt`, `notifications.secret`): a database without a key takes the file's on the first
//! start that finds it, so existing receiver URLs and the registry's trust keep working. From
//! then on the files are not read (a file that differs from the database's key is logged, by
//! name only). No value is ever logged or served.

use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

use crate::store::{Store, StoreError};

/// The store's name of the receivers' key.
pub const RECEIVERS: &str = "receivers";
/// The store's name of the token certificate and signing key (PEM, certificate first).
pub const TOKEN: &str = "registry-token";
/// The store's name of the notification secret.
pub const NOTIFICATIONS: &str = "registry-notifications";

/// What failed while reading, importing or making the key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{what} is not a usable ECDSA P-256 key, certificate or secret: {message}")]
    Unusable { what: String, message: String },
    #[error("cannot read or store the key material: {0}")]
    Store(#[from] StoreError),
}

/// The signing key and the certificate that vouches for it.
#[derive(Debug)]
pub struct TokenKeys {
    pub(super) key: EcdsaKeyPair,
    pub(super) rng: SystemRandom,
    /// The certificate, DER: the token's `x5c` carries it; the registry trusts it as a root.
    pub(super) cert_der: Vec<u8>,
    /// The certificate, PEM: what `registry-config` writes for the registry's `rootcertbundle`.
    pub cert_pem: String,
}

/// The directory under the data directory that held the key material (and holds the
/// registry's storage and certificate file by default).
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("registry")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn unusable(what: impl std::fmt::Display, message: impl std::fmt::Display) -> KeyError {
    KeyError::Unusable {
        what: what.to_string(),
        message: message.to_string(),
    }
}

/// The text of file `name` of the old key directory, if it is there.
fn old_file(data_dir: &Path, name: &str) -> Result<Option<(PathBuf, String)>, KeyError> {
    let path = dir(data_dir).join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some((path, text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Key `name` from the store; on a store without it, `old` (what the files of an earlier
/// version hold, already checked) or else a new one from `make`. Two processes storing it at
/// once both answer the first one stored.
async fn shared(
    store: &dyn Store,
    name: &str,
    old: Option<(String, String)>,
    make: impl FnOnce() -> Result<String, KeyError>,
) -> Result<String, KeyError> {
    if let Some(stored) = store.server_key(name).await? {
        if let Some((files, value)) = old
            && value != stored
        {
            tracing::warn!(
                key = name,
                %files,
                "these files differ from the key in the database: the database's is used and \
                 the files are not read (delete them)"
            );
        }
        return Ok(stored);
    }
    let (value, from) = match old {
        Some((files, value)) => (value, Some(files)),
        None => (make()?, None),
    };
    let kept = store.keep_server_key(name, &value).await?;
    match from {
        _ if kept != value => {
            tracing::info!(
                key = name,
                "another replica stored it first: using that one"
            );
        }
        Some(files) => tracing::info!(
            key = name,
            %files,
            "imported into the database, which every replica reads it from now; the files are \
             not read any more"
        ),
        None => tracing::info!(key = name, "made and stored in the database"),
    }
    Ok(kept)
}

/// A random secret (64 hex characters).
fn random_secret(what: &str) -> Result<String, KeyError> {
    crate::auth::secret::random_hex(32).map_err(|e| unusable(what, e))
}

/// A secret as an earlier version kept it in file `name`, checked, if the file is there.
fn old_secret(data_dir: &Path, name: &str) -> Result<Option<(String, String)>, KeyError> {
    let Some((path, text)) = old_file(data_dir, name)? else {
        return Ok(None);
    };
    let secret = text.trim().to_owned();
    check_secret(&path.display().to_string(), &secret)?;
    Ok(Some((path.display().to_string(), secret)))
}

fn check_secret(what: &str, secret: &str) -> Result<(), KeyError> {
    if secret.len() < 32 {
        return Err(unusable(what, "the secret is shorter than 32 characters"));
    }
    Ok(())
}

/// The shared secret `name` (imported from file `file` of an earlier version), made on first
/// use.
pub async fn secret(
    store: &dyn Store,
    data_dir: &Path,
    name: &str,
    file: &str,
) -> Result<String, KeyError> {
    let old = old_secret(data_dir, file)?;
    let secret = shared(store, name, old, || random_secret(name)).await?;
    check_secret(&format!("the database's key {name:?}"), &secret)?;
    Ok(secret)
}

/// The secret the registry sends in the `X-Registry-Secret` header of every notification.
pub async fn notification_secret(store: &dyn Store, data_dir: &Path) -> Result<String, KeyError> {
    secret(store, data_dir, NOTIFICATIONS, "notifications.secret").await
}

/// The token signing key and its certificate, made on first use.
pub async fn token_keys(store: &dyn Store, data_dir: &Path) -> Result<TokenKeys, KeyError> {
    let old = match (
        old_file(data_dir, "token.crt")?,
        old_file(data_dir, "token.key")?,
    ) {
        (Some((cert_path, cert)), Some((key_path, key))) => {
            let files = format!("{} and {}", cert_path.display(), key_path.display());
            let cert = pem_block(&cert, "CERTIFICATE")
                .ok_or_else(|| unusable(cert_path.display(), "no CERTIFICATE block"))?;
            let key = pem_block(&key, "PRIVATE KEY")
                .ok_or_else(|| unusable(key_path.display(), "no PRIVATE KEY block"))?;
            let value = format!("{cert}\n{key}\n");
            parse(&files, &value)?;
            Some((files, value))
        }
        // A certificate alone is what `registry-config` writes now: nothing to import.
        _ => None,
    };
    let value = shared(store, TOKEN, old, make_token_keys).await?;
    parse(&format!("the database's key {TOKEN:?}"), &value)
}

/// A new signing key and its self-signed certificate, PEM, certificate first.
fn make_token_keys() -> Result<String, KeyError> {
    let bad = |e: rcgen::Error| unusable("a new token signing key", e);
    let pair = rcgen::KeyPair::generate().map_err(bad)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(bad)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "tagstream registry token signer");
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&pair).map_err(bad)?;
    Ok(format!("{}{}", cert.pem(), pair.serialize_pem()))
}

/// The key and certificate in `value` (PEM blocks), which `what` names in errors.
fn parse(what: &str, value: &str) -> Result<TokenKeys, KeyError> {
    let key_pem = pem_block(value, "PRIVATE KEY").ok_or_else(|| unusable(what, "no key"))?;
    let pair = rcgen::KeyPair::from_pem(key_pem).map_err(|e| unusable(what, e))?;
    let rng = SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &pair.serialize_der(),
        &rng,
    )
    .map_err(|e| unusable(what, e))?;
    let cert_pem = pem_block(value, "CERTIFICATE").ok_or_else(|| unusable(what, "no cert"))?;
    let cert_der = pem_body(cert_pem).ok_or_else(|| unusable(what, "a bad CERTIFICATE"))?;
    // The certificate must carry this key (its uncompressed point, in the certificate's
    // subject public key), or the registry would refuse every token: a key file left from one
    // pair beside the certificate of another is refused here, not at the first push.
    let point = ring::signature::KeyPair::public_key(&key).as_ref();
    if !cert_der.windows(point.len()).any(|w| w == point) {
        return Err(unusable(what, "the certificate is not the key's"));
    }
    Ok(TokenKeys {
        key,
        rng,
        cert_der,
        cert_pem: format!("{cert_pem}\n"),
    })
}

/// The first PEM block of `label` in `pem`, from its BEGIN line to its END line.
fn pem_block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)?;
    let stop = start + pem[start..].find(&end)? + end.len();
    Some(&pem[start..stop])
}

/// The bytes of a PEM block.
fn pem_body(block: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let b64: String = block
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.split_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// A new store in `dir`, for the integrated registry's tests.
#[cfg(test)]
pub(super) async fn test_store(dir: &Path) -> std::sync::Arc<dyn Store> {
    crate::store::open(&dir.join("tagstream.db").display().to_string())
        .await
        .expect("store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_are_made_once_and_read_back() {
        let data = tempfile::tempdir().expect("temp dir");
        let store = test_store(data.path()).await;
        let first = token_keys(store.as_ref(), data.path()).await.expect("made");
        let again = token_keys(store.as_ref(), data.path()).await.expect("read");
        assert_eq!(first.cert_der, again.cert_der);
        let secret = notification_secret(store.as_ref(), data.path())
            .await
            .expect("secret");
        let again = notification_secret(store.as_ref(), data.path()).await;
        assert_eq!(again.expect("again"), secret);
        assert!(
            !dir(data.path()).exists(),
            "nothing is written to the data directory"
        );
    }

    #[tokio::test]
    async fn old_files_are_imported_once_and_a_short_old_secret_is_refused() {
        let old = tempfile::tempdir().expect("temp dir");
        let made = make_token_keys().expect("keys");
        let key_dir = dir(old.path());
        std::fs::create_dir_all(&key_dir).expect("dir");
        let (cert, key) = made.split_at(made.find("-----BEGIN PRIVATE KEY").expect("key"));
        std::fs::write(key_dir.join("token.crt"), cert).expect("cert");
        std::fs::write(key_dir.join("token.key"), key).expect("key");
        std::fs::write(key_dir.join("notifications.secret"), "short\n").expect("secret");
        let store = test_store(old.path()).await;
        let keys = token_keys(store.as_ref(), old.path())
            .await
            .expect("imported");
        assert_eq!(keys.cert_pem.trim(), cert.trim());
        let refused = notification_secret(store.as_ref(), old.path()).await;
        assert!(
            matches!(refused, Err(KeyError::Unusable { .. })),
            "{refused:?}"
        );
    }

    #[test]
    fn a_certificate_of_another_key_is_refused() {
        let (one, two) = (
            make_token_keys().expect("one"),
            make_token_keys().expect("two"),
        );
        let at = |pem: &str| pem.find("-----BEGIN PRIVATE KEY").expect("key");
        let mixed = format!("{}{}", &one[..at(&one)], &two[at(&two)..]);
        assert!(parse("one", &one).is_ok());
        let refused = parse("mixed", &mixed);
        assert!(
            matches!(refused, Err(KeyError::Unusable { .. })),
            "{refused:?}"
        );
    }
}
