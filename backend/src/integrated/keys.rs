//! The token server's key material, kept in the data directory so that tokens and the
//! registry's trust survive a restart: an ECDSA P-256 key (`registry/token.key`, PKCS#8 PEM,
//! mode 0600), the self-signed certificate the registry's `rootcertbundle` names
//! (`registry/token.crt`), and the secret the registry sends with its notifications
//! (`registry/notifications.secret`). Each is made once, on first use, by whichever of `serve`
//! and `registry-config` comes first.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

/// What failed while reading or making the key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} does not hold a usable ECDSA P-256 key or certificate: {message}")]
    Unusable { path: String, message: String },
}

/// The signing key and the certificate that vouches for it.
#[derive(Debug)]
pub struct TokenKeys {
    pub(super) key: EcdsaKeyPair,
    pub(super) rng: SystemRandom,
    /// The certificate, DER: the token's `x5c` carries it; the registry trusts it as a root.
    pub(super) cert_der: Vec<u8>,
    /// Where the certificate is, for the registry's `rootcertbundle`.
    pub cert_path: PathBuf,
}

/// The directory under the data directory that holds the key material.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("registry")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `bytes` to a new file `path` (mode 0600); `false` when another process made it first.
fn create_new(path: &Path, bytes: &[u8]) -> Result<bool, KeyError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    // A hard link fails when the name exists: two first starts at once keep one key.
    let made = match std::fs::hard_link(&tmp, path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(io(path)(e)),
    };
    std::fs::remove_file(&tmp).map_err(io(&tmp))?;
    Ok(made)
}

/// Reads the key and certificate, making them on first use.
pub fn load_or_create(data_dir: &Path) -> Result<TokenKeys, KeyError> {
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let key_path = dir.join("token.key");
    let cert_path = dir.join("token.crt");
    if !key_path.exists() {
        let unusable = |message: String| KeyError::Unusable {
            path: key_path.display().to_string(),
            message,
        };
        let pair = rcgen::KeyPair::generate().map_err(|e| unusable(e.to_string()))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| unusable(e.to_string()))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tagstream registry token signer");
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let cert = params
            .self_signed(&pair)
            .map_err(|e| unusable(e.to_string()))?;
        // The certificate first: a key file without its certificate would be a key no
        // registry trusts.
        if create_new(&cert_path, cert.pem().as_bytes())? {
            create_new(&key_path, pair.serialize_pem().as_bytes())?;
        }
    }
    read(&key_path, &cert_path)
}

fn read(key_path: &Path, cert_path: &Path) -> Result<TokenKeys, KeyError> {
    let key_pem = std::fs::read_to_string(key_path).map_err(io(key_path))?;
    let unusable = |path: &Path, message: String| KeyError::Unusable {
        path: path.display().to_string(),
        message,
    };
    let pair = rcgen::KeyPair::from_pem(&key_pem).map_err(|e| unusable(key_path, e.to_string()))?;
    let rng = SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &pair.serialize_der(),
        &rng,
    )
    .map_err(|e| unusable(key_path, e.to_string()))?;
    let cert_pem = std::fs::read_to_string(cert_path).map_err(io(cert_path))?;
    let cert_der = pem_body(&cert_pem, "CERTIFICATE")
        .ok_or_else(|| unusable(cert_path, "no CERTIFICATE block".into()))?;
    Ok(TokenKeys {
        key,
        rng,
        cert_der,
        cert_path: cert_path.to_owned(),
    })
}

/// The bytes of the first PEM block of `label`.
fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// The secret the registry sends in the `X-Registry-Secret` header of every notification;
/// made on first use.
pub fn notification_secret(data_dir: &Path) -> Result<String, KeyError> {
    secret_file(data_dir, "notifications.secret")
}

/// A random secret kept in file `name` of the key directory; made on first use.
pub fn secret_file(data_dir: &Path, name: &str) -> Result<String, KeyError> {
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(name);
    if !path.exists() {
        let secret = crate::auth::secret::random_hex(32).map_err(|e| KeyError::Unusable {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        create_new(&path, secret.as_bytes())?;
    }
    let secret = std::fs::read_to_string(&path).map_err(io(&path))?;
    let secret = secret.trim().to_owned();
    if secret.len() < 32 {
        return Err(KeyError::Unusable {
            path: path.display().to_string(),
            message: "the secret is shorter than 32 characters".into(),
        });
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_made_once_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create(dir.path()).expect("made");
        let again = load_or_create(dir.path()).expect("read");
        assert_eq!(first.cert_der, again.cert_der);
        let secret = notification_secret(dir.path()).expect("secret");
        assert_eq!(notification_secret(dir.path()).expect("again"), secret);
    }
}
