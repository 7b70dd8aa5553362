//! The console's hashed assets (`main-<hash>.css`, the script, the wasm) held in memory: read
//! once when the router is built, each with its precompressed copies and its headers made then,
//! and answered without touching the disk or passing the API's middleware (issue 16: read from
//! disk per request behind the tracing, compression and authentication layers, the 13 KB CSS
//! answered fewer requests per second than an authenticated, database-backed stream GET).
//!
//! Only hashed names: their bytes never change under the same name (a new build has new names,
//! reached through `index.html`, which stays on disk and is revalidated), so what was read at
//! start stays right for the process's life. A hashed file built after the start, or one too big
//! to keep, is served from disk as before.

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use super::{IMMUTABLE, is_hashed_asset};
use crate::read_cache::accepts;

/// A file larger than this is served from disk.
const MAX_FILE: u64 = 32 << 20;
/// Bytes kept at most, all copies together; files past it are served from disk.
const MAX_TOTAL: usize = 128 << 20;
/// How deep below dist/ files are looked for.
const MAX_DEPTH: usize = 4;
/// Smaller files are not worth a compressed copy (the compression layer's threshold too).
const COMPRESS_FROM: usize = 1024;

/// One way of sending an asset: its bytes and the headers that differ between the ways.
#[derive(Debug)]
struct Variant {
    bytes: Bytes,
    etag: HeaderValue,
    /// `Content-Encoding` (none for the file as it is).
    encoding: Option<HeaderValue>,
}

#[derive(Debug)]
struct Asset {
    identity: Variant,
    br: Option<Variant>,
    gzip: Option<Variant>,
    content_type: HeaderValue,
    last_modified: Option<(SystemTime, HeaderValue)>,
}

impl Asset {
    /// The copy to send for these request headers: brotli, then gzip, when accepted.
    fn variant(&self, headers: &HeaderMap) -> &Variant {
        if let Some(br) = &self.br
            && accepts(headers, "br")
        {
            return br;
        }
        if let Some(gzip) = &self.gzip
            && accepts(headers, "gzip")
        {
            return gzip;
        }
        &self.identity
    }

    fn varies(&self) -> bool {
        self.br.is_some() || self.gzip.is_some()
    }
}

/// The hashed assets of one console build, by request path (`/main-<hash>.css`).
#[derive(Debug, Default)]
pub struct Assets {
    by_path: HashMap<String, Asset>,
}

impl Assets {
    /// Reads the hashed assets under `dist` (none when it is missing or unreadable: those are
    /// then served from disk, or not at all, as before).
    pub fn load(dist: &Path) -> Self {
        let mut assets = Self::default();
        let mut total = 0;
        let mut dirs = vec![(dist.to_path_buf(), String::new(), 0)];
        while let Some((dir, prefix, depth)) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = format!("{prefix}/{name}");
                if kind.is_dir() && depth < MAX_DEPTH && !name.starts_with('.') {
                    dirs.push((entry.path(), path, depth + 1));
                } else if kind.is_file()
                    && is_hashed_asset(&path)
                    && !name.ends_with(".gz")
                    && !name.ends_with(".br")
                    && let Some(asset) = read_asset(&entry.path(), &path)
                {
                    let size = asset.identity.bytes.len()
                        + asset.br.as_ref().map_or(0, |v| v.bytes.len())
                        + asset.gzip.as_ref().map_or(0, |v| v.bytes.len());
                    if total + size <= MAX_TOTAL {
                        total += size;
                        assets.by_path.insert(path, asset);
                    }
                }
            }
        }
        tracing::debug!(
            files = assets.by_path.len(),
            bytes = total,
            "console assets in memory"
        );
        assets
    }

    /// Paths held (for logs and tests).
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// The answer to `req` from memory, or `None` when the path is not held here (or the
    /// method is not GET or HEAD): the caller serves it as before.
    pub fn answer<B>(&self, req: &Request<B>) -> Option<Response> {
        let head = match *req.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        let asset = self.by_path.get(req.uri().path())?;
        let headers = req.headers();
        let variant = asset.variant(headers);
        let not_modified = match headers.get(header::IF_NONE_MATCH) {
            Some(tags) => etag_matches(tags, &variant.etag),
            None => asset.last_modified.as_ref().is_some_and(|(at, _)| {
                headers
                    .get(header::IF_MODIFIED_SINCE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| httpdate::parse_http_date(v).ok())
                    .is_some_and(|since| unix_seconds(*at) <= unix_seconds(since))
            }),
        };
        let (status, body) = if not_modified {
            (StatusCode::NOT_MODIFIED, Body::empty())
        } else if head {
            (StatusCode::OK, Body::empty())
        } else {
            (StatusCode::OK, Body::from(variant.bytes.clone()))
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let out = response.headers_mut();
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        out.insert(header::ETAG, variant.etag.clone());
        if let Some((_, at)) = &asset.last_modified {
            out.insert(header::LAST_MODIFIED, at.clone());
        }
        if asset.varies() {
            out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if status == StatusCode::OK {
            out.insert(header::CONTENT_TYPE, asset.content_type.clone());
            out.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(variant.bytes.len()),
            );
            if let Some(encoding) = &variant.encoding {
                out.insert(header::CONTENT_ENCODING, encoding.clone());
            }
        }
        Some(response)
    }
}

/// Whether `If-None-Match` names `etag` (or `*`); weak tags match too, as RFC 9110 asks for
/// this header.
fn etag_matches(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = tags.to_str() else {
        return false;
    };
    let ours = etag.as_bytes();
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The file at `file` (request path `path`) with the `.br` and `.gz` copies beside it; a gzip
/// copy is made here for a compressible file without one, as the compression layer would have
/// made on every request.
fn read_asset(file: &Path, path: &str) -> Option<Asset> {
    let meta = std::fs::metadata(file).ok()?;
    if meta.len() > MAX_FILE {
        return None;
    }
    let bytes = std::fs::read(file).ok()?;
    let content_type = mime_guess::from_path(file).first_or_octet_stream();
    let content_type = HeaderValue::from_str(content_type.as_ref()).ok()?;
    let tag = content_tag(&bytes);
    let copy = |suffix: &str, encoding: &'static str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let bytes = std::fs::read(&name).ok()?;
        Some(Variant {
            bytes: Bytes::from(bytes),
            etag: HeaderValue::from_str(&format!("\"{tag}-{encoding}\"")).ok()?,
            encoding: Some(HeaderValue::from_static(encoding)),
        })
    };
    let br = copy(".br", "br");
    let mut gzip = copy(".gz", "gzip");
    if gzip.is_none() && bytes.len() >= COMPRESS_FROM && compressible(&content_type) {
        gzip = crate::read_cache::gzip(&bytes)
            .ok()
            .filter(|gz| gz.len() < bytes.len())
            .and_then(|gz| {
                Some(Variant {
                    bytes: Bytes::from(gz),
                    etag: HeaderValue::from_str(&format!("\"{tag}-gzip\"")).ok()?,
                    encoding: Some(HeaderValue::from_static("gzip")),
                })
            });
    }
    let last_modified = meta.modified().ok().and_then(|at| {
        let value = HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()?;
        Some((at, value))
    });
    tracing::trace!(path, bytes = bytes.len(), "console asset read");
    Some(Asset {
        identity: Variant {
            bytes: Bytes::from(bytes),
            etag: HeaderValue::from_str(&format!("\"{tag}\"")).ok()?,
            encoding: None,
        },
        br,
        gzip,
        content_type,
        last_modified,
    })
}

/// What the compression layer would compress: not images (already compressed), which is all
/// a console build holds besides text and wasm.
fn compressible(content_type: &HeaderValue) -> bool {
    !content_type.as_bytes().starts_with(b"image/")
        || content_type.as_bytes().starts_with(b"image/svg+xml")
}

/// A short tag of the file's bytes (SHA-256, first 16 hex digits): the same build gives the
/// same tag on every replica, unlike one made from file times.
fn content_tag(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_tag_strong_weak_or_any() {
        let ours = HeaderValue::from_static("\"abc\"");
        let matches = |v: &'static str| etag_matches(&HeaderValue::from_static(v), &ours);
        assert!(matches("\"abc\""));
        assert!(matches("W/\"abc\""));
        assert!(matches("\"x\", \"abc\""));
        assert!(matches("*"));
        assert!(!matches("\"abcd\""));
        assert!(!matches("\"abc-gzip\""));
    }
}
