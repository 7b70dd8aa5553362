//! tagstream.io/v1 `Trigger`: a webhook that hears when a stream tag (or any tag of a stream)
//! gets a new image, the event it is sent, and the log of each delivery.

use serde::{Deserialize, Serialize};

use crate::meta::{ObjectMeta, Time};
use crate::names::{StreamName, StreamTagName};
use crate::validation::FieldError;

pub const API_VERSION: &str = crate::resources::TRIGGERS.api_version;
/// The header carrying `sha256=<hex HMAC-SHA256 of the body with the trigger's secret>`.
pub const SIGNATURE_HEADER: &str = "X-Tagstream-Signature";
/// The header carrying the event's id (the same on every attempt and redelivery).
pub const EVENT_ID_HEADER: &str = "X-Tagstream-Event";

crate::meta::wire_object! {
    /// A webhook following a tag or a stream.
    pub struct Trigger {
        /// What the trigger follows and where it sends events.
        pub spec: TriggerSpec = default,
    }
}

impl Trigger {
    /// Whether a new image on `stream:tag` fires this trigger.
    pub fn follows(&self, stream: &str, tag: &str) -> bool {
        match self.spec.from.kind() {
            Some(FromKind::ImageStream) => self.spec.from.name == stream,
            Some(FromKind::ImageStreamTag) => self
                .spec
                .from
                .name
                .split_once(':')
                .is_some_and(|(s, t)| s == stream && t == tag),
            None => false,
        }
    }
}

crate::meta::wire_struct! {
    /// What a trigger follows and where it sends events.
    #[derive(Default)]
    pub struct TriggerSpec {
        /// What it follows: `{kind: ImageStreamTag, name: stream:tag}` or `{kind: ImageStream, name}`.
        pub from: TriggerFrom = default,
        /// Where events are posted.
        pub webhook: Webhook = default,
        /// A paused trigger is sent nothing new; what was queued before is still delivered.
        pub paused: bool = default,
    }
}

crate::words::word_enum! {
    /// What kinds a trigger may follow.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum FromKind {
        ImageStreamTag = "ImageStreamTag",
        ImageStream = "ImageStream",
    }
}

crate::meta::wire_struct! {
    /// What a trigger follows: one stream tag, or every tag of a stream.
    #[derive(Default, Eq)]
    pub struct TriggerFrom {
        /// `ImageStreamTag` or `ImageStream`.
        pub kind: String = default,
        /// `stream:tag` for an `ImageStreamTag`, `stream` for an `ImageStream`.
        pub name: String = default,
    }
}

impl TriggerFrom {
    pub fn kind(&self) -> Option<FromKind> {
        FromKind::parse(&self.kind)
    }

    /// The stream it names.
    pub fn stream(&self) -> &str {
        self.name.split(':').next().unwrap_or_default()
    }
}

crate::meta::wire_struct! {
    /// Where events go. The secret is taken on create and replace and never answered by a read.
    #[derive(Default, Eq)]
    pub struct Webhook {
        /// The URL events are posted to (http or https).
        pub url: String = default,
        /// The key each event's signature (`X-Tagstream-Signature`) is made with; write-only.
        pub secret?: Option<String>,
    }
}

/// Checks a trigger as written by a user. `creating`: the secret is required.
pub fn validate_trigger(trigger: &Trigger, creating: bool) -> Vec<FieldError> {
    let mut errors = crate::validation::check_name::<crate::TemplateName>(&trigger.metadata);
    let from = &trigger.spec.from;
    match from.kind() {
        None => errors.push(FieldError::not_supported(
            "spec.from.kind",
            &from.kind,
            &["ImageStreamTag", "ImageStream"],
        )),
        Some(FromKind::ImageStreamTag) => {
            if let Err(e) = from.name.parse::<StreamTagName>() {
                errors.push(FieldError::invalid("spec.from.name", &from.name, e));
            }
        }
        Some(FromKind::ImageStream) => {
            if let Err(e) = from.name.parse::<StreamName>() {
                errors.push(FieldError::invalid("spec.from.name", &from.name, e));
            }
        }
    }
    let url = &trigger.spec.webhook.url;
    if url.is_empty() {
        errors.push(FieldError::required(
            "spec.webhook.url",
            "the URL events are posted to",
        ));
    } else if let Err(e) = check_webhook_url(url) {
        errors.push(FieldError::invalid("spec.webhook.url", url, e));
    }
    match trigger.spec.webhook.secret.as_deref() {
        None | Some("") if creating => errors.push(FieldError::required(
            "spec.webhook.secret",
            "the secret events are signed with",
        )),
        Some(s) if !s.is_empty() && s.len() < 8 => errors.push(FieldError::invalid(
            "spec.webhook.secret",
            "*****",
            "must be at least 8 characters",
        )),
        _ => {}
    }
    errors
}

/// The server parses a webhook URL whole ([`WebhookUrl::parse`]).
#[cfg(not(target_arch = "wasm32"))]
fn check_webhook_url(url: &str) -> Result<(), String> {
    WebhookUrl::parse(url).map(drop)
}

/// The console (wasm32) checks only what needs no URL parser ([`webhook_url_text`]) and leaves
/// the rest to the server, which refuses a bad URL with its field named: the `url` crate and the
/// Unicode tables of its host parsing cost the console's wasm more than any page.
#[cfg(target_arch = "wasm32")]
fn check_webhook_url(url: &str) -> Result<(), String> {
    match webhook_url_text(url)? {
        "" => Err("must name a host".into()),
        _ => Ok(()),
    }
}

/// The checks of a webhook URL's text before it is parsed: no spaces or control characters, no
/// backslash, and `http://` or `https://`; answers what follows the scheme.
fn webhook_url_text(input: &str) -> Result<&str, String> {
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".into());
    }
    if input.contains('\\') {
        return Err("must not contain a backslash".into());
    }
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    match (lower.starts_with("https://"), lower.starts_with("http://")) {
        (true, _) => Ok(&input[8..]),
        (false, true) => Ok(&input[7..]),
        (false, false) => Err("must start with http:// or https://".into()),
    }
}

/// A webhook URL, parsed once by the WHATWG URL parser (the `url` crate, the one the HTTP
/// client uses): the host checked against the SSRF rules is the host connected to, because both
/// come from this one parse. `http(s)://host[:port]/path`, no user information, no `\` (which
/// parsers disagree on: `http://127.0.0.1\x.example/` is a name to one, an address to another).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    pub https: bool,
    /// Lower-cased; an IPv6 address without brackets.
    pub host: String,
    pub port: u16,
    /// The whole URL as parsed: what a request is sent to.
    pub url: url::Url,
}

#[cfg(not(target_arch = "wasm32"))]
impl WebhookUrl {
    pub fn parse(input: &str) -> Result<Self, String> {
        webhook_url_text(input)?;
        let url = url::Url::parse(input).map_err(|e| match e {
            url::ParseError::EmptyHost => "must name a host".to_owned(),
            url::ParseError::InvalidPort => "the port must be a number from 1 to 65535".to_owned(),
            other => format!("is not a valid URL: {other}"),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".into());
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err("must name a host".into()),
        };
        let port = url
            .port_or_known_default()
            .filter(|p| *p != 0)
            .ok_or("the port must be a number from 1 to 65535")?;
        Ok(Self {
            https: url.scheme() == "https",
            host,
            port,
            url,
        })
    }
}

crate::meta::wire_struct! {
    /// What a webhook is sent when a tag gets a new image (the exact bytes are signed).
    #[derive(Eq)]
    pub struct TagChangeEvent {
        /// The same on every attempt and redelivery: receivers deduplicate on it.
        pub id: String,
        /// `ImageStreamTagChanged`.
        #[serde(rename = "type")]
        pub kind: String,
        /// When the tag moved.
        pub time: Time,
        /// The stream's project.
        pub project: String,
        /// The stream's name.
        pub stream: String,
        /// The tag's name.
        pub tag: String,
        /// The digest the tag pointed at before; none for a tag's first image.
        pub old_digest: Option<String> = default,
        /// The digest the tag points at now.
        pub new_digest: String,
        /// `registry/repo@sha256:...`.
        pub pull_spec: String,
        /// The trigger that sent it.
        pub trigger: String,
    }
}

impl TagChangeEvent {
    pub const TYPE: &'static str = "ImageStreamTagChanged";
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum DeliveryPhase {
    /// Waiting for its first or next attempt.
    Pending,
    /// A 2xx answer came back.
    Delivered,
    /// Retries ran out (or the target is refused): it will not be sent again unless redelivered.
    Failed,
}

impl DeliveryPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Delivered => "Delivered",
            Self::Failed => "Failed",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "Delivered" => Self::Delivered,
            "Failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

crate::meta::wire_struct! {
    /// One event on its way to one trigger's webhook, with what its attempts got.
    pub struct Delivery {
        /// `Delivery`.
        pub kind: String,
        /// `tagstream.io/v1`.
        pub api_version: String,
        /// `name` is the delivery's id; `creationTimestamp` when it was queued.
        pub metadata: ObjectMeta,
        /// The trigger whose webhook it is sent to.
        pub trigger: String,
        /// The event sent.
        pub event: TagChangeEvent,
        /// How its attempts went.
        pub status: DeliveryStatus,
    }
}

impl Delivery {
    pub const KIND: &'static str = "Delivery";
}

crate::meta::wire_struct! {
    /// How a delivery's attempts went.
    pub struct DeliveryStatus {
        /// `Pending`, `Delivered` or `Failed`.
        pub phase: DeliveryPhase,
        /// How many times it was sent.
        pub attempts: u32,
        /// When it was last sent.
        pub last_attempt_time?: Option<Time>,
        /// The HTTP status of the last answer, if one came.
        pub last_status_code?: Option<u16>,
        /// How long the last answer took, in milliseconds.
        pub last_latency_millis?: Option<u64>,
        /// Why the last attempt failed, if it did.
        pub last_error?: Option<String>,
        /// When it is sent again, while pending.
        pub next_attempt_time?: Option<Time>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(kind: &str, name: &str, url: &str, secret: Option<&str>) -> Trigger {
        Trigger {
            metadata: ObjectMeta::named("hook"),
            spec: TriggerSpec {
                from: TriggerFrom {
                    kind: kind.into(),
                    name: name.into(),
                },
                webhook: Webhook {
                    url: url.into(),
                    secret: secret.map(str::to_owned),
                },
                paused: false,
            },
            ..Trigger::default()
        }
    }

    #[test]
    fn a_tag_trigger_follows_its_tag_and_a_stream_trigger_every_tag() {
        let t = trigger("ImageStreamTag", "ruby:prod", "https://x.example/", None);
        assert!(t.follows("ruby", "prod"));
        assert!(!t.follows("ruby", "latest"));
        assert!(!t.follows("rubyx", "prod"));
        let s = trigger("ImageStream", "ruby", "https://x.example/", None);
        assert!(s.follows("ruby", "prod") && s.follows("ruby", "latest"));
        assert!(!s.follows("python", "prod"));
    }

    #[test]
    fn validation_names_each_bad_field() {
        let ok = trigger(
            "ImageStreamTag",
            "ruby:prod",
            "https://h.example/x",
            Some("s3cr3t-value"),
        );
        assert!(validate_trigger(&ok, true).is_empty());
        let bad = trigger("Deployment", "x", "ftp://h", None);
        let fields: Vec<_> = validate_trigger(&bad, true)
            .iter()
            .map(|e| e.field.clone())
            .collect();
        assert_eq!(
            fields,
            ["spec.from.kind", "spec.webhook.url", "spec.webhook.secret"]
        );
        let no_secret_on_update = trigger("ImageStream", "ruby", "http://h:8080/", None);
        assert!(validate_trigger(&no_secret_on_update, false).is_empty());
        let bad_tag = trigger("ImageStreamTag", "ruby", "http://h/", Some("long-enough"));
        assert_eq!(validate_trigger(&bad_tag, true)[0].field, "spec.from.name");
    }

    #[test]
    fn webhook_urls_parse_host_and_port() {
        let u = WebhookUrl::parse("http://127.0.0.1:9000/hook").expect("parses");
        assert_eq!(
            (u.host.as_str(), u.port, u.https),
            ("127.0.0.1", 9000, false)
        );
        // What is checked is what is connected to: the parsed URL names the same host.
        let u = WebhookUrl::parse("http://0x7f.1:9000/hook").expect("parses");
        assert_eq!(
            (u.host.as_str(), u.url.host_str()),
            ("127.0.0.1", Some("127.0.0.1"))
        );
        let u = WebhookUrl::parse("https://[::1]/x").expect("parses");
        assert_eq!((u.host.as_str(), u.port), ("::1", 443));
        assert_eq!(
            WebhookUrl::parse("https://Hooks.Example").map(|u| u.host),
            Ok("hooks.example".into())
        );
        for bad in [
            "hooks.example",
            "http://",
            "http://u:p@h/",
            "http://h:0/",
            "http://h:99999/",
            "http://h /",
            "http://127.0.0.1\\x.attacker.tld/",
            "http://hooks.example\\@127.0.0.1/",
            "ftp://hooks.example/",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
