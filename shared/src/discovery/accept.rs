//! Which discovery shape a client asks for, read from its `Accept` header.

/// Which aggregated discovery version a client accepts (kubectl 1.27 asks for v2beta1 only,
/// 1.30 and later for v2 first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregatedVersion {
    V2,
    V2Beta1,
}

impl AggregatedVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V2Beta1 => "v2beta1",
        }
    }

    /// The response's `Content-Type`, which tells the client the answer is aggregated.
    pub fn content_type(self) -> String {
        format!(
            "application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList",
            self.as_str()
        )
    }

    /// The first aggregated form an `Accept` header lists, if any.
    pub fn from_accept(accept: &str) -> Option<Self> {
        accept.split(',').find_map(|media| {
            let (g, v, as_) = media_params(media);
            if g != Some("apidiscovery.k8s.io") || as_ != Some("APIGroupDiscoveryList") {
                return None;
            }
            match v {
                Some("v2") => Some(Self::V2),
                Some("v2beta1") => Some(Self::V2Beta1),
                _ => None,
            }
        })
    }
}

/// The `g`, `v` and `as` parameters of one media type of an `Accept` header (Kubernetes names
/// the shape it wants with them: `application/json;as=Table;v=v1;g=meta.k8s.io`).
pub fn media_params(media: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let (mut g, mut v, mut as_) = (None, None, None);
    for p in media.split(';').skip(1).map(str::trim) {
        match p.split_once('=') {
            Some(("g", x)) => g = Some(x),
            Some(("v", x)) => v = Some(x),
            Some(("as", x)) => as_ = Some(x),
            _ => {}
        }
    }
    (g, v, as_)
}
